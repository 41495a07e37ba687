import { type Command, Option } from "commander";
import { parseChainId } from "../../chain/endpoint-lists.js";
import { invalidArgument } from "../../errors.js";
import type { NodeRole } from "../../node/options.js";
import { intRange, typedOption, uintNumber } from "../parse.js";
import type { Runner } from "../runner.js";

const port = (flag: string) => uintNumber(flag, 16);

/** Flags both roles take; they mirror Othentic's node where they exist (docs/cli.md#node). */
function commonOptions(): Option[] {
  return [
    new Option("--avs-webapi <url>", "validation service base URL"),
    typedOption(
      "--avs-webapi-port <port>",
      "validation service port (host taken from --avs-webapi)",
      port("--avs-webapi-port"),
    ),
    typedOption("--l1-chain <id>", "L1 chain id", (v) => parseChainId(v, "--l1-chain")),
    typedOption("--l2-chain <ids>", "L2 chain id(s), comma-separated", (v) =>
      v.split(",").map((c) => parseChainId(c.trim(), "--l2-chain")),
    ),
    new Option("--metrics", "serve Prometheus metrics"),
    typedOption("--metrics.port <port>", "metrics port (default 6060)", port("--metrics.port")),
    new Option("--keystore <file>", "operator keystore"),
    new Option("--host <host>", "bind address (0.0.0.0 only inside a container)").default("127.0.0.1"),
  ];
}

/** The flags of one role only. */
const ROLE_OPTIONS: Record<NodeRole, () => Option[]> = {
  aggregator: () => [
    new Option("--json-rpc", "serve the aggregator JSON-RPC API"),
    typedOption("--json-rpc.port <port>", "JSON-RPC port (default 8545)", port("--json-rpc.port")),
    new Option("--json-rpc.custom-message-enabled", "accept sendCustomMessage"),
    new Option("--internal-tasks", "run internal tasks (VOTING_POWER_SYNC, ...)"),
    typedOption(
      "--sync-interval <ms>",
      "voting power sync interval (legacy flag)",
      uintNumber("--sync-interval", 53),
    ),
    new Option("--journal <file>", "task journal (sqlite); survives restarts"),
    typedOption(
      "--max-pending-tasks <n>",
      "tasks in progress at most; beyond, sendTask answers OVERLOADED (default 256)",
      intRange("--max-pending-tasks", 1, 1_000_000),
    ),
    new Option("--relayer", "mirror L1 registrations to L2 (key: AVSCTL_RELAYER_KEY)"),
  ],
  attester: () => [
    new Option(
      "--avs-webapi-for <id=url>",
      "avsctl only: the validation service of one task definition (repeatable)",
    ).argParser((value: string, previous: string[] = []) => [...previous, value]),
    new Option("--aggregator <url>", "the aggregator URL (or OTHENTIC_CLIENT_RPC_ADDRESS)"),
  ],
};

const other = (role: NodeRole): NodeRole => (role === "aggregator" ? "attester" : "aggregator");

/**
 * One role's command: its own flags in its help. The other role's flags are parsed but hidden,
 * so that one given here is refused by name instead of being ignored or called unknown.
 */
function nodeRole(node: Command, role: NodeRole, description: string, runner: Runner): void {
  const command = node.command(role).description(description);
  for (const option of [...commonOptions(), ...ROLE_OPTIONS[role]()]) command.addOption(option);
  // unparsed: a foreign flag is refused as such, whatever its value
  const foreign = ROLE_OPTIONS[other(role)]().map((o) => new Option(o.flags).hideHelp());
  for (const option of foreign) command.addOption(option);
  command.action(
    runner.action(async (ctx, _args, opts) => {
      const given = foreign.find((o) => opts[o.attributeName()] !== undefined);
      if (given) {
        throw invalidArgument(
          given.long!,
          `a flag of \`avsctl node ${other(role)}\`; the ${role} does not take it`,
          `run \`avsctl node ${role} --help\` for the ${role}'s flags`,
        );
      }
      return (await import("../handlers/node.js")).nodeCommand(ctx, role, opts);
    }),
  );
}

export function registerNode(program: Command, runner: Runner): void {
  const node = program
    .command("node")
    .description("run one AVS node (aggregator or attester) against any chain");
  nodeRole(node, "aggregator", "collect votes, aggregate BLS signatures, submit tasks", runner);
  nodeRole(node, "attester", "validate tasks with the validation service and vote", runner);
}
