import {
  createCipheriv,
  createDecipheriv,
  pbkdf2Sync,
  randomBytes,
  scryptSync,
  timingSafeEqual,
} from "node:crypto";
import { readFileSync } from "node:fs";
import { keccak_256 } from "@noble/hashes/sha3.js";
import type { G1, G2 } from "../crypto/bls.js";
import { AvsctlError, isAvsctlError } from "../errors.js";

/**
 * BN254 BLS keystores of other EigenLayer tools, read and written bit for bit as they do:
 * - eigensdk-go / eigenlayer-cli (`bls.KeyPair.SaveToFile`): `{"pubKey": "E([x,y])", "crypto"}`,
 *   the G1 key in decimal and a go-ethereum V3 envelope around the 32-byte big-endian secret.
 * - devkit (hourglass `keystore.SaveToKeystoreWithCurveType`): `{"publicKey", "crypto", "uuid",
 *   "version": 4, "curveType": "bn254"}`, the G2 key as gnark's raw encoding in hex. Its reader
 *   takes the scalar as `big.Int.SetBytes(plaintext)` mod r, whatever the plaintext's length:
 *   `devkit keystore create` stores the ASCII of the decimal key, so that is the key its shipped
 *   keystores declare, and the one we must use.
 * - avsctl's own `type: "bn254-bls"` file.
 * go-ethereum passes the password to the KDF as raw UTF-8; ethers and avsctl NFKC-normalize it.
 */

export type BlsKeystoreFormat = "eigensdk" | "devkit" | "avsctl";
export const BLS_KEYSTORE_FORMATS: readonly BlsKeystoreFormat[] = ["eigensdk", "devkit", "avsctl"];

export interface ScryptParams {
  n: number;
  r: number;
  p: number;
}

/** go-ethereum's StandardScryptN/P, what eigensdk-go and devkit write by default. */
export const GETH_STANDARD_SCRYPT: ScryptParams = { n: 1 << 18, r: 8, p: 1 };

interface V3Crypto {
  cipher: string;
  ciphertext: string;
  cipherparams: { iv: string };
  kdf: string;
  kdfparams: Record<string, unknown>;
  mac: string;
}

function malformed(file: string, problem: string, cause?: unknown): AvsctlError {
  return new AvsctlError("INVALID_KEY", `${file} is not a readable keystore: ${problem}`, {
    hint: "pass the keystore file the tool wrote, whole and unedited",
    cause,
  });
}

const isHex = (v: unknown, bytes?: number): v is string =>
  typeof v === "string" &&
  /^(0x)?([0-9a-fA-F]{2})*$/.test(v) &&
  (bytes === undefined || v.replace(/^0x/, "").length === bytes * 2);

const hexBuf = (v: string) => Buffer.from(v.replace(/^0x/, ""), "hex");

/**
 * The V3 envelope's fields, checked before any password is tried. `keyBytes`: the plaintext's
 * fixed length, where the format has one; the cipher keeps lengths, so a ciphertext of another
 * length is a file cut short or edited, which the MAC would report as a wrong password.
 */
function checkV3(c: unknown, file: string, keyBytes?: number): V3Crypto {
  const crypto = c as V3Crypto;
  if (!crypto || typeof crypto !== "object") throw malformed(file, 'no "crypto" section');
  if (typeof crypto.kdf !== "string" && typeof (crypto as { kdf?: unknown }).kdf === "object") {
    throw malformed(
      file,
      "EIP-2335 keystores (crypto.kdf.function) are not supported; export it again as a V3 keystore",
    );
  }
  if (crypto.cipher !== "aes-128-ctr")
    throw malformed(file, `cipher ${String(crypto.cipher)} (only aes-128-ctr)`);
  if (!isHex(crypto.ciphertext) || crypto.ciphertext.replace(/^0x/, "").length === 0) {
    throw malformed(file, "crypto.ciphertext is not hex");
  }
  const cipherBytes = crypto.ciphertext.replace(/^0x/, "").length / 2;
  if (keyBytes !== undefined && cipherBytes !== keyBytes) {
    throw malformed(
      file,
      `crypto.ciphertext is ${cipherBytes} bytes, not the ${keyBytes} of a key (cut short?)`,
    );
  }
  if (!isHex(crypto.cipherparams?.iv, 16))
    throw malformed(file, "crypto.cipherparams.iv is not 16 bytes of hex");
  if (!isHex(crypto.mac, 32)) throw malformed(file, "crypto.mac is not 32 bytes of hex");
  const k = crypto.kdfparams;
  if (!k || typeof k !== "object" || !isHex(k.salt))
    throw malformed(file, "crypto.kdfparams.salt is missing");
  if (k.dklen !== 32) throw malformed(file, "crypto.kdfparams.dklen must be 32");
  if (crypto.kdf === "scrypt") {
    const { n, r, p } = k as { n: unknown; r: unknown; p: unknown };
    const ok = (x: unknown, max: number) => Number.isInteger(x) && (x as number) >= 1 && (x as number) <= max;
    if (!ok(n, 1 << 22) || ((n as number) & ((n as number) - 1)) !== 0 || !ok(r, 64) || !ok(p, 16)) {
      throw malformed(file, "crypto.kdfparams n, r, p are not usable scrypt parameters");
    }
  } else if (crypto.kdf === "pbkdf2") {
    if (k.prf !== "hmac-sha256" || !Number.isInteger(k.c) || (k.c as number) < 1 || (k.c as number) > 1e8) {
      throw malformed(file, "crypto.kdfparams are not usable pbkdf2 (hmac-sha256) parameters");
    }
  } else {
    throw malformed(file, `kdf ${String(crypto.kdf)} (only scrypt and pbkdf2)`);
  }
  return crypto;
}

function deriveKey(crypto: V3Crypto, password: Buffer): Buffer {
  const k = crypto.kdfparams as { salt: string; c: number; n: number; r: number; p: number };
  const salt = hexBuf(k.salt);
  if (crypto.kdf === "pbkdf2") return pbkdf2Sync(password, salt, k.c, 32, "sha256");
  return scryptSync(password, salt, 32, { N: k.n, r: k.r, p: k.p, maxmem: 256 * k.n * k.r + 1024 * 1024 });
}

const macOf = (derived: Buffer, ciphertext: Buffer) =>
  Buffer.from(keccak_256(Buffer.concat([derived.subarray(16, 32), ciphertext])));

const passwordBytes = (password: string, nfkc: boolean) =>
  Buffer.from(nfkc ? password.normalize("NFKC") : password, "utf8");

/** Opens a V3 envelope; a MAC mismatch (wrong password or altered file) is WRONG_PASSWORD. */
function openV3(crypto: V3Crypto, password: string, file: string, nfkc: boolean): Buffer {
  const ciphertext = hexBuf(crypto.ciphertext);
  const expected = hexBuf(crypto.mac);
  const tries = nfkc ? [true] : [false, true];
  for (const normalize of tries) {
    if (normalize && !nfkc && password.normalize("NFKC") === password) continue;
    const derived = deriveKey(crypto, passwordBytes(password, normalize));
    if (timingSafeEqual(expected, macOf(derived, ciphertext))) {
      const decipher = createDecipheriv(
        "aes-128-ctr",
        derived.subarray(0, 16),
        hexBuf(crypto.cipherparams.iv),
      );
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    }
  }
  throw new AvsctlError(
    "WRONG_PASSWORD",
    `cannot open ${file}: the MAC does not match (a wrong password, or the file was altered)`,
  );
}

/** go-ethereum's `keystore.EncryptDataV3`, field for field. */
function sealV3(plaintext: Uint8Array, password: string, params: ScryptParams, nfkc: boolean): V3Crypto {
  const salt = randomBytes(32);
  const iv = randomBytes(16);
  const crypto: V3Crypto = {
    cipher: "aes-128-ctr",
    ciphertext: "",
    cipherparams: { iv: iv.toString("hex") },
    kdf: "scrypt",
    kdfparams: { dklen: 32, n: params.n, p: params.p, r: params.r, salt: salt.toString("hex") },
    mac: "",
  };
  const derived = deriveKey(crypto, passwordBytes(password, nfkc));
  const cipher = createCipheriv("aes-128-ctr", derived.subarray(0, 16), iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  crypto.ciphertext = ciphertext.toString("hex");
  crypto.mac = macOf(derived, ciphertext).toString("hex");
  return crypto;
}

interface ParsedBls {
  format: BlsKeystoreFormat;
  crypto: V3Crypto;
  declared: { g1?: G1; g2?: G2 };
}

/** gnark-crypto's raw (uncompressed) G2 encoding: x.A1 | x.A0 | y.A1 | y.A0, flags in the top bits. */
export function g2ToGnarkHex(p: G2): string {
  return [p[1], p[0], p[3], p[2]].map((w) => w.toString(16).padStart(64, "0")).join("");
}

function g2FromGnarkHex(hex: string, file: string): G2 {
  if (!isHex(hex, 128)) throw malformed(file, "publicKey is not a 128-byte G2 point in hex");
  const b = hexBuf(hex);
  if ((b[0]! & 0xc0) !== 0) throw malformed(file, "publicKey is compressed or the point at infinity");
  const w = [0, 1, 2, 3].map((i) => BigInt(`0x${b.subarray(i * 32, i * 32 + 32).toString("hex")}`));
  return [w[1]!, w[0]!, w[3]!, w[2]!];
}

function parseJson(text: string, file: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch (error) {
    throw malformed(file, "not JSON (truncated?)", error);
  }
  throw malformed(file, "not a JSON object");
}

/** `argument`: the flag that named the file, named first in the error. */
function readText(file: string, argument?: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    const named = argument ? `${argument}: ` : "";
    throw new AvsctlError("INVALID_ARGUMENT", `${named}cannot read ${file}: ${(error as Error).message}`, {
      details: { argument: argument ?? file },
      cause: error,
    });
  }
}

function parseBlsKeystore(json: Record<string, unknown>, file: string): ParsedBls {
  if (json.type === "bn254-bls") {
    const pk = json.pubkey;
    if (!Array.isArray(pk) || pk.length !== 4 || !pk.every((w) => isHex(w, 32))) {
      throw malformed(file, "pubkey is not 4 words of hex");
    }
    const g1 = json.pubkeyG1;
    const declaredG1 =
      Array.isArray(g1) && g1.length === 2 && g1.every((w) => isHex(w, 32))
        ? ([BigInt(g1[0] as string), BigInt(g1[1] as string)] as G1)
        : undefined;
    return {
      format: "avsctl",
      crypto: checkV3(json.crypto, file, 32),
      declared: { g2: (pk as string[]).map((w) => BigInt(w)) as unknown as G2, g1: declaredG1 },
    };
  }
  if (typeof json.pubKey === "string") {
    const m = /^E\(\[(\d+),(\d+)\]\)$/.exec(json.pubKey.replace(/\s+/g, ""));
    if (!m) throw malformed(file, 'pubKey is not "E([x,y])" in decimal');
    return {
      format: "eigensdk",
      crypto: checkV3(json.crypto, file, 32),
      declared: { g1: [BigInt(m[1]!), BigInt(m[2]!)] },
    };
  }
  if (typeof json.publicKey === "string") {
    if (json.curveType !== "bn254") {
      throw malformed(
        file,
        `curveType ${JSON.stringify(json.curveType)} (only bn254 keys are BLS keys avsctl can use)`,
      );
    }
    return {
      format: "devkit",
      crypto: checkV3(json.crypto, file),
      declared: { g2: g2FromGnarkHex(json.publicKey, file) },
    };
  }
  if (
    typeof json.pubkey === "string" &&
    json.crypto &&
    typeof (json.crypto as { kdf?: unknown }).kdf === "object"
  ) {
    throw malformed(
      file,
      "EIP-2335 keystores are not supported; export it as a V3 (devkit legacy or eigensdk) keystore",
    );
  }
  // ethers and geth write "Crypto"
  if (typeof json.address === "string" && (json.crypto || json.Crypto)) {
    throw malformed(file, "this is an ECDSA keystore; pass it with --ecdsa-keystore");
  }
  throw malformed(file, "no pubKey (eigensdk), publicKey (devkit) or bn254-bls type (avsctl)");
}

export interface ImportedBlsKey {
  format: BlsKeystoreFormat;
  secret: bigint;
  g1: G1;
  g2: G2;
}

/** parseBlsKeystore's refusal naming the flag that gave the file, as the ECDSA side does. */
function parseBlsKeystoreFrom(file: string, argument: string | undefined): ParsedBls {
  const json = parseJson(readText(file, argument), file);
  try {
    return parseBlsKeystore(json, file);
  } catch (error) {
    if (argument === undefined || !isAvsctlError(error) || error.code !== "INVALID_KEY") throw error;
    throw new AvsctlError("INVALID_KEY", `${argument}: ${error.message}`, {
      hint: error.hint,
      details: { ...error.details, argument },
      cause: error,
    });
  }
}

/** Reads only the structure (no password): for refusing a bad file before asking for one. */
export function inspectBlsKeystore(file: string, opts: { argument?: string } = {}): BlsKeystoreFormat {
  return parseBlsKeystoreFrom(file, opts.argument).format;
}

/**
 * Decrypts a BLS keystore of any known format and checks the public key it declares against
 * the secret. Throws INVALID_KEY (malformed, mismatched) or WRONG_PASSWORD (MAC), both exit 2.
 */
export async function readBlsKeystoreFile(
  file: string,
  password: string,
  opts: { argument?: string } = {},
): Promise<ImportedBlsKey> {
  const parsed = parseBlsKeystoreFrom(file, opts.argument);
  const plaintext = openV3(parsed.crypto, password, file, parsed.format === "avsctl");
  const { GROUP_ORDER, initBls, blsPublicKey, blsPublicKeyG1 } = await import("../crypto/bls.js");
  let secret = plaintext.length === 0 ? 0n : BigInt(`0x${plaintext.toString("hex")}`);
  if (parsed.format === "avsctl") {
    if (plaintext.length !== 32 || secret >= GROUP_ORDER)
      throw malformed(file, "the secret is not a 32-byte scalar below r");
  } else {
    // both Go readers reduce: fr.Element.SetBytes (eigensdk), scalar multiplication mod r (devkit)
    if (parsed.format === "eigensdk" && plaintext.length !== 32)
      throw malformed(file, "the secret is not 32 bytes");
    secret %= GROUP_ORDER;
  }
  if (secret === 0n) throw malformed(file, "the secret is zero");
  await initBls();
  const g1 = blsPublicKeyG1(secret);
  const g2 = blsPublicKey(secret);
  const same = (a: readonly bigint[], b: readonly bigint[]) => a.every((v, i) => v === b[i]);
  const { g1: d1, g2: d2 } = parsed.declared;
  if ((d1 && !same(d1, g1)) || (d2 && !same(d2, g2))) {
    throw new AvsctlError(
      "INVALID_KEY",
      `${file}: the public key it declares is not the public key of its secret`,
      {
        hint: "the file was altered, or its public key was copied from another keystore; nothing was imported",
      },
    );
  }
  return { format: parsed.format, secret, g1, g2 };
}

/** A keystore another tool reads back to the same key; the text to write. */
export function writeBlsKeystore(
  format: Exclude<BlsKeystoreFormat, "avsctl">,
  key: { secret: bigint; g1: G1; g2: G2 },
  password: string,
  params: ScryptParams,
): string {
  const secret = Buffer.from(key.secret.toString(16).padStart(64, "0"), "hex");
  const crypto = sealV3(secret, password, params, false);
  if (format === "eigensdk") {
    // eigensdk-go writes compact JSON (json.Marshal)
    return JSON.stringify({ pubKey: `E([${key.g1[0]},${key.g1[1]}])`, crypto });
  }
  return `${JSON.stringify(
    {
      publicKey: g2ToGnarkHex(key.g2),
      crypto,
      uuid: globalThis.crypto.randomUUID(),
      version: 4,
      curveType: "bn254",
    },
    null,
    2,
  )}\n`;
}

/**
 * Reads only the structure of an ECDSA keystore (no password), for refusing a bad file before
 * asking for one; its text.
 */
export function inspectEcdsaKeystore(file: string, opts: { argument?: string } = {}): string {
  const text = readText(file, opts.argument);
  const json = parseJson(text, file);
  if (typeof json.pubKey === "string" || typeof json.publicKey === "string" || json.type === "bn254-bls") {
    throw malformed(file, "this is a BLS keystore; pass it with --bls-keystore");
  }
  // a V3 ECDSA keystore holds the 32-byte private key
  checkV3(json.crypto ?? json.Crypto, file, 32);
  return text;
}

/**
 * The one ECDSA keystore loader: reads a Web3 Secret Storage (V3) keystore, asks for the
 * password only once the file is known to be one, and lets ethers check the MAC and the
 * address. `argument` is the flag that named the file, for the error's details.
 */
export async function readEcdsaKeystoreFile(
  file: string,
  password: string | (() => Promise<string>),
  opts: { argument?: string } = {},
): Promise<{ privateKey: string; address: string }> {
  const details = opts.argument ? { argument: opts.argument } : undefined;
  const text = inspectEcdsaKeystore(file, opts);
  const secret = typeof password === "string" ? password : await password();
  const { Wallet } = await import("ethers");
  try {
    const wallet = await Wallet.fromEncryptedJson(text, secret);
    return { privateKey: wallet.privateKey, address: wallet.address };
  } catch (error) {
    const message = (error as Error).message ?? "";
    if (/incorrect password/i.test(message)) {
      throw new AvsctlError(
        "WRONG_PASSWORD",
        `cannot open ${file}: the MAC does not match (a wrong password, or the file was altered)`,
        { hint: "check AVSCTL_KEYSTORE_PASSWORD or the password you typed", details, cause: error },
      );
    }
    if (/address/i.test(message)) {
      throw new AvsctlError("INVALID_KEY", `${file}: the address it declares is not the address of its key`, {
        hint: "the file was altered; nothing was imported",
        cause: error,
      });
    }
    throw malformed(file, message, error);
  }
}
