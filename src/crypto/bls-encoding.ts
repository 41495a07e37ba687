/**
 * Wire encodings of BLS points. A signature travels in `sendTask` as the JSON text
 * `{"x":"0x..","y":"0x.."}` (32-byte big-endian hex); a public key as 128 bytes of hex in the
 * contracts' uint256[4] order [x.c0, x.c1, y.c0, y.c1]. Pure code: no initBls() needed.
 */

import { AvsctlError } from "../errors.js";
import { FIELD_MODULUS, fpInv, isOnCurveG1, isOnTwistG2 } from "./bn254-field.js";
import { type Hex, parseBigInt, toWordHex, wordsHex } from "./bytes.js";
import type { G1, G2 } from "./mcl.js";

function invalid(what: string, problem: string): AvsctlError {
  return new AvsctlError("INVALID_ARGUMENT", `${what}: ${problem}`, { details: { argument: what } });
}

/** A G1 point as two 32-byte big-endian hex words [x, y]. */
export function g1ToWords(p: G1): [Hex, Hex] {
  return [toWordHex(p[0]), toWordHex(p[1])];
}

/** A G2 point as four 32-byte hex words [x.c0, x.c1, y.c0, y.c1]. */
export function g2ToWords(p: G2): [Hex, Hex, Hex, Hex] {
  return [toWordHex(p[0]), toWordHex(p[1]), toWordHex(p[2]), toWordHex(p[3])];
}

/** The `sendTask` JSON text of a signature: `{"x":"0x<64 hex>","y":"0x<64 hex>"}`. */
export function blsSignatureToJson(sig: G1): string {
  const [x, y] = g1ToWords(sig);
  return JSON.stringify({ x, y });
}

/**
 * Parse the `{"x":"0x..","y":"0x.."}` signature text (hex or decimal strings accepted); checks the
 * point is on the curve and not infinity. Throws INVALID_ARGUMENT.
 */
export function parseBlsSignatureJson(text: string, what = "blsSignature"): G1 {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid(what, "not JSON");
  }
  if (typeof parsed !== "object" || parsed === null) throw invalid(what, 'expected {"x":"0x..","y":"0x.."}');
  const { x, y } = parsed as { x?: unknown; y?: unknown };
  if (typeof x !== "string" || typeof y !== "string") throw invalid(what, 'expected {"x":"0x..","y":"0x.."}');
  return parseG1([x, y], what);
}

/** A G1 point from two integer strings, checked on the curve and not infinity. */
export function parseG1(words: readonly [string, string], what = "G1 point"): G1 {
  const p: G1 = [parseBigInt(words[0], `${what}.x`), parseBigInt(words[1], `${what}.y`)];
  if (!isOnCurveG1(p[0], p[1]) || (p[0] === 0n && p[1] === 0n))
    throw invalid(what, "not a point on BN254 G1");
  return p;
}

/** bytes4(keccak256("avsctl.hints")): the last 4 bytes of the trailer `withSubmitHints` appends. */
export const HINTS_TAG = "0x97fd8844";

/** What avsctl's OBLS can use to check a submitTask more cheaply (docs/protocol.md, "Contracts"). */
export interface SubmitHints {
  /** The signers' G2 key sum. */
  apkG2?: G2 | null;
  /** stateHint(...): the voter state and the non-signers' keys behind OBLS's commitments. */
  state?: readonly bigint[] | null;
  /** hashToPointWitness(DOMAIN_TASKS, voteHash). */
  votePoint?: readonly bigint[] | null;
  /** hashToPointWitness(DOMAIN_TASKS, taskHash), for a BLS performer. */
  taskPoint?: readonly bigint[] | null;
}

/**
 * submitTask calldata (any of its three forms, encoded canonically: attestersIds last) with
 * hints appended: the parts given, in this order: apkG2, state, vote point, task point; a flags
 * byte (1 apkG2, 8 state, 2 vote point, 4 task point), then HINTS_TAG. ABI decoders ignore
 * them; avsctl's OBLS uses them to check the call more cheaply, and wrong hints only make it
 * cost more.
 */
export function withSubmitHints(calldata: string, hints: SubmitHints): string {
  let flags = 0;
  let tail = "";
  if (hints.apkG2) {
    flags |= 1;
    tail += wordsHex(hints.apkG2);
  }
  if (hints.state) {
    flags |= 8;
    tail += wordsHex(hints.state);
  }
  if (hints.votePoint) {
    flags |= 2;
    tail += wordsHex(onChainWitness(hints.votePoint));
  }
  if (hints.taskPoint) {
    flags |= 4;
    tail += wordsHex(onChainWitness(hints.taskPoint));
  }
  if (flags === 0) return calldata;
  return `${calldata}${tail}${flags.toString(16).padStart(2, "0")}${HINTS_TAG.slice(2)}`;
}

/**
 * A hashToPointWitness as the trailer carries it: each map's `y` word left out, its `k` moved onto
 * the root of `y·t` that follows (OBLS takes `y = root² / t`, which has `t`'s quadratic character by
 * construction): 64 bytes less calldata per point. Words that are not such a witness go as they
 * are (OBLS then hashes the usual way).
 */
function onChainWitness(w: readonly bigint[]): readonly bigint[] {
  const out = [w[0] ?? 0n];
  let o = 1;
  for (let map = 0; map < 2; map++) {
    const head = w[o];
    const root = w[o + 1];
    if (head === undefined || root === undefined || root >> 254n !== 0n) return w;
    const k = head >> 254n;
    const rejected = w.slice(o + 2, o + 2 + Number(k));
    if (k > 2n || rejected.length !== Number(k)) return w;
    out.push(root | (k << 254n), ...rejected);
    o += 2 + Number(k);
  }
  return o === w.length ? out : w;
}

/** A voter as OBLS counts it: active, with voting power. */
export interface Voter {
  id: bigint;
  votingPower: bigint;
  key: G2;
}

const P = FIELD_MODULUS;
type Fp2 = readonly [bigint, bigint];
const f2sub = (a: Fp2, b: Fp2): Fp2 => [(a[0] - b[0] + P) % P, (a[1] - b[1] + P) % P];
const f2mul = (a: Fp2, b: Fp2): Fp2 => [
  (((a[0] * b[0] - a[1] * b[1]) % P) + P) % P,
  (a[0] * b[1] + a[1] * b[0]) % P,
];
function f2inv(a: Fp2): Fp2 {
  const n = fpInv((a[0] * a[0] + a[1] * a[1]) % P);
  return [(a[0] * n) % P, ((P - a[1]) * n) % P];
}
const isZero = (p: G2): boolean => p.every((c) => c === 0n);

/** a + b in affine coordinates, and the slope used (null for a doubling or infinity). */
function addAffine(a: G2, b: G2): { sum: G2; slope: Fp2 | null } {
  if (isZero(a)) return { sum: b, slope: null };
  if (isZero(b)) return { sum: a, slope: null };
  const ax: Fp2 = [a[0], a[1]];
  const ay: Fp2 = [a[2], a[3]];
  const bx: Fp2 = [b[0], b[1]];
  const by: Fp2 = [b[2], b[3]];
  let slope: Fp2;
  let through = true;
  if (ax[0] === bx[0] && ax[1] === bx[1]) {
    if (ay[0] !== by[0] || ay[1] !== by[1]) return { sum: [0n, 0n, 0n, 0n], slope: null };
    const xx = f2mul(ax, ax);
    slope = f2mul([(3n * xx[0]) % P, (3n * xx[1]) % P], f2inv([(2n * ay[0]) % P, (2n * ay[1]) % P]));
    through = false;
  } else {
    slope = f2mul(f2sub(by, ay), f2inv(f2sub(bx, ax)));
  }
  const x = f2sub(f2sub(f2mul(slope, slope), ax), bx);
  const y = f2sub(f2mul(slope, f2sub(ax, x)), ay);
  return { sum: [x[0], x[1], y[0], y[1]], slope: through ? slope : null };
}

/**
 * The state section of the hints (docs/protocol.md, "Contracts"): a header (the number of
 * non-signers, bit 32 a performer entry); the voters' key sum, their total voting power and
 * bitmap, which OBLS takes when they hash to its state commitment; a BLS performer's key and
 * voting power; then for each voter that did not sign (ascending id) its key, voting power and
 * the slope of subtracting its key from the running sum. null when OBLS could not
 * take it: an id from 256 on (one bitmap word), or a subtraction without a slope (a doubling
 * or infinity, which the contract leaves to the stored way).
 */
export function stateHint(
  voters: readonly Voter[],
  signerIds: readonly bigint[],
  performer: Voter | null = null,
): bigint[] | null {
  const set = voterSet(voters);
  return set && stateHintFor(set, signerIds, performer);
}

/** The voters' part of the state section: it changes only with the voters, not per task. */
export interface VoterSet {
  /** ascending id */
  sorted: readonly Voter[];
  sum: G2;
  total: bigint;
  bitmap: bigint;
}

/** The voters' part of stateHint; null when an id is outside 1-255 (one bitmap word). */
export function voterSet(voters: readonly Voter[]): VoterSet | null {
  const sorted = [...voters].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  let bitmap = 0n;
  let total = 0n;
  let sum: G2 = [0n, 0n, 0n, 0n];
  for (const v of sorted) {
    if (v.id <= 0n || v.id > 255n) return null;
    bitmap |= 1n << v.id;
    total += v.votingPower;
    sum = addAffine(sum, v.key).sum;
  }
  return { sorted, sum, total, bitmap };
}

/** stateHint from the voters' part computed before (voterSet). */
export function stateHintFor(
  { sorted, sum, total, bitmap }: VoterSet,
  signerIds: readonly bigint[],
  performer: Voter | null = null,
): bigint[] | null {
  const signers = new Set(signerIds);
  const entries: bigint[] = [];
  let acc = sum;
  for (const v of sorted) {
    if (signers.has(v.id)) continue;
    let slope: Fp2 = [0n, 0n];
    if (!isZero(v.key)) {
      const negated: G2 = [v.key[0], v.key[1], (P - v.key[2]) % P, (P - v.key[3]) % P];
      const step = addAffine(acc, negated);
      if (!step.slope) return null;
      acc = step.sum;
      slope = step.slope;
    }
    entries.push(...v.key, v.votingPower, slope[0], slope[1]);
  }
  const header = BigInt(entries.length / 7) | (performer ? 1n << 32n : 0n);
  const performerWords = performer ? [...performer.key, performer.votingPower] : [];
  return [header, ...sum, total, bitmap, ...performerWords, ...entries];
}

/**
 * Whether OBLS checks a vote more cheaply from the state section than from storage (the G2 way):
 * each non-signer costs about 7.5k gas there (its entry's calldata, its commitment's read and
 * the subtraction), each signer about 13k the G2 way (its record and key read, an addition).
 * So with most voters signing; a rejection by a third is cheaper from storage.
 */
export function stateHintCheaper(signers: number, nonSigners: number): boolean {
  return signers > 0 && 75 * nonSigners + 27 < 130 * signers;
}

/** The call with only the signers' G2 key sum as hints. */
export function withApkG2(calldata: string, apk: G2): string {
  return withSubmitHints(calldata, { apkG2: apk });
}

/** 0x + 256 hex digits: the four 32-byte words [x.c0, x.c1, y.c0, y.c1] of a G2 point. */
export function g2ToHex(p: G2): Hex {
  return `0x${g2ToWords(p)
    .map((w) => w.slice(2))
    .join("")}`;
}

/**
 * Parse `g2ToHex` output (or four words). Checks the point is on the twist and not infinity;
 * the subgroup check happens when the key is first used (it needs initBls()).
 */
export function g2FromHex(value: string | readonly string[], what = "blsPublicKey"): G2 {
  let words: string[];
  if (typeof value === "string") {
    if (!/^0x[0-9a-fA-F]{256}$/.test(value)) throw invalid(what, "expected 0x followed by 256 hex digits");
    words = [0, 1, 2, 3].map((i) => `0x${value.slice(2 + i * 64, 2 + (i + 1) * 64)}`);
  } else {
    if (value.length !== 4) throw invalid(what, "expected four words");
    words = [...value];
  }
  const p = words.map((w, i) => parseBigInt(w, `${what}[${i}]`)) as unknown as G2;
  if (!isOnTwistG2(p) || p.every((c) => c === 0n)) throw invalid(what, "not a point on the BN254 G2 twist");
  return p;
}
