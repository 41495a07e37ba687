import type { Command } from "commander";
import type { Runner } from "../runner.js";
import { notBuilt } from "./not-built.js";

export function registerKeys(program: Command, runner: Runner): void {
  const keys = program.command("keys").description("operator keys: ECDSA and BN254 BLS keystores");
  const common = (c: Command) =>
    c
      .option("--dir <dir>", "keystore directory (default ~/.avsctl/keys)")
      .option("--password-stdin", "read the password from stdin")
      .option("--insecure", "skip the password strength check (devnet only)");
  common(
    keys.command("create").description("create an operator's ECDSA and BLS keystores").argument("<name>"),
  ).action(runner.action(notBuilt("keys create", 4)));
  common(
    keys
      .command("import")
      .description("import an ECDSA private key and derive its BLS key")
      .argument("<name>")
      .option("--private-key <hex>", "key to import (prefer AVSCTL_PRIVATE_KEY)"),
  ).action(runner.action(notBuilt("keys import", 4)));
  common(keys.command("list").description("list keystores")).action(runner.action(notBuilt("keys list", 4)));
  common(
    keys
      .command("show")
      .description("addresses and public keys of one operator")
      .argument("<name>")
      .option("--reveal", "print the secrets too (TTY only)"),
  ).action(runner.action(notBuilt("keys show", 4)));
}
