/**
 * The aggregator's HTTP surface: the JSON-RPC methods performers call (sendTask, eth_chainId,
 * net_version, sendCustomMessage, healthcheck, avsctl_taskStatus), /health, /metrics when it
 * shares the port, and the /p2p routes attesters dial.
 */

import http from "node:http";
import { BodyTooLargeError, readBody, sendJson } from "../http.js";
import { dispatchJsonRpc, RpcError, rpcErrorBody } from "../json-rpc.js";
import { parseCustomMessageParams, parseSendTaskParams } from "../send-task.js";
import type { PeerHub } from "../transport.js";
import { postCustomMessage } from "../validation-client.js";
import type { Intake } from "./intake.js";
import { payloadTooLarge } from "./refusals.js";
import type { SyncHook } from "./sync-now.js";
import type { AggregatorContext, TaskStatusReport } from "./tasks.js";

type Method = (params: unknown[] | Record<string, unknown>) => unknown;

export interface RpcSurfaceOptions {
  /** false: no sendTask / sendCustomMessage (a relay-only aggregator). */
  jsonRpc: boolean;
  customMessageEnabled: boolean;
  /** The local validation service custom messages are also posted to. */
  webapiUrl: string | undefined;
  /** Serve /metrics on the JSON-RPC port. */
  metricsOnSamePort: boolean;
  /** `avsctl_syncVotingPower`, once internal tasks run. */
  syncHook?: SyncHook;
}

/** The process' memory in MB, for health output. */
function memoryMb(): Record<string, number> {
  const m = process.memoryUsage();
  const mb = (n: number): number => Math.round(n / 1e5) / 10;
  return {
    rss: mb(m.rss),
    heapUsed: mb(m.heapUsed),
    heapTotal: mb(m.heapTotal),
    external: mb(m.external),
    arrayBuffers: mb(m.arrayBuffers),
  };
}

/** What became of a task on any served chain (or the one given). */
export function taskStatus(
  ctx: AggregatorContext,
  taskHash: string,
  chainId?: number,
): TaskStatusReport | undefined {
  const ids = chainId !== undefined ? [chainId] : ctx.chains.map((c) => c.target.chainId);
  return ctx.tasks.report(taskHash, ids);
}

/** The /health answer (also served by a separate metrics server). */
export function health(ctx: AggregatorContext, hub: PeerHub): Record<string, unknown> {
  return {
    status: "ok",
    role: "aggregator",
    address: ctx.wallet.address,
    chains: ctx.chains.map((c) => ({
      chainId: c.target.chainId,
      blockNumber: Number(c.view.blockNumber),
      inFlight: c.pipeline.inFlight,
    })),
    attesters: hub.connected().map((s) => s.address),
    pendingTasks: ctx.tasks.size,
    journal: ctx.tasks.journal.counts(),
    memoryMb: memoryMb(),
  };
}

function methods(
  ctx: AggregatorContext,
  intake: Intake,
  hub: PeerHub,
  opts: RpcSurfaceOptions,
): Record<string, Method> {
  const { chains, limits, log, metrics } = ctx;
  const table: Record<string, Method> = {
    sendTask: async (params) => {
      try {
        return await intake.acceptTask(parseSendTaskParams(params, limits));
      } catch (error) {
        if (error instanceof RpcError && error.reason === "TASK_KNOWN") {
          metrics.tasksDuplicate.inc();
          log.info("duplicate task", { taskHash: error.details?.taskHash, status: error.details?.status });
        } else if (error instanceof RpcError) {
          metrics.tasksInvalid.inc({ reason: error.reason });
          // Under overload refusals come by the hundred a second: the metric counts them.
          const level = error.reason === "OVERLOADED" ? "debug" : "info";
          log[level]("sendTask refused", { reason: error.reason, error: error.message });
        }
        throw error;
      }
    },
    eth_chainId: () => `0x${chains[0]!.target.chainId.toString(16)}`,
    net_version: () => String(chains[0]!.target.chainId),
    sendCustomMessage: async (params) => {
      if (!opts.customMessageEnabled) {
        throw new RpcError(
          "METHOD_DISABLED",
          "custom messages are disabled (start with --json-rpc.custom-message-enabled)",
        );
      }
      const data = parseCustomMessageParams(params, limits);
      const delivered = hub.broadcast({ type: "custom", data });
      if (opts.webapiUrl) {
        void postCustomMessage(opts.webapiUrl, data, { timeoutMs: 10_000, signal: ctx.signal }).then((r) => {
          if (!r.ok)
            log.warn("custom message not delivered to the local validation service", { detail: r.detail });
        });
      }
      log.info("custom message broadcast", { bytes: (data.length - 2) / 2, attesters: delivered });
      return true;
    },
    healthcheck: () => ({
      healthy: true,
      address: ctx.wallet.address,
      blockNumber: Number(chains[0]!.view.blockNumber),
      chains: chains.map((c) => ({ chainId: c.target.chainId, blockNumber: Number(c.view.blockNumber) })),
      attesters: hub.connected().length,
      pendingTasks: ctx.tasks.size,
    }),
    avsctl_taskStatus: (params) => {
      const [hash, chainId] = Array.isArray(params) ? params : [params.taskHash, params.chainId];
      if (typeof hash !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(hash)) {
        throw new RpcError("INVALID_PARAMS", "avsctl_taskStatus takes [taskHash, chainId?]", {
          param: "taskHash",
        });
      }
      if (
        chainId !== undefined &&
        chainId !== null &&
        (typeof chainId !== "number" || !Number.isSafeInteger(chainId))
      ) {
        throw new RpcError("INVALID_PARAMS", "chainId must be an integer", { param: "chainId" });
      }
      const report = taskStatus(ctx, hash, (chainId ?? undefined) as number | undefined);
      if (!report) throw new RpcError("TASK_NOT_FOUND", `no task ${hash} in this aggregator's journal`);
      return report;
    },
    avsctl_syncVotingPower: () => {
      const run = opts.syncHook?.run;
      if (!run) {
        throw new RpcError(
          "METHOD_DISABLED",
          "internal tasks are not running (start the aggregator with --internal-tasks)",
        );
      }
      return run();
    },
  };
  if (!opts.jsonRpc) {
    for (const name of ["sendTask", "sendCustomMessage"]) delete table[name];
  }
  return table;
}

/** Makes servers of the aggregator's HTTP surface, all answering from the same state. */
export function rpcServers(
  ctx: AggregatorContext,
  intake: Intake,
  hub: PeerHub,
  opts: RpcSurfaceOptions,
): () => http.Server {
  const { limits, log, metrics } = ctx;
  const table = methods(ctx, intake, hub, opts);
  const handle: http.RequestListener = (req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    if (path.startsWith("/p2p/") && hub.handle(req, res, path)) return;
    if (req.method === "GET" && (path === "/health" || path === "/healthz"))
      return sendJson(res, 200, health(ctx, hub));
    if (req.method === "GET" && path === "/metrics" && opts.metricsOnSamePort) {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(metrics.render());
      return;
    }
    if (req.method !== "POST" || (path !== "/" && path !== "/rpc")) {
      return sendJson(res, 404, { error: "not found" });
    }
    readBody(req, limits.maxBodyBytes).then(
      async (body) => {
        const answer = await dispatchJsonRpc(body, {
          methods: table,
          maxBatch: limits.maxBatch,
          onCall: (method, reason, error) => {
            metrics.jsonRpcRequests.inc({ method, outcome: reason ?? "ok" });
            if (reason === "INTERNAL_ERROR")
              log.error("JSON-RPC handler failed", { method, error: (error as Error)?.message });
          },
        });
        if (answer === undefined) res.writeHead(204).end();
        else sendJson(res, 200, answer);
      },
      (error) => {
        if (error instanceof BodyTooLargeError) {
          metrics.jsonRpcRequests.inc({ method: "(body)", outcome: "PAYLOAD_TOO_LARGE" });
          sendJson(res, 413, rpcErrorBody(payloadTooLarge(limits.maxBodyBytes)), { connection: "close" });
        } else if (!res.headersSent) {
          sendJson(res, 400, rpcErrorBody(new RpcError("PARSE_ERROR", "could not read the request body")));
        }
      },
    );
  };
  return () => {
    const server = http.createServer(handle);
    server.headersTimeout = 20_000;
    server.requestTimeout = 60_000;
    server.keepAliveTimeout = 30_000;
    return server;
  };
}
