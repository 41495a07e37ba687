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
import { CodePool } from "../workflow/code-pool.js";
import type { Limits, WorkflowChain } from "../workflow/index.js";
import { Attestations, type AttestOptions, validationRoute } from "./attest.js";
import { requestHandler } from "./http.js";
import { EngineMetrics } from "./metrics.js";
import { operatorRoutes } from "./operator-routes.js";
import type { ExecutionDocument } from "./record.js";
import { engineRoutes, type RouteDeps } from "./routes.js";
import { recordRunRoute } from "./run-route.js";
import { TaskStore } from "./store.js";
import type { ChainLookup } from "./tx-check.js";
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
  /** The chains of the L2s a workflow may name (trigger.config.chainId); `chain` otherwise. */
  chainsById?: ReadonlyMap<number, WorkflowChain>;
  limits?: Partial<Limits>;
  now?: () => number;
  /** The secret of the operator routes (docs/task-engine.md, "Operators"); without it they refuse everyone. */
  operatorSecret?: string;
  /** Send each recorded execution as an AVS task and keep its verdict (docs/task-engine.md). */
  attest?: AttestOptions;
  /** The IPFS path gateway `POST /task/validate` reads execution records from. */
  ipfsGatewayUrl?: string;
  /** The chains `POST /task/validate` checks a record's sent transactions on (tx-check.ts). */
  validationChains?: ChainLookup;
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
  const attestations = opts.attest ? new Attestations(opts.attest, store, log) : undefined;
  // replays share the pool with executions: together they never hold more threads than this
  const codePool = new CodePool(opts.concurrency ?? 4);
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
    ...(opts.chainsById ? { chainsById: opts.chainsById } : {}),
    ...(opts.limits ? { limits: opts.limits } : {}),
    codePool,
    onRecorded: (execution) => waiters.get(execution.id)?.done(execution),
    ...(attestations
      ? { attest: (e: Execution, doc: ExecutionDocument) => attestations.submit(e, doc) }
      : {}),
  });
  const key = Buffer.from(
    store.meta("token-key", () => randomBytes(32).toString("hex")),
    "hex",
  );
  const deps: RouteDeps = {
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
    ...(opts.attest ? { chainIds: opts.attest.l2s.map((l) => l.chainId) } : {}),
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
  };
  const routes = [
    ...engineRoutes(deps),
    ...operatorRoutes(deps),
    recordRunRoute(deps),
    validationRoute(opts.ipfsGatewayUrl, opts.validationChains, codePool),
  ];
  let server: ListeningServer;
  try {
    server = await listen(
      http.createServer(
        requestHandler({ routes, log, metrics, tokenKey: key, operatorSecret: opts.operatorSecret, now }),
      ),
      opts.host ?? "127.0.0.1",
      opts.port ?? 0,
    );
  } catch (error) {
    await codePool.close();
    store.close();
    throw error;
  }
  worker.start();
  const resumed = attestations?.resume() ?? 0;
  if (resumed > 0) log.info("attestations resumed", { executions: resumed });
  log.info("task engine listening", { url: server.url, storeFile: opts.storeFile });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      for (const waiter of [...waiters.values()]) waiter.done(undefined);
      await server.close();
      await worker.stop();
      await attestations?.stop();
      await codePool.close();
      store.close();
      log.info("task engine stopped");
    })();
    return stopping;
  };
  return { url: server.url, port: server.port, store, metrics, stop, [Symbol.asyncDispose]: stop };
}
