import path from "node:path";
import { invalidArgument } from "../../errors.js";
import type { BlsKeystoreFormat } from "../../keys/formats.js";
import { defaultKeysDir, validateKeyName } from "../../keys/keystore.js";
import type { ImportKeysOptions } from "../../keys/transfer.js";
import type { CommandContext } from "../context.js";
import type { CommandResult } from "../runner.js";
import { keysPublicInfo, newKeysPassword } from "./keys.js";
import { passwordSource, readStdinText } from "./signer-flags.js";

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
  format: BlsKeystoreFormat;
  out?: string;
}

const dirOf = (ctx: CommandContext, flags: { dir?: string }) =>
  flags.dir ? path.resolve(ctx.cwd, flags.dir) : defaultKeysDir();

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
  let ecdsa: ImportKeysOptions["ecdsa"];
  if (flags.ecdsaKeystore !== undefined) ecdsa = { keystore: path.resolve(ctx.cwd, flags.ecdsaKeystore) };
  else if (flags.privateKey !== undefined) ecdsa = { privateKey: flags.privateKey, source: "--private-key" };
  else if (flags.keyStdin) {
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
    ecdsa = { privateKey: lines[0]!, source: "stdin (line 1)", blsSecret: lines[1] };
  }
  const { importOperatorKeys } = await import("../../keys/transfer.js");
  const { info, blsSource: blsFormat } = await importOperatorKeys({
    dir: dirOf(ctx, flags),
    name,
    ecdsa,
    blsKeystore: flags.blsKeystore !== undefined ? path.resolve(ctx.cwd, flags.blsKeystore) : undefined,
    env: ctx.env,
    password: passwordSource(ctx, ctx.env, flags),
    newPassword: () => newKeysPassword(ctx, flags),
    insecure: flags.insecure === true,
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
  const { format } = flags;
  const { exportBlsKey } = await import("../../keys/transfer.js");
  const data = await exportBlsKey({
    dir: dirOf(ctx, flags),
    name,
    format,
    out: path.resolve(ctx.cwd, flags.out ?? `${name}.bls.${format}.json`),
    password: passwordSource(ctx, ctx.env, flags),
    insecure: flags.insecure === true,
  });
  const out = data.file;
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
