/**
 * One customCode node's work, the same on the main thread and in a pool thread: templates
 * substituted in the source, the source run in a fresh sandbox, and what it printed.
 */

import { Sandbox, SandboxError } from "./sandbox.ts";
import { substituteText } from "./template.ts";

export interface CodeJob {
  variables: Record<string, unknown>;
  source: string;
  /** The limit of the code itself. */
  timeoutMs: number;
  /** The limit of each template in the source (and of setting the variables). */
  expressionTimeoutMs: number;
}

export type CodeAnswer =
  | { ok: true; value: unknown; logs: string[] }
  | { ok: false; message: string; sandbox: boolean; timedOut: boolean; logs: string[] };

export function runCodeJob(job: CodeJob): CodeAnswer {
  let sandbox: Sandbox | undefined;
  try {
    sandbox = Sandbox.create(job.variables, { timeoutMs: job.expressionTimeoutMs });
    const source = substituteText(job.source, sandbox, "source");
    const value = sandbox.runCode(source, job.timeoutMs) ?? null;
    return { ok: true, value, logs: sandbox.logs() };
  } catch (error) {
    return {
      ok: false,
      message: error instanceof Error ? error.message : String(error),
      sandbox: error instanceof SandboxError,
      timedOut: error instanceof SandboxError && error.timedOut,
      logs: sandbox?.logs() ?? [],
    };
  }
}

/** The answer as the node's output, or its error (the same class and message either way). */
export function codeOutcome(answer: CodeAnswer): unknown {
  if (answer.ok) return answer.value;
  throw answer.sandbox ? new SandboxError(answer.message, answer.timedOut) : new Error(answer.message);
}
