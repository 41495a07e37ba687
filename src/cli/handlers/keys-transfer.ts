import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { normalizePrivateKey } from "../../chain/signer.js";
import { privateKeyFromEnv } from "../../config/load.js";
import { AvsctlError, invalidArgument } from "../../errors.js";
import {
  BLS_KEYSTORE_FORMATS,
  type BlsKeystoreFormat,
  GETH_STANDARD_SCRYPT,
  inspectBlsKeystore,
  readBlsKeystoreFile,
  readEcdsaKeystoreFile,
  writeBlsKeystore,
} from "../../keys/formats.js";
import {
  checkPasswordStrength,
  createOperatorKeys,
  defaultKeysDir,
  encryptBlsSecret,
  readOperatorBlsKey,
  readOperatorKeyInfo,
  scryptParams,
  validateKeyName,
} from "../../keys/keystore.js";
import type { CommandContext } from "../context.js";
import type { CommandResult } from "../runner.js";
import { keysPublicInfo, newKeysPassword } from "./keys.js";
import { passwordSource } from "./signer-flags.js";

interface ImportFlags {
  dir?: string;
  passwordStdin?: boolean;
  insecure?: boolean;
  privateKey?: string;
  keyStdin?: boolean;
  blsKeystore?: string;
  ecdsaKeystore?: string;
}

interface ExportFlags {
  dir?: string;
  passwordStdin?: boolean;
  insecure?: boolean;
  format?: string;
  out?: string;
}

const dirOf = (ctx: CommandContext, flags: { dir?: string }) =>
  flags.dir ? path.resolve(ctx.cwd, flags.dir) : defaultKeysDir();

async function readStdinText(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** A BLS secret as eigenlayer-cli prints it (decimal) or as hex (0x...). */
async function parseBlsSecretText(text: string): Promise<bigint> {
  const { GROUP_ORDER, parseBlsSecret } = await import("../../crypto/bls.js");
  if (/^\d+$/.test(text)) {
    const v = BigInt(text);
    if (v > 0n && v < GROUP_ORDER) return v;
    throw new AvsctlError("INVALID_KEY", "BLS secret key on stdin: must be an integer in [1, r)", {
      hint: "the second line of stdin is the BLS secret, decimal or 0x-hex",
    });
  }
  return parseBlsSecret(text);
}

/**
 * `keys import`: the ECDSA key from a V3 keystore, --private-key, stdin (--key-stdin) or
 * AVSCTL_PRIVATE_KEY; the BLS key from an eigensdk/devkit/avsctl keystore or stdin, kept as is,
 * else derived from the ECDSA key. Every input is opened and checked before anything is written.
 */
export async function keysImport(
  ctx: CommandContext,
  name: string,
  flags: ImportFlags,
): Promise<CommandResult> {
  validateKeyName(name);
  const dir = dirOf(ctx, flags);
  const sources = [
    flags.ecdsaKeystore !== undefined && "--ecdsa-keystore",
    flags.privateKey !== undefined && "--private-key",
    flags.keyStdin && "--key-stdin",
  ].filter((s): s is string => Boolean(s));
  if (sources.length > 1) {
    throw invalidArgument(
      sources[1]!,
      `the ECDSA key comes from one place: pass only one of ${sources.join(", ")}`,
    );
  }
  if (flags.keyStdin && flags.passwordStdin) {
    throw invalidArgument(
      "--key-stdin",
      "stdin holds the keys or the password, not both",
      "with --key-stdin, set the password in AVSCTL_KEYSTORE_PASSWORD",
    );
  }
  const ecdsaFile =
    flags.ecdsaKeystore !== undefined ? path.resolve(ctx.cwd, flags.ecdsaKeystore) : undefined;
  const blsFile = flags.blsKeystore !== undefined ? path.resolve(ctx.cwd, flags.blsKeystore) : undefined;
  // a malformed file or a taken name is refused before a password is asked for
  if (blsFile) inspectBlsKeystore(blsFile);
  if (existsSync(path.join(dir, `${name}.ecdsa.json`)) || existsSync(path.join(dir, `${name}.bls.json`))) {
    throw invalidArgument("<name>", `keys named "${name}" already exist in ${dir}`);
  }

  let privateKey: string | undefined;
  let blsSecret: bigint | undefined;
  if (flags.keyStdin) {
    const lines = (await readStdinText())
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== "");
    if (lines.length === 0 || lines.length > 2) {
      throw invalidArgument(
        "--key-stdin",
        "stdin must hold the ECDSA private key, then optionally the BLS secret, one a line",
      );
    }
    privateKey = normalizePrivateKey(lines[0]!, "stdin (line 1)");
    if (lines[1] !== undefined) {
      if (blsFile) throw invalidArgument("--bls-keystore", "stdin already gave a BLS secret");
      blsSecret = await parseBlsSecretText(lines[1]);
    }
  } else if (flags.privateKey !== undefined) {
    privateKey = normalizePrivateKey(flags.privateKey, "--private-key");
  } else if (!ecdsaFile) {
    const fromEnv = privateKeyFromEnv(ctx.env);
    if (!fromEnv) {
      throw new AvsctlError("MISSING_ARGUMENT", "keys import needs the operator's ECDSA key", {
        hint: "pass --ecdsa-keystore <file>, --private-key, --key-stdin, or set AVSCTL_PRIVATE_KEY",
        details: { argument: "--private-key" },
      });
    }
    privateKey = normalizePrivateKey(fromEnv.value, fromEnv.source);
  }

  // One password opens the given keystores and locks the new ones.
  const password =
    ecdsaFile || blsFile ? await passwordSource(ctx, ctx.env, flags)() : await newKeysPassword(ctx, flags);
  checkPasswordStrength(password, flags.insecure === true);
  let blsFormat: BlsKeystoreFormat | "stdin" | "derived" = blsSecret !== undefined ? "stdin" : "derived";
  if (ecdsaFile) privateKey = (await readEcdsaKeystoreFile(ecdsaFile, password)).privateKey;
  if (blsFile) {
    const key = await readBlsKeystoreFile(blsFile, password);
    blsSecret = key.secret;
    blsFormat = key.format;
  }
  const info = await createOperatorKeys({
    dir,
    name,
    password,
    insecure: flags.insecure === true,
    privateKey,
    blsSecret,
  });
  return {
    data: { ...keysPublicInfo(info), blsSource: blsFormat },
    human: () =>
      [
        `imported operator keys "${info.name}"`,
        `  address           ${info.address}`,
        `  BLS key           ${blsFormat === "derived" ? "derived from the ECDSA key" : `imported (${blsFormat})`}`,
        `  BLS public key G1 ${info.blsPublicKeyG1?.join(" ")}`,
        `  BLS public key G2 ${info.blsPublicKey.join(" ")}`,
        `  files             ${info.files.ecdsa}`,
        `                    ${info.files.bls}`,
      ].join("\n"),
  };
}

/** `keys export`: the operator's BLS key in a keystore eigensdk-go, devkit or avsctl reads. */
export async function keysExport(
  ctx: CommandContext,
  name: string,
  flags: ExportFlags,
): Promise<CommandResult> {
  const format = flags.format as BlsKeystoreFormat;
  if (!BLS_KEYSTORE_FORMATS.includes(format)) {
    throw invalidArgument("--format", `must be one of ${BLS_KEYSTORE_FORMATS.join(", ")}`);
  }
  validateKeyName(name);
  const dir = dirOf(ctx, flags);
  readOperatorKeyInfo(dir, name);
  const out = path.resolve(ctx.cwd, flags.out ?? `${name}.bls.${format}.json`);
  if (existsSync(out)) throw invalidArgument("--out", `${out} already exists`);
  const password = await passwordSource(ctx, ctx.env, flags)();
  const key = await readOperatorBlsKey(dir, name, password);
  const params = flags.insecure ? scryptParams(true) : GETH_STANDARD_SCRYPT;
  const { g1ToWords, g2ToWords } = await import("../../crypto/bls-encoding.js");
  const { toWordBytes } = await import("../../crypto/bytes.js");
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
  const data = {
    name,
    format,
    file: out,
    blsPublicKeyG1: g1ToWords(key.g1),
    blsPublicKeyG2: g2ToWords(key.g2),
  };
  return {
    data,
    human: () =>
      [
        `exported the BLS key of "${name}" as a ${format} keystore`,
        `  file              ${out}`,
        `  BLS public key G1 ${data.blsPublicKeyG1.join(" ")}`,
        "  (same password as the avsctl keystore)",
      ].join("\n"),
  };
}
