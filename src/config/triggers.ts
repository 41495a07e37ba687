/**
 * The config's trigger shapes (`taskDefinitions[].triggers[]`): their raw form, parsing and
 * validation into normalised triggers, and the duration and topic notations they use. It lives
 * in config so that validating a config needs nothing above it; src/triggers runs what this
 * accepts.
 */

import { keccak_256 } from "@noble/hashes/sha3.js";
import { Cron } from "croner";
import type { ConfigProblem } from "./problem.js";

/** Keys every trigger accepts (the runner in src/triggers fires them). */
export interface TriggerCommonConfig {
  /** Task data template: `{{n}}`, `{{firedAt}}`, `{{blockNumber}}`...; an object is sent as its JSON. */
  data?: string | Record<string, unknown> | unknown[];
  /** Stop after this many firings. */
  maxFirings?: number;
}
export interface IntervalTriggerConfig extends TriggerCommonConfig {
  type: "interval";
  /** Exactly one of everyMs or every ("30s", "5m"). */
  everyMs?: number;
  every?: string;
}
export interface CronTriggerConfig extends TriggerCommonConfig {
  type: "cron";
  expression: string;
  /** IANA zone (default: the machine's local time). */
  timezone?: string;
}
export interface FixedTimeTriggerConfig extends TriggerCommonConfig {
  type: "fixedTime";
  /** ISO times or epoch milliseconds. */
  at: Array<string | number>;
}
export interface BlockTriggerConfig extends TriggerCommonConfig {
  type: "block";
  everyBlocks: number;
  /** Fire on blocks where blockNumber % everyBlocks === offset (default 0). */
  offset?: number;
}
export interface EventTriggerConfig extends TriggerCommonConfig {
  type: "event";
  address: string;
  /** topic0 (hash or event signature), topic1..3; null matches any, an array any of its topics. */
  topics?: Array<string | string[] | null>;
  /** At most one firing per cooldown, measured in block time; or `cooldown: "30s"`. */
  cooldownMs?: number;
  cooldown?: string;
}
export type TriggerConfig =
  | IntervalTriggerConfig
  | CronTriggerConfig
  | FixedTimeTriggerConfig
  | BlockTriggerConfig
  | EventTriggerConfig;

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
