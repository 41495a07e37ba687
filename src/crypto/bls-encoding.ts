/**
 * Wire encodings of BLS points. A signature travels in `sendTask` as the JSON text
 * `{"x":"0x..","y":"0x.."}` (32-byte big-endian hex); a public key as 128 bytes of hex in the
 * contracts' uint256[4] order [x.c0, x.c1, y.c0, y.c1]. Pure code: no initBls() needed.
 */

import { AvsctlError } from "../errors.js";
import { isOnCurveG1, isOnTwistG2 } from "./bn254-field.js";
import { type Hex, parseBigInt, toWordHex } from "./bytes.js";
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
  /** hashToPointWitness(DOMAIN_TASKS, voteHash). */
  votePoint?: readonly bigint[] | null;
  /** hashToPointWitness(DOMAIN_TASKS, taskHash), for a BLS performer. */
  taskPoint?: readonly bigint[] | null;
}

const word = (v: bigint): string => toWordHex(v).slice(2);

/**
 * submitTask calldata (any of its three forms, encoded canonically: attestersIds last) with
 * hints appended: the parts given, a flags byte (1 apkG2, 2 vote point, 4 task point), then
 * HINTS_TAG. ABI decoders ignore them; avsctl's OBLS uses them to check the call more cheaply,
 * and wrong hints only make it cost more.
 */
export function withSubmitHints(calldata: string, hints: SubmitHints): string {
  let flags = 0;
  let tail = "";
  if (hints.apkG2) {
    flags |= 1;
    tail += hints.apkG2.map(word).join("");
  }
  if (hints.votePoint) {
    flags |= 2;
    tail += hints.votePoint.map(word).join("");
  }
  if (hints.taskPoint) {
    flags |= 4;
    tail += hints.taskPoint.map(word).join("");
  }
  if (flags === 0) return calldata;
  return `${calldata}${tail}${flags.toString(16).padStart(2, "0")}${HINTS_TAG.slice(2)}`;
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
