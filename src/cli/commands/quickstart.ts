import type { Command } from "commander";
import type { Runner } from "../runner.js";
import { parseRuntime } from "./devnet.js";

export function registerQuickstart(program: Command, runner: Runner): void {
  program
    .command("quickstart")
    .description("run the whole life cycle on the embedded default project and print what to run next")
    .option("--keep", "leave the devnet up at the end (default)")
    .option("--down", "tear the devnet down at the end")
    .option("--runtime <runtime>", "auto | docker | process", parseRuntime, "auto")
    .action(
      runner.action(async (ctx, _args, opts) => {
        const { quickstartCommand } = await import("../handlers/quickstart.js");
        return quickstartCommand(ctx, opts);
      }),
    );
}
