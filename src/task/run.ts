import type { Provider } from "ethers";
import { boundChainRequests, chainDidNotAnswer } from "../chain/rpc.js";
import {
  fateUnknownMessage,
  insufficientPowerReason,
  isTransient,
  sendWithRetries,
  type TaskEndReason,
} from "../client/retry.js";
import type { SentTask } from "../client/send.js";
import { lookupVerdicts, type TaskVerdict, VerdictWatch } from "../client/verdicts.js";
import { AvsctlError } from "../errors.js";
import { sleep } from "../util/sleep.js";
import {
  type Ended,
  type FailedReason,
  followJournal,
  JOURNAL_BATCH,
  journalEnds,
} from "./journal-follow.js";

/** Receipts read at once for the results' gas: ethers sends them as one JSON-RPC batch. */
const RECEIPT_BATCH = 100;

/** One task's outcome, as `task send --json` prints it (docs/cli.md#task-send). */
export interface TaskResult {
  status: "approved" | "rejected" | "timeout" | "unreachable" | "sent" | "failed";
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
  /**
   * Why a task got no verdict (`unreachable`, and `timeout` when the aggregator said), from its
   * journal: who abstained and why, connected against required voting power; for `failed`, the
   * error its submission met; else null.
   */
  reason?: TaskEndReason | FailedReason | null;
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
  /** Distinct tasks that could reach no verdict (or were refused for too little connected power). */
  unreachable: number;
  /** Sends that did not get through, and distinct tasks whose submission the aggregator journaled as failed. */
  failed: number;
  /** Sends a busy aggregator refused (OVERLOADED); each was sent again after the wait it asked for. */
  refusedBusy: number;
  /** Sends that repeated the same task after a refusal or a send of unknown fate. */
  retried: number;
  latencyMs: LatencySummary;
  throughputPerSec: number;
  durationMs: number;
  results: TaskResult[];
  warnings: string[];
  /** The errors of failed sends, in order, for a caller that reports the first as its own. */
  errors: unknown[];
  /**
   * Set when the L2 still did not answer as the wait ended and tasks the aggregator took had no
   * verdict yet: their `timeout` may be a verdict that could not be read. For the caller to
   * report; not part of the printed summary.
   */
  l2Unanswered?: { error: unknown; undecided: string[] };
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
  /**
   * One attempt at sending task `index`, bounded by `timeLeftMs`. A busy refusal is retried
   * after the wait the aggregator asks for; a send of unknown fate only when `idempotent`.
   */
  sendOne: (index: number, timeLeftMs: number) => Promise<SentTask>;
  /**
   * Every attempt for one index carries the same signed task (same hash); asked per index when
   * a path signs its task only on the way (the execution service hands back the task it signed).
   */
  idempotent?: boolean | ((index: number) => boolean);
  /**
   * What is known of task `index` when no send of it got through (the task signed for it, or the
   * definition it was meant for), so its result names that task.
   */
  taskOf?: (
    index: number,
  ) => Partial<Pick<SentTask, "taskHash" | "taskDefinitionId" | "proofOfTask" | "performer">>;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** What made the run's tasks alike, for the warning about repeated tasks. */
  sameTaskCause?: string;
  /** What to do when the L2 does not answer before anything was sent. */
  l2DownHint?: string;
}

/** How often a read of an L2 that does not answer is tried again. */
const CHAIN_RETRY_MS = 250;

/**
 * A read of the L2, tried again while the chain does not answer (one a supervisor is starting
 * again) until `deadline`; then, or on any other failure, its error.
 */
async function readOn<T>(read: () => Promise<T>, deadline: number, signal?: AbortSignal): Promise<T> {
  for (;;) {
    try {
      return await read();
    } catch (error) {
      if (!chainDidNotAnswer(error) || signal?.aborted || Date.now() + CHAIN_RETRY_MS >= deadline)
        throw error;
    }
    await sleep(CHAIN_RETRY_MS, signal);
  }
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

/**
 * Sends `count` tasks with bounded concurrency and rate, then (with `wait`) follows the chain
 * until each has a verdict or the deadline passes. Bounded in count and time.
 */
export async function runTasks(opts: RunOptions): Promise<LoadSummary> {
  const started = Date.now();
  const deadline = started + opts.timeoutMs;
  // no read of the L2 outlasts the deadline, however long one may take otherwise (a frozen node)
  if (opts.provider) boundChainRequests(opts.provider, deadline);
  const fromBlock =
    opts.wait && opts.provider
      ? await opts.provider.getBlockNumber().catch((error) => {
          if (!chainDidNotAnswer(error)) throw error;
          throw new AvsctlError("RPC_UNREACHABLE", "the L2 did not answer; nothing was sent", {
            hint: opts.l2DownHint,
            cause: error,
          });
        })
      : 0;
  // Verdicts are followed from before the first send, so a task's latency ends when its verdict
  // lands, not when the last of the run's tasks has been sent.
  const watch =
    opts.wait && opts.provider && opts.attestationCenter
      ? new VerdictWatch(
          {
            provider: opts.provider,
            attestationCenter: opts.attestationCenter,
            chainId: opts.chainId,
            fromBlock,
          },
          { deadline, signal: opts.signal, pollMs: 50 },
        )
      : undefined;
  try {
    return await sendAndFollow(opts, { started, deadline, watch });
  } finally {
    await watch?.stop();
  }
}

async function sendAndFollow(
  opts: RunOptions,
  { started, deadline, watch }: { started: number; deadline: number; watch: VerdictWatch | undefined },
): Promise<LoadSummary> {
  /** Each index's task as sent, or the error that ended its sends (`fateUnknown`: it may have been taken). */
  const sent: Array<SentTask | { error: unknown; index: number; fateUnknown: boolean }> = new Array(
    opts.count,
  );
  const idempotent = (index: number): boolean =>
    typeof opts.idempotent === "function" ? opts.idempotent(index) : opts.idempotent === true;
  let next = 0;
  let done = 0;
  let refusedBusy = 0;
  let retried = 0;
  const interval = opts.rate ? 1000 / opts.rate : 0;

  const worker = async () => {
    for (;;) {
      const index = next++;
      if (index >= opts.count || opts.signal?.aborted) return;
      if (interval) {
        const due = started + index * interval;
        if (due > Date.now()) await sleep(due - Date.now());
      }
      try {
        const r = await beforeDeadline(
          sendWithRetries((left) => opts.sendOne(index, left), {
            deadline,
            idempotent: () => idempotent(index),
            // With --wait a task may ride out an aggregator restart; the deadline still bounds it.
            retryUnavailable: opts.wait,
            signal: opts.signal,
          }),
          deadline,
        );
        refusedBusy += r.refusedBusy;
        retried += r.retries;
        sent[index] = r.ok ? r.sent : { error: r.error, index, fateUnknown: r.fateUnknown };
      } catch (error) {
        // the deadline cut a send in flight: of a signed task, one the aggregator may have taken
        sent[index] = { error, index, fateUnknown: isTransient(error) && idempotent(index) };
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
  const verdicts = new Map<string, TaskVerdict>();
  const seenAt = new Map<string, number>();
  const ended = new Map<string, Ended>();
  /** What the L2 last failed with, when it did not answer at the end of the wait. */
  let unanswered: unknown;
  if (watch && opts.provider && opts.attestationCenter && ok.length > 0) {
    const chain = {
      provider: opts.provider,
      attestationCenter: opts.attestationCenter,
      chainId: opts.chainId,
    };
    const take = (key: string, hit: { verdict: TaskVerdict; at: number }) => {
      verdicts.set(key, hit.verdict);
      seenAt.set(key, hit.at);
    };
    for (const key of firstSend.keys()) {
      const hit = watch.seen.get(key);
      if (hit) take(key, hit);
    }
    // A task decided before this run started has its verdict already: look it up, never wait for it.
    let lookupFailure: unknown;
    const looked = await readOn(
      () =>
        lookupVerdicts(
          { ...chain, aggregatorUrl: opts.aggregatorUrl },
          [...firstSend.keys()].filter((h) => !verdicts.has(h)),
          known,
        ),
      deadline,
      opts.signal,
    ).catch((error) => {
      if (!chainDidNotAnswer(error)) throw error;
      lookupFailure = error;
      return new Map<string, TaskVerdict>();
    });
    for (const [h, v] of looked) {
      // the watch may have seen it meanwhile, earlier than now
      const hit = watch.seen.get(h);
      if (hit) take(h, hit);
      else {
        verdicts.set(h, v);
        seenAt.set(h, Date.now());
      }
    }
    // The chain gives verdicts; the aggregator's journal says at once when a task will get none
    // (unreachable, or its submission failed), so the wait ends for it then instead of at the deadline.
    const outstanding = new Set([...firstSend.keys()].filter((h) => !verdicts.has(h)));
    const stop = new AbortController();
    const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
    const journal = opts.aggregatorUrl
      ? followJournal(opts.aggregatorUrl, opts.chainId, outstanding, ended, {
          deadline,
          signal,
          onEmpty: () => stop.abort(),
        })
      : undefined;
    // the verdicts the watch gave too: one a restarted chain then lost is waited for again
    const awaited = new Set([...firstSend.keys()].filter((h) => !verdicts.has(h) || watch.seen.has(h)));
    await watch.until(awaited, {
      signal,
      onVerdict: (key, hit) => {
        take(key, hit);
        ended.delete(key);
        outstanding.delete(key);
        // the rest may have ended in the journal already: nothing is left to wait for
        if (outstanding.size === 0) stop.abort();
      },
      onLost: (key) => {
        verdicts.delete(key);
        seenAt.delete(key);
        outstanding.add(key);
      },
    });
    stop.abort();
    await journal;
    unanswered = watch.unanswered ?? lookupFailure;
    // a verdict read again after the chain came back is the one it holds now
    for (const h of verdicts.keys()) {
      const hit = watch.seen.get(h);
      if (hit) verdicts.set(h, hit.verdict);
    }
    // a verdict outranks what the journal said of the task meanwhile
    for (const h of verdicts.keys()) ended.delete(h);
    // A task still without a verdict at the deadline: whatever its journal knows of why.
    const left = [...outstanding].filter((h) => !verdicts.has(h) && !ended.has(h));
    if (opts.aggregatorUrl && left.length > 0 && !opts.signal?.aborted) {
      // all at once, so a silent aggregator costs one request timeout past --timeout, not one per batch
      const parts = Array.from({ length: Math.ceil(left.length / JOURNAL_BATCH) }, (_, i) =>
        left.slice(i * JOURNAL_BATCH, (i + 1) * JOURNAL_BATCH),
      );
      const url = opts.aggregatorUrl;
      for (const found of await Promise.all(
        parts.map((part) => journalEnds(url, opts.chainId, part, opts.signal)),
      )) {
        for (const [h, end] of found) ended.set(h, end);
      }
    }
  }

  // Every result carries its gas, as a single task's does: the receipts a hundred at a time (one
  // JSON-RPC batch each), so a load of thousands does not open thousands of requests at once.
  const gas = new Map<string, string>();
  let gasUnread = 0;
  if (opts.provider) {
    const txs = [...new Set([...verdicts.values()].map((v) => v.txHash))];
    for (let i = 0; i < txs.length && !opts.signal?.aborted; i += RECEIPT_BATCH) {
      if (gasUnread > 0 && Date.now() >= deadline) {
        // the L2 did not answer and the time is up: the rest would each wait for it in vain
        gasUnread += txs.length - i;
        break;
      }
      await Promise.all(
        txs.slice(i, i + RECEIPT_BATCH).map(async (tx) => {
          const receipt = await readOn(
            () => opts.provider!.getTransactionReceipt(tx),
            deadline,
            opts.signal,
          ).catch((error) => {
            if (!chainDidNotAnswer(error)) throw error;
            gasUnread++;
            return null;
          });
          if (receipt) gas.set(tx, receipt.gasUsed.toString());
        }),
      );
    }
  }

  const results: TaskResult[] = sent.map((s, index) => {
    if (!s || !("taskHash" in s)) {
      const e = s?.error;
      // Refused because the connected attesters could not approve it: no verdict can come.
      const refused = insufficientPowerReason(e);
      const hash = (e as AvsctlError | undefined)?.details?.taskHash;
      const task = opts.taskOf?.(index) ?? {};
      // A send that may have been taken is no failure: whether it was is unknown, and its hash
      // (task status) tells later. It timed out waiting for the aggregator's answer.
      const fateUnknown = s?.fateUnknown === true;
      const status = refused
        ? "unreachable"
        : (opts.wait && isTransient(e)) || fateUnknown
          ? "timeout"
          : "failed";
      const message = e instanceof Error ? e.message : String(e);
      const unknown = fateUnknownMessage(e, "within --timeout");
      return {
        status,
        taskNumber: null,
        taskDefinitionId: task.taskDefinitionId ?? 0,
        proofOfTask: task.proofOfTask ?? "",
        performer: task.performer ?? "",
        chainId: opts.chainId,
        txHash: null,
        attestersIds: [],
        gasUsed: null,
        latencyMs: null,
        taskHash: typeof hash === "string" ? hash : (task.taskHash ?? ""),
        // as for a task that was sent: with --wait, no verdict comes with its reason, null when
        // none; a send of unknown fate says so there, as one task's JSON shows no error
        ...(refused
          ? { reason: refused }
          : status === "timeout"
            ? { reason: fateUnknown ? { message: unknown, abstained: [] as [] } : null }
            : {}),
        error: fateUnknown ? unknown : message,
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
      const end = ended.get(key);
      return {
        ...base,
        status: end?.status ?? (opts.wait ? "timeout" : "sent"),
        taskNumber: null,
        // a failed task's submission, when one was sent: the transaction that reverted
        txHash: end?.status === "failed" ? end.txHash : null,
        attestersIds: [],
        gasUsed: null,
        latencyMs: null,
        ...(opts.wait ? { reason: end?.reason ?? null } : {}),
        ...(end?.status === "failed" ? { error: end.reason.message } : {}),
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
  const unsent = results.filter((_, i) => !(sent[i] && "taskHash" in sent[i]!));
  const latencies = tasks.map((r) => r.latencyMs).filter((l): l is number => l !== null);
  const approved = tasks.filter((r) => r.status === "approved").length;
  const rejected = tasks.filter((r) => r.status === "rejected").length;
  // decided in this run: a task the network had before came with its earlier verdict
  const decided = tasks.filter(
    (r) => (r.status === "approved" || r.status === "rejected") && !known.has(r.taskHash.toLowerCase()),
  ).length;
  const duplicates = ok.length - firstSend.size;
  const warnings: string[] = [];
  if (duplicates > 0) {
    warnings.push(
      `${duplicates} of ${ok.length} sends repeated a task of this run (same proof, data, performer and definition): ${opts.sameTaskCause ?? "the tasks were identical"}, and each counts once`,
    );
  }
  if (known.size > 0) {
    warnings.push(
      `${known.size} task(s) were already known to the network before this run; their verdicts are the earlier ones`,
    );
  }
  if (gasUnread > 0) {
    warnings.push(
      `the L2 did not answer for the receipts of ${gasUnread} verdict transaction(s): their tasks' gasUsed is null`,
    );
  }
  // the tasks the aggregator took whose verdict, if any, could not be read
  const undecided =
    unanswered === undefined
      ? []
      : [...firstSend.values()]
          .filter((s) => !verdicts.has(s.taskHash.toLowerCase()) && !ended.has(s.taskHash.toLowerCase()))
          .map((s) => s.taskHash);
  return {
    sent: ok.length,
    distinct: firstSend.size,
    duplicates,
    alreadyKnown: known.size,
    approved,
    rejected,
    // a send that never got through before the deadline timed out as well
    timedOut: [...tasks, ...unsent].filter((r) => r.status === "timeout").length,
    unreachable: [...tasks, ...unsent].filter((r) => r.status === "unreachable").length,
    // one task sent twice fails once, as it is unreachable once
    failed: [...tasks, ...unsent].filter((r) => r.status === "failed").length,
    refusedBusy,
    retried,
    latencyMs: percentiles(latencies),
    // with --wait, tasks decided on-chain (either verdict) in this run per second; without, tasks sent
    throughputPerSec:
      durationMs > 0
        ? Math.round(((opts.wait ? decided : firstSend.size) * 1000 * 100) / durationMs) / 100
        : 0,
    durationMs,
    results,
    warnings,
    errors: sent
      .filter(
        (s): s is { error: unknown; index: number; fateUnknown: boolean } => s !== undefined && "error" in s,
      )
      .map((s) => s.error),
    ...(undecided.length > 0 ? { l2Unanswered: { error: unanswered, undecided } } : {}),
  };
}

/** Each null when no task of the run got its verdict: there is no latency to speak of. */
export interface LatencySummary {
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export function percentiles(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: at(1) };
}
