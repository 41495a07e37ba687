/**
 * Intake: what sendTask accepts and how a task enters the aggregator. A request is checked
 * (duplicate -> TASK_KNOWN, load -> OVERLOADED, performer, signature, the definition check
 * on-chain, eligible voting power, connected voting power -> INSUFFICIENT_CONNECTED_POWER),
 * journaled as pending, registered for votes and pushed to attesters.
 * Internal tasks (VOTING_POWER_SYNC) enter here too, signed by the aggregator itself.
 */

import { fastTaskHash } from "../../chain/abi-fast.js";
import { type G1, verifyTaskBls } from "../../crypto/bls.js";
import { signTaskEcdsa } from "../../crypto/ecdsa.js";
import { definitionCheckError } from "../chain-errors.js";
import { type ChainView, NEVER_EXPIRES, type OperatorInfo, type TaskDefinitionInfo } from "../chain-view.js";
import { TaskConsensus } from "../consensus.js";
import { isTaskSignedBy } from "../ecdsa-fast.js";
import { RpcError } from "../json-rpc.js";
import type { TaskRequest } from "../send-task.js";
import { type TaskMessage, voteWitnessHex } from "../transport.js";
import { word } from "../util.js";
import { admitConnected } from "./reachability.js";
import {
  chainUnavailable,
  noEligibleAttesters,
  notRecorded,
  overloaded,
  performerNotActive,
  unknownChain,
} from "./refusals.js";
import { type AggregatorContext, type ChainCtx, type LiveTask, taskKey } from "./tasks.js";
import { votePointOf } from "./verification.js";

/**
 * How long a refused client should wait before sending again: the time the aggregator takes
 * to end a tenth of its bound at its recent pace, so refused clients come back spread over
 * the time slots free up; 1 s when nothing ended lately.
 */
export function retryAfterMs(endsPerSecond: number, limit: number): number {
  if (!(endsPerSecond > 0)) return 1_000;
  const ms = (Math.max(1, limit / 10) * 1000) / endsPerSecond;
  return Math.min(5_000, Math.max(100, Math.ceil(ms)));
}

/** About how long an accepted task may wait behind the others, in seconds of the recent pace. */
const PENDING_BUDGET_S = 1;
/** The bound never falls below this: a burst at a lightly loaded aggregator is not refused. */
const PENDING_FLOOR = 64;

/**
 * The tasks in progress the aggregator takes at most: what it ends in about a second at its
 * recent pace (at least 64), never more than `max` (`--max-pending-tasks`). Latency of an
 * accepted task is about the tasks ahead of it over the pace, so a bound that follows the pace
 * keeps it near a second under any overload; `max` alone is many seconds on a slow machine.
 * With no recent pace (nothing ended lately) the bound is `max`.
 */
export function pendingLimit(endsPerSecond: number, max: number): number {
  if (!(endsPerSecond > 0)) return max;
  return Math.min(max, Math.max(PENDING_FLOOR, Math.ceil(endsPerSecond * PENDING_BUDGET_S)));
}

export class Intake {
  private readonly chainById: Map<number, ChainCtx>;
  /** The recent pace and its pendingLimit, read at most every 100 ms (it moves slower than requests come). */
  private pace = { endsPerSecond: 0, limit: 0, at: Number.NEGATIVE_INFINITY };
  /** Requests between the load check and registration (their chain reads are in flight). */
  private admitting = 0;

  constructor(
    private readonly ctx: AggregatorContext,
    /** Pushes a new task to the attesters. */
    private readonly broadcast: (msg: TaskMessage) => void,
  ) {
    this.chainById = new Map(ctx.chains.map((c) => [c.target.chainId, c]));
  }

  /** The chain a request targets (the first served one by default). */
  chainFor(targetChainId: number | undefined): ChainCtx {
    if (targetChainId === undefined) return this.ctx.chains[0]!;
    const chain = this.chainById.get(targetChainId);
    if (!chain) {
      throw unknownChain(
        targetChainId,
        this.ctx.chains.map((c) => c.target.chainId),
      );
    }
    return chain;
  }

  /** The served chain with this id, if any. */
  chain(chainId: number): ChainCtx | undefined {
    return this.chainById.get(chainId);
  }

  private currentPace(max: number): { endsPerSecond: number; limit: number } {
    const now = performance.now();
    if (now - this.pace.at >= 100) {
      const endsPerSecond = this.ctx.tasks.endRate(now);
      this.pace = { endsPerSecond, limit: pendingLimit(endsPerSecond, max), at: now };
    }
    return this.pace;
  }

  /** sendTask: checks a performer's task and takes it in; resolves with its task hash. */
  async acceptTask(req: TaskRequest): Promise<string> {
    const { tasks, limits, log, metrics } = this.ctx;
    const chain = this.chainFor(req.targetChainId);
    const chainId = chain.target.chainId;
    const hash = fastTaskHash(req);
    if (tasks.isKnown(chainId, hash)) throw tasks.knownTask(chainId, hash);
    const pending = tasks.size + this.admitting;
    const { endsPerSecond, limit } = this.currentPace(limits.maxPendingTasks);
    if (pending >= limit) {
      throw overloaded(pending, limit, retryAfterMs(endsPerSecond, limit));
    }

    let def: TaskDefinitionInfo;
    this.admitting++;
    try {
      const performer = await operatorOf(chain, req.performer);
      if (!performer) throw performerNotActive(req.performer, chainId);
      checkPerformerSignature(req, hash, performer);
      // A journal that has forgotten its oldest tasks cannot tell an old task sent again from
      // a new one; the chain can. Taken in, its submission would revert (MessageAlreadySigned)
      // after the votes, and a client waiting for a new verdict would wait out its timeout.
      if (tasks.journal.hasForgotten() && (await chain.view.isSignedTask(hash).catch(() => false))) {
        throw tasks.knownTask(chainId, hash, true);
      }
      def = await checkDefinition(chain, req);
      await admitConnected(this.ctx, chain, def);
    } finally {
      this.admitting--;
    }

    // Re-check after the awaits: a concurrent identical request may have won.
    if (tasks.isKnown(chainId, hash)) throw tasks.knownTask(chainId, hash);
    const now = Date.now();
    const msg: TaskMessage = {
      chainId,
      attestationCenter: chain.target.attestationCenter,
      taskHash: hash,
      proofOfTask: req.proofOfTask,
      data: req.data,
      performer: req.performer,
      taskDefinitionId: req.taskDefinitionId,
      deadline: now + this.ctx.taskTimeoutMs,
    };
    const signature = req.signatureType === "ecdsa" ? req.ecdsaSignature! : req.blsSignature!;
    tasks.journal.insert({
      ...msg,
      replace: true,
      signatureType: req.signatureType,
      signature: typeof signature === "string" ? signature : JSON.stringify(signature.map(word)),
      internal: false,
      acceptedAt: now,
    });
    const live = this.register(chain, msg, def, req.signatureType, signature, false);
    metrics.tasksReceived.inc({ chainId });
    log.info("task accepted", {
      taskHash: hash,
      chainId,
      taskDefinitionId: req.taskDefinitionId,
      performer: req.performer,
      signatureType: req.signatureType,
      // what a task's page shows before its verdict is on-chain (devnet ui)
      proofOfTask: req.proofOfTask,
      data: req.data,
    });
    // The answer promises the task: it waits until the journal holds it. If the journal
    // cannot (a full disk), the task goes no further than the error its performer is answered.
    try {
      await tasks.journal.durable();
    } catch (error) {
      if (live.consensus.phase !== "done") tasks.drop(live);
      log.error("could not journal an accepted task; refused", {
        taskHash: hash,
        error: (error as Error).message,
      });
      throw notRecorded(error);
    }
    return hash;
  }

  /** An internal task performed by the aggregator itself (VOTING_POWER_SYNC). */
  async submitInternalTask(
    chainId: number,
    taskDefinitionId: number,
    proofOfTask: string,
    data: string,
  ): Promise<string> {
    const { tasks, wallet } = this.ctx;
    const chain = this.chainFor(chainId);
    const req = { proofOfTask, data, performer: wallet.address, taskDefinitionId };
    const hash = fastTaskHash(req);
    if (tasks.get(chainId, hash) || tasks.journal.get(chainId, hash)) return hash;
    const def = await chain.view.definition(taskDefinitionId);
    const signature = signTaskEcdsa(this.ctx.privateKey, hash);
    const now = Date.now();
    const msg: TaskMessage = {
      chainId,
      attestationCenter: chain.target.attestationCenter,
      taskHash: hash,
      ...req,
      deadline: now + this.ctx.taskTimeoutMs,
    };
    tasks.journal.insert({ ...msg, signatureType: "ecdsa", signature, internal: true, acceptedAt: now });
    this.register(chain, msg, def, "ecdsa", signature, true);
    this.ctx.log.info("internal task started", { taskHash: hash, chainId, taskDefinitionId });
    return hash;
  }

  /** Makes a task live: it collects votes from now on (and is pushed to attesters unless told not to). */
  register(
    chain: ChainCtx,
    msg: TaskMessage,
    def: TaskDefinitionInfo,
    signatureType: "ecdsa" | "bls",
    signature: string | G1,
    internal: boolean,
    broadcast = true,
  ): LiveTask {
    const task: LiveTask = {
      key: taskKey(chain.target.chainId, msg.taskHash),
      chain,
      msg,
      signatureType,
      signature,
      internal,
      def,
      consensus: new TaskConsensus(chain.view.consensusFor(def)),
      startedAt: performance.now(),
      voteHashes: {},
      votePoints: {},
    };
    this.ctx.tasks.add(task);
    if (broadcast) {
      const { witness } = votePointOf(task, "approve");
      if (witness) msg.voteWitness = voteWitnessHex(witness);
      this.broadcast(msg);
    }
    return task;
  }
}

async function operatorOf(chain: ChainCtx, address: string): Promise<OperatorInfo | undefined> {
  let op = chain.view.operatorByAddress(address);
  if (!op) {
    await chain.view.refreshIfStale().catch(() => undefined);
    op = chain.view.operatorByAddress(address);
  }
  return op;
}

function checkPerformerSignature(req: TaskRequest, hash: string, performer: OperatorInfo): void {
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
      { taskHash: hash },
    );
  }
}

/** The on-chain definition check for the performer, then the definition's consensus parameters. */
async function checkDefinition(chain: ChainCtx, req: TaskRequest): Promise<TaskDefinitionInfo> {
  const id = req.taskDefinitionId;
  let problem: Awaited<ReturnType<ChainView["checkOperatorForDefinition"]>>;
  try {
    problem = await chain.view.checkOperatorForDefinition(req.performer, id);
  } catch (error) {
    throw chainUnavailable("check", id, error);
  }
  if (problem) throw definitionCheckError(problem, id, req.performer);
  await checkExpiry(chain.view, id, req.performer);
  let def: TaskDefinitionInfo;
  try {
    def = await chain.view.definition(id);
  } catch (error) {
    throw chainUnavailable("read", id, error);
  }
  if (chain.view.consensusFor(def).required.approve === 0n) throw noEligibleAttesters(def);
  return def;
}

/**
 * The contract's expiry check (blockExpiry <= block.number reverts InvalidTaskDefinition) at
 * the chain's head now. The performer's check above may be a cached success from before
 * `devnet advance` mined past the expiry, and the submission would then revert.
 */
async function checkExpiry(view: ChainView, id: number, performer: string): Promise<void> {
  let expired: boolean;
  try {
    const expiry = await view.blockExpiry(id);
    if (expiry >= NEVER_EXPIRES) return;
    // the head already known settles an expired definition without a read
    expired = expiry <= view.blockNumber || expiry <= (await view.head());
  } catch {
    // A node that will not read the definition's event (a hosted RPC caps eth_getLogs ranges) or
    // its head leaves the check to the performer's check above, as before: refusing every task of
    // the definition over it would be worse than a late one reverting.
    return;
  }
  if (expired) throw definitionCheckError({ name: "InvalidTaskDefinition", args: {} }, id, performer);
}
