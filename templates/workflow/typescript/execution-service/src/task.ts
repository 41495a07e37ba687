import { defaultTriggerData } from "./engine/workflow/index.ts";
import { HttpError } from "./http.ts";
import {
  encodeTaskData,
  loadTaskWorkflow,
  proofOf,
  requestInputs,
  runTask,
  type TaskData,
} from "./workflow-task.ts";

export interface Proof {
  /** The fingerprint of the run's execution record. */
  proofOfTask: string;
  /** The run's inputs, as the attesters re-run them (0x-hex of canonical JSON). */
  data: string;
}

/**
 * The task: run the project's workflow (../workflow.json) once and prove the run. Body fields
 * it reads: `inputs`, an object merged over the workflow's inputVariables (or `data`, 0x-hex of
 * such an object, as `avsctl task send --via execution --data` sends it). A run that fails is
 * not a task: it answers HTTP 500 and nothing is sent. Keep validation-service/src/validate.ts
 * in step with it.
 */
export async function performTask(input: Record<string, unknown>, env: NodeJS.ProcessEnv): Promise<Proof> {
  const inputs = requestInputs(input);
  if (typeof inputs === "string") throw new HttpError(400, inputs);
  const loaded = await loadTaskWorkflow(env, inputs);
  if ("problems" in loaded)
    throw new HttpError(400, `the inputs do not fit the workflow: ${loaded.problems}`);
  const { workflow } = loaded;
  const task: TaskData = {
    inputVariables: workflow.inputVariables,
    // Recorded in data, so a time-based trigger's timestamp is the same when attesters re-run it.
    triggerData: defaultTriggerData(workflow, Date.now()),
  };
  const record = await runTask(workflow, task, env);
  if (record.status !== "success") throw new Error(`the workflow run ${record.status}: ${record.error}`);
  return { proofOfTask: proofOf(record), data: encodeTaskData(task) };
}
