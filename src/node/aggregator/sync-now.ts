/**
 * `avsctl_syncVotingPower`: one VOTING_POWER_SYNC round on demand (what `avsctl operator`
 * asks after changing a stake on L1), answered once every proposed sync is decided and the
 * chain views have read the new voting power, so the next task is weighed with it.
 */

import { sleep } from "../../util/sleep.js";
import type { ProposedSync } from "../internal-tasks.js";
import type { AggregatorContext } from "./tasks.js";

export interface SyncOutcome extends ProposedSync {
  /** The journal status: approved syncs are "submitted"/"confirmed"; anything else did not apply. */
  status: string;
  isApproved: boolean | null;
  txHash: string | null;
  error: string | null;
}

/** Late-bound: the rpc surface exists before the internal task runner starts. */
export interface SyncHook {
  run?: () => Promise<SyncOutcome[]>;
}

const POLL_MS = 100;
/** Beyond the task timeout: the submission and its receipt. */
const SUBMIT_MARGIN_MS = 30_000;

export function syncNow(
  ctx: AggregatorContext,
  propose: () => Promise<ProposedSync[]>,
): () => Promise<SyncOutcome[]> {
  return async () => {
    const proposed = await propose();
    const deadline = Date.now() + ctx.taskTimeoutMs + SUBMIT_MARGIN_MS;
    while (proposed.some((p) => ctx.tasks.isOpen(p.chainId, p.taskHash)) && Date.now() < deadline) {
      await sleep(POLL_MS, ctx.signal);
    }
    await Promise.all(ctx.chains.map((c) => c.view.refresh().catch(() => undefined)));
    return proposed.map((p) => {
      const r = ctx.tasks.report(p.taskHash, [p.chainId]);
      return {
        ...p,
        status: r?.status ?? "unknown",
        isApproved: r?.isApproved ?? null,
        txHash: r?.txHash ?? null,
        error: r?.error ?? null,
      };
    });
  };
}
