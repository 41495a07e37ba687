import { decodeTaskData, FINGERPRINT_PATTERN, loadTaskWorkflow, proofOf, runTask } from "./workflow-task.ts";

/** What the attesters send to POST /task/validate. */
export interface ValidationRequest {
  proofOfTask: unknown;
  data: unknown;
  taskDefinitionId: unknown;
  performer: unknown;
}

/**
 * Re-runs the project's workflow on the inputs carried in `data` and approves only when the
 * fingerprint of its own run equals `proofOfTask`. `data` that is not the canonical task data,
 * or inputs the workflow refuses, are a rejection. A re-run that fails (its price source is
 * down, say) throws (HTTP 500): this service cannot decide, and an outage is not a vote.
 */
export async function validateTask(request: ValidationRequest, env: NodeJS.ProcessEnv): Promise<boolean> {
  const task = decodeTaskData(request.data);
  const proof = request.proofOfTask;
  if (!task || typeof proof !== "string" || !FINGERPRINT_PATTERN.test(proof)) return false;
  const loaded = await loadTaskWorkflow(env, task.inputVariables);
  if ("problems" in loaded) return false;
  const record = await runTask(loaded.workflow, task, env);
  if (record.status !== "success")
    throw new Error(`re-running the workflow ${record.status}: ${record.error}`);
  return proofOf(record) === proof.toLowerCase();
}
