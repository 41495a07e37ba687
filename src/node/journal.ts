/**
 * The aggregator's task journal (node:sqlite). A task is written before sendTask is answered,
 * and a submission (nonce, raw signed transaction, its hash) is written before it is
 * broadcast, so a restarted aggregator knows every task it promised and every transaction it
 * may have sent: it resumes the first and reconciles the second with the chain, and each
 * accepted task ends on-chain exactly once.
 *
 * Writes made in one turn of the event loop share a transaction: a commit costs more than the
 * statements it holds (about 60% of the journal's time at one task per commit). Accepted tasks
 * and task ends wait for the commit at the end of the turn, which `durable()` awaits before an
 * answer goes out; a task's end lost to a crash is found again from its receipt. Everything
 * else commits before its call returns, with whatever the turn has written so far.
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";

export type TaskStatus =
  | "pending"
  | "submitting"
  | "approved"
  | "rejected"
  | "timeout"
  | "failed"
  /** Ended early: neither verdict could be reached any more (see `reason`). */
  | "unreachable";

/**
 * Why a task ended without a verdict (unreachable, or timed out): who abstained and why, and
 * the voting power connected against the power needed (decimal strings).
 */
export interface TaskEndReason {
  message: string;
  abstained: Array<{ attester: string; operatorId: number; reason: string }>;
  connectedPower: string;
  requiredPower: string;
}

export interface JournalTask {
  chainId: number;
  taskHash: string;
  proofOfTask: string;
  data: string;
  performer: string;
  taskDefinitionId: number;
  signatureType: "ecdsa" | "bls";
  /** ECDSA: 0x-hex; BLS: JSON `["0x..","0x.."]`. */
  signature: string;
  internal: boolean;
  acceptedAt: number;
  deadline: number;
  status: TaskStatus;
  isApproved?: boolean;
  attesterIds?: string[];
  txHash?: string;
  txNonce?: number;
  rawTx?: string;
  taskNumber?: number;
  error?: string;
  reason?: TaskEndReason;
  finishedAt?: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tasks (
  chain_id INTEGER NOT NULL,
  task_hash TEXT NOT NULL,
  proof_of_task TEXT NOT NULL,
  data TEXT NOT NULL,
  performer TEXT NOT NULL,
  task_definition_id INTEGER NOT NULL,
  signature_type TEXT NOT NULL,
  signature TEXT NOT NULL,
  internal INTEGER NOT NULL DEFAULT 0,
  accepted_at INTEGER NOT NULL,
  deadline INTEGER NOT NULL,
  status TEXT NOT NULL,
  is_approved INTEGER,
  attester_ids TEXT,
  tx_hash TEXT,
  tx_nonce INTEGER,
  raw_tx TEXT,
  task_number INTEGER,
  error TEXT,
  finished_at INTEGER,
  reason TEXT,
  PRIMARY KEY (chain_id, task_hash)
);
CREATE INDEX IF NOT EXISTS tasks_status ON tasks (status);
CREATE INDEX IF NOT EXISTS tasks_finished ON tasks (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS tasks_signed ON tasks (chain_id, finished_at) WHERE finished_at IS NOT NULL AND raw_tx IS NOT NULL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

type Row = Record<string, unknown>;

function fromRow(r: Row): JournalTask {
  const opt = <T>(v: unknown, f: (x: any) => T): T | undefined =>
    v === null || v === undefined ? undefined : f(v);
  return {
    chainId: Number(r.chain_id),
    taskHash: String(r.task_hash),
    proofOfTask: String(r.proof_of_task),
    data: String(r.data),
    performer: String(r.performer),
    taskDefinitionId: Number(r.task_definition_id),
    signatureType: String(r.signature_type) as "ecdsa" | "bls",
    signature: String(r.signature),
    internal: Number(r.internal) === 1,
    acceptedAt: Number(r.accepted_at),
    deadline: Number(r.deadline),
    status: String(r.status) as TaskStatus,
    isApproved: opt(r.is_approved, (v) => Number(v) === 1),
    attesterIds: opt(r.attester_ids, (v) => JSON.parse(String(v)) as string[]),
    txHash: opt(r.tx_hash, String),
    txNonce: opt(r.tx_nonce, Number),
    rawTx: opt(r.raw_tx, String),
    taskNumber: opt(r.task_number, Number),
    error: opt(r.error, String),
    reason: opt(r.reason, (v) => JSON.parse(String(v)) as TaskEndReason),
    finishedAt: opt(r.finished_at, Number),
  };
}

/**
 * Ended tasks the journal keeps by default: at 200 tasks/s the last four minutes, at a test's
 * few a second some hours. Their verdicts stay on-chain; what goes with the older ones is
 * what only the journal knows, such as why a task timed out or was unreachable (the intake
 * asks the chain about a resend it no longer holds: hasForgotten). Unbounded, a devnet under
 * load grew its journal by about 1 KB a task, and a restart read every settled task into
 * memory (200,000 tasks: 508 MB and 1.9 s).
 */
export const DEFAULT_KEEP_ENDED_TASKS = 50_000;

/**
 * Settled submissions per chain whose signed transaction the journal keeps, newest first: a
 * chain started again from an older state lost at most its last seconds (its state file is
 * saved every second, a whole copy of it every 10 s), and those transactions are sent again as
 * they were. At 200 tasks/s, 25 s; each is one to three kB.
 */
export const DEFAULT_KEEP_SIGNED_TXS = 5_000;

/** The meta key set once the bound has deleted a task. */
const FORGOTTEN_KEY = "forgotten";

/** Rows read at a time where the journal is walked from the newest end. */
const PAGE = 64;

export interface TaskJournalOptions {
  /** Ended tasks to keep; older ones are deleted, oldest end first (default 50,000). */
  keepEnded?: number;
  /** Settled submissions per chain that keep their signed transaction (default 5,000). */
  keepSignedTxs?: number;
}

/** The journal; `path` ":memory:" keeps nothing across restarts. */
export class TaskJournal {
  private readonly db: DatabaseSync;
  private readonly insertStmt: StatementSync;
  private readonly getStmt: StatementSync;
  private readonly submittingStmt: StatementSync;
  private readonly finalStmt: StatementSync;
  private readonly resetStmt: StatementSync;
  private readonly deadlineStmt: StatementSync;
  private readonly retryStmt: StatementSync;
  private readonly endedCountStmt: StatementSync;
  private readonly pruneStmt: StatementSync;
  private readonly settledPageStmt: StatementSync;
  private readonly signedCountStmt: StatementSync;
  private readonly unsignStmt: StatementSync;
  private readonly signedFromNonceStmt: StatementSync;
  private readonly resubmitStmt: StatementSync;
  private readonly keepEnded: number;
  private readonly keepSigned: number;
  /** Ends recorded between two checks of the bound: about a tenth of it, at most 1,000. */
  private readonly pruneEvery: number;
  private endsSincePrune = 0;
  private forgotten = false;

  /** A transaction is open: BEGIN was run and its COMMIT is still to come. */
  private open = false;
  /** batch() calls in progress; the outermost one commits. */
  private depth = 0;
  private commitAtTurnEnd: Promise<void> | undefined;

  constructor(path: string, opts: TaskJournalOptions = {}) {
    const keep = opts.keepEnded ?? DEFAULT_KEEP_ENDED_TASKS;
    if (!Number.isSafeInteger(keep) || keep < 1)
      throw new RangeError(`keepEnded: expected a positive integer, got ${keep}`);
    this.keepEnded = keep;
    const keepSigned = opts.keepSignedTxs ?? DEFAULT_KEEP_SIGNED_TXS;
    if (!Number.isSafeInteger(keepSigned) || keepSigned < 0)
      throw new RangeError(`keepSignedTxs: expected an integer >= 0, got ${keepSigned}`);
    this.keepSigned = keepSigned;
    this.pruneEvery = Math.min(1_000, Math.ceil(keep / 10));
    this.db = new DatabaseSync(path);
    // WAL without fsync per commit: a killed process loses nothing (the OS has the pages);
    // only a power cut could, and a devnet chain would not survive that either.
    this.db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
    this.db.exec(SCHEMA);
    // A journal written before tasks could end unreachable has no reason column yet.
    const columns = this.db.prepare("PRAGMA table_info(tasks)").all();
    if (!columns.some((c) => c.name === "reason")) this.db.exec("ALTER TABLE tasks ADD COLUMN reason TEXT");
    this.insertStmt = this.db.prepare(
      `INSERT OR IGNORE INTO tasks (chain_id, task_hash, proof_of_task, data, performer, task_definition_id,
        signature_type, signature, internal, accepted_at, deadline, status)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')`,
    );
    this.getStmt = this.db.prepare("SELECT * FROM tasks WHERE chain_id = ? AND task_hash = ?");
    this.submittingStmt = this.db.prepare(
      `UPDATE tasks SET status = 'submitting', is_approved = ?, attester_ids = ?, tx_hash = ?, tx_nonce = ?, raw_tx = ?
       WHERE chain_id = ? AND task_hash = ?`,
    );
    // A verdict keeps its signed transaction, to be sent again if its chain loses it.
    this.finalStmt = this.db.prepare(
      `UPDATE tasks SET status = ?1, task_number = coalesce(?2, task_number), error = ?3, finished_at = ?4,
        tx_hash = coalesce(?5, tx_hash), reason = ?6,
        raw_tx = CASE WHEN ?1 IN ('approved', 'rejected') AND (?5 IS NULL OR ?5 = tx_hash) THEN raw_tx END
       WHERE chain_id = ?7 AND task_hash = ?8`,
    );
    this.resetStmt = this.db.prepare(
      `UPDATE tasks SET status = 'pending', tx_hash = NULL, tx_nonce = NULL, raw_tx = NULL, finished_at = NULL, deadline = ?
       WHERE chain_id = ? AND task_hash = ?`,
    );
    this.deadlineStmt = this.db.prepare("UPDATE tasks SET deadline = ? WHERE chain_id = ? AND task_hash = ?");
    this.retryStmt = this.db.prepare(
      "DELETE FROM tasks WHERE chain_id = ? AND task_hash = ? AND status IN ('timeout', 'failed', 'unreachable')",
    );
    // only ended tasks have a finished_at: both walk the partial index, never the table
    this.endedCountStmt = this.db.prepare("SELECT count(*) AS n FROM tasks WHERE finished_at IS NOT NULL");
    this.pruneStmt = this.db.prepare(
      `DELETE FROM tasks WHERE rowid IN (
         SELECT rowid FROM tasks WHERE finished_at IS NOT NULL ORDER BY finished_at, rowid LIMIT ?)`,
    );
    this.settledPageStmt = this.db.prepare(
      `SELECT rowid AS seq, * FROM tasks INDEXED BY tasks_finished
       WHERE finished_at IS NOT NULL AND (finished_at, rowid) < (?, ?)
         AND chain_id = ? AND status IN ('approved', 'rejected') AND tx_hash IS NOT NULL
       ORDER BY finished_at DESC, rowid DESC LIMIT ${PAGE}`,
    );
    this.signedCountStmt = this.db.prepare(
      `SELECT chain_id, count(*) AS n FROM tasks INDEXED BY tasks_signed
       WHERE finished_at IS NOT NULL AND raw_tx IS NOT NULL GROUP BY chain_id`,
    );
    this.unsignStmt = this.db.prepare(
      `UPDATE tasks SET raw_tx = NULL WHERE rowid IN (
         SELECT rowid FROM tasks INDEXED BY tasks_signed
         WHERE chain_id = ? AND finished_at IS NOT NULL AND raw_tx IS NOT NULL
         ORDER BY finished_at, rowid LIMIT ?)`,
    );
    this.signedFromNonceStmt = this.db.prepare(
      `SELECT * FROM tasks INDEXED BY tasks_signed
       WHERE chain_id = ? AND finished_at IS NOT NULL AND raw_tx IS NOT NULL
         AND status IN ('approved', 'rejected') AND tx_nonce >= ?
       ORDER BY finished_at DESC, rowid DESC`,
    );
    this.resubmitStmt = this.db.prepare(
      `UPDATE tasks SET status = 'submitting', task_number = NULL, error = NULL, finished_at = NULL
       WHERE chain_id = ? AND task_hash = ? AND status IN ('approved', 'rejected') AND raw_tx IS NOT NULL`,
    );
    this.forgotten = this.getMeta(FORGOTTEN_KEY) === "1";
    // a journal written before the bound (or under a larger one) comes down to it at once
    this.batch(() => this.prune());
  }

  /** Deletes the oldest ended tasks beyond the bound, and the oldest signed transactions beyond theirs. */
  private prune(): void {
    this.endsSincePrune = 0;
    for (const row of this.signedCountStmt.all()) {
      const excess = Number(row.n) - this.keepSigned;
      if (excess > 0) this.unsignStmt.run(Number(row.chain_id), excess);
    }
    const ended = Number((this.endedCountStmt.get() as { n: number }).n);
    if (ended <= this.keepEnded) return;
    this.pruneStmt.run(ended - this.keepEnded);
    if (!this.forgotten) {
      this.setMeta(FORGOTTEN_KEY, "1");
      this.forgotten = true;
    }
  }

  /**
   * Whether the bound ever deleted a task, in this run or an earlier one: from then on a task
   * the journal does not hold may still be on-chain.
   */
  hasForgotten(): boolean {
    return this.forgotten;
  }

  /**
   * Runs `fn` with every write in one transaction, committed (with whatever this turn wrote
   * before) when the outermost batch returns.
   */
  batch<T>(fn: () => T): T {
    this.begin();
    this.depth++;
    try {
      return fn();
    } finally {
      this.depth--;
      if (this.depth === 0) this.commit();
    }
  }

  /** Resolves once the writes made so far are committed. */
  durable(): Promise<void> {
    // set while the turn's transaction is open; a batch() commits before it returns
    return this.commitAtTurnEnd ?? Promise.resolve();
  }

  /** Opens the turn's transaction if none is open; it commits when the turn ends. */
  private inTurn(): void {
    if (this.open) return;
    this.begin();
    const committed = new Promise<void>((resolve, reject) =>
      setImmediate(() => {
        try {
          this.commit();
          resolve();
        } catch (error) {
          reject(error);
        }
      }),
    );
    // Nobody may be waiting (a task's end): its failure is then the next write's to report.
    committed.catch(() => undefined);
    this.commitAtTurnEnd = committed;
  }

  private begin(): void {
    if (this.open) return;
    this.db.exec("BEGIN");
    this.open = true;
  }

  private commit(): void {
    if (!this.open) return;
    this.open = false;
    this.commitAtTurnEnd = undefined;
    try {
      this.db.exec("COMMIT");
    } catch (error) {
      if (this.db.isOpen) this.db.exec("ROLLBACK");
      throw error;
    }
  }

  /**
   * Records an accepted task; false when it was already known (a resent task). With `replace`,
   * a timed-out, failed or unreachable task of the same hash starts over. Committed at the end
   * of the turn: await durable() before answering.
   */
  insert(task: Omit<JournalTask, "status"> & { replace?: boolean }): boolean {
    this.inTurn();
    if (task.replace) this.retryStmt.run(task.chainId, task.taskHash);
    const result = this.insertStmt.run(
      task.chainId,
      task.taskHash,
      task.proofOfTask,
      task.data,
      task.performer,
      task.taskDefinitionId,
      task.signatureType,
      task.signature,
      task.internal ? 1 : 0,
      task.acceptedAt,
      task.deadline,
    );
    return Number(result.changes) > 0;
  }

  get(chainId: number, taskHash: string): JournalTask | undefined {
    const row = this.getStmt.get(chainId, taskHash);
    return row ? fromRow(row) : undefined;
  }

  /** Records a signed submission before it is broadcast (committed when the call, or its batch, returns). */
  markSubmitting(
    chainId: number,
    taskHash: string,
    s: { isApproved: boolean; attesterIds: string[]; txHash: string; nonce: number; rawTx: string },
  ): void {
    this.batch(() =>
      this.submittingStmt.run(
        s.isApproved ? 1 : 0,
        JSON.stringify(s.attesterIds),
        s.txHash,
        s.nonce,
        s.rawTx,
        chainId,
        taskHash,
      ),
    );
  }

  /** Records the end of a task (committed at the end of the turn). */
  markFinal(
    chainId: number,
    taskHash: string,
    status: Exclude<TaskStatus, "pending" | "submitting">,
    extra: { taskNumber?: number; error?: string; txHash?: string; reason?: TaskEndReason } = {},
  ): void {
    this.inTurn();
    this.finalStmt.run(
      status,
      extra.taskNumber ?? null,
      extra.error ?? null,
      Date.now(),
      extra.txHash ?? null,
      extra.reason ? JSON.stringify(extra.reason) : null,
      chainId,
      taskHash,
    );
    if (++this.endsSincePrune >= this.pruneEvery) this.prune();
  }

  /** Puts a task whose transaction was lost back to vote collection. */
  resetToPending(chainId: number, taskHash: string, deadline: number): void {
    this.batch(() => this.resetStmt.run(deadline, chainId, taskHash));
  }

  setDeadline(chainId: number, taskHash: string, deadline: number): void {
    this.batch(() => this.deadlineStmt.run(deadline, chainId, taskHash));
  }

  /** Tasks in a state, oldest first. */
  byStatus(status: TaskStatus): JournalTask[] {
    return this.db
      .prepare("SELECT * FROM tasks WHERE status = ? ORDER BY accepted_at, rowid")
      .all(status)
      .map(fromRow);
  }

  /**
   * Finished tasks of a chain that carry a transaction, newest first: the end that a chain
   * restarted from an older state file (anvil saves it every interval) may have lost.
   */
  *settledNewestFirst(chainId: number): Generator<JournalTask> {
    // Read a page at a time: a restart usually stops at the first task, and the caller may
    // forget tasks between two pages.
    let before: [number, number] = [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
    for (;;) {
      const rows = this.settledPageStmt.all(before[0], before[1], chainId);
      for (const row of rows) yield fromRow(row);
      if (rows.length < PAGE) return;
      const last = rows[rows.length - 1]!;
      before = [Number(last.finished_at), Number(last.seq)];
    }
  }

  /**
   * Settled submissions of a chain at nonce `fromNonce` or above that still hold their signed
   * transaction, newest end first: what a chain whose nonce went back to `fromNonce` lost.
   */
  signedFromNonce(chainId: number, fromNonce: number): JournalTask[] {
    return this.signedFromNonceStmt.all(chainId, fromNonce).map(fromRow);
  }

  /**
   * Puts a verdict whose transaction its chain lost back to submitting, with the same signed
   * transaction; false when the task holds none (or is no verdict).
   */
  resubmit(chainId: number, taskHash: string): boolean {
    return this.batch(() => Number(this.resubmitStmt.run(chainId, taskHash).changes) > 0);
  }

  /** Forgets a task, so the journal never claims what its chain does not hold. */
  forget(chainId: number, taskHash: string): void {
    this.batch(() =>
      this.db.prepare("DELETE FROM tasks WHERE chain_id = ? AND task_hash = ?").run(chainId, taskHash),
    );
  }

  /** Counts per status (for health output). */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const row of this.db.prepare("SELECT status, count(*) AS n FROM tasks GROUP BY status").all()) {
      out[String(row.status)] = Number(row.n);
    }
    return out;
  }

  getMeta(key: string): string | undefined {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = ?").get(key);
    return row ? String(row.value) : undefined;
  }

  setMeta(key: string, value: string): void {
    this.batch(() =>
      this.db
        .prepare(
          "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        )
        .run(key, value),
    );
  }

  close(): void {
    if (!this.db.isOpen) return;
    this.commit();
    this.db.close();
  }
}
