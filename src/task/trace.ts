/**
 * `task trace`: the life of one task in order, with times. The steps come from the nodes' JSON
 * log lines about the task (every one carries `taskHash`): the aggregator's intake, each
 * attester's validation call and answer and its vote, the votes the aggregator counted, the
 * threshold, each submission. The chain adds what logs cannot: each submission's receipt (gas,
 * and the revert decoded by name when it reverted), or that it has none, and the verdict event. The aggregator's
 * journal (`avsctl_taskStatus`) places a task whose logs are gone or whose verdict never came.
 */

import type { JsonRpcProvider } from "ethers";
import type { TaskVerdict } from "../client/verdicts.js";
import type { LoadedConfig } from "../config/load.js";
import type { LogEntry } from "../devnet/logs.js";
import { readDevnetState } from "../devnet/state.js";
import { resolveProjectTarget } from "../devnet/target.js";
import { AvsctlError } from "../errors.js";
import { chainNeeded, chainsSearched, journalRow, locateTask, type TaskRef } from "./verdicts.js";

export type TraceStep =
  | "received"
  | "validation-call"
  | "validation-answer"
  | "abstain"
  | "vote"
  | "vote-counted"
  | "threshold"
  | "timeout"
  | "unreachable"
  | "submission"
  | "verdict";

/** One step of a task's life. `component` is who did it (aggregator, attester-2, chain). */
export interface TraceEvent {
  step: TraceStep;
  time: string | null;
  component: string;
  /** What the step says, for humans. */
  summary: string;
  [field: string]: unknown;
}

export interface TraceSubmission {
  txHash: string;
  status: "success" | "reverted" | "unknown";
  blockNumber: number | null;
  gasUsed: string | null;
  gasPrice: string | null;
  /** The revert by name, when the transaction reverted. */
  revert: { name: string; signature: string; args: Record<string, string> } | null;
  error: string | null;
}

export interface TaskTrace {
  taskHash: string;
  chainId: number;
  taskNumber: number | null;
  /** approved | rejected from the chain; otherwise what the aggregator's journal says (pending, failed, timeout, unreachable), or unknown. */
  status: string;
  events: TraceEvent[];
  /**
   * The nodes whose logs begin after the task was received (rotated past it, or a devnet
   * brought up again since): their steps of it are not among the events.
   */
  logsAfterTask: Array<{ component: string; logBegins: string }>;
  submission: TraceSubmission | null;
  verdict: TaskVerdict | null;
}

export interface TraceOptions {
  project: Pick<LoadedConfig, "root" | "config"> & Partial<Pick<LoadedConfig, "sources">>;
  ref: TaskRef;
  targetChain?: number;
  signal?: AbortSignal;
}

/** Steps at the same time keep the order of a task's life. */
const RANK: Record<TraceStep, number> = {
  received: 0,
  "validation-call": 1,
  "validation-answer": 2,
  abstain: 3,
  vote: 4,
  "vote-counted": 5,
  threshold: 6,
  timeout: 7,
  unreachable: 7,
  submission: 8,
  verdict: 9,
};

/**
 * Puts a trace's events in the order of the task's life, in place. A block's time is whole
 * seconds where a log line's has milliseconds: an event timed by its block (`blockTimed`) sorts
 * at the end of its second, so it never comes before a log step it followed in the same second.
 * The events keep their times.
 */
export function sortEvents(events: TraceEvent[], blockTimed: ReadonlySet<TraceEvent>): TraceEvent[] {
  const time = (e: TraceEvent): number =>
    e.time === null ? Number.POSITIVE_INFINITY : Date.parse(e.time) + (blockTimed.has(e) ? 999 : 0);
  return events.sort((a, b) => time(a) - time(b) || RANK[a.step] - RANK[b.step]);
}

/** The trace step a node's log line stands for, if any. */
export function stepOf(entry: LogEntry): TraceEvent | undefined {
  const r = entry.record;
  const at = { time: r.time, component: r.component };
  const msg = r.msg;
  if (msg === "task accepted" || msg === "internal task started")
    return {
      step: "received",
      ...at,
      summary: `sendTask received (task definition ${r.taskDefinitionId}${r.performer ? `, performer ${r.performer}` : ""})`,
      taskDefinitionId: r.taskDefinitionId,
      performer: r.performer ?? null,
      internal: msg === "internal task started",
    };
  if (msg === "validation call")
    return { step: "validation-call", ...at, summary: `validation call to ${r.service}`, service: r.service };
  if (msg === "validation answer") {
    const result = typeof r.result === "boolean" ? r.result : null;
    const why = r.reason ?? r.message;
    return {
      step: "validation-answer",
      ...at,
      summary: `validation answered ${result === null ? "nothing usable" : String(result)}${why ? ` (${why})` : ""}`,
      result,
      ...(r.reason !== undefined ? { reason: r.reason } : {}),
      ...(r.message !== undefined ? { message: r.message } : {}),
    };
  }
  if (msg === "abstaining")
    return { step: "abstain", ...at, summary: `abstained: ${r.reason}`, reason: r.reason ?? null };
  if (msg === "voted approve" || msg === "voted reject") {
    const approve = msg === "voted approve";
    return { step: "vote", ...at, summary: `voted ${approve ? "approve" : "reject"}`, isApproved: approve };
  }
  if (msg === "vote counted")
    return {
      step: "vote-counted",
      ...at,
      summary: `counted attester ${r.attester}'s ${r.verdict} vote`,
      attester: Number(r.attester),
      verdict: r.verdict,
    };
  if (msg === "threshold reached; submitting") {
    const ids = Array.isArray(r.attestersIds) ? r.attestersIds.map(Number) : [];
    return {
      step: "threshold",
      ...at,
      summary: `threshold reached: ${r.verdict} by attesters ${ids.join(",")}`,
      verdict: r.verdict,
      attestersIds: ids,
    };
  }
  if (msg.startsWith("task timed out"))
    return { step: "timeout", ...at, summary: "timed out: no threshold reached" };
  if (msg.startsWith("task unreachable"))
    return { step: "unreachable", ...at, summary: `unreachable: ${r.reason}`, reason: r.reason ?? null };
  if (/^task (already )?(approved|rejected) on-chain$/.test(msg) || msg === "task submission failed") {
    // What became of a transaction is the chain's to say (traceTask asks it): a restored chain
    // drops what the log still tells of. A line without one (the call could not be signed) sent nothing.
    const txHash = typeof r.txHash === "string" ? r.txHash : null;
    const failed = msg === "task submission failed";
    return {
      step: "submission",
      ...at,
      summary: txHash
        ? `submitTask ${txHash} (the aggregator logged "${failed ? `submission failed: ${r.error}` : msg}")`
        : failed
          ? `submission failed: ${r.error} (no transaction sent)`
          : `the aggregator logged "${msg}" naming no transaction`,
      txHash,
      ...(r.error !== undefined ? { error: r.error } : {}),
    };
  }
  return undefined;
}

/**
 * Merges, in place, the submission steps of log lines naming the same transaction into the
 * first; returns the steps by transaction hash (lowercase). A transaction logged again (the
 * aggregator sent it again as it was, after its chain lost it) is placed at its latest line:
 * what the chain holds of it came after that one.
 */
export function oneStepPerTransaction(events: TraceEvent[]): Map<string, TraceEvent> {
  const sent = new Map<string, TraceEvent>();
  for (const e of [...events]) {
    if (e.step !== "submission" || typeof e.txHash !== "string") continue;
    const first = sent.get(e.txHash.toLowerCase());
    if (!first) sent.set(e.txHash.toLowerCase(), e);
    else {
      if (first.error === undefined && e.error !== undefined) first.error = e.error;
      if (e.time !== null && (first.time === null || Date.parse(e.time) > Date.parse(first.time)))
        first.time = e.time;
      events.splice(events.indexOf(e), 1);
    }
  }
  return sent;
}

/**
 * The task's steps in the devnet's logs, when each component's log begins, and the chains its
 * steps name (the nodes log a task's chain with it).
 */
async function logSteps(
  root: string,
  hash: string,
  signal?: AbortSignal,
): Promise<{ events: TraceEvent[]; firstTimes: Map<string, number>; chains: Set<number> }> {
  const { devnetLogStream } = await import("../devnet/logs.js");
  const events: TraceEvent[] = [];
  const firstTimes = new Map<string, number>();
  const chains = new Set<number>();
  for await (const entry of devnetLogStream(root, { task: hash, signal, firstTimes })) {
    const step = stepOf(entry);
    if (!step) continue;
    events.push(step);
    if (typeof entry.record.chainId === "number") chains.add(entry.record.chainId);
  }
  return { events, firstTimes, chains };
}

/** The receipt of the submission, with the revert replayed and named when it reverted. */
async function submissionOf(
  provider: JsonRpcProvider,
  txHash: string,
  journalError: string | null,
): Promise<TraceSubmission> {
  const receipt = await provider.getTransactionReceipt(txHash);
  const base: TraceSubmission = {
    txHash,
    status: "unknown",
    blockNumber: null,
    gasUsed: null,
    gasPrice: null,
    revert: null,
    error: journalError,
  };
  if (!receipt) return base;
  const out: TraceSubmission = {
    ...base,
    status: receipt.status === 1 ? "success" : "reverted",
    blockNumber: receipt.blockNumber,
    gasUsed: receipt.gasUsed.toString(),
    gasPrice: receipt.gasPrice.toString(),
  };
  if (receipt.status === 1) return out;
  const tx = await provider.getTransaction(txHash);
  if (!tx) return out;
  try {
    await provider.call({
      from: tx.from,
      to: tx.to,
      data: tx.data,
      gasLimit: tx.gasLimit,
      blockTag: Math.max(0, receipt.blockNumber - 1),
    });
  } catch (error) {
    const { revertDataOf } = await import("../chain/reverts.js");
    const { decodeRevertData } = await import("../chain/rpc.js");
    const decoded = await decodeRevertData(revertDataOf(error));
    if (decoded) out.revert = decoded;
  }
  return out;
}

/**
 * The trace of one task on its L2 (NOT_FOUND when nothing knows the task). Without
 * --target-chain on a devnet with several L2s, the task's L2 is the one its journal row or its
 * verdict is on, else the one the aggregator's log accepted it for.
 */
export async function traceTask(opts: TraceOptions): Promise<TaskTrace> {
  const { project, ref } = opts;
  const shown = "hash" in ref ? ref.hash : `number ${ref.number}`;
  const located = await locateTask({ project, ref, targetChain: opts.targetChain, command: "trace" });
  const devnet = readDevnetState(project.root);
  let logs: Awaited<ReturnType<typeof logSteps>> | undefined;
  let found = located.found;
  // Neither a journal row nor a verdict on any L2 (the journal lost it, say): the logs may know.
  if (!found && "hash" in ref && devnet) {
    logs = await logSteps(project.root, ref.hash.toLowerCase(), opts.signal);
    const chains = [...logs.chains].filter((id) => located.searched.includes(id));
    if (chains.length === 1) {
      const target = await resolveProjectTarget({
        projectDir: project.root,
        config: project.config,
        sources: project.sources,
        chainId: chains[0],
        chainFlag: "--target-chain",
      });
      found = { target, verdict: undefined, journal: undefined };
    } else if (logs.events.length > 0) {
      throw chainNeeded(
        `the devnet's logs have task ${ref.hash} but not which of chains ${located.searched.join(", ")} it is on`,
        ref.hash,
        located.searched,
        "trace",
      );
    }
  }
  if (!found) throw notFound(shown, located.searched);
  const { target } = found;
  try {
    const byHash = found.journal;
    const verdict = found.verdict ?? null;
    const hash = ("hash" in ref ? ref.hash : verdict?.taskHash)?.toLowerCase();
    if (!hash) throw notFound(shown, [target.chainId]);

    const journal = "hash" in ref ? byHash : await journalRow(project, hash, target.chainId);
    const { events, firstTimes } =
      logs ??
      (devnet
        ? await logSteps(project.root, hash, opts.signal)
        : { events: [] as TraceEvent[], firstTimes: new Map<string, number>() });
    if (!verdict && !journal && events.length === 0) throw notFound(shown, [target.chainId]);

    if (journal && !events.some((e) => e.step === "received")) {
      events.push({
        step: "received",
        time: new Date(journal.acceptedAt).toISOString(),
        component: "aggregator",
        summary: `sendTask received (task definition ${journal.taskDefinitionId}, performer ${journal.performer})`,
        taskDefinitionId: journal.taskDefinitionId,
        performer: journal.performer,
      });
    }
    const blockTimed = new Set<TraceEvent>();
    // One step per transaction the logs, the journal or the verdict name: a task may have been
    // sent several times (a chain restored between sends, a nonce lost), and each is asked of the
    // chain on its own.
    const sent = oneStepPerTransaction(events);
    for (const txHash of [verdict?.txHash, journal?.txHash]) {
      if (!txHash || sent.has(txHash.toLowerCase())) continue;
      const e: TraceEvent = { step: "submission", time: null, component: "chain", summary: "", txHash };
      sent.set(txHash.toLowerCase(), e);
      events.push(e);
    }
    const submissions = new Map<TraceEvent, TraceSubmission>();
    for (const [key, step] of sent) {
      const txHash = step.txHash as string;
      const error =
        typeof step.error === "string"
          ? step.error
          : journal?.txHash?.toLowerCase() === key
            ? (journal.error ?? null)
            : null;
      const submission = await submissionOf(target.provider, txHash, error);
      submissions.set(step, submission);
      Object.assign(step, {
        gasUsed: submission.gasUsed,
        blockNumber: submission.blockNumber,
        status: submission.status,
        revert: submission.revert,
      });
      // No receipt: the transaction waits to be mined, or the chain lacks it (a snapshot restore
      // or a chain that lost its last second takes it away while logs keep it).
      const waiting =
        submission.blockNumber === null && (await target.provider.getTransaction(txHash)) !== null;
      step.summary =
        submission.status === "reverted"
          ? `submitTask ${txHash} reverted: ${submission.revert?.name ?? submission.error ?? "no reason"} (gas ${submission.gasUsed})`
          : submission.blockNumber !== null
            ? `submitTask ${txHash} in block ${submission.blockNumber}, gas ${submission.gasUsed ?? "unknown"}`
            : waiting
              ? `submitTask ${txHash} sent, not mined yet`
              : `submitTask ${txHash} is not on chain ${target.chainId} (a restored or restarted chain may have dropped it)`;
      if (step.time === null && submission.blockNumber !== null) {
        const block = await target.provider.getBlock(submission.blockNumber);
        if (block) {
          step.time = new Date(block.timestamp * 1000).toISOString();
          blockTimed.add(step);
        }
      }
    }
    // A line naming no transaction has none to ask the chain about.
    for (const e of events)
      if (e.step === "submission" && e.txHash === null)
        Object.assign(e, { gasUsed: null, blockNumber: null, status: null, revert: null });
    if (verdict) {
      const carried = sent.get(verdict.txHash.toLowerCase());
      const step: TraceEvent = {
        step: "verdict",
        // The verdict is known when the receipt is: the time of its transaction's step.
        time: carried?.time ?? null,
        component: "chain",
        summary: `${verdict.status} as task ${verdict.taskNumber} (attesters ${verdict.attestersIds.join(",")})`,
        status: verdict.status,
        taskNumber: verdict.taskNumber,
        attestersIds: verdict.attestersIds,
        blockNumber: verdict.blockNumber,
      };
      events.push(step);
      if (carried && blockTimed.has(carried)) blockTimed.add(step);
    }
    sortEvents(events, blockTimed);
    // The submission that matters: the one the chain holds (the verdict's, else a mined one,
    // else a reverted one), else the latest sent.
    const ordered = events.flatMap((e) => {
      const sub = submissions.get(e);
      return sub ? [sub] : [];
    });
    const submission =
      (verdict && ordered.find((s) => s.txHash.toLowerCase() === verdict.txHash.toLowerCase())) ||
      ordered.findLast((s) => s.status === "success") ||
      ordered.findLast((s) => s.blockNumber !== null) ||
      ordered.at(-1) ||
      null;
    // Logs rotated past the task, or a devnet brought up again since, show only part of its life:
    // say whose steps are gone rather than let them look skipped.
    // Wall-clock times only: the chain's block times move with `devnet advance` and snapshots.
    const earliest = events.find((e) => e.component !== "chain")?.time;
    const started = journal?.acceptedAt ?? (earliest ? Date.parse(earliest) : Number.NaN);
    const logsAfterTask = [...firstTimes]
      .filter(
        ([component, from]) =>
          /^(aggregator|attester)/.test(component) &&
          from > started &&
          !events.some((e) => e.component === component && e.time !== null && Date.parse(e.time) >= from),
      )
      .map(([component, from]) => ({ component, logBegins: new Date(from).toISOString() }));
    return {
      taskHash: hash,
      chainId: target.chainId,
      taskNumber: verdict?.taskNumber ?? journal?.taskNumber ?? null,
      status: verdict?.status ?? journal?.status ?? "unknown",
      events,
      logsAfterTask,
      submission,
      verdict,
    };
  } finally {
    target.provider.destroy();
  }
}

function notFound(shown: string, chains: number[]): AvsctlError {
  const hint =
    "a task number exists once its verdict is on-chain; a task hash once the aggregator has taken it (`avsctl task list` shows the known ones";
  return new AvsctlError("NOT_FOUND", `no task ${shown} on ${chainsSearched(chains)}`, {
    hint: chains.length === 1 ? `${hint})` : `${hint} of every L2; \`--target-chain <id>\` looks on one)`,
    details: chains.length === 1 ? { task: shown, chainId: chains[0] } : { task: shown, chains },
  });
}
