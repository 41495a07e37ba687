/**
 * The aggregator node: the JSON-RPC endpoint performers call (sendTask, eth_chainId,
 * sendCustomMessage, healthcheck), the hub attesters dial, vote aggregation with the thresholds
 * of docs/protocol.md#consensus, and pipelined submitTask transactions backed by the task journal.
 *
 * Life of a task here: checked -> journaled (pending) -> answered with its task hash ->
 * pushed to every attester -> votes tallied as they arrive -> once a verdict's threshold is
 * met, the signers' BLS signatures are summed and checked with one pairing (one check per vote
 * only if that fails) -> submitTask signed, journaled (submitting), sent -> receipt ->
 * approved / rejected / failed. A task that meets no threshold by its deadline is timed out,
 * one that can no longer meet either ends as unreachable at once, and nothing is sent for them.
 *
 * This file only wires the parts in ./aggregator/: intake (sendTask checks), consensus
 * (../consensus.ts, pure), verification, the submission pipeline, recovery from the journal,
 * the attesters' hub and the RPC surface, all sharing one explicit state (tasks.ts).
 */

import { initBls } from "../crypto/bls.js";
import { AvsctlError } from "../errors.js";
import { startAttesters } from "./aggregator/attesters.js";
import { startChainWatch } from "./aggregator/chain-watch.js";
import { type Cleanup, openChains, resolveChainIds } from "./aggregator/chains.js";
import { startDeadlines } from "./aggregator/deadlines.js";
import { Intake } from "./aggregator/intake.js";
import { JOIN_GRACE_MS } from "./aggregator/reachability.js";
import { recover } from "./aggregator/recovery.js";
import { health, rpcServers, taskStatus } from "./aggregator/rpc-surface.js";
import { Submissions } from "./aggregator/submission.js";
import { type SyncHook, syncNow } from "./aggregator/sync-now.js";
import {
  type AggregatorContext,
  type ChainCtx,
  TaskBook,
  type TaskStatusReport,
} from "./aggregator/tasks.js";
import { Verification } from "./aggregator/verification.js";
import { type ListeningServer, listenShared } from "./http.js";
import { startInternalTasks } from "./internal-tasks.js";
import { TaskJournal } from "./journal.js";
import { createLogger, type Logger } from "./log.js";
import { NodeMetrics, startMetricsServer } from "./metrics.js";
import {
  type AggregatorOptions,
  DEFAULT_JSON_RPC_PORT,
  DEFAULT_LIMITS,
  DEFAULT_METRICS_PORT,
  resolveWebapiUrl,
} from "./options.js";
import { startRelayer } from "./relayer.js";
import { loadOperatorWallet } from "./util.js";

export type { TaskStatusReport };

export interface AggregatorHandle {
  /** Base URL of the JSON-RPC endpoint (also where attesters dial). */
  readonly rpcUrl: string;
  /** http://host:port/metrics when metrics are on. */
  readonly metricsUrl: string | undefined;
  /** The aggregator's operator address. */
  readonly address: string;
  /** The L2s served, first = default target. */
  readonly chains: ReadonlyArray<{ chainId: number; attestationCenter: string }>;
  /** What became of a task (the same answer as the `avsctl_taskStatus` JSON-RPC method). */
  taskStatus(taskHash: string, chainId?: number): TaskStatusReport | undefined;
  /** Attesters currently connected. */
  peers(): string[];
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const DEFAULT_TASK_TIMEOUT_MS = 30_000;
const DEFAULT_CHAIN_REFRESH_MS = 5_000;
/**
 * Listening sockets of the JSON-RPC port (see listenShared): new connections are taken up to
 * this many per event-loop turn, for performers that open one per request.
 */
const RPC_ACCEPTORS = 32;

async function runAll(cleanup: Cleanup): Promise<void> {
  for (const c of cleanup.reverse()) await c();
}

/** Starts an aggregator; resolves once it serves JSON-RPC and has read the chain. */
export async function startAggregator(opts: AggregatorOptions): Promise<AggregatorHandle> {
  if (opts.l2.length === 0) {
    throw new AvsctlError("MISSING_ARGUMENT", "the aggregator needs at least one L2", {
      hint: "set L2_RPC and ATTESTATION_CENTER_ADDRESS (or pass --l2-chain)",
    });
  }
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const host = opts.host ?? "127.0.0.1";
  const { wallet, privateKey } = await loadOperatorWallet(opts, "aggregator");
  const log: Logger = createLogger(opts.log, { role: "aggregator", address: wallet.address });
  const metrics = new NodeMetrics();
  const abort = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, abort.signal]) : abort.signal;
  await initBls();
  const webapiUrl = opts.avsWebapi ? resolveWebapiUrl(opts.avsWebapi, opts.avsWebapiPort) : undefined;

  const targets = await resolveChainIds(opts.l2, { log, signal });
  const journal = new TaskJournal(opts.journalPath ?? ":memory:");
  const cleanup: Cleanup = [() => journal.close()];
  let chains: ChainCtx[];
  try {
    chains = await openChains(
      targets,
      { wallet, log, metrics, signal },
      opts.chainRefreshMs ?? DEFAULT_CHAIN_REFRESH_MS,
      cleanup,
    );
  } catch (error) {
    await runAll(cleanup);
    throw error;
  }

  const ctx: AggregatorContext = {
    wallet,
    privateKey,
    log,
    metrics,
    tasks: new TaskBook(journal, metrics),
    chains,
    limits,
    taskTimeoutMs: opts.taskTimeoutMs ?? DEFAULT_TASK_TIMEOUT_MS,
    signal,
    state: { stopping: false },
    connectedAttesters: () => [],
    startedAt: performance.now(),
    joinGraceMs: opts.joinGraceMs ?? JOIN_GRACE_MS,
  };
  const submissions = new Submissions(ctx);
  const verification = new Verification(ctx, (task, verdict, signers, signature) =>
    submissions.submit(task, verdict, signers, signature),
  );
  const { hub, broadcast } = startAttesters(ctx, (task) => verification.tryConclude(task));
  cleanup.push(() => hub.close());
  ctx.connectedAttesters = () => hub.connected().map((s) => s.address);
  const intake = new Intake(ctx, broadcast);
  cleanup.push(startDeadlines(ctx, hub));

  await recover(ctx, intake, submissions);
  // after recovery: the pipelines have started from the chain and the journal
  cleanup.push(startChainWatch(ctx, intake, submissions));

  const metricsPortSame =
    opts.metrics === true &&
    (opts.metricsPort ?? DEFAULT_METRICS_PORT) === (opts.jsonRpcPort ?? DEFAULT_JSON_RPC_PORT);
  const syncHook: SyncHook = {};
  const servers = rpcServers(ctx, intake, hub, {
    syncHook,
    jsonRpc: opts.jsonRpc !== false,
    customMessageEnabled: Boolean(opts.customMessageEnabled),
    webapiUrl,
    metricsOnSamePort: metricsPortSame,
  });

  let listening: ListeningServer;
  let metricsServer: ListeningServer | undefined;
  try {
    listening = await listenShared(servers, host, opts.jsonRpcPort ?? DEFAULT_JSON_RPC_PORT, RPC_ACCEPTORS);
    // Attesters can dial in from now on: the join grace of reachability.ts counts from here.
    ctx.startedAt = performance.now();
    if (opts.metrics && !metricsPortSame) {
      metricsServer = await startMetricsServer(host, opts.metricsPort ?? DEFAULT_METRICS_PORT, metrics, () =>
        health(ctx, hub),
      );
    }
  } catch (error) {
    ctx.state.stopping = true;
    await runAll(cleanup);
    throw error;
  }

  const extra: Array<{ stop(): Promise<void> }> = [];
  if (opts.internalTasks && opts.internalTasks.length > 0) {
    const runner = startInternalTasks({
      schedules: opts.internalTasks,
      l1: opts.l1,
      chains: chains.map((c) => ({ chainId: c.target.chainId, view: c.view, rpc: c.rpc })),
      submit: (chainId, id, proofOfTask, data) => intake.submitInternalTask(chainId, id, proofOfTask, data),
      isOpen: (chainId, hash) => ctx.tasks.isOpen(chainId, hash),
      log: log.child({ component: "internal-tasks" }),
      signal,
    });
    syncHook.run = syncNow(ctx, runner.syncVotingPower);
    extra.push(runner);
  }
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      ctx.state.stopping = true;
      abort.abort();
      for (const e of extra) await e.stop().catch(() => undefined);
      await listening.close();
      await metricsServer?.close();
      await runAll(cleanup);
      log.info("aggregator stopped");
    })();
    return stopped;
  };
  opts.signal?.addEventListener("abort", () => void stop(), { once: true });

  if (opts.relayer) {
    if (!opts.l1?.avsGovernance) {
      log.warn("relayer not started: the L1 AvsGovernance address is unknown (AVS_GOVERNANCE_ADDRESS)");
    } else {
      try {
        extra.push(
          await startRelayer({
            l1: { rpcUrl: opts.l1.rpcUrl, avsGovernance: opts.l1.avsGovernance },
            l2: targets,
            privateKey: opts.relayer.privateKey,
            pollMs: opts.relayer.pollMs,
            log: opts.log,
            signal,
          }),
        );
      } catch (error) {
        await stop();
        throw error;
      }
    }
  }

  const metricsUrl = metricsServer
    ? `${metricsServer.url}/metrics`
    : metricsPortSame
      ? `${listening.url}/metrics`
      : undefined;
  const served = chains.map((c) => ({
    chainId: c.target.chainId,
    attestationCenter: c.target.attestationCenter,
  }));
  log.info("aggregator ready", { rpcUrl: listening.url, chains: served, metrics: metricsUrl });

  return {
    rpcUrl: listening.url,
    metricsUrl,
    address: wallet.address,
    chains: served,
    taskStatus: (taskHash, chainId) => taskStatus(ctx, taskHash, chainId),
    peers: () => hub.connected().map((s) => s.address),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
