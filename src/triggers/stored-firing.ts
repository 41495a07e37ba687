/**
 * The pure part of watching the task engine's stored tasks: a workflow trigger (Ava's shape:
 * fixedTime epochs, cron schedules, block interval, event queries) as the trigger runner's
 * triggers, each firing's TriggerReason (what makes it the same firing for the engine) and its
 * trigger data (the log, for an event).
 */

import { eventTopics } from "../workflow/topics.js";
import type { TopicFilter, Trigger } from "./schedule.js";
import type { FiringContext } from "./types.js";

/** A live task as GET /operator/tasks answers it. */
export interface LiveTask {
  id: string;
  trigger: { id?: string; name?: string; type: string; config: Record<string, unknown> };
  status: string;
  /** When the engine stored it (epoch ms); absent from engines older than this field. */
  createdAt?: number;
  startAt: number;
  expiredAt: number;
  maxExecution: number;
  totalExecution: number;
}

/** What the engine records as the reason of an execution (docs/task-engine.md). */
export interface StoredTriggerReason {
  type: "fixedTime" | "cron" | "block" | "event";
  blockNumber?: number;
  txHash?: string;
  logIndex?: number;
  epoch?: number;
}

/**
 * A query's topics (Ava's `[{values: [...]}]` or eth_getLogs' positional form), or undefined
 * when one cannot be read: such a query matches no log rather than any.
 */
export function topicsOf(raw: unknown): TopicFilter[] | undefined {
  const { topics, problems } = eventTopics(raw, "topics");
  return problems.length > 0 ? undefined : topics;
}

/** The runner's triggers a stored task's trigger fires on; none for manual (or a trigger it cannot watch). */
export function storedTriggers(task: Pick<LiveTask, "trigger">): Trigger[] {
  const { type, config } = task.trigger;
  switch (type) {
    case "fixedTime": {
      const epochs = Array.isArray(config.epochs) ? config.epochs.filter(Number.isSafeInteger) : [];
      return epochs.length
        ? [{ type: "fixedTime", at: [...(epochs as number[])].sort((a, b) => a - b) }]
        : [];
    }
    case "cron": {
      const raw = config.schedules ?? config.schedule;
      const schedules = (Array.isArray(raw) ? raw : [raw]).filter((s): s is string => typeof s === "string");
      return schedules.map((expression) => ({ type: "cron", expression, timezone: "UTC" }));
    }
    case "block": {
      const every = Number(config.interval);
      return Number.isSafeInteger(every) && every >= 1
        ? [{ type: "block", everyBlocks: every, offset: 0 }]
        : [];
    }
    case "event": {
      const queries = Array.isArray(config.queries) ? config.queries : [];
      return queries.flatMap((q) => {
        const query = (q ?? {}) as { addresses?: unknown; topics?: unknown };
        const addresses = Array.isArray(query.addresses) ? query.addresses : [];
        const topics = topicsOf(query.topics);
        if (!topics) return [];
        return addresses
          .filter((a): a is string => typeof a === "string" && /^0x[0-9a-fA-F]{40}$/.test(a))
          .map((address) => ({
            type: "event" as const,
            address: address.toLowerCase(),
            topics,
            cooldownMs: 0,
          }));
      });
    }
    default:
      return [];
  }
}

const quantity = (hex: string) => Number.parseInt(hex, 16);

/** Why the firing happened, as the engine keys it: the slot, the block, or the log. */
export function storedReason(trigger: Trigger, ctx: FiringContext): StoredTriggerReason {
  if (ctx.log) {
    return {
      type: "event",
      blockNumber: quantity(ctx.log.blockNumber),
      txHash: ctx.log.transactionHash,
      logIndex: quantity(ctx.log.logIndex),
    };
  }
  if (trigger.type === "block") return { type: "block", blockNumber: ctx.blockNumber! };
  return { type: trigger.type === "cron" ? "cron" : "fixedTime", epoch: ctx.scheduledAt! };
}

/** What the trigger hands the first nodes (`<triggerName>.data`). */
export function storedTriggerData(reason: StoredTriggerReason, ctx: FiringContext): Record<string, unknown> {
  if (ctx.log) {
    const log = ctx.log;
    return {
      address: log.address,
      topics: log.topics,
      data: log.data,
      blockNumber: quantity(log.blockNumber),
      transactionHash: log.transactionHash,
      logIndex: quantity(log.logIndex),
    };
  }
  if (reason.type === "block") return { blockNumber: reason.blockNumber };
  return { timestamp: reason.epoch, timestampIso: new Date(reason.epoch!).toISOString() };
}

/** The number leader election rotates on: the block of a chain firing, the slot's second of a time one. */
export function electionNumber(reason: StoredTriggerReason): number {
  return reason.blockNumber ?? Math.floor((reason.epoch ?? 0) / 1000);
}

/** Engine refusals after which the task fires no more (the watcher stops watching it). */
export const FINAL_REFUSALS = ["TASK_NOT_ACTIVE", "TASK_EXPIRED", "MAX_EXECUTION_REACHED", "NOT_FOUND"];

/** Which watched tasks to start and stop, given the engine's live tasks now. */
export function syncPlan(
  watched: ReadonlySet<string>,
  live: readonly LiveTask[],
): { start: LiveTask[]; stop: string[] } {
  const liveIds = new Set(live.map((t) => t.id));
  return {
    start: live.filter((t) => !watched.has(t.id) && storedTriggers(t).length > 0),
    stop: [...watched].filter((id) => !liveIds.has(id)),
  };
}
