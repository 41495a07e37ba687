/**
 * An L2 that dies and is started again from its state file (a devnet's supervisor, Docker's
 * restart policy, anyone) may come back without its last second: our newest transactions and
 * its pool are gone, and the nonces we hand out next would sit behind a gap for ever. Every
 * second each chain's pipeline checks its nonces against the chain (TxPipeline.reconcile) and
 * repairs them: the verdicts the chain lost have their journaled transactions sent again as
 * they were, so what a client was told comes back with the same hash (recovery.ts repairLost).
 * The aggregator thus resyncs itself, without being restarted, in either runtime.
 */

import { isUnreachable } from "../reachable.js";
import type { Intake } from "./intake.js";
import { lostSubmissions, repairLost } from "./recovery.js";
import type { Submissions } from "./submission.js";
import type { AggregatorContext } from "./tasks.js";

const WATCH_MS = 1_000;

/** Starts the watch of every served chain; returns the function that stops it. */
export function startChainWatch(
  ctx: AggregatorContext,
  intake: Intake,
  submissions: Submissions,
): () => void {
  let busy = false;
  const timer = setInterval(() => {
    if (busy || ctx.state.stopping) return;
    busy = true;
    void (async () => {
      for (const chain of ctx.chains) {
        const chainId = chain.target.chainId;
        try {
          const repaired = await chain.pipeline.reconcile((from) => lostSubmissions(ctx, chain, from));
          if (!repaired || ctx.state.stopping) continue;
          if (repaired.skipped !== undefined) {
            ctx.log.warn("another sender used the aggregator's key; its next nonce follows the chain's", {
              chainId,
              chainNonce: repaired.chainNonce,
              skipped: repaired.skipped,
            });
            continue;
          }
          const counts =
            repaired.lost.length > 0
              ? await repairLost(ctx, chain, intake, submissions, repaired.chainNonce, repaired.sentAgain)
              : undefined;
          ctx.log.warn("L2 lost transactions of ours (started again from an older state?); nonces resynced", {
            chainId,
            chainNonce: repaired.chainNonce,
            lost: repaired.lost.length,
            resent: repaired.resent,
            ...counts,
          });
        } catch (error) {
          // A chain that does not answer is reported by its chain view, once.
          if (!isUnreachable(error) && !ctx.state.stopping)
            ctx.log.warn("chain nonce check failed", { chainId, error: (error as Error).message });
        }
      }
    })().finally(() => {
      busy = false;
    });
  }, WATCH_MS);
  timer.unref();
  return () => clearInterval(timer);
}
