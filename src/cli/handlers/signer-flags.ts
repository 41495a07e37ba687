import path from "node:path";
import type { SignerSpec } from "../../chain/signer.js";
import type { LoadedConfig } from "../../config/load.js";
import { privateKeyFromEnv } from "../../config/load.js";
import { AvsctlError } from "../../errors.js";
import type { CommandContext } from "../context.js";

export interface SignerFlags {
  privateKey?: string;
  keystore?: string;
  passwordStdin?: boolean;
}

let stdinText: Promise<string> | undefined;

/**
 * All of stdin, as text. Read once per process: one command may need the password twice (the
 * engine's sign-in and the run's writes, say), and a second read of a drained stdin is empty.
 */
export function readStdinText(): Promise<string> {
  stdinText ??= (async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  })();
  return stdinText;
}

/**
 * Where a keystore password comes from: AVSCTL_KEYSTORE_PASSWORD, --password-stdin, or a
 * prompt when we may ask; otherwise an error naming the flag.
 */
export function passwordSource(
  ctx: CommandContext,
  env: NodeJS.ProcessEnv,
  flags: SignerFlags,
  /**
   * allowEmpty: a new keystore's password, which may be empty (`keys create --insecure`).
   * noStdinFlag: the command takes no --password-stdin (`devnet up --operator-keys`).
   */
  opts: { allowEmpty?: boolean; noStdinFlag?: boolean } = {},
): () => Promise<string> {
  return async () => {
    if (flags.passwordStdin) {
      const text = (await readStdinText()).replace(/\r?\n$/, "");
      // an empty stdin (</dev/null, an unset variable piped in) would fail the MAC as a wrong password
      if (text === "" && !opts.allowEmpty) {
        throw new AvsctlError("MISSING_ARGUMENT", "--password-stdin: stdin gave an empty password", {
          hint: "pipe the keystore's password into the command; for a keystore whose password is empty, set AVSCTL_KEYSTORE_PASSWORD= instead",
          details: { argument: "--password-stdin" },
        });
      }
      return text;
    }
    const fromEnv = env.AVSCTL_KEYSTORE_PASSWORD;
    if (fromEnv !== undefined) return fromEnv;
    if (!ctx.interactive) {
      throw new AvsctlError("MISSING_ARGUMENT", "the keystore needs a password", {
        hint: opts.noStdinFlag
          ? "set AVSCTL_KEYSTORE_PASSWORD to the keystores' password"
          : "set AVSCTL_KEYSTORE_PASSWORD or pass --password-stdin",
        details: { argument: opts.noStdinFlag ? "AVSCTL_KEYSTORE_PASSWORD" : "--password-stdin" },
      });
    }
    const { password } = await import("@inquirer/prompts");
    return password({ message: "Keystore password:", mask: "*" });
  };
}

/**
 * The signer by precedence: --private-key, --keystore, AVSCTL_PRIVATE_KEY (then the Othentic
 * names), the configured keystore, and last the devnet deployer when the target is the devnet.
 */
export function signerSpec(
  ctx: CommandContext,
  loaded: LoadedConfig,
  flags: SignerFlags,
  devnetDeployerKey?: string,
): SignerSpec {
  if (flags.privateKey) return { privateKey: { value: flags.privateKey, source: "--private-key" } };
  const password = passwordSource(ctx, loaded.env, flags);
  // a relative path starts at --cwd, as every file argument does (docs/cli.md)
  if (flags.keystore) return { keystore: { file: path.resolve(ctx.cwd, flags.keystore), password } };
  const fromEnv = privateKeyFromEnv(loaded.env);
  if (fromEnv) return { privateKey: fromEnv };
  const configured = loaded.config.network.keystore;
  if (configured) {
    // a path from the config file is relative to that file, one from AVSCTL_KEYSTORE (in the
    // environment or the .env) to where we run
    const base = /^\.?env /.test(loaded.sources["network.keystore"] ?? "") ? ctx.cwd : loaded.root;
    return { keystore: { file: path.resolve(base, configured), password } };
  }
  if (devnetDeployerKey) return { privateKey: { value: devnetDeployerKey, source: "devnet deployer" } };
  return {};
}
