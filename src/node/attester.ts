/**
 * The attester node: keeps an authenticated link to the aggregator, asks its validation
 * service about every task (internal tasks are recomputed from the chains instead), and answers
 * with a BLS vote over the vote hash of docs/protocol.md#consensus (approve or reject). A
 * validation service that is down is asked again while the task's deadline allows; when it
 * stays down, is slow or answers garbage the attester abstains and says why; it never approves
 * by default.
 */

import { fastVoteHash } from "../chain/abi-fast.js";
import { INTERNAL_TASK_DEFINITIONS, isInternalTaskDefinitionId } from "../chain/well-known.js";
import {
  type BlsSecretKey,
  blsSecretFromSeed,
  initBls,
  parseBlsSecret,
  signVote,
  signVoteWithWitness,
} from "../crypto/bls.js";
import { AvsctlError } from "../errors.js";
import { sleep } from "../util/sleep.js";
import { AnswerCache } from "./answers.js";
import { ChainView } from "./chain-view.js";
import type { ListeningServer } from "./http.js";
import { checkInternalTask } from "./internal-tasks.js";
import { createLogger } from "./log.js";
import { NodeMetrics, startMetricsServer } from "./metrics.js";
import { type AttesterOptions, DEFAULT_METRICS_PORT, type L2Target, resolveWebapiUrl } from "./options.js";
import { Reachability, untilReachable } from "./reachable.js";
import { RpcClient } from "./rpc-client.js";
import {
  AggregatorLink,
  type DownMessage,
  parseVoteWitness,
  type TaskMessage,
  type VoteMessage,
} from "./transport.js";
import { loadOperatorWallet, Semaphore, word } from "./util.js";
import { postCustomMessage, type ValidationOutcome, validateTask } from "./validation-client.js";

export interface AttesterHandle {
  readonly address: string;
  readonly metricsUrl: string | undefined;
  /** Whether the link to the aggregator is up. */
  connected(): boolean;
  /** Resolves once connected (false when `timeoutMs` passes first). */
  waitConnected(timeoutMs: number): Promise<boolean>;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const DEFAULT_VALIDATION_TIMEOUT_MS = 10_000;
const DEFAULT_VALIDATION_CONCURRENCY = 64;
const MAX_QUEUED = 20_000;
const DEFAULT_CHAIN_REFRESH_MS = 10_000;
const MAX_VOTES_PER_POST = 2_000;
/** How an abstention says the validation service did not answer at all (validation-client.ts). */
const UNREACHABLE = "validation service unreachable";
const VALIDATION_RETRY_FIRST_MS = 200;
const VALIDATION_RETRY_MAX_MS = 2_000;
/** Retries of a validation service that is down stop this long before the task's deadline, so the abstention still arrives in time. */
const VALIDATION_RETRY_MARGIN_MS = 2_000;

/** Starts an attester; resolves once its chain reads work (the link connects in the background). */
export async function startAttester(opts: AttesterOptions): Promise<AttesterHandle> {
  if (!opts.aggregatorUrl) {
    throw new AvsctlError("MISSING_ARGUMENT", "the attester needs the aggregator's URL", {
      hint: "set OTHENTIC_CLIENT_RPC_ADDRESS (or pass the aggregator URL)",
    });
  }
  if (!opts.avsWebapi) {
    throw new AvsctlError("MISSING_ARGUMENT", "the attester needs its validation service", {
      hint: "pass --avs-webapi <url>",
    });
  }
  if (opts.l2.length === 0) {
    throw new AvsctlError("MISSING_ARGUMENT", "the attester needs the L2 and its AttestationCenter", {
      hint: "set L2_RPC and ATTESTATION_CENTER_ADDRESS",
    });
  }
  const webapi = resolveWebapiUrl(opts.avsWebapi, opts.avsWebapiPort);
  const aggregatorUrl = opts.aggregatorUrl.replace(/\/+$/, "");
  const { wallet, privateKey } = await loadOperatorWallet(opts, "attester");
  const log = createLogger(opts.log, { role: "attester", address: wallet.address });
  const metrics = new NodeMetrics();
  const abort = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, abort.signal]) : abort.signal;
  await initBls();
  const blsSecret: BlsSecretKey = opts.blsSecretKey
    ? parseBlsSecret(opts.blsSecretKey)
    : blsSecretFromSeed(privateKey);

  const { fetchChainId, redactUrl } = await import("../chain/rpc.js");
  // A chain that is down (or restarting) is waited for, not a reason to exit.
  const reach = (t: { rpcUrl: string }) => ({
    log,
    what: "L2",
    signal,
    fields: { rpcUrl: redactUrl(t.rpcUrl) },
  });
  const targets: L2Target[] = await Promise.all(
    opts.l2.map(async (t) => ({
      ...t,
      chainId: t.chainId || (await untilReachable(() => fetchChainId(t.rpcUrl), reach(t))),
    })),
  );
  const views = new Map<number, ChainView>();
  for (const t of targets) {
    const view = new ChainView(t, new RpcClient(t.rpcUrl, { signal }), log, DEFAULT_CHAIN_REFRESH_MS);
    try {
      await untilReachable(() => view.start(), reach(t));
    } catch (error) {
      for (const v of views.values()) v.stop();
      throw error;
    }
    views.set(t.chainId, view);
    if (!view.operatorByAddress(wallet.address)) {
      log.warn("this attester is not an active operator yet; the aggregator will refuse it until it is", {
        chainId: t.chainId,
      });
    }
  }
  const l1Rpc = opts.l1 ? new RpcClient(opts.l1.rpcUrl, { signal }) : undefined;

  const isAggregator = async (address: string): Promise<boolean> => {
    if (opts.aggregatorAddress) return address.toLowerCase() === opts.aggregatorAddress.toLowerCase();
    for (const view of views.values()) if (view.operatorByAddress(address)) return true;
    for (const view of views.values()) await view.refreshIfStale().catch(() => undefined);
    return [...views.values()].some((v) => v.operatorByAddress(address));
  };

  // Votes given (answers.ts); abstentions are not kept: a retry may succeed.
  const answered = new AnswerCache<VoteMessage>(50_000);
  const inProgress = new Set<string>();
  const semaphore = new Semaphore(opts.validationConcurrency ?? DEFAULT_VALIDATION_CONCURRENCY);
  const timeoutMs = opts.validationTimeoutMs ?? DEFAULT_VALIDATION_TIMEOUT_MS;

  // One vote write in flight at a time (a line on the vote stream, or a POST): votes decided
  // meanwhile wait and leave together when it is done, so under load a line carries many votes
  // instead of one (the aggregator's cost is per line); at light load a vote leaves on the next turn.
  let outbox: VoteMessage[] = [];
  let posting = false;
  let flushQueued = false;
  const flush = (): void => {
    flushQueued = false;
    if (posting || outbox.length === 0) return;
    // A vote is ~250 bytes of JSON: this many stay well inside the aggregator's body limit.
    const votes = outbox.length > MAX_VOTES_PER_POST ? outbox.splice(0, MAX_VOTES_PER_POST) : outbox;
    if (votes === outbox) outbox = [];
    posting = true;
    void link.sendVotes(votes).finally(() => {
      posting = false;
      flush();
    });
  };
  const queueVote = (vote: VoteMessage): void => {
    outbox.push(vote);
    if (!posting && !flushQueued) {
      flushQueued = true;
      setImmediate(flush);
    }
  };

  /** The validation service a project task goes to: its definition's own route, or the default. */
  const serviceFor = (task: TaskMessage): string => opts.avsWebapiFor?.get(task.taskDefinitionId) ?? webapi;

  async function decide(task: TaskMessage): Promise<ValidationOutcome> {
    if (isInternalTaskDefinitionId(task.taskDefinitionId)) {
      const view = views.get(task.chainId)!;
      if (task.taskDefinitionId !== INTERNAL_TASK_DEFINITIONS.VOTING_POWER_SYNC) {
        return { verdict: "abstain", reason: `internal task ${task.taskDefinitionId} is not supported` };
      }
      return checkInternalTask({ task, view, l1: opts.l1, l1Rpc });
    }
    const service = serviceFor(task);
    const outcome = await validateTask(
      service,
      {
        proofOfTask: task.proofOfTask,
        data: task.data,
        taskDefinitionId: task.taskDefinitionId,
        performer: task.performer,
        taskHash: task.taskHash,
      },
      { timeoutMs, signal },
    );
    // Each task's abstention is logged with the task; the service going away and coming back once.
    const reach = validationReach.get(service) ?? new Reachability(log, "validation service", { service });
    validationReach.set(service, reach);
    if (outcome.verdict === "abstain" && outcome.reason.startsWith(UNREACHABLE)) reach.failed(outcome.reason);
    else reach.answered();
    return outcome;
  }
  const validationReach = new Map<string, Reachability>();

  /**
   * A validation service that does not answer (down, or being started again) is asked again,
   * with backoff, while the task's deadline leaves room for the vote, so one back in time still
   * gets its say; only then does the attester abstain. Each attempt holds a slot of the
   * semaphore, the waits between them do not. A service that answers (garbage, 500, too late)
   * is not asked again.
   */
  async function validateInTime(task: TaskMessage, internal: boolean): Promise<ValidationOutcome> {
    let wait = VALIDATION_RETRY_FIRST_MS;
    for (let attempt = 0; ; attempt++) {
      const outcome = await semaphore.run(() => {
        // Logged when the call leaves, not when it is queued, so a trace shows the call's real time.
        if (attempt === 0)
          log.info("validation call", {
            taskHash: task.taskHash,
            chainId: task.chainId,
            service: internal ? "internal" : serviceFor(task),
          });
        return decide(task);
      });
      if (signal.aborted || outcome.verdict !== "abstain" || !outcome.reason.startsWith(UNREACHABLE))
        return outcome;
      if (Date.now() + wait > task.deadline - VALIDATION_RETRY_MARGIN_MS) return outcome;
      await sleep(wait, signal);
      wait = Math.min(wait * 2, VALIDATION_RETRY_MAX_MS);
    }
  }

  async function handleTask(task: TaskMessage): Promise<void> {
    const key = `${task.chainId}:${String(task.taskHash).toLowerCase()}`;
    const previous = answered.get(key);
    if (previous) {
      queueVote(previous);
      return;
    }
    if (inProgress.has(key)) return;
    const view = views.get(task.chainId);
    if (!view || view.attestationCenter.toLowerCase() !== String(task.attestationCenter).toLowerCase()) {
      log.warn("task for a chain or AttestationCenter this attester does not serve; abstaining", {
        taskHash: task.taskHash,
        chainId: task.chainId,
      });
      queueVote({
        chainId: task.chainId,
        taskHash: task.taskHash,
        abstain: "chain or AttestationCenter not served by this attester",
      });
      return;
    }
    if (Date.now() > task.deadline) return;
    if (semaphore.waiting > MAX_QUEUED) {
      metrics.validations.inc({ outcome: "overloaded" });
      queueVote({ chainId: task.chainId, taskHash: task.taskHash, abstain: "attester overloaded" });
      return;
    }
    inProgress.add(key);
    try {
      const internal = isInternalTaskDefinitionId(task.taskDefinitionId);
      const outcome = await validateInTime(task, internal);
      if (signal.aborted) return;
      log.info("validation answer", {
        taskHash: task.taskHash,
        chainId: task.chainId,
        result: outcome.verdict === "abstain" ? null : outcome.verdict === "approve",
        ...(outcome.verdict === "abstain"
          ? { reason: outcome.reason }
          : outcome.message
            ? { message: outcome.message }
            : {}),
      });
      metrics.validations.inc({ outcome: outcome.verdict });
      if (outcome.verdict === "abstain") {
        log.warn("abstaining", { taskHash: task.taskHash, reason: outcome.reason });
        queueVote({ chainId: task.chainId, taskHash: task.taskHash, abstain: outcome.reason });
        return;
      }
      const isApproved = outcome.verdict === "approve";
      const vh = fastVoteHash(task, view.attestationCenter, task.chainId, isApproved);
      // The aggregator's witness of the approving vote's point spares hashing it to the curve.
      const witness = isApproved ? parseVoteWitness(task.voteWitness) : undefined;
      const sig = witness ? signVoteWithWitness(blsSecret, vh, witness) : signVote(blsSecret, vh);
      const vote: VoteMessage = {
        chainId: task.chainId,
        taskHash: task.taskHash,
        isApproved,
        signature: [word(sig[0]), word(sig[1])],
      };
      answered.set(key, vote, task.deadline);
      log.info(isApproved ? "voted approve" : "voted reject", {
        taskHash: task.taskHash,
        chainId: task.chainId,
      });
      queueVote(vote);
    } catch (error) {
      log.error("could not vote", { taskHash: task.taskHash, error: (error as Error).message });
    } finally {
      inProgress.delete(key);
    }
  }

  function onMessage(message: DownMessage): void {
    if (message.type === "tasks" && Array.isArray(message.tasks)) {
      for (const task of message.tasks) {
        if (!task || typeof task.taskHash !== "string" || typeof task.proofOfTask !== "string") continue;
        void handleTask(task);
      }
    } else if (message.type === "custom" && typeof message.data === "string") {
      void postCustomMessage(webapi, message.data, { timeoutMs, signal }).then((r) => {
        if (!r.ok) log.warn("custom message not delivered to the validation service", { detail: r.detail });
      });
    }
  }

  const connectedWaiters = new Set<() => void>();
  const link = new AggregatorLink({
    url: aggregatorUrl,
    wallet,
    log,
    signal,
    isAggregator,
    onMessage,
    onConnected: () => {
      for (const w of connectedWaiters) w();
      connectedWaiters.clear();
    },
  });

  let metricsServer: ListeningServer | undefined;
  const health = (): Record<string, unknown> => ({
    status: link.connected ? "ok" : "connecting",
    role: "attester",
    address: wallet.address,
    aggregator: link.aggregatorAddress ?? null,
    lastError: link.lastError ?? null,
  });
  if (opts.metrics) {
    try {
      metricsServer = await startMetricsServer(
        opts.host ?? "127.0.0.1",
        opts.metricsPort ?? DEFAULT_METRICS_PORT,
        metrics,
        health,
      );
    } catch (error) {
      abort.abort();
      await link.closed();
      throw error;
    }
  }
  log.info("attester started", { aggregator: aggregatorUrl, validationService: webapi });

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      abort.abort();
      await link.closed();
      await metricsServer?.close();
      for (const v of views.values()) v.stop();
      log.info("attester stopped");
    })();
    return stopped;
  };
  opts.signal?.addEventListener("abort", () => void stop(), { once: true });

  return {
    address: wallet.address,
    metricsUrl: metricsServer ? `${metricsServer.url}/metrics` : undefined,
    connected: () => link.connected,
    waitConnected: (ms) =>
      link.connected
        ? Promise.resolve(true)
        : new Promise<boolean>((resolve) => {
            const done = (): void => {
              clearTimeout(timer);
              resolve(true);
            };
            const timer = setTimeout(() => {
              connectedWaiters.delete(done);
              resolve(link.connected);
            }, ms);
            connectedWaiters.add(done);
          }),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
