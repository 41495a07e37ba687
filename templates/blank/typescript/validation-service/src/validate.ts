/** What the attesters send to POST /task/validate. */
export interface ValidationRequest {
  proofOfTask: unknown;
  data: unknown;
  taskDefinitionId: unknown;
  performer: unknown;
}

/**
 * Approves or rejects a task. This blank one approves any non-empty proof.
 * TODO: recompute or check the work of execution-service/src/task.ts here; return false for a
 * wrong proof and throw (HTTP 500) only when this service cannot decide.
 */
export async function validateTask(request: ValidationRequest, _env: NodeJS.ProcessEnv): Promise<boolean> {
  return typeof request.proofOfTask === "string" && request.proofOfTask.length > 0;
}
