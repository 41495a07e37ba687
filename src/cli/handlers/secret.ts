/**
 * `avsctl secret set|list|delete`: an owner's secrets in the task engine, which runs read as
 * `apContext.configVars.<name>`. A value is never printed: results carry names and scopes only.
 */

import { invalidArgument } from "../../errors.js";
import type { CommandContext } from "../context.js";
import type { CommandResult } from "../runner.js";
import { type EngineFlags, engineClient } from "./engine-target.js";
import { readStdinText } from "./signer-flags.js";

/** The value from stdin, or a masked prompt when stdin is a terminal we may ask at. */
async function readValue(ctx: CommandContext): Promise<string> {
  if (process.stdin.isTTY && ctx.interactive) {
    const { password } = await import("@inquirer/prompts");
    return password({ message: "Secret value:", mask: "*" });
  }
  return (await readStdinText()).replace(/\r?\n$/, "");
}

export async function secretSet(
  ctx: CommandContext,
  name: string,
  flags: EngineFlags & { value?: string; workflow?: string },
): Promise<CommandResult> {
  if (flags.value === undefined && flags.passwordStdin) {
    throw invalidArgument("--value", "stdin holds the keystore password: pass the secret with --value");
  }
  const value = flags.value ?? (await readValue(ctx));
  if (value === "")
    throw invalidArgument("--value", "the secret is empty (pass --value, or the value on stdin)");
  const client = await engineClient(ctx, flags);
  const answer = await client.setSecret(name, value, flags.workflow);
  return {
    data: answer,
    human: () =>
      `${answer.created ? "created" : "updated"} secret ${answer.name}${answer.workflowId ? ` (workflow ${answer.workflowId})` : ""}`,
  };
}

export async function secretList(
  ctx: CommandContext,
  flags: EngineFlags & { workflow?: string },
): Promise<CommandResult> {
  const found = await (await engineClient(ctx, flags)).listSecrets(flags.workflow);
  return {
    data: found,
    human: () =>
      found.items.length
        ? found.items
            .map(
              (s: { name: string; workflowId: string | null }) =>
                `${s.name}${s.workflowId ? `  (workflow ${s.workflowId})` : ""}`,
            )
            .join("\n")
        : "no secrets",
  };
}

export async function secretDelete(
  ctx: CommandContext,
  name: string,
  flags: EngineFlags,
): Promise<CommandResult> {
  const answer = await (await engineClient(ctx, flags)).deleteSecret(name);
  return { data: answer, human: () => `deleted secret ${answer.name}` };
}
