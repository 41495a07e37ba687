/**
 * The submission pipeline: a decided task's submitTask is signed, journaled (submitting), sent
 * through the chain's transaction pipeline, and settled from its receipt (approved, rejected or
 * failed). A nonce lost to another transaction is re-signed; a task the chain already holds is
 * settled from its TaskSubmitted / TaskRejected event instead of failing.
 */

import { Interface } from "ethers/abi";
import { Transaction } from "ethers/transaction";
import { ATTESTATION_CENTER_GEN2 } from "../../chain/abi/attestation-center.js";
import { encodeSubmitTask } from "../../chain/abi-fast.js";
import {
  DOMAIN_TASKS,
  type G1,
  hashToPointWitness,
  stateHintCheaper,
  stateHintFor,
  type VoterSet,
  voterSet,
  withSubmitHints,
} from "../../crypto/bls.js";
import { revertDataOf, revertReason } from "../chain-errors.js";
import { NonceConflictError, type RawReceipt, type SignedTx, TxRefusedError } from "../tx-pipeline.js";
import type { Verdict, Vote } from "../votes.js";
import type { AggregatorContext, ChainCtx, LiveTask } from "./tasks.js";
import { aggregateKey, votePointOf } from "./verification.js";

const acIface = new Interface(ATTESTATION_CENTER_GEN2 as unknown as string[]);
const TOPIC_SUBMITTED = acIface.getEvent("TaskSubmitted")!.topicHash;
const TOPIC_REJECTED = acIface.getEvent("TaskRejected")!.topicHash;
const MAX_SUBMIT_ATTEMPTS = 3;
/** How far back settleFromChain looks for the task's event. */
const SETTLE_LOOKBACK_BLOCKS = 50_000n;

/** Gas for one submitTask: generous, since only gas used is paid and estimation would double the chain's work. */
function gasLimitFor(signers: number, calldataHex: string, internal: boolean): bigint {
  const base = 600_000n + 60_000n * BigInt(signers) + 40n * BigInt(calldataHex.length / 2);
  return internal ? base + 2_000_000n : base;
}

/**
 * Whether avsctl's OBLS has a use for the signers' G2 key sum: with voters missing it checks
 * the vote in G1 (each non-signer a G1 addition instead of G2 arithmetic), or sums in G2 and
 * skips an inversion, unless a single key is the sum. (Each signer holds voting power.)
 */
function sumWorthSending(chain: ChainCtx, signers: number): boolean {
  let voters = 0;
  for (const op of chain.view.operators()) if (op.votingPower > 0n) voters++;
  return signers > 1 && voters > signers;
}

const voterSets = new WeakMap<ChainCtx, { version: number; set: VoterSet | null }>();

/**
 * The voters (operators with voting power) and their key sum, computed again only when the
 * chain view read the operators again: the sum is a G2 addition with an inversion per voter.
 */
function votersOf(chain: ChainCtx): VoterSet | null {
  const version = chain.view.operatorsVersion;
  const cached = voterSets.get(chain);
  if (cached?.version === version) return cached.set;
  const voters = chain.view
    .operators()
    .filter((op) => op.votingPower > 0n)
    .map((op) => ({ id: op.operatorId, votingPower: op.votingPower, key: op.blsKey }));
  const set = voterSet(voters);
  voterSets.set(chain, { version, set });
  return set;
}

/**
 * The hints' state section (the voters, their keys, the non-signers' subtractions and a BLS
 * performer's key) when OBLS checks the vote more cheaply from it than from storage. A view
 * behind the chain only makes OBLS fall back to storage.
 */
function stateOf(task: LiveTask, signers: Vote[]): bigint[] | null {
  const voters = votersOf(task.chain);
  if (!voters || !stateHintCheaper(signers.length, voters.sorted.length - signers.length)) return null;
  // a BLS performer's key comes with it (saves reading it)
  const performer =
    typeof task.signature === "string" ? undefined : task.chain.view.operatorByAddress(task.msg.performer);
  return stateHintFor(
    voters,
    signers.map((s) => s.operatorId),
    performer
      ? { id: performer.operatorId, votingPower: performer.votingPower, key: performer.blsKey }
      : null,
  );
}

/**
 * The call with hints after its arguments (docs/protocol.md, "Contracts"): the state section,
 * else the signers' G2 key sum, when worth it, and the witnesses that let OBLS hash the vote
 * (and a BLS performer's task) to the curve without modexp calls. Othentic's contracts ignore
 * them.
 */
function withHints(task: LiveTask, verdict: Verdict, signers: Vote[], data: string): string {
  const voteHash = task.voteHashes[verdict];
  const state = stateOf(task, signers);
  return withSubmitHints(data, {
    apkG2: !state && sumWorthSending(task.chain, signers.length) ? aggregateKey(task.chain, signers) : null,
    state,
    votePoint: voteHash ? votePointOf(task, verdict).witness : null,
    taskPoint:
      typeof task.signature === "string" ? null : hashToPointWitness(DOMAIN_TASKS, task.msg.taskHash),
  });
}

/** What a journaled submission called: enough to sign the same call again. */
export interface JournaledCall {
  isApproved: boolean;
  attesterIds: string[];
}

export class Submissions {
  constructor(private readonly ctx: AggregatorContext) {}

  /** Submits a verified verdict. */
  submit(task: LiveTask, verdict: Verdict, signers: Vote[], aggSig: G1): void {
    task.consensus.phase = "submitting";
    const ids = signers.map((s) => s.operatorId);
    const isApproved = verdict === "approve";
    const data = encodeSubmitTask(task.msg, {
      isApproved,
      tpSignature: task.signature as string | G1,
      taSignature: aggSig,
      attestersIds: ids,
    });
    const calldata = withHints(task, verdict, signers, data);
    this.ctx.log.info("threshold reached; submitting", {
      taskHash: task.msg.taskHash,
      chainId: task.chain.target.chainId,
      verdict,
      attestersIds: ids.map(Number),
      ms: Math.round(performance.now() - task.startedAt),
    });
    this.send(task, isApproved, ids.map(String), calldata, 0);
  }

  /** Signs, journals and sends one submitTask call (again after a nonce conflict). */
  send(task: LiveTask, isApproved: boolean, ids: string[], data: string, attempt: number): void {
    const { chain } = task;
    let signed: SignedTx;
    try {
      signed = chain.pipeline.sign(
        chain.target.attestationCenter,
        data,
        gasLimitFor(ids.length, data, task.internal),
      );
      this.ctx.tasks.journal.markSubmitting(chain.target.chainId, task.msg.taskHash, {
        isApproved,
        attesterIds: ids,
        ...signed,
      });
    } catch (error) {
      this.fail(task, `could not sign the submission: ${(error as Error).message}`);
      return;
    }
    chain.pipeline.send(signed).then(
      (receipt) => this.onReceipt(task, signed, receipt),
      async (error: Error) => {
        if (this.ctx.state.stopping) return;
        if (error instanceof NonceConflictError && attempt + 1 < MAX_SUBMIT_ATTEMPTS) {
          if (await this.settleFromChain(task).catch(() => false)) return;
          this.ctx.log.warn("nonce taken by another transaction; re-signing", {
            taskHash: task.msg.taskHash,
          });
          await chain.pipeline.resync().catch(() => undefined);
          this.send(task, isApproved, ids, data, attempt + 1);
          return;
        }
        this.fail(task, error.message, signed.txHash);
      },
    );
  }

  /** Sends again a journaled transaction that never left, as it is (same nonce, same hash). */
  resume(task: LiveTask, signed: SignedTx, call: JournaledCall): void {
    this.follow(task, signed, task.chain.pipeline.resume(signed), call);
  }

  /**
   * Settles a journaled transaction sent again as it was from its receipt. One that cannot be
   * mined as it was (its nonce taken by another transaction of ours, the node refusing it) has
   * its call signed again, unless the chain holds the task already.
   */
  follow(task: LiveTask, signed: SignedTx, receipt: Promise<RawReceipt>, call: JournaledCall): void {
    receipt.then(
      (r) => this.onReceipt(task, signed, r),
      async (error: Error) => {
        if (this.ctx.state.stopping) return;
        if (!(error instanceof NonceConflictError || error instanceof TxRefusedError)) {
          this.fail(task, error.message, signed.txHash);
          return;
        }
        if (await this.settleFromChain(task).catch(() => false)) return;
        this.ctx.log.warn("journaled submission cannot be sent again as it was; re-signing its call", {
          taskHash: task.msg.taskHash,
          txHash: signed.txHash,
          error: error.message,
        });
        if (error instanceof NonceConflictError) await task.chain.pipeline.resync().catch(() => undefined);
        this.resend(task, call.isApproved, call.attesterIds, signed.rawTx);
      },
    );
  }

  /** Sends again the call of a journaled transaction whose nonce another transaction took. */
  resend(task: LiveTask, isApproved: boolean, ids: string[], rawTx: string): void {
    this.send(task, isApproved, ids, Transaction.from(rawTx).data, 0);
  }

  fail(task: LiveTask, error: string, txHash?: string): void {
    this.ctx.tasks.finish(task, "failed", { error, txHash });
    this.ctx.metrics.tasksFailed.inc({ chainId: task.chain.target.chainId });
    this.ctx.log.error("task submission failed", { taskHash: task.msg.taskHash, error, txHash });
  }

  async onReceipt(task: LiveTask, signed: SignedTx, receipt: RawReceipt): Promise<void> {
    if (this.ctx.state.stopping) return;
    const { chain } = task;
    const { metrics } = this.ctx;
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
      const status = approved === false ? "rejected" : "approved";
      this.ctx.tasks.finish(task, status, { taskNumber, txHash: signed.txHash });
      (status === "approved" ? metrics.tasksApproved : metrics.tasksRejected).inc({
        chainId: chain.target.chainId,
      });
      const seconds = (performance.now() - task.startedAt) / 1000;
      metrics.latency.observe(seconds);
      this.ctx.log.info(`task ${status} on-chain`, {
        taskHash: task.msg.taskHash,
        chainId: chain.target.chainId,
        taskNumber,
        txHash: signed.txHash,
        latencyMs: Math.round(seconds * 1000),
      });
      return;
    }
    const reason = await this.revertReason(chain, signed, receipt);
    if (reason.startsWith("MessageAlreadySigned") && (await this.settleFromChain(task).catch(() => false)))
      return;
    this.fail(task, `submitTask reverted: ${reason}`, signed.txHash);
  }

  /**
   * When the chain already holds the task (AttestationCenter.isSignedTask), records the verdict
   * found in its TaskSubmitted / TaskRejected event and returns true.
   */
  async settleFromChain(task: LiveTask): Promise<boolean> {
    const { chain } = task;
    if (!(await chain.view.isSignedTask(task.msg.taskHash))) return false;
    const head = BigInt(await chain.rpc.call<string>("eth_blockNumber"));
    const from = head > SETTLE_LOOKBACK_BLOCKS ? head - SETTLE_LOOKBACK_BLOCKS : 0n;
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
      const status = parsed.name === "TaskSubmitted" ? "approved" : "rejected";
      this.ctx.tasks.finish(task, status, {
        taskNumber: Number(parsed.args.taskNumber),
        txHash: l.transactionHash,
      });
      this.ctx.log.info(`task already ${status} on-chain`, {
        taskHash: task.msg.taskHash,
        txHash: l.transactionHash,
      });
      return true;
    }
    return false;
  }

  /**
   * Why a mined submission reverted: the call replayed on the block before, its revert named. The
   * replay runs as in the block it was mined in (block override of the number, which anvil and
   * geth take): on the block before, a definition that expired with that very block still passes.
   * A node that refuses the override gets the plain replay.
   */
  private async revertReason(chain: ChainCtx, signed: SignedTx, receipt: RawReceipt): Promise<string> {
    const tx = Transaction.from(signed.rawTx);
    const call = {
      from: this.ctx.wallet.address,
      to: tx.to,
      data: tx.data,
      gas: `0x${tx.gasLimit.toString(16)}`,
    };
    const parent = `0x${(BigInt(receipt.blockNumber) - 1n).toString(16)}`;
    try {
      await chain.rpc.call("eth_call", [call, parent, {}, { number: receipt.blockNumber }]);
    } catch (error) {
      if (revertDataOf(error) !== undefined) return revertReason(error);
    }
    try {
      await chain.rpc.call("eth_call", [call, parent]);
      return "unknown (the call succeeds when replayed)";
    } catch (error) {
      return revertReason(error);
    }
  }
}
