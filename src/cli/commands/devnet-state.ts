import type { Command } from "commander";
import { duration, intRange } from "../parse.js";
import type { Runner } from "../runner.js";

const handlers = () => import("../handlers/devnet-state.js");

/** `devnet snapshot save|list|restore|delete` and `devnet advance`: the devnet's state and clock. */
export function registerDevnetState(devnet: Command, runner: Runner): void {
  const snapshot = devnet
    .command("snapshot")
    .description("save the whole devnet (every chain, the node stores) and go back to it later");
  snapshot
    .command("save")
    .description("save every chain and the node stores as they are now, under .avsctl/snapshots/<name>")
    .argument("<name>")
    .action(runner.action(async (ctx, args) => (await handlers()).snapshotSaveCommand(ctx, args[0]!)));
  snapshot
    .command("list")
    .description("list the saved snapshots")
    .action(runner.action(async (ctx) => (await handlers()).snapshotListCommand(ctx)));
  snapshot
    .command("restore")
    .description("bring every chain and node back to a snapshot (the nodes restart)")
    .argument("<name>")
    .action(runner.action(async (ctx, args) => (await handlers()).snapshotRestoreCommand(ctx, args[0]!)));
  snapshot
    .command("delete")
    .description("delete a snapshot")
    .argument("<name>")
    .action(runner.action(async (ctx, args) => (await handlers()).snapshotDeleteCommand(ctx, args[0]!)));
  devnet
    .command("advance")
    .description("mine blocks or move time forward on every chain")
    .option("--blocks <n>", "blocks to mine on every chain", intRange("--blocks", 1, 1_000_000))
    .option(
      "--time <duration>",
      "move every chain's clock forward (90s, 2h, 1d), then mine a block",
      duration("--time"),
    )
    .action(runner.action(async (ctx, _args, opts) => (await handlers()).devnetAdvanceCommand(ctx, opts)));
}
