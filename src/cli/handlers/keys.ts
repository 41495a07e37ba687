import path from "node:path";
import { invalidArgument } from "../../errors.js";
import {
  createOperatorKeys,
  defaultKeysDir,
  listOperatorKeys,
  type OperatorKeyInfo,
  readOperatorKeyInfo,
  revealOperatorKeys,
} from "../../keys/keystore.js";
import type { CommandContext } from "../context.js";
import { table } from "../format.js";
import type { CommandResult } from "../runner.js";
import { passwordSource } from "./signer-flags.js";

interface KeysFlags {
  dir?: string;
  passwordStdin?: boolean;
  insecure?: boolean;
  privateKey?: string;
  reveal?: boolean;
}

const dirOf = (ctx: CommandContext, flags: KeysFlags) =>
  flags.dir ? path.resolve(ctx.cwd, flags.dir) : defaultKeysDir();

/**
 * The public parts of an operator. `blsPublicKeyG2` repeats `blsPublicKey` under the name that
 * says which group it is in; both G2 forms are [x.c0, x.c1, y.c0, y.c1] (real part first).
 */
export function keysPublicInfo(k: OperatorKeyInfo) {
  return {
    name: k.name,
    address: k.address,
    blsPublicKey: k.blsPublicKey,
    blsPublicKeyG1: k.blsPublicKeyG1,
    blsPublicKeyG2: k.blsPublicKey,
    files: k.files,
  };
}

const publicInfo = keysPublicInfo;

export async function newKeysPassword(ctx: CommandContext, flags: KeysFlags): Promise<string> {
  if (!flags.passwordStdin && ctx.env.AVSCTL_KEYSTORE_PASSWORD === undefined && ctx.interactive) {
    const { password } = await import("@inquirer/prompts");
    const first = await password({ message: "New keystore password:", mask: "*" });
    const again = await password({ message: "Repeat the password:", mask: "*" });
    if (first !== again) throw invalidArgument("password", "the two passwords differ");
    return first;
  }
  return passwordSource(ctx, ctx.env, flags, { allowEmpty: true })();
}

export async function keysCreate(
  ctx: CommandContext,
  name: string,
  flags: KeysFlags,
): Promise<CommandResult> {
  const password = await newKeysPassword(ctx, flags);
  const info = await createOperatorKeys({
    dir: dirOf(ctx, flags),
    name,
    password,
    insecure: flags.insecure === true,
  });
  return {
    data: publicInfo(info),
    human: () =>
      [
        `created operator keys "${info.name}"`,
        `  address        ${info.address}`,
        `  BLS public key ${info.blsPublicKey.join(" ")}`,
        `  files          ${info.files.ecdsa}`,
        `                 ${info.files.bls}`,
      ].join("\n"),
  };
}

export async function keysList(ctx: CommandContext, flags: KeysFlags): Promise<CommandResult> {
  const keys = listOperatorKeys(dirOf(ctx, flags)).map((k) => ({
    name: k.name,
    address: k.address,
    blsPublicKey: k.blsPublicKey,
  }));
  return {
    data: { keys },
    human: () =>
      keys.length === 0
        ? `no keys in ${dirOf(ctx, flags)}`
        : table(
            ["NAME", "ADDRESS"],
            keys.map((k) => [k.name, k.address]),
          ),
  };
}

/** `keys show` for a human: the public parts, and the secrets after `--reveal`. */
function showLines(info: OperatorKeyInfo, secrets?: { privateKey: string; blsSecretKey: string }): string {
  const row = (label: string, value: string) => `${label.padEnd(secrets ? 16 : 14)} ${value}`;
  const lines = [
    row("name", info.name),
    row("address", info.address),
    row("BLS public key", info.blsPublicKey.join(" ")),
  ];
  if (secrets)
    lines.push(row("ECDSA private key", secrets.privateKey), row("BLS secret key", secrets.blsSecretKey));
  else if (info.blsPublicKeyG1) lines.push(row("BLS G1 key", info.blsPublicKeyG1.join(" ")));
  return lines.join("\n");
}

export async function keysShow(ctx: CommandContext, name: string, flags: KeysFlags): Promise<CommandResult> {
  const dir = dirOf(ctx, flags);
  const info = readOperatorKeyInfo(dir, name);
  if (!flags.reveal) return { data: publicInfo(info), human: () => showLines(info) };
  // Secrets go to a person at a terminal, never into a pipe, a log or --json output.
  if (ctx.json || !process.stdout.isTTY) {
    throw invalidArgument("--reveal", "prints secrets only to a terminal (not with --json or a pipe)");
  }
  const password = await passwordSource(ctx, ctx.env, flags)();
  const secrets = await revealOperatorKeys(dir, name, password);
  return { data: publicInfo(info), human: () => showLines(info, secrets) };
}
