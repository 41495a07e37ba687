import type { Provider } from "ethers";
import { AvsctlError, isAvsctlError } from "../errors.js";
import { type LatencySummary, percentiles, type SentTask } from "./send.js";
import { type TaskVerdict, waitForVerdicts } from "./verdicts.js";

/** One task's outcome, as `task send --json` prints it (CLI.md). */
export interface TaskResult {
  status: "approved" | "rejected" | "timeout" | "sent" | "failed";
  taskNumber: number | null;
  taskDefinitionId: number;
  proofOfTask: string;
  performer: string;
  chainId: number;
  txHash: string | null;
  attestersIds: number[];
  gasUsed: string | null;
  latencyMs: number | null;
  taskHash: string;
  error?: string;
}

export interface LoadSummary {
  sent: number;
  approved: number;
  rejected: number;
  timedOut: number;
  failed: number;
  latencyMs: LatencySummary;
  throughputPerSec: number;
  durationMs: number;
  results: TaskResult[];
}

export interface RunOptions {
  count: number;
  concurrency: number;
  /** Tasks per second at most (undefined: as fast as the concurrency allows). */
  rate?: number;
  wait: boolean;
  timeoutMs: number;
  chainId: number;
  provider?: Provider;
  attestationCenter?: string;
  /** Sends one task; retried on connection failures until the deadline when waiting. */
  sendOne: (index: number) => Promise<SentTask>;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A send that hangs (a frozen aggregator) must not outlive --timeout. */
async function beforeDeadline<T>(work: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new AvsctlError("TIMEOUT", "the aggregator did not answer before the deadline")),
      Math.max(0, deadline - Date.now()),
    );
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

function isTransient(error: unknown): boolean {
  return isAvsctlError(error) && (error.code === "RPC_UNREACHABLE" || error.code === "TIMEOUT");
}

/**
 * Sends `count` tasks with bounded concurrency and rate, then (with `wait`) follows the chain
 * until each has a verdict or the deadline passes. Bounded in count and time.
 */
export async function runTasks(opts: RunOptions): Promise<LoadSummary> {
  const started = Date.now();
  const deadline = started + opts.timeoutMs;
  const fromBlock = opts.wait && opts.provider ? await opts.provider.getBlockNumber() : 0;
  const sent: Array<SentTask | { error: unknown; index: number }> = new Array(opts.count);
  let next = 0;
  let done = 0;
  const interval = opts.rate ? 1000 / opts.rate : 0;

  const worker = async () => {
    for (;;) {
      const index = next++;
      if (index >= opts.count || opts.signal?.aborted) return;
      if (interval) {
        const due = started + index * interval;
        if (due > Date.now()) await sleep(due - Date.now());
      }
      for (;;) {
        try {
          sent[index] = await beforeDeadline(opts.sendOne(index), deadline);
          break;
        } catch (error) {
          // With --wait a task may ride out an aggregator restart; the deadline still bounds it.
          if (opts.wait && isTransient(error) && Date.now() + 250 < deadline) {
            await sleep(250);
            continue;
          }
          sent[index] = { error, index };
          break;
        }
      }
      opts.onProgress?.(++done, opts.count);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency, opts.count)) }, worker));

  const ok = sent.filter((s): s is SentTask => s !== undefined && "taskHash" in s);
  let verdicts = new Map<string, TaskVerdict>();
  const seenAt = new Map<string, number>();
  if (opts.wait && opts.provider && opts.attestationCenter && ok.length > 0) {
    verdicts = await waitForVerdicts(
      {
        provider: opts.provider,
        attestationCenter: opts.attestationCenter,
        chainId: opts.chainId,
        fromBlock,
      },
      ok.map((s) => s.taskHash),
      {
        deadline,
        signal: opts.signal,
        pollMs: 50,
        onVerdict: (v) => seenAt.set(v.taskHash.toLowerCase(), Date.now()),
      },
    );
  }

  const gas = new Map<string, string>();
  if (opts.provider && verdicts.size > 0 && verdicts.size <= 20) {
    await Promise.all(
      [...verdicts.values()].map(async (v) => {
        const receipt = await opts.provider!.getTransactionReceipt(v.txHash);
        if (receipt) gas.set(v.txHash, receipt.gasUsed.toString());
      }),
    );
  }

  const results: TaskResult[] = sent.map((s) => {
    if (!s || !("taskHash" in s)) {
      const e = s?.error;
      return {
        status: opts.wait && isTransient(e) ? "timeout" : "failed",
        taskNumber: null,
        taskDefinitionId: 0,
        proofOfTask: "",
        performer: "",
        chainId: opts.chainId,
        txHash: null,
        attestersIds: [],
        gasUsed: null,
        latencyMs: null,
        taskHash: "",
        error: e instanceof Error ? e.message : String(e),
      };
    }
    const v = verdicts.get(s.taskHash.toLowerCase());
    const base = {
      status: "sent" as TaskResult["status"],
      taskNumber: null as number | null,
      taskDefinitionId: s.taskDefinitionId,
      proofOfTask: s.proofOfTask,
      performer: s.performer,
      chainId: opts.chainId,
      taskHash: s.taskHash,
    };
    if (!v) {
      return {
        ...base,
        status: opts.wait ? "timeout" : "sent",
        taskNumber: null,
        txHash: null,
        attestersIds: [],
        gasUsed: null,
        latencyMs: null,
      };
    }
    return {
      ...base,
      status: v.status,
      taskNumber: v.taskNumber,
      txHash: v.txHash,
      attestersIds: v.attestersIds,
      gasUsed: gas.get(v.txHash) ?? null,
      latencyMs: (seenAt.get(v.taskHash.toLowerCase()) ?? Date.now()) - s.sentAt,
    };
  });

  const durationMs = Date.now() - started;
  const latencies = results.map((r) => r.latencyMs).filter((l): l is number => l !== null);
  const approved = results.filter((r) => r.status === "approved").length;
  return {
    sent: ok.length,
    approved,
    rejected: results.filter((r) => r.status === "rejected").length,
    timedOut: results.filter((r) => r.status === "timeout").length,
    failed: results.filter((r) => r.status === "failed").length,
    latencyMs: percentiles(latencies),
    throughputPerSec:
      durationMs > 0 ? Math.round(((opts.wait ? approved : ok.length) * 1000 * 100) / durationMs) / 100 : 0,
    durationMs,
    results,
  };
}
