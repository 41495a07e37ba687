import type { Command } from "commander";
import { oneOf, typedOption } from "../parse.js";
import type { Runner } from "../runner.js";

/** As src/keys/formats.ts lists them; not imported from there, so `--help` loads no crypto. */
const BLS_FORMATS = ["eigensdk", "devkit", "avsctl"] as const;

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
  ).action(runner.action(async (ctx, args, opts) => (await handlers()).keysCreate(ctx, args[0]!, opts)));
  common(
    keys
      .command("import")
      .description("import an operator's keys: ECDSA and BLS keystores of other tools, or raw keys")
      .argument("<name>")
      .option("--ecdsa-keystore <file>", "Web3 Secret Storage (V3) ECDSA keystore")
      .option("--bls-keystore <file>", "BN254 BLS keystore of eigensdk/eigenlayer-cli, devkit or avsctl")
      .option("--private-key <hex>", "ECDSA key to import (prefer AVSCTL_PRIVATE_KEY or --key-stdin)")
      .option("--key-stdin", "read the ECDSA key from stdin, and optionally the BLS secret on a second line"),
  ).action(
    runner.action(async (ctx, args, opts) =>
      (await import("../handlers/keys-transfer.js")).keysImport(ctx, args[0]!, opts),
    ),
  );
  common(
    keys
      .command("export")
      .description("write an operator's BLS key as a keystore eigensdk-go, devkit or avsctl reads")
      .argument("<name>")
      .addOption(
        typedOption(
          "--format <format>",
          "eigensdk, devkit or avsctl",
          oneOf("--format", BLS_FORMATS),
        ).makeOptionMandatory(),
      )
      .option("--out <file>", "where to write it (default ./<name>.bls.<format>.json)"),
  ).action(
    runner.action(async (ctx, args, opts) =>
      (await import("../handlers/keys-transfer.js")).keysExport(ctx, args[0]!, opts),
    ),
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
