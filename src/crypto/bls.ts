/**
 * BN254 BLS compatible bit for bit with Othentic's BLS.sol / OBLS (the Hubble scheme):
 * signatures and message points in G1, public keys in G2 as uint256[4] [x.c0, x.c1, y.c0, y.c1],
 * messages hashed with `hashToPoint(domain, message)`, verification `e(sig, -g2) * e(H(m), pk) == 1`.
 *
 * Usage: `await initBls()` once (loads mcl-wasm); after that every function here is synchronous.
 * Pure functions that work without it: the DOMAIN_* constants, blsSecretFromSeed,
 * randomBlsSecret, blsSecretToHex/parseBlsSecret, expandMsgTo96/hashToField/mapToPoint/hashToPoint,
 * registrationMessage and the JSON/hex codecs. Everything else throws INTERNAL before init.
 *
 * Points are plain bigint tuples (G1 = [x, y], G2 = [x.c0, x.c1, y.c0, y.c1]) so they pass
 * straight into ethers contract calls; infinity is all zeros, as for the EVM precompiles.
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { AvsctlError, isAvsctlError } from "../errors.js";
import { GROUP_ORDER } from "./bn254-field.js";
import { type BytesLike, bytesToHex, concatBytes, type Hex, toBytes, toWordBytes } from "./bytes.js";
import { hashToPoint, pointFromWitness } from "./hash-to-point.js";
import {
  frToMcl,
  type G1,
  G1_GENERATOR,
  type G2,
  G2_GENERATOR,
  g1FromMcl,
  g1ToMcl,
  g2FromMcl,
  g2Lines,
  g2ToMcl,
  mcl,
  negG2Lines,
} from "./mcl.js";

export {
  blsSignatureToJson,
  g1ToWords,
  g2FromHex,
  g2ToHex,
  g2ToWords,
  HINTS_TAG,
  parseBlsSignatureJson,
  parseG1,
  type SubmitHints,
  stateHint,
  stateHintCheaper,
  stateHintFor,
  type Voter,
  type VoterSet,
  voterSet,
  withApkG2,
  withSubmitHints,
} from "./bls-encoding.js";
export { FIELD_MODULUS, GROUP_ORDER } from "./bn254-field.js";
export type { BytesLike, Hex } from "./bytes.js";
export {
  expandMsgTo96,
  hashToField,
  hashToPoint,
  hashToPointWitness,
  hashToPointWitnessed,
  mapToPoint,
  pointFromWitness,
} from "./hash-to-point.js";
export { type G1, G1_GENERATOR, type G2, G2_GENERATOR, initBls, isBlsReady } from "./mcl.js";

/** A BLS secret key: a scalar in [1, r). */
export type BlsSecretKey = bigint;

/** The point at infinity of G1 (EVM encoding). */
export const G1_ZERO: G1 = [0n, 0n];
/** The point at infinity of G2 (EVM encoding). */
export const G2_ZERO: G2 = [0n, 0n, 0n, 0n];

const keccakText = (text: string): Hex => bytesToHex(keccak_256(new TextEncoder().encode(text)));

/** keccak256("TasksManager"): the domain of performer task signatures and attester votes. */
export const DOMAIN_TASKS: Hex = keccakText("TasksManager");
/** keccak256("OthenticBLSAuth"): the domain of the registration proof of a BLS key. */
export const DOMAIN_AUTH: Hex = keccakText("OthenticBLSAuth");

const R = GROUP_ORDER;
const MASK_254 = (1n << 254n) - 1n;
const MASK_253 = (1n << 253n) - 1n;

function invalidKey(problem: string): AvsctlError {
  return new AvsctlError("INVALID_KEY", `BLS secret key: ${problem}`);
}

function checkSecret(sk: BlsSecretKey): bigint {
  if (typeof sk !== "bigint" || sk <= 0n || sk >= R) throw invalidKey("must be an integer in [1, r)");
  return sk;
}

/** Little-endian integer of bytes. */
function leToBigInt(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

/**
 * The BLS key Othentic's clients derive from an operator's ECDSA private key: mcl
 * `Fr.setHashOf("0x" + lowercase hex)`, i.e. SHA-256 of that ASCII text read little-endian,
 * masked to 254 bits and, if still >= r, to 253 bits. Accepts the hex with or without 0x.
 */
export function blsSecretFromSeed(privateKeyHex: string): BlsSecretKey {
  const hex = typeof privateKeyHex === "string" ? privateKeyHex.replace(/^0x/i, "").toLowerCase() : "";
  if (!/^[0-9a-f]+$/.test(hex)) throw invalidKey("seed must be a hex private key");
  let v = leToBigInt(sha256(new TextEncoder().encode(`0x${hex}`))) & MASK_254;
  if (v >= R) v &= MASK_253;
  if (v === 0n) throw invalidKey("seed hashes to zero");
  return v;
}

/** A uniformly random secret key from the OS CSPRNG. */
export function randomBlsSecret(): BlsSecretKey {
  const buf = new Uint8Array(32);
  // Rejection sampling: each try succeeds with probability ~3/4, so 128 tries never all fail.
  for (let i = 0; i < 128; i++) {
    crypto.getRandomValues(buf);
    const v = leToBigInt(buf) & MASK_254;
    if (v > 0n && v < R) return v;
  }
  throw new AvsctlError("INTERNAL", "random BLS secret: CSPRNG output never fell in range");
}

/** A secret key as 32-byte big-endian hex (for keystores and env files). */
export function blsSecretToHex(sk: BlsSecretKey): Hex {
  return bytesToHex(toWordBytes(checkSecret(sk)));
}

/** Parse a secret key from hex (0x optional); throws INVALID_KEY outside [1, r). */
export function parseBlsSecret(hex: string): BlsSecretKey {
  const body = typeof hex === "string" ? hex.replace(/^0x/i, "") : "";
  if (!/^[0-9a-fA-F]{1,64}$/.test(body)) throw invalidKey("expected up to 32 bytes of hex");
  return checkSecret(BigInt(`0x${body}`));
}

/** The G2 public key sk*g2, in the contracts' [x.c0, x.c1, y.c0, y.c1] layout. Needs initBls(). */
export function blsPublicKey(sk: BlsSecretKey): G2 {
  return g2Mul(G2_GENERATOR, checkSecret(sk));
}

/**
 * sk*g1: the same key in G1. A contract can check `e(pkG1, g2) == e(g1, pkG2)` once at
 * registration and then sum G1 keys (cheap ecAdd) instead of G2 keys. Needs initBls().
 */
export function blsPublicKeyG1(sk: BlsSecretKey): G1 {
  return g1Mul(G1_GENERATOR, checkSecret(sk));
}

// Every attester of a task signs the same vote hash: cache message points for verification.
const POINT_CACHE_LIMIT = 1024;
const pointCache = new Map<string, G1>();

function messagePoint(domain: BytesLike, message: BytesLike): G1 {
  const key = `${bytesToHex(toBytes(domain, "domain"))}:${bytesToHex(toBytes(message, "message"))}`;
  const hit = pointCache.get(key);
  if (hit) return hit;
  const point = hashToPoint(domain, message);
  if (pointCache.size >= POINT_CACHE_LIMIT) pointCache.delete(pointCache.keys().next().value!);
  pointCache.set(key, point);
  return point;
}

/** sk * hashToPoint(domain, message). Needs initBls(). */
export function blsSign(sk: BlsSecretKey, domain: BytesLike, message: BytesLike): G1 {
  return g1Mul(messagePoint(domain, message), checkSecret(sk));
}

// Malformed points are a failed verification, not an exception; a missing init still throws.
function pairingCheck(sig: G1, pks: readonly G2[], point: G1): boolean {
  const m = mcl();
  if (pks.length === 0) return false;
  try {
    const s = g1ToMcl(sig, "signature");
    if (s.isZero()) return false;
    const h = g1ToMcl(point, "message point");
    if (pks.length === 1) {
      return m.finalExp(m.precomputedMillerLoop2(h, g2Lines(pks[0]!, "publicKey"), s, negG2Lines())).isOne();
    }
    let k = g2ToMcl(pks[0]!, "publicKey");
    for (let i = 1; i < pks.length; i++) k = m.add(k, g2ToMcl(pks[i]!, "publicKey"));
    if (k.isZero()) return false;
    return m.finalExp(m.precomputedMillerLoop2mixed(h, k, s, negG2Lines())).isOne();
  } catch (error) {
    if (isAvsctlError(error) && error.code === "INVALID_ARGUMENT") return false;
    throw error;
  }
}

/**
 * Whether `sig` is pk's signature of `message` under `domain` (the BLS.sol pairing check).
 * Invalid points verify as false. Needs initBls().
 */
export function blsVerify(sig: G1, pk: G2, domain: BytesLike, message: BytesLike): boolean {
  return pairingCheck(sig, [pk], messagePoint(domain, message));
}

/**
 * Verify an aggregate signature of one message by several keys with a single pairing check
 * (the keys are summed first). False for an empty key list. Needs initBls().
 */
export function blsVerifyAggregate(
  aggSig: G1,
  pks: readonly G2[],
  domain: BytesLike,
  message: BytesLike,
): boolean {
  return pairingCheck(aggSig, pks, messagePoint(domain, message));
}

/** Sum of signatures (of the same or different messages). Throws on an empty list. Needs initBls(). */
export function aggregateSignatures(sigs: readonly G1[]): G1 {
  if (sigs.length === 0) throw new AvsctlError("INVALID_ARGUMENT", "aggregateSignatures: no signatures");
  const m = mcl();
  let acc = g1ToMcl(sigs[0]!, "signature");
  for (let i = 1; i < sigs.length; i++) acc = m.add(acc, g1ToMcl(sigs[i]!, "signature"));
  return g1FromMcl(acc);
}

/** Sum of G2 public keys. Throws on an empty list. Needs initBls(). */
export function aggregatePublicKeys(pks: readonly G2[]): G2 {
  if (pks.length === 0) throw new AvsctlError("INVALID_ARGUMENT", "aggregatePublicKeys: no keys");
  const m = mcl();
  let acc = g2ToMcl(pks[0]!, "publicKey");
  for (let i = 1; i < pks.length; i++) acc = m.add(acc, g2ToMcl(pks[i]!, "publicKey"));
  return g2FromMcl(acc);
}

const modR = (k: bigint): bigint => ((k % R) + R) % R;

/** a + b in G1. Needs initBls(). */
export function g1Add(a: G1, b: G1): G1 {
  return g1FromMcl(mcl().add(g1ToMcl(a), g1ToMcl(b)));
}

/** -a in G1 ((x, p - y)). Needs initBls(). */
export function g1Neg(a: G1): G1 {
  return g1FromMcl(mcl().neg(g1ToMcl(a)));
}

/** k * a in G1 (k reduced mod r). Needs initBls(). */
export function g1Mul(a: G1, k: bigint): G1 {
  return g1FromMcl(mcl().mul(g1ToMcl(a), frToMcl(modR(k))));
}

/** a + b in G2. Needs initBls(). */
export function g2Add(a: G2, b: G2): G2 {
  return g2FromMcl(mcl().add(g2ToMcl(a), g2ToMcl(b)));
}

/** -a in G2. Needs initBls(). */
export function g2Neg(a: G2): G2 {
  return g2FromMcl(mcl().neg(g2ToMcl(a)));
}

/** k * a in G2 (k reduced mod r). Needs initBls(). */
export function g2Mul(a: G2, k: bigint): G2 {
  return g2FromMcl(mcl().mul(g2ToMcl(a), frToMcl(modR(k))));
}

/** Whether p is a valid G1 point (on the curve, coordinates < p; infinity counts). Needs initBls(). */
export function isValidG1(p: G1): boolean {
  try {
    g1ToMcl(p);
    return true;
  } catch (error) {
    if (isAvsctlError(error) && error.code === "INVALID_ARGUMENT") return false;
    throw error;
  }
}

/** Whether p is a valid G2 point (on the twist and in the order-r subgroup). Needs initBls(). */
export function isValidG2(p: G2): boolean {
  try {
    g2ToMcl(p);
    return true;
  } catch (error) {
    if (isAvsctlError(error) && error.code === "INVALID_ARGUMENT") return false;
    throw error;
  }
}

function hash32(hash: BytesLike, what: string): Uint8Array {
  const bytes = toBytes(hash, what);
  if (bytes.length !== 32) {
    throw new AvsctlError("INVALID_ARGUMENT", `${what}: expected 32 bytes`, { details: { argument: what } });
  }
  return bytes;
}

/** A BLS performer signature of a task hash: domain TasksManager over abi.encode(taskHash). */
export function signTaskBls(sk: BlsSecretKey, taskHash: BytesLike): G1 {
  return blsSign(sk, DOMAIN_TASKS, hash32(taskHash, "taskHash"));
}

/** Check a BLS performer signature of a task hash. */
export function verifyTaskBls(sig: G1, pk: G2, taskHash: BytesLike): boolean {
  return blsVerify(sig, pk, DOMAIN_TASKS, hash32(taskHash, "taskHash"));
}

/** An attester's vote: domain TasksManager over abi.encode(voteHash). */
export function signVote(sk: BlsSecretKey, voteHash: BytesLike): G1 {
  return blsSign(sk, DOMAIN_TASKS, hash32(voteHash, "voteHash"));
}

/**
 * signVote with the message point taken from its witness (hashToPointWitness of the vote hash,
 * as the aggregator sends it with a task): checked with mulmods (pointFromWitness) instead of
 * the square roots of hashing. A witness that does not pass is ignored and the hash is done here.
 */
export function signVoteWithWitness(sk: BlsSecretKey, voteHash: BytesLike, witness: readonly bigint[]): G1 {
  const message = hash32(voteHash, "voteHash");
  const point = pointFromWitness(DOMAIN_TASKS, message, witness) ?? messagePoint(DOMAIN_TASKS, message);
  return g1Mul(point, checkSecret(sk));
}

/** Check one attester's vote. */
export function verifyVote(sig: G1, pk: G2, voteHash: BytesLike): boolean {
  return blsVerify(sig, pk, DOMAIN_TASKS, hash32(voteHash, "voteHash"));
}

const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;

function addressWord(address: string, what: string): Uint8Array {
  if (typeof address !== "string" || !ADDRESS_RE.test(address)) {
    throw new AvsctlError("INVALID_ADDRESS", `${what}: not a 20-byte hex address`, {
      details: { argument: what },
    });
  }
  return toWordBytes(BigInt(address));
}

/**
 * The registration-proof message: abi.encode(keccak256(abi.encode(address operator,
 * address contract, uint256 chainId))), i.e. the 32-byte hash. `contract` is AvsGovernance on L1,
 * or the AttestationCenter for an L2 key update.
 */
export function registrationMessage(operator: string, contract: string, chainId: bigint | number): Hex {
  const id = BigInt(chainId);
  return bytesToHex(
    keccak_256(
      concatBytes(addressWord(operator, "operator"), addressWord(contract, "contract"), toWordBytes(id)),
    ),
  );
}

/** The registration proof of a BLS key: domain OthenticBLSAuth over registrationMessage(...). */
export function signRegistration(
  sk: BlsSecretKey,
  operator: string,
  contract: string,
  chainId: bigint | number,
): G1 {
  return blsSign(sk, DOMAIN_AUTH, registrationMessage(operator, contract, chainId));
}

/** Check a registration proof. */
export function verifyRegistration(
  sig: G1,
  pk: G2,
  operator: string,
  contract: string,
  chainId: bigint | number,
): boolean {
  return blsVerify(sig, pk, DOMAIN_AUTH, registrationMessage(operator, contract, chainId));
}
