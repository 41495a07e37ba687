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
        const approved = await validateTask(toRequest(await readJsonBody(req)), env);
        sendJson(res, 200, { data: approved, error: false, message: null });
      } else {
        throw new HttpError(404, `no route for ${req.method} ${path}`);
      }
    } catch (error) {
      sendError(res, error);
    }
  });
}
