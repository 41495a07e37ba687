/**
 * The few Ethereum JSON-RPC reads the trigger runner needs (block number, logs, calls), each
 * with a deadline: ethers' provider retries a dead endpoint forever, a runner must report.
 */

import { redactUrl } from "../chain/rpc.js";
import { AvsctlError } from "../errors.js";

let nextId = 1;

export interface JsonRpcOptions {
  signal?: AbortSignal;
  /** Default 10 s. */
  timeoutMs?: number;
}

/** One JSON-RPC call; RPC_UNREACHABLE when the endpoint cannot answer, COMMAND_FAILED on a JSON-RPC error. */
export async function jsonRpc<T>(
  url: string,
  method: string,
  params: unknown[],
  opts: JsonRpcOptions = {},
): Promise<T> {
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 10_000);
  let body: { result?: T; error?: { code: number; message: string; data?: unknown } } | undefined;
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: nextId++, method, params }),
      signal: opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout,
    });
    body = (await response.json().catch(() => undefined)) as typeof body;
    if (!body) throw new Error(`HTTP ${response.status} without a JSON-RPC body`);
  } catch (error) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    const timedOut = timeout.aborted;
    throw new AvsctlError(
      timedOut ? "TIMEOUT" : "RPC_UNREACHABLE",
      `${method} on ${redactUrl(url)} ${timedOut ? "did not answer in time" : `failed: ${(error as Error).message}`}`,
      { details: { rpcUrl: redactUrl(url), method }, cause: error },
    );
  }
  if (body.error) {
    throw new AvsctlError("COMMAND_FAILED", `${method} on ${redactUrl(url)}: ${body.error.message}`, {
      details: { rpcError: body.error },
    });
  }
  return body.result as T;
}

/** 0x-quantity to number. */
export function quantity(hex: string): number {
  return Number(BigInt(hex));
}
