/**
 * The chain poller: follows the L2 head and fires block triggers on their blocks and event
 * triggers on matching logs (in chunks of at most MAX_LOG_RANGE blocks, cooldowns measured in
 * block time). A head that goes back (a reset devnet) resynchronises without firing.
 */

import createDebug from "debug";
import { jsonRpc, quantity } from "../chain/json-rpc.js";
import { sleep } from "../util/sleep.js";
import { applyCooldown, blockFirings, type EventTrigger } from "./schedule.js";
import type { TriggerState } from "./state.js";
import type { FiringContext, RawLog } from "./types.js";

const debug = createDebug("avsctl:triggers:poller");

const MAX_LOG_RANGE = 2_000;
const MAX_LOG_CHUNKS_PER_POLL = 10;

const hex = (n: number) => `0x${n.toString(16)}`;

/** The chain's head block number. */
export async function readHead(rpcUrl: string, signal?: AbortSignal): Promise<number> {
  return quantity(await jsonRpc<string>(rpcUrl, "eth_blockNumber", [], { signal }));
}

export interface PollerOptions {
  rpcUrl: string;
  states: readonly TriggerState[];
  fire: (s: TriggerState, ctx: FiringContext) => void;
  pollMs: number;
  /** The head at start (null: the first poll only synchronises). */
  startBlock: number | null;
  signal: AbortSignal;
}

export class ChainPoller {
  /** The last block whose firings (blocks and logs) were all made. */
  lastBlock: number | null;
  /** The last polling error, cleared by the next successful poll. */
  pollError: string | null = null;
  private stopped = false;

  constructor(private readonly opts: PollerOptions) {
    this.lastBlock = opts.startBlock;
    if (opts.startBlock !== null) for (const s of opts.states) s.scannedTo = opts.startBlock;
  }

  /** Polls every pollMs until stop(); resolves once the current poll ended. */
  async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.pollOnce();
        this.pollError = null;
      } catch (error) {
        if (this.stopped) break;
        this.pollError = (error as Error).message;
        debug("poll failed: %s", this.pollError);
      }
      await sleep(this.opts.pollMs, this.opts.signal);
    }
  }

  /** Ends the loop at its next turn (the signal ends a poll or sleep in progress). */
  stop(): void {
    this.stopped = true;
  }

  private async pollOnce(): Promise<void> {
    const { states, fire } = this.opts;
    const head = await readHead(this.opts.rpcUrl, this.opts.signal);
    const last = this.lastBlock;
    if (last === null || head < last) {
      // First sight of the chain, or it went back (a reset devnet): resynchronise, fire nothing.
      this.lastBlock = head;
      for (const s of states) s.scannedTo = Math.min(s.scannedTo, head);
      return;
    }
    if (head > last) {
      for (const s of states) {
        if (s.trigger.type !== "block") continue;
        // a trigger added while the poller was behind the head starts where it was first seen
        const from = Math.max(last, s.scannedTo);
        for (const b of blockFirings(s.trigger.everyBlocks, s.trigger.offset, from, head))
          fire(s, { blockNumber: b });
        s.scannedTo = Math.max(s.scannedTo, head);
      }
    }
    // lastBlock moves only once the logs up to the head were read too, so a caller that waits
    // for a block and then for idle() sees every firing that block caused.
    let failure: unknown;
    try {
      for (const s of states) {
        if (s.trigger.type !== "event" || s.done) continue;
        try {
          await this.scanEvents(s, s.trigger, head);
        } catch (error) {
          failure ??= error;
        }
      }
    } finally {
      this.lastBlock = head;
    }
    if (failure) throw failure;
  }

  private async scanEvents(s: TriggerState, t: EventTrigger, head: number): Promise<void> {
    const { rpcUrl, signal } = this.opts;
    for (
      let chunk = 0;
      chunk < MAX_LOG_CHUNKS_PER_POLL && s.scannedTo < head && !this.stopped && !s.done;
      chunk++
    ) {
      const from = s.scannedTo + 1;
      const to = Math.min(head, from + MAX_LOG_RANGE - 1);
      const logs = (
        await jsonRpc<RawLog[]>(
          rpcUrl,
          "eth_getLogs",
          [{ address: t.address, topics: t.topics, fromBlock: hex(from), toBlock: hex(to) }],
          { signal },
        )
      )
        .filter((l) => !l.removed)
        .sort(
          (a, b) =>
            quantity(a.blockNumber) - quantity(b.blockNumber) || quantity(a.logIndex) - quantity(b.logIndex),
        );
      const times = t.cooldownMs > 0 && logs.length > 0 ? await this.blockTimes(logs) : undefined;
      const items = logs.map((log) => ({ log, atMs: times?.get(quantity(log.blockNumber)) ?? 0 }));
      const { fire: firing, suppressed, lastFiredMs } = applyCooldown(items, s.lastFiredLogMs, t.cooldownMs);
      s.lastFiredLogMs = lastFiredMs;
      s.suppressed += suppressed.length;
      for (const { log } of firing) this.opts.fire(s, { blockNumber: quantity(log.blockNumber), log });
      s.scannedTo = to;
    }
  }

  /** Block times (ms) of the logs' blocks, from the logs when the node gives them, else from the blocks. */
  private async blockTimes(logs: RawLog[]): Promise<Map<number, number>> {
    const times = new Map<number, number>();
    for (const l of logs)
      if (l.blockTimestamp) times.set(quantity(l.blockNumber), quantity(l.blockTimestamp) * 1000);
    const missing = [...new Set(logs.map((l) => quantity(l.blockNumber)))].filter((b) => !times.has(b));
    for (const b of missing) {
      const block = await jsonRpc<{ timestamp: string } | null>(
        this.opts.rpcUrl,
        "eth_getBlockByNumber",
        [hex(b), false],
        { signal: this.opts.signal },
      );
      if (!block) throw new Error(`block ${b} not found`);
      times.set(b, quantity(block.timestamp) * 1000);
    }
    return times;
  }
}
