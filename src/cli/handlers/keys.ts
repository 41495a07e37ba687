import path from "node:path";
import { normalizePrivateKey } from "../../chain/signer.js";
import { privateKeyFromEnv } from "../../config/load.js";
import { AvsctlError, invalidArgument } from "../../errors.js";
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

function publicInfo(k: OperatorKeyInfo) {
  return { name: k.name, address: k.address, blsPublicKey: k.blsPublicKey, files: k.files };
}

async function newPassword(ctx: CommandContext, flags: KeysFlags): Promise<string> {
  if (!flags.passwordStdin && ctx.env.AVSCTL_KEYSTORE_PASSWORD === undefined && ctx.interactive) {
    const { password } = await import("@inquirer/prompts");
    const first = await password({ message: "New keystore password:", mask: "*" });
    const again = await password({ message: "Repeat the password:", mask: "*" });
    if (first !== again) throw invalidArgument("password", "the two passwords differ");
    return first;
  }
  return passwordSource(ctx, ctx.env, flags)();
}

export async function keysCreate(
  ctx: CommandContext,
  name: string,
  flags: KeysFlags,
  imported: boolean,
): Promise<CommandResult> {
  let privateKey: string | undefined;
  if (imported) {
    const given = flags.privateKey
      ? { value: flags.privateKey, source: "--private-key" }
      : privateKeyFromEnv(ctx.env);
    if (!given) {
      throw new AvsctlError("MISSING_ARGUMENT", "keys import needs the key to import", {
        hint: "pass --private-key or set AVSCTL_PRIVATE_KEY",
        details: { argument: "--private-key" },
      });
    }
    // a bad key is refused before a password is asked for
    privateKey = normalizePrivateKey(given.value, given.source);
  }
  const password = await newPassword(ctx, flags);
  const info = await createOperatorKeys({
    dir: dirOf(ctx, flags),
    name,
    password,
    insecure: flags.insecure === true,
    privateKey,
  });
  return {
    data: publicInfo(info),
    human: () =>
      [
        `${imported ? "imported" : "created"} operator keys "${info.name}"`,
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

export async function keysShow(ctx: CommandContext, name: string, flags: KeysFlags): Promise<CommandResult> {
  const dir = dirOf(ctx, flags);
  const info = readOperatorKeyInfo(dir, name);
  if (!flags.reveal) {
    return {
      data: publicInfo(info),
      human: () =>
        [
          `name           ${info.name}`,
          `address        ${info.address}`,
          `BLS public key ${info.blsPublicKey.join(" ")}`,
        ].join("\n"),
    };
  }
  // Secrets go to a person at a terminal, never into a pipe, a log or --json output.
  if (ctx.json || !process.stdout.isTTY) {
    throw invalidArgument("--reveal", "prints secrets only to a terminal (not with --json or a pipe)");
  }
  const password = await passwordSource(ctx, ctx.env, flags)();
  const secrets = await revealOperatorKeys(dir, name, password);
  return {
    data: publicInfo(info),
    human: () =>
      [
        `name             ${info.name}`,
        `address          ${info.address}`,
        `BLS public key   ${info.blsPublicKey.join(" ")}`,
        `ECDSA private key ${secrets.privateKey}`,
        `BLS secret key   ${secrets.blsSecretKey}`,
      ].join("\n"),
  };
}
