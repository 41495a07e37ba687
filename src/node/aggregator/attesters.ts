/**
 * The attesters' side of the aggregator: the peer hub they dial, new tasks pushed to them in
 * batches (one stream write per event-loop turn, or per PUSH_WINDOW_MS under load), open
 * tasks replayed to one that joins, and
 * their votes handed to each task's consensus.
 */

import { PeerHub, type PeerSession, type TaskMessage, type VoteMessage } from "../transport.js";
import type { AggregatorContext, LiveTask } from "./tasks.js";

/** Open tasks are replayed to a joining attester in messages of at most this many tasks. */
const REPLAY_CHUNK = 200;
/**
 * A task that comes within this long of the last push waits for the window to close, so under
 * load one stream write (and one line each attester reads and checks) carries several tasks;
 * at light load a task still leaves on the next turn.
 */
const PUSH_WINDOW_MS = 20;

export interface Attesters {
  hub: PeerHub;
  /** Queues a task for the next batched push to every attester. */
  broadcast(msg: TaskMessage): void;
}

export function startAttesters(
  ctx: AggregatorContext,
  /** Called after a vote was counted for a task. */
  onCounted: (task: LiveTask) => void,
): Attesters {
  const { log, metrics, tasks, chains } = ctx;
  let pending: TaskMessage[] = [];
  let pushedAt = Number.NEGATIVE_INFINITY;
  const flush = (): void => {
    pushedAt = performance.now();
    const batch = pending;
    pending = [];
    if (batch.length > 0) hub.broadcast({ type: "tasks", tasks: batch });
  };

  const isOperator = async (address: string): Promise<boolean> => {
    for (const c of chains) if (c.view.operatorByAddress(address)) return true;
    await Promise.all(chains.map((c) => c.view.refreshIfStale().catch(() => undefined)));
    return chains.some((c) => c.view.operatorByAddress(address));
  };

  function onVote(address: string, v: VoteMessage): void {
    if (!v || typeof v !== "object" || typeof v.taskHash !== "string") return;
    const task = tasks.get(Number(v.chainId), v.taskHash);
    // a vote may still join a decision that waits for its check (TaskConsensus.verifying)
    if (task?.consensus.phase !== "collecting" && task?.consensus.phase !== "verifying") return;
    const op = task.chain.view.operatorByAddress(address);
    if (!op) return;
    const attester = String(op.operatorId);
    const outcome = task.consensus.vote(op, v);
    switch (outcome.kind) {
      case "late":
        return;
      case "abstain":
        log.warn("attester abstained", {
          taskHash: task.msg.taskHash,
          attester: op.operatorId,
          reason: outcome.reason,
        });
        metrics.votes.inc({ attester, verdict: "abstain" });
        return;
      case "ineligible":
        log.debug("vote from an ineligible attester ignored", {
          taskHash: task.msg.taskHash,
          attester: op.operatorId,
        });
        return;
      case "malformed":
        metrics.badVotes.inc({ attester });
        return;
      case "counted":
        metrics.votes.inc({ attester, verdict: outcome.verdict });
        log.info("vote counted", {
          taskHash: task.msg.taskHash,
          chainId: task.chain.target.chainId,
          attester: op.operatorId,
          attesterAddress: op.address,
          verdict: outcome.verdict,
        });
        onCounted(task);
    }
  }

  const hub = new PeerHub({
    wallet: ctx.wallet,
    log,
    isOperator,
    operatorId: (address) => {
      for (const c of chains) {
        const op = c.view.operatorByAddress(address);
        if (op) return op.operatorId;
      }
      return undefined;
    },
    onJoin: (session: PeerSession) => {
      metrics.peers.set(hub.connected().length);
      const open = tasks.collecting();
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

  return {
    hub,
    broadcast: (msg) => {
      if (pending.length === 0) {
        const wait = pushedAt + PUSH_WINDOW_MS - performance.now();
        if (wait > 0) setTimeout(flush, wait);
        else setImmediate(flush);
      }
      pending.push(msg);
    },
  };
}
