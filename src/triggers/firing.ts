/**
 * Firing: what a runner does when a trigger fires. Each trigger's firings queue behind one
 * another; each elects its performer at its block, and the runner that holds the performer's
 * key renders the task data and sends the task, every other runner records a skip. Keeps the
 * firing records and knows when nothing is queued or in flight.
 */

import createDebug from "debug";
import { quantity } from "../chain/json-rpc.js";
import { fateUnknownMessage, type RetriedSend, sendWithRetries } from "../client/retry.js";
import {
  executionSends,
  type PreparedTask,
  prepareTask,
  type SentTask,
  sendPrepared,
} from "../client/send.js";
import { buildTask } from "../devnet/samples/sample-rule.js";
import { isAvsctlError } from "../errors.js";
import type { Election } from "./election.js";
import type { ActiveOperator } from "./leader.js";
import { DEFAULT_DATA_TEMPLATE, renderTemplate } from "./schedule.js";
import { countOutcome, finish, type TriggerState } from "./state.js";
import type { FiringContext, FiringRecord, TriggerSend } from "./types.js";

const debug = createDebug("avsctl:triggers:firing");

/** Firings of one trigger waiting behind a slow send before new ones are refused. */
const MAX_PENDING = 32;
/** How long stop() waits for sends in flight. */
const STOP_WAIT_MS = 5_000;
/** How long one firing's task may take to reach the aggregator, retries included (task send's default --timeout). */
export const DEFAULT_SEND_TIMEOUT_MS = 60_000;

const errorOf = (error: unknown) => ({
  code: isAvsctlError(error) ? error.code : "INTERNAL",
  message: error instanceof Error ? error.message : String(error),
});

export interface FiringOptions {
  send: TriggerSend;
  election: Election;
  chainId: number;
  /** The chain head, for firings that have no block of their own (time triggers). */
  readHead: () => Promise<number>;
  maxRecords: number;
  /** Bounds each firing's sends, retries included (default DEFAULT_SEND_TIMEOUT_MS). */
  sendTimeoutMs?: number;
  /** The time firings are stamped with (the clock's, so `firedAt` never precedes the slot). */
  now?: () => number;
  onFiring?: (record: FiringRecord) => void;
  /** Aborted when the runner stops: sends in flight are cancelled. */
  signal: AbortSignal;
}

export class Firing {
  private readonly records: FiringRecord[] = [];
  private inflight = 0;
  private idleWaiters: Array<() => void> = [];
  private stopped = false;

  constructor(private readonly opts: FiringOptions) {}

  /** The kept records, oldest first. */
  list(): FiringRecord[] {
    return [...this.records];
  }

  /** Queues one firing of `s`; a trigger that reached maxFirings is finished here. */
  fire(s: TriggerState, ctx: FiringContext): void {
    if (s.done || this.stopped) return;
    const n = ++s.count;
    if (s.trigger.maxFirings !== undefined && n >= s.trigger.maxFirings) finish(s);
    const firedAt = this.opts.now?.() ?? Date.now();
    if (s.pending >= MAX_PENDING) {
      this.record(s, {
        ...firingRecord(s, n, firedAt, ctx),
        error: {
          code: "COMMAND_FAILED",
          message: `${MAX_PENDING} earlier firings are still being sent; this one was dropped`,
        },
      });
      return;
    }
    s.pending++;
    this.inflight++;
    s.queue = s.queue
      .then(() => this.perform(s, n, firedAt, ctx))
      .catch((error) => debug("%s: %s", s.id, (error as Error).message))
      .finally(() => {
        s.pending--;
        this.inflight--;
        this.notifyIdle();
      });
  }

  /** Resolves once no firing is queued or in flight (at once after stop()). */
  idle(): Promise<void> {
    if (this.inflight === 0 || this.stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.idleWaiters.push(resolve);
    });
  }

  /** Refuses new firings from now on; queued ones that have not started are dropped. */
  halt(): void {
    this.stopped = true;
  }

  /** After halt(): waits up to STOP_WAIT_MS for the sends in flight of `states`, then releases idle() waiters. */
  async drain(states: readonly TriggerState[]): Promise<void> {
    let capTimer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(states.map((s) => s.queue)),
      new Promise<void>((resolve) => {
        capTimer = setTimeout(resolve, STOP_WAIT_MS);
      }),
    ]);
    clearTimeout(capTimer);
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private notifyIdle(): void {
    if (this.inflight > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private record(s: TriggerState, r: FiringRecord): void {
    countOutcome(s, r);
    this.records.push(r);
    if (this.records.length > this.opts.maxRecords) {
      this.records.splice(0, this.records.length - this.opts.maxRecords);
    }
    debug("%s #%d %s at block %s by %s", r.trigger, r.n, r.outcome, r.blockNumber, r.performer);
    try {
      this.opts.onFiring?.(r);
    } catch {
      // an observer's failure is not the runner's
    }
  }

  private async perform(s: TriggerState, n: number, firedAt: number, ctx: FiringContext): Promise<void> {
    if (this.stopped) return;
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
      const blockNumber = ctx.blockNumber ?? (await this.opts.readHead());
      base.blockNumber = blockNumber;
      const { leader, key } = await this.opts.election.elect(blockNumber);
      base.performer = leader.operator;
      base.operatorId = leader.operatorId;
      if (!key) {
        this.record(s, { ...base, outcome: "skipped" });
        return;
      }
      const vars = templateVars(s, base, {
        n,
        firedAt,
        blockNumber,
        chainId: this.opts.chainId,
        leader,
        ctx,
      });
      const data = renderTemplate(s.trigger.data ?? DEFAULT_DATA_TEMPLATE, vars);
      const timeoutMs = this.opts.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS;
      const { result, task } = await this.sendOne(key, leader, data, s.taskDefinitionId, timeoutMs);
      if (result.ok) {
        this.record(s, { ...base, outcome: "sent", taskHash: result.sent.taskHash, data: result.sent.data });
      } else if (result.fateUnknown && task) {
        // A send of this very task may have reached the aggregator, and no answer came since: it
        // may be taken, so this is no failure, and firing it again would make a second task.
        const until = this.opts.signal.aborted
          ? "before the trigger runner stopped"
          : `within ${timeoutMs / 1000} s`;
        this.record(s, {
          ...base,
          outcome: "unknown",
          taskHash: task.taskHash,
          data: task.data,
          error: { ...errorOf(result.error), message: fateUnknownMessage(result.error, until) },
        });
      } else {
        this.record(s, { ...base, outcome: "failed", error: errorOf(result.error) });
      }
    } catch (error) {
      if (this.stopped && this.opts.signal.aborted && !isAvsctlError(error)) return;
      this.record(s, { ...base, outcome: "failed", error: errorOf(error) });
    }
  }

  /**
   * Sends one firing's task as task send does (client/retry.ts): a busy aggregator is answered
   * after the wait it asks for, and a send that may have reached it unanswered goes again as that
   * very task (signed here, or handed back by the execution service) until the aggregator
   * answers or `timeoutMs` passes, so a firing makes one task at most. `task` is the signed task
   * once one is known.
   */
  private async sendOne(
    key: string,
    leader: ActiveOperator,
    data: string,
    taskDefinitionId: number,
    timeoutMs: number,
  ): Promise<{ result: RetriedSend; task: PreparedTask | undefined }> {
    const send = this.opts.send;
    const deadline = Date.now() + timeoutMs;
    let attempt: (timeLeftMs: number) => Promise<SentTask>;
    let task: () => PreparedTask | undefined;
    if (send.via === "rpc") {
      const prepared = await prepareTask(buildTask({ data, taskDefinitionId }), {
        aggregatorUrl: send.aggregatorUrl,
        performerKey: key,
        sigType: send.sigType ?? "ecdsa",
        targetChainId: send.targetChainId,
      });
      attempt = (left) => sendPrepared(prepared, send.aggregatorUrl, Math.min(15_000, left));
      task = () => prepared;
    } else {
      // The service builds a new task on each call: it is called again only when nothing reached
      // the aggregator; once it hands back the task it signed, that task goes to the aggregator.
      const sends = executionSends(
        send.executionUrl,
        {
          taskDefinitionId,
          data,
          ...(send.targetChainId === undefined ? {} : { targetChainId: send.targetChainId }),
        },
        send.performer ?? leader.operator,
        send.aggregatorUrl,
      );
      attempt = (left) => sends.sendOne(0, left);
      task = () => sends.signedTask(0);
    }
    const result = await sendWithRetries(attempt, {
      deadline,
      idempotent: () => task() !== undefined,
      // an aggregator that refused the connection took nothing: the firing failed, as it says
      retryUnavailable: false,
      signal: this.opts.signal,
    });
    return { result, task: task() };
  }
}

/** A firing's record before anything is known of its outcome (failed until it is sent). */
function firingRecord(s: TriggerState, n: number, firedAt: number, ctx: FiringContext): FiringRecord {
  return {
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
  };
}

/** The placeholders a trigger's data template may use. */
function templateVars(
  s: TriggerState,
  base: FiringRecord,
  at: {
    n: number;
    firedAt: number;
    blockNumber: number;
    chainId: number;
    leader: ActiveOperator;
    ctx: FiringContext;
  },
): Record<string, string | number> {
  const vars: Record<string, string | number> = {
    trigger: s.id,
    type: s.trigger.type,
    n: at.n,
    firedAt: base.firedAt,
    firedAtMs: at.firedAt,
    blockNumber: at.blockNumber,
    taskDefinitionId: s.taskDefinitionId,
    chainId: at.chainId,
    performer: at.leader.operator,
    operatorId: at.leader.operatorId,
  };
  if (base.scheduledAt) vars.scheduledAt = base.scheduledAt;
  const log = at.ctx.log;
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
  return vars;
}
