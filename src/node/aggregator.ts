/**
 * The aggregator node: the JSON-RPC endpoint performers call (sendTask, eth_chainId,
 * sendCustomMessage, healthcheck), the hub attesters dial, vote aggregation with the thresholds
 * of docs/protocol.md#consensus, and pipelined submitTask transactions backed by the task journal.
 *
 * Life of a task here: checked -> journaled (pending) -> answered with its task hash ->
 * pushed to every attester -> votes tallied as they arrive -> once a verdict's threshold is
 * met, the signers' BLS signatures are summed and checked with one pairing (one check per vote
 * only if that fails) -> submitTask signed, journaled (submitting), sent -> receipt ->
 * approved / rejected / failed. A task that meets no threshold by its deadline is timed out
 * and nothing is sent.
 */

import http from "node:http";
import { Interface } from "ethers";
import { ATTESTATION_CENTER_GEN2 } from "../chain/abi/attestation-center.js";
import { decodeRevertData } from "../chain/rpc.js";
import {
  aggregatePublicKeys,
  aggregateSignatures,
  type G1,
  type G2,
  initBls,
  verifyTaskBls,
  verifyVote,
} from "../crypto/bls.js";
import { signTaskEcdsa } from "../crypto/ecdsa.js";
import { AvsctlError } from "../errors.js";
import { encodeSubmitTask, fastTaskHash, fastVoteHash } from "./abi-fast.js";
import { verifyBatch } from "./batch-verify.js";
import { ChainView, type OperatorInfo, type TaskDefinitionInfo } from "./chain-view.js";
import { isTaskSignedBy } from "./ecdsa-fast.js";
import { BodyTooLargeError, type ListeningServer, listen, readBody, sendJson } from "./http.js";
import { startInternalTasks } from "./internal-tasks.js";
import { type JournalTask, TaskJournal } from "./journal.js";
import { dispatchJsonRpc, RpcError, rpcErrorBody } from "./json-rpc.js";
import { createLogger } from "./log.js";
import { NodeMetrics, startMetricsServer } from "./metrics.js";
import {
  type AggregatorOptions,
  DEFAULT_JSON_RPC_PORT,
  DEFAULT_LIMITS,
  DEFAULT_METRICS_PORT,
  type L2Target,
  resolveWebapiUrl,
} from "./options.js";
import { startRelayer } from "./relayer.js";
import { RpcClient } from "./rpc-client.js";
import { parseCustomMessageParams, parseSendTaskParams, type TaskRequest } from "./send-task.js";
import { PeerHub, type PeerSession, type TaskMessage, type VoteMessage } from "./transport.js";
import { NonceConflictError, type RawReceipt, type SignedTx, TxPipeline } from "./tx-pipeline.js";
import { loadOperatorWallet, word } from "./util.js";
import { postCustomMessage } from "./validation-client.js";
import { type Verdict, type Vote, VoteTally } from "./votes.js";

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

export interface TaskStatusReport {
  taskHash: string;
  chainId: number;
  status: JournalTask["status"];
  taskDefinitionId: number;
  performer: string;
  proofOfTask: string;
  internal: boolean;
  isApproved: boolean | null;
  attestersIds: number[];
  txHash: string | null;
  taskNumber: number | null;
  error: string | null;
  acceptedAt: number;
  finishedAt: number | null;
}

interface ChainCtx {
  target: L2Target;
  view: ChainView;
  rpc: RpcClient;
  pipeline: TxPipeline;
  /** Aggregated G2 keys by signer set ("2,3,4"). */
  aggKeys: Map<string, G2>;
}

interface PendingCheck {
  task: LiveTask;
  verdict: Verdict;
  signers: Vote[];
  signature: G1;
  publicKey: G2;
  voteHash: string;
}

interface LiveTask {
  key: string;
  chain: ChainCtx;
  msg: TaskMessage;
  signatureType: "ecdsa" | "bls";
  /** ECDSA hex, or the BLS [x, y]. */
  signature: string | G1;
  internal: boolean;
  def: TaskDefinitionInfo;
  eligible: (op: OperatorInfo) => boolean;
  tally: VoteTally;
  startedAt: number;
  phase: "collecting" | "verifying" | "submitting" | "done";
  voteHashes: Partial<Record<Verdict, string>>;
  voters: Set<string>;
}

const acIface = new Interface(ATTESTATION_CENTER_GEN2 as unknown as string[]);
const TOPIC_SUBMITTED = acIface.getEvent("TaskSubmitted")!.topicHash;
const TOPIC_REJECTED = acIface.getEvent("TaskRejected")!.topicHash;

const DEFAULT_TASK_TIMEOUT_MS = 30_000;
const DEFAULT_CHAIN_REFRESH_MS = 5_000;
const DEADLINE_TICK_MS = 100;
/** Above this many verifications a second, verification waits BATCH_WINDOW_MS to batch pairings. */
const BATCH_RATE_THRESHOLD = 20;
const BATCH_WINDOW_MS = 25;
const MAX_SUBMIT_ATTEMPTS = 3;
const REPLAY_CHUNK = 200;

/** Gas for one submitTask: generous, since only gas used is paid and estimation would double the chain's work. */
function gasLimitFor(signers: number, calldataHex: string, internal: boolean): bigint {
  const base = 600_000n + 60_000n * BigInt(signers) + 40n * BigInt(calldataHex.length / 2);
  return internal ? base + 2_000_000n : base;
}

async function resolveChainIds(targets: L2Target[]): Promise<L2Target[]> {
  const { fetchChainId } = await import("../chain/rpc.js");
  return Promise.all(
    targets.map(async (t) => {
      const actual = await fetchChainId(t.rpcUrl);
      if (t.chainId && t.chainId !== actual) {
        throw new AvsctlError(
          "CONFIG_INVALID",
          `L2 ${t.rpcUrl} has chain id ${actual}, configured as ${t.chainId}`,
        );
      }
      return { ...t, chainId: actual };
    }),
  );
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

/** Starts an aggregator; resolves once it serves JSON-RPC and has read the chain. */
export async function startAggregator(opts: AggregatorOptions): Promise<AggregatorHandle> {
  if (opts.l2.length === 0) {
    throw new AvsctlError("MISSING_ARGUMENT", "the aggregator needs at least one L2", {
      hint: "set L2_RPC and ATTESTATION_CENTER_ADDRESS (or pass --l2-chain)",
    });
  }
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const host = opts.host ?? "127.0.0.1";
  const taskTimeoutMs = opts.taskTimeoutMs ?? DEFAULT_TASK_TIMEOUT_MS;
  const { wallet, privateKey } = await loadOperatorWallet(opts, "aggregator");
  const log = createLogger(opts.log, { role: "aggregator", address: wallet.address });
  const metrics = new NodeMetrics();
  const abort = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, abort.signal]) : abort.signal;
  await initBls();
  const webapiUrl = opts.avsWebapi ? resolveWebapiUrl(opts.avsWebapi, opts.avsWebapiPort) : undefined;

  const targets = await resolveChainIds(opts.l2);
  const journal = new TaskJournal(opts.journalPath ?? ":memory:");
  const chains: ChainCtx[] = [];
  const cleanup: Array<() => Promise<void> | void> = [() => journal.close()];
  let stopping = false;

  try {
    for (const target of targets) {
      const rpc = new RpcClient(target.rpcUrl, {
        signal,
        onTransientError: (method) => metrics.rpcErrors.inc({ chainId: target.chainId, method }),
      });
      const view = new ChainView(target, rpc, log, opts.chainRefreshMs ?? DEFAULT_CHAIN_REFRESH_MS);
      await view.start();
      cleanup.push(() => view.stop());
      const pipeline = new TxPipeline(rpc, target.chainId, wallet, log);
      cleanup.push(() => pipeline.stop());
      chains.push({ target, view, rpc, pipeline, aggKeys: new Map() });
      if (!view.operatorByAddress(wallet.address)) {
        log.warn("the aggregator is not an active operator on this chain: submissions will revert", {
          chainId: target.chainId,
        });
      }
    }
  } catch (error) {
    for (const c of cleanup.reverse()) await c();
    throw error;
  }

  const live = new Map<string, LiveTask>();
  const chainById = new Map(chains.map((c) => [c.target.chainId, c]));
  const keyOf = (chainId: number, hash: string): string => `${chainId}:${hash.toLowerCase()}`;

  // ---------------------------------------------------------------------------------------
  // Attesters
  // ---------------------------------------------------------------------------------------
  let pendingBroadcast: TaskMessage[] = [];
  const flushBroadcast = (): void => {
    const tasks = pendingBroadcast;
    pendingBroadcast = [];
    if (tasks.length > 0) hub.broadcast({ type: "tasks", tasks });
  };
  const queueBroadcast = (msg: TaskMessage): void => {
    if (pendingBroadcast.length === 0) setImmediate(flushBroadcast);
    pendingBroadcast.push(msg);
  };

  const isOperator = async (address: string): Promise<boolean> => {
    for (const c of chains) if (c.view.operatorByAddress(address)) return true;
    await Promise.all(chains.map((c) => c.view.refreshIfStale().catch(() => undefined)));
    return chains.some((c) => c.view.operatorByAddress(address));
  };

  const hub = new PeerHub({
    wallet,
    log,
    isOperator,
    onJoin: (session: PeerSession) => {
      metrics.peers.set(hub.connected().length);
      const open = [...live.values()].filter((t) => t.phase === "collecting").map((t) => t.msg);
      for (let i = 0; i < open.length; i += REPLAY_CHUNK) {
        hub.send(session, { type: "tasks", tasks: open.slice(i, i + REPLAY_CHUNK) });
      }
    },
    onLeave: () => metrics.peers.set(hub.connected().length),
    onVotes: (address, votes) => {
      for (const v of votes) {
        try {
          onVote(address, v);
        } catch (error) {
          log.warn("vote dropped", { peer: address, error: (error as Error).message });
        }
      }
    },
  });
  cleanup.push(() => hub.close());

  const parseWord = (value: unknown): bigint | undefined =>
    typeof value === "string" && /^0x[0-9a-fA-F]{1,64}$/.test(value) ? BigInt(value) : undefined;

  function onVote(address: string, v: VoteMessage): void {
    if (!v || typeof v !== "object" || typeof v.taskHash !== "string") return;
    const task = live.get(keyOf(Number(v.chainId), v.taskHash));
    if (task?.phase !== "collecting") return;
    const op = task.chain.view.operatorByAddress(address);
    if (!op) return;
    if (typeof v.abstain === "string") {
      log.warn("attester abstained", {
        taskHash: task.msg.taskHash,
        attester: op.operatorId,
        reason: v.abstain.slice(0, 300),
      });
      metrics.votes.inc({ attester: String(op.operatorId), verdict: "abstain" });
      return;
    }
    if (!task.eligible(op)) {
      log.debug("vote from an ineligible attester ignored", {
        taskHash: task.msg.taskHash,
        attester: op.operatorId,
      });
      return;
    }
    const x = parseWord(v.signature?.[0]);
    const y = parseWord(v.signature?.[1]);
    if (x === undefined || y === undefined || typeof v.isApproved !== "boolean") {
      metrics.badVotes.inc({ attester: String(op.operatorId) });
      return;
    }
    metrics.votes.inc({ attester: String(op.operatorId), verdict: v.isApproved ? "approve" : "reject" });
    task.voters.add(String(op.operatorId));
    task.tally.add({
      operatorId: op.operatorId,
      power: op.votingPower,
      isApproved: v.isApproved,
      signature: [x, y],
    });
    tryConclude(task);
  }

  function voteHashOf(task: LiveTask, verdict: Verdict): string {
    let h = task.voteHashes[verdict];
    if (!h) {
      h = fastVoteHash(
        task.msg,
        task.chain.target.attestationCenter,
        task.chain.target.chainId,
        verdict === "approve",
      );
      task.voteHashes[verdict] = h;
    }
    return h;
  }

  function aggregateKey(chain: ChainCtx, signers: Vote[]): G2 | undefined {
    const id = `${chain.view.keysVersion}:${signers.map((s) => s.operatorId.toString()).join(",")}`;
    let key = chain.aggKeys.get(id);
    if (!key) {
      const keys = signers.map((s) => chain.view.operatorById(s.operatorId)?.blsKey);
      if (keys.some((k) => k === undefined)) return undefined;
      key = aggregatePublicKeys(keys as G2[]);
      if (chain.aggKeys.size > 256) chain.aggKeys.clear();
      chain.aggKeys.set(id, key);
    }
    return key;
  }

  // Tasks whose threshold is met wait here for one batched pairing check (see batch-verify.ts):
  // under load many tasks share a pairing, at light load the batch is a single task.
  let checks: PendingCheck[] = [];
  let checksScheduled = false;
  const recentConclusions: number[] = [];

  /** Queues a task for verification as soon as a verdict's threshold is met. */
  function tryConclude(task: LiveTask): void {
    if (task.phase !== "collecting") return;
    const verdict = task.tally.reached();
    if (!verdict) return;
    const signers = task.tally.signers(verdict);
    if (!signers) return;
    const publicKey = aggregateKey(task.chain, signers);
    if (!publicKey) return;
    task.phase = "verifying";
    checks.push({
      task,
      verdict,
      signers,
      signature: aggregateSignatures(signers.map((s) => s.signature)),
      publicKey,
      voteHash: voteHashOf(task, verdict),
    });
    if (!checksScheduled) {
      checksScheduled = true;
      // Under load, wait a moment so that several tasks share one pairing; at light load verify now.
      const now = performance.now();
      recentConclusions.push(now);
      while (recentConclusions.length > 0 && now - recentConclusions[0]! > 1_000) recentConclusions.shift();
      if (recentConclusions.length >= BATCH_RATE_THRESHOLD) setTimeout(runChecks, BATCH_WINDOW_MS);
      else setImmediate(runChecks);
    }
  }

  function runChecks(): void {
    checksScheduled = false;
    const batch = checks.filter((c) => c.task.phase === "verifying");
    checks = [];
    if (batch.length === 0 || stopping) return;
    if (verifyBatch(batch)) {
      for (const c of batch) submit(c.task, c.verdict, c.signers, c.signature);
      return;
    }
    for (const c of batch) {
      if (batch.length > 1 && verifyBatch([c])) {
        submit(c.task, c.verdict, c.signers, c.signature);
        continue;
      }
      // Some vote is bad: find it with one check per vote, drop it, and look again.
      let dropped = 0;
      for (const s of c.signers) {
        const op = c.task.chain.view.operatorById(s.operatorId);
        if (!op || !verifyVote(s.signature, op.blsKey, c.voteHash)) {
          c.task.tally.remove(s.operatorId);
          metrics.badVotes.inc({ attester: String(s.operatorId) });
          log.warn("vote signature does not verify; dropped", {
            taskHash: c.task.msg.taskHash,
            attester: s.operatorId,
          });
          dropped++;
        }
      }
      c.task.phase = "collecting";
      if (dropped > 0) tryConclude(c.task);
      else log.error("aggregate does not verify although every vote does", { taskHash: c.task.msg.taskHash });
    }
  }

  // ---------------------------------------------------------------------------------------
  // Submission
  // ---------------------------------------------------------------------------------------
  function encodeSubmission(task: LiveTask, isApproved: boolean, aggSig: G1, ids: bigint[]): string {
    return encodeSubmitTask(task.msg, {
      isApproved,
      tpSignature: task.signature as string | G1,
      taSignature: aggSig,
      attestersIds: ids,
    });
  }

  function submit(task: LiveTask, verdict: Verdict, signers: Vote[], aggSig: G1): void {
    task.phase = "submitting";
    const ids = signers.map((s) => s.operatorId);
    const isApproved = verdict === "approve";
    const data = encodeSubmission(task, isApproved, aggSig, ids);
    log.info("threshold reached; submitting", {
      taskHash: task.msg.taskHash,
      chainId: task.chain.target.chainId,
      verdict,
      attestersIds: ids.map(Number),
      ms: Math.round(performance.now() - task.startedAt),
    });
    sendSubmission(task, isApproved, ids.map(String), data, 0);
  }

  function sendSubmission(
    task: LiveTask,
    isApproved: boolean,
    ids: string[],
    data: string,
    attempt: number,
  ): void {
    const { chain } = task;
    let signed: SignedTx;
    try {
      signed = chain.pipeline.sign(
        chain.target.attestationCenter,
        data,
        gasLimitFor(ids.length, data, task.internal),
      );
      journal.markSubmitting(chain.target.chainId, task.msg.taskHash, {
        isApproved,
        attesterIds: ids,
        ...signed,
      });
    } catch (error) {
      finishFailed(task, `could not sign the submission: ${(error as Error).message}`);
      return;
    }
    chain.pipeline.send(signed).then(
      (receipt) => onReceipt(task, signed, receipt),
      async (error: Error) => {
        if (stopping) return;
        if (error instanceof NonceConflictError && attempt + 1 < MAX_SUBMIT_ATTEMPTS) {
          if (await settleFromChain(task).catch(() => false)) return;
          log.warn("nonce taken by another transaction; re-signing", { taskHash: task.msg.taskHash });
          await chain.pipeline.resync().catch(() => undefined);
          sendSubmission(task, isApproved, ids, data, attempt + 1);
          return;
        }
        finishFailed(task, error.message, signed.txHash);
      },
    );
  }

  function finishFailed(task: LiveTask, error: string, txHash?: string): void {
    task.phase = "done";
    live.delete(task.key);
    journal.markFinal(task.chain.target.chainId, task.msg.taskHash, "failed", { error, txHash });
    metrics.tasksFailed.inc({ chainId: task.chain.target.chainId });
    log.error("task submission failed", { taskHash: task.msg.taskHash, error, txHash });
    metrics.pendingTasks.set(live.size);
  }

  async function onReceipt(task: LiveTask, signed: SignedTx, receipt: RawReceipt): Promise<void> {
    if (stopping) return;
    const { chain } = task;
    if (receipt.status === "0x1") {
      const ac = chain.target.attestationCenter.toLowerCase();
      const event = receipt.logs.find(
        (l) =>
          l.address.toLowerCase() === ac &&
          (l.topics[0] === TOPIC_SUBMITTED || l.topics[0] === TOPIC_REJECTED),
      );
      const approved = event ? event.topics[0] === TOPIC_SUBMITTED : undefined;
      // taskNumber is the event's first non-indexed field: the first word of its data.
      const taskNumber =
        event && event.data.length >= 66 ? Number(BigInt(event.data.slice(0, 66))) : undefined;
      task.phase = "done";
      live.delete(task.key);
      const status = approved === false ? "rejected" : "approved";
      journal.markFinal(chain.target.chainId, task.msg.taskHash, status, {
        taskNumber,
        txHash: signed.txHash,
      });
      (status === "approved" ? metrics.tasksApproved : metrics.tasksRejected).inc({
        chainId: chain.target.chainId,
      });
      const seconds = (performance.now() - task.startedAt) / 1000;
      metrics.latency.observe(seconds);
      metrics.pendingTasks.set(live.size);
      log.info(`task ${status} on-chain`, {
        taskHash: task.msg.taskHash,
        chainId: chain.target.chainId,
        taskNumber,
        txHash: signed.txHash,
        latencyMs: Math.round(seconds * 1000),
      });
      return;
    }
    const reason = await revertReason(chain, signed, receipt);
    if (reason.startsWith("MessageAlreadySigned") && (await settleFromChain(task).catch(() => false))) return;
    finishFailed(task, `submitTask reverted: ${reason}`, signed.txHash);
  }

  /**
   * When the chain already holds the task (AttestationCenter.isSignedTask), records the verdict
   * found in its TaskSubmitted / TaskRejected event and returns true.
   */
  async function settleFromChain(task: LiveTask): Promise<boolean> {
    const { chain } = task;
    if (!(await chain.view.isSignedTask(task.msg.taskHash))) return false;
    const head = BigInt(await chain.rpc.call<string>("eth_blockNumber"));
    const from = head > 50_000n ? head - 50_000n : 0n;
    const logs = await chain.rpc.call<Array<{ topics: string[]; data: string; transactionHash: string }>>(
      "eth_getLogs",
      [
        {
          address: chain.target.attestationCenter,
          fromBlock: `0x${from.toString(16)}`,
          toBlock: "latest",
          topics: [
            [TOPIC_SUBMITTED, TOPIC_REJECTED],
            `0x${task.msg.performer.slice(2).toLowerCase().padStart(64, "0")}`,
          ],
        },
      ],
    );
    for (const l of logs) {
      const parsed = acIface.parseLog(l);
      if (!parsed || parsed.args.proofOfTask !== task.msg.proofOfTask || parsed.args.data !== task.msg.data)
        continue;
      if (Number(parsed.args.taskDefinitionId) !== task.msg.taskDefinitionId) continue;
      task.phase = "done";
      live.delete(task.key);
      const status = parsed.name === "TaskSubmitted" ? "approved" : "rejected";
      journal.markFinal(chain.target.chainId, task.msg.taskHash, status, {
        taskNumber: Number(parsed.args.taskNumber),
        txHash: l.transactionHash,
      });
      log.info(`task already ${status} on-chain`, { taskHash: task.msg.taskHash, txHash: l.transactionHash });
      metrics.pendingTasks.set(live.size);
      return true;
    }
    return false;
  }

  async function revertReason(chain: ChainCtx, signed: SignedTx, receipt: RawReceipt): Promise<string> {
    try {
      const { Transaction } = await import("ethers");
      const tx = Transaction.from(signed.rawTx);
      const block = `0x${(BigInt(receipt.blockNumber) - 1n).toString(16)}`;
      await chain.rpc.call("eth_call", [
        { from: wallet.address, to: tx.to, data: tx.data, gas: `0x${tx.gasLimit.toString(16)}` },
        block,
      ]);
      return "unknown (the call succeeds when replayed)";
    } catch (error) {
      const data = (error as { data?: unknown }).data;
      const raw = typeof data === "string" ? data : (data as { data?: string } | undefined)?.data;
      const decoded = await decodeRevertData(raw);
      return decoded
        ? `${decoded.name}(${Object.values(decoded.args).join(", ")})`
        : (error as Error).message;
    }
  }

  // ---------------------------------------------------------------------------------------
  // Accepting tasks
  // ---------------------------------------------------------------------------------------
  function chainFor(targetChainId: number | undefined): ChainCtx {
    if (targetChainId === undefined) return chains[0]!;
    const chain = chainById.get(targetChainId);
    if (!chain) {
      throw new RpcError("UNKNOWN_CHAIN", `this aggregator does not serve chain ${targetChainId}`, {
        chains: chains.map((c) => c.target.chainId),
      });
    }
    return chain;
  }

  async function operatorOf(chain: ChainCtx, address: string): Promise<OperatorInfo | undefined> {
    let op = chain.view.operatorByAddress(address);
    if (!op) {
      await chain.view.refreshIfStale().catch(() => undefined);
      op = chain.view.operatorByAddress(address);
    }
    return op;
  }

  async function definitionOf(chain: ChainCtx, id: number): Promise<TaskDefinitionInfo> {
    try {
      return await chain.view.definition(id);
    } catch (error) {
      throw new RpcError(
        "CHAIN_UNAVAILABLE",
        `cannot read task definition ${id}: ${(error as Error).message}`,
      );
    }
  }

  /** The JSON-RPC error for a failed verifyOperatorValidForTaskDefinition. */
  function performerProblem(
    p: { name: string; args: Record<string, string> },
    id: number,
    performer: string,
  ): RpcError {
    switch (p.name) {
      case "OperatorNotRegistered":
        return new RpcError("PERFORMER_NOT_ACTIVE", `${performer} is not an active operator`);
      case "TaskDefinitionNotFound":
        return new RpcError("TASK_DEFINITION_NOT_FOUND", `task definition ${id} does not exist`);
      case "InvalidTaskDefinition":
        return new RpcError("TASK_DEFINITION_EXPIRED", `task definition ${id} has expired`);
      case "InvalidRestrictedAttester":
      case "InvalidRestrictedOperator":
        return new RpcError(
          "RESTRICTED_OPERATOR",
          `the performer is not in task definition ${id}'s restricted operator set`,
        );
      case "InsufficientVotingPowerForTaskDefinition":
        return new RpcError(
          "INSUFFICIENT_VOTING_POWER",
          `the performer holds less than task definition ${id}'s minimum voting power (${p.args.votingPower ?? "?"})`,
        );
      default:
        return new RpcError("INVALID_PARAMS", `the task definition check failed: ${p.name}`);
    }
  }

  function register(
    chain: ChainCtx,
    msg: TaskMessage,
    def: TaskDefinitionInfo,
    signatureType: "ecdsa" | "bls",
    signature: string | G1,
    internal: boolean,
    broadcast = true,
  ): LiveTask {
    const consensus = chain.view.consensusFor(def);
    const task: LiveTask = {
      key: keyOf(chain.target.chainId, msg.taskHash),
      chain,
      msg,
      signatureType,
      signature,
      internal,
      def,
      eligible: consensus.eligible,
      tally: new VoteTally(consensus.required, def.maximumNumberOfAttesters || undefined),
      startedAt: performance.now(),
      phase: "collecting",
      voteHashes: {},
      voters: new Set(),
    };
    live.set(task.key, task);
    metrics.pendingTasks.set(live.size);
    if (broadcast) queueBroadcast(msg);
    return task;
  }

  /**
   * Whether a task is already taken care of: live, or journaled as anything but a timeout or a
   * failure (those may be sent again and get a new attempt).
   */
  function isKnown(chainId: number, key: string, hash: string): boolean {
    if (live.has(key)) return true;
    const status = journal.get(chainId, hash)?.status;
    return status !== undefined && status !== "timeout" && status !== "failed";
  }

  /**
   * A re-sent task is answered with the task it repeats, so a client can tell "already there"
   * from "accepted now" and never counts one task twice.
   */
  function knownTask(chainId: number, hash: string): RpcError {
    const row = journal.get(chainId, hash);
    const status = row?.status ?? "pending";
    return new RpcError("TASK_KNOWN", `task ${hash} is already known (${status})`, {
      taskHash: hash,
      chainId,
      status,
      taskNumber: row?.taskNumber ?? null,
      txHash: row?.txHash ?? null,
    });
  }

  async function acceptTask(req: TaskRequest): Promise<string> {
    const chain = chainFor(req.targetChainId);
    const hash = fastTaskHash(req);
    const key = keyOf(chain.target.chainId, hash);
    if (isKnown(chain.target.chainId, key, hash)) throw knownTask(chain.target.chainId, hash);
    if (live.size >= limits.maxPendingTasks) {
      throw new RpcError("OVERLOADED", `too many tasks in progress (${live.size}); retry later`);
    }

    const performer = await operatorOf(chain, req.performer);
    if (!performer) {
      throw new RpcError(
        "PERFORMER_NOT_ACTIVE",
        `${req.performer} is not an active operator on chain ${chain.target.chainId}`,
      );
    }
    if (req.signatureType === "ecdsa") {
      if (!isTaskSignedBy(hash, req.ecdsaSignature!, req.performer)) {
        throw new RpcError(
          "INVALID_SIGNATURE",
          "the signature was not made by performerAddress over the task hash",
          {
            taskHash: hash,
          },
        );
      }
    } else if (!verifyTaskBls(req.blsSignature!, performer.blsKey, hash)) {
      throw new RpcError(
        "INVALID_SIGNATURE",
        "the BLS signature does not verify against the performer's registered key",
        {
          taskHash: hash,
        },
      );
    }

    let problem: Awaited<ReturnType<ChainView["checkOperatorForDefinition"]>>;
    try {
      problem = await chain.view.checkOperatorForDefinition(req.performer, req.taskDefinitionId);
    } catch (error) {
      throw new RpcError(
        "CHAIN_UNAVAILABLE",
        `cannot check task definition ${req.taskDefinitionId}: ${(error as Error).message}`,
      );
    }
    if (problem) throw performerProblem(problem, req.taskDefinitionId, req.performer);
    const def = await definitionOf(chain, req.taskDefinitionId);
    const consensus = chain.view.consensusFor(def);
    if (consensus.required.approve === 0n) {
      throw new RpcError(
        "NO_ELIGIBLE_ATTESTERS",
        `no voting power can attest task definition ${req.taskDefinitionId}`,
      );
    }

    // Re-check after the awaits: a concurrent identical request may have won.
    if (isKnown(chain.target.chainId, key, hash)) throw knownTask(chain.target.chainId, hash);
    const now = Date.now();
    const msg: TaskMessage = {
      chainId: chain.target.chainId,
      attestationCenter: chain.target.attestationCenter,
      taskHash: hash,
      proofOfTask: req.proofOfTask,
      data: req.data,
      performer: req.performer,
      taskDefinitionId: req.taskDefinitionId,
      deadline: now + taskTimeoutMs,
    };
    const signature = req.signatureType === "ecdsa" ? req.ecdsaSignature! : req.blsSignature!;
    journal.insert({
      ...msg,
      replace: true,
      signatureType: req.signatureType,
      signature: typeof signature === "string" ? signature : JSON.stringify(signature.map(word)),
      internal: false,
      acceptedAt: now,
    });
    register(chain, msg, def, req.signatureType, signature, false);
    metrics.tasksReceived.inc({ chainId: chain.target.chainId });
    log.info("task accepted", {
      taskHash: hash,
      chainId: chain.target.chainId,
      taskDefinitionId: req.taskDefinitionId,
      performer: req.performer,
      signatureType: req.signatureType,
    });
    return hash;
  }

  /** An internal task performed by the aggregator itself (VOTING_POWER_SYNC). */
  async function submitInternalTask(
    chainId: number,
    taskDefinitionId: number,
    proofOfTask: string,
    data: string,
  ): Promise<string> {
    const chain = chainFor(chainId);
    const req = { proofOfTask, data, performer: wallet.address, taskDefinitionId };
    const hash = fastTaskHash(req);
    if (live.has(keyOf(chainId, hash)) || journal.get(chainId, hash)) return hash;
    const def = await chain.view.definition(taskDefinitionId);
    const signature = signTaskEcdsa(privateKey, hash);
    const now = Date.now();
    const msg: TaskMessage = {
      chainId,
      attestationCenter: chain.target.attestationCenter,
      taskHash: hash,
      ...req,
      deadline: now + taskTimeoutMs,
    };
    journal.insert({ ...msg, signatureType: "ecdsa", signature, internal: true, acceptedAt: now });
    register(chain, msg, def, "ecdsa", signature, true);
    log.info("internal task started", { taskHash: hash, chainId, taskDefinitionId });
    return hash;
  }

  // ---------------------------------------------------------------------------------------
  // Deadlines
  // ---------------------------------------------------------------------------------------
  const deadlineTimer = setInterval(() => {
    const now = Date.now();
    for (const task of live.values()) {
      if (task.phase !== "collecting" || task.msg.deadline > now) continue;
      task.phase = "done";
      live.delete(task.key);
      journal.markFinal(task.chain.target.chainId, task.msg.taskHash, "timeout", {
        error: "no verdict reached its voting power threshold before the deadline",
      });
      metrics.tasksTimedOut.inc({ chainId: task.chain.target.chainId });
      log.warn("task timed out: no threshold reached", {
        taskHash: task.msg.taskHash,
        chainId: task.chain.target.chainId,
        approvePower: task.tally.power("approve").toString(),
        rejectPower: task.tally.power("reject").toString(),
        required: task.tally.required.approve.toString(),
        voters: [...task.voters],
        connectedAttesters: hub.connected().length,
      });
    }
    metrics.pendingTasks.set(live.size);
  }, DEADLINE_TICK_MS);
  deadlineTimer.unref();
  cleanup.push(() => clearInterval(deadlineTimer));

  // ---------------------------------------------------------------------------------------
  // Restart: resume what the journal promised
  // ---------------------------------------------------------------------------------------
  await recover();

  async function recover(): Promise<void> {
    const submitting = journal.byStatus("submitting");
    const pending = journal.byStatus("pending");
    if (submitting.length === 0 && pending.length === 0) {
      for (const c of chains) await c.pipeline.start();
      return;
    }
    log.info("resuming journaled tasks", { submitting: submitting.length, pending: pending.length });
    for (const chain of chains) {
      const mine = submitting
        .filter((t) => t.chainId === chain.target.chainId)
        .sort((a, b) => a.txNonce! - b.txNonce!);
      const chainNonce = await chain.pipeline.chainNonce();
      const resumable: Array<{ task: LiveTask; signed: SignedTx }> = [];
      const displaced: Array<{ task: LiveTask; row: JournalTask }> = [];
      for (const row of mine) {
        const receipt = await chain.rpc.call<RawReceipt | null>("eth_getTransactionReceipt", [row.txHash]);
        const task = await revive(chain, row, false);
        if (!task) continue;
        task.phase = "submitting";
        const signed: SignedTx = { nonce: row.txNonce!, rawTx: row.rawTx!, txHash: row.txHash! };
        if (receipt) await onReceipt(task, signed, receipt);
        else if (row.txNonce! >= chainNonce) resumable.push({ task, signed });
        else displaced.push({ task, row });
      }
      // Journaled transactions that never left are sent again as they are (same nonce, same
      // hash); nonces between them that nothing holds any more go to the next transactions.
      await chain.pipeline.start(
        chainNonce,
        resumable.map((r) => r.signed.nonce),
      );
      for (const { task, signed } of resumable) {
        chain.pipeline.resume(signed).then(
          (receipt) => onReceipt(task, signed, receipt),
          (error: Error) => {
            if (!stopping) finishFailed(task, error.message, signed.txHash);
          },
        );
      }
      for (const { task, row } of displaced) {
        // Our transaction lost its nonce to another one of this key: the same call goes again,
        // unless the task is on-chain already.
        if (await settleFromChain(task)) continue;
        const { Transaction } = await import("ethers");
        sendSubmission(task, row.isApproved!, row.attesterIds ?? [], Transaction.from(row.rawTx!).data, 0);
      }
    }
    for (const row of pending) {
      const chain = chainById.get(row.chainId);
      if (!chain) continue;
      const task = await revive(chain, row);
      if (task) {
        // A promised task gets a full voting window after the restart.
        task.msg.deadline = Date.now() + taskTimeoutMs;
        journal.setDeadline(row.chainId, row.taskHash, task.msg.deadline);
      }
    }
  }

  async function revive(chain: ChainCtx, row: JournalTask, broadcast = true): Promise<LiveTask | undefined> {
    let def: TaskDefinitionInfo;
    try {
      def = await chain.view.definition(row.taskDefinitionId);
    } catch {
      journal.markFinal(row.chainId, row.taskHash, "failed", {
        error: "task definition unreadable after restart",
      });
      return undefined;
    }
    const signature: string | G1 =
      row.signatureType === "ecdsa"
        ? row.signature
        : ((JSON.parse(row.signature) as string[]).map((s) => BigInt(s)) as unknown as G1);
    const msg: TaskMessage = {
      chainId: row.chainId,
      attestationCenter: chain.target.attestationCenter,
      taskHash: row.taskHash,
      proofOfTask: row.proofOfTask,
      data: row.data,
      performer: row.performer,
      taskDefinitionId: row.taskDefinitionId,
      deadline: row.deadline,
    };
    return register(chain, msg, def, row.signatureType, signature, row.internal, broadcast);
  }

  // ---------------------------------------------------------------------------------------
  // JSON-RPC methods
  // ---------------------------------------------------------------------------------------
  function statusOf(taskHash: string, chainId?: number): TaskStatusReport | undefined {
    const ids = chainId !== undefined ? [chainId] : chains.map((c) => c.target.chainId);
    for (const id of ids) {
      const row = journal.get(id, taskHash.toLowerCase());
      if (!row) continue;
      return {
        taskHash: row.taskHash,
        chainId: row.chainId,
        status: row.status,
        taskDefinitionId: row.taskDefinitionId,
        performer: row.performer,
        proofOfTask: row.proofOfTask,
        internal: row.internal,
        isApproved: row.isApproved ?? null,
        attestersIds: (row.attesterIds ?? []).map(Number),
        txHash: row.txHash ?? null,
        taskNumber: row.taskNumber ?? null,
        error: row.error ?? null,
        acceptedAt: row.acceptedAt,
        finishedAt: row.finishedAt ?? null,
      };
    }
    return undefined;
  }

  const methods: Record<string, (params: unknown[] | Record<string, unknown>) => unknown> = {
    sendTask: async (params) => {
      try {
        return await acceptTask(parseSendTaskParams(params, limits));
      } catch (error) {
        if (error instanceof RpcError && error.reason === "TASK_KNOWN") {
          metrics.tasksDuplicate.inc();
          log.info("duplicate task", { taskHash: error.details?.taskHash, status: error.details?.status });
        } else if (error instanceof RpcError) {
          metrics.tasksInvalid.inc({ reason: error.reason });
          log.info("sendTask refused", { reason: error.reason, error: error.message });
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
      if (webapiUrl) {
        void postCustomMessage(webapiUrl, data, { timeoutMs: 10_000, signal }).then((r) => {
          if (!r.ok)
            log.warn("custom message not delivered to the local validation service", { detail: r.detail });
        });
      }
      log.info("custom message broadcast", { bytes: (data.length - 2) / 2, attesters: delivered });
      return true;
    },
    healthcheck: () => ({
      healthy: true,
      address: wallet.address,
      blockNumber: Number(chains[0]!.view.blockNumber),
      chains: chains.map((c) => ({ chainId: c.target.chainId, blockNumber: Number(c.view.blockNumber) })),
      attesters: hub.connected().length,
      pendingTasks: live.size,
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
      const report = statusOf(hash, (chainId ?? undefined) as number | undefined);
      if (!report) throw new RpcError("TASK_NOT_FOUND", `no task ${hash} in this aggregator's journal`);
      return report;
    },
  };
  if (opts.jsonRpc === false) {
    for (const name of ["sendTask", "sendCustomMessage"]) delete methods[name];
  }

  function health(): Record<string, unknown> {
    return {
      status: "ok",
      role: "aggregator",
      address: wallet.address,
      chains: chains.map((c) => ({
        chainId: c.target.chainId,
        blockNumber: Number(c.view.blockNumber),
        inFlight: c.pipeline.inFlight,
      })),
      attesters: hub.connected().map((s) => s.address),
      pendingTasks: live.size,
      journal: journal.counts(),
      memoryMb: memoryMb(),
    };
  }

  const metricsPortSame =
    opts.metrics === true &&
    (opts.metricsPort ?? DEFAULT_METRICS_PORT) === (opts.jsonRpcPort ?? DEFAULT_JSON_RPC_PORT);
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    if (path.startsWith("/p2p/") && hub.handle(req, res, path)) return;
    if (req.method === "GET" && (path === "/health" || path === "/healthz"))
      return sendJson(res, 200, health());
    if (req.method === "GET" && path === "/metrics" && opts.metrics && metricsPortSame) {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(metrics.render());
      return;
    }
    if (req.method !== "POST" || (path !== "/" && path !== "/rpc")) {
      return sendJson(res, 404, { error: "not found" });
    }
    readBody(req, limits.maxBodyBytes).then(
      async (body) => {
        const answer = await dispatchJsonRpc(body, {
          methods,
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
          sendJson(
            res,
            413,
            rpcErrorBody(
              new RpcError("PAYLOAD_TOO_LARGE", `the request body exceeds ${limits.maxBodyBytes} bytes`),
            ),
            { connection: "close" },
          );
        } else if (!res.headersSent) {
          sendJson(res, 400, rpcErrorBody(new RpcError("PARSE_ERROR", "could not read the request body")));
        }
      },
    );
  });
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  server.keepAliveTimeout = 30_000;

  let listening: ListeningServer;
  let metricsServer: ListeningServer | undefined;
  try {
    listening = await listen(server, host, opts.jsonRpcPort ?? DEFAULT_JSON_RPC_PORT);
    if (opts.metrics && !metricsPortSame) {
      metricsServer = await startMetricsServer(
        host,
        opts.metricsPort ?? DEFAULT_METRICS_PORT,
        metrics,
        health,
      );
    }
  } catch (error) {
    stopping = true;
    for (const c of cleanup.reverse()) await c();
    throw error;
  }

  const extra: Array<{ stop(): Promise<void> }> = [];
  if (opts.internalTasks && opts.internalTasks.length > 0) {
    extra.push(
      startInternalTasks({
        schedules: opts.internalTasks,
        l1: opts.l1,
        chains: chains.map((c) => ({ chainId: c.target.chainId, view: c.view, rpc: c.rpc })),
        submit: submitInternalTask,
        isOpen: (chainId, hash) => {
          const status = journal.get(chainId, hash)?.status;
          return status === "pending" || status === "submitting";
        },
        log: log.child({ component: "internal-tasks" }),
        signal,
      }),
    );
  }
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      stopping = true;
      abort.abort();
      for (const e of extra) await e.stop().catch(() => undefined);
      await listening.close();
      await metricsServer?.close();
      for (const c of cleanup.reverse()) await c();
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
  log.info("aggregator ready", {
    rpcUrl: listening.url,
    chains: chains.map((c) => ({ chainId: c.target.chainId, attestationCenter: c.target.attestationCenter })),
    metrics: metricsUrl,
  });

  return {
    rpcUrl: listening.url,
    metricsUrl,
    address: wallet.address,
    chains: chains.map((c) => ({ chainId: c.target.chainId, attestationCenter: c.target.attestationCenter })),
    taskStatus: statusOf,
    peers: () => hub.connected().map((s) => s.address),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
