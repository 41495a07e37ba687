import type { Command } from "commander";
import type { Runner } from "../runner.js";

export function registerInit(program: Command, runner: Runner): void {
  program
    .command("init")
    .description("scaffold an AVS project: execution and validation services, Dockerfiles, tests")
    .argument("[dir]", "target directory (default: the project name)")
    .option("--template <name>", "price-oracle (default), workflow or blank")
    .option("--language <lang>", "ts | python | go (aliases: typescript, py, golang)")
    .option("--name <name>", "project name (default: the directory name)")
    .option("--force", "write into a non-empty directory")
    .option("--no-install", "do not install the generated project's dependencies")
    .option("--list-templates", "list the templates and languages, then exit")
    .action(
      runner.action(async (ctx, args, opts) => {
        const { initCommand } = await import("../handlers/init.js");
        return initCommand(ctx, args[0], opts);
      }),
    );
}
