/**
 * Tasks as they flow, built line by line from the nodes' JSON logs: the same steps `task trace`
 * reads (stepOf), applied one at a time as the merged log stream delivers them, so the feed and
 * the trace never disagree about what a line means. The chain completes what logs cannot: the
 * verdict event (proof, data, task number) and the submission's gas.
 */

import { isInternalTaskDefinitionId } from "../chain/well-known.js";
import type { TaskVerdict } from "../client/verdicts.js";
import type { LogEntry } from "../devnet/logs.js";
import { stepOf } from "../task/trace.js";
import type { InternalTask, Task } from "./types.js";

/** Tasks kept, most recent first in the snapshot. */
export const MAX_TASKS = 200;
const MAX_INTERNAL = 100;

export type TaskChange = { kind: "task"; task: Task } | { kind: "internal"; task: InternalTask };

const timeOf = (entry: LogEntry): number =>
  entry.record.time === null ? Date.now() : Date.parse(entry.record.time);

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

export class TaskBook {
  private readonly tasks = new Map<string, Task>();
  private readonly internal = new Map<string, InternalTask>();
  /**
   * Tasks whose submission time is the aggregator's log line: the block's time (whole seconds)
   * only stands in for it until the line is read, however late that is.
   */
  private readonly submissionLogged = new WeakSet<Task>();

  /** `attesters`: component name -> operator id, to name who validated and voted. */
  constructor(private readonly attesters: ReadonlyMap<string, number>) {}

  get(hash: string): Task | undefined {
    return this.tasks.get(hash.toLowerCase());
  }

  /** Most recent first. */
  list(): Task[] {
    return [...this.tasks.values()].reverse();
  }

  internalTasks(): InternalTask[] {
    return [...this.internal.values()].reverse();
  }

  /** Tasks decided on-chain, for the metrics. */
  decided(): Task[] {
    return [...this.tasks.values()].filter((t) => t.verdict === "approved" || t.verdict === "rejected");
  }

  /**
   * Failed tasks whose submission's gas is still unknown, by the transaction that carried it:
   * a reverted transaction has a receipt (and gas) but no verdict event.
   */
  gasWanted(hash: string): string | undefined {
    const t = this.get(hash);
    if (t?.verdict !== "failed" || !t.submission || t.submission.gasUsed !== null) return undefined;
    return t.submission.txHash;
  }

  /** The gas of a failed task's submission, from its receipt. */
  applyGas(hash: string, txHash: string, gasUsed: string): TaskChange | undefined {
    const t = this.get(hash);
    if (!t?.submission || t.submission.txHash !== txHash) return undefined;
    t.submission.gasUsed = gasUsed;
    return { kind: "task", task: t };
  }

  private task(hash: string): Task {
    const key = hash.toLowerCase();
    let t = this.tasks.get(key);
    if (!t) {
      t = {
        taskHash: key,
        taskDefinitionId: null,
        proofOfTask: null,
        data: null,
        performer: null,
        sentAt: null,
        validations: [],
        votes: [],
      };
      this.tasks.set(key, t);
      if (this.tasks.size > MAX_TASKS) this.tasks.delete(this.tasks.keys().next().value!);
    }
    return t;
  }

  private internalTask(hash: string, at: number): InternalTask {
    const key = hash.toLowerCase();
    let t = this.internal.get(key);
    if (!t) {
      t = { kind: "voting-power-sync", taskHash: key, at, detail: "voting-power sync started" };
      this.internal.set(key, t);
      if (this.internal.size > MAX_INTERNAL) this.internal.delete(this.internal.keys().next().value!);
    }
    return t;
  }

  /** Applies one log line; returns what it changed, if anything. */
  apply(entry: LogEntry): TaskChange | undefined {
    const r = entry.record;
    const at = timeOf(entry);
    const hash = str(r.taskHash)?.toLowerCase();
    if (r.msg === "VOTING_POWER_SYNC proposed" && hash) {
      const t = this.internalTask(hash, at);
      t.detail = `voting-power sync on chain ${r.chainId}: ${r.increases} increase(s), ${r.decreases} decrease(s) (L1 block ${r.toBlockL1}, L2 block ${r.toBlockL2})`;
      return { kind: "internal", task: t };
    }
    const step = stepOf(entry);
    if (!step || !hash) return undefined;
    if (step.step === "received" && step.internal === true) {
      return { kind: "internal", task: this.internalTask(hash, at) };
    }
    const internal = this.internal.get(hash);
    if (internal) {
      if (step.step !== "submission") return undefined;
      internal.txHash = str(step.txHash) ?? internal.txHash;
      if (typeof r.taskNumber === "number") internal.taskNumber = r.taskNumber;
      if (step.error !== undefined) internal.detail = `${internal.detail}; submission failed: ${step.error}`;
      return { kind: "internal", task: internal };
    }
    const t = this.task(hash);
    const operatorId = this.attesters.get(r.component) ?? null;
    switch (step.step) {
      case "received":
        t.sentAt = at;
        t.taskDefinitionId = Number(r.taskDefinitionId);
        t.performer = str(r.performer) ?? t.performer;
        t.proofOfTask = str(r.proofOfTask) ?? t.proofOfTask;
        t.data = typeof r.data === "string" ? r.data : t.data;
        if (str(r.signatureType)) t.signatureType = str(r.signatureType);
        break;
      case "validation-call":
        this.validation(t, r.component, operatorId, at);
        break;
      case "validation-answer": {
        const v = this.validation(t, r.component, operatorId, at);
        v.answer = typeof step.result === "boolean" ? step.result : null;
        v.at = at;
        const why = str(r.reason) ?? str(r.message);
        if (why) v.reason = why;
        break;
      }
      case "abstain":
        this.vote(t, r.component, operatorId, "abstain", at, str(r.reason));
        break;
      case "vote":
        this.vote(t, r.component, operatorId, step.isApproved ? "approve" : "reject", at);
        break;
      case "threshold":
        t.threshold = { verdict: String(step.verdict), at };
        break;
      case "timeout":
        t.error = "timed out: no threshold reached";
        // ended by the aggregator: no verdict will come, so it is not pending
        if (!t.verdict) t.verdict = "timeout";
        break;
      case "unreachable":
        t.error = `unreachable: ${str(r.reason) ?? "no verdict can be reached"}`;
        if (!t.verdict) t.verdict = "unreachable";
        break;
      case "submission": {
        const txHash = str(step.txHash);
        if (step.error !== undefined) {
          t.error = `submission failed: ${step.error}`;
          // the aggregator has given up on it (the journal says failed); a verdict the chain
          // holds after all still replaces this
          if (!t.verdict) t.verdict = "failed";
        }
        if (txHash) {
          const gasUsed = t.submission?.txHash === txHash ? t.submission.gasUsed : null;
          t.submission = { txHash, gasUsed, at };
          this.submissionLogged.add(t);
        }
        if (typeof r.taskNumber === "number") t.taskNumber = r.taskNumber;
        // approved or rejected comes from the chain (applyVerdict), never from this line:
        // after a snapshot restore the logs still tell of tasks the chain no longer holds
        break;
      }
      default:
        return undefined;
    }
    settleLatency(t);
    return { kind: "task", task: t };
  }

  private validation(t: Task, attester: string, operatorId: number | null, at: number) {
    let v = t.validations.find((x) => x.attester === attester);
    if (!v) {
      v = { attester, operatorId, answer: null, at };
      t.validations.push(v);
    }
    return v;
  }

  private vote(
    t: Task,
    attester: string,
    operatorId: number | null,
    verdict: "approve" | "reject" | "abstain",
    at: number,
    reason?: string,
  ): void {
    t.votes = t.votes.filter((v) => v.attester !== attester);
    t.votes.push({ attester, operatorId, verdict, at, ...(reason ? { reason } : {}) });
  }

  /**
   * The chain's word on a task: its verdict event, the gas of the transaction that carried it
   * and the time of its block (epoch ms). A task the logs never showed (logs rotated, a devnet
   * older than this view) still appears.
   */
  applyVerdict(v: TaskVerdict, gasUsed: string | null, blockTime: number): TaskChange {
    const hash = v.taskHash.toLowerCase();
    const internal =
      this.internal.get(hash) ??
      (isInternalTaskDefinitionId(v.taskDefinitionId) ? this.internalTask(hash, blockTime) : undefined);
    if (internal) {
      internal.taskNumber = v.taskNumber;
      internal.txHash = v.txHash;
      return { kind: "internal", task: internal };
    }
    const t = this.task(hash);
    t.taskNumber = v.taskNumber;
    t.taskDefinitionId ??= v.taskDefinitionId;
    t.proofOfTask = v.proofOfTask;
    t.data = v.data;
    t.performer ??= v.performer;
    if (t.verdict !== undefined && t.verdict !== "approved" && t.verdict !== "rejected") delete t.error;
    t.verdict = v.status;
    const logged = t.submission !== undefined && this.submissionLogged.has(t);
    t.submission = { txHash: v.txHash, gasUsed, at: logged ? t.submission!.at : blockTime };
    settleLatency(t);
    return { kind: "task", task: t };
  }

  /** Whether a verdict is one of the internal tasks (kept apart from the project's tasks). */
  isInternal(hash: string): boolean {
    return this.internal.has(hash.toLowerCase());
  }
}

/**
 * Sent to decided, from the task's own times, again whenever one of them changes: the chain's
 * verdict and the aggregator's lines come from different sources, in any order, and the
 * submission line's time replaces the block's when it is read.
 */
function settleLatency(t: Task): void {
  if (t.sentAt === null || !t.submission || (t.verdict !== "approved" && t.verdict !== "rejected")) return;
  t.latencyMs = Math.max(0, t.submission.at - t.sentAt);
}
