/**
 * Task workflows (docs/protocol.md#task-workflows): parse, validate up front, run deterministically.
 *
 * @example
 * const checked = await loadWorkflow("price-check.json", process.cwd());
 * if (checked.valid) {
 *   const record = await runWorkflow(checked.workflow!, { mode: "simulate" });
 * }
 */

import { applyInputAssignments } from "./inputs.ts";
import { readWorkflowFile } from "./parse.ts";
import type { ValidationResult } from "./types.ts";
import { validateWorkflow } from "./validate.ts";

export { canonicalJson } from "./canonical.ts";
export { secretsInCode } from "./code-secrets.ts";
export type { Limits, WorkflowChain } from "./context.ts";
export {
  comparableRecord,
  DEFAULT_LIMITS,
  defaultTriggerData,
  type RunWorkflowOptions,
  recordFingerprint,
  runWorkflow,
} from "./engine.ts";
export { applyInputAssignments, readInputsFile } from "./inputs.ts";
export { maskRecord, maskSecrets, maskText, recordSecrets } from "./mask.ts";
export { formatOf, parseWorkflowText, readWorkflowFile } from "./parse.ts";
export { type InputKind, InputTape, type RecordedInput } from "./replay.ts";
export { Sandbox, SandboxError } from "./sandbox.ts";
export * from "./types.ts";
export { isValidVariableName, validateWorkflow } from "./validate.ts";

/** Whether any node (loop runners included) talks to a chain, and whether any writes. */
export function chainUse(workflow: NonNullable<ValidationResult["workflow"]>): {
  reads: boolean;
  writes: boolean;
} {
  const types = workflow.nodes.flatMap((n) =>
    n.type === "loop" ? [n.type, n.config.runner.type] : [n.type],
  );
  const writes = types.some((t) => t === "contractWrite" || t === "ethTransfer");
  return { reads: writes || types.includes("contractRead"), writes };
}

/**
 * Reads, parses and validates a workflow file. Input variables from the command line (a
 * `--inputs` object, then `--input key=value` assignments) are merged over the file's before
 * validation, so they are checked like the file's own. A missing file throws
 * INVALID_ARGUMENT; bad syntax is a WF_PARSE_ERROR problem.
 */
export async function loadWorkflow(
  file: string,
  cwd: string,
  overrides: { inputs?: Record<string, unknown>; assignments?: readonly string[] } = {},
): Promise<ValidationResult> {
  const parsed = await readWorkflowFile(file, cwd);
  if (!parsed.ok) return { valid: false, errors: [parsed.problem] };
  const doc = parsed.value;
  const hasOverrides = overrides.inputs !== undefined || (overrides.assignments?.length ?? 0) > 0;
  if (hasOverrides && doc && typeof doc === "object" && !Array.isArray(doc)) {
    const d = doc as Record<string, unknown>;
    const own = isPlainObject(d.inputVariables) ? d.inputVariables : {};
    d.inputVariables = applyInputAssignments({ ...own, ...overrides.inputs }, overrides.assignments ?? []);
  }
  return validateWorkflow(doc);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
