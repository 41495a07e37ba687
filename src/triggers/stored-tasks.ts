/**
 * The stored-task watcher: what the devnet's operators run for the task engine's tasks. It
 * lists the engine's live tasks (GET /operator/tasks, with the operator secret), keeps one
 * trigger state per trigger of each in step with that list, fires them with the trigger
 * runner's parts (clock.ts for fixedTime and cron, poller.ts for blocks and logs), elects the
 * performer of each firing by round robin over the active operators (leader.ts), and, when it
 * holds that operator's key, reports the firing (POST /operator/workflows/{id}:trigger) with
 * its TriggerReason. The engine keys executions by task and reason, so a firing reported twice
 * (two watchers, a restart) gives one execution.
 */

import createDebug from "debug";
import { AvsctlError } from "../errors.js";
import { sleep } from "../util/sleep.js";
import { ChainTime } from "./chain-time.js";
import { Clock } from "./clock.js";
import { operatorKeys } from "./election.js";
import { type ActiveOperatorsSource, electPerformer, readActiveOperators } from "./leader.js";
import { ChainPoller, readHead } from "./poller.js";
import type { Trigger } from "./schedule.js";
import { finish, isChainTrigger, newTriggerState, type TriggerState } from "./state.js";
import {
  electionNumber,
  FINAL_REFUSALS,
  type LiveTask,
  type StoredTriggerReason,
  storedReason,
  storedTriggerData,
  storedTriggers,
  syncPlan,
} from "./stored-firing.js";
import type { FiringContext } from "./types.js";

const debug = createDebug("avsctl:triggers:stored-tasks");

/** How often the chain's clock is read (a cheap pending-block read of the local L2). */
const CHAIN_TIME_MS = 200;

export interface StoredTaskWatcherOptions {
  /** The task engine, e.g. http://127.0.0.1:8092. */
  engineUrl: string;
  /** The engine's operator secret (its --operator-secret). */
  operatorSecret: string;
  /** The chain whose blocks and logs drive block and event triggers, and whose AttestationCenter lists the operators. */
  l2: { rpcUrl: string; attestationCenter: string; chainId?: number };
  /** Keys this watcher may perform with, by lowercase operator address. */
  operators: ReadonlyMap<string, string>;
  /** Blocks per leader epoch (default 1). */
  epochBlocks?: number;
  /** Chain polling, ms (default 500). */
  pollMs?: number;
  /** How often the engine's task list is read, ms (default 1000). */
  syncMs?: number;
  /** Default: getActiveOperatorsDetails() of l2.attestationCenter. */
  activeOperators?: ActiveOperatorsSource;
  signal?: AbortSignal;
  /** Every report's outcome, as it happens (errors thrown by it are ignored). */
  onReport?: (report: StoredFiringReport) => void;
}

export interface StoredFiringReport {
  taskId: string;
  reason: StoredTriggerReason;
  performer: string | null;
  /** reported: a new execution; duplicate: it had been reported; skipped: another operator performs. */
  outcome: "reported" | "duplicate" | "skipped" | "refused" | "failed";
  executionId?: string;
  /** The engine's refusal code, or the error. */
  error?: string;
}

export interface StoredTaskWatcher {
  /** The ids of the tasks whose triggers are watched now. */
  watching(): string[];
  reports(): StoredFiringReport[];
  /** Resolves once the task list was read once more (after a create, before firing on it). */
  synced(): Promise<void>;
  /** Resolves once no report is in flight. */
  idle(): Promise<void>;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

interface Watched {
  task: LiveTask;
  states: TriggerState[];
}

/** A stored task has no task definition (0): its id rides as the name, which firing reads back. */
function stateOf(taskId: string, j: number, trigger: Trigger): TriggerState {
  return newTriggerState(`${taskId}#${j}`, 0, taskId, trigger);
}

export async function startStoredTaskWatcher(opts: StoredTaskWatcherOptions): Promise<StoredTaskWatcher> {
  const controller = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, controller.signal]) : controller.signal;
  const engineUrl = opts.engineUrl.replace(/\/+$/, "");
  const keys = await operatorKeys(opts.operators);
  const epochBlocks = opts.epochBlocks ?? 1;
  const source: ActiveOperatorsSource =
    opts.activeOperators ??
    ((block) => readActiveOperators(opts.l2.rpcUrl, opts.l2.attestationCenter, block, signal));
  const watched = new Map<string, Watched>();
  const chainStates: TriggerState[] = [];
  const reports: StoredFiringReport[] = [];
  let inflight = 0;
  let idleWaiters: Array<() => void> = [];
  let syncWaiters: Array<() => void> = [];
  let stopped = false;

  const operatorFetch = async (route: string, body?: unknown) => {
    const res = await fetch(`${engineUrl}${route}`, {
      method: body === undefined ? "GET" : "POST",
      headers: {
        authorization: `Operator ${opts.operatorSecret}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.any([signal, AbortSignal.timeout(15_000)]),
    });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, any> };
  };

  const record = (r: StoredFiringReport) => {
    reports.push(r);
    if (reports.length > 1000) reports.shift();
    debug("%s %o %s", r.taskId, r.reason, r.outcome);
    try {
      opts.onReport?.(r);
    } catch {
      // an observer's failure is not the watcher's
    }
  };

  const unwatch = (taskId: string) => {
    const w = watched.get(taskId);
    if (!w) return;
    for (const s of w.states) {
      finish(s);
      const i = chainStates.indexOf(s);
      if (i >= 0) chainStates.splice(i, 1);
    }
    watched.delete(taskId);
  };

  const report = async (taskId: string, reason: StoredTriggerReason, ctx: FiringContext) => {
    const head = reason.blockNumber ?? poller.lastBlock ?? (await readHead(opts.l2.rpcUrl, signal));
    const leader = electPerformer(await source(head), electionNumber(reason), epochBlocks);
    const performer = leader?.operator ?? null;
    if (!leader || !keys.has(leader.operator.toLowerCase())) {
      record({ taskId, reason, performer, outcome: "skipped" });
      return;
    }
    const body = { triggerReason: reason, triggerData: storedTriggerData(reason, ctx) };
    let lastError = "";
    // at least once: an engine restarting answers again soon, and a repeat is recorded once
    for (let attempt = 0; attempt < 5 && !stopped; attempt++) {
      try {
        const answer = await operatorFetch(`/operator/workflows/${taskId}:trigger`, body);
        if (answer.status === 200 || answer.status === 202) {
          const outcome = answer.body.duplicate ? "duplicate" : "reported";
          record({ taskId, reason, performer, outcome, executionId: String(answer.body.executionId) });
          return;
        }
        const code = String(answer.body.error?.code ?? `HTTP_${answer.status}`);
        if (answer.status === 409 || answer.status === 404) {
          if (FINAL_REFUSALS.includes(code)) unwatch(taskId);
          record({ taskId, reason, performer, outcome: "refused", error: code });
          return;
        }
        lastError = code;
      } catch (error) {
        if (stopped) return;
        lastError = (error as Error).message;
      }
      await sleep(200 * 2 ** attempt, signal);
    }
    record({ taskId, reason, performer, outcome: "failed", error: lastError });
  };

  const fire = (s: TriggerState, ctx: FiringContext) => {
    if (s.done || stopped) return;
    const taskId = s.taskDefinitionName!;
    s.count++;
    inflight++;
    const reason = storedReason(s.trigger, ctx);
    s.queue = s.queue
      .then(() => report(taskId, reason, ctx))
      .catch((error) => debug("%s: %s", s.id, (error as Error).message))
      .finally(() => {
        if (--inflight > 0) return;
        const waiters = idleWaiters;
        idleWaiters = [];
        for (const w of waiters) w();
      });
  };

  // cron and fixedTime follow the chain's clock, so `devnet advance --time` moves them too
  const chainTime = new ChainTime(opts.l2.rpcUrl, () =>
    clock.retime([...watched.values()].flatMap((w) => w.states)),
  );
  const clock = new Clock(fire, chainTime);
  const startedAt = Date.now();
  const startBlock = await readHead(opts.l2.rpcUrl, signal).catch((error) => {
    throw new AvsctlError("RPC_UNREACHABLE", `the L2 at ${opts.l2.rpcUrl} does not answer`, { cause: error });
  });
  const poller = new ChainPoller({
    rpcUrl: opts.l2.rpcUrl,
    states: chainStates,
    fire,
    pollMs: Math.min(10_000, Math.max(20, opts.pollMs ?? 500)),
    startBlock,
    signal,
  });

  const watch = (task: LiveTask, seenAt: number | undefined) => {
    const states = storedTriggers(task).map((t, j) => stateOf(task.id, j, t));
    watched.set(task.id, { task, states });
    for (const s of states) {
      if (isChainTrigger(s)) {
        // From the head when the watcher saw the task on: blocks and logs before it are not its
        // firings, even those the poller has not read yet (it may be many blocks behind).
        s.scannedTo = Math.max(poller.lastBlock ?? startBlock, seenAt ?? 0);
        chainStates.push(s);
      } else {
        // A slot that passed between the task's creation and this sight of it (the engine and
        // the watcher meet every second; `devnet advance --time` may come in between) still
        // fires; slots from before the watcher started are not replayed. createdAt is the
        // engine's wall time: placed on the chain's clock, or a chain ahead of wall time (after
        // `advance --time`) would fire at once a slot between the two that came before creation.
        clock.arm(
          s,
          task.createdAt === undefined ? undefined : chainTime.at(Math.max(task.createdAt, startedAt)),
        );
      }
    }
  };

  const syncOnce = async () => {
    const live: LiveTask[] = [];
    let cursor: string | null = null;
    do {
      // with a chain id, only the tasks attested on that L2 (one watcher per L2)
      const chain = opts.l2.chainId === undefined ? "" : `&chainId=${opts.l2.chainId}`;
      const answer = await operatorFetch(
        `/operator/tasks?limit=500${chain}${cursor ? `&cursor=${cursor}` : ""}`,
      );
      if (answer.status !== 200) throw new Error(`GET /operator/tasks answered ${answer.status}`);
      live.push(...(answer.body.items as LiveTask[]));
      cursor = answer.body.cursor ?? null;
    } while (cursor);
    const plan = syncPlan(new Set(watched.keys()), live);
    for (const id of plan.stop) unwatch(id);
    if (plan.start.length === 0) return;
    const seenAt = await readHead(opts.l2.rpcUrl, signal).catch(() => undefined);
    // a jump of the chain's clock since the last read is known before creation times are placed on it
    await chainTime.refresh(signal);
    for (const task of plan.start) watch(task, seenAt);
  };

  const syncLoop = async () => {
    while (!stopped) {
      try {
        await syncOnce();
      } catch (error) {
        if (stopped) break;
        debug("sync failed: %s", (error as Error).message);
      }
      const waiters = syncWaiters;
      syncWaiters = [];
      for (const w of waiters) w();
      await sleep(opts.syncMs ?? 1_000, signal);
    }
  };

  await chainTime.refresh(signal);
  const polling = poller.run();
  // Often: a task created within one read's gap of a jump (before or after it, the watcher
  // cannot tell) is placed after it, and `workflow create` then `devnet advance` are further apart.
  const timing = chainTime.run(CHAIN_TIME_MS, signal);
  const syncing = syncLoop();
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      stopped = true;
      poller.stop();
      clock.stop([...watched.values()].flatMap((w) => w.states));
      controller.abort();
      await Promise.allSettled([polling, syncing, timing]);
      for (const w of [...syncWaiters, ...idleWaiters]) w();
      for (const w of syncWaiters.splice(0)) w();
    })();
    return stopping;
  };
  return {
    watching: () => [...watched.keys()],
    reports: () => [...reports],
    synced: () =>
      stopped
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            syncWaiters.push(() => syncWaiters.push(resolve));
          }),
    idle: () =>
      inflight === 0 || stopped ? Promise.resolve() : new Promise<void>((r) => idleWaiters.push(r)),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
