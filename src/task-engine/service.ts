/**
 * The task engine as a running service: the store, the worker and the HTTP API together.
 *
 * @example
 * const engine = await startTaskEngine({ storeFile: ".avsctl/engine.sqlite", port: 0, log: (r) => lines.push(r) });
 * // ... engine.url
 * await engine.stop();
 */

import { randomBytes } from "node:crypto";
import http from "node:http";
import { type ListeningServer, listen } from "../node/http.js";
import { createLogger, type LogSink } from "../node/log.js";
import type { Limits, WorkflowChain } from "../workflow/index.js";
import { requestHandler } from "./http.js";
import { EngineMetrics } from "./metrics.js";
import { engineRoutes } from "./routes.js";
import { TaskStore } from "./store.js";
import { type Execution, FINAL_EXECUTION_STATUSES } from "./types.js";
import { Worker } from "./worker.js";

export interface TaskEngineOptions {
  /** The sqlite file (created when missing). */
  storeFile: string;
  host?: string;
  /** 0: any free port. */
  port?: number;
  /** The chain id signed messages must name (default 31337, the devnet's L2). */
  chainId?: number;
  /** Receives each JSON log record; nothing is logged without it. */
  log?: LogSink;
  verbose?: boolean;
  /** Executions run at once (default 4). */
  concurrency?: number;
  leaseMs?: number;
  pollMs?: number;
  tokenTtlMs?: number;
  maxMessageTtlMs?: number;
  /** How long a blocking trigger waits before answering 202 (default 60 s). */
  blockingWaitMs?: number;
  /** "simulate" (default) never sends a transaction; "run" sends writes with chain.signer. */
  mode?: "simulate" | "run";
  chain?: WorkflowChain;
  limits?: Partial<Limits>;
  now?: () => number;
}

export interface TaskEngine {
  url: string;
  port: number;
  store: TaskStore;
  metrics: EngineMetrics;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startTaskEngine(opts: TaskEngineOptions): Promise<TaskEngine> {
  const now = opts.now ?? Date.now;
  const log = createLogger(opts.log, { component: "task-engine" }, opts.verbose ?? false);
  const store = new TaskStore(opts.storeFile);
  const requeued = store.recover();
  if (requeued > 0) log.info("queue recovered", { queued: requeued });
  const metrics = new EngineMetrics(() => store.queueDepth());
  const waiters = new Map<string, { taskId: string; done: (e: Execution | undefined) => void }>();
  const worker = new Worker({
    store,
    log,
    metrics,
    concurrency: opts.concurrency ?? 4,
    leaseMs: opts.leaseMs ?? 10 * 60_000,
    pollMs: opts.pollMs ?? 1_000,
    mode: opts.mode ?? "simulate",
    now,
    ...(opts.chain ? { chain: opts.chain } : {}),
    ...(opts.limits ? { limits: opts.limits } : {}),
    onRecorded: (execution) => waiters.get(execution.id)?.done(execution),
  });
  const key = Buffer.from(
    store.meta("token-key", () => randomBytes(32).toString("hex")),
    "hex",
  );
  const routes = engineRoutes({
    store,
    metrics,
    now,
    auth: {
      chainId: opts.chainId ?? 31337,
      key,
      maxMessageTtlMs: opts.maxMessageTtlMs ?? 24 * 3_600_000,
      tokenTtlMs: opts.tokenTtlMs ?? 3_600_000,
      skewMs: 60_000,
    },
    blockingWaitMs: opts.blockingWaitMs ?? 60_000,
    queued: () => worker.notify(),
    waitFor: (executionId, timeoutMs) =>
      new Promise((resolve) => {
        const execution = store.getExecution(executionId);
        const timer = setTimeout(() => done(undefined), timeoutMs);
        const done = (e: Execution | undefined): void => {
          clearTimeout(timer);
          waiters.delete(executionId);
          resolve(e);
        };
        waiters.set(executionId, { taskId: execution?.taskId ?? "", done });
      }),
    settle: (taskId) => {
      for (const [id, waiter] of [...waiters]) {
        if (waiter.taskId !== taskId) continue;
        const execution = store.getExecution(id);
        if (!execution || FINAL_EXECUTION_STATUSES.includes(execution.status)) waiter.done(execution);
      }
    },
  });
  let server: ListeningServer;
  try {
    server = await listen(
      http.createServer(requestHandler({ routes, log, metrics, tokenKey: key, now })),
      opts.host ?? "127.0.0.1",
      opts.port ?? 0,
    );
  } catch (error) {
    store.close();
    throw error;
  }
  worker.start();
  log.info("task engine listening", { url: server.url, storeFile: opts.storeFile });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      for (const waiter of [...waiters.values()]) waiter.done(undefined);
      await server.close();
      await worker.stop();
      store.close();
      log.info("task engine stopped");
    })();
    return stopping;
  };
  return { url: server.url, port: server.port, store, metrics, stop, [Symbol.asyncDispose]: stop };
}
