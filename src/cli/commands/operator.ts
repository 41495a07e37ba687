import type { Command } from "commander";
import { amount, typedOption } from "../parse.js";
import type { Runner } from "../runner.js";

const handlers = () => import("../handlers/operator.js");

export function registerOperator(program: Command, runner: Runner): void {
  const operator = program
    .command("operator")
    .description("change the operator set and its L1 stake in a running devnet (scenarios)");
  operator
    .command("add")
    .description("register a new operator (next mnemonic key) with its L1 stake and start its attester node")
    .argument("<name>", "its component name, e.g. attester-4")
    .addOption(
      typedOption(
        "--stake <amount>",
        "L1 stake = voting power: wei or with a unit (1eth)",
        amount("--stake"),
        {
          value: 100n * 10n ** 18n,
          shown: "100eth",
        },
      ),
    )
    .action(runner.action(async (ctx, args, opts) => (await handlers()).operatorAdd(ctx, args[0]!, opts)));
  operator
    .command("remove")
    .description("unregister an operator on L1 (mirrored to every L2) and stop its attester node")
    .argument("<name>", "an attester of the devnet (attester-1...)")
    .option("--no-wait", "do not wait for the L2s to show it unregistered")
    .action(runner.action(async (ctx, args, opts) => (await handlers()).operatorRemove(ctx, args[0]!, opts)));
  operator
    .command("set-stake")
    .description("set an operator's L1 stake, then run the voting power sync that carries it to L2")
    .argument("<name>", "an attester of the devnet (attester-1...)")
    .argument("<amount>", "wei or with a unit (1eth, 0)", amount("<amount>"))
    .option("--no-wait", "do not run and wait for the sync (the aggregator's schedule carries it later)")
    .action(
      runner.action(async (ctx, args, opts) =>
        (await handlers()).operatorSetStake(ctx, args[0]!, args[1], opts),
      ),
    );
}
