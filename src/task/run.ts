import type { Provider } from "ethers";
import type { SentTask } from "../client/send.js";
import { lookupVerdicts, type TaskVerdict, waitForVerdicts } from "../client/verdicts.js";
import { AvsctlError, isAvsctlError } from "../errors.js";
import { sleep } from "../util/sleep.js";

/** One task's outcome, as `task send --json` prints it (docs/cli.md#task-send). */
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
  /** This send repeated a task: sent earlier in this run, or already known to the network. */
  duplicate?: boolean;
  error?: string;
}

/**
 * A run's outcome. Sends and tasks are counted apart: identical sends are one task on-chain, so
 * `approved`, `rejected` and `timedOut` count distinct tasks, each by its verdict on-chain.
 */
export interface LoadSummary {
  /** Sends the network accepted (new tasks and repeats alike). */
  sent: number;
  /** Distinct tasks among them (by task hash). */
  distinct: number;
  /** Sends that repeated a task sent earlier in this run. */
  duplicates: number;
  /** Distinct tasks the network already had before this run. */
  alreadyKnown: number;
  approved: number;
  rejected: number;
  timedOut: number;
  failed: number;
  latencyMs: LatencySummary;
  throughputPerSec: number;
  durationMs: number;
  results: TaskResult[];
  warnings: string[];
  /** The errors of failed sends, in order, for a caller that reports the first as its own. */
  errors: unknown[];
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
  /** The aggregator whose journal places tasks decided before this run. */
  aggregatorUrl?: string;
  /** Sends one task; retried on connection failures until the deadline when waiting. */
  sendOne: (index: number) => Promise<SentTask>;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

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
  // One send stands for each task: the one the network took as new, else (a task it had before
  // this run) the earliest. Concurrent identical sends race, so the winner need not be the first.
  const firstSend = new Map<string, SentTask>();
  for (const s of ok) {
    const key = s.taskHash.toLowerCase();
    const held = firstSend.get(key);
    if (!held || (held.known && !s.known)) firstSend.set(key, s);
  }
  const known = new Set([...firstSend].filter(([, s]) => s.known).map(([h]) => h));
  let verdicts = new Map<string, TaskVerdict>();
  const seenAt = new Map<string, number>();
  if (opts.wait && opts.provider && opts.attestationCenter && ok.length > 0) {
    const chain = {
      provider: opts.provider,
      attestationCenter: opts.attestationCenter,
      chainId: opts.chainId,
    };
    // A task decided before this run started has its verdict already: look it up, never wait for it.
    verdicts = await lookupVerdicts({ ...chain, aggregatorUrl: opts.aggregatorUrl }, firstSend.keys(), known);
    const now = Date.now();
    for (const h of verdicts.keys()) seenAt.set(h, now);
    const followed = await waitForVerdicts(
      { ...chain, fromBlock },
      [...firstSend.keys()].filter((h) => !verdicts.has(h)),
      {
        deadline,
        signal: opts.signal,
        pollMs: 50,
        onVerdict: (v) => seenAt.set(v.taskHash.toLowerCase(), Date.now()),
      },
    );
    for (const [h, v] of followed) verdicts.set(h, v);
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
    const key = s.taskHash.toLowerCase();
    const v = verdicts.get(key);
    const first = firstSend.get(key)!;
    const repeat = first !== s || known.has(key);
    const base = {
      status: "sent" as TaskResult["status"],
      taskNumber: null as number | null,
      taskDefinitionId: s.taskDefinitionId,
      proofOfTask: s.proofOfTask,
      performer: s.performer,
      chainId: opts.chainId,
      taskHash: s.taskHash,
      ...(repeat ? { duplicate: true } : {}),
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
      latencyMs: Math.max(0, (seenAt.get(key) ?? Date.now()) - first.sentAt),
    };
  });

  const durationMs = Date.now() - started;
  // One line per task, not per send: the result of the send that stands for it.
  const standsFor = new Set(firstSend.values());
  const tasks = results.filter((_, i) => standsFor.has(sent[i] as SentTask));
  const latencies = tasks.map((r) => r.latencyMs).filter((l): l is number => l !== null);
  const approved = tasks.filter((r) => r.status === "approved").length;
  const duplicates = ok.length - firstSend.size;
  const warnings: string[] = [];
  if (duplicates > 0) {
    warnings.push(
      `${duplicates} of ${ok.length} sends repeated a task of this run (same proof, data, performer and definition): the project produced identical tasks, and each counts once`,
    );
  }
  if (known.size > 0) {
    warnings.push(
      `${known.size} task(s) were already known to the network before this run; their verdicts are the earlier ones`,
    );
  }
  return {
    sent: ok.length,
    distinct: firstSend.size,
    duplicates,
    alreadyKnown: known.size,
    approved,
    rejected: tasks.filter((r) => r.status === "rejected").length,
    // a send that never got through before the deadline timed out as well
    timedOut: [...tasks, ...results.filter((r) => r.taskHash === "")].filter((r) => r.status === "timeout")
      .length,
    failed: results.filter((r) => r.status === "failed").length,
    latencyMs: percentiles(latencies),
    throughputPerSec:
      durationMs > 0
        ? Math.round(((opts.wait ? approved : firstSend.size) * 1000 * 100) / durationMs) / 100
        : 0,
    durationMs,
    results,
    warnings,
    errors: sent
      .filter((s): s is { error: unknown; index: number } => s !== undefined && "error" in s)
      .map((s) => s.error),
  };
}

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function percentiles(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted.length ? sorted[sorted.length - 1]! : 0 };
}
