import type { Command } from "commander";
import { address, boundedOption, json, typedOption } from "../parse.js";
import type { Runner } from "../runner.js";

const handlers = () => import("../handlers/workflow.js");

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function executeOptions(command: Command): Command {
  return command
    .argument("<file>")
    .option(
      "--input <key=value>",
      "set an input variable (JSON or text; a.b=1 sets a nested key); repeatable",
      collect,
    )
    .option("--inputs <file>", "a JSON file of input variables")
    .option(
      "--secret <name=value>",
      "a secret, read as apContext.configVars.<name> (also AVSCTL_SECRET_<NAME>); repeatable",
      collect,
    )
    .addOption(
      typedOption(
        "--trigger-data <json>",
        "what the trigger hands the first nodes (<triggerName>.data)",
        json("--trigger-data"),
      ),
    )
    .option(
      "--rpc-url <url>",
      "RPC for contract nodes (default: the configured network, else the devnet's first L2)",
    )
    .addOption(
      boundedOption("--concurrency <n>", "nodes and parallel loop iterations in flight at once", 64, 4),
    )
    .addOption(
      boundedOption(
        "--code-timeout <ms>",
        "hard time limit of custom code and filter predicates",
        60_000,
        2000,
      ),
    );
}

export function registerWorkflow(program: Command, runner: Runner): void {
  const workflow = program
    .command("workflow")
    .description("validate, simulate and run task workflows (graphs of nodes)");
  workflow
    .command("validate")
    .description("check a workflow file (JSON or YAML) without running it")
    .argument("<file>")
    .action(runner.action(async (ctx, args) => (await handlers()).workflowValidate(ctx, args[0]!)));
  executeOptions(
    workflow
      .command("simulate")
      .description("run a workflow offline and print each step, saving nothing (writes are only estimated)"),
  )
    .addOption(
      typedOption("--from <address>", "the sender simulated writes are estimated from", address("--from")),
    )
    .option("--private-key <hex>", "simulate writes as this key's account (nothing is signed)")
    .action(
      runner.action(async (ctx, args, opts) => (await handlers()).workflowSimulate(ctx, args[0]!, opts)),
    );
  executeOptions(workflow.command("run").description("run a workflow against the devnet, sending its writes"))
    .option("--private-key <hex>", "signer of writes (default: AVSCTL_PRIVATE_KEY, else the devnet deployer)")
    .option("--keystore <file>", "signer of writes, from an encrypted keystore")
    .option("--password-stdin", "read the keystore password from stdin")
    .option("--allow-dev-keys", "accept a well-known anvil key on a chain that is not the devnet's")
    .action(runner.action(async (ctx, args, opts) => (await handlers()).workflowRun(ctx, args[0]!, opts)));
}
