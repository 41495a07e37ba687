import type { Command } from "commander";
import type { Runner } from "../runner.js";

export function registerConfig(program: Command, runner: Runner): void {
  const config = program.command("config").description("inspect the resolved avsctl configuration");
  config
    .command("show")
    .description("print the configuration after defaults, .env and environment overrides (secrets redacted)")
    .action(
      runner.action(async (ctx) => {
        const { configShowCommand } = await import("../handlers/config.js");
        return configShowCommand(ctx);
      }),
    );
}
