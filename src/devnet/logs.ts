/**
 * One log stream over every component of a devnet: each line read through the runtime that
 * runs its component, parsed into a record (nodes and services that log JSON give their own
 * time, level, message and `taskHash`), ordered by time, optionally kept to one task or to the
 * lines since a moment, and followed as new lines arrive.
 *
 * A line that carries no time of its own (anvil, a service printing plain text under the process
 * runtime) takes the time of the line before it in the same component: it was written after that
 * one. Lines before a component's first timed line have no time; they come first, and `since`
 * leaves them out since nothing tells when they were written. Docker gives every line the time
 * it was captured.
 */

import { AvsctlError } from "../errors.js";
import { openRuntimes } from "./manage.js";
import { requireDevnetState } from "./state.js";

/** One log line as a record: the JSON of `devnet logs --json`. */
export interface LogRecord {
  component: string;
  /** ISO time; null when neither the line nor the lines before it tell. */
  time: string | null;
  level: string;
  msg: string;
  taskHash?: string;
  [field: string]: unknown;
}

/** A record with the line it came from (without the runtime's capture time). */
export interface LogEntry {
  record: LogRecord;
  line: string;
}

export interface LogStreamOptions {
  /** Only these components (default: every one of the devnet). */
  components?: string[];
  follow?: boolean;
  /** Only lines at or after this time (epoch ms). */
  since?: number;
  /** Only lines about this task (its hash appears in the line). */
  task?: string;
  /** Lines per component read from the end of what is there (default: all). */
  tail?: number;
  signal?: AbortSignal;
  /** Filled with the time of each component's first line read (whatever the filters keep). */
  firstTimes?: Map<string, number>;
}

const DOCKER_TIME = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) /;
/** A plain line that starts with its time, bare or after a tag (the process runtime's `[avsctl] <time> starting ..`). */
const LEADING_TIME = /^(?:\[[\w-]+\] )?(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d))\b/;
const TIME_KEYS = ["time", "timestamp", "ts", "@timestamp", "asctime"];
const MSG_KEYS = ["msg", "message", "event"];
const LEVEL_KEYS = ["level", "levelname", "severity", "lvl"];
/** pino's numeric levels. */
const PINO_LEVELS: Record<number, string> = {
  10: "trace",
  20: "debug",
  30: "info",
  40: "warn",
  50: "error",
  60: "fatal",
};

function timeOf(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value > 1e12 ? value : value * 1000;
  if (typeof value !== "string" || value === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return timeOf(Number(value));
  // Python's asctime ("2026-01-02 03:04:05,678") is local time with a comma; read it as given.
  const ms = Date.parse(value.replace(",", "."));
  return Number.isNaN(ms) ? undefined : ms;
}

function levelOf(value: unknown): string | undefined {
  if (typeof value === "number") return PINO_LEVELS[value] ?? String(value);
  if (typeof value === "string" && value !== "") return value.toLowerCase().replace(/^warning$/, "warn");
  return undefined;
}

function firstOf(obj: Record<string, unknown>, keys: string[]): [string, unknown] | undefined {
  for (const k of keys) if (obj[k] !== undefined) return [k, obj[k]];
  return undefined;
}

/** Lines read before the last --tail ones, for the time a line without its own inherits. */
const TAIL_LOOKBACK = 50;

/** Parses one raw line of a component; `inherited` is the time of the line before it (epoch ms). */
export function parseLogLine(
  component: string,
  raw: string,
  inherited: number | undefined,
): { entry: LogEntry; timeMs: number | undefined } {
  let line = raw;
  let timeMs: number | undefined;
  const captured = DOCKER_TIME.exec(raw);
  if (captured) {
    timeMs = Date.parse(captured[1]!);
    line = raw.slice(captured[0].length);
  }
  let fields: Record<string, unknown> | undefined;
  if (line.startsWith("{")) {
    try {
      const parsed: unknown = JSON.parse(line);
      if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed))
        fields = parsed as Record<string, unknown>;
    } catch {
      // not JSON after all: a plain line
    }
  }
  let level = "info";
  let msg = line;
  const rest: Record<string, unknown> = {};
  if (fields) {
    const t = firstOf(fields, TIME_KEYS);
    const m = firstOf(fields, MSG_KEYS);
    const l = firstOf(fields, LEVEL_KEYS);
    const own = t ? timeOf(t[1]) : undefined;
    if (own !== undefined) timeMs = own;
    msg = m ? String(m[1]) : "";
    level = (l && levelOf(l[1])) || "info";
    const used = new Set([own !== undefined ? t?.[0] : undefined, m?.[0], l?.[0], "component"]);
    for (const [k, v] of Object.entries(fields)) if (!used.has(k)) rest[k] = v;
  } else {
    const leading = LEADING_TIME.exec(line);
    if (leading) timeMs = Date.parse(leading[1]!);
  }
  timeMs ??= inherited;
  const hash = typeof rest.taskHash === "string" ? rest.taskHash : undefined;
  delete rest.taskHash;
  const record: LogRecord = {
    component,
    time: timeMs === undefined ? null : new Date(timeMs).toISOString(),
    level,
    msg,
    ...(hash !== undefined ? { taskHash: hash } : {}),
    ...rest,
  };
  return { entry: { record, line }, timeMs };
}

/** A node's or service's JSON line that opens with its time: `{"time":"..."` or `{"time": "..."`. */
const JSON_TIME_FIRST = /^\{"time": ?"([^"\\]+)"/;

/** The time parseLogLine gives a line, without building its record where the line says it first. */
export function timeOfLine(
  component: string,
  raw: string,
  inherited: number | undefined,
): number | undefined {
  const captured = DOCKER_TIME.exec(raw);
  const line = captured ? raw.slice(captured[0].length) : raw;
  const leading = line.endsWith("}") ? JSON_TIME_FIRST.exec(line) : null;
  const own = leading ? timeOf(leading[1]) : undefined;
  return own ?? parseLogLine(component, raw, inherited).timeMs;
}

/** Whether a line is about a task: its `taskHash`, or the hash anywhere in its text. */
export function isAboutTask(entry: LogEntry, taskHash: string): boolean {
  const hash = taskHash.toLowerCase();
  if (typeof entry.record.taskHash === "string" && entry.record.taskHash.toLowerCase() === hash) return true;
  return entry.line.toLowerCase().includes(hash);
}

function keep(entry: LogEntry, timeMs: number | undefined, opts: LogStreamOptions): boolean {
  if (opts.since !== undefined && (timeMs === undefined || timeMs < opts.since)) return false;
  return opts.task === undefined || isAboutTask(entry, opts.task);
}

/**
 * Every component's log as one stream ordered by time: what is there first, then (with
 * `follow`) new lines as they arrive, until `signal` aborts.
 */
export async function* devnetLogStream(
  projectDir: string,
  opts: LogStreamOptions = {},
): AsyncGenerator<LogEntry> {
  const state = requireDevnetState(projectDir);
  const runtimes = await openRuntimes(state, projectDir);
  const known = await runtimes.names();
  for (const c of opts.components ?? []) {
    if (!known.includes(c)) {
      throw new AvsctlError("INVALID_ARGUMENT", `<node>: no component "${c}" in this devnet`, {
        hint: `components: ${known.join(", ")}`,
        details: { argument: "<node>" },
      });
    }
  }
  const names = opts.components ?? known;
  const history: Array<{ entry: LogEntry; timeMs: number | undefined; order: number }> = [];
  const last = new Map<string, number | undefined>();
  // A task's lines are few among many: the others are read only for their time.
  const aboutTask =
    opts.task === undefined ? undefined : new RegExp(opts.task.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "i");
  for (const name of names) {
    let inherited: number | undefined;
    const noteFirst = () => {
      if (inherited !== undefined && opts.firstTimes && !opts.firstTimes.has(name))
        opts.firstTimes.set(name, inherited);
    };
    // With --tail, a few lines more are read than are shown: a line without a time of its own
    // takes the one before it, which may be just outside the last N.
    const lookback = opts.tail === undefined ? 0 : TAIL_LOOKBACK;
    const read: Array<{ entry: LogEntry; timeMs: number | undefined } | undefined> = [];
    try {
      const tail = opts.tail === undefined ? undefined : opts.tail + lookback;
      for await (const raw of runtimes.of(name).logs(name, { tail, timestamps: true })) {
        if (aboutTask && !aboutTask.test(raw)) {
          inherited = timeOfLine(name, raw, inherited);
          noteFirst();
          read.push(undefined);
          continue;
        }
        const parsed = parseLogLine(name, raw, inherited);
        inherited = parsed.timeMs;
        noteFirst();
        read.push(keep(parsed.entry, parsed.timeMs, opts) ? parsed : undefined);
      }
    } catch (error) {
      // A component that has written nothing yet (or is not running) has no log to merge; one
      // asked for by name whose container was removed is said to be gone, not shown as quiet.
      if (!(error instanceof AvsctlError && error.code === "NOT_FOUND")) throw error;
      if (opts.components && (error.details as { removed?: boolean } | undefined)?.removed) throw error;
    }
    const shown = opts.tail === undefined ? read : read.slice(Math.max(0, read.length - opts.tail));
    for (const parsed of shown) if (parsed) history.push({ ...parsed, order: history.length });
    last.set(name, inherited);
  }
  history.sort((a, b) => (a.timeMs ?? -Infinity) - (b.timeMs ?? -Infinity) || a.order - b.order);
  for (const h of history) yield h.entry;
  if (!opts.follow) return;

  // Following: lines in the order they arrive (they are new, so that is their time order).
  const queue: LogEntry[] = [];
  let wake: (() => void) | undefined;
  let running = names.length;
  for (const name of names) {
    void (async () => {
      let inherited = last.get(name);
      try {
        const lines = runtimes.of(name).logs(name, {
          follow: true,
          tail: 0,
          timestamps: true,
          signal: opts.signal,
        });
        for await (const raw of lines) {
          const parsed = parseLogLine(name, raw, Date.now());
          if (parsed.timeMs !== undefined) inherited = parsed.timeMs;
          if (keep(parsed.entry, parsed.timeMs ?? inherited, opts)) {
            queue.push(parsed.entry);
            wake?.();
          }
        }
      } catch {
        // A component gone while following ends its part of the stream, not the others'.
      } finally {
        running--;
        wake?.();
      }
    })();
  }
  while (running > 0 || queue.length > 0) {
    if (queue.length === 0) await new Promise<void>((r) => (wake = r));
    wake = undefined;
    while (queue.length > 0) yield queue.shift()!;
  }
}
