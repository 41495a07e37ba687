/**
 * The engine's routes (docs/task-engine.md): sign-in, tasks (Ava's "workflows"), their
 * executions, and secrets. Every route but sign-in, health and metrics needs a token; a task,
 * its executions and a secret scoped to it answer 403 to any other owner.
 */

import { exchange } from "./auth.js";
import { HttpError, type Reply, type RequestContext, type Route } from "./http.js";
import { checkCreate, firingKey, triggerDecision } from "./lifecycle.js";
import type { RouteDeps } from "./route-deps.js";
import { secretRoutes } from "./secret-routes.js";
import {
  type Execution,
  FINAL_EXECUTION_STATUSES,
  TASK_STATUSES,
  type Task,
  type TriggerReason,
} from "./types.js";
import { ULID_PATTERN } from "./ulid.js";

export type { RouteDeps } from "./route-deps.js";

const REASON_TYPES = ["manual", "fixedTime", "cron", "block", "event"];

export function taskJson(t: Task): Record<string, unknown> {
  const w = t.workflow;
  return {
    id: t.id,
    owner: t.owner,
    name: t.name,
    trigger: w.trigger,
    nodes: w.nodes,
    edges: w.edges,
    inputVariables: w.inputVariables,
    status: t.status,
    startAt: t.startAt,
    expiredAt: t.expiredAt,
    maxExecution: t.maxExecution,
    totalExecution: t.totalExecution,
    lastRanAt: t.lastRanAt,
    createdAt: t.createdAt,
    completedAt: t.completedAt,
  };
}

export function executionJson(e: Execution): Record<string, unknown> {
  return {
    id: e.id,
    workflowId: e.taskId,
    index: e.index,
    status: e.status,
    triggerReason: e.triggerReason,
    triggerData: e.triggerData,
    queuedAt: e.queuedAt,
    startAt: e.startAt,
    endAt: e.endAt,
    error: e.error,
    steps: e.steps,
    digest: e.digest,
    attempts: e.attempts,
    taskNumber: e.taskNumber,
    txHash: e.txHash,
    verdict: e.verdict,
    performer: e.performer,
    chainId: e.chainId,
    electedAt: e.electedAt,
    noVerdict: e.noVerdict,
  };
}

function statusJson(e: Execution): Record<string, unknown> {
  return {
    id: e.id,
    workflowId: e.taskId,
    status: e.status,
    startAt: e.startAt,
    endAt: e.endAt,
    error: e.error,
  };
}

const ok = (body: unknown, status = 200): Reply => ({ status, body });

function limitOf(query: URLSearchParams): number {
  const raw = query.get("limit");
  if (raw === null) return 20;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1 || n > 200) {
    throw new HttpError(400, "INVALID_REQUEST", "limit is an integer from 1 to 200");
  }
  return n;
}

function cursorOf(query: URLSearchParams): string | undefined {
  const raw = query.get("cursor");
  if (raw === null || raw === "") return undefined;
  if (!ULID_PATTERN.test(raw))
    throw new HttpError(400, "INVALID_REQUEST", "cursor is the value a previous page gave");
  return raw;
}

function triggerReasonOf(raw: unknown): TriggerReason {
  if (raw === undefined || raw === null) return { type: "manual" };
  const r = raw as Record<string, unknown>;
  if (typeof raw !== "object" || Array.isArray(raw) || !REASON_TYPES.includes(String(r.type))) {
    throw new HttpError(400, "INVALID_REQUEST", `triggerReason.type is one of ${REASON_TYPES.join(", ")}`);
  }
  const reason: TriggerReason = { type: r.type as TriggerReason["type"] };
  for (const key of ["blockNumber", "logIndex", "epoch"] as const) {
    if (r[key] === undefined) continue;
    if (!Number.isSafeInteger(r[key]) || (r[key] as number) < 0) {
      throw new HttpError(400, "INVALID_REQUEST", `triggerReason.${key} is a non-negative integer`);
    }
    reason[key] = r[key] as number;
  }
  if (r.txHash !== undefined) {
    if (typeof r.txHash !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(r.txHash)) {
      throw new HttpError(400, "INVALID_REQUEST", "triggerReason.txHash is a 32-byte hex hash");
    }
    reason.txHash = r.txHash;
  }
  return reason;
}

/**
 * Queues an execution of `task` (its owner's trigger, or an operator's report of a firing): a
 * firing already reported (same task and trigger reason) answers its execution again.
 */
export async function triggerTask(d: RouteDeps, ctx: RequestContext, task: Task): Promise<Reply> {
  const body = await ctx.body();
  const reason = triggerReasonOf(body.triggerReason);
  const decide = (t: Task) => triggerDecision(t, d.now());
  const outcome = d.store.enqueue(
    task.id,
    d.now(),
    reason,
    body.triggerData ?? null,
    decide,
    firingKey(reason),
  );
  if (!outcome.ok) {
    const code = outcome.decision?.code ?? "NOT_FOUND";
    d.metrics.triggers.inc({ outcome: code });
    if (!outcome.decision) throw new HttpError(404, code, `no task ${task.id}`);
    throw new HttpError(409, code, outcome.decision.message);
  }
  d.metrics.triggers.inc({ outcome: outcome.duplicate ? "duplicate" : "queued" });
  const id = outcome.execution.id;
  ctx.logFields.executionId = id;
  const final = FINAL_EXECUTION_STATUSES.includes(outcome.execution.status);
  const duplicate = outcome.duplicate ? { duplicate: true } : {};
  if (final) return ok({ executionId: id, ...executionJson(outcome.execution), ...duplicate });
  const done = body.isBlocking === true ? d.waitFor(id, d.blockingWaitMs) : undefined;
  if (!outcome.duplicate) d.queued();
  const finished = await done;
  if (!finished) return ok({ executionId: id, workflowId: task.id, status: "queued", ...duplicate }, 202);
  return ok({ executionId: id, ...executionJson(finished), ...duplicate });
}

export function engineRoutes(d: RouteDeps): Route[] {
  const ownTask = (ctx: RequestContext, id: string | null | undefined): Task => {
    if (!id || !ULID_PATTERN.test(id)) throw new HttpError(404, "NOT_FOUND", `no task ${id ?? ""}`);
    const task = d.store.getTask(id);
    if (!task) throw new HttpError(404, "NOT_FOUND", `no task ${id}`);
    ctx.logFields.taskId = id;
    if (task.owner !== ctx.owner) throw new HttpError(403, "FORBIDDEN", "the task belongs to another owner");
    return task;
  };
  const ownExecution = (ctx: RequestContext): Execution => {
    const task = ownTask(ctx, ctx.params.id);
    const execution = d.store.getExecution(ctx.params.executionId!);
    ctx.logFields.executionId = ctx.params.executionId;
    if (!execution || execution.taskId !== task.id) {
      throw new HttpError(404, "NOT_FOUND", `no execution ${ctx.params.executionId} of task ${task.id}`);
    }
    return execution;
  };
  return [
    {
      method: "GET",
      path: "/health",
      auth: false,
      handle: () => ok({ status: "ok", chainId: d.auth.chainId }),
    },
    {
      method: "GET",
      path: "/metrics",
      auth: false,
      handle: () => ({ status: 200, body: d.metrics.render(), contentType: "text/plain; version=0.0.4" }),
    },
    {
      method: "POST",
      path: "/auth:exchange",
      auth: false,
      handle: async (ctx) => {
        const token = await exchange(await ctx.body(), d.auth, d.now());
        ctx.logFields.owner = token.subject;
        return ok(token);
      },
    },
    {
      method: "POST",
      path: "/workflows",
      auth: true,
      handle: async (ctx) => {
        const checked = await checkCreate(await ctx.body(), d.now());
        const chainId = checked.workflow?.trigger.config.chainId;
        if (chainId !== undefined && d.chainIds && !d.chainIds.includes(Number(chainId))) {
          checked.errors.push({
            code: "WF_INVALID_TRIGGER_CONFIG",
            path: "trigger.config.chainId",
            message: `chain ${chainId} is none of this engine's L2s (${d.chainIds.join(", ")})`,
          });
          checked.workflow = undefined;
        }
        if (!checked.workflow) {
          throw new HttpError(400, "WF_INVALID", `the workflow has ${checked.errors.length} problem(s)`, {
            errors: checked.errors,
          });
        }
        const task = d.store.createTask({ owner: ctx.owner, workflow: checked.workflow, now: d.now() });
        ctx.logFields.taskId = task.id;
        return ok(taskJson(task), 201);
      },
    },
    {
      method: "GET",
      path: "/workflows",
      auth: true,
      handle: (ctx) => {
        const owner = ctx.query.get("owner");
        if (owner !== null && owner.toLowerCase() !== ctx.owner.toLowerCase()) {
          throw new HttpError(403, "FORBIDDEN", "only the owner's own tasks can be listed");
        }
        const status = ctx.query.get("status") ?? undefined;
        if (status !== undefined && !(TASK_STATUSES as readonly string[]).includes(status)) {
          throw new HttpError(400, "INVALID_REQUEST", `status is one of ${TASK_STATUSES.join(", ")}`);
        }
        const cursor = cursorOf(ctx.query);
        const found = d.store.listTasks(ctx.owner, {
          limit: limitOf(ctx.query),
          ...(status ? { status } : {}),
          ...(cursor ? { cursor } : {}),
        });
        return ok({ items: found.items.map(taskJson), cursor: found.cursor });
      },
    },
    {
      method: "GET",
      path: "/workflows/:id",
      auth: true,
      handle: (ctx) => ok(taskJson(ownTask(ctx, ctx.params.id))),
    },
    {
      method: "DELETE",
      path: "/workflows/:id",
      auth: true,
      handle: (ctx) => {
        const task = ownTask(ctx, ctx.params.id);
        d.store.deleteTask(task.id);
        d.settle(task.id);
        return ok({ id: task.id, deleted: true });
      },
    },
    {
      method: "POST",
      path: "/workflows/:id:cancel",
      auth: true,
      handle: (ctx) => {
        const task = ownTask(ctx, ctx.params.id);
        const canceled = d.store.cancelTask(task.id, d.now()) ?? task;
        d.settle(task.id);
        return ok(taskJson(canceled));
      },
    },
    {
      method: "POST",
      path: "/workflows/:id:trigger",
      auth: true,
      handle: (ctx) => triggerTask(d, ctx, ownTask(ctx, ctx.params.id)),
    },
    {
      method: "GET",
      path: "/workflows/:id/executions",
      auth: true,
      handle: (ctx) => {
        const task = ownTask(ctx, ctx.params.id);
        const cursor = cursorOf(ctx.query);
        const found = d.store.listExecutions(task.id, {
          limit: limitOf(ctx.query),
          ...(cursor ? { cursor } : {}),
        });
        return ok({ items: found.items.map(executionJson), cursor: found.cursor });
      },
    },
    {
      method: "GET",
      path: "/workflows/:id/executions/:executionId",
      auth: true,
      handle: (ctx) => ok(executionJson(ownExecution(ctx))),
    },
    {
      method: "GET",
      path: "/workflows/:id/executions/:executionId/status",
      auth: true,
      handle: (ctx) => ok(statusJson(ownExecution(ctx))),
    },
    ...secretRoutes(d, ownTask),
  ];
}
