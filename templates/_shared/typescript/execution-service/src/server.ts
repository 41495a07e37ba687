import { createServer, type Server } from "node:http";
import { blsSignatureParam, blsSignTask } from "./bls.ts";
import { HttpError, readJsonBody, sendError, sendJson } from "./http.ts";
import { type SendTaskParams, SendTaskUnanswered, sendTask } from "./rpc.ts";
import {
  type ExecutionSettings,
  parseChainId,
  parseSignatureType,
  parseTaskDefinitionId,
  type SignatureType,
} from "./settings.ts";
import { signEcdsa, taskHash } from "./signing.ts";
import { performTask } from "./task.ts";

export interface ExecutionResult {
  proofOfTask: string;
  data: string;
  taskDefinitionId: number;
  performer: string;
  signatureType: SignatureType;
  taskHash: string;
  /** Present (true) when the aggregator already had this task: sent before, not sent twice. */
  known?: true;
}

function badInput(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    throw new HttpError(400, (error as Error).message);
  }
}

/**
 * Executes one task: runs it, signs the task hash as the performer and hands it to the
 * aggregator with sendTask. A failed sendTask is an error here (unlike Othentic's example,
 * which answers 200 regardless), so a caller never mistakes an unsent task for a sent one.
 * An aggregator that already has the task (TASK_KNOWN) is a success marked `known`. A sendTask
 * that got no answer hands the signed task back in the error's `data`.
 */
export async function executeTask(
  body: Record<string, unknown>,
  settings: ExecutionSettings,
  env: NodeJS.ProcessEnv,
): Promise<ExecutionResult> {
  let taskDefinitionId = settings.taskDefinitionId;
  let signatureType = settings.signatureType;
  let targetChainId: number | undefined;
  badInput(() => {
    if (body.taskDefinitionId !== undefined) taskDefinitionId = parseTaskDefinitionId(body.taskDefinitionId);
    if (body.signatureType !== undefined) signatureType = parseSignatureType(body.signatureType);
    if (body.targetChainId !== undefined) targetChainId = parseChainId(body.targetChainId);
  });

  const { proofOfTask, data } = await performTask(body, env);
  const performer = settings.performerAddress;
  const hash = taskHash(proofOfTask, data, performer, taskDefinitionId);
  const signature =
    signatureType === "bls"
      ? blsSignatureParam(await blsSignTask(hash, settings.privateKey))
      : signEcdsa(hash, settings.privateKey);
  const params: SendTaskParams = [proofOfTask, data, taskDefinitionId, performer, signature, signatureType];
  if (targetChainId !== undefined) params.push(targetChainId);
  let known: boolean;
  try {
    ({ known } = await sendTask(settings.rpcUrl, params, settings.sendTaskTimeoutMs));
  } catch (error) {
    // No answer: the aggregator may have taken the task. The caller gets the task signed, to send
    // again as that very task (the aggregator takes it once); another execution would be a new one.
    if (error instanceof SendTaskUnanswered) {
      throw new HttpError(500, error.message, { taskHash: hash, sendTaskParams: params });
    }
    throw error;
  }
  const result: ExecutionResult = {
    proofOfTask,
    data,
    taskDefinitionId,
    performer,
    signatureType,
    taskHash: hash,
  };
  if (known) result.known = true;
  logTaskSent(env, result);
  return result;
}

/** One line per task sent, with its hash, so `avsctl devnet logs --task <hash>` finds it (JSON when LOG_FORMAT=json). */
function logTaskSent(env: NodeJS.ProcessEnv, r: ExecutionResult): void {
  const fields = { taskHash: r.taskHash, taskDefinitionId: r.taskDefinitionId, known: r.known === true };
  if (env.LOG_FORMAT === "json") {
    console.log(
      JSON.stringify({ time: new Date().toISOString(), level: "info", msg: "task sent", ...fields }),
    );
  } else {
    console.log(
      `task sent: taskHash=${r.taskHash} taskDefinitionId=${r.taskDefinitionId}${r.known ? " (known)" : ""}`,
    );
  }
}

/** The HTTP server: POST /task/execute and GET /health. */
export function createExecutionServer(
  settings: ExecutionSettings,
  env: NodeJS.ProcessEnv = process.env,
): Server {
  return createServer(async (req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    try {
      if (req.method === "GET" && path === "/health") {
        sendJson(res, 200, { status: "ok", service: "execution" });
      } else if (req.method === "POST" && path === "/task/execute") {
        const result = await executeTask(await readJsonBody(req), settings, env);
        sendJson(res, 200, { data: result, error: false, message: null });
      } else {
        throw new HttpError(404, `no route for ${req.method} ${path}`);
      }
    } catch (error) {
      sendError(res, error);
    }
  });
}
