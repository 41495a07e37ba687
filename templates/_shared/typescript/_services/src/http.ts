import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { parseEnv } from "node:util";

/** An error whose HTTP status the server should answer with (400 for bad input), and its `data`. */
export class HttpError extends Error {
  readonly status: number;
  readonly data: Record<string, unknown>;
  constructor(status: number, message: string, data: Record<string, unknown> = {}) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.data = data;
  }
}

const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Reads a JSON object body. The Content-Type header is not required: Othentic nodes send
 * application/json, but curl users often forget it, and silently reading nothing helps nobody.
 */
export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "request body too large");
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, "request body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new HttpError(400, "request body must be a JSON object");
  }
  return value as Record<string, unknown>;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** The error envelope Othentic's JavaScript services use: `{"error": true, "message", "data": {}}`. */
export function sendError(res: ServerResponse, error: unknown): void {
  const status = error instanceof HttpError ? error.status : 500;
  const message = error instanceof Error ? error.message : String(error);
  if (status >= 500) logFailure(res, status, message);
  sendJson(res, status, { data: error instanceof HttpError ? error.data : {}, error: true, message });
}

/** A request that failed on our side, on stderr (the service's log): a caller's error says only "500". */
function logFailure(res: ServerResponse, status: number, message: string): void {
  const { method, url } = res.req ?? {};
  const line =
    process.env.LOG_FORMAT === "json"
      ? JSON.stringify({
          time: new Date().toISOString(),
          level: "error",
          msg: "request failed",
          method,
          path: url,
          status,
          error: message,
        })
      : `${method} ${url} failed (${status}): ${message}`;
  process.stderr.write(`${line}\n`);
}

/** Reads an environment value, treating an empty string (as in a copied .env.example) as unset. */
export function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

/** The listening port: the service-specific variable first, then PORT, then the default. */
export function portFrom(env: NodeJS.ProcessEnv, specific: string, fallback: number): number {
  const raw = envValue(env, specific) ?? envValue(env, "PORT");
  if (raw === undefined) return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(
      `${envValue(env, specific) === undefined ? "PORT" : specific} must be a port number, got "${raw}"`,
    );
  }
  return port;
}

/**
 * Loads KEY=VALUE files into the environment without overriding variables that are already
 * set, so the devnet and Docker can always win over a developer's .env.
 */
export function loadEnvFiles(files: string[], env: NodeJS.ProcessEnv = process.env): void {
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const [key, value] of Object.entries(parseEnv(text))) {
      if (env[key] === undefined) env[key] = value;
    }
  }
}
