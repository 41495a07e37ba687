/**
 * Restart: resume what the journal promised. Submissions already mined are settled from their
 * receipts, those never sent go again as they are (same nonce, same hash), those whose nonce
 * another transaction took are re-signed unless the chain already holds the task, and pending
 * tasks collect votes again with a full voting window. Verdicts a chain lost (started again
 * from an older state) are submitted again the same way, here and while running (repairLost).
 */

import type { G1 } from "../../crypto/bls.js";
import type { TaskDefinitionInfo } from "../chain-view.js";
import type { JournalTask } from "../journal.js";
import type { TaskMessage } from "../transport.js";
import type { RawReceipt, SignedTx } from "../tx-pipeline.js";
import type { Intake } from "./intake.js";
import type { JournaledCall, Submissions } from "./submission.js";
import type { AggregatorContext, ChainCtx, LiveTask } from "./tasks.js";

/** What became of the verdicts a chain lost, for the one line that reports a repair. */
interface LostCounts {
  /** Sent again as they were: same nonce, same hash. */
  sentAgain: number;
  /** Their call signed again: the nonce was taken meanwhile, or the node refused the transaction. */
  reSigned: number;
  /** Found on the chain already (sent by another transaction). */
  onChain: number;
  /** Failed, with the reason in the journal (a definition that cannot be read any more). */
  failed: number;
  /** Forgotten: the journal holds no signed transaction of them any more. */
  forgotten: number;
}

const noneLost = (): LostCounts => ({ sentAgain: 0, reSigned: 0, onChain: 0, failed: 0, forgotten: 0 });

/** Replays the journal, then starts every chain's transaction pipeline. */
export async function recover(
  ctx: AggregatorContext,
  intake: Intake,
  submissions: Submissions,
): Promise<void> {
  const { journal } = ctx.tasks;
  const lostByChain = new Map<ChainCtx, { hashes: Set<string>; forgotten: number }>();
  for (const chain of ctx.chains) lostByChain.set(chain, await trimToChain(ctx, chain));
  const submitting = journal.byStatus("submitting");
  const pending = journal.byStatus("pending");
  if (submitting.length > 0 || pending.length > 0)
    ctx.log.info("resuming journaled tasks", { submitting: submitting.length, pending: pending.length });
  for (const chain of ctx.chains) {
    const mine = submitting
      .filter((t) => t.chainId === chain.target.chainId)
      .sort((a, b) => a.txNonce! - b.txNonce!);
    const lost = lostByChain.get(chain)!;
    const counts = noneLost();
    counts.forgotten = lost.forgotten;
    const chainNonce = await resumeSubmissions(ctx, chain, mine, intake, submissions, lost.hashes, counts);
    if (lost.hashes.size > 0 || lost.forgotten > 0)
      ctx.log.warn("L2 lost verdicts of ours (started again from an older state?)", {
        chainId: chain.target.chainId,
        chainNonce,
        ...counts,
      });
  }
  for (const row of pending) {
    const chain = intake.chain(row.chainId);
    if (!chain) continue;
    const task = await revive(ctx, intake, chain, row);
    if (task) {
      // A promised task gets a full voting window after the restart.
      task.msg.deadline = Date.now() + ctx.taskTimeoutMs;
      journal.setDeadline(row.chainId, row.taskHash, task.msg.deadline);
    }
  }
}

/**
 * A chain restarted from a state file older than the journal (a devnet killed between two of
 * anvil's saves) lacks the newest verdicts, and a client may have been told of them already.
 * Newest first until one is on the chain, each goes back to submitting with the transaction the
 * journal holds, to be sent again as it was (or, its nonce taken meanwhile, signed again); one
 * whose transaction the journal no longer holds is forgotten, so the journal never reports a
 * task the chain does not hold and the performer may send it again. Returns the tasks put back
 * to submitting and how many were forgotten. `lostFrom`: the nonce the chain went back to.
 */
export async function trimToChain(
  ctx: AggregatorContext,
  chain: ChainCtx,
  lostFrom?: number,
): Promise<{ hashes: Set<string>; forgotten: number }> {
  const { journal } = ctx.tasks;
  const chainId = chain.target.chainId;
  const hashes = new Set<string>();
  let forgotten = 0;
  for (const row of journal.settledNewestFirst(chainId)) {
    const receipt = await chain.rpc.call<RawReceipt | null>("eth_getTransactionReceipt", [row.txHash]);
    // While running, a verdict mined since the chain came back (at or above the nonce it went
    // back to) is newer than what it lost: the walk goes on past it.
    if (receipt && (lostFrom === undefined || row.txNonce === undefined || row.txNonce < lostFrom)) break;
    if (receipt) continue;
    if (journal.resubmit(chainId, row.taskHash)) hashes.add(row.taskHash);
    else {
      journal.forget(chainId, row.taskHash);
      forgotten++;
    }
  }
  return { hashes, forgotten };
}

/**
 * The repair of a running aggregator whose chain lost transactions of ours (chain-watch.ts):
 * `sentAgain` are the lost verdicts' transactions the pipeline has just sent again as they were;
 * they go back to submitting and are settled from their receipts. The other verdicts the chain
 * lacks are put back to submitting with their call signed again (their nonce went to another
 * transaction), or forgotten when the journal holds no transaction of theirs.
 */
export async function repairLost(
  ctx: AggregatorContext,
  chain: ChainCtx,
  intake: Intake,
  submissions: Submissions,
  chainNonce: number,
  sentAgain: Array<{ tx: SignedTx & { row: JournalTask }; receipt: Promise<RawReceipt> }>,
): Promise<LostCounts> {
  const { journal } = ctx.tasks;
  const counts = noneLost();
  // Before anything is awaited: from now on the journal says these are being submitted.
  const again = sentAgain.filter((s) => journal.resubmit(s.tx.row.chainId, s.tx.row.taskHash));
  for (const { tx, receipt } of again) {
    const task = await revive(ctx, intake, chain, tx.row, false);
    if (!task) {
      counts.failed++;
      continue;
    }
    task.consensus.phase = "submitting";
    submissions.follow(task, tx, receipt, callOf(tx.row));
    counts.sentAgain++;
  }
  const trimmed = await trimToChain(ctx, chain, chainNonce);
  counts.forgotten = trimmed.forgotten;
  for (const hash of trimmed.hashes) {
    const row = journal.get(chain.target.chainId, hash);
    if (!row) continue;
    const task = await revive(ctx, intake, chain, row, false);
    if (!task) {
      counts.failed++;
      continue;
    }
    task.consensus.phase = "submitting";
    if (await submissions.settleFromChain(task).catch(() => false)) {
      counts.onChain++;
      continue;
    }
    submissions.resend(task, row.isApproved!, row.attesterIds ?? [], row.rawTx!);
    counts.reSigned++;
  }
  return counts;
}

/** The journaled transactions a chain whose nonce went back to `fromNonce` lost (TxPipeline.reconcile). */
export function lostSubmissions(
  ctx: AggregatorContext,
  chain: ChainCtx,
  fromNonce: number,
): Array<SignedTx & { row: JournalTask }> {
  return ctx.tasks.journal
    .signedFromNonce(chain.target.chainId, fromNonce)
    .map((row) => ({ nonce: row.txNonce!, rawTx: row.rawTx!, txHash: row.txHash!, row }));
}

const callOf = (row: JournalTask): JournaledCall => ({
  isApproved: row.isApproved!,
  attesterIds: row.attesterIds ?? [],
});

/** Resumes a chain's journaled submissions and starts its pipeline; returns the chain's nonce. */
async function resumeSubmissions(
  ctx: AggregatorContext,
  chain: ChainCtx,
  rows: JournalTask[],
  intake: Intake,
  submissions: Submissions,
  lost: Set<string>,
  counts: LostCounts,
): Promise<number> {
  const chainNonce = await chain.pipeline.chainNonce();
  const resumable: Array<{ task: LiveTask; signed: SignedTx; row: JournalTask }> = [];
  const displaced: Array<{ task: LiveTask; row: JournalTask }> = [];
  for (const row of rows) {
    const wasLost = lost.has(row.taskHash);
    const receipt = await chain.rpc.call<RawReceipt | null>("eth_getTransactionReceipt", [row.txHash]);
    const task = await revive(ctx, intake, chain, row, false);
    if (!task) {
      if (wasLost) counts.failed++;
      continue;
    }
    task.consensus.phase = "submitting";
    const signed: SignedTx = { nonce: row.txNonce!, rawTx: row.rawTx!, txHash: row.txHash! };
    if (receipt) await submissions.onReceipt(task, signed, receipt);
    else if (row.txNonce! >= chainNonce) {
      resumable.push({ task, signed, row });
      if (wasLost) counts.sentAgain++;
    } else displaced.push({ task, row });
  }
  // Journaled transactions that never left, or that the chain lost, are sent again as they are
  // (same nonce, same hash); nonces between them that nothing holds any more go to the next
  // transactions.
  await chain.pipeline.start(
    chainNonce,
    resumable.map((r) => r.signed.nonce),
  );
  for (const { task, signed, row } of resumable) submissions.resume(task, signed, callOf(row));
  for (const { task, row } of displaced) {
    // Our transaction lost its nonce to another one of this key: the same call goes again,
    // unless the task is on-chain already.
    const wasLost = lost.has(row.taskHash);
    if (await submissions.settleFromChain(task)) {
      if (wasLost) counts.onChain++;
      continue;
    }
    submissions.resend(task, row.isApproved!, row.attesterIds ?? [], row.rawTx!);
    if (wasLost) counts.reSigned++;
  }
  return chainNonce;
}

/** Makes a journaled task live again; undefined (and failed) when its definition cannot be read. */
async function revive(
  ctx: AggregatorContext,
  intake: Intake,
  chain: ChainCtx,
  row: JournalTask,
  broadcast = true,
): Promise<LiveTask | undefined> {
  let def: TaskDefinitionInfo;
  try {
    def = await chain.view.definition(row.taskDefinitionId);
  } catch {
    ctx.tasks.journal.markFinal(row.chainId, row.taskHash, "failed", {
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
  return intake.register(chain, msg, def, row.signatureType, signature, row.internal, broadcast);
}
