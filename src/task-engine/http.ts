/**
 * The HTTP plumbing of the task engine: a small route table, JSON bodies with a size cap, one
 * error shape (`{"error": {"code", "message", "details"?}}`), the bearer token check, and one
 * JSON log line per request carrying the task and execution ids it touched. Request bodies are
 * never logged (a secret's value travels in one).
 */

import type http from "node:http";
import { registerCatalog } from "../errors.js";
import { BodyTooLargeError, readBody, sendJson } from "../node/http.js";
import type { Logger } from "../node/log.js";
import { AuthError, verifyOperator, verifyToken } from "./auth.js";
import type { EngineMetrics } from "./metrics.js";

export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * The codes only the engine answers. It also answers avsctl's NOT_FOUND and INTERNAL, the
 * JSON-RPC catalog's INVALID_REQUEST and INVALID_SIGNATURE (same meanings), and WF_INVALID with
 * the workflow's problems, as the CLI reports an invalid workflow.
 */
export const ENGINE_ERROR_CODES = [
  "UNAUTHENTICATED",
  "TOKEN_EXPIRED",
  "FORBIDDEN",
  "INVALID_MESSAGE",
  "MESSAGE_EXPIRED",
  "SIGNER_MISMATCH",
  "WRONG_CHAIN",
  "TASK_NOT_ACTIVE",
  "TASK_NOT_STARTED",
  "TASK_EXPIRED",
  "MAX_EXECUTION_REACHED",
  "SECRET_EXISTS",
  "BODY_TOO_LARGE",
  "METHOD_NOT_ALLOWED",
] as const;
registerCatalog("task-engine", ENGINE_ERROR_CODES);

export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;
  constructor(status: number, code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export interface RequestContext {
  params: Record<string, string>;
  query: URLSearchParams;
  /** The caller's address (checksummed), for routes that need a token. */
  owner: string;
  body(): Promise<Record<string, unknown>>;
  /** Ids the request touched, for its log line. */
  logFields: Record<string, unknown>;
}

export interface Reply {
  status: number;
  body: unknown;
  contentType?: string;
}

export interface Route {
  method: string;
  /** e.g. "/workflows/:id:trigger" (":name" matches one path segment up to ":" or "/"). */
  path: string;
  /** true: an owner's token; "operator": the operator secret (routes for the devnet's operators). */
  auth: boolean | "operator";
  handle(ctx: RequestContext): Promise<Reply> | Reply;
}

interface CompiledRoute extends Route {
  regex: RegExp;
  names: string[];
}

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const source = route.path
    .replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    .replace(/\/:([a-zA-Z]+)/g, (_m, name: string) => {
      names.push(name);
      return "/([^/:]+)";
    });
  return { ...route, regex: new RegExp(`^${source}$`), names };
}

export interface HandlerOptions {
  routes: Route[];
  log: Logger;
  metrics: EngineMetrics;
  tokenKey: Buffer;
  operatorSecret?: string | undefined;
  now: () => number;
}

/** The request listener of the engine's server. */
export function requestHandler(opts: HandlerOptions): http.RequestListener {
  const routes = opts.routes.map(compile);
  return (req, res) => {
    const started = opts.now();
    const url = new URL(req.url ?? "/", "http://engine");
    const fields: Record<string, unknown> = {};
    let routeName = "unknown";
    const finish = (reply: Reply): void => {
      if (reply.contentType) {
        res.writeHead(reply.status, { "content-type": reply.contentType }).end(String(reply.body));
      } else sendJson(res, reply.status, reply.body);
      opts.metrics.requests.inc({ route: routeName, status: reply.status });
      const level = reply.status >= 500 ? "error" : "info";
      opts.log[level]("request", {
        method: req.method,
        route: routeName,
        status: reply.status,
        ms: opts.now() - started,
        ...fields,
      });
    };
    const run = async (): Promise<Reply> => {
      let path: string;
      try {
        path = decodeURIComponent(url.pathname.replace(/\/+$/, "") || "/");
      } catch {
        throw new HttpError(400, "INVALID_REQUEST", "the path is not valid URL encoding");
      }
      const matches = routes.filter((r) => r.regex.test(path));
      if (matches.length === 0) throw new HttpError(404, "NOT_FOUND", `no route ${url.pathname}`);
      const route = matches.find((r) => r.method === req.method);
      if (!route)
        throw new HttpError(405, "METHOD_NOT_ALLOWED", `${req.method} is not allowed on ${url.pathname}`);
      routeName = `${route.method} ${route.path}`;
      const m = route.regex.exec(path)!;
      const params = Object.fromEntries(route.names.map((n, i) => [n, m[i + 1]!]));
      let owner = "";
      if (route.auth === "operator") {
        verifyOperator(req.headers.authorization, opts.operatorSecret);
        fields.caller = "operator";
      } else if (route.auth) {
        owner = verifyToken(req.headers.authorization, opts.tokenKey, opts.now());
        fields.owner = owner;
      }
      return route.handle({
        params,
        query: url.searchParams,
        owner,
        logFields: fields,
        body: async () => {
          let text: string;
          try {
            text = await readBody(req, MAX_BODY_BYTES);
          } catch (error) {
            if (error instanceof BodyTooLargeError) {
              throw new HttpError(413, "BODY_TOO_LARGE", `a request body is at most ${MAX_BODY_BYTES} bytes`);
            }
            throw error;
          }
          let parsed: unknown;
          try {
            parsed = text.trim() === "" ? {} : JSON.parse(text);
          } catch {
            throw new HttpError(400, "INVALID_REQUEST", "the body is not JSON");
          }
          if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
            throw new HttpError(400, "INVALID_REQUEST", "the body must be a JSON object");
          }
          return parsed as Record<string, unknown>;
        },
      });
    };
    run().then(finish, (error: unknown) => {
      if (error instanceof HttpError || error instanceof AuthError) {
        const details = error instanceof HttpError ? error.details : undefined;
        finish({
          status: error.status,
          body: { error: { code: error.code, message: error.message, ...(details ? { details } : {}) } },
        });
      } else {
        fields.error = error instanceof Error ? error.message : String(error);
        finish({
          status: 500,
          body: { error: { code: "INTERNAL", message: "the engine failed to answer" } },
        });
      }
    });
  };
}
