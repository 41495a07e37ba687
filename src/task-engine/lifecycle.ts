/**
 * The rules of a task's life, as data and pure functions (the store applies them; tests call
 * them directly):
 *
 *   active <-> executing          while at least one of its executions runs
 *   active | executing -> completed   maxExecution executions recorded, or expiredAt passed
 *   active | executing -> failed      an execution could not run at all (status "error")
 *   active | executing -> canceled    by its owner; queued executions are dropped
 *
 * completed, failed and canceled are final. startAt, expiredAt and maxExecution (0: no bound)
 * are checked when a trigger arrives; maxExecution bounds the executions accepted, so a burst
 * of triggers never runs more than the cap.
 */

import { validateWorkflow, type Workflow, type WorkflowProblem } from "../workflow/index.js";
import type { ExecutionStatus, Task, TaskStatus, TriggerReason } from "./types.js";

export const TRANSITIONS: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  active: ["executing", "completed", "failed", "canceled"],
  executing: ["active", "completed", "failed", "canceled"],
  completed: [],
  failed: [],
  canceled: [],
};

export function canTransition(from: TaskStatus, to: TaskStatus): boolean {
  return from === to || TRANSITIONS[from].includes(to);
}

export function isFinal(status: TaskStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

export const TRIGGER_REFUSALS = [
  "TASK_NOT_ACTIVE",
  "TASK_NOT_STARTED",
  "TASK_EXPIRED",
  "MAX_EXECUTION_REACHED",
] as const;
export type TriggerRefusalCode = (typeof TRIGGER_REFUSALS)[number];

export type TriggerDecision =
  | { ok: true }
  | {
      ok: false;
      code: TriggerRefusalCode;
      message: string;
      /** the task is now completed */
      expire: boolean;
    };

/** Whether a trigger arriving at `now` may enqueue an execution of `task`. */
export function triggerDecision(task: Task, now: number): TriggerDecision {
  if (task.status === "canceled" || task.status === "failed") {
    return { ok: false, code: "TASK_NOT_ACTIVE", message: `the task is ${task.status}`, expire: false };
  }
  if (task.maxExecution > 0 && task.triggered >= task.maxExecution) {
    return {
      ok: false,
      code: "MAX_EXECUTION_REACHED",
      message: `the task has had its ${task.maxExecution} execution(s)`,
      expire: false,
    };
  }
  if (isFinal(task.status)) {
    return { ok: false, code: "TASK_NOT_ACTIVE", message: `the task is ${task.status}`, expire: false };
  }
  if (task.expiredAt > 0 && now >= task.expiredAt) {
    return {
      ok: false,
      code: "TASK_EXPIRED",
      message: `the task expired at ${new Date(task.expiredAt).toISOString()}`,
      expire: true,
    };
  }
  if (task.startAt > 0 && now < task.startAt) {
    return {
      ok: false,
      code: "TASK_NOT_STARTED",
      message: `the task starts at ${new Date(task.startAt).toISOString()}`,
      expire: false,
    };
  }
  return { ok: true };
}

/** The status when a worker starts one of its executions. */
export function statusOnStart(status: TaskStatus): TaskStatus {
  return status === "active" ? "executing" : status;
}

/**
 * The status once an execution is recorded. `task` already counts it (totalExecution);
 * `stillRunning` is how many other executions of it run.
 */
export function statusAfterRecord(
  task: Task,
  outcome: ExecutionStatus,
  stillRunning: number,
  now: number,
): TaskStatus {
  if (isFinal(task.status)) return task.status;
  if (outcome === "error") return "failed";
  if (task.maxExecution > 0 && task.totalExecution >= task.maxExecution) return "completed";
  if (task.expiredAt > 0 && now >= task.expiredAt) return "completed";
  return stillRunning > 0 ? "executing" : "active";
}

/** Whether an idle task has passed its expiry (the worker's sweep completes it). */
export function isExpired(task: Task, now: number): boolean {
  return !isFinal(task.status) && task.expiredAt > 0 && now >= task.expiredAt;
}

export interface CreateCheck {
  workflow?: Workflow;
  errors: WorkflowProblem[];
}

/** What only a stored task needs: `avsctl workflow validate` passes a file without them. */
export const STORED_TASK_PROBLEMS = {
  noEdge: { code: "WF_INVALID_SHAPE", path: "edges", message: "a task needs at least one edge" },
  expired: { code: "WF_INVALID_SCHEDULE", path: "expiredAt", message: "expiredAt is already past" },
} as const satisfies Record<string, WorkflowProblem>;

const STORED_TASK_FIXES: Record<keyof typeof STORED_TASK_PROBLEMS, string> = {
  noEdge: "add an edge from the trigger to a node",
  expired: "set expiredAt to a time still to come (Unix ms), or 0 for no end",
};

/** How to fix `problem` when it is one of checkCreate's own (beyond validateWorkflow's checks). */
export function storedTaskFix(problem: WorkflowProblem): string | undefined {
  for (const [key, p] of Object.entries(STORED_TASK_PROBLEMS)) {
    if (p.code === problem.code && p.path === problem.path && p.message === problem.message) {
      return STORED_TASK_FIXES[key as keyof typeof STORED_TASK_PROBLEMS];
    }
  }
  return undefined;
}

/**
 * Validates a create request: the graph engine's checks (shapes, every node's config, names,
 * ids, edges, cycles, reachability, expressions), plus what a stored task needs: at least one
 * edge, and a schedule that has not already ended. Problems name their path in the document.
 */
export async function checkCreate(body: unknown, now: number): Promise<CreateCheck> {
  const result = await validateWorkflow(body);
  const errors = [...result.errors];
  const doc =
    body && typeof body === "object" && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  if (Array.isArray(doc.edges) ? doc.edges.length === 0 : doc.edges === undefined) {
    errors.push({ ...STORED_TASK_PROBLEMS.noEdge });
  }
  const w = result.workflow;
  if (w?.expiredAt !== undefined && w.expiredAt > 0 && w.expiredAt <= now) {
    errors.push({ ...STORED_TASK_PROBLEMS.expired });
  }
  return errors.length > 0 ? { errors } : { workflow: w!, errors: [] };
}

/**
 * What makes a firing the same firing: the task plus what the trigger saw (the block, the log,
 * the slot). Two operators, or one operator after a restart, reporting it give one execution.
 * Manual triggers have none: each is a new execution.
 */
export function firingKey(reason: TriggerReason): string | null {
  switch (reason.type) {
    case "manual":
      return null;
    case "block":
      return reason.blockNumber === undefined ? null : `block:${reason.blockNumber}`;
    case "event":
      return reason.txHash === undefined || reason.logIndex === undefined
        ? null
        : `event:${reason.txHash.toLowerCase()}:${reason.logIndex}`;
    case "fixedTime":
    case "cron":
      return reason.epoch === undefined ? null : `${reason.type}:${reason.epoch}`;
  }
}
