import { hexlify, toUtf8Bytes } from "ethers";
import { HttpError } from "./http.ts";

export interface Proof {
  /** What the attesters check: a hash, a content id, a value... any string. */
  proofOfTask: string;
  /** Extra bytes carried on-chain with the task (0x-hex). */
  data: string;
}

let lastRound = 0;

/**
 * The next round of this process: max(previous round + 1, Date.now()). It goes into `data` so
 * each execution is its own task (its own task hash), even for the same input: the aggregator
 * takes a task it already has as a re-send, not as new work.
 */
export function nextRound(now: number = Date.now()): number {
  lastRound = Math.max(lastRound + 1, now);
  return lastRound;
}

/**
 * The task. This blank one turns the body's `input` (default "hello") into a proof as is, and
 * carries `{"input": ..., "round": N}` as data.
 * TODO: do the real work here and return a proof your validation service can check
 * (validation-service/src/validate.ts).
 */
export async function performTask(input: Record<string, unknown>, _env: NodeJS.ProcessEnv): Promise<Proof> {
  const value = input.input ?? "hello";
  if (typeof value !== "string" || value === "") throw new HttpError(400, "input must be a non-empty string");
  return {
    proofOfTask: value,
    data: hexlify(toUtf8Bytes(JSON.stringify({ input: value, round: nextRound() }))),
  };
}
