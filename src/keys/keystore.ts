import { createCipheriv, createDecipheriv, randomBytes, scryptSync, timingSafeEqual } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { keccak_256 } from "@noble/hashes/sha3.js";
import type { G1, G2 } from "../crypto/bls.js";
import { AvsctlError, invalidArgument } from "../errors.js";
import { shellQuote } from "../shell-quote.js";

/**
 * Operator keys: an ECDSA keystore (Web3 Secret Storage v3, written by ethers, so any wallet
 * reads it) and a BN254 BLS keystore encrypted the same way (scrypt + aes-128-ctr + keccak
 * MAC) whose plaintext is the 32-byte BLS secret. The BLS key is derived from the ECDSA key as
 * Othentic's clients do, so an imported operator keeps the BLS key it registered with, unless
 * a BLS key of its own is imported (eigensdk, devkit): that one is kept as is.
 */

export interface OperatorKeyInfo {
  name: string;
  address: string;
  blsPublicKey: [string, string, string, string];
  /** sk*g1; null for a keystore written before avsctl stored it (it needs the secret). */
  blsPublicKeyG1: [string, string] | null;
  files: { ecdsa: string; bls: string };
}

interface BlsKeystore {
  version: 3;
  id: string;
  type: "bn254-bls";
  operator: string;
  pubkey: [string, string, string, string];
  pubkeyG1?: [string, string];
  crypto: {
    cipher: "aes-128-ctr";
    cipherparams: { iv: string };
    ciphertext: string;
    kdf: "scrypt";
    kdfparams: { dklen: 32; n: number; r: number; p: number; salt: string };
    mac: string;
  };
}

export function defaultKeysDir(): string {
  return path.join(homedir(), ".avsctl", "keys");
}

export function validateKeyName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
    throw invalidArgument("<name>", `"${name}" is not a key name (letters, digits, . _ -; at most 64)`);
  }
  return name;
}

/** Devnet-only keystores (--insecure) use a cheaper scrypt so tests and scripts stay fast. */
export function scryptParams(insecure: boolean): { n: number; r: number; p: number } {
  return insecure ? { n: 1 << 12, r: 8, p: 1 } : { n: 1 << 17, r: 8, p: 1 };
}

export function checkPasswordStrength(password: string, insecure: boolean): void {
  if (password.length === 0) throw invalidArgument("password", "must not be empty");
  if (insecure) return;
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((r) => r.test(password)).length;
  if (password.length < 12 || classes < 2) {
    throw invalidArgument(
      "password",
      "too weak: use at least 12 characters mixing letters, digits or symbols (--insecure skips this, devnet only)",
    );
  }
}

function mac(derived: Buffer, ciphertext: Buffer): Buffer {
  return Buffer.from(keccak_256(Buffer.concat([derived.subarray(16, 32), ciphertext])));
}

function derive(password: string, salt: Buffer, p: { n: number; r: number; p: number }): Buffer {
  return scryptSync(Buffer.from(password.normalize("NFKC")), salt, 32, {
    N: p.n,
    r: p.r,
    p: p.p,
    maxmem: 256 * p.n * p.r + 1024 * 1024,
  });
}

export function encryptBlsSecret(
  secret: Uint8Array,
  password: string,
  meta: { operator: string; pubkey: [string, string, string, string]; pubkeyG1?: [string, string] },
  params: { n: number; r: number; p: number },
): BlsKeystore {
  const salt = randomBytes(32);
  const iv = randomBytes(16);
  const derived = derive(password, salt, params);
  const cipher = createCipheriv("aes-128-ctr", derived.subarray(0, 16), iv);
  const ciphertext = Buffer.concat([cipher.update(secret), cipher.final()]);
  return {
    version: 3,
    id: crypto.randomUUID(),
    type: "bn254-bls",
    operator: meta.operator,
    pubkey: meta.pubkey,
    ...(meta.pubkeyG1 ? { pubkeyG1: meta.pubkeyG1 } : {}),
    crypto: {
      cipher: "aes-128-ctr",
      cipherparams: { iv: iv.toString("hex") },
      ciphertext: ciphertext.toString("hex"),
      kdf: "scrypt",
      kdfparams: { dklen: 32, n: params.n, r: params.r, p: params.p, salt: salt.toString("hex") },
      mac: mac(derived, ciphertext).toString("hex"),
    },
  };
}

export function decryptBlsSecret(keystore: BlsKeystore, password: string, file: string): Uint8Array {
  const c = keystore.crypto;
  const derived = derive(password, Buffer.from(c.kdfparams.salt, "hex"), c.kdfparams);
  const ciphertext = Buffer.from(c.ciphertext, "hex");
  const expected = Buffer.from(c.mac, "hex");
  const actual = mac(derived, ciphertext);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    throw new AvsctlError("WRONG_PASSWORD", `wrong password for keystore ${file}`, {
      hint: "check AVSCTL_KEYSTORE_PASSWORD or the password you typed",
    });
  }
  const decipher = createDecipheriv(
    "aes-128-ctr",
    derived.subarray(0, 16),
    Buffer.from(c.cipherparams.iv, "hex"),
  );
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

function filesOf(dir: string, name: string) {
  return { ecdsa: path.join(dir, `${name}.ecdsa.json`), bls: path.join(dir, `${name}.bls.json`) };
}

export interface CreateKeysOptions {
  dir: string;
  name: string;
  password: string;
  insecure: boolean;
  /** Import this ECDSA key instead of generating one. */
  privateKey?: string;
  /** Keep this BLS secret instead of deriving one from the ECDSA key. */
  blsSecret?: bigint;
}

/** Writes both keystores of one operator; refuses to overwrite an existing name. */
export async function createOperatorKeys(opts: CreateKeysOptions): Promise<OperatorKeyInfo> {
  validateKeyName(opts.name);
  checkPasswordStrength(opts.password, opts.insecure);
  const files = filesOf(opts.dir, opts.name);
  if (existsSync(files.ecdsa) || existsSync(files.bls)) {
    throw invalidArgument("<name>", `keys named "${opts.name}" already exist in ${opts.dir}`);
  }
  const { Wallet, encryptKeystoreJson } = await import("ethers");
  const { normalizePrivateKey } = await import("../chain/signer.js");
  const wallet = opts.privateKey
    ? new Wallet(normalizePrivateKey(opts.privateKey, "--private-key"))
    : (Wallet.createRandom() as unknown as import("ethers").Wallet);
  const { initBls, blsSecretFromSeed, blsPublicKey, blsPublicKeyG1 } = await import("../crypto/bls.js");
  const { g1ToWords, g2ToWords } = await import("../crypto/bls-encoding.js");
  const { toWordBytes } = await import("../crypto/bytes.js");
  await initBls();
  const sk = opts.blsSecret ?? blsSecretFromSeed(wallet.privateKey);
  const pubkey = g2ToWords(blsPublicKey(sk));
  const pubkeyG1 = g1ToWords(blsPublicKeyG1(sk));
  const params = scryptParams(opts.insecure);
  const ecdsaJson = await encryptKeystoreJson(
    { address: wallet.address, privateKey: wallet.privateKey },
    opts.password,
    {
      scrypt: { N: params.n, r: params.r, p: params.p },
    },
  );
  const blsJson = encryptBlsSecret(
    toWordBytes(sk),
    opts.password,
    { operator: wallet.address, pubkey, pubkeyG1 },
    params,
  );
  mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  writeFileSync(files.ecdsa, ecdsaJson, { mode: 0o600, flag: "wx" });
  try {
    writeFileSync(files.bls, `${JSON.stringify(blsJson, null, 2)}\n`, { mode: 0o600, flag: "wx" });
  } catch (error) {
    // never leave half an operator behind
    rmSync(files.ecdsa, { force: true });
    throw error;
  }
  return { name: opts.name, address: wallet.address, blsPublicKey: pubkey, blsPublicKeyG1: pubkeyG1, files };
}

function readJson(file: string): any {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new AvsctlError("INVALID_KEY", `${file} is not a readable keystore`, { cause: error });
  }
}

/** Reads the public parts (no password needed: address and public key are stored in clear). */
export function readOperatorKeyInfo(dir: string, name: string): OperatorKeyInfo {
  validateKeyName(name);
  const files = filesOf(dir, name);
  if (!existsSync(files.ecdsa) || !existsSync(files.bls)) {
    const list =
      path.resolve(dir) === defaultKeysDir()
        ? "avsctl keys list"
        : `avsctl keys list --dir ${shellQuote(dir)}`;
    throw new AvsctlError("NOT_FOUND", `no keys named "${name}" in ${dir}`, {
      hint: `\`${list}\` shows them`,
    });
  }
  const ecdsa = readJson(files.ecdsa);
  const bls = readJson(files.bls) as BlsKeystore;
  // ethers writes the address without 0x and in lowercase; the BLS file keeps the checksummed one
  const address = bls.operator ?? `0x${String(ecdsa.address).replace(/^0x/, "")}`;
  return { name, address, blsPublicKey: bls.pubkey, blsPublicKeyG1: bls.pubkeyG1 ?? null, files };
}

export function listOperatorKeys(dir: string): OperatorKeyInfo[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".ecdsa.json"))
    .map((f) => f.slice(0, -".ecdsa.json".length))
    .filter((name) => existsSync(path.join(dir, `${name}.bls.json`)))
    .sort()
    .map((name) => readOperatorKeyInfo(dir, name));
}

/** Decrypts both secrets (for `show --reveal` and for nodes that load their keystore). */
export async function revealOperatorKeys(
  dir: string,
  name: string,
  password: string,
): Promise<{ privateKey: string; blsSecretKey: string }> {
  const info = readOperatorKeyInfo(dir, name);
  const { readEcdsaKeystoreFile } = await import("./formats.js");
  const { privateKey } = await readEcdsaKeystoreFile(info.files.ecdsa, password);
  const bls = decryptBlsSecret(readJson(info.files.bls), password, info.files.bls);
  return { privateKey, blsSecretKey: `0x${Buffer.from(bls).toString("hex")}` };
}

/** The operator's BLS key, decrypted and checked against its stored public key (for export). */
export async function readOperatorBlsKey(
  dir: string,
  name: string,
  password: string,
): Promise<{ info: OperatorKeyInfo; secret: bigint; g1: G1; g2: G2 }> {
  const info = readOperatorKeyInfo(dir, name);
  const { readBlsKeystoreFile } = await import("./formats.js");
  const key = await readBlsKeystoreFile(info.files.bls, password);
  return { info, secret: key.secret, g1: key.g1, g2: key.g2 };
}

/**
 * Every operator of a keys directory, unlocked with one password (`devnet up --operator-keys`):
 * the ECDSA key and the BLS secret as stored, the BLS key checked against its public key.
 */
export async function unlockOperatorKeys(
  dir: string,
  password: string,
): Promise<Array<{ name: string; address: string; privateKey: string; blsSecretKey: string }>> {
  const { readEcdsaKeystoreFile } = await import("./formats.js");
  const out = [];
  for (const info of listOperatorKeys(dir)) {
    const { privateKey, address } = await readEcdsaKeystoreFile(info.files.ecdsa, password);
    const bls = await readOperatorBlsKey(dir, info.name, password);
    out.push({
      name: info.name,
      address,
      privateKey,
      blsSecretKey: `0x${bls.secret.toString(16).padStart(64, "0")}`,
    });
  }
  return out;
}
