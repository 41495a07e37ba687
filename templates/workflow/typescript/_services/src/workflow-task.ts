import { existsSync } from "node:fs";
import path from "node:path";
import { getBytes, hexlify, toUtf8Bytes } from "ethers";
import {
  canonicalJson,
  type ExecutionRecord,
  loadWorkflow,
  recordFingerprint,
  runWorkflow,
  type ValidationResult,
  type Workflow,
} from "./engine/workflow/index.ts";
import { envValue } from "./http.ts";

/*
 * The proof rule, shared word for word by the execution service (which runs the workflow and
 * proves the run) and the validation service (which re-runs it and compares):
 *
 *   task data   = {"inputVariables": {...}, "round": N, "triggerData": ...}: the inputs the
 *                 run used, and the execution's round
 *   data        = "0x" + lowercase hex of the UTF-8 bytes of canonicalJson(task data)
 *                 (JSON with object keys sorted at every level, no whitespace)
 *   proofOfTask = recordFingerprint(attested record) = "0x" + lowercase hex of
 *                 sha256(canonicalJson(comparableRecord(attested record)))
 *
 * The attested record is the run's record with the output of every restApi and graphqlQuery
 * step set to null: a source's raw answer carries what moves between the performer's run and
 * the attesters' re-runs (the devnet feed's timestamp is the current second), while what the
 * workflow makes of it (customCode, branch, filter outputs) stays, with every step's success
 * and error. comparableRecord keeps the run's status, error and every step's id, name, type,
 * success, output and error, and drops execution id, times and logs. The engine lists steps in
 * graph order, never by completion time, so the same workflow and inputs give the same proof.
 *
 * round numbers the executions of one execution service process: max(previous round + 1,
 * current time in ms), an integer from 0 to 2^53-1. The workflow never sees it, so it leaves
 * the proof alone, but it makes each execution its own task (its own task hash): the
 * aggregator takes a task it already has as a re-send, not as new work.
 */

export interface TaskData {
  inputVariables: Record<string, unknown>;
  round: number;
  triggerData: unknown;
}

let lastRound = 0;

/** The next round of this process: max(previous round + 1, Date.now()). */
export function nextRound(now: number = Date.now()): number {
  lastRound = Math.max(lastRound + 1, now);
  return lastRound;
}

/** Where the workflow file is looked for when WORKFLOW_FILE is unset, relative to the service. */
export const WORKFLOW_FILE_CANDIDATES = ["workflow.json", "../workflow.json"];
export const DEFAULT_PRICE_SOURCE_URL = "https://api.binance.com/api/v3/ticker/price";
/** A fingerprint: 0x and 64 hex digits. */
export const FINGERPRINT_PATTERN = /^0x[0-9a-fA-F]{64}$/;

/**
 * The workflow file: WORKFLOW_FILE (relative to the working directory), else workflow.json in
 * the service folder (a container has only that folder), else the project's own.
 */
export function workflowFile(env: NodeJS.ProcessEnv, cwd: string = process.cwd()): string {
  const configured = envValue(env, "WORKFLOW_FILE");
  if (configured) return path.resolve(cwd, configured);
  for (const candidate of WORKFLOW_FILE_CANDIDATES) {
    const file = path.resolve(cwd, candidate);
    if (existsSync(file)) return file;
  }
  throw new Error(`no workflow file: set WORKFLOW_FILE, or put workflow.json in ${cwd} or its parent`);
}

/**
 * The values the workflow sees as `apContext.configVars.<name>`: this service's own settings,
 * never the task's. The engine masks them in errors and logs, so a record (and its fingerprint)
 * does not depend on where each service reaches the same source.
 */
export function configVars(env: NodeJS.ProcessEnv): Record<string, string> {
  return { PRICE_SOURCE_URL: envValue(env, "PRICE_SOURCE_URL") ?? DEFAULT_PRICE_SOURCE_URL };
}

function problemsOf(result: ValidationResult): string {
  return result.errors.map((p) => `${p.path || "(root)"}: ${p.message}`).join("; ");
}

/**
 * The project's workflow with `inputs` merged over its inputVariables, or the problems of those
 * inputs. A workflow file that is invalid on its own is this service's fault: that throws.
 */
export async function loadTaskWorkflow(
  env: NodeJS.ProcessEnv,
  inputs: Record<string, unknown> = {},
): Promise<{ workflow: Workflow } | { problems: string }> {
  const file = workflowFile(env);
  const own = await loadWorkflow(file, process.cwd());
  if (!own.valid || !own.workflow) throw new Error(`${file} is not a valid workflow: ${problemsOf(own)}`);
  if (Object.keys(inputs).length === 0) return { workflow: own.workflow };
  const merged = await loadWorkflow(file, process.cwd(), { inputs });
  if (!merged.valid || !merged.workflow) return { problems: problemsOf(merged) };
  return { workflow: merged.workflow };
}

/**
 * Runs the workflow once on the task's inputs. "simulate" mode: a contractWrite or ethTransfer
 * node is estimated, never sent, so re-running a task (as every attester does) costs nothing.
 */
export function runTask(
  workflow: Workflow,
  task: TaskData,
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<ExecutionRecord> {
  return runWorkflow(workflow, {
    mode: "simulate",
    inputVariables: task.inputVariables,
    triggerData: task.triggerData,
    configVars: configVars(env),
    ...(signal ? { signal } : {}),
  });
}

/** Node types whose output is a source's raw answer, left out of what is attested. */
export const SOURCE_STEP_TYPES: readonly string[] = ["restApi", "graphqlQuery"];

/** The record as attested: source answers out, everything derived from them in. */
export function attestedRecord(record: ExecutionRecord): ExecutionRecord {
  return {
    ...record,
    steps: record.steps.map((step) =>
      SOURCE_STEP_TYPES.includes(step.type) ? { ...step, output: null } : step,
    ),
  };
}

/** The proof of a run: the fingerprint of its attested record. */
export function proofOf(record: ExecutionRecord): string {
  return recordFingerprint(attestedRecord(record));
}

/** `data` for a task: the canonical JSON of its inputs and round, as 0x-hex. */
export function encodeTaskData(task: TaskData): string {
  const { inputVariables, round, triggerData } = task;
  return hexlify(toUtf8Bytes(canonicalJson({ inputVariables, round, triggerData })));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Reads the task's inputs back from `data`, or null when `data` is not exactly the canonical
 * JSON of {"inputVariables": {...}, "round": N, "triggerData": ...} (other key orders, spacing,
 * number forms or extra keys are refused).
 */
export function decodeTaskData(data: unknown): TaskData | null {
  if (typeof data !== "string" || !/^0x([0-9a-fA-F]{2})+$/.test(data)) return null;
  let text: string;
  let value: unknown;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(getBytes(data));
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isPlainObject(value) || Object.keys(value).sort().join(",") !== "inputVariables,round,triggerData")
    return null;
  const { inputVariables, round, triggerData } = value;
  if (!isPlainObject(inputVariables)) return null;
  if (typeof round !== "number" || !Number.isSafeInteger(round) || round < 0) return null;
  if (canonicalJson(value) !== text) return null;
  return { inputVariables, round, triggerData };
}

/** Body fields that steer the execution service rather than the workflow. */
export const CONTROL_FIELDS: readonly string[] = ["taskDefinitionId", "signatureType", "targetChainId"];

/**
 * The inputs a request names: every body field but the control fields, as
 * `avsctl task send --data '{"symbol":"BTCUSDT"}'` sends them ({"taskDefinitionId": 1, "symbol": "BTCUSDT"}).
 */
export function requestInputs(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([name]) => !CONTROL_FIELDS.includes(name)));
}
