/** The store's tables, and rows turned into the model's objects. */

import type { SQLOutputValue } from "node:sqlite";
import type { Workflow } from "../workflow/index.js";
import type {
  Execution,
  ExecutionStatus,
  NoVerdict,
  Page,
  Task,
  TaskStatus,
  TriggerReason,
} from "./types.js";

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  name TEXT NOT NULL,
  workflow TEXT NOT NULL,
  status TEXT NOT NULL,
  start_at INTEGER NOT NULL DEFAULT 0,
  expired_at INTEGER NOT NULL DEFAULT 0,
  max_execution INTEGER NOT NULL DEFAULT 0,
  total_execution INTEGER NOT NULL DEFAULT 0,
  triggered INTEGER NOT NULL DEFAULT 0,
  last_ran_at INTEGER,
  created_at INTEGER NOT NULL,
  completed_at INTEGER
);
CREATE INDEX IF NOT EXISTS tasks_by_owner ON tasks (owner, id);
CREATE INDEX IF NOT EXISTS tasks_by_owner_status ON tasks (owner, status, id);
CREATE TABLE IF NOT EXISTS executions (
  id TEXT PRIMARY KEY,
  task_id TEXT NOT NULL,
  owner TEXT NOT NULL,
  idx INTEGER NOT NULL,
  status TEXT NOT NULL,
  trigger_reason TEXT NOT NULL,
  trigger_data TEXT NOT NULL,
  queued_at INTEGER NOT NULL,
  start_at INTEGER,
  end_at INTEGER,
  error TEXT,
  steps TEXT NOT NULL DEFAULT '[]',
  digest TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  task_number INTEGER,
  tx_hash TEXT,
  verdict TEXT,
  record TEXT,
  performer TEXT,
  chain_id INTEGER,
  elected_at INTEGER,
  no_verdict TEXT
);
CREATE INDEX IF NOT EXISTS executions_by_task ON executions (task_id, id);
CREATE INDEX IF NOT EXISTS executions_by_status ON executions (task_id, status);
CREATE TABLE IF NOT EXISTS queue (
  execution_id TEXT PRIMARY KEY,
  task_id TEXT NOT NULL,
  lease_until INTEGER NOT NULL DEFAULT 0,
  locked_by TEXT
);
CREATE TABLE IF NOT EXISTS secrets (
  owner TEXT NOT NULL,
  name TEXT NOT NULL,
  workflow_id TEXT,
  value TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (owner, name)
);
CREATE TABLE IF NOT EXISTS firings (
  task_id TEXT NOT NULL,
  firing_key TEXT NOT NULL,
  execution_id TEXT NOT NULL,
  PRIMARY KEY (task_id, firing_key)
);
`;

type Row = Record<string, SQLOutputValue>;

const num = (v: SQLOutputValue | undefined): number | null =>
  v === null || v === undefined ? null : Number(v);

export function toTask(r: Row): Task {
  return {
    id: String(r.id),
    owner: String(r.owner),
    name: String(r.name),
    workflow: JSON.parse(String(r.workflow)) as Workflow,
    status: String(r.status) as TaskStatus,
    startAt: Number(r.start_at),
    expiredAt: Number(r.expired_at),
    maxExecution: Number(r.max_execution),
    totalExecution: Number(r.total_execution),
    triggered: Number(r.triggered),
    lastRanAt: num(r.last_ran_at),
    createdAt: Number(r.created_at),
    completedAt: num(r.completed_at),
  };
}

export function toExecution(r: Row): Execution {
  return {
    id: String(r.id),
    taskId: String(r.task_id),
    owner: String(r.owner),
    index: Number(r.idx),
    status: String(r.status) as ExecutionStatus,
    triggerReason: JSON.parse(String(r.trigger_reason)) as TriggerReason,
    triggerData: JSON.parse(String(r.trigger_data)),
    queuedAt: Number(r.queued_at),
    startAt: num(r.start_at),
    endAt: num(r.end_at),
    error: r.error === null ? null : String(r.error),
    steps: JSON.parse(String(r.steps)),
    digest: r.digest === null ? null : String(r.digest),
    attempts: Number(r.attempts),
    taskNumber: num(r.task_number),
    txHash: r.tx_hash === null ? null : String(r.tx_hash),
    verdict: r.verdict === "approved" || r.verdict === "rejected" ? r.verdict : null,
    performer: r.performer === null || r.performer === undefined ? null : String(r.performer),
    chainId: num(r.chain_id),
    electedAt: num(r.elected_at),
    noVerdict: typeof r.no_verdict === "string" ? (JSON.parse(r.no_verdict) as NoVerdict) : null,
  };
}

/** A page of `limit` items out of `limit + 1` read: the extra one says there is a next page. */
export function page<T extends { id: string }>(items: T[], limit: number): Page<T> {
  const more = items.length > limit;
  const shown = more ? items.slice(0, limit) : items;
  return { items: shown, cursor: more ? shown[shown.length - 1]!.id : null };
}
