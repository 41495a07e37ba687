import { httpPost } from "../util/http-post.js";

/**
 * Client of an AVS validation service (docs/protocol.md#validation-service). Every known response shape is
 * understood; anything else (service down, timeout, HTTP error, garbage) is an abstention with
 * a reason, never an approval.
 */

export interface ValidationRequest {
  proofOfTask: string;
  data: string;
  taskDefinitionId: number;
  performer: string;
  /** avsctl's addition, so a service can tag its log lines with the task; Othentic's ignore it. */
  taskHash?: string;
}

export type ValidationOutcome =
  | { verdict: "approve" | "reject"; message?: string }
  | { verdict: "abstain"; reason: string };

/** Response bodies are small; a bigger one is garbage. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * Reads a validation answer: `{"data": bool}`, `{"data": {"result": bool}}`, or HTTP 500
 * `{"error": true, "message"}` (a failure to validate: abstain).
 */
export function interpretValidationResponse(status: number, bodyText: string): ValidationOutcome {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return { verdict: "abstain", reason: `HTTP ${status} with a body that is not JSON` };
  }
  const obj =
    body !== null && typeof body === "object" && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : undefined;
  const message = typeof obj?.message === "string" ? obj.message.slice(0, 500) : undefined;
  if (status < 200 || status >= 300) {
    return { verdict: "abstain", reason: `HTTP ${status}${message ? `: ${message}` : ""}` };
  }
  if (!obj) return { verdict: "abstain", reason: "the answer is not a JSON object" };
  if (obj.error === true)
    return { verdict: "abstain", reason: `the service reported an error${message ? `: ${message}` : ""}` };
  const data = obj.data;
  let result: unknown = data;
  if (data !== null && typeof data === "object" && !Array.isArray(data))
    result = (data as Record<string, unknown>).result;
  if (result === true) return { verdict: "approve", message };
  if (result === false) return { verdict: "reject", message };
  return { verdict: "abstain", reason: "the answer holds no boolean data or data.result" };
}

/** POSTs the task to `<baseUrl>/task/validate` and interprets the answer. Never throws. */
export async function validateTask(
  baseUrl: string,
  task: ValidationRequest,
  opts: { timeoutMs: number; signal?: AbortSignal },
): Promise<ValidationOutcome> {
  const body = JSON.stringify({
    proofOfTask: task.proofOfTask,
    data: task.data,
    taskDefinitionId: task.taskDefinitionId,
    performer: task.performer,
    ...(task.taskHash === undefined ? {} : { taskHash: task.taskHash }),
  });
  try {
    const res = await httpPost(`${baseUrl}/task/validate`, body, {
      headers: { accept: "application/json" },
      timeoutMs: opts.timeoutMs,
      signal: opts.signal,
      maxBytes: MAX_RESPONSE_BYTES,
    });
    return interpretValidationResponse(res.status, res.text);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (/no answer within/.test(e.message))
      return { verdict: "abstain", reason: `no answer within ${opts.timeoutMs} ms` };
    return { verdict: "abstain", reason: `validation service unreachable: ${e.code ?? e.message}` };
  }
}

/** POSTs `{"data": "0x.."}` to `<baseUrl>/p2p/message` (sendCustomMessage). Returns the HTTP status or an error text. */
export async function postCustomMessage(
  baseUrl: string,
  data: string,
  opts: { timeoutMs: number; signal?: AbortSignal },
): Promise<{ ok: boolean; detail: string }> {
  try {
    // delivered is what the status says, whatever the service answers with it
    const res = await httpPost(`${baseUrl}/p2p/message`, JSON.stringify({ data }), {
      ...opts,
      discardBody: true,
    });
    return { ok: res.ok, detail: `HTTP ${res.status}` };
  } catch (error) {
    return { ok: false, detail: (error as Error).message };
  }
}
