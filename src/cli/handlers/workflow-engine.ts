/**
 * `avsctl workflow create|list|get|trigger|cancel|delete|executions|execution`: the stored
 * workflows (tasks) of a task engine (docs/task-engine.md), through src/task-engine/client.ts.
 */

import { EXIT } from "../../errors.js";
import type { EngineClient, Json } from "../../task-engine/client.js";
import { secretsInCode } from "../../workflow/code-secrets.js";
import type { Workflow } from "../../workflow/types.js";
import type { CommandContext } from "../context.js";
import type { CommandResult } from "../runner.js";
import { configVarNames } from "./config-vars.js";
import { type EngineFlags, engineClient, engineCommand } from "./engine-target.js";

const when = (ms: unknown) => (typeof ms === "number" && ms > 0 ? new Date(ms).toISOString() : "-");

function taskLine(t: Json): string {
  const max = t.maxExecution ? `/${t.maxExecution}` : "";
  return `${t.id}  ${String(t.status).padEnd(9)}  ${t.trigger?.type ?? "?"}  runs ${t.totalExecution}${max}  ${t.name}`;
}

function taskHuman(t: Json): string {
  return [
    `${t.id}  ${t.name}`,
    `  status     ${t.status}`,
    `  owner      ${t.owner}`,
    `  trigger    ${t.trigger?.type} ${JSON.stringify(t.trigger?.config ?? {})}`,
    `  nodes      ${(t.nodes ?? []).map((n: Json) => `${n.name}(${n.type})`).join(", ")}`,
    `  executions ${t.totalExecution}${t.maxExecution ? ` of ${t.maxExecution}` : ""}, last ${when(t.lastRanAt)}`,
    `  schedule   from ${when(t.startAt)} until ${when(t.expiredAt)}`,
    `  created    ${when(t.createdAt)}`,
  ].join("\n");
}

function executionLine(e: Json): string {
  const reason = e.triggerReason?.type ?? "manual";
  return `${e.id ?? e.executionId}  #${e.index ?? "-"}  ${String(e.status).padEnd(8)}  ${reason}  ${when(e.endAt ?? e.queuedAt)}${e.error ? `  ${e.error}` : ""}`;
}

function executionHuman(e: Json): string {
  const steps = (e.steps ?? []).map(
    (s: Json) =>
      `  ${s.success ? "ok  " : "FAIL"} ${s.name} (${s.type})${s.success ? (simulatedWrite(s) ? ": simulated (nothing sent)" : "") : `: ${s.error}`}`,
  );
  return [executionLine(e), ...attestationLines(e), ...steps].join("\n");
}

const WRITES = new Set(["contractWrite", "ethTransfer", "loop"]);

/**
 * Whether a write step (or a loop of writes) only simulated its transaction: the engine's runs
 * never send one, and "ok" alone read as if the transfer had been made. A simulated write's
 * output (one per call of a contractWrite) has `simulated: true` and its gas estimate.
 */
function simulatedWrite(step: Json): boolean {
  const simulated = (v: unknown): boolean =>
    Array.isArray(v)
      ? v.some(simulated)
      : !!v &&
        typeof v === "object" &&
        (v as Json).simulated === true &&
        typeof (v as Json).gasEstimate === "string";
  return WRITES.has(step.type) && simulated(step.output);
}

/**
 * Who performed the execution's AVS task, where, and the chain's verdict once there is one, or
 * why none is coming (the engine read the aggregator's journal, or stopped following the task).
 */
function attestationLines(e: Json): string[] {
  if (!e.performer) return [];
  const where = `on chain ${e.chainId} by ${e.performer} (elected at ${e.electedAt})`;
  if (e.verdict) return [`  attested ${where}: ${e.verdict} as task ${e.taskNumber} (tx ${e.txHash})`];
  if (e.noVerdict) {
    const { status, taskHash, reason, abstained } = e.noVerdict;
    return [
      `  not attested ${where}: ${status}, task ${taskHash}: ${reason}`,
      ...(Array.isArray(abstained) ? abstained.map((a: string) => `    ${a}`) : []),
    ];
  }
  return [`  sent for attestation ${where}: no verdict yet`];
}

const executionExit = (e: Json) =>
  e.status === "failed" || e.status === "error" || e.status === "canceled" ? EXIT.FAILED : EXIT.OK;

export async function workflowCreate(
  ctx: CommandContext,
  file: string,
  flags: EngineFlags,
): Promise<CommandResult> {
  const client = await engineClient(ctx, flags);
  const task = await client.createWorkflow(file, ctx.cwd);
  // the engine answers the stored task: its nodes as the engine normalised them
  const inCode = Array.isArray(task.nodes) ? secretsInCode(task as Pick<Workflow, "nodes">) : [];
  const warnings = [...(await unsetSecrets(ctx, client, task, flags)), ...inCode];
  return {
    data: warnings.length > 0 ? { ...task, warnings } : task,
    human: () =>
      `${warnings.map((w) => `warning: ${w}\n`).join("")}created ${task.id} (${task.name}), ${task.status}`,
  };
}

/**
 * The secrets the stored workflow reads that the engine has neither for its owner nor for it:
 * its runs would see them empty. Nothing when the engine will not list them.
 */
async function unsetSecrets(
  ctx: CommandContext,
  client: EngineClient,
  task: Json,
  flags: EngineFlags,
): Promise<string[]> {
  const names = configVarNames(task);
  if (names.length === 0) return [];
  const listed = await client.listSecrets().catch(() => undefined);
  if (!Array.isArray(listed?.items)) return [];
  const byName = new Map<string, Json>(listed.items.map((s: Json) => [s.name, s]));
  const command = (words: string) => `\`${engineCommand(ctx, flags, words)}\``;
  return names.flatMap((name) => {
    const secret = byName.get(name);
    if (!secret)
      return [
        `the workflow reads apContext.configVars.${name} and the task engine has no secret ${name}: its runs see it empty until ${command(`secret set ${name}`)} (the value on stdin)`,
      ];
    if (!secret.workflowId || secret.workflowId === task.id) return [];
    // a name is unique per owner (docs/task-engine.md#secrets): this workflow cannot have a
    // value of its own under it while the other keeps its own
    return [
      `the workflow reads apContext.configVars.${name}, but the task engine's secret ${name} is scoped to workflow ${secret.workflowId}, so this workflow's runs see it empty. A secret name holds one scope, so ${task.id} cannot have its own ${name} while ${secret.workflowId} keeps its: read another name here and set it with ${command(`secret set <name> --workflow ${task.id}`)}, or give every workflow one value (replacing ${secret.workflowId}'s) with ${command(`secret delete ${name}`)} then ${command(`secret set ${name}`)} (the value on stdin)`,
    ];
  });
}

export async function workflowList(
  ctx: CommandContext,
  flags: EngineFlags & { status?: string; limit?: number; cursor?: string },
): Promise<CommandResult> {
  const client = await engineClient(ctx, flags);
  const found = await client.listWorkflows({
    ...(flags.status ? { status: flags.status } : {}),
    ...(flags.limit ? { limit: flags.limit } : {}),
    ...(flags.cursor ? { cursor: flags.cursor } : {}),
  });
  return {
    data: found,
    human: () =>
      [
        ...(found.items.length ? found.items.map(taskLine) : ["no workflows"]),
        ...(found.cursor ? [`more: --cursor ${found.cursor}`] : []),
      ].join("\n"),
  };
}

export async function workflowGet(
  ctx: CommandContext,
  id: string,
  flags: EngineFlags,
): Promise<CommandResult> {
  const task = await (await engineClient(ctx, flags)).getWorkflow(id);
  return { data: task, human: () => taskHuman(task) };
}

export async function workflowTrigger(
  ctx: CommandContext,
  id: string,
  flags: EngineFlags & { wait?: boolean; triggerData?: unknown },
): Promise<CommandResult> {
  const client = await engineClient(ctx, flags);
  const answer = await client.triggerWorkflow(id, {
    wait: flags.wait === true,
    ...(flags.triggerData === undefined ? {} : { triggerData: flags.triggerData }),
  });
  const recorded = answer.status !== "queued";
  return {
    data: answer,
    exitCode: recorded ? executionExit(answer) : EXIT.OK,
    human: () => (recorded ? executionHuman(answer) : `queued ${answer.executionId}`),
  };
}

export async function workflowCancel(
  ctx: CommandContext,
  id: string,
  flags: EngineFlags,
): Promise<CommandResult> {
  const task = await (await engineClient(ctx, flags)).cancelWorkflow(id);
  return { data: task, human: () => `${task.id} ${task.status}` };
}

export async function workflowDelete(
  ctx: CommandContext,
  id: string,
  flags: EngineFlags,
): Promise<CommandResult> {
  const answer = await (await engineClient(ctx, flags)).deleteWorkflow(id);
  return { data: answer, human: () => `deleted ${answer.id}` };
}

export async function workflowExecutions(
  ctx: CommandContext,
  id: string,
  flags: EngineFlags & { limit?: number; cursor?: string },
): Promise<CommandResult> {
  const client = await engineClient(ctx, flags);
  const found = await client.listExecutions(id, {
    ...(flags.limit ? { limit: flags.limit } : {}),
    ...(flags.cursor ? { cursor: flags.cursor } : {}),
  });
  return {
    data: found,
    human: () =>
      [
        ...(found.items.length ? found.items.map(executionLine) : ["no executions"]),
        ...(found.cursor ? [`more: --cursor ${found.cursor}`] : []),
      ].join("\n"),
  };
}

export async function workflowExecution(
  ctx: CommandContext,
  id: string,
  executionId: string,
  flags: EngineFlags & { watch?: boolean },
): Promise<CommandResult> {
  const client = await engineClient(ctx, flags);
  const execution = flags.watch
    ? await client.watchExecution(id, executionId, {
        onUpdate: (e) => ctx.progress(`${e.id} ${e.status}`),
      })
    : await client.getExecution(id, executionId);
  return { data: execution, exitCode: executionExit(execution), human: () => executionHuman(execution) };
}
