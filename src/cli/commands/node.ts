import type { Command } from "commander";
import { parseChainId } from "../../chain/endpoint-lists.js";
import { intRange, typedOption, uintNumber } from "../parse.js";
import type { Runner } from "../runner.js";

const port = (flag: string) => uintNumber(flag, 16);

/** Flags mirror Othentic's node where they exist (docs/cli.md#node). */
function nodeOptions(command: Command): Command {
  return command
    .option("--json-rpc", "serve the aggregator JSON-RPC API")
    .addOption(typedOption("--json-rpc.port <port>", "JSON-RPC port (default 8545)", port("--json-rpc.port")))
    .option("--json-rpc.custom-message-enabled", "accept sendCustomMessage")
    .option("--avs-webapi <url>", "validation service base URL")
    .addOption(
      typedOption(
        "--avs-webapi-port <port>",
        "validation service port (host taken from --avs-webapi)",
        port("--avs-webapi-port"),
      ),
    )
    .option(
      "--avs-webapi-for <id=url>",
      "avsctl only: the validation service of one task definition (repeatable)",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .addOption(typedOption("--l1-chain <id>", "L1 chain id", (v) => parseChainId(v, "--l1-chain")))
    .addOption(
      typedOption("--l2-chain <ids>", "L2 chain id(s), comma-separated", (v) =>
        v.split(",").map((c) => parseChainId(c.trim(), "--l2-chain")),
      ),
    )
    .option("--internal-tasks", "run internal tasks (VOTING_POWER_SYNC, ...)")
    .addOption(
      typedOption(
        "--sync-interval <ms>",
        "voting power sync interval (legacy flag)",
        uintNumber("--sync-interval", 53),
      ),
    )
    .option("--metrics", "serve Prometheus metrics")
    .addOption(typedOption("--metrics.port <port>", "metrics port (default 6060)", port("--metrics.port")))
    .option("--keystore <file>", "operator keystore")
    .option("--host <host>", "bind address (0.0.0.0 only inside a container)", "127.0.0.1")
    .option("--journal <file>", "aggregator task journal (sqlite); survives restarts")
    .addOption(
      typedOption(
        "--max-pending-tasks <n>",
        "aggregator: tasks in progress at most; beyond, sendTask answers OVERLOADED (default 256)",
        intRange("--max-pending-tasks", 1, 1_000_000),
      ),
    )
    .option("--relayer", "aggregator: mirror L1 registrations to L2 (key: AVSCTL_RELAYER_KEY)")
    .option("--aggregator <url>", "attester: the aggregator URL (or OTHENTIC_CLIENT_RPC_ADDRESS)");
}

const handlers = () => import("../handlers/node.js");

export function registerNode(program: Command, runner: Runner): void {
  const node = program
    .command("node")
    .description("run one AVS node (aggregator or attester) against any chain");
  nodeOptions(
    node.command("aggregator").description("collect votes, aggregate BLS signatures, submit tasks"),
  ).action(
    runner.action(async (ctx, _args, opts) => (await handlers()).nodeCommand(ctx, "aggregator", opts)),
  );
  nodeOptions(
    node.command("attester").description("validate tasks with the validation service and vote"),
  ).action(runner.action(async (ctx, _args, opts) => (await handlers()).nodeCommand(ctx, "attester", opts)));
}
