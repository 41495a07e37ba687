/**
 * Reads a running trigger runner's status (GET /triggers), for `avsctl task triggers`. Kept
 * free of ethers so the command stays fast.
 */

import { redactUrl } from "../chain/rpc.js";
import { AvsctlError } from "../errors.js";
import type { TriggerStatusResponse } from "./types.js";

/**
 * Fetches `<statusUrl>/triggers`. RPC_UNREACHABLE when nothing answers (no runner: the devnet is
 * down or has no triggers), COMMAND_FAILED when the answer is not a trigger status.
 */
export async function fetchTriggerStatus(
  statusUrl: string,
  timeoutMs = 5_000,
): Promise<TriggerStatusResponse> {
  let response: Response;
  try {
    response = await fetch(`${statusUrl.replace(/\/+$/, "")}/triggers`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new AvsctlError(
      "RPC_UNREACHABLE",
      `the trigger runner at ${redactUrl(statusUrl)} does not answer`,
      {
        hint: "is the devnet up? `avsctl devnet status` checks every component",
        cause: error,
      },
    );
  }
  const body = (await response.json().catch(() => undefined)) as TriggerStatusResponse | undefined;
  if (!response.ok || !body || !Array.isArray(body.triggers)) {
    throw new AvsctlError(
      "COMMAND_FAILED",
      `${redactUrl(statusUrl)} did not answer with a trigger status (HTTP ${response.status})`,
    );
  }
  return body;
}
