/**
 * The execution record an attester re-runs: the workflow, what the trigger gave it, every
 * outside answer its nodes got (the inputs), and what it decided. It is stored in IPFS; the
 * task's `data` is its CID and its `proofOfTask` the execution's digest. Validating re-runs
 * the workflow from the recorded inputs (no network, no chain) and recomputes the digest.
 */

import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import type { CodePool } from "../workflow/code-pool.js";
import {
  canonicalJson,
  comparableRecord,
  type ExecutionRecord,
  InputTape,
  type RecordedInput,
  runWorkflow,
  validateWorkflow,
  type Workflow,
} from "../workflow/index.js";
import { type ChainLookup, checkSentTransactions } from "./tx-check.js";
import type { Execution, TriggerReason } from "./types.js";

export const RECORD_VERSION = 1;

/** What is stored in IPFS for one execution. */
export interface ExecutionDocument {
  version: number;
  executionId: string;
  workflowId: string;
  index: number;
  triggerReason: TriggerReason;
  /** What the trigger handed the nodes (the trigger step's output). */
  triggerData: unknown;
  workflow: Workflow;
  /** Names of the secrets the run saw; a replay sees "***" for each (their values never leave). */
  configVars: string[];
  inputs: RecordedInput[];
  status: ExecutionRecord["status"];
  error: string | null;
  steps: ReturnType<typeof comparableRecord>["steps"];
  digest: string;
  /**
   * Who performed it (signed the AVS task), on which L2, elected on which number: set when it
   * is sent for attestation, outside the digest (the same run could have been elected to
   * another operator).
   */
  performer?: string;
  chainId?: number;
  electedAt?: number;
}

/** keccak256 of the canonical JSON of what an execution decided and what it was given. */
export function executionDigest(
  execution: Pick<Execution, "id" | "taskId" | "index" | "triggerReason">,
  record: Pick<ExecutionRecord, "status" | "error" | "steps">,
): string {
  const canonical = canonicalJson({
    executionId: execution.id,
    workflowId: execution.taskId,
    index: execution.index,
    triggerReason: execution.triggerReason,
    ...comparableRecord(record as ExecutionRecord),
  });
  return `0x${bytesToHex(keccak_256(utf8ToBytes(canonical)))}`;
}

export function executionDocument(
  execution: Execution,
  workflow: Workflow,
  record: ExecutionRecord,
  inputs: RecordedInput[],
  configVars: string[],
  digest: string,
): ExecutionDocument {
  return {
    version: RECORD_VERSION,
    executionId: execution.id,
    workflowId: execution.taskId,
    index: execution.index,
    triggerReason: execution.triggerReason,
    triggerData: record.steps[0]?.output ?? null,
    workflow,
    configVars,
    inputs,
    ...comparableRecord(record),
    digest,
  };
}

export type ReplayOutcome =
  | { valid: true; digest: string }
  | { valid: false; reason: string; digest?: string };

/**
 * Re-runs the document's workflow from its recorded inputs and compares the digest with
 * `proofOfTask`; with `chains`, then checks each recorded sent transaction on its chain
 * (tx-check.ts). Never throws: a document that is not one, or a workflow that no longer
 * validates, is an invalid execution.
 */
export async function replayExecution(
  doc: unknown,
  proofOfTask: string,
  opts: { chains?: ChainLookup; signal?: AbortSignal; codePool?: CodePool } = {},
): Promise<ReplayOutcome> {
  const d = doc as Partial<ExecutionDocument> | null;
  if (!d || typeof d !== "object" || d.version !== RECORD_VERSION)
    return { valid: false, reason: `not an execution record of version ${RECORD_VERSION}` };
  if (typeof d.executionId !== "string" || typeof d.workflowId !== "string" || !Number.isSafeInteger(d.index))
    return { valid: false, reason: "the record lacks executionId, workflowId or index" };
  if (!Array.isArray(d.inputs) || !Array.isArray(d.configVars) || !d.triggerReason)
    return { valid: false, reason: "the record lacks inputs, configVars or triggerReason" };
  const checked = await validateWorkflow(d.workflow);
  if (!checked.valid || !checked.workflow)
    return { valid: false, reason: `the recorded workflow is invalid: ${checked.errors[0]?.message ?? "?"}` };
  let tape: InputTape;
  try {
    tape = InputTape.replaying(d.inputs);
  } catch (error) {
    return { valid: false, reason: (error as Error).message };
  }
  let record: ExecutionRecord;
  try {
    record = await runWorkflow(checked.workflow, {
      mode: "simulate",
      tape,
      triggerData: d.triggerData ?? null,
      index: d.index,
      id: d.executionId,
      configVars: Object.fromEntries(d.configVars.map((name) => [String(name), "***"])),
      ...(opts.codePool ? { codePool: opts.codePool } : {}),
    });
  } catch (error) {
    return { valid: false, reason: `the replay could not run: ${(error as Error).message}` };
  }
  const digest = executionDigest(
    { id: d.executionId, taskId: d.workflowId, index: d.index!, triggerReason: d.triggerReason },
    record,
  );
  if (digest.toLowerCase() !== proofOfTask.toLowerCase())
    return { valid: false, digest, reason: `the replay gives digest ${digest}, not ${proofOfTask}` };
  if (opts.chains) {
    const unmatched = await checkSentTransactions(d.inputs, opts.chains, opts.signal);
    if (unmatched) return { valid: false, digest, reason: unmatched };
  }
  return { valid: true, digest };
}
