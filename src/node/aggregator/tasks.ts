/**
 * The aggregator's explicit state: the chains it serves and the tasks in flight, with the
 * journal as their durable record. Every part (intake, votes, submission, recovery, RPC
 * surface) reads and changes tasks through this book, so "live or journaled" is decided once.
 */

import type { G1, G2 } from "../../crypto/bls.js";
import type { ChainView, TaskDefinitionInfo } from "../chain-view.js";
import type { TaskConsensus } from "../consensus.js";
import type { JournalTask, TaskEndReason, TaskJournal, TaskStatus } from "../journal.js";
import { RpcError } from "../json-rpc.js";
import type { Logger } from "../log.js";
import type { NodeMetrics } from "../metrics.js";
import type { L2Target, RequestLimits } from "../options.js";
import type { RpcClient } from "../rpc-client.js";
import type { Signer } from "../signer.js";
import type { TaskMessage } from "../transport.js";
import type { TxPipeline } from "../tx-pipeline.js";
import type { Verdict } from "../votes.js";

/** One served L2 and what the aggregator keeps for it. */
export interface ChainCtx {
  target: L2Target;
  view: ChainView;
  rpc: RpcClient;
  pipeline: TxPipeline;
  /** Aggregated G2 keys by signer set ("2,3,4"). */
  aggKeys: Map<string, G2>;
}

/** A task between acceptance and its end. */
export interface LiveTask {
  key: string;
  chain: ChainCtx;
  msg: TaskMessage;
  signatureType: "ecdsa" | "bls";
  /** ECDSA hex, or the BLS [x, y]. */
  signature: string | G1;
  internal: boolean;
  def: TaskDefinitionInfo;
  consensus: TaskConsensus;
  startedAt: number;
  voteHashes: Partial<Record<Verdict, string>>;
  /** Each verdict's message point and its hashToPointWitness (verification.ts votePointOf). */
  votePoints: Partial<Record<Verdict, VotePoint>>;
}

/** A vote hash's point on the curve, and the witness that proves it (null when none exists). */
export interface VotePoint {
  point: G1;
  witness: bigint[] | null;
}

export interface TaskStatusReport {
  taskHash: string;
  chainId: number;
  status: JournalTask["status"];
  taskDefinitionId: number;
  performer: string;
  proofOfTask: string;
  internal: boolean;
  isApproved: boolean | null;
  attestersIds: number[];
  txHash: string | null;
  taskNumber: number | null;
  error: string | null;
  /** Why an unreachable or timed-out task got no verdict; null otherwise. */
  reason: TaskEndReason | null;
  acceptedAt: number;
  finishedAt: number | null;
}

/** What every part of the aggregator shares. */
export interface AggregatorContext {
  wallet: Signer;
  privateKey: string;
  log: Logger;
  metrics: NodeMetrics;
  tasks: TaskBook;
  chains: ChainCtx[];
  limits: RequestLimits;
  taskTimeoutMs: number;
  signal: AbortSignal;
  /** Set once stop() begins: late callbacks must not touch the journal any more. */
  state: { stopping: boolean };
  /** Addresses of the attesters connected now (set once the hub runs). */
  connectedAttesters: () => string[];
  /** performance.now() when the port opened: attesters are still dialing for a moment (reachability.ts). */
  startedAt: number;
  /** How long that moment lasts (reachability.ts). */
  joinGraceMs: number;
}

/** Task ends remembered for the pace estimate, and how far back it looks. */
const ENDS_KEPT = 256;
const RATE_WINDOW_MS = 5_000;

export const taskKey = (chainId: number, hash: string): string => `${chainId}:${hash.toLowerCase()}`;

/** Tasks in flight (in memory) over the journal (on disk). */
export class TaskBook {
  private readonly live = new Map<string, LiveTask>();
  /** When the latest tasks ended (a ring), for the pace behind OVERLOADED's retryAfterMs. */
  private readonly ends: number[] = [];
  private endIndex = 0;

  constructor(
    readonly journal: TaskJournal,
    private readonly metrics: NodeMetrics,
  ) {}

  get size(): number {
    return this.live.size;
  }

  get(chainId: number, hash: string): LiveTask | undefined {
    return this.live.get(taskKey(chainId, hash));
  }

  values(): IterableIterator<LiveTask> {
    return this.live.values();
  }

  add(task: LiveTask): void {
    this.live.set(task.key, task);
    this.metrics.pendingTasks.set(this.live.size);
  }

  /**
   * Takes a task out of memory and journals nothing: alone, for a task whose acceptance never
   * reached the journal; finish() journals the end of the others.
   */
  drop(task: LiveTask): void {
    task.consensus.phase = "done";
    this.live.delete(task.key);
    this.metrics.pendingTasks.set(this.live.size);
  }

  /** Ends a task: it leaves memory and its final status is journaled. */
  finish(
    task: LiveTask,
    status: Exclude<TaskStatus, "pending" | "submitting">,
    extra: { taskNumber?: number; error?: string; txHash?: string; reason?: TaskEndReason } = {},
  ): void {
    this.drop(task);
    this.ends[this.endIndex] = performance.now();
    this.endIndex = (this.endIndex + 1) % ENDS_KEPT;
    this.journal.markFinal(task.chain.target.chainId, task.msg.taskHash, status, extra);
  }

  /** Tasks ended per second over the last few seconds (0 when none ended lately). */
  endRate(now = performance.now()): number {
    const recent = this.ends.filter((t) => now - t <= RATE_WINDOW_MS);
    if (recent.length < 2) return recent.length === 1 ? 1000 / RATE_WINDOW_MS : 0;
    const span = Math.max(now - Math.min(...recent), 1);
    return (recent.length * 1000) / span;
  }

  /** The messages of tasks still collecting votes (replayed to an attester that joins). */
  collecting(): TaskMessage[] {
    return [...this.live.values()].filter((t) => t.consensus.phase === "collecting").map((t) => t.msg);
  }

  /**
   * Whether a task is already taken care of: live, or journaled as anything but a timeout, a
   * failure or unreachable (those may be sent again and get a new attempt).
   */
  isKnown(chainId: number, hash: string): boolean {
    if (this.live.has(taskKey(chainId, hash))) return true;
    const status = this.journal.get(chainId, hash)?.status;
    return status !== undefined && status !== "timeout" && status !== "failed" && status !== "unreachable";
  }

  /**
   * A re-sent task is answered with the task it repeats, so a client can tell "already there"
   * from "accepted now" and never counts one task twice. `onChain`: the journal no longer holds
   * it, the chain does (see TaskJournal.hasForgotten).
   */
  knownTask(chainId: number, hash: string, onChain = false): RpcError {
    const row = onChain ? undefined : this.journal.get(chainId, hash);
    const status = onChain ? "on-chain" : (row?.status ?? "pending");
    const message = onChain
      ? `task ${hash} is already on-chain`
      : `task ${hash} is already known (${status})`;
    return new RpcError("TASK_KNOWN", message, {
      taskHash: hash,
      chainId,
      status,
      taskNumber: row?.taskNumber ?? null,
      txHash: row?.txHash ?? null,
    });
  }

  /** Whether a journaled task is still undecided (pending or submitting). */
  isOpen(chainId: number, hash: string): boolean {
    const status = this.journal.get(chainId, hash)?.status;
    return status === "pending" || status === "submitting";
  }

  /** What became of a task, looked up on the given chains in order. */
  report(taskHash: string, chainIds: number[]): TaskStatusReport | undefined {
    for (const id of chainIds) {
      const row = this.journal.get(id, taskHash.toLowerCase());
      if (!row) continue;
      return {
        taskHash: row.taskHash,
        chainId: row.chainId,
        status: row.status,
        taskDefinitionId: row.taskDefinitionId,
        performer: row.performer,
        proofOfTask: row.proofOfTask,
        internal: row.internal,
        isApproved: row.isApproved ?? null,
        attestersIds: (row.attesterIds ?? []).map(Number),
        txHash: row.txHash ?? null,
        taskNumber: row.taskNumber ?? null,
        error: row.error ?? null,
        reason: row.reason ?? null,
        acceptedAt: row.acceptedAt,
        finishedAt: row.finishedAt ?? null,
      };
    }
    return undefined;
  }
}
