/**
 * Deadlines: a task that meets no threshold by its deadline is timed out, journaled as such,
 * and nothing is sent for it.
 */

import type { PeerHub } from "../transport.js";
import type { AggregatorContext, LiveTask } from "./tasks.js";

const DEADLINE_TICK_MS = 100;

/** Checks deadlines every tick; returns the function that stops it. */
export function startDeadlines(ctx: AggregatorContext, hub: PeerHub): () => void {
  const timer = setInterval(() => {
    const now = Date.now();
    for (const task of [...ctx.tasks.values()]) {
      if (!task.consensus.expired(task.msg.deadline, now)) continue;
      timeOut(ctx, task, hub);
    }
    ctx.metrics.pendingTasks.set(ctx.tasks.size);
  }, DEADLINE_TICK_MS);
  timer.unref();
  return () => clearInterval(timer);
}

function timeOut(ctx: AggregatorContext, task: LiveTask, hub: PeerHub): void {
  ctx.tasks.finish(task, "timeout", {
    error: "no verdict reached its voting power threshold before the deadline",
  });
  ctx.metrics.tasksTimedOut.inc({ chainId: task.chain.target.chainId });
  const { tally } = task.consensus;
  ctx.log.warn("task timed out: no threshold reached", {
    taskHash: task.msg.taskHash,
    chainId: task.chain.target.chainId,
    approvePower: tally.power("approve").toString(),
    rejectPower: tally.power("reject").toString(),
    required: tally.required.approve.toString(),
    voters: [...task.consensus.voters],
    connectedAttesters: hub.connected().length,
  });
}
