import type { Command } from "commander";
import { type IdList, parseOperatorIds, UINT256_MAX } from "../../chain/units.js";
import type { SetterChange } from "../../task-def/use-cases.js";
import {
  amount,
  blockExpiry,
  oneOf,
  operatorIds,
  taskDefinitionId,
  typedOption,
  uint,
  uintNumber,
} from "../parse.js";
import type { Runner } from "../runner.js";

/** Flags that pick the chain, the AttestationCenter and the signer (docs/cli.md#task-def). */
function targetOptions(command: Command): Command {
  return command
    .option("--rpc-url <url>", "L2 JSON-RPC URL (default: the running devnet)")
    .option("--attestation-center <address>", "AttestationCenter address (or chainId@address,...)")
    .addOption(
      typedOption(
        "--chain-id <id>",
        "pick one entry of a multi-L2 --attestation-center list",
        uintNumber("--chain-id", 64),
      ),
    )
    .option("--private-key <hex>", "signer key (prefer AVSCTL_PRIVATE_KEY)")
    .option("--keystore <file>", "signer keystore (password from prompt, AVSCTL_KEYSTORE_PASSWORD or stdin)")
    .option("--password-stdin", "read the keystore password from stdin")
    .option("--allow-dev-keys", "allow the well-known anvil keys on a chain that is not the devnet")
    .addOption(
      typedOption("--abi <generation>", "auto | gen1 | gen2", oneOf("--abi", ["auto", "gen1", "gen2"]), {
        value: "auto",
        shown: "auto",
      }),
    )
    .option("--dry-run", "print the method, decoded arguments and calldata; send nothing");
}

/** `<ids...>`: each word may hold several comma-separated ids; checked as the words come. */
function idWords(value: string, previous?: IdList): IdList {
  const next = parseOperatorIds([...(previous?.ids ?? []).map(String), value], "<ids>");
  return { ids: next.ids, sorted: (previous?.sorted ?? false) || next.sorted };
}

const handlers = () => import("../handlers/task-def.js");

export function registerTaskDef(program: Command, runner: Runner): void {
  const taskDef = program
    .command("task-def")
    .description("create and manage task definitions on an AttestationCenter (devnet or any network)");
  const wei = (flag: string, help: string) =>
    typedOption(`${flag} <amount>`, help, amount(flag), { value: 0n, shown: "0" });
  targetOptions(
    taskDef
      .command("create")
      .description("create a task definition (createNewTaskDefinition), then apply the setters asked for"),
  )
    .option("--name <name>", "task definition name (required)")
    .addOption(
      typedOption(
        "--block-expiry <n|never>",
        "last block for tasks of this definition",
        blockExpiry("--block-expiry"),
        {
          value: UINT256_MAX,
          shown: "never",
        },
      ),
    )
    .addOption(wei("--reward-attesters", "base reward for attesters (wei, or e.g. 0.1eth)"))
    .addOption(wei("--reward-performer", "base reward for the performer (wei, or e.g. 0.1eth)"))
    .addOption(wei("--reward-aggregator", "base reward for the aggregator (wei, or e.g. 0.1eth)"))
    .addOption(
      typedOption(
        "--dispute-period <blocks>",
        "blocks before rewards can be claimed",
        uint("--dispute-period"),
        {
          value: 0n,
          shown: "0",
        },
      ),
    )
    .addOption(
      typedOption(
        "--min-voting-power <wei>",
        "minimum voting power of each attester",
        amount("--min-voting-power"),
        {
          value: 0n,
          shown: "0",
        },
      ),
    )
    .addOption(
      typedOption(
        "--restricted-operators <ids>",
        "comma-separated operator ids allowed to attest",
        operatorIds("--restricted-operators"),
      ),
    )
    .addOption(
      typedOption(
        "--max-attesters <n>",
        "maximum number of attesters (generation 2)",
        uint("--max-attesters"),
        {
          value: 0n,
          shown: "0",
        },
      ),
    )
    .action(runner.action(async (ctx, _args, opts) => (await handlers()).taskDefCreate(ctx, opts)));
  targetOptions(taskDef.command("list").description("list the task definitions of an AttestationCenter"))
    .option("--all", "include the internal task definitions (ids >= 10001)")
    .addOption(
      typedOption(
        "--from-block <n>",
        "read events from this block (public RPCs cap log ranges)",
        uintNumber("--from-block", 64),
      ),
    )
    .action(runner.action(async (ctx, _args, opts) => (await handlers()).taskDefList(ctx, opts)));
  const id = ["<id>", "task definition id", (v: string) => uintNumber("<id>", 16)(v)] as const;
  const definitionId = ["<id>", "task definition id", taskDefinitionId("<id>")] as const;
  targetOptions(
    taskDef
      .command("show")
      .description("show one task definition")
      .argument(...id),
  ).action(runner.action(async (ctx, args, opts) => (await handlers()).taskDefShow(ctx, args[0], opts)));
  /** A `set-*` command: `<id>`, then the value its argParser makes into the change. */
  const setter = (
    name: string,
    description: string,
    value: [string, string, (v: string, previous?: any) => unknown],
    change: (parsed: any) => SetterChange,
  ) =>
    targetOptions(
      taskDef
        .command(name)
        .description(description)
        .argument(...definitionId)
        .argument(...value),
    ).action(
      runner.action(async (ctx, args, opts) =>
        (await handlers()).taskDefSet(ctx, args[0], change(args[1]), opts),
      ),
    );
  setter(
    "set-min-voting-power",
    "setTaskDefinitionMinVotingPower",
    ["<wei>", "wei, or e.g. 0.1eth", amount("<wei>")],
    (wei) => ({ kind: "min-voting-power", wei }),
  );
  setter(
    "set-restricted-operators",
    "setTaskDefinitionRestrictedOperators / setTaskDefinitionRestrictedAttesters",
    ["<ids...>", "operator ids (space- or comma-separated)", idWords],
    (ids) => ({ kind: "restricted", ids }),
  ).alias("set-restricted-attesters");
  setter(
    "set-max-attesters",
    "setTaskDefinitionMaximumNumberOfAttesters (generation 2)",
    ["<n>", "maximum number of attesters", uint("<n>")],
    (n) => ({ kind: "max-attesters", n }),
  );
  targetOptions(
    taskDef
      .command("apply")
      .description("make the chain match the taskDefinitions of the config (never duplicates)"),
  ).action(runner.action(async (ctx, _args, opts) => (await handlers()).taskDefApply(ctx, opts)));
}
