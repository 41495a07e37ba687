import type { Command } from "commander";
import type { Runner } from "../runner.js";

/** Flags that pick the chain, the AttestationCenter and the signer (docs/cli.md#task-def). */
function targetOptions(command: Command): Command {
  return command
    .option("--rpc-url <url>", "L2 JSON-RPC URL (default: the running devnet)")
    .option("--attestation-center <address>", "AttestationCenter address (or chainId@address,...)")
    .option("--chain-id <id>", "pick one entry of a multi-L2 --attestation-center list")
    .option("--private-key <hex>", "signer key (prefer AVSCTL_PRIVATE_KEY)")
    .option("--keystore <file>", "signer keystore (password from prompt, AVSCTL_KEYSTORE_PASSWORD or stdin)")
    .option("--password-stdin", "read the keystore password from stdin")
    .option("--allow-dev-keys", "allow the well-known anvil keys on a chain that is not the devnet")
    .option("--abi <generation>", "auto | gen1 | gen2", "auto")
    .option("--dry-run", "print the method, decoded arguments and calldata; send nothing");
}

const handlers = () => import("../handlers/task-def.js");

export function registerTaskDef(program: Command, runner: Runner): void {
  const taskDef = program
    .command("task-def")
    .description("create and manage task definitions on an AttestationCenter (devnet or any network)");

  targetOptions(
    taskDef
      .command("create")
      .description("create a task definition (createNewTaskDefinition), then apply the setters asked for"),
  )
    .option("--name <name>", "task definition name (required)")
    .option("--block-expiry <n|never>", "last block for tasks of this definition", "never")
    .option("--reward-attesters <amount>", "base reward for attesters (wei, or e.g. 0.1eth)", "0")
    .option("--reward-performer <amount>", "base reward for the performer (wei, or e.g. 0.1eth)", "0")
    .option("--reward-aggregator <amount>", "base reward for the aggregator (wei, or e.g. 0.1eth)", "0")
    .option("--dispute-period <blocks>", "blocks before rewards can be claimed", "0")
    .option("--min-voting-power <wei>", "minimum voting power of each attester", "0")
    .option("--restricted-operators <ids>", "comma-separated operator ids allowed to attest")
    .option("--max-attesters <n>", "maximum number of attesters (generation 2)", "0")
    .action(runner.action(async (ctx, _args, opts) => (await handlers()).taskDefCreate(ctx, opts)));

  targetOptions(taskDef.command("list").description("list the task definitions of an AttestationCenter"))
    .option("--all", "include the internal task definitions (ids >= 10001)")
    .option("--from-block <n>", "read events from this block (public RPCs cap log ranges)")
    .action(runner.action(async (ctx, _args, opts) => (await handlers()).taskDefList(ctx, opts)));
  targetOptions(taskDef.command("show").description("show one task definition").argument("<id>")).action(
    runner.action(async (ctx, args, opts) => (await handlers()).taskDefShow(ctx, args[0]!, opts)),
  );
  targetOptions(
    taskDef
      .command("set-min-voting-power")
      .description("setTaskDefinitionMinVotingPower")
      .argument("<id>")
      .argument("<wei>"),
  ).action(
    runner.action(async (ctx, args, opts) =>
      (await handlers()).taskDefSet(ctx, "min-voting-power", args, opts),
    ),
  );
  targetOptions(
    taskDef
      .command("set-restricted-operators")
      .alias("set-restricted-attesters")
      .description("setTaskDefinitionRestrictedOperators / setTaskDefinitionRestrictedAttesters")
      .argument("<id>")
      .argument("<ids...>"),
  ).action(
    runner.action(async (ctx, args, opts) => (await handlers()).taskDefSet(ctx, "restricted", args, opts)),
  );
  targetOptions(
    taskDef
      .command("set-max-attesters")
      .description("setTaskDefinitionMaximumNumberOfAttesters (generation 2)")
      .argument("<id>")
      .argument("<n>"),
  ).action(
    runner.action(async (ctx, args, opts) => (await handlers()).taskDefSet(ctx, "max-attesters", args, opts)),
  );
  targetOptions(
    taskDef
      .command("apply")
      .description("make the chain match the taskDefinitions of the config (never duplicates)"),
  ).action(runner.action(async (ctx, _args, opts) => (await handlers()).taskDefApply(ctx, opts)));
}
