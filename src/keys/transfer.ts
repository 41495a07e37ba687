import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { normalizePrivateKey } from "../chain/signer.js";
import { privateKeyFromEnv } from "../config/load.js";
import { AvsctlError, invalidArgument, isAvsctlError } from "../errors.js";
import {
  type BlsKeystoreFormat,
  GETH_STANDARD_SCRYPT,
  inspectBlsKeystore,
  inspectEcdsaKeystore,
  readBlsKeystoreFile,
  readEcdsaKeystoreFile,
  writeBlsKeystore,
} from "./formats.js";
import {
  checkPasswordStrength,
  createOperatorKeys,
  encryptBlsSecret,
  type OperatorKeyInfo,
  readOperatorBlsKey,
  readOperatorKeyInfo,
  scryptParams,
  validateKeyName,
} from "./keystore.js";

/** A BLS secret as eigenlayer-cli prints it (decimal) or as hex (0x...). */
async function parseBlsSecretText(text: string): Promise<bigint> {
  const { GROUP_ORDER, parseBlsSecret } = await import("../crypto/bls.js");
  const hint = "the second line of stdin is the BLS secret, decimal or 0x-hex";
  if (/^\d+$/.test(text)) {
    const v = BigInt(text);
    if (v > 0n && v < GROUP_ORDER) return v;
    throw new AvsctlError("INVALID_KEY", "BLS secret key on stdin: must be an integer in [1, r)", { hint });
  }
  try {
    return parseBlsSecret(text);
  } catch (error) {
    // the catalog's hint for INVALID_KEY is about an ECDSA key, not this line
    if (!isAvsctlError(error) || error.code !== "INVALID_KEY") throw error;
    throw new AvsctlError("INVALID_KEY", `${error.message} (the second line of stdin)`, {
      hint,
      details: { argument: "--key-stdin" },
      cause: error,
    });
  }
}

export interface ImportKeysOptions {
  dir: string;
  name: string;
  /** Where the ECDSA key comes from; none: AVSCTL_PRIVATE_KEY (and the Othentic names) of `env`. */
  ecdsa?: { keystore: string } | { privateKey: string; source: string; blsSecret?: string };
  blsKeystore?: string;
  env: NodeJS.ProcessEnv;
  /** The password of the given keystores, which also locks the new ones. */
  password: () => Promise<string>;
  /** The password for new keystores when no keystore is given (asked twice on a terminal). */
  newPassword: () => Promise<string>;
  insecure: boolean;
}

export interface ImportedKeys {
  info: OperatorKeyInfo;
  blsSource: BlsKeystoreFormat | "stdin" | "derived";
}

/**
 * `keys import`: the ECDSA key from a V3 keystore, a raw key or the environment; the BLS key
 * from an eigensdk/devkit/avsctl keystore or a given secret, kept as is, else derived from the
 * ECDSA key. Every input is opened and checked before anything is written.
 */
export async function importOperatorKeys(opts: ImportKeysOptions): Promise<ImportedKeys> {
  const { dir, name, ecdsa, blsKeystore: blsFile } = opts;
  validateKeyName(name);
  // a malformed file or a taken name is refused before a password is asked for
  const ecdsaFile = ecdsa && "keystore" in ecdsa ? ecdsa.keystore : undefined;
  if (ecdsaFile) inspectEcdsaKeystore(ecdsaFile, { argument: "--ecdsa-keystore" });
  if (blsFile) inspectBlsKeystore(blsFile, { argument: "--bls-keystore" });
  if (existsSync(path.join(dir, `${name}.ecdsa.json`)) || existsSync(path.join(dir, `${name}.bls.json`))) {
    throw invalidArgument("<name>", `keys named "${name}" already exist in ${dir}`);
  }
  let privateKey: string | undefined;
  let blsSecret: bigint | undefined;
  if (ecdsa && "privateKey" in ecdsa) {
    privateKey = normalizePrivateKey(ecdsa.privateKey, ecdsa.source);
    if (ecdsa.blsSecret !== undefined) {
      if (blsFile) throw invalidArgument("--bls-keystore", "stdin already gave a BLS secret");
      blsSecret = await parseBlsSecretText(ecdsa.blsSecret);
    }
  } else if (!ecdsaFile) {
    const fromEnv = privateKeyFromEnv(opts.env);
    if (!fromEnv) {
      throw new AvsctlError("MISSING_ARGUMENT", "keys import needs the operator's ECDSA key", {
        hint: "pass --ecdsa-keystore <file>, --private-key, --key-stdin, or set AVSCTL_PRIVATE_KEY",
        details: { argument: "--private-key" },
      });
    }
    privateKey = normalizePrivateKey(fromEnv.value, fromEnv.source);
  }

  // One password opens the given keystores and locks the new ones.
  const password = ecdsaFile || blsFile ? await opts.password() : await opts.newPassword();
  checkPasswordStrength(password, opts.insecure);
  let blsSource: ImportedKeys["blsSource"] = blsSecret !== undefined ? "stdin" : "derived";
  if (ecdsaFile) {
    privateKey = (await readEcdsaKeystoreFile(ecdsaFile, password, { argument: "--ecdsa-keystore" }))
      .privateKey;
  }
  if (blsFile) {
    const key = await readBlsKeystoreFile(blsFile, password, { argument: "--bls-keystore" });
    blsSecret = key.secret;
    blsSource = key.format;
  }
  const info = await createOperatorKeys({
    dir,
    name,
    password,
    insecure: opts.insecure,
    privateKey,
    blsSecret,
  });
  return { info, blsSource };
}

export interface ExportKeysOptions {
  dir: string;
  name: string;
  format: BlsKeystoreFormat;
  /** The file to write (refused when it exists). */
  out: string;
  password: () => Promise<string>;
  /** Light scrypt parameters (devnet only). */
  insecure: boolean;
}

/** `keys export`: the operator's BLS key in a keystore eigensdk-go, devkit or avsctl reads. */
export async function exportBlsKey(opts: ExportKeysOptions) {
  const { dir, name, format, out } = opts;
  validateKeyName(name);
  readOperatorKeyInfo(dir, name);
  if (existsSync(out)) throw invalidArgument("--out", `${out} already exists`);
  const password = await opts.password();
  const key = await readOperatorBlsKey(dir, name, password);
  const params = opts.insecure ? scryptParams(true) : GETH_STANDARD_SCRYPT;
  const { g1ToWords, g2ToWords } = await import("../crypto/bls-encoding.js");
  const { toWordBytes } = await import("../crypto/bytes.js");
  const text =
    format === "avsctl"
      ? `${JSON.stringify(
          encryptBlsSecret(
            toWordBytes(key.secret),
            password,
            { operator: key.info.address, pubkey: g2ToWords(key.g2), pubkeyG1: g1ToWords(key.g1) },
            params,
          ),
          null,
          2,
        )}\n`
      : writeBlsKeystore(format, key, password, params);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, text, { mode: 0o600, flag: "wx" });
  return {
    name,
    format,
    file: out,
    blsPublicKeyG1: g1ToWords(key.g1),
    blsPublicKeyG2: g2ToWords(key.g2),
  };
}
