/**
 * Early, explained verdicts. A task whose votes, abstentions and still-connected voting power can
 * no longer reach either threshold ends at once as `unreachable`, journaled with the reason (who
 * abstained and why, the power connected against the power needed), instead of waiting out its
 * deadline. The same facts refuse a new task while the connected attesters could not approve it
 * (INSUFFICIENT_CONNECTED_POWER). The arithmetic is in ../consensus.ts; this file feeds it the
 * attesters connected now.
 */

import type { TaskDefinitionInfo } from "../chain-view.js";
import { connectedShortfall, type Shortfall, type Voter } from "../consensus.js";
import type { TaskEndReason } from "../journal.js";
import { insufficientConnectedPower } from "./refusals.js";
import type { AggregatorContext, ChainCtx, LiveTask } from "./tasks.js";

/**
 * For this long after the aggregator starts listening, an attester that is not connected yet is
 * not held against a task: attesters redial a lost aggregator at least every 2 s (their backoff
 * stops there, transport/aggregator-link.ts), so after a restart they are back within this
 * window, with room for a busy machine.
 */
export const JOIN_GRACE_MS = 5_000;

/** Whether attesters may still be dialing in after the aggregator's start. */
export function joining(ctx: AggregatorContext, now = performance.now()): boolean {
  return now - ctx.startedAt < ctx.joinGraceMs;
}

/** The operators of `chain` behind the attester sessions connected now. */
export function connectedVoters(ctx: AggregatorContext, chain: ChainCtx): Voter[] {
  const voters: Voter[] = [];
  for (const address of ctx.connectedAttesters()) {
    const op = chain.view.operatorByAddress(address);
    if (op) voters.push(op);
  }
  return voters;
}

/** Refuses a new task while the connected attesters could not approve it. */
export async function admitConnected(
  ctx: AggregatorContext,
  chain: ChainCtx,
  def: TaskDefinitionInfo,
): Promise<void> {
  if (joining(ctx)) return;
  const shortfall = () => connectedShortfall(chain.view.consensusFor(def), connectedVoters(ctx, chain));
  if (!shortfall()) return;
  // Before refusing, make sure the operators' voting power is not an old reading.
  await chain.view.refreshIfStale().catch(() => undefined);
  const short = shortfall();
  if (!short) return;
  throw insufficientConnectedPower(def, short.connectedPower, short.requiredPower);
}

/** The journaled reason of a task that got no verdict. */
export function endReason(task: LiveTask, short: Shortfall, message: string): TaskEndReason {
  return {
    message,
    abstained: short.abstained.map((a) => ({
      attester: task.chain.view.operatorById(a.operatorId)?.address ?? "",
      operatorId: Number(a.operatorId),
      reason: a.reason,
    })),
    connectedPower: short.connectedPower.toString(),
    requiredPower: task.consensus.rules.required.approve.toString(),
  };
}

/** One sentence on why no verdict can come: abstentions first, then the power left. */
function unreachableMessage(task: LiveTask, short: Shortfall): string {
  const { required } = task.consensus.rules;
  const parts: string[] = [];
  if (short.abstained.length > 0) parts.push(`${short.abstained.length} attester(s) abstained`);
  if (short.connectedPower < required.approve) {
    parts.push(
      `the connected attesters hold ${short.connectedPower} voting power of the ${required.approve} needed`,
    );
  }
  parts.push(
    `approval can gather at most ${short.possible.approve} of ${required.approve} and rejection ${short.possible.reject} of ${required.reject}`,
  );
  return `no verdict can be reached any more: ${parts.join("; ")}`;
}

/**
 * Ends the task as unreachable when neither verdict can be reached with the attesters connected
 * now (`voters`); returns whether it did.
 */
export function endIfUnreachable(ctx: AggregatorContext, task: LiveTask, voters: Voter[]): boolean {
  const short = task.consensus.unreachable(voters);
  if (!short) return false;
  const reason = endReason(task, short, unreachableMessage(task, short));
  ctx.tasks.finish(task, "unreachable", { error: reason.message, reason });
  ctx.log.warn("task unreachable: no verdict can be reached", {
    taskHash: task.msg.taskHash,
    chainId: task.chain.target.chainId,
    reason: reason.message,
    abstained: reason.abstained,
    connectedPower: reason.connectedPower,
    requiredPower: reason.requiredPower,
  });
  return true;
}
