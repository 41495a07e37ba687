/**
 * Secret values masked as "***": what a run's record, printed or stored, keeps of a value it
 * printed, threw or returned. One rule everywhere (the run's errors and logs here, the stored
 * and recorded executions, simulate and run): every non-empty value, wherever its text appears,
 * longest first (so a value inside a longer one leaves no tail). A value of one or two
 * characters thereby masks every occurrence of that text too (docs/task-engine.md#secrets):
 * that garbles the record, where masking less would leak the value.
 */

import type { ExecutionRecord, Workflow } from "./types.ts";

/** `text` with every secret value replaced by "***". */
export function maskText(text: string, secrets: readonly string[]): string {
  return ordered(secrets).reduce((out, secret) => out.split(secret).join("***"), text);
}

/**
 * A copy of `value` with every secret value replaced by "***" inside every string (object keys
 * included): what the record keeps of a run that printed or returned a secret.
 */
export function maskSecrets<T>(value: T, secrets: readonly string[]): T {
  const list = ordered(secrets);
  const text = (s: string): string => list.reduce((out, secret) => out.split(secret).join("***"), s);
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return text(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object")
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [text(k), walk(x)]));
    return v;
  };
  return list.length === 0 ? value : (walk(value) as T);
}

/**
 * The secret values a run's record masks: every one but a value the workflow spells out itself,
 * which is no secret from whoever holds the workflow (the engine stores it, an attested record
 * carries it), and which, masked, would turn a literal URL holding it into one its replay never
 * asks for. Errors and logs are masked with every value as the run goes (engine.ts).
 */
export function recordSecrets(workflow: Workflow, configVars: Readonly<Record<string, string>>): string[] {
  const spelled = JSON.stringify(workflow);
  return Object.values(configVars).filter((value) => !spelled.includes(value));
}

/**
 * The record as the task engine keeps it and as `workflow simulate|run` print it: every secret
 * of recordSecrets() masked in its outputs, errors, logs and trigger data alike, so a run shows
 * the same record wherever it is read.
 */
export function maskRecord(
  record: ExecutionRecord,
  workflow: Workflow,
  configVars: Readonly<Record<string, string>>,
): ExecutionRecord {
  return maskSecrets(record, recordSecrets(workflow, configVars));
}

function ordered(secrets: readonly string[]): string[] {
  return [...new Set(secrets.filter((s) => s.length > 0))].sort((a, b) => b.length - a.length);
}
