/**
 * Deadlines and early ends, checked every tick: a task that meets no threshold by its deadline
 * is timed out; one that can no longer meet either (abstentions, votes and the attesters still
 * connected, see reachability.ts) ends as unreachable at once. Both are journaled with their
 * reason and nothing is sent for them.
 */

import type { Voter } from "../consensus.js";
import type { PeerHub } from "../transport.js";
import { connectedVoters, endIfUnreachable, endReason, joining } from "./reachability.js";
import type { AggregatorContext, ChainCtx, LiveTask } from "./tasks.js";

const DEADLINE_TICK_MS = 100;

/** Checks deadlines every tick; returns the function that stops it. */
export function startDeadlines(ctx: AggregatorContext, hub: PeerHub): () => void {
  let lastPeers = "";
  let graceOver = false;
  const timer = setInterval(() => {
    const now = Date.now();
    const settled = !joining(ctx);
    // Every task is looked at again when the connected attesters change or the join grace ends;
    // otherwise only the tasks a ballot changed.
    const peers = ctx.connectedAttesters().sort().join(",");
    const everyTask = settled && (peers !== lastPeers || !graceOver);
    lastPeers = peers;
    graceOver = settled;
    const voters = new Map<ChainCtx, Voter[]>();
    const votersOf = (chain: ChainCtx): Voter[] => {
      let v = voters.get(chain);
      if (!v) voters.set(chain, (v = connectedVoters(ctx, chain)));
      return v;
    };
    // The grace waits for attesters still dialing in: on a chain whose every operator with voting
    // power is connected already, none can come, so its tasks are judged at once.
    const complete = new Map<ChainCtx, boolean>();
    const allConnected = (chain: ChainCtx): boolean => {
      let c = complete.get(chain);
      if (c === undefined) {
        const connected = new Set(votersOf(chain).map((v) => v.operatorId));
        c = chain.view.operators().every((op) => op.votingPower === 0n || connected.has(op.operatorId));
        complete.set(chain, c);
      }
      return c;
    };
    for (const task of [...ctx.tasks.values()]) {
      if (task.consensus.expired(task.msg.deadline, now)) {
        timeOut(ctx, task, hub, votersOf(task.chain));
        continue;
      }
      const judged = settled
        ? everyTask || task.consensus.changed
        : task.consensus.changed && allConnected(task.chain);
      if (judged) endIfUnreachable(ctx, task, votersOf(task.chain));
    }
    ctx.metrics.pendingTasks.set(ctx.tasks.size);
  }, DEADLINE_TICK_MS);
  timer.unref();
  return () => clearInterval(timer);
}

function timeOut(ctx: AggregatorContext, task: LiveTask, hub: PeerHub, voters: Voter[]): void {
  const message = "no verdict reached its voting power threshold before the deadline";
  const reason = endReason(task, task.consensus.shortfall(voters), message);
  ctx.tasks.finish(task, "timeout", { error: message, reason });
  ctx.metrics.tasksTimedOut.inc({ chainId: task.chain.target.chainId });
  const { tally } = task.consensus;
  ctx.log.warn("task timed out: no threshold reached", {
    taskHash: task.msg.taskHash,
    chainId: task.chain.target.chainId,
    approvePower: tally.power("approve").toString(),
    rejectPower: tally.power("reject").toString(),
    required: tally.required.approve.toString(),
    voters: [...task.consensus.voters],
    abstained: reason.abstained,
    connectedAttesters: hub.connected().length,
  });
}
