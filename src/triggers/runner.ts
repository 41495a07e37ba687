/**
 * The trigger runner: fires tasks for task definitions on time (interval, cron, fixed times),
 * on blocks (every N-th) and on contract logs (address and topics, with a cooldown). Each
 * firing elects its performer by round robin over the active operators at the firing's block
 * (leader.ts); the runner performs only when it holds that operator's key, otherwise it records
 * a skip, so several runners with different keys still send one task per firing.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import createDebug from "debug";
import { jsonRpc, quantity } from "../chain/json-rpc.js";
import { type SignatureType, sendTaskRpc, sendTaskViaExecution } from "../client/send.js";
import type { TriggerConfig } from "../config/schema.js";
import { buildTask } from "../devnet/samples/sample-rule.js";
import { AvsctlError, isAvsctlError } from "../errors.js";
import { sleep } from "../util/sleep.js";
import {
  type ActiveOperator,
  type ActiveOperatorsSource,
  electPerformer,
  readActiveOperators,
} from "./leader.js";
import {
  applyCooldown,
  blockFirings,
  DEFAULT_DATA_TEMPLATE,
  describeTrigger,
  type EventTrigger,
  nextFiring,
  nextFiringBlock,
  parseTrigger,
  renderTemplate,
  type Trigger,
  type TriggerType,
} from "./schedule.js";

const debug = createDebug("avsctl:triggers:runner");

export interface TriggerDefinition {
  taskDefinitionId: number;
  /** The task definition's name, shown in the status. */
  name?: string;
  /** As in the config (`taskDefinitions[].triggers`); normalised triggers are accepted too. */
  triggers: ReadonlyArray<TriggerConfig | Trigger>;
}

/** How a performing runner sends the task. */
export type TriggerSend =
  | {
      via: "rpc";
      /** The aggregator's JSON-RPC; the task is signed with the elected operator's key. */
      aggregatorUrl: string;
      sigType?: SignatureType;
      targetChainId?: number;
    }
  | {
      via: "execution";
      /** The execution service (POST /task/execute); it computes, signs and sends by itself. */
      executionUrl: string;
      targetChainId?: number;
      /** The address the execution service signs as, so the recorded task hash matches the chain (default: the elected operator). */
      performer?: string;
    };

export interface TriggerRunnerOptions {
  definitions: ReadonlyArray<TriggerDefinition>;
  /** The chain whose blocks and logs drive the triggers and whose AttestationCenter lists the operators. */
  l2: { rpcUrl: string; attestationCenter: string; chainId: number };
  /** Keys this runner may perform with, by lowercase operator address. */
  operators: ReadonlyMap<string, string>;
  send: TriggerSend;
  /** Blocks per leader epoch (default 1: the performer rotates every block). */
  epochBlocks?: number;
  signal?: AbortSignal;
  /** Serve GET /triggers, GET /firings and GET /health on this port (0: any free port). */
  statusPort?: number;
  /** Host of the status server (default 127.0.0.1). */
  statusHost?: string;
  /** The active operators at a block (default: getActiveOperatorsDetails() of l2.attestationCenter at that block). */
  activeOperators?: ActiveOperatorsSource;
  /** How often block and event triggers poll the chain, in ms (default 500, clamped to 20..10000). */
  pollMs?: number;
  /** How many firing records are kept (default 1000, oldest dropped first). */
  maxRecords?: number;
  /** Called with every firing record as it is made (errors thrown by it are ignored). */
  onFiring?: (record: FiringRecord) => void;
}

export interface FiringLog {
  txHash: string;
  logIndex: number;
  blockNumber: number;
}

/** One firing of one trigger, whoever performed it. */
export interface FiringRecord {
  /** The trigger's id: `<taskDefinitionId>#<index in its definition's triggers>`. */
  trigger: string;
  taskDefinitionId: number;
  type: TriggerType;
  /** 1-based count of this trigger's firings. */
  n: number;
  firedAt: string;
  /** The slot a time trigger fired for (ISO), null for block and event triggers. */
  scheduledAt: string | null;
  /** The block the performer was elected at (the firing block, the log's block, or the head when a time trigger fired). */
  blockNumber: number | null;
  /** The elected performer's address, whether or not this runner performed. */
  performer: string | null;
  operatorId: number | null;
  /** sent: this runner sent the task; skipped: another operator performs; failed: see error. */
  outcome: "sent" | "skipped" | "failed";
  taskHash?: string;
  /** The task data sent (0x-hex). */
  data?: string;
  error?: { code: string; message: string };
  /** The log that fired an event trigger. */
  log?: FiringLog;
}

/** One trigger in GET /triggers. */
export interface TriggerStatus {
  id: string;
  taskDefinitionId: number;
  taskDefinitionName: string | null;
  type: TriggerType;
  description: string;
  /** Next time-based firing (ISO), null for block and event triggers and when done. */
  nextFiring: string | null;
  /** Next block a block trigger fires on, null otherwise. */
  nextBlock: number | null;
  firings: number;
  sent: number;
  skipped: number;
  failed: number;
  /** Matching logs an event trigger's cooldown ignored. */
  suppressed: number;
  /** No further firings (maxFirings reached or no time left). */
  done: boolean;
  lastFiring: FiringRecord | null;
}

/** The body of GET /triggers. */
export interface TriggerStatusResponse {
  triggers: TriggerStatus[];
  /** The last block the runner saw (null before its first poll, or without block or event triggers). */
  blockNumber: number | null;
  epochBlocks: number;
  chainId: number;
  startedAt: string;
  /** The last chain polling error, cleared by the next successful poll. */
  pollError: string | null;
}

export interface TriggerRunnerHandle {
  /** `http://host:port` of the status server, when one was asked for. */
  readonly statusUrl: string | undefined;
  status(): TriggerStatus[];
  /** The kept firing records, oldest first. */
  firings(): FiringRecord[];
  /** The last block the poller processed. */
  lastBlock(): number | null;
  /** Resolves once no firing is queued or in flight. */
  idle(): Promise<void>;
  /** Stops timers, polling, the status server; waits (up to 5 s) for sends in flight. Idempotent. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

interface FiringContext {
  blockNumber?: number;
  scheduledAt?: number;
  log?: RawLog;
}

interface RawLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  blockTimestamp?: string;
  transactionHash: string;
  logIndex: string;
  removed?: boolean;
}

interface TriggerState {
  id: string;
  taskDefinitionId: number;
  taskDefinitionName: string | null;
  trigger: Trigger;
  description: string;
  count: number;
  sent: number;
  skipped: number;
  failed: number;
  suppressed: number;
  done: boolean;
  nextAt: number | null;
  lastScheduled?: number;
  timer?: NodeJS.Timeout;
  /** Event triggers: the last block whose logs were read. */
  scannedTo: number;
  lastFiredLogMs?: number;
  queue: Promise<void>;
  pending: number;
  last: FiringRecord | null;
}

const MAX_TIMER_MS = 2 ** 31 - 1;
/** Firings of one trigger waiting behind a slow send before new ones are refused. */
const MAX_PENDING = 32;
const MAX_LOG_RANGE = 2_000;
const MAX_LOG_CHUNKS_PER_POLL = 10;
const STOP_WAIT_MS = 5_000;

const hex = (n: number) => `0x${n.toString(16)}`;
const errorOf = (error: unknown) => ({
  code: isAvsctlError(error) ? error.code : "INTERNAL",
  message: error instanceof Error ? error.message : String(error),
});

/**
 * Starts firing tasks for the given definitions' triggers; resolves once the chain answered
 * and the status server (if any) listens. Throws CONFIG_INVALID for a bad trigger, INVALID_KEY
 * for an operator key that is not its address's, RPC_UNREACHABLE when the L2 cannot be read.
 *
 * @example
 * await using runner = await startTriggerRunner({
 *   definitions: [{ taskDefinitionId: 1, triggers: [{ type: "interval", every: "30s" }] }],
 *   l2: { rpcUrl, attestationCenter, chainId: 31338 },
 *   operators: new Map([[address.toLowerCase(), privateKey]]),
 *   send: { via: "rpc", aggregatorUrl: "http://127.0.0.1:8545" },
 *   statusPort: 0,
 * });
 */
export async function startTriggerRunner(opts: TriggerRunnerOptions): Promise<TriggerRunnerHandle> {
  opts.signal?.throwIfAborted();
  const epochBlocks = opts.epochBlocks ?? 1;
  if (!Number.isSafeInteger(epochBlocks) || epochBlocks < 1) {
    throw new AvsctlError(
      "INVALID_ARGUMENT",
      `epochBlocks: expected a positive integer, got ${epochBlocks}`,
      {
        details: { argument: "epochBlocks" },
      },
    );
  }
  const pollMs = Math.min(10_000, Math.max(20, Math.floor(opts.pollMs ?? 500)));
  const maxRecords = Math.max(1, opts.maxRecords ?? 1_000);
  const { rpcUrl, attestationCenter, chainId } = opts.l2;

  const states: TriggerState[] = [];
  const problems: Array<{ path: string; message: string }> = [];
  for (const [i, def] of opts.definitions.entries()) {
    if (
      !Number.isInteger(def.taskDefinitionId) ||
      def.taskDefinitionId < 1 ||
      def.taskDefinitionId > 65_535
    ) {
      problems.push({
        path: `definitions[${i}].taskDefinitionId`,
        message: "expected an integer from 1 to 65535",
      });
      continue;
    }
    for (const [j, raw] of def.triggers.entries()) {
      const parsed = parseTrigger(raw, `definitions[${i}].triggers[${j}]`);
      problems.push(...parsed.errors);
      if (!parsed.trigger) continue;
      states.push({
        id: `${def.taskDefinitionId}#${j}`,
        taskDefinitionId: def.taskDefinitionId,
        taskDefinitionName: def.name ?? null,
        trigger: parsed.trigger,
        description: describeTrigger(parsed.trigger),
        count: 0,
        sent: 0,
        skipped: 0,
        failed: 0,
        suppressed: 0,
        done: false,
        nextAt: null,
        scannedTo: 0,
        queue: Promise.resolve(),
        pending: 0,
        last: null,
      });
    }
  }
  if (problems.length > 0) {
    throw new AvsctlError(
      "CONFIG_INVALID",
      `invalid trigger configuration: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
      { details: { problems } },
    );
  }

  const keys = new Map<string, string>();
  if (opts.operators.size > 0) {
    const { Wallet } = await import("ethers");
    for (const [address, key] of opts.operators) {
      let derived: string;
      try {
        derived = new Wallet(key).address.toLowerCase();
      } catch (error) {
        throw new AvsctlError("INVALID_KEY", `the key given for operator ${address} is not a private key`, {
          cause: error,
        });
      }
      if (derived !== address.toLowerCase()) {
        throw new AvsctlError("INVALID_KEY", `the key given for operator ${address} belongs to ${derived}`);
      }
      keys.set(derived, key);
    }
  }

  const controller = new AbortController();
  const signal = controller.signal;
  const answered = quantity(
    await jsonRpc<string>(rpcUrl, "eth_chainId", [], { signal: opts.signal, timeoutMs: 5_000 }),
  );
  if (answered !== chainId) {
    throw new AvsctlError(
      "INVALID_ARGUMENT",
      `the L2 RPC answers chain id ${answered}, expected ${chainId}`,
      {
        details: { argument: "l2.chainId", expected: chainId, answered },
      },
    );
  }
  const usesBlocks = states.some((s) => s.trigger.type === "block" || s.trigger.type === "event");
  let lastBlockSeen: number | null = usesBlocks
    ? quantity(await jsonRpc<string>(rpcUrl, "eth_blockNumber", [], { signal: opts.signal }))
    : null;
  for (const s of states) if (lastBlockSeen !== null) s.scannedTo = lastBlockSeen;

  const startedAt = new Date().toISOString();
  const records: FiringRecord[] = [];
  let stopped = false;
  let inflight = 0;
  let idleWaiters: Array<() => void> = [];
  let pollError: string | null = null;

  const readHead = async () => quantity(await jsonRpc<string>(rpcUrl, "eth_blockNumber", [], { signal }));
  const source: ActiveOperatorsSource =
    opts.activeOperators ?? ((block) => readActiveOperators(rpcUrl, attestationCenter, block, signal));
  // Several firings at one block must see one operator list; the cache also spares the node.
  const operatorCache = new Map<number, Promise<ReadonlyArray<ActiveOperator>>>();
  const operatorsAt = (block: number) => {
    let p = operatorCache.get(block);
    if (!p) {
      p = source(block);
      p.catch(() => operatorCache.delete(block));
      operatorCache.set(block, p);
      if (operatorCache.size > 32) operatorCache.delete(operatorCache.keys().next().value!);
    }
    return p;
  };

  const record = (s: TriggerState, r: FiringRecord) => {
    if (r.outcome === "sent") s.sent++;
    else if (r.outcome === "skipped") s.skipped++;
    else s.failed++;
    s.last = r;
    records.push(r);
    if (records.length > maxRecords) records.splice(0, records.length - maxRecords);
    debug("%s #%d %s at block %s by %s", r.trigger, r.n, r.outcome, r.blockNumber, r.performer);
    try {
      opts.onFiring?.(r);
    } catch {
      // an observer's failure is not the runner's
    }
  };

  const finish = (s: TriggerState) => {
    s.done = true;
    s.nextAt = null;
    if (s.timer) clearTimeout(s.timer);
    s.timer = undefined;
  };

  const sendOne = async (key: string, leader: ActiveOperator, data: string, taskDefinitionId: number) => {
    const send = opts.send;
    if (send.via === "rpc") {
      const task = buildTask({ data, taskDefinitionId });
      return sendTaskRpc(task, {
        aggregatorUrl: send.aggregatorUrl,
        performerKey: key,
        sigType: send.sigType ?? "ecdsa",
        targetChainId: send.targetChainId,
      });
    }
    return sendTaskViaExecution(
      send.executionUrl,
      {
        taskDefinitionId,
        data,
        ...(send.targetChainId === undefined ? {} : { targetChainId: send.targetChainId }),
      },
      send.performer ?? leader.operator,
    );
  };

  /** A firing's record before anything is known of its outcome (failed until it is sent). */
  const firingRecord = (s: TriggerState, n: number, firedAt: number, ctx: FiringContext): FiringRecord => ({
    trigger: s.id,
    taskDefinitionId: s.taskDefinitionId,
    type: s.trigger.type,
    n,
    firedAt: new Date(firedAt).toISOString(),
    scheduledAt: ctx.scheduledAt === undefined ? null : new Date(ctx.scheduledAt).toISOString(),
    blockNumber: ctx.blockNumber ?? null,
    performer: null,
    operatorId: null,
    outcome: "failed",
  });

  const perform = async (s: TriggerState, n: number, firedAt: number, ctx: FiringContext) => {
    if (stopped) return;
    const log = ctx.log;
    const base: FiringRecord = {
      ...firingRecord(s, n, firedAt, ctx),
      ...(log
        ? {
            log: {
              txHash: log.transactionHash,
              logIndex: quantity(log.logIndex),
              blockNumber: quantity(log.blockNumber),
            },
          }
        : {}),
    };
    try {
      const blockNumber = ctx.blockNumber ?? (await readHead());
      base.blockNumber = blockNumber;
      const leader = electPerformer(await operatorsAt(blockNumber), blockNumber, epochBlocks);
      if (!leader) {
        throw new AvsctlError(
          "COMMAND_FAILED",
          `no active operator at block ${blockNumber} to perform the task`,
        );
      }
      base.performer = leader.operator;
      base.operatorId = leader.operatorId;
      const key = keys.get(leader.operator.toLowerCase());
      if (!key) {
        record(s, { ...base, outcome: "skipped" });
        return;
      }
      const vars: Record<string, string | number> = {
        trigger: s.id,
        type: s.trigger.type,
        n,
        firedAt: base.firedAt,
        firedAtMs: firedAt,
        blockNumber,
        taskDefinitionId: s.taskDefinitionId,
        chainId,
        performer: leader.operator,
        operatorId: leader.operatorId,
      };
      if (base.scheduledAt) vars.scheduledAt = base.scheduledAt;
      if (log) {
        Object.assign(vars, {
          txHash: log.transactionHash,
          logIndex: quantity(log.logIndex),
          logBlockNumber: quantity(log.blockNumber),
          logAddress: log.address.toLowerCase(),
          logData: log.data,
        });
        log.topics.forEach((t, i) => {
          vars[`topic${i}`] = t;
        });
      }
      const data = renderTemplate(s.trigger.data ?? DEFAULT_DATA_TEMPLATE, vars);
      const sent = await sendOne(key, leader, data, s.taskDefinitionId);
      record(s, { ...base, outcome: "sent", taskHash: sent.taskHash, data: sent.data });
    } catch (error) {
      if (stopped && signal.aborted && !isAvsctlError(error)) return;
      record(s, { ...base, outcome: "failed", error: errorOf(error) });
    }
  };

  const notifyIdle = () => {
    if (inflight > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  };

  const fire = (s: TriggerState, ctx: FiringContext) => {
    if (s.done || stopped) return;
    const n = ++s.count;
    if (s.trigger.maxFirings !== undefined && n >= s.trigger.maxFirings) finish(s);
    const firedAt = Date.now();
    if (s.pending >= MAX_PENDING) {
      record(s, {
        ...firingRecord(s, n, firedAt, ctx),
        error: {
          code: "COMMAND_FAILED",
          message: `${MAX_PENDING} earlier firings are still being sent; this one was dropped`,
        },
      });
      return;
    }
    s.pending++;
    inflight++;
    s.queue = s.queue
      .then(() => perform(s, n, firedAt, ctx))
      .catch((error) => debug("%s: %s", s.id, (error as Error).message))
      .finally(() => {
        s.pending--;
        inflight--;
        notifyIdle();
      });
  };

  const armTime = (s: TriggerState) => {
    if (s.done || stopped) return;
    const now = Date.now();
    // Strictly after the last slot fired, so a timer that runs a little early never fires a slot twice.
    const at = nextFiring(s.trigger, Math.max(s.lastScheduled ?? now, now)).at;
    s.nextAt = at;
    if (at === null) {
      finish(s);
      return;
    }
    const delay = at - now;
    if (delay > MAX_TIMER_MS) {
      s.timer = setTimeout(() => armTime(s), MAX_TIMER_MS);
      return;
    }
    // Node may wake a timer a millisecond early; a slot never fires before its time.
    const wake = () => {
      const early = at - Date.now();
      if (early > 0) {
        s.timer = setTimeout(wake, early);
        return;
      }
      s.timer = undefined;
      s.lastScheduled = at;
      fire(s, { scheduledAt: at });
      armTime(s);
    };
    s.timer = setTimeout(wake, Math.max(0, delay));
  };

  const blockTimes = async (logs: RawLog[]): Promise<Map<number, number>> => {
    const times = new Map<number, number>();
    for (const l of logs)
      if (l.blockTimestamp) times.set(quantity(l.blockNumber), quantity(l.blockTimestamp) * 1000);
    const missing = [...new Set(logs.map((l) => quantity(l.blockNumber)))].filter((b) => !times.has(b));
    for (const b of missing) {
      const block = await jsonRpc<{ timestamp: string } | null>(
        rpcUrl,
        "eth_getBlockByNumber",
        [hex(b), false],
        {
          signal,
        },
      );
      if (!block) throw new Error(`block ${b} not found`);
      times.set(b, quantity(block.timestamp) * 1000);
    }
    return times;
  };

  const scanEvents = async (s: TriggerState, t: EventTrigger, head: number) => {
    for (
      let chunk = 0;
      chunk < MAX_LOG_CHUNKS_PER_POLL && s.scannedTo < head && !stopped && !s.done;
      chunk++
    ) {
      const from = s.scannedTo + 1;
      const to = Math.min(head, from + MAX_LOG_RANGE - 1);
      const logs = (
        await jsonRpc<RawLog[]>(
          rpcUrl,
          "eth_getLogs",
          [{ address: t.address, topics: t.topics, fromBlock: hex(from), toBlock: hex(to) }],
          { signal },
        )
      )
        .filter((l) => !l.removed)
        .sort(
          (a, b) =>
            quantity(a.blockNumber) - quantity(b.blockNumber) || quantity(a.logIndex) - quantity(b.logIndex),
        );
      const times = t.cooldownMs > 0 && logs.length > 0 ? await blockTimes(logs) : undefined;
      const items = logs.map((log) => ({ log, atMs: times?.get(quantity(log.blockNumber)) ?? 0 }));
      const { fire: firing, suppressed, lastFiredMs } = applyCooldown(items, s.lastFiredLogMs, t.cooldownMs);
      s.lastFiredLogMs = lastFiredMs;
      s.suppressed += suppressed.length;
      for (const { log } of firing) fire(s, { blockNumber: quantity(log.blockNumber), log });
      s.scannedTo = to;
    }
  };

  const pollOnce = async () => {
    const head = await readHead();
    if (lastBlockSeen === null || head < lastBlockSeen) {
      // First sight of the chain, or it went back (a reset devnet): resynchronise, fire nothing.
      lastBlockSeen = head;
      for (const s of states) s.scannedTo = Math.min(s.scannedTo, head);
      return;
    }
    if (head > lastBlockSeen) {
      for (const s of states) {
        if (s.trigger.type !== "block") continue;
        for (const b of blockFirings(s.trigger.everyBlocks, s.trigger.offset, lastBlockSeen, head))
          fire(s, { blockNumber: b });
      }
    }
    // lastBlock() moves only once the logs up to the head were read too, so a caller that waits
    // for a block and then for idle() sees every firing that block caused.
    let failure: unknown;
    try {
      for (const s of states) {
        if (s.trigger.type !== "event" || s.done) continue;
        try {
          await scanEvents(s, s.trigger, head);
        } catch (error) {
          failure ??= error;
        }
      }
    } finally {
      lastBlockSeen = head;
    }
    if (failure) throw failure;
  };

  const pollLoop = async () => {
    while (!stopped) {
      try {
        await pollOnce();
        pollError = null;
      } catch (error) {
        if (stopped) break;
        pollError = (error as Error).message;
        debug("poll failed: %s", pollError);
      }
      await sleep(pollMs, signal);
    }
  };

  const status = (): TriggerStatus[] =>
    states.map((s) => {
      const t = s.trigger;
      let nextBlock: number | null = null;
      if (t.type === "block" && !s.done && lastBlockSeen !== null) {
        nextBlock = nextFiringBlock(t.everyBlocks, t.offset, lastBlockSeen);
      }
      return {
        id: s.id,
        taskDefinitionId: s.taskDefinitionId,
        taskDefinitionName: s.taskDefinitionName,
        type: t.type,
        description: s.description,
        nextFiring: s.done || s.nextAt === null ? null : new Date(s.nextAt).toISOString(),
        nextBlock,
        firings: s.count,
        sent: s.sent,
        skipped: s.skipped,
        failed: s.failed,
        suppressed: s.suppressed,
        done: s.done,
        lastFiring: s.last,
      };
    });

  const statusResponse = (): TriggerStatusResponse => ({
    triggers: status(),
    blockNumber: lastBlockSeen,
    epochBlocks,
    chainId,
    startedAt,
    pollError,
  });

  let server: Server | undefined;
  let statusUrl: string | undefined;
  if (opts.statusPort !== undefined) {
    const host = opts.statusHost ?? "127.0.0.1";
    server = createServer((req, res) => serveStatus(req, res, statusResponse, () => [...records]));
    try {
      await new Promise<void>((resolve, reject) => {
        server!.once("error", reject);
        server!.listen(opts.statusPort, host, () => {
          server!.off("error", reject);
          resolve();
        });
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new AvsctlError(
        code === "EADDRINUSE" ? "PORT_IN_USE" : "COMMAND_FAILED",
        `the trigger status server could not listen on ${host}:${opts.statusPort} (${code ?? (error as Error).message})`,
        { details: { port: opts.statusPort }, cause: error },
      );
    }
    const port = (server.address() as AddressInfo).port;
    statusUrl = `http://${host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host}:${port}`;
  }

  for (const s of states) if (s.trigger.type !== "block" && s.trigger.type !== "event") armTime(s);
  const polling = usesBlocks ? pollLoop() : Promise.resolve();
  debug("started %d trigger(s), epochBlocks %d, holding %d key(s)", states.length, epochBlocks, keys.size);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      stopped = true;
      opts.signal?.removeEventListener("abort", onAbort);
      controller.abort(new Error("trigger runner stopped"));
      for (const s of states) {
        if (s.timer) clearTimeout(s.timer);
        s.timer = undefined;
        s.nextAt = null;
      }
      await polling;
      let capTimer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled(states.map((s) => s.queue)),
        new Promise<void>((resolve) => {
          capTimer = setTimeout(resolve, STOP_WAIT_MS);
        }),
      ]);
      clearTimeout(capTimer);
      if (server) {
        const closing = new Promise<void>((resolve) => server!.close(() => resolve()));
        server.closeAllConnections();
        await closing;
      }
      for (const w of idleWaiters) w();
      idleWaiters = [];
      debug("stopped");
    })();
    return stopping;
  };
  const onAbort = () => void stop();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  if (opts.signal?.aborted) await stop();

  return {
    statusUrl,
    status,
    firings: () => [...records],
    lastBlock: () => lastBlockSeen,
    idle: () =>
      inflight === 0 || stopped
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            idleWaiters.push(resolve);
          }),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

function serveStatus(
  req: IncomingMessage,
  res: ServerResponse,
  triggers: () => TriggerStatusResponse,
  firings: () => FiringRecord[],
): void {
  const reply = (code: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(code, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  };
  const path = new URL(req.url ?? "/", "http://localhost").pathname.replace(/\/+$/, "") || "/";
  if (req.method !== "GET") reply(405, { error: "method not allowed" });
  else if (path === "/health") reply(200, { status: "ok" });
  else if (path === "/triggers") reply(200, triggers());
  else if (path === "/firings") reply(200, { firings: firings() });
  else reply(404, { error: "not found" });
}
