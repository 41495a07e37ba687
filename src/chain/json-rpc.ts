/**
 * The one JSON-RPC-over-HTTP client of avsctl's own code (the node's hot path keeps its lean
 * keep-alive client in src/node/rpc-client.ts): single calls and batches, each with a deadline,
 * because ethers' provider retries a dead endpoint forever and a command must report.
 */

import { AvsctlError } from "../errors.js";
import { shellQuote } from "../shell-quote.js";
import { httpPost, PostTimeoutError } from "../util/http-post.js";

/** URLs in messages lose their credentials and API-key-looking path parts. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = "***";
      u.password = "";
    }
    u.pathname = u.pathname.replace(/\/[A-Za-z0-9_-]{24,}(?=\/|$)/g, "/***");
    for (const key of [...u.searchParams.keys()]) {
      if (/key|token|secret/i.test(key)) u.searchParams.set(key, "***");
    }
    return u.toString().replace(/\/$/, "");
  } catch {
    return "<invalid url>";
  }
}

/**
 * A URL as a command printed for pasting may show it: as given (shell-quoted) when it carries no
 * secret and is one URL, not a list, else `placeholder`, since a redacted URL would not work pasted.
 */
export function pastableUrl(url: string, placeholder: string): string {
  return /^https?:\/\/\S+$/.test(url) && redactUrl(url) === url.replace(/\/$/, "")
    ? shellQuote(url)
    : placeholder;
}

let nextId = 1;

export interface JsonRpcOptions {
  signal?: AbortSignal;
  /** Default 10 s. */
  timeoutMs?: number;
}

export interface RpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export interface RpcAnswer<T = unknown> {
  result?: T;
  error?: RpcErrorObject;
}

/**
 * POSTs one JSON-RPC request or batch and returns the parsed body. Only the transport fails
 * here: TIMEOUT when the deadline passed, RPC_UNREACHABLE when nothing (or no JSON) answered.
 */
async function post(url: string, payload: unknown, what: string, opts: JsonRpcOptions): Promise<unknown> {
  try {
    const response = await httpPost(url, JSON.stringify(payload), {
      timeoutMs: opts.timeoutMs ?? 10_000,
      signal: opts.signal,
      // a command's own concurrency (task send --concurrency, up to 1000) is the bound
      maxSockets: Number.POSITIVE_INFINITY,
    });
    try {
      return JSON.parse(response.text);
    } catch {
      throw new Error(`HTTP ${response.status} without a JSON-RPC body`);
    }
  } catch (error) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    const timedOut = error instanceof PostTimeoutError;
    throw new AvsctlError(
      timedOut ? "TIMEOUT" : "RPC_UNREACHABLE",
      `${what} on ${redactUrl(url)} ${timedOut ? "did not answer in time" : `failed: ${(error as Error).message}`}`,
      { details: { rpcUrl: redactUrl(url), method: what }, cause: error },
    );
  }
}

/** One call, answered as a result or an error object (never thrown). */
export async function rpcRequest<T = unknown>(
  url: string,
  method: string,
  params: unknown[],
  opts: JsonRpcOptions = {},
): Promise<RpcAnswer<T>> {
  const body = (await post(
    url,
    { jsonrpc: "2.0", id: nextId++, method, params },
    method,
    opts,
  )) as RpcAnswer<T>;
  return { result: body.result, error: body.error };
}

/** One batch; each answer in the order of `calls`. */
export async function rpcBatch(
  url: string,
  calls: Array<{ method: string; params: unknown[] }>,
  opts: JsonRpcOptions = {},
): Promise<RpcAnswer[]> {
  if (calls.length === 0) return [];
  const first = nextId;
  nextId += calls.length;
  const body = await post(
    url,
    calls.map((c, i) => ({ jsonrpc: "2.0", id: first + i, ...c })),
    calls.map((c) => c.method).join(","),
    opts,
  );
  if (!Array.isArray(body)) {
    throw new AvsctlError("RPC_UNREACHABLE", `${redactUrl(url)} answered a batch without an array`);
  }
  const byId = new Map((body as Array<RpcAnswer & { id: number }>).map((r) => [r.id, r]));
  return calls.map((_, i) => byId.get(first + i) ?? { error: { code: -32603, message: "no answer" } });
}

/** One JSON-RPC call; RPC_UNREACHABLE when the endpoint cannot answer, COMMAND_FAILED on a JSON-RPC error. */
export async function jsonRpc<T>(
  url: string,
  method: string,
  params: unknown[],
  opts: JsonRpcOptions = {},
): Promise<T> {
  const answer = await rpcRequest<T>(url, method, params, opts);
  if (answer.error) {
    throw new AvsctlError("COMMAND_FAILED", `${method} on ${redactUrl(url)}: ${answer.error.message}`, {
      details: { rpcError: answer.error },
    });
  }
  return answer.result as T;
}

/** 0x-quantity to number. */
export function quantity(hex: string): number {
  return Number(BigInt(hex));
}
