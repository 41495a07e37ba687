/**
 * `avsctl secret set|list|delete`: an owner's secrets in the task engine, which runs read as
 * `apContext.configVars.<name>`. A value is never printed: results carry names and scopes only.
 */

import { AvsctlError, invalidArgument } from "../../errors.js";
import type { EngineClient } from "../../task-engine/client.js";
import type { CommandContext } from "../context.js";
import type { CommandResult } from "../runner.js";
import { type EngineFlags, engineClient, engineCommand } from "./engine-target.js";
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
  await refuseScopeChange(ctx, client, name, flags);
  const answer = await client.setSecret(name, value, flags.workflow);
  return {
    data: answer,
    human: () =>
      `${answer.created ? "created" : "updated"} secret ${answer.name}${answer.workflowId ? ` (workflow ${answer.workflowId})` : ""}`,
  };
}

/**
 * A name is unique per owner and holds one scope (docs/task-engine.md#secrets): replacing the
 * value of a secret scoped elsewhere, or moving it, would change what other workflows' runs
 * see. Only a `set` naming the secret's own scope replaces its value.
 */
async function refuseScopeChange(
  ctx: CommandContext,
  client: EngineClient,
  name: string,
  flags: EngineFlags & { workflow?: string },
): Promise<void> {
  const listed = await client.listSecrets();
  const existing = (listed.items as Array<{ name: string; workflowId: string | null }>).find(
    (s) => s.name === name,
  );
  if (!existing) return;
  const asked = flags.workflow ?? null;
  if (existing.workflowId === asked) return;
  const scope = (id: string | null) => (id ? `scoped to workflow ${id}` : "seen by every workflow");
  const same = engineCommand(
    ctx,
    flags,
    `secret set ${name}${existing.workflowId ? ` --workflow ${existing.workflowId}` : ""}`,
  );
  const anew = engineCommand(ctx, flags, `secret set ${name}${asked ? ` --workflow ${asked}` : ""}`);
  throw new AvsctlError(
    "INVALID_ARGUMENT",
    `secret ${name} exists ${scope(existing.workflowId)}; a name holds one scope, and this set asks for it ${scope(asked)}`,
    {
      details: { argument: "--workflow", name, workflowId: existing.workflowId, asked },
      hint: `\`${same}\` replaces its value where it is; to have it ${scope(asked)} instead, \`${engineCommand(ctx, flags, `secret delete ${name}`)}\` then \`${anew}\` (the value on stdin)`,
    },
  );
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
