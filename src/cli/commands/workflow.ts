import type { Command } from "commander";
import { address, boundedOption, httpUrl, intRange, json, oneOf, typedOption, ulidId } from "../parse.js";
import type { Runner } from "../runner.js";

const handlers = () => import("../handlers/workflow.js");
const engine = () => import("../handlers/workflow-engine.js");

const TASK_STATUSES = ["active", "executing", "completed", "failed", "canceled"] as const;

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

/** The flags of every command that talks to a task engine (`workflow create|list|...`, `secret`). */
export function engineOptions(command: Command): Command {
  return command
    .addOption(typedOption("--engine <url>", "the task engine (default: the devnet's)", httpUrl("--engine")))
    .option("--keystore <file>", "the owner's key, from an encrypted keystore (default: AVSCTL_PRIVATE_KEY)")
    .option("--password-stdin", "read the keystore password from stdin");
}

function pageOptions(command: Command): Command {
  return command
    .addOption(
      typedOption("--limit <n>", "items per page (1 to 200; default 20)", intRange("--limit", 1, 200)),
    )
    .addOption(typedOption("--cursor <id>", "the cursor a previous page gave", ulidId("--cursor")));
}

function registerStored(workflow: Command, runner: Runner): void {
  const id = (c: Command) => c.argument("<id>", "the workflow's id", ulidId("<id>"));
  engineOptions(workflow.command("create").description("store a workflow file as a task in the task engine"))
    .argument("<file>")
    .action(runner.action(async (ctx, args, opts) => (await engine()).workflowCreate(ctx, args[0]!, opts)));
  engineOptions(
    pageOptions(workflow.command("list").description("the owner's stored workflows, newest first")),
  )
    .addOption(
      typedOption(
        "--status <status>",
        `only these (${TASK_STATUSES.join("|")})`,
        oneOf("--status", TASK_STATUSES),
      ),
    )
    .action(runner.action(async (ctx, _args, opts) => (await engine()).workflowList(ctx, opts)));
  engineOptions(id(workflow.command("get").description("a stored workflow and its state"))).action(
    runner.action(async (ctx, args, opts) => (await engine()).workflowGet(ctx, args[0]!, opts)),
  );
  engineOptions(id(workflow.command("trigger").description("queue an execution of a stored workflow")))
    .option("--wait", "wait for the execution to be recorded (up to a minute) and print it")
    .addOption(
      typedOption(
        "--trigger-data <json>",
        "what the trigger hands the first nodes (<triggerName>.data)",
        json("--trigger-data"),
      ),
    )
    .action(runner.action(async (ctx, args, opts) => (await engine()).workflowTrigger(ctx, args[0]!, opts)));
  engineOptions(
    id(workflow.command("cancel").description("cancel a stored workflow: no further executions")),
  ).action(runner.action(async (ctx, args, opts) => (await engine()).workflowCancel(ctx, args[0]!, opts)));
  engineOptions(
    id(workflow.command("delete").description("delete a stored workflow and its executions")),
  ).action(runner.action(async (ctx, args, opts) => (await engine()).workflowDelete(ctx, args[0]!, opts)));
  engineOptions(
    pageOptions(
      id(workflow.command("executions").description("a stored workflow's executions, newest first")),
    ),
  ).action(
    runner.action(async (ctx, args, opts) => (await engine()).workflowExecutions(ctx, args[0]!, opts)),
  );
  engineOptions(
    id(workflow.command("execution").description("one execution of a stored workflow, step by step")),
  )
    .argument("<execId>", "the execution's id", ulidId("<execId>"))
    .option("--watch", "wait until the execution is final")
    .action(
      runner.action(async (ctx, args, opts) =>
        (await engine()).workflowExecution(ctx, args[0]!, args[1]!, opts),
      ),
    );
}

export function registerWorkflow(program: Command, runner: Runner): void {
  const workflow = program
    .command("workflow")
    .description(
      "validate, simulate and run task workflows (graphs of nodes); store and trigger them in the task engine",
    );
  workflow
    .command("validate")
    .description("check a workflow file (JSON or YAML) without running it")
    .argument("<file>")
    .action(runner.action(async (ctx, args) => (await handlers()).workflowValidate(ctx, args[0]!)));
  executeOptions(
    workflow
      .command("simulate")
      .description(
        "run a workflow here and print each step: its HTTP requests and chain reads are real, chain writes only estimated, nothing stored",
      ),
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
    .addOption(
      typedOption(
        "--engine <url>",
        "the task engine that records the run (default: the devnet's, when it runs one)",
        httpUrl("--engine"),
      ),
    )
    .action(runner.action(async (ctx, args, opts) => (await handlers()).workflowRun(ctx, args[0]!, opts)));
  registerStored(workflow, runner);
}
