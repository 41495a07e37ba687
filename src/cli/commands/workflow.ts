import type { Command } from "commander";
import type { Runner } from "../runner.js";
import { notBuilt } from "./not-built.js";

export function registerWorkflow(program: Command, runner: Runner): void {
  const workflow = program
    .command("workflow")
    .description("validate, simulate and run task workflows (graphs of nodes)");
  workflow
    .command("validate")
    .description("check a workflow file (JSON or YAML) without running it")
    .argument("<file>")
    .action(runner.action(notBuilt("workflow validate")));
  workflow
    .command("simulate")
    .description("run a workflow offline and print each step, saving nothing")
    .argument("<file>")
    .action(runner.action(notBuilt("workflow simulate")));
  workflow
    .command("run")
    .description("run a workflow against the devnet")
    .argument("<file>")
    .action(runner.action(notBuilt("workflow run")));
}
