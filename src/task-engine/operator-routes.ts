/**
 * The routes of the devnet's operators, who watch every owner's live tasks' triggers and report
 * each firing (docs/task-engine.md, "Operators"). They authenticate with the engine's operator
 * secret, not an owner's token, and see only what firing needs: ids, triggers and bounds.
 */

import { HttpError, type Route } from "./http.js";
import { type RouteDeps, triggerTask } from "./routes.js";
import type { Task } from "./types.js";
import { ULID_PATTERN } from "./ulid.js";

/** What an operator sees of a live task. */
export function liveTaskJson(t: Task): Record<string, unknown> {
  return {
    id: t.id,
    trigger: t.workflow.trigger,
    status: t.status,
    createdAt: t.createdAt,
    startAt: t.startAt,
    expiredAt: t.expiredAt,
    maxExecution: t.maxExecution,
    totalExecution: t.totalExecution,
  };
}

export function operatorRoutes(d: RouteDeps): Route[] {
  return [
    {
      method: "GET",
      path: "/operator/tasks",
      auth: "operator",
      handle: (ctx) => {
        const raw = ctx.query.get("limit");
        const limit = raw === null ? 200 : Number(raw);
        if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) {
          throw new HttpError(400, "INVALID_REQUEST", "limit is an integer from 1 to 1000");
        }
        const cursor = ctx.query.get("cursor") || undefined;
        if (cursor !== undefined && !ULID_PATTERN.test(cursor)) {
          throw new HttpError(400, "INVALID_REQUEST", "cursor is the value a previous page gave");
        }
        const rawChain = ctx.query.get("chainId");
        const chainId = rawChain === null ? undefined : Number(rawChain);
        if (chainId !== undefined && (!Number.isSafeInteger(chainId) || chainId < 1)) {
          throw new HttpError(400, "INVALID_REQUEST", "chainId is a positive integer");
        }
        const found = d.store.listLive({
          limit,
          ...(cursor ? { cursor } : {}),
          ...(chainId === undefined ? {} : { chainId }),
          ...(d.chainIds?.[0] === undefined ? {} : { defaultChainId: d.chainIds[0] }),
        });
        return { status: 200, body: { items: found.items.map(liveTaskJson), cursor: found.cursor } };
      },
    },
    {
      method: "POST",
      path: "/operator/workflows/:id:trigger",
      auth: "operator",
      handle: (ctx) => {
        const id = ctx.params.id;
        const task = id && ULID_PATTERN.test(id) ? d.store.getTask(id) : undefined;
        if (!task) throw new HttpError(404, "NOT_FOUND", `no task ${id ?? ""}`);
        ctx.logFields.taskId = task.id;
        return triggerTask(d, ctx, task);
      },
    },
  ];
}
