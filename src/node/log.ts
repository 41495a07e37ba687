/**
 * JSON-lines logging for the node runtime. Domain code never prints: a node is given a sink
 * (the process entry writes to stdout). Every line about a task carries `taskHash`. Fields whose
 * name looks like a secret are redacted, so a careless call cannot leak a key.
 */

export type LogLevel = "debug" | "info" | "warn" | "error";

/** Receives one finished log record. */
export type LogSink = (record: Record<string, unknown>) => void;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger whose lines all carry `fields` (e.g. the node role). */
  child(fields: Record<string, unknown>): Logger;
}

const SECRET_KEY_RE = /(private|secret|password|mnemonic|seed|sessionkey|mac)/i;

// The same few field names come by on every line: each is tested against the pattern once.
const secretKeys = new Map<string, boolean>();
function isSecretKey(k: string): boolean {
  let secret = secretKeys.get(k);
  if (secret === undefined) {
    secret = SECRET_KEY_RE.test(k);
    if (secretKeys.size < 10_000) secretKeys.set(k, secret);
  }
  return secret;
}

function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return value.message;
  if (depth > 4 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const k in value) {
    if (!Object.hasOwn(value, k)) continue;
    out[k] = isSecretKey(k) ? "[redacted]" : scrub((value as Record<string, unknown>)[k], depth + 1);
  }
  return out;
}

/** One record: base fields, then the message, then the line's own fields, scrubbed in one pass. */
function record(
  level: LogLevel,
  base: Record<string, unknown>,
  msg: string,
  fields: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = { time: new Date().toISOString(), level };
  for (const k in base)
    if (Object.hasOwn(base, k)) out[k] = isSecretKey(k) ? "[redacted]" : scrub(base[k], 1);
  out.msg = msg;
  if (fields)
    for (const k in fields)
      if (Object.hasOwn(fields, k)) out[k] = isSecretKey(k) ? "[redacted]" : scrub(fields[k], 1);
  return out;
}

/** A logger writing records to `sink` (nothing when undefined). `debug` lines only when `verbose`. */
export function createLogger(
  sink: LogSink | undefined,
  base: Record<string, unknown> = {},
  verbose = false,
): Logger {
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (!sink || (level === "debug" && !verbose)) return;
    const line = record(level, base, msg, fields);
    try {
      sink(line);
    } catch {
      // A broken log pipe must not take the node down.
    }
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (fields) => createLogger(sink, { ...base, ...fields }, verbose),
  };
}

/**
 * A sink writing each record as a JSON line through `write`, the lines of one event-loop turn
 * in one call: a busy node logs several lines per task, and a write to a pipe is a system call
 * each. `flush()` writes what is pending at once (before exiting).
 */
export function jsonLinesSink(write: (text: string) => void): { sink: LogSink; flush(): void } {
  let pending = "";
  const flush = (): void => {
    if (pending === "") return;
    const text = pending;
    pending = "";
    write(text);
  };
  return {
    sink: (record) => {
      if (pending === "") setImmediate(flush);
      pending += `${JSON.stringify(record)}\n`;
    },
    flush,
  };
}
