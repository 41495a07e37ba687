/**
 * Task triggers as data: parsing and validating the `triggers` of a task definition (the
 * config's shapes), and the pure schedule arithmetic the runner and `task triggers` share:
 * next firing times (interval, cron, fixed times), block multiples, event cooldowns and the
 * task data template. Nothing here reads a clock or a chain; callers pass `now` and blocks in.
 */

import { keccak_256 } from "@noble/hashes/sha3.js";
import { Cron } from "croner";
import type { ConfigProblem, TriggerConfig } from "../config/schema.js";

export type TriggerType = "interval" | "cron" | "fixedTime" | "block" | "event";
export const TRIGGER_TYPES: readonly TriggerType[] = ["interval", "cron", "fixedTime", "block", "event"];

/** One position of an event filter: any value (null), one topic, or any of several. */
export type TopicFilter = string | string[] | null;

interface TriggerBase {
  /** Task data template; placeholders `{{name}}` are filled at each firing (see renderTemplate). */
  data?: string;
  /** The trigger stops after this many firings (counted whoever performed them). */
  maxFirings?: number;
}

/** A trigger after validation, with durations in ms, times as epoch ms and topics as hex. */
export type Trigger =
  | (TriggerBase & { type: "interval"; everyMs: number })
  | (TriggerBase & { type: "cron"; expression: string; timezone?: string })
  | (TriggerBase & { type: "fixedTime"; at: number[] })
  | (TriggerBase & { type: "block"; everyBlocks: number; offset: number })
  | (TriggerBase & { type: "event"; address: string; topics: TopicFilter[]; cooldownMs: number });

export type IntervalTrigger = Extract<Trigger, { type: "interval" }>;
export type CronTrigger = Extract<Trigger, { type: "cron" }>;
export type FixedTimeTrigger = Extract<Trigger, { type: "fixedTime" }>;
export type BlockTrigger = Extract<Trigger, { type: "block" }>;
export type EventTrigger = Extract<Trigger, { type: "event" }>;

/** The fastest interval accepted: faster would flood the aggregator rather than test it. */
export const MIN_INTERVAL_MS = 100;
const MAX_SAFE_DELAY_MS = 10 * 365 * 24 * 3600 * 1000;

const COMMON_KEYS = ["type", "data", "maxFirings"] as const;
const KEYS_BY_TYPE: Record<TriggerType, readonly string[]> = {
  interval: ["everyMs", "every"],
  cron: ["expression", "timezone"],
  fixedTime: ["at"],
  block: ["everyBlocks", "offset"],
  event: ["address", "topics", "cooldownMs", "cooldown"],
};

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a duration such as "250ms", "30s", "5m", "1h30m" or "1.5s" into milliseconds;
 * undefined when the text is not one.
 */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(s)) return undefined;
  let total = 0;
  for (const [, value, , unit] of s.matchAll(/(\d+(\.\d+)?)(ms|s|m|h|d)/g)) {
    total += Number(value) * UNITS[unit!]!;
  }
  return Math.round(total);
}

/** Milliseconds as the shortest readable duration ("250ms", "30s", "1h30m"). */
export function formatDuration(ms: number): string {
  if (ms < 1000 || ms % 1000 !== 0) return `${ms}ms`;
  let rest = ms;
  let out = "";
  for (const [unit, size] of [
    ["d", UNITS.d!],
    ["h", UNITS.h!],
    ["m", UNITS.m!],
    ["s", UNITS.s!],
  ] as const) {
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out;
}

/** The topic0 of an event signature such as "Transfer(address,address,uint256)". */
export function eventTopic(signature: string): string {
  const digest = keccak_256(new TextEncoder().encode(signature.replace(/\s+/g, "")));
  return `0x${Buffer.from(digest).toString("hex")}`;
}

export interface ParsedTrigger {
  /** The normalised trigger, when there were no errors. */
  trigger?: Trigger;
  /** The accepted config form (known keys only), when there were no errors. */
  config?: TriggerConfig;
  errors: ConfigProblem[];
  warnings: ConfigProblem[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const describe = (v: unknown) => (Array.isArray(v) ? "an array" : v === null ? "null" : `a ${typeof v}`);
const at = (path: string, key: string | number) =>
  typeof key === "number" ? `${path}[${key}]` : path ? `${path}.${key}` : key;
const HEX32 = /^0x[0-9a-fA-F]{64}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const EVENT_SIGNATURE = /^[A-Za-z_$][A-Za-z0-9_$]*\(.*\)$/;

/**
 * Validates one raw trigger (as found in `taskDefinitions[].triggers[]`) and normalises it.
 * Never throws: problems come back by dotted path under `path`, unknown keys as warnings.
 *
 * @example
 * parseTrigger({ type: "interval", every: "30s" }, "taskDefinitions[0].triggers[0]").trigger
 * // { type: "interval", everyMs: 30000 }
 */
export function parseTrigger(raw: unknown, path: string): ParsedTrigger {
  const errors: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const fail = (p: string, message: string): undefined => {
    errors.push({ path: p, message });
    return undefined;
  };
  if (!isObj(raw)) {
    fail(path, `expected an object, got ${describe(raw)}`);
    return { errors, warnings };
  }
  const type = raw.type;
  if (type === undefined) {
    fail(at(path, "type"), `required: one of ${TRIGGER_TYPES.join(", ")}`);
    return { errors, warnings };
  }
  if (typeof type !== "string" || !(TRIGGER_TYPES as readonly string[]).includes(type)) {
    fail(at(path, "type"), `expected one of ${TRIGGER_TYPES.join(", ")}, got ${JSON.stringify(type)}`);
    return { errors, warnings };
  }
  const t = type as TriggerType;
  const known = [...COMMON_KEYS, ...KEYS_BY_TYPE[t]];
  for (const key of Object.keys(raw)) {
    if (!known.includes(key)) {
      warnings.push({ path: at(path, key), message: `unknown key for a ${t} trigger, ignored` });
    }
  }

  const positiveInt = (key: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined => {
    const v = raw[key];
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      return fail(at(path, key), `expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  /** A duration given either as `<key>Ms` (number) or `<key>` (text like "30s"). */
  const duration = (msKey: string, textKey: string, min: number): number | undefined => {
    const ms = raw[msKey];
    const text = raw[textKey];
    if (ms !== undefined && text !== undefined) {
      return fail(at(path, textKey), `give either ${msKey} or ${textKey}, not both`);
    }
    if (ms !== undefined) return positiveInt(msKey, min, MAX_SAFE_DELAY_MS);
    if (text === undefined) return undefined;
    const parsed = typeof text === "string" ? parseDuration(text) : undefined;
    if (parsed === undefined) {
      return fail(
        at(path, textKey),
        `expected a duration like "500ms", "30s", "5m" or "1h", got ${JSON.stringify(text)}`,
      );
    }
    if (parsed < min || parsed > MAX_SAFE_DELAY_MS) {
      return fail(at(path, textKey), `expected at least ${formatDuration(min)}, got ${JSON.stringify(text)}`);
    }
    return parsed;
  };

  const base: TriggerBase = {};
  if (raw.data !== undefined) {
    if (typeof raw.data === "string") base.data = raw.data;
    else if (typeof raw.data === "object" && raw.data !== null) base.data = JSON.stringify(raw.data);
    else fail(at(path, "data"), `expected a string or a JSON object, got ${describe(raw.data)}`);
  }
  const maxFirings = positiveInt("maxFirings", 1);
  if (maxFirings !== undefined) base.maxFirings = maxFirings;

  let trigger: Trigger | undefined;
  switch (t) {
    case "interval": {
      const everyMs = duration("everyMs", "every", MIN_INTERVAL_MS);
      if (everyMs === undefined && raw.everyMs === undefined && raw.every === undefined) {
        fail(at(path, "every"), 'required: "every" (like "30s") or "everyMs"');
      }
      if (everyMs !== undefined) trigger = { ...base, type: t, everyMs };
      break;
    }
    case "cron": {
      const expression = raw.expression;
      let timezone: string | undefined;
      if (raw.timezone !== undefined) {
        if (typeof raw.timezone !== "string" || !isTimeZone(raw.timezone)) {
          fail(
            at(path, "timezone"),
            `expected an IANA time zone like "UTC" or "Europe/Paris", got ${JSON.stringify(raw.timezone)}`,
          );
        } else timezone = raw.timezone;
      }
      if (expression === undefined) {
        fail(at(path, "expression"), 'required: a cron expression like "*/5 * * * *"');
        break;
      }
      if (typeof expression !== "string") {
        fail(at(path, "expression"), `expected a string, got ${describe(expression)}`);
        break;
      }
      const problem = cronProblem(expression, timezone);
      if (problem) fail(at(path, "expression"), problem);
      else trigger = { ...base, type: t, expression: expression.trim(), ...(timezone ? { timezone } : {}) };
      break;
    }
    case "fixedTime": {
      const list = raw.at;
      if (list === undefined) {
        fail(at(path, "at"), "required: a list of ISO times or epoch milliseconds");
        break;
      }
      if (!Array.isArray(list) || list.length === 0) {
        fail(at(path, "at"), `expected a non-empty array, got ${describe(list)}`);
        break;
      }
      const times: number[] = [];
      for (const [i, v] of list.entries()) {
        const ms = toEpochMs(v);
        if (ms === undefined) {
          fail(
            at(at(path, "at"), i),
            `expected an ISO time like "2030-01-01T12:00:00Z" or epoch milliseconds, got ${JSON.stringify(v)}`,
          );
        } else times.push(ms);
      }
      if (times.length === list.length) {
        trigger = { ...base, type: t, at: [...new Set(times)].sort((a, b) => a - b) };
      }
      break;
    }
    case "block": {
      const everyBlocks = positiveInt("everyBlocks", 1, 1_000_000_000);
      if (raw.everyBlocks === undefined) fail(at(path, "everyBlocks"), "required: fire on every N-th block");
      const offset = positiveInt(
        "offset",
        0,
        everyBlocks === undefined ? Number.MAX_SAFE_INTEGER : everyBlocks - 1,
      );
      if (everyBlocks !== undefined) trigger = { ...base, type: t, everyBlocks, offset: offset ?? 0 };
      break;
    }
    case "event": {
      let address: string | undefined;
      if (raw.address === undefined)
        fail(at(path, "address"), "required: the contract whose logs fire the trigger");
      else if (typeof raw.address !== "string" || !ADDRESS.test(raw.address)) {
        fail(
          at(path, "address"),
          `expected a 0x-prefixed 20-byte address, got ${JSON.stringify(raw.address)}`,
        );
      } else address = raw.address.toLowerCase();
      const topics = parseTopics(raw.topics, at(path, "topics"), fail);
      const cooldownMs = duration("cooldownMs", "cooldown", 0);
      if (address && topics) trigger = { ...base, type: t, address, topics, cooldownMs: cooldownMs ?? 0 };
      break;
    }
  }
  if (errors.length > 0 || !trigger) return { errors, warnings };
  const config = Object.fromEntries(
    Object.entries(raw).filter(([k]) => known.includes(k)),
  ) as unknown as TriggerConfig;
  return { trigger, config, errors, warnings };
}

function parseTopics(
  value: unknown,
  path: string,
  fail: (p: string, m: string) => undefined,
): TopicFilter[] | undefined {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > 4) {
    return fail(path, `expected an array of at most 4 topics (null for any), got ${describe(value)}`);
  }
  const out: TopicFilter[] = [];
  let ok = true;
  const one = (v: unknown, p: string, position: number): string | undefined => {
    if (typeof v === "string" && HEX32.test(v)) return v.toLowerCase();
    // Only topic0 is an event's signature hash; later topics are indexed values.
    if (position === 0 && typeof v === "string" && EVENT_SIGNATURE.test(v.trim()))
      return eventTopic(v.trim());
    ok = false;
    return fail(
      p,
      `expected a 32-byte 0x-hex topic${position === 0 ? ', an event signature like "Transfer(address,address,uint256)"' : ""} or null, got ${JSON.stringify(v)}`,
    );
  };
  for (const [i, v] of value.entries()) {
    if (v === null) out.push(null);
    else if (Array.isArray(v)) {
      if (v.length === 0) {
        ok = false;
        fail(at(path, i), "expected at least one topic in the list (null matches any)");
      } else out.push(v.map((x, j) => one(x, at(at(path, i), j), i) ?? ""));
    } else out.push(one(v, at(path, i), i) ?? null);
  }
  while (out.length > 0 && out[out.length - 1] === null) out.pop();
  return ok ? out : undefined;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Why croner would not run this expression, or undefined when it would. */
function cronProblem(expression: string, timezone: string | undefined): string | undefined {
  const fields = expression.trim().split(/\s+/);
  // croner also accepts an ISO date as a one-off job; a cron trigger must be a pattern.
  if (fields.length < 5 || fields.length > 7) {
    return `expected 5 to 7 space-separated cron fields (like "*/5 * * * *"), got ${JSON.stringify(expression)}`;
  }
  try {
    const job = new Cron(expression.trim(), { timezone, paused: true });
    if (job.nextRun() === null) return `the cron expression ${JSON.stringify(expression)} never fires`;
    return undefined;
  } catch (error) {
    return `invalid cron expression: ${(error as Error).message}`;
  }
}

function toEpochMs(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2}/.test(value.trim())) return undefined;
  const ms = Date.parse(value.trim());
  return Number.isNaN(ms) ? undefined : ms;
}

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
