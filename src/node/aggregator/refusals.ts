/**
 * The words of the aggregator's sendTask refusals that have no revert name to end with. An
 * execution service passes on only a refusal's message, and `avsctl task send --via execution`
 * reads the reason back from these words (client/send.ts), so they are kept in one place, where
 * its tests build them too: changing them breaks those tests, not users.
 */

import type { TaskDefinitionInfo } from "../chain-view.js";
import { RpcError } from "../json-rpc.js";

/** Too many tasks in progress: the documented OVERLOADED wording (docs/protocol.md#json-rpc-errors). */
export function overloaded(pending: number, limit: number, retryAfterMs: number): RpcError {
  return new RpcError(
    "OVERLOADED",
    `aggregator busy: ${pending} tasks in progress (limit ${limit}); retry after ${retryAfterMs} ms`,
    { retryAfterMs, pending, limit },
  );
}

export function performerNotActive(performer: string, chainId: number): RpcError {
  return new RpcError("PERFORMER_NOT_ACTIVE", `${performer} is not an active operator on chain ${chainId}`);
}

export function unknownChain(chainId: number, served: number[]): RpcError {
  return new RpcError("UNKNOWN_CHAIN", `this aggregator does not serve chain ${chainId}`, { chains: served });
}

/** The L2 did not answer a read of the definition (`check` of the performer, or `read` of it). */
export function chainUnavailable(read: "check" | "read", id: number, error: unknown): RpcError {
  return new RpcError(
    "CHAIN_UNAVAILABLE",
    `cannot ${read} task definition ${id}: ${(error as Error).message}`,
  );
}

export function noEligibleAttesters(def: TaskDefinitionInfo): RpcError {
  return new RpcError(
    "NO_ELIGIBLE_ATTESTERS",
    `no voting power can attest task definition ${def.id}: ${noPowerReason(def)}`,
    {
      restrictedAttesterIds: def.restrictedAttesterIds.map(String),
      minimumVotingPower: def.minimumVotingPower.toString(),
    },
  );
}

/** Why a definition's eligible voting power is nothing, in its own figures. */
function noPowerReason(def: TaskDefinitionInfo): string {
  const min = def.minimumVotingPower > 0n ? ` of at least ${def.minimumVotingPower}` : "";
  if (def.restrictedAttesterIds.length > 0)
    return `it is restricted to operators ${def.restrictedAttesterIds.join(", ")}, and none of them holds voting power${min}`;
  if (min) return `no operator holds voting power${min}, its minimum`;
  return "no registered operator holds voting power";
}

/**
 * The connected attesters could not approve a task of `def`. With a maximum of signers only the
 * strongest count: the message says so, or the figure reads as all of them.
 */
export function insufficientConnectedPower(
  def: Pick<TaskDefinitionInfo, "id" | "maximumNumberOfAttesters">,
  connectedPower: bigint,
  requiredPower: bigint,
): RpcError {
  const max = def.maximumNumberOfAttesters;
  const held = max
    ? `at most ${max} attester(s) may sign for definition ${def.id} (maximumNumberOfAttesters), and the strongest connected ones hold ${connectedPower} voting power`
    : `the connected attesters hold ${connectedPower} voting power`;
  return new RpcError(
    "INSUFFICIENT_CONNECTED_POWER",
    `${held}, below the ${requiredPower} needed to approve a task of definition ${def.id}`,
    { connectedPower: connectedPower.toString(), requiredPower: requiredPower.toString() },
  );
}

export function payloadTooLarge(maxBodyBytes: number): RpcError {
  return new RpcError("PAYLOAD_TOO_LARGE", `the request body exceeds ${maxBodyBytes} bytes`);
}

/** The journal could not take an accepted task (a full disk): the task was dropped. */
export function notRecorded(error: unknown): RpcError {
  return new RpcError(
    "INTERNAL_ERROR",
    `the aggregator could not record the task: ${(error as Error).message}`,
  );
}
