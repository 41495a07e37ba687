import type { Command } from "commander";
import { identifier, typedOption, ulidId } from "../parse.js";
import type { Runner } from "../runner.js";
import { engineOptions } from "./workflow.js";

const handlers = () => import("../handlers/secret.js");

export function registerSecret(program: Command, runner: Runner): void {
  const secret = program
    .command("secret")
    .description("the owner's secrets in the task engine, read by workflows as apContext.configVars.<name>");
  engineOptions(secret.command("set").description("create a secret or replace its value (never printed)"))
    .argument("<name>", "a JavaScript identifier", identifier("<name>"))
    .option("--value <value>", "the value (default: read from stdin)")
    .addOption(typedOption("--workflow <id>", "only this workflow sees it", ulidId("--workflow")))
    .action(runner.action(async (ctx, args, opts) => (await handlers()).secretSet(ctx, args[0]!, opts)));
  engineOptions(secret.command("list").description("the owner's secrets: names and scopes, never values"))
    .addOption(typedOption("--workflow <id>", "only the secrets of this workflow", ulidId("--workflow")))
    .action(runner.action(async (ctx, _args, opts) => (await handlers()).secretList(ctx, opts)));
  engineOptions(secret.command("delete").description("delete a secret"))
    .argument("<name>", "a JavaScript identifier", identifier("<name>"))
    .action(runner.action(async (ctx, args, opts) => (await handlers()).secretDelete(ctx, args[0]!, opts)));
}
