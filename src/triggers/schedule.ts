/**
 * The pure schedule arithmetic the runner and `task triggers` share: next firing times
 * (interval, cron, fixed times), block multiples, event cooldowns, descriptions and the task
 * data template. Nothing here reads a clock or a chain; callers pass `now` and blocks in.
 * Parsing the config's trigger shapes lives in src/config/triggers.ts (re-exported here).
 */

import { Cron } from "croner";
import { formatDuration, type Trigger } from "../config/triggers.js";

export {
  type BlockTrigger,
  type CronTrigger,
  type EventTrigger,
  eventTopic,
  type FixedTimeTrigger,
  formatDuration,
  type IntervalTrigger,
  MIN_INTERVAL_MS,
  type ParsedTrigger,
  parseDuration,
  parseTrigger,
  type TopicFilter,
  TRIGGER_TYPES,
  type Trigger,
  type TriggerType,
} from "../config/triggers.js";

/** The next interval firing strictly after `after`: firings sit on multiples of everyMs since the epoch. */
export function nextIntervalTime(everyMs: number, after: number): number {
  return (Math.floor(after / everyMs) + 1) * everyMs;
}

/** The next cron firing strictly after `after` (epoch ms), or null when there is none. */
export function nextCronTime(expression: string, timezone: string | undefined, after: number): number | null {
  const job = new Cron(expression, { timezone, paused: true });
  const next = job.nextRun(new Date(after));
  return next ? next.getTime() : null;
}

/** The first fixed time strictly after `after`, or null when they are all past. */
export function nextFixedTime(times: readonly number[], after: number): number | null {
  for (const t of times) if (t > after) return t;
  return null;
}

/** The first block strictly after `lastBlock` on which a block trigger fires. */
export function nextFiringBlock(everyBlocks: number, offset: number, lastBlock: number): number {
  const base = Math.floor((lastBlock - offset) / everyBlocks) * everyBlocks + offset;
  return base > lastBlock ? base : base + everyBlocks;
}

/**
 * The blocks in (fromExclusive, toInclusive] on which a block trigger fires, oldest first, at
 * most `cap` of them (the newest are kept: a runner far behind catches up, not replays).
 */
export function blockFirings(
  everyBlocks: number,
  offset: number,
  fromExclusive: number,
  toInclusive: number,
  cap = 256,
): number[] {
  const out: number[] = [];
  if (toInclusive <= fromExclusive) return out;
  let b = nextFiringBlock(everyBlocks, offset, fromExclusive);
  const count = b > toInclusive ? 0 : Math.floor((toInclusive - b) / everyBlocks) + 1;
  if (count > cap) b += (count - cap) * everyBlocks;
  for (; b <= toInclusive; b += everyBlocks) out.push(b);
  return out;
}

/** Whether an event at `atMs` may fire, given the last firing of its trigger at `lastFiredMs`. */
export function cooldownAllows(lastFiredMs: number | undefined, atMs: number, cooldownMs: number): boolean {
  return lastFiredMs === undefined || cooldownMs <= 0 || atMs - lastFiredMs >= cooldownMs;
}

/**
 * Splits matching logs (oldest first, each with its block time) into those that fire and those
 * the cooldown suppresses. Time is the chain's (block timestamps), so every runner reading the
 * same chain suppresses the same logs.
 */
export function applyCooldown<T extends { atMs: number }>(
  items: readonly T[],
  lastFiredMs: number | undefined,
  cooldownMs: number,
): { fire: T[]; suppressed: T[]; lastFiredMs: number | undefined } {
  const fire: T[] = [];
  const suppressed: T[] = [];
  let last = lastFiredMs;
  for (const item of items) {
    if (cooldownAllows(last, item.atMs, cooldownMs)) {
      fire.push(item);
      last = item.atMs;
    } else suppressed.push(item);
  }
  return { fire, suppressed, lastFiredMs: last };
}

export interface NextFiring {
  /** Epoch ms of the next time-based firing, or null. */
  at: number | null;
  /** The next block a block trigger fires on, or null. */
  block: number | null;
}

/**
 * When a trigger fires next, for display: time triggers give a time strictly after `now`,
 * block triggers the next block after `lastBlock` (null when the head is unknown), event
 * triggers neither (they fire when a matching log appears).
 */
export function nextFiring(trigger: Trigger, now: number, lastBlock?: number | null): NextFiring {
  switch (trigger.type) {
    case "interval":
      return { at: nextIntervalTime(trigger.everyMs, now), block: null };
    case "cron":
      return { at: nextCronTime(trigger.expression, trigger.timezone, now), block: null };
    case "fixedTime":
      return { at: nextFixedTime(trigger.at, now), block: null };
    case "block":
      return {
        at: null,
        block:
          lastBlock === undefined || lastBlock === null
            ? null
            : nextFiringBlock(trigger.everyBlocks, trigger.offset, lastBlock),
      };
    case "event":
      return { at: null, block: null };
  }
}

const short = (hex: string) => (hex.length > 14 ? `${hex.slice(0, 10)}…${hex.slice(-4)}` : hex);

/** A one-line human description ("every 30s", "cron 0 * * * * (Europe/Paris)", ...). */
export function describeTrigger(trigger: Trigger): string {
  const max = trigger.maxFirings === undefined ? "" : `, at most ${trigger.maxFirings} firings`;
  switch (trigger.type) {
    case "interval":
      return `every ${formatDuration(trigger.everyMs)}${max}`;
    case "cron":
      return `cron ${trigger.expression} (${trigger.timezone ?? "local time"})${max}`;
    case "fixedTime": {
      const shown = trigger.at.slice(0, 3).map((t) => new Date(t).toISOString());
      const more = trigger.at.length > 3 ? ` and ${trigger.at.length - 3} more` : "";
      return `at ${shown.join(", ")}${more}${max}`;
    }
    case "block":
      return `every ${trigger.everyBlocks === 1 ? "block" : `${trigger.everyBlocks} blocks`}${trigger.offset ? ` (offset ${trigger.offset})` : ""}${max}`;
    case "event": {
      const topics = trigger.topics
        .map((t, i) =>
          t === null ? null : `topic${i} ${Array.isArray(t) ? `any of ${t.map(short).join("|")}` : short(t)}`,
        )
        .filter((x) => x !== null);
      const cooldown = trigger.cooldownMs > 0 ? `, cooldown ${formatDuration(trigger.cooldownMs)}` : "";
      return `each log of ${short(trigger.address)}${topics.length ? ` with ${topics.join(", ")}` : ""}${cooldown}${max}`;
    }
  }
}

/**
 * Fills `{{name}}` placeholders (spaces allowed inside the braces) from `vars`; unknown names
 * are left as written so a typo is visible in the task data rather than silently empty.
 */
export function renderTemplate(template: string, vars: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}/g, (whole, name: string) =>
    Object.hasOwn(vars, name) ? String(vars[name]) : whole,
  );
}

/**
 * The task data when a trigger has no `data` template: unique per firing (task hashes must
 * differ, or the AttestationCenter refuses the second one as MessageAlreadySigned).
 */
export const DEFAULT_DATA_TEMPLATE =
  '{"trigger":"{{trigger}}","n":{{n}},"firedAt":"{{firedAt}}","blockNumber":{{blockNumber}}}';
