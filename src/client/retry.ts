/**
 * Sending a task again, safely. A busy aggregator (OVERLOADED, docs/protocol.md#json-rpc-errors)
 * refused the task outright, so it is sent again after the `retryAfterMs` it asked for, plus
 * jitter so refused clients do not all come back at once. A send whose fate is unknown (it timed
 * out, or the connection broke mid-request) goes again only when every attempt carries the same
 * signed task: then the aggregator either takes it or answers TASK_KNOWN, which means this very
 * send got through, and no retry can create a second task. Until an answer comes, such a send's
 * fate is unknown, so an aggregator that does not answer at all (restarting) is tried again too.
 * Everything stops at the deadline.
 */

import { type AvsctlError, isAvsctlError } from "../errors.js";
import type { TaskEndReason } from "../node/journal.js";
import { sleep as defaultSleep } from "../util/sleep.js";
import type { SentTask } from "./send.js";

export type { TaskEndReason };

/** The error object of a JSON-RPC refusal carried by an avsctl error, if any. */
function rpcErrorOf(error: unknown): { code?: number; message?: string; data?: Record<string, unknown> } {
  return ((error as AvsctlError)?.details?.rpcError ?? {}) as {
    code?: number;
    message?: string;
    data?: Record<string, unknown>;
  };
}

/**
 * The wait a busy aggregator asked for, or undefined when `error` is no OVERLOADED refusal: from
 * the JSON-RPC refusal, or from what an execution service relayed of it (client/send.ts reads
 * the reason and its retryAfterMs back from the message into the error's details).
 */
export function busyRetryAfterMs(error: unknown): number | undefined {
  const rpc = rpcErrorOf(error);
  const relayed = (error as AvsctlError | undefined)?.details;
  const ms =
    rpc.data?.reason === "OVERLOADED"
      ? Number(rpc.data.retryAfterMs)
      : relayed?.reason === "OVERLOADED"
        ? Number(relayed.retryAfterMs)
        : undefined;
  if (ms === undefined) return undefined;
  return Number.isFinite(ms) && ms >= 0 ? ms : 1_000;
}

/**
 * The reason a task was refused because too little voting power is connected, if it was: from
 * the JSON-RPC refusal, or from what an execution service relayed of it (client/send.ts reads
 * the refusal and its figures back from the message into the error's details).
 */
export function insufficientPowerReason(error: unknown): TaskEndReason | undefined {
  const rpc = rpcErrorOf(error);
  if (rpc.data?.reason === "INSUFFICIENT_CONNECTED_POWER") {
    return {
      message: rpc.message ?? "too little voting power is connected",
      abstained: [],
      connectedPower: String(rpc.data.connectedPower ?? "0"),
      requiredPower: String(rpc.data.requiredPower ?? "0"),
    };
  }
  const relayed = (error as AvsctlError | undefined)?.details;
  if (relayed?.reason !== "INSUFFICIENT_CONNECTED_POWER") return undefined;
  return {
    message: String(relayed.refusal),
    abstained: [],
    connectedPower: String(relayed.connectedPower),
    requiredPower: String(relayed.requiredPower),
  };
}

/**
 * Whether nothing answered in time or at all (the aggregator down, frozen or restarting). A
 * refusal is an answer, though the one for an L2 the aggregator cannot read (CHAIN_UNAVAILABLE)
 * has the code RPC_UNREACHABLE: the task was not taken, and sending it again until the deadline
 * (or calling it a timeout) would hide why.
 */
export function isTransient(error: unknown): boolean {
  if (!isAvsctlError(error) || (error.code !== "RPC_UNREACHABLE" && error.code !== "TIMEOUT")) return false;
  // the aggregator's JSON-RPC refusal, or its reason read back from an execution service's answer
  return rpcErrorOf(error).data?.reason === undefined && error.details?.reason === undefined;
}

/** Whether a failed send may still have reached the aggregator: all but a refused connection. */
export function mayHaveArrived(error: unknown): boolean {
  let e: unknown = error;
  for (let depth = 0; e && depth < 6; depth++) {
    if ((e as { code?: unknown }).code === "ECONNREFUSED") return false;
    e = (e as { cause?: unknown }).cause;
  }
  return true;
}

export interface RetryOptions {
  /** Nothing is sent after this time (ms since the epoch). */
  deadline: number;
  /**
   * Every attempt carries the same signed task: a send of unknown fate may go again. Asked at
   * each failure, for a path that signs its task only on the way (the execution service).
   */
  idempotent: boolean | (() => boolean);
  /** Keep trying an aggregator that does not answer (one restarting), until the deadline. */
  retryUnavailable: boolean;
  signal?: AbortSignal;
  /** Seams for tests: a number in [0, 1) and the wait. */
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** What one task's sends came to, however many attempts it took. */
export type RetriedSend =
  | { ok: true; sent: SentTask; refusedBusy: number; retries: number }
  | {
      ok: false;
      error: unknown;
      refusedBusy: number;
      retries: number;
      /**
       * An attempt may have reached the aggregator unanswered, and no answer came since (`error`
       * is no answer either): whether the aggregator took the task is unknown.
       */
      fateUnknown: boolean;
    };

/**
 * What a send of unknown fate (RetriedSend's `fateUnknown`) says: the aggregator may have taken
 * the task, and did not answer again `until` (`within --timeout`), with the last error.
 */
export function fateUnknownMessage(error: unknown, until: string): string {
  const message = error instanceof Error ? error.message : String(error);
  return `fate unknown: the aggregator may have taken this task (a send of it got no answer), and it did not answer again ${until} (${message})`;
}

/** Waits after a connection failure start here and double up to this cap. */
const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 2_000;

/**
 * Sends through `attempt` until it is taken, refused for good, or the deadline is near.
 * `attempt` gets the time left, to bound its own request.
 */
export async function sendWithRetries(
  attempt: (timeLeftMs: number) => Promise<SentTask>,
  opts: RetryOptions,
): Promise<RetriedSend> {
  const random = opts.random ?? Math.random;
  const wait = opts.sleep ?? defaultSleep;
  let refusedBusy = 0;
  let retries = 0;
  let backoff = FIRST_BACKOFF_MS;
  // Set once a send may have arrived unseen: a TASK_KNOWN after it is that very send, not a
  // task the network had before.
  let maybeTaken = false;
  const failed = (error: unknown): RetriedSend => ({
    ok: false,
    error,
    refusedBusy,
    retries,
    // an answer (a refusal) says the aggregator does not hold the task: it checks for a known
    // task before anything else
    fateUnknown: maybeTaken && isTransient(error),
  });
  for (;;) {
    try {
      const sent = await attempt(Math.max(1, opts.deadline - Date.now()));
      if (sent.known && maybeTaken) {
        const { known: _known, ...ours } = sent;
        return { ok: true, sent: ours, refusedBusy, retries };
      }
      return { ok: true, sent, refusedBusy, retries };
    } catch (error) {
      let delay: number;
      const busy = busyRetryAfterMs(error);
      if (busy !== undefined) {
        refusedBusy++;
        delay = busy + Math.floor(random() * Math.max(50, busy / 2));
      } else if (isTransient(error)) {
        const arrived = mayHaveArrived(error);
        const sameTask = typeof opts.idempotent === "function" ? opts.idempotent() : opts.idempotent;
        if (arrived ? !sameTask : !(opts.retryUnavailable || maybeTaken)) return failed(error);
        if (arrived) maybeTaken = true;
        delay = backoff + Math.floor(random() * (backoff / 2));
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      } else {
        return failed(error);
      }
      if (opts.signal?.aborted || Date.now() + delay >= opts.deadline) return failed(error);
      await wait(delay, opts.signal);
      if (opts.signal?.aborted) return failed(error);
      retries++;
    }
  }
}
