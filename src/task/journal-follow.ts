/**
 * What the aggregator's journal says about sent tasks that have no verdict on-chain yet: a task
 * it ended as unreachable, timed out on its side, or whose submission failed (reverted, or could
 * not be sent) is known at once, with its reason, instead of after the client's whole --timeout.
 */

import type { TaskEndReason } from "../client/retry.js";
import { sleep } from "../util/sleep.js";

/** How often the aggregator's journal is asked about tasks still without a verdict, and how many at once. */
const JOURNAL_POLL_MS = 250;
export const JOURNAL_BATCH = 100;

/**
 * A failed task had its votes; what went wrong was its submission, so its reason is the error
 * alone: no abstentions, and no voting power figures.
 */
export type FailedReason = { message: string; abstained: [] };

export type Ended =
  | { status: "unreachable" | "timeout"; reason: TaskEndReason | null }
  | { status: "failed"; reason: FailedReason; txHash: string | null };

/**
 * The tasks among `hashes` that the aggregator ended without a verdict (unreachable, timed out
 * on its side, or failed), from its journal; nothing when it does not answer.
 */
export async function journalEnds(
  aggregatorUrl: string,
  chainId: number,
  hashes: string[],
  signal: AbortSignal | undefined,
): Promise<Map<string, Ended>> {
  const { rpcBatch } = await import("../chain/json-rpc.js");
  const out = new Map<string, Ended>();
  const answers = await rpcBatch(
    aggregatorUrl,
    hashes.map((h) => ({ method: "avsctl_taskStatus", params: [h, chainId] })),
    { timeoutMs: 2_000, signal },
  ).catch(() => undefined);
  answers?.forEach((a, i) => {
    const row = a.result as
      | { status?: string; reason?: TaskEndReason | null; error?: string | null; txHash?: string | null }
      | undefined;
    if (row?.status === "unreachable" || row?.status === "timeout") {
      out.set(hashes[i]!, { status: row.status, reason: row.reason ?? null });
    } else if (row?.status === "failed") {
      // A failed task is not retried by the aggregator: only a send of it again gets a new attempt.
      out.set(hashes[i]!, {
        status: "failed",
        reason: { message: row.error ?? "the aggregator's submission failed", abstained: [] },
        txHash: row.txHash ?? null,
      });
    }
  });
  return out;
}

/**
 * Asks the journal about `outstanding` tasks in turns until each has ended there or elsewhere
 * (a verdict found on-chain removes it too), the deadline, or the signal; `onEmpty` once none is left.
 */
export async function followJournal(
  aggregatorUrl: string,
  chainId: number,
  outstanding: Set<string>,
  ended: Map<string, Ended>,
  opts: { deadline: number; signal: AbortSignal; onEmpty: () => void },
): Promise<void> {
  let offset = 0;
  while (!opts.signal.aborted && Date.now() < opts.deadline && outstanding.size > 0) {
    const all = [...outstanding];
    const start = offset % all.length;
    const batch = all.slice(start, start + JOURNAL_BATCH);
    offset = start + batch.length;
    for (const [h, end] of await journalEnds(aggregatorUrl, chainId, batch, opts.signal)) {
      if (!outstanding.delete(h)) continue;
      ended.set(h, end);
    }
    if (outstanding.size === 0) {
      opts.onEmpty();
      return;
    }
    await sleep(JOURNAL_POLL_MS, opts.signal);
  }
}
