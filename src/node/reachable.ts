/**
 * A node outlives the parts it talks to: a chain, a validation service or the aggregator that
 * is down at start or goes away is tried again with backoff instead of ending the node (a
 * devnet's supervisor may be starting it again right now). The log says so once per change of
 * state, down then up, never once per attempt.
 */

import { isAvsctlError } from "../errors.js";
import { sleep } from "../util/sleep.js";
import type { Logger } from "./log.js";
import { RpcTransportError } from "./rpc-client.js";

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5_000;

/** One warn when `what` stops answering, one info when it answers again. */
export class Reachability {
  private down = false;

  constructor(
    private readonly log: Logger,
    private readonly what: string,
    private readonly fields: Record<string, unknown> = {},
  ) {}

  get isDown(): boolean {
    return this.down;
  }

  failed(error: unknown, extra: Record<string, unknown> = {}): void {
    if (this.down) return;
    this.down = true;
    const message = error instanceof Error ? error.message : String(error);
    this.log.warn(`${this.what} unreachable; retrying`, { ...this.fields, ...extra, error: message });
  }

  answered(): void {
    if (!this.down) return;
    this.down = false;
    this.log.info(`${this.what} reachable again`, this.fields);
  }
}

/** A failure that says nothing about the request: the endpoint did not answer (or answered garbage). */
export function isUnreachable(error: unknown): boolean {
  if (error instanceof RpcTransportError) return true;
  if (isAvsctlError(error)) return error.code === "RPC_UNREACHABLE";
  const code = (error as { code?: string; cause?: { code?: string } })?.cause?.code;
  return code === "ECONNREFUSED" || code === "ECONNRESET" || code === "UND_ERR_SOCKET";
}

/**
 * Runs `attempt` until it succeeds, retrying (with backoff, capped at 5 s) only while it fails
 * because `what` does not answer; any other error is thrown at once. Aborting `signal` throws
 * the last failure.
 */
export async function untilReachable<T>(
  attempt: () => Promise<T>,
  opts: { log: Logger; what: string; signal?: AbortSignal; fields?: Record<string, unknown> },
): Promise<T> {
  const state = new Reachability(opts.log, opts.what, opts.fields);
  let wait = FIRST_RETRY_MS;
  for (;;) {
    try {
      const result = await attempt();
      state.answered();
      return result;
    } catch (error) {
      if (!isUnreachable(error) || opts.signal?.aborted) throw error;
      state.failed(error);
    }
    await sleep(wait, opts.signal);
    wait = Math.min(wait * 2, MAX_RETRY_MS);
  }
}
