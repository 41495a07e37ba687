/**
 * The task engine's store: one `node:sqlite` file in WAL mode holding tasks, executions, the
 * queue of triggered executions, secrets and the engine's own signing key.
 *
 * The queue is a table with a lease (at-least-once delivery): a trigger inserts the execution
 * (status "queued") and its queue row in one transaction; a worker claims the oldest row whose
 * lease has run out; recording the result updates the execution only while it is not final and
 * deletes the queue row in the same transaction. A second delivery of the same execution (after
 * a crash) therefore records nothing: the record is idempotent by execution id.
 *
 * One engine process owns a store file: at start it takes back every lease (recover()).
 */

import type { ExecutionStep, Workflow } from "../workflow/index.js";
import { isFinal, statusAfterRecord, statusOnStart, type TriggerDecision } from "./lifecycle.js";
import { page, SCHEMA, toExecution, toTask } from "./rows.js";
import { SecretStore } from "./secret-store.js";
import type { Execution, ExecutionStatus, NoVerdict, Page, Task, TriggerReason } from "./types.js";
import { ulid } from "./ulid.js";

export interface ExecutionResult {
  status: Extract<ExecutionStatus, "success" | "failed" | "error">;
  error: string | null;
  steps: ExecutionStep[];
  startAt: number;
  endAt: number;
  digest: string;
}

export type EnqueueOutcome =
  | { ok: true; execution: Execution; duplicate?: boolean }
  | { ok: false; decision: Exclude<TriggerDecision, { ok: true }> }
  | { ok: false; decision: undefined };

export class TaskStore extends SecretStore {
  constructor(file: string) {
    super(file, SCHEMA);
    // a store made before executions were attested
    const columns = this.all("PRAGMA table_info(executions)").map((c) => String(c.name));
    if (!columns.includes("verdict")) this.db.exec("ALTER TABLE executions ADD COLUMN verdict TEXT");
    if (!columns.includes("record")) this.db.exec("ALTER TABLE executions ADD COLUMN record TEXT");
    // a store made before executions were performed by an elected operator
    for (const [column, type] of [
      ["performer", "TEXT"],
      ["chain_id", "INTEGER"],
      ["elected_at", "INTEGER"],
      // a store made before a task that ended without a verdict was told apart
      ["no_verdict", "TEXT"],
    ]) {
      if (!columns.includes(column!)) this.db.exec(`ALTER TABLE executions ADD COLUMN ${column} ${type}`);
    }
  }

  /**
   * Who performs the execution's AVS task, on which L2, elected on which number: kept before
   * the task is sent, so a restart sends the same task again instead of electing anew.
   */
  elected(id: string, e: { performer: string; chainId: number; electedAt: number }): void {
    this.run(
      "UPDATE executions SET performer = ?, chain_id = ?, elected_at = ? WHERE id = ?",
      e.performer,
      e.chainId,
      e.electedAt,
      id,
    );
  }

  /** The on-chain outcome of an execution's attestation. */
  attested(id: string, a: { taskNumber: number; txHash: string; verdict: "approved" | "rejected" }): void {
    const sql =
      "UPDATE executions SET task_number = ?, tx_hash = ?, verdict = ?, no_verdict = NULL, record = NULL WHERE id = ?";
    this.run(sql, a.taskNumber, a.txHash, a.verdict, id);
  }

  /**
   * No verdict is coming for the execution's task (as far as the engine knows). `final` when the
   * aggregator ended the task: nothing is sent again then; otherwise a restart follows it again.
   */
  noVerdict(id: string, why: NoVerdict, final: boolean): void {
    const sql = `UPDATE executions SET no_verdict = ?${final ? ", record = NULL" : ""} WHERE id = ?`;
    this.run(sql, JSON.stringify(why), id);
  }

  /** Executions sent for attestation that have no verdict yet, with their records. */
  unattested(): Array<{ execution: Execution; record: string }> {
    const rows = this.all(
      "SELECT * FROM executions WHERE record IS NOT NULL AND verdict IS NULL ORDER BY id",
    );
    return rows.map((r) => ({ execution: toExecution(r), record: String(r.record) }));
  }

  /** A value kept with the store (the token signing key), made by `make` the first time. */
  meta(key: string, make: () => string): string {
    return this.tx(() => {
      const row = this.one("SELECT value FROM meta WHERE key = ?", key);
      if (row) return String(row.value);
      const value = make();
      this.run("INSERT INTO meta (key, value) VALUES (?, ?)", key, value);
      return value;
    });
  }

  createTask({ owner, workflow, now }: { owner: string; workflow: Workflow; now: number }): Task {
    const id = ulid();
    this.run(
      `INSERT INTO tasks (id, owner, name, workflow, status, start_at, expired_at, max_execution, created_at)
       VALUES (?, ?, ?, ?, 'active', ?, ?, ?, ?)`,
      id,
      owner,
      workflow.name,
      JSON.stringify(workflow),
      workflow.startAt ?? 0,
      workflow.expiredAt ?? 0,
      workflow.maxExecution ?? 0,
      now,
    );
    return this.getTask(id)!;
  }

  getTask(id: string): Task | undefined {
    const row = this.one("SELECT * FROM tasks WHERE id = ?", id);
    return row ? toTask(row) : undefined;
  }

  /** The owner's tasks, newest first; `cursor` is the last id of the previous page. */
  listTasks(owner: string, opts: { status?: string; cursor?: string; limit: number }): Page<Task> {
    const rows = this.all(
      `SELECT * FROM tasks WHERE owner = ? AND (? IS NULL OR status = ?) AND (? IS NULL OR id < ?)
       ORDER BY id DESC LIMIT ?`,
      owner,
      opts.status ?? null,
      opts.status ?? null,
      opts.cursor ?? null,
      opts.cursor ?? null,
      opts.limit + 1,
    );
    return page(rows.map(toTask), opts.limit);
  }

  /**
   * Every owner's tasks that may still fire (active or executing), oldest first, for operators;
   * with `chainId`, only those whose trigger names that L2 (or names none, when it is
   * `defaultChainId`).
   */
  listLive(opts: { cursor?: string; limit: number; chainId?: number; defaultChainId?: number }): Page<Task> {
    const chain = opts.chainId ?? null;
    const rows = this.all(
      `SELECT * FROM tasks WHERE status IN ('active', 'executing') AND (? IS NULL OR id > ?)
       AND (? IS NULL OR COALESCE(json_extract(workflow, '$.trigger.config.chainId'), ?) = ?)
       ORDER BY id LIMIT ?`,
      opts.cursor ?? null,
      opts.cursor ?? null,
      chain,
      opts.defaultChainId ?? null,
      chain,
      opts.limit + 1,
    );
    return page(rows.map(toTask), opts.limit);
  }

  /** Removes the task, its executions, its queue rows and the secrets scoped to it. */
  deleteTask(id: string): boolean {
    return this.tx(() => {
      this.run("DELETE FROM queue WHERE task_id = ?", id);
      this.run("DELETE FROM executions WHERE task_id = ?", id);
      this.run("DELETE FROM secrets WHERE workflow_id = ?", id);
      this.run("DELETE FROM firings WHERE task_id = ?", id);
      return this.run("DELETE FROM tasks WHERE id = ?", id) > 0;
    });
  }

  /** Cancels a task that is not final; its queued executions end as "canceled". */
  cancelTask(id: string, now: number): Task | undefined {
    return this.tx(() => {
      const task = this.getTask(id);
      if (!task || isFinal(task.status)) return task;
      const queued = this.all("SELECT id FROM executions WHERE task_id = ? AND status = 'queued'", id);
      for (const row of queued) {
        this.run("DELETE FROM queue WHERE execution_id = ?", row.id as string);
        this.run(
          "UPDATE executions SET status = 'canceled', error = 'the task was canceled', end_at = ? WHERE id = ?",
          now,
          row.id as string,
        );
      }
      this.run("UPDATE tasks SET status = 'canceled', completed_at = ? WHERE id = ?", now, id);
      return this.getTask(id);
    });
  }

  /**
   * Accepts a trigger: asks `decide` about the task as it is inside the transaction, then
   * inserts the queued execution and its queue row (or completes an expired task). A firing
   * with a `key` already accepted gives back that execution, `duplicate`, whatever `decide` says.
   */
  enqueue(
    taskId: string,
    now: number,
    reason: TriggerReason,
    triggerData: unknown,
    decide: (task: Task) => TriggerDecision,
    key: string | null = null,
  ): EnqueueOutcome {
    return this.tx(() => {
      const task = this.getTask(taskId);
      if (!task) return { ok: false, decision: undefined };
      const seen =
        key === null
          ? undefined
          : this.one("SELECT execution_id FROM firings WHERE task_id = ? AND firing_key = ?", taskId, key);
      const earlier = seen ? this.getExecution(String(seen.execution_id)) : undefined;
      if (earlier) return { ok: true, execution: earlier, duplicate: true };
      const decision = decide(task);
      if (!decision.ok) {
        if (decision.expire) {
          this.run("UPDATE tasks SET status = 'completed', completed_at = ? WHERE id = ?", now, taskId);
        }
        return { ok: false, decision };
      }
      const id = ulid();
      this.run(
        `INSERT INTO executions (id, task_id, owner, idx, status, trigger_reason, trigger_data, queued_at)
         VALUES (?, ?, ?, ?, 'queued', ?, ?, ?)`,
        id,
        taskId,
        task.owner,
        task.triggered,
        JSON.stringify(reason),
        JSON.stringify(triggerData ?? null),
        now,
      );
      this.run("UPDATE tasks SET triggered = triggered + 1 WHERE id = ?", taskId);
      this.run("INSERT INTO queue (execution_id, task_id) VALUES (?, ?)", id, taskId);
      if (key !== null) this.run("INSERT INTO firings VALUES (?, ?, ?)", taskId, key, id);
      return { ok: true, execution: this.getExecution(id)! };
    });
  }

  /** Takes the oldest queued execution whose lease ran out, for `leaseMs`. */
  claim(worker: string, now: number, leaseMs: number): { execution: Execution; task: Task } | undefined {
    return this.tx(() => {
      for (;;) {
        const row = this.one(
          "SELECT execution_id, task_id FROM queue WHERE lease_until <= ? ORDER BY execution_id LIMIT 1",
          now,
        );
        if (!row) return undefined;
        const task = this.getTask(String(row.task_id));
        const execution = this.getExecution(String(row.execution_id));
        if (!task || !execution || (execution.status !== "queued" && execution.status !== "running")) {
          this.run("DELETE FROM queue WHERE execution_id = ?", row.execution_id as string);
          continue;
        }
        this.run(
          "UPDATE queue SET lease_until = ?, locked_by = ? WHERE execution_id = ?",
          now + leaseMs,
          worker,
          execution.id,
        );
        this.run(
          "UPDATE executions SET status = 'running', attempts = attempts + 1, start_at = ? WHERE id = ?",
          now,
          execution.id,
        );
        const status = statusOnStart(task.status);
        if (status !== task.status) this.run("UPDATE tasks SET status = ? WHERE id = ?", status, task.id);
        return { execution: this.getExecution(execution.id)!, task: this.getTask(task.id)! };
      }
    });
  }

  /**
   * Records an execution's result once: a second record of the same id (a replay after a crash)
   * changes nothing and returns undefined. Updates the task's counters and status.
   */
  record(
    executionId: string,
    result: ExecutionResult,
    now: number,
    /** The record to send for attestation, kept in the same write: a crash between two writes would lose it. */
    toAttest?: string,
  ): { execution: Execution; task: Task } | undefined {
    return this.tx(() => {
      const changed = this.run(
        `UPDATE executions SET status = ?, error = ?, steps = ?, start_at = ?, end_at = ?, digest = ?, record = ?
         WHERE id = ? AND status IN ('queued', 'running')`,
        result.status,
        result.error,
        JSON.stringify(result.steps),
        result.startAt,
        result.endAt,
        result.digest,
        toAttest ?? null,
        executionId,
      );
      this.run("DELETE FROM queue WHERE execution_id = ?", executionId);
      if (changed === 0) return undefined;
      const execution = this.getExecution(executionId)!;
      this.run(
        "UPDATE tasks SET total_execution = total_execution + 1, last_ran_at = ? WHERE id = ?",
        result.endAt,
        execution.taskId,
      );
      const task = this.getTask(execution.taskId)!;
      const running = Number(
        this.one("SELECT COUNT(*) AS n FROM executions WHERE task_id = ? AND status = 'running'", task.id)!.n,
      );
      const status = statusAfterRecord(task, result.status, running, now);
      if (status !== task.status) {
        this.run(
          "UPDATE tasks SET status = ?, completed_at = ? WHERE id = ?",
          status,
          isFinal(status) ? now : null,
          task.id,
        );
      }
      return { execution, task: this.getTask(task.id)! };
    });
  }

  /** At start: every lease is taken back (their holder is gone) and running work is queued again. */
  recover(): number {
    return this.tx(() => {
      this.run("UPDATE executions SET status = 'queued' WHERE status = 'running'");
      this.run("UPDATE tasks SET status = 'active' WHERE status = 'executing'");
      return this.run("UPDATE queue SET lease_until = 0, locked_by = NULL");
    });
  }

  /** Completes idle tasks whose expiredAt has passed; returns their ids. */
  expireDue(now: number): string[] {
    return this.tx(() => {
      const rows = this.all(
        "SELECT id FROM tasks WHERE status = 'active' AND expired_at > 0 AND expired_at <= ?",
        now,
      );
      for (const row of rows) {
        this.run(
          "UPDATE tasks SET status = 'completed', completed_at = ? WHERE id = ?",
          now,
          row.id as string,
        );
      }
      return rows.map((r) => String(r.id));
    });
  }

  queueDepth(): number {
    return Number(this.one("SELECT COUNT(*) AS n FROM queue")!.n);
  }

  getExecution(id: string): Execution | undefined {
    const row = this.one("SELECT * FROM executions WHERE id = ?", id);
    return row ? toExecution(row) : undefined;
  }

  /** A task's executions, newest first. */
  listExecutions(taskId: string, opts: { cursor?: string; limit: number }): Page<Execution> {
    const rows = this.all(
      "SELECT * FROM executions WHERE task_id = ? AND (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?",
      taskId,
      opts.cursor ?? null,
      opts.cursor ?? null,
      opts.limit + 1,
    );
    return page(rows.map(toExecution), opts.limit);
  }
}
