/**
 * A lean Ethereum JSON-RPC client for the node's hot paths (raw transactions, receipts, calls):
 * batching, per-request deadlines and bounded retries of transient failures. ethers'
 * provider retries a dead endpoint forever and costs more per call; this one reports.
 */

import { redactUrl } from "../chain/rpc.js";
import { httpPost } from "../util/http-post.js";
import { sleep } from "../util/sleep.js";
import { RpcCallError } from "./chain-errors.js";

export { RpcCallError };

/** The endpoint could not be reached or answered garbage. */
export class RpcTransportError extends Error {}

export interface RpcClientOptions {
  timeoutMs?: number;
  /** Attempts for transient failures (default 4: 0.1 s, 0.3 s, 0.9 s apart). */
  attempts?: number;
  /** Called on every transient failure (metrics). */
  onTransientError?: (method: string, error: Error) => void;
  signal?: AbortSignal;
}

let nextId = 1;

export class RpcClient {
  private readonly timeoutMs: number;
  private readonly attempts: number;

  constructor(
    readonly url: string,
    private readonly opts: RpcClientOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.attempts = opts.attempts ?? 4;
  }

  private async post(body: string, label: string): Promise<unknown> {
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < this.attempts; attempt++) {
      if (attempt > 0) await sleep(100 * 3 ** (attempt - 1), this.opts.signal);
      if (this.opts.signal?.aborted) break;
      try {
        const res = await httpPost(this.url, body, { timeoutMs: this.timeoutMs, signal: this.opts.signal });
        if (res.status === 429 || res.status >= 500) throw new RpcTransportError(`HTTP ${res.status}`);
        try {
          return JSON.parse(res.text);
        } catch {
          throw new RpcTransportError(`HTTP ${res.status}: the answer is not JSON`);
        }
      } catch (error) {
        lastError =
          error instanceof RpcTransportError ? error : new RpcTransportError((error as Error).message);
        this.opts.onTransientError?.(label, lastError);
      }
    }
    throw new RpcTransportError(
      `${label}: ${redactUrl(this.url)} unreachable (${lastError?.message ?? "aborted"})`,
    );
  }

  /** One call; JSON-RPC errors throw RpcCallError, transport failures RpcTransportError after retries. */
  async call<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    const body = await this.post(JSON.stringify({ jsonrpc: "2.0", id: nextId++, method, params }), method);
    const r = body as { result?: T; error?: { code: number; message: string; data?: unknown } };
    if (r?.error) throw new RpcCallError(method, r.error.code, r.error.message, r.error.data);
    if (!r || !("result" in r)) throw new RpcTransportError(`${method}: malformed answer`);
    return r.result as T;
  }

  /** Several calls in one HTTP request; each answer is a result or an error, in order. */
  async batch(calls: Array<[string, unknown[]]>): Promise<Array<{ result?: unknown; error?: RpcCallError }>> {
    if (calls.length === 0) return [];
    const first = nextId;
    nextId += calls.length;
    const body = await this.post(
      JSON.stringify(calls.map(([method, params], i) => ({ jsonrpc: "2.0", id: first + i, method, params }))),
      `batch(${calls[0]![0]})`,
    );
    if (!Array.isArray(body)) throw new RpcTransportError("batch: the answer is not an array");
    const byId = new Map<
      number,
      { result?: unknown; error?: { code: number; message: string; data?: unknown } }
    >();
    for (const item of body) byId.set(Number(item?.id), item);
    return calls.map(([method], i) => {
      const item = byId.get(first + i);
      if (!item) return { error: new RpcCallError(method, -32603, "missing from the batch answer") };
      if (item.error)
        return { error: new RpcCallError(method, item.error.code, item.error.message, item.error.data) };
      return { result: item.result };
    });
  }
}
