/**
 * Restart: resume what the journal promised. Submissions already mined are settled from their
 * receipts, those never sent go again as they are (same nonce, same hash), those whose nonce
 * another transaction took are re-signed unless the chain already holds the task, and pending
 * tasks collect votes again with a full voting window.
 */

import type { G1 } from "../../crypto/bls.js";
import type { TaskDefinitionInfo } from "../chain-view.js";
import type { JournalTask } from "../journal.js";
import type { TaskMessage } from "../transport.js";
import type { RawReceipt, SignedTx } from "../tx-pipeline.js";
import type { Intake } from "./intake.js";
import type { Submissions } from "./submission.js";
import type { AggregatorContext, ChainCtx, LiveTask } from "./tasks.js";

/** Replays the journal, then starts every chain's transaction pipeline. */
export async function recover(
  ctx: AggregatorContext,
  intake: Intake,
  submissions: Submissions,
): Promise<void> {
  const { journal } = ctx.tasks;
  for (const chain of ctx.chains) await trimToChain(ctx, chain);
  const submitting = journal.byStatus("submitting");
  const pending = journal.byStatus("pending");
  if (submitting.length === 0 && pending.length === 0) {
    for (const c of ctx.chains) await c.pipeline.start();
    return;
  }
  ctx.log.info("resuming journaled tasks", { submitting: submitting.length, pending: pending.length });
  for (const chain of ctx.chains) {
    const mine = submitting
      .filter((t) => t.chainId === chain.target.chainId)
      .sort((a, b) => a.txNonce! - b.txNonce!);
    await resumeSubmissions(ctx, chain, mine, intake, submissions);
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
 * anvil's saves, a snapshot restored) lacks the newest verdicts: the journal forgets them, newest
 * first until one is on the chain, so it never reports a task the chain does not hold and the
 * performer may send it again. Tasks still being submitted are resent by the recovery below.
 */
export async function trimToChain(ctx: AggregatorContext, chain: ChainCtx): Promise<void> {
  const { journal } = ctx.tasks;
  const chainId = chain.target.chainId;
  let forgotten = 0;
  for (const row of journal.settledNewestFirst(chainId)) {
    const receipt = await chain.rpc.call<RawReceipt | null>("eth_getTransactionReceipt", [row.txHash]);
    if (receipt) break;
    journal.forget(chainId, row.taskHash);
    forgotten++;
  }
  if (forgotten > 0) ctx.log.warn("journal trimmed to the chain's state", { chainId, forgotten });
}

async function resumeSubmissions(
  ctx: AggregatorContext,
  chain: ChainCtx,
  rows: JournalTask[],
  intake: Intake,
  submissions: Submissions,
): Promise<void> {
  const chainNonce = await chain.pipeline.chainNonce();
  const resumable: Array<{ task: LiveTask; signed: SignedTx }> = [];
  const displaced: Array<{ task: LiveTask; row: JournalTask }> = [];
  for (const row of rows) {
    const receipt = await chain.rpc.call<RawReceipt | null>("eth_getTransactionReceipt", [row.txHash]);
    const task = await revive(ctx, intake, chain, row, false);
    if (!task) continue;
    task.consensus.phase = "submitting";
    const signed: SignedTx = { nonce: row.txNonce!, rawTx: row.rawTx!, txHash: row.txHash! };
    if (receipt) await submissions.onReceipt(task, signed, receipt);
    else if (row.txNonce! >= chainNonce) resumable.push({ task, signed });
    else displaced.push({ task, row });
  }
  // Journaled transactions that never left are sent again as they are (same nonce, same
  // hash); nonces between them that nothing holds any more go to the next transactions.
  await chain.pipeline.start(
    chainNonce,
    resumable.map((r) => r.signed.nonce),
  );
  for (const { task, signed } of resumable) submissions.resume(task, signed);
  for (const { task, row } of displaced) {
    // Our transaction lost its nonce to another one of this key: the same call goes again,
    // unless the task is on-chain already.
    if (await submissions.settleFromChain(task)) continue;
    submissions.resend(task, row.isApproved!, row.attesterIds ?? [], row.rawTx!);
  }
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
