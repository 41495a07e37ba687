import { defaultTriggerData } from "./engine/workflow/index.ts";
import { HttpError } from "./http.ts";
import {
  encodeTaskData,
  loadTaskWorkflow,
  nextRound,
  proofOf,
  requestInputs,
  runTask,
  type TaskData,
} from "./workflow-task.ts";

export interface Proof {
  /** The fingerprint of the run's execution record. */
  proofOfTask: string;
  /** The run's inputs and round, as the attesters re-run them (0x-hex of canonical JSON). */
  data: string;
}

/**
 * The task: run the project's workflow (../workflow.json) once, as this process's next round,
 * and prove the run. Every body field but taskDefinitionId, signatureType and targetChainId is
 * an input, merged over the workflow's inputVariables (`{"symbol": "BTCUSDT"}`, as
 * `avsctl task send --data '{"symbol":"BTCUSDT"}'` sends it). A run that fails is not a task:
 * it answers HTTP 500 and nothing is sent. Keep validation-service/src/validate.ts in step
 * with it.
 */
export async function performTask(input: Record<string, unknown>, env: NodeJS.ProcessEnv): Promise<Proof> {
  const loaded = await loadTaskWorkflow(env, requestInputs(input));
  if ("problems" in loaded)
    throw new HttpError(400, `the inputs do not fit the workflow: ${loaded.problems}`);
  const { workflow } = loaded;
  const task: TaskData = {
    inputVariables: workflow.inputVariables,
    round: nextRound(),
    // Recorded in data, so a time-based trigger's timestamp is the same when attesters re-run it.
    triggerData: defaultTriggerData(workflow, Date.now()),
  };
  const record = await runTask(workflow, task, env);
  if (record.status !== "success") throw new Error(`the workflow run ${record.status}: ${record.error}`);
  return { proofOfTask: proofOf(record), data: encodeTaskData(task) };
}
