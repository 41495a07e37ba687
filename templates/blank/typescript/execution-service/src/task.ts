import { hexlify, toUtf8Bytes } from "ethers";
import { HttpError } from "./http.ts";

export interface Proof {
  /** What the attesters check: a hash, a content id, a value... any string. */
  proofOfTask: string;
  /** Extra bytes carried on-chain with the task (0x-hex). */
  data: string;
}

/**
 * The task. This blank one turns the body's `input` (default "hello") into a proof as is.
 * TODO: do the real work here and return a proof your validation service can check
 * (validation-service/src/validate.ts).
 */
export async function performTask(input: Record<string, unknown>, _env: NodeJS.ProcessEnv): Promise<Proof> {
  const value = input.input ?? "hello";
  if (typeof value !== "string" || value === "") throw new HttpError(400, "input must be a non-empty string");
  return { proofOfTask: value, data: hexlify(toUtf8Bytes(value)) };
}
