/**
 * `POST /runs`: records a run made elsewhere (`avsctl workflow run`, which sends its writes with
 * the user's own signer) as a one-off task of its owner, with `maxExecution` 1 and the one
 * execution, so the engine's history holds it. The engine did not run it: it is stored as the
 * client gives it (the client masks its secrets first), digested as the worker digests a run,
 * and never attested.
 */

import { HttpError, type Route } from "./http.js";
import { checkCreate } from "./lifecycle.js";
import { executionDigest } from "./record.js";
import { executionJson, type RouteDeps, taskJson } from "./routes.js";
import type { TriggerReason } from "./types.js";

const STATUSES = ["success", "failed", "error"] as const;

export function recordRunRoute(d: RouteDeps): Route {
  return {
    method: "POST",
    path: "/runs",
    auth: true,
    handle: async (ctx) => {
      const body = await ctx.body();
      const checked = await checkCreate(body.workflow, d.now());
      if (!checked.workflow) {
        const errors = checked.errors.map((e) => ({
          ...e,
          path: e.path ? `workflow.${e.path}` : "workflow",
        }));
        throw new HttpError(400, "WF_INVALID", `the workflow has ${errors.length} problem(s)`, { errors });
      }
      const run = (body.execution ?? {}) as Record<string, unknown>;
      const status = run.status as (typeof STATUSES)[number];
      const startAt = Number(run.startAt);
      const endAt = Number(run.endAt);
      if (
        !STATUSES.includes(status) ||
        !Array.isArray(run.steps) ||
        !Number.isSafeInteger(startAt) ||
        !Number.isSafeInteger(endAt) ||
        (run.error !== null && run.error !== undefined && typeof run.error !== "string")
      ) {
        throw new HttpError(
          400,
          "INVALID_REQUEST",
          "execution is {status: success|failed|error, error, steps: [...], startAt, endAt}",
        );
      }
      const now = d.now();
      const task = d.store.createTask({
        owner: ctx.owner,
        workflow: { ...checked.workflow, maxExecution: 1 },
        now,
      });
      ctx.logFields.taskId = task.id;
      const reason: TriggerReason = { type: "manual" };
      const triggerData = (run.steps[0] as { output?: unknown } | undefined)?.output ?? null;
      // enqueue and record in one turn of the event loop: the worker never sees it queued
      const queued = d.store.enqueue(task.id, now, reason, triggerData, () => ({ ok: true }));
      if (!queued.ok) throw new HttpError(500, "INTERNAL", "the run could not be stored");
      const execution = queued.execution;
      ctx.logFields.executionId = execution.id;
      const record = { status, error: (run.error as string | null | undefined) ?? null, steps: run.steps };
      const recorded = d.store.record(
        execution.id,
        { ...record, startAt, endAt, digest: executionDigest(execution, record as never) },
        d.now(),
      );
      if (!recorded) throw new HttpError(500, "INTERNAL", "the run could not be stored");
      return {
        status: 201,
        body: {
          workflowId: task.id,
          executionId: execution.id,
          task: taskJson(recorded.task),
          execution: executionJson(recorded.execution),
        },
      };
    },
  };
}
