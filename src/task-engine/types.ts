/**
 * The task engine's model: a stored workflow (a task) with its lifecycle, and its executions.
 * Field names are Ava Protocol's REST names in camelCase; see docs/task-engine.md.
 */

import type { ExecutionStep, Workflow } from "../workflow/index.js";

export const TASK_STATUSES = ["active", "executing", "completed", "failed", "canceled"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const EXECUTION_STATUSES = ["queued", "running", "success", "failed", "error", "canceled"] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];
/** Where an execution ends; never changed once written. */
export const FINAL_EXECUTION_STATUSES: readonly ExecutionStatus[] = [
  "success",
  "failed",
  "error",
  "canceled",
];

/** Why an execution ran: what the trigger saw (block, log, epoch), or nothing for manual. */
export interface TriggerReason {
  type: "manual" | "fixedTime" | "cron" | "block" | "event";
  blockNumber?: number;
  txHash?: string;
  logIndex?: number;
  epoch?: number;
}

export interface Task {
  id: string;
  owner: string;
  name: string;
  workflow: Workflow;
  status: TaskStatus;
  /** 0: no bound. */
  startAt: number;
  expiredAt: number;
  maxExecution: number;
  /** Executions that have finished (recorded). */
  totalExecution: number;
  /** Executions accepted (queued or later); what maxExecution bounds. */
  triggered: number;
  lastRanAt: number | null;
  createdAt: number;
  completedAt: number | null;
}

export interface Execution {
  id: string;
  taskId: string;
  owner: string;
  /** 0-based run counter within the task. */
  index: number;
  status: ExecutionStatus;
  triggerReason: TriggerReason;
  triggerData: unknown;
  queuedAt: number;
  startAt: number | null;
  endAt: number | null;
  error: string | null;
  steps: ExecutionStep[];
  /** keccak256 of the canonical execution record: the proof of the later attestation. */
  digest: string | null;
  /** Times the queue handed it to a worker (more than 1 after a crash). */
  attempts: number;
  /** The attestation's on-chain task number and transaction, once it has one. */
  taskNumber: number | null;
  txHash: string | null;
  /** The attesters' verdict on-chain, once there is one. */
  verdict: "approved" | "rejected" | null;
  /**
   * The operator elected to perform it (it signed the AVS task), the L2 the task goes to, and
   * the number the election rotated on; null until it is sent for attestation.
   */
  performer: string | null;
  chainId: number | null;
  electedAt: number | null;
  /**
   * Why there is no verdict, once the engine knows none is coming: the aggregator's journal
   * ended the task without one (`unreachable`, `timeout`, `failed`, with its reason), or the
   * engine stopped following it (`timeout`). Null while a verdict may still come, and once one has.
   */
  noVerdict: NoVerdict | null;
}

export interface NoVerdict {
  status: "unreachable" | "timeout" | "failed";
  reason: string;
  /** The attesters that abstained, one line each ("attester 2 (0x..) abstained: ..."). */
  abstained: string[];
  taskHash: string;
}

export interface SecretInfo {
  name: string;
  workflowId: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface Page<T> {
  items: T[];
  cursor: string | null;
}
