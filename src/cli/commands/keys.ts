import type { Command } from "commander";
import type { Runner } from "../runner.js";

const handlers = () => import("../handlers/keys.js");

export function registerKeys(program: Command, runner: Runner): void {
  const keys = program.command("keys").description("operator keys: ECDSA and BN254 BLS keystores");
  const common = (c: Command) =>
    c
      .option("--dir <dir>", "keystore directory (default ~/.avsctl/keys)")
      .option("--password-stdin", "read the password from stdin")
      .option("--insecure", "skip the password strength check (devnet only)");
  common(
    keys.command("create").description("create an operator's ECDSA and BLS keystores").argument("<name>"),
  ).action(
    runner.action(async (ctx, args, opts) => (await handlers()).keysCreate(ctx, args[0]!, opts, false)),
  );
  common(
    keys
      .command("import")
      .description("import an ECDSA private key and derive its BLS key")
      .argument("<name>")
      .option("--private-key <hex>", "key to import (prefer AVSCTL_PRIVATE_KEY)"),
  ).action(
    runner.action(async (ctx, args, opts) => (await handlers()).keysCreate(ctx, args[0]!, opts, true)),
  );
  common(keys.command("list").description("list keystores")).action(
    runner.action(async (ctx, _args, opts) => (await handlers()).keysList(ctx, opts)),
  );
  common(
    keys
      .command("show")
      .description("addresses and public keys of one operator")
      .argument("<name>")
      .option("--reveal", "print the secrets too (TTY only)"),
  ).action(runner.action(async (ctx, args, opts) => (await handlers()).keysShow(ctx, args[0]!, opts)));
}
