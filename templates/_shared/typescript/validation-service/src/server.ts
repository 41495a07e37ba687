import { createServer, type Server } from "node:http";
import { HttpError, readJsonBody, sendError, sendJson } from "./http.ts";
import { type ValidationRequest, validateTask } from "./validate.ts";

function toRequest(body: Record<string, unknown>): ValidationRequest {
  return {
    proofOfTask: body.proofOfTask,
    data: body.data,
    taskDefinitionId: body.taskDefinitionId,
    performer: body.performer,
  };
}

/**
 * One line per task validated, with the hash avsctl's attesters send along (`taskHash`), so
 * `avsctl devnet logs --task <hash>` finds it (JSON when LOG_FORMAT=json).
 */
function logTaskValidated(env: NodeJS.ProcessEnv, body: Record<string, unknown>, approved: boolean): void {
  const taskHash = typeof body.taskHash === "string" ? body.taskHash : null;
  if (env.LOG_FORMAT === "json") {
    console.log(
      JSON.stringify({
        time: new Date().toISOString(),
        level: "info",
        msg: "task validated",
        taskHash,
        taskDefinitionId: body.taskDefinitionId,
        approved,
      }),
    );
  } else {
    console.log(
      `task validated: taskHash=${taskHash ?? "-"} taskDefinitionId=${String(body.taskDefinitionId)} approved=${approved}`,
    );
  }
}

/**
 * The HTTP server the attesters call: POST /task/validate answers
 * {"data": true|false, "error": false, "message": null}; when the service cannot decide (its
 * own source is down, say) it answers HTTP 500 {"error": true, "message", "data": {}} rather
 * than a false that would count as a vote against a correct task.
 */
export function createValidationServer(env: NodeJS.ProcessEnv = process.env): Server {
  return createServer(async (req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    try {
      if (req.method === "GET" && path === "/health") {
        sendJson(res, 200, { status: "ok", service: "validation" });
      } else if (req.method === "POST" && path === "/task/validate") {
        const body = await readJsonBody(req);
        const approved = await validateTask(toRequest(body), env);
        logTaskValidated(env, body, approved === true);
        sendJson(res, 200, { data: approved, error: false, message: null });
      } else {
        throw new HttpError(404, `no route for ${req.method} ${path}`);
      }
    } catch (error) {
      sendError(res, error);
    }
  });
}
