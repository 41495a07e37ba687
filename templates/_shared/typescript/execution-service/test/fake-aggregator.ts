import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createExecutionServer } from "../src/server.ts";
import { loadExecutionSettings } from "../src/settings.ts";
import { taskHash } from "../src/signing.ts";

export interface RecordedCall {
  method: string;
  params: unknown[];
}

export interface FakeAggregator {
  url: string;
  calls: RecordedCall[];
  /** The params of every sendTask received, in order. */
  sendTasks(): unknown[][];
  close(): Promise<void>;
}

interface RpcRequest {
  id?: unknown;
  method?: unknown;
  params?: unknown;
}

export interface FakeAggregatorOptions {
  chainId?: number;
  /** Answer every sendTask with this JSON-RPC error message (code -32000). */
  sendTaskError?: string;
  /**
   * Answer every sendTask as a task the network already has, in this state ("pending",
   * "approved", ...): error -32022, reason TASK_KNOWN, as the aggregator answers a re-sent task.
   */
  taskKnown?: string;
  /**
   * Read every request that holds a sendTask, then reset the connection instead of answering it,
   * as an aggregator cut mid-request (killed, or restarting) does: whether it took the task is
   * unknown to the service.
   */
  cutSendTask?: boolean;
}

/**
 * A JSON-RPC endpoint on 127.0.0.1 that answers like an Othentic aggregator as far as an
 * execution service can tell: batches, eth_chainId and sendTask. It records what it received
 * so tests can check the exact parameters and signature.
 */
export async function startFakeAggregator(options: FakeAggregatorOptions = {}): Promise<FakeAggregator> {
  const chainId = options.chainId ?? 31338;
  const calls: RecordedCall[] = [];
  const answer = (request: RpcRequest) => {
    const base = { jsonrpc: "2.0", id: request.id ?? null };
    const params = Array.isArray(request.params) ? request.params : [];
    if (request.method === "eth_chainId") return { ...base, result: `0x${chainId.toString(16)}` };
    if (request.method === "sendTask") {
      calls.push({ method: "sendTask", params });
      if (options.sendTaskError) return { ...base, error: { code: -32000, message: options.sendTaskError } };
      if (options.taskKnown) {
        const [proofOfTask, data, taskDefinitionId, performer] = params as [string, string, number, string];
        const hash = taskHash(proofOfTask, data, performer, taskDefinitionId);
        const error = {
          code: -32022,
          message: `task ${hash} is already known (${options.taskKnown})`,
          data: {
            reason: "TASK_KNOWN",
            taskHash: hash,
            status: options.taskKnown,
            taskNumber: 7,
            txHash: null,
          },
        };
        return { ...base, error };
      }
      return { ...base, result: true };
    }
    calls.push({ method: String(request.method), params });
    return { ...base, error: { code: -32601, message: `method ${String(request.method)} not found` } };
  };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      body = null;
    }
    const requests = (Array.isArray(body) ? body : [body]) as Array<RpcRequest | null>;
    if (options.cutSendTask && requests.some((r) => r?.method === "sendTask")) {
      for (const r of requests) {
        if (r?.method === "sendTask") calls.push({ method: "sendTask", params: r.params as unknown[] });
      }
      req.socket.resetAndDestroy();
      return;
    }
    const reply = Array.isArray(body)
      ? body.map((r) => answer(r as RpcRequest))
      : body && typeof body === "object"
        ? answer(body as RpcRequest)
        : { jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error" } };
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(reply));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    sendTasks: () => calls.filter((c) => c.method === "sendTask").map((c) => c.params),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * This project's execution service in front of a fake aggregator started with `options`:
 * `use` gets the service's URL and the aggregator, and both are closed afterwards.
 */
export async function withServiceAgainst(
  options: FakeAggregatorOptions,
  env: Record<string, string>,
  use: (url: string, aggregator: FakeAggregator) => Promise<void>,
): Promise<void> {
  const aggregator = await startFakeAggregator(options);
  const fullEnv = { ...env, OTHENTIC_CLIENT_RPC_ADDRESS: aggregator.url };
  const server = createExecutionServer(loadExecutionSettings(fullEnv), fullEnv);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    await use(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, aggregator);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await aggregator.close();
  }
}

/**
 * POSTs `body` to /task/execute of a service whose aggregator cut its sendTask (`cutSendTask`)
 * and checks the answer: HTTP 500 naming sendTask, handing back in `data` the very task it signed
 * (its hash, and the sendTask params the aggregator received), so that the caller can send that
 * task again (the aggregator takes a task once) or follow its hash.
 */
export async function expectSignedTaskHandedBack(
  url: string,
  cutting: FakeAggregator,
  body: Record<string, unknown>,
): Promise<void> {
  const response = await fetch(`${url}/task/execute`, { method: "POST", body: JSON.stringify(body) });
  assert.equal(response.status, 500);
  const answer = (await response.json()) as any;
  assert.equal(answer.error, true);
  assert.match(answer.message, /^sendTask failed: /);
  const [params, ...others] = cutting.sendTasks();
  assert.ok(params, "sendTask reached the aggregator");
  assert.equal(others.length, 0, "the service did not send the task again itself");
  const [proofOfTask, data, taskDefinitionId, performer] = params as [string, string, number, string];
  assert.deepEqual(answer.data, {
    taskHash: taskHash(proofOfTask, data, performer, taskDefinitionId),
    sendTaskParams: params,
  });
}
