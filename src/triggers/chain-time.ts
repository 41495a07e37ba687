/**
 * The chain's clock for time triggers: wall time plus the chain's offset from it, so a devnet's
 * `advance --time` (anvil's evm_increaseTime) moves cron, interval and fixed-time slots as it
 * moves block timestamps. The offset is read from the pending block, whose timestamp anvil sets
 * to its own now (wall time plus its offset) rather than to the last block's, which may be old.
 * A chain that answers with an old block, or not at all, gives no offset: wall time.
 */

import createDebug from "debug";
import { jsonRpc } from "../chain/json-rpc.js";
import { sleep } from "../util/sleep.js";

const debug = createDebug("avsctl:triggers:chain-time");

/** Where time triggers read "now" (epoch ms). */
export interface TimeSource {
  now(): number;
}

export const wallTime: TimeSource = { now: () => Date.now() };

/**
 * The chain's offset in whole seconds from one pending-block timestamp read between wall times
 * `before` and `after` (ms). anvil's offset is whole seconds, so it is exact unless the read
 * crossed a second; then the previous offset is kept when it fits, else the later-firing one.
 */
export function offsetSeconds(
  pendingSeconds: number,
  before: number,
  after: number,
  previous: number,
): number {
  const low = pendingSeconds - Math.floor(after / 1000);
  const high = pendingSeconds - Math.floor(before / 1000);
  return previous >= low && previous <= high ? previous : low;
}

export class ChainTime implements TimeSource {
  /** Milliseconds the chain is ahead of wall time; never negative (a lagging chain is wall time). */
  private offsetMs = 0;
  private seconds = 0;
  /** When the last read began (wall ms); -Infinity before the first. */
  private lastReadAt = Number.NEGATIVE_INFINITY;
  /** The offset in effect from each wall time on, oldest first, for `at()`. */
  private history: Array<{ from: number; offsetMs: number }> = [
    { from: Number.NEGATIVE_INFINITY, offsetMs: 0 },
  ];

  constructor(
    private readonly rpcUrl: string,
    /** Called when the offset changed, so armed slots are checked against the new now. */
    private readonly onChange: () => void = () => {},
  ) {}

  now(): number {
    return Date.now() + this.offsetMs;
  }

  /**
   * The chain's time at a past wall time (as another process stamped it, the engine's
   * `createdAt`), by the offset in effect then. A jump is seen only at the next read, so
   * between two reads that disagree the later of the two clocks is taken: a time stamped then
   * is never placed before a jump that may have preceded it.
   */
  at(wallMs: number): number {
    let offsetMs = 0;
    for (const h of this.history) if (h.from <= wallMs) offsetMs = h.offsetMs;
    return wallMs + offsetMs;
  }

  /** Reads the chain's clock once; false when the chain did not answer (the offset is kept). */
  async refresh(signal?: AbortSignal): Promise<boolean> {
    const before = Date.now();
    let block: { timestamp?: string } | null;
    try {
      block = await jsonRpc<{ timestamp?: string } | null>(
        this.rpcUrl,
        "eth_getBlockByNumber",
        ["pending", false],
        {
          signal,
          timeoutMs: 5_000,
        },
      );
    } catch (error) {
      debug("reading the chain's time: %s", (error as Error).message);
      return false;
    }
    if (!block?.timestamp) return false;
    const after = Date.now();
    this.seconds = offsetSeconds(Number(BigInt(block.timestamp)), before, after, this.seconds);
    const offsetMs = Math.max(0, this.seconds) * 1000;
    const previousRead = this.lastReadAt;
    this.lastReadAt = before;
    if (offsetMs !== this.offsetMs) {
      debug("the chain's clock is %d s ahead of wall time", offsetMs / 1000);
      this.history.push(
        { from: previousRead, offsetMs: Math.max(offsetMs, this.offsetMs) },
        { from: after, offsetMs },
      );
      // what is older than the last few jumps is older than any task not yet seen
      if (this.history.length > 64) {
        this.history.splice(0, this.history.length - 64);
        this.history[0]!.from = Number.NEGATIVE_INFINITY;
      }
      this.offsetMs = offsetMs;
      this.onChange();
    }
    return true;
  }

  /** Reads the chain's clock every `everyMs` until `signal` aborts. */
  async run(everyMs: number, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await sleep(everyMs, signal);
      if (signal.aborted) break;
      await this.refresh(signal);
    }
  }
}
