/**
 * Each trigger's state while a runner runs it: counts, its timer or scan position, its send
 * queue and its last firing. The other parts (clock, poller, firing) read and move it; the
 * status is a projection of it.
 */

import { AvsctlError } from "../errors.js";
import { describeTrigger, nextFiringBlock, parseTrigger, type Trigger } from "./schedule.js";
import type { FiringRecord, TriggerDefinition, TriggerStatus } from "./types.js";

export interface TriggerState {
  id: string;
  taskDefinitionId: number;
  taskDefinitionName: string | null;
  trigger: Trigger;
  description: string;
  count: number;
  sent: number;
  skipped: number;
  unknown: number;
  failed: number;
  suppressed: number;
  done: boolean;
  nextAt: number | null;
  lastScheduled?: number;
  timer?: NodeJS.Timeout;
  /** Block and event triggers: the last block read for it (its logs, for an event trigger). */
  scannedTo: number;
  lastFiredLogMs?: number;
  queue: Promise<void>;
  pending: number;
  last: FiringRecord | null;
}

/**
 * A trigger's state before its first firing. The trigger runner (configured task definitions)
 * and the stored-task watcher (the engine's tasks) both start their triggers here, so the
 * clock, poller and firing parts they share find the same fields set the same way.
 */
export function newTriggerState(
  id: string,
  taskDefinitionId: number,
  taskDefinitionName: string | null,
  trigger: Trigger,
): TriggerState {
  return {
    id,
    taskDefinitionId,
    taskDefinitionName,
    trigger,
    description: describeTrigger(trigger),
    count: 0,
    sent: 0,
    skipped: 0,
    unknown: 0,
    failed: 0,
    suppressed: 0,
    done: false,
    nextAt: null,
    scannedTo: 0,
    queue: Promise.resolve(),
    pending: 0,
    last: null,
  };
}

/**
 * One state per trigger of the definitions, in order; throws CONFIG_INVALID naming every
 * problem (by `definitions[i].triggers[j]` path) when any trigger or id is invalid.
 */
export function triggerStates(definitions: ReadonlyArray<TriggerDefinition>): TriggerState[] {
  const states: TriggerState[] = [];
  const problems: Array<{ path: string; message: string }> = [];
  for (const [i, def] of definitions.entries()) {
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
      states.push(
        newTriggerState(
          `${def.taskDefinitionId}#${j}`,
          def.taskDefinitionId,
          def.name ?? null,
          parsed.trigger,
        ),
      );
    }
  }
  if (problems.length > 0) {
    throw new AvsctlError(
      "CONFIG_INVALID",
      `invalid trigger configuration: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
      { details: { problems } },
    );
  }
  return states;
}

/** Whether the trigger is driven by the chain (blocks or logs) rather than the clock. */
export const isChainTrigger = (s: TriggerState) => s.trigger.type === "block" || s.trigger.type === "event";

/** No further firings: clears the trigger's timer. */
export function finish(s: TriggerState): void {
  s.done = true;
  s.nextAt = null;
  if (s.timer) clearTimeout(s.timer);
  s.timer = undefined;
}

/** Counts a firing's outcome and keeps it as the trigger's last. */
export function countOutcome(s: TriggerState, r: FiringRecord): void {
  if (r.outcome === "sent") s.sent++;
  else if (r.outcome === "skipped") s.skipped++;
  else if (r.outcome === "unknown") s.unknown++;
  else s.failed++;
  s.last = r;
}

/** The triggers as GET /triggers shows them, given the last block the poller processed. */
export function triggerStatus(states: readonly TriggerState[], lastBlock: number | null): TriggerStatus[] {
  return states.map((s) => {
    const t = s.trigger;
    let nextBlock: number | null = null;
    if (t.type === "block" && !s.done && lastBlock !== null) {
      nextBlock = nextFiringBlock(t.everyBlocks, t.offset, lastBlock);
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
      unknown: s.unknown,
      failed: s.failed,
      suppressed: s.suppressed,
      done: s.done,
      lastFiring: s.last,
    };
  });
}
