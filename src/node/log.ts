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

function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return value.message;
  if (depth > 4 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value))
    out[k] = SECRET_KEY_RE.test(k) ? "[redacted]" : scrub(v, depth + 1);
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
    const record = scrub({ time: new Date().toISOString(), level, ...base, msg, ...fields }) as Record<
      string,
      unknown
    >;
    try {
      sink(record);
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
