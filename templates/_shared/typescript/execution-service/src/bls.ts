import { createHash } from "node:crypto";
import { AbiCoder, getBytes, keccak256, toBeHex, toUtf8Bytes } from "ethers";
import type { Fr, G1 } from "mcl-wasm";
import mcl from "mcl-wasm";

/**
 * BN254 BLS as Othentic's contracts check it (the Hubble scheme of BLS.sol): signatures and
 * message points in G1, public keys in G2, hash-to-point = expand_message_xmd(SHA-256) to 96
 * bytes, two field elements, Fouque-Tibouchi map for each, then their sum. mcl's BN254 map-to
 * mode is that Fouque-Tibouchi map, which is why this uses mcl rather than a generic library.
 */

/** Domain of task and vote signatures: keccak256("TasksManager"). */
export const TASKS_MANAGER_DOMAIN = keccak256(toUtf8Bytes("TasksManager"));

const FIELD_ORDER = 0x30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47n;
const G2_GENERATOR =
  "1 0x1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed " +
  "0x198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2 " +
  "0x12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa " +
  "0x090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b";

let ready: Promise<void> | undefined;

/** mcl is a process-wide WebAssembly instance; initialise it once. */
function init(): Promise<void> {
  ready ??= mcl.init(mcl.BN_SNARK1).then(() => mcl.setMapToMode(mcl.BN254));
  return ready;
}

export interface G1Point {
  x: string;
  y: string;
}

function sha256(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

/** RFC 9380 expand_message_xmd with SHA-256. */
export function expandMessageXmd(dst: Uint8Array, message: Uint8Array, length: number): Uint8Array {
  const ell = Math.ceil(length / 32);
  const dstPrime = new Uint8Array([...dst, dst.length]);
  const b0 = sha256(new Uint8Array(64), message, new Uint8Array([length >> 8, length & 0xff, 0]), dstPrime);
  const out = new Uint8Array(ell * 32);
  let previous = sha256(b0, new Uint8Array([1]), dstPrime);
  out.set(previous, 0);
  for (let i = 2; i <= ell; i++) {
    const mixed = previous.map((byte, j) => byte ^ (b0[j] ?? 0));
    previous = sha256(mixed, new Uint8Array([i]), dstPrime);
    out.set(previous, (i - 1) * 32);
  }
  return out.slice(0, length);
}

function toHex32(value: string): string {
  return toBeHex(BigInt(`0x${value}`), 32);
}

function g1ToPoint(point: G1): G1Point {
  point.normalize();
  const [, x, y] = point.getStr(16).split(" ");
  return { x: toHex32(x ?? "0"), y: toHex32(y ?? "0") };
}

async function hashToPointMcl(domain: string, message: Uint8Array): Promise<G1> {
  await init();
  const expanded = expandMessageXmd(getBytes(domain), message, 96);
  const points = [0, 48].map((offset) => {
    const element =
      BigInt(`0x${Buffer.from(expanded.subarray(offset, offset + 48)).toString("hex")}`) % FIELD_ORDER;
    const fp = new mcl.Fp();
    fp.setStr(element.toString());
    return fp.mapToG1();
  });
  return mcl.add(points[0] as G1, points[1] as G1);
}

/** Othentic's hashToPoint(domain, message) as an affine G1 point. */
export async function hashToPoint(domain: string, message: Uint8Array): Promise<G1Point> {
  return g1ToPoint(await hashToPointMcl(domain, message));
}

/** The message a BLS task signature covers: abi.encode(bytes32 taskHash). */
export function taskMessage(hash: string): Uint8Array {
  return getBytes(AbiCoder.defaultAbiCoder().encode(["bytes32"], [hash]));
}

/**
 * The BLS secret key Othentic's clients derive from an operator's private key: mcl
 * Fr.setHashOf over the lowercase "0x"-prefixed hex text.
 */
async function secretKey(privateKey: string): Promise<Fr> {
  await init();
  const sk = new mcl.Fr();
  sk.setHashOf(`0x${privateKey.replace(/^0x/i, "").toLowerCase()}`);
  return sk;
}

/** The secret scalar as 32-byte hex (for tests and key tooling). */
export async function blsSecretKeyHex(privateKey: string): Promise<string> {
  return toHex32((await secretKey(privateKey)).getStr(16));
}

/** The G2 public key as uint256[4] = [x.c0, x.c1, y.c0, y.c1], the order OBLS expects. */
export async function blsPublicKey(privateKey: string): Promise<[string, string, string, string]> {
  const sk = await secretKey(privateKey);
  const generator = new mcl.G2();
  generator.setStr(G2_GENERATOR, 16);
  const pk = mcl.mul(generator, sk);
  pk.normalize();
  const [, x0, x1, y0, y1] = pk.getStr(16).split(" ");
  return [toHex32(x0 ?? "0"), toHex32(x1 ?? "0"), toHex32(y0 ?? "0"), toHex32(y1 ?? "0")];
}

/** A BLS signature over a task hash in the TasksManager domain. */
export async function blsSignTask(hash: string, privateKey: string): Promise<G1Point> {
  const sk = await secretKey(privateKey);
  const point = await hashToPointMcl(TASKS_MANAGER_DOMAIN, taskMessage(hash));
  return g1ToPoint(mcl.mul(point, sk));
}

/** Checks e(sig, g2) == e(H(m), pk), the equation OBLS verifies with the pairing precompile. */
export async function blsVerifyTask(
  hash: string,
  signature: G1Point,
  publicKey: readonly [string, string, string, string],
): Promise<boolean> {
  await init();
  const sig = new mcl.G1();
  sig.setStr(`1 ${signature.x} ${signature.y}`, 16);
  const pk = new mcl.G2();
  pk.setStr(`1 ${publicKey.join(" ")}`, 16);
  const generator = new mcl.G2();
  generator.setStr(G2_GENERATOR, 16);
  const point = await hashToPointMcl(TASKS_MANAGER_DOMAIN, taskMessage(hash));
  return mcl.pairing(sig, generator).isEqual(mcl.pairing(point, pk));
}

/** The form a performer's BLS signature takes in sendTask: the JSON text {"x":"0x..","y":"0x.."}. */
export function blsSignatureParam(signature: G1Point): string {
  return JSON.stringify({ x: signature.x, y: signature.y });
}
