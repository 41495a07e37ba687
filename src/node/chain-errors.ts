/**
 * The node's one translation of chain failures: JSON-RPC errors carrying revert data are named
 * by the custom errors of our ABIs (chain/contracts.ts decodeRevert), for logs, for failed
 * submissions, and for the sendTask refusals that a definition check turns into.
 */

import { type DecodedRevert, decodeRevert } from "../chain/reverts.js";
import { RpcError } from "./json-rpc.js";

/** The node answered with a JSON-RPC error (not transient: retrying would not help). */
export class RpcCallError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(`${method}: ${withRevertName(message, data)}`);
  }
}

/** A revert named by its custom error, its arguments by parameter name as text. */
export interface NamedRevert {
  name: string;
  args: Record<string, string>;
  /** `Name(arg, arg)`, for logs and messages. */
  label: string;
}

/** The revert data carried by a JSON-RPC error's `data` (bare, or nested one level as ethers does). */
function dataOf(data: unknown): string | undefined {
  if (typeof data === "string" && data.startsWith("0x")) return data;
  if (data && typeof data === "object" && typeof (data as { data?: unknown }).data === "string")
    return (data as { data: string }).data;
  return undefined;
}

/** The revert data carried by an eth_call / eth_estimateGas error, when there is some. */
export function revertDataOf(error: unknown): string | undefined {
  return error instanceof RpcCallError ? dataOf(error.data) : undefined;
}

function named(decoded: DecodedRevert): NamedRevert {
  const args: Record<string, string> = {};
  for (const [name, value] of Object.entries(decoded.namedArgs)) args[name] = String(value);
  return { name: decoded.name, args, label: `${decoded.name}(${decoded.args.map(String).join(", ")})` };
}

/** The revert in raw data, by name; undefined when there is none or it matches nothing we know. */
export function namedRevert(data: string | undefined): NamedRevert | undefined {
  if (!data || data.length < 10) return undefined;
  const decoded = decodeRevert(data);
  return decoded ? named(decoded) : undefined;
}

/** The revert a failed call carries, by name. */
export function revertOf(error: unknown): NamedRevert | undefined {
  return namedRevert(revertDataOf(error));
}

/** What went wrong in a failed call: the revert by name when there is one, else the error's message. */
export function revertReason(error: unknown): string {
  return revertOf(error)?.label ?? (error as Error).message;
}

/**
 * anvil names a custom error by its selector only ("custom error 0x866b0dcf: ..."); logs and
 * errors should say which check failed, so a revert we can decode is named with its arguments.
 */
function withRevertName(message: string, data: unknown): string {
  const raw = dataOf(data);
  if (raw === undefined || !/^0x[0-9a-fA-F]{8}/.test(raw)) return message;
  const revert = namedRevert(raw);
  // Error(string) and Panic are already spelled out by the node
  if (!revert || revert.name === "Error" || revert.name === "Panic") return message;
  return `execution reverted: ${revert.label}`;
}

/**
 * The sendTask refusal for a failed verifyOperatorValidForTaskDefinition, naming the revert
 * (message and `data.revert`) so the user sees which check of the contract refused.
 */
export function definitionCheckError(
  revert: { name: string; args: Record<string, string> },
  id: number,
  performer: string,
): RpcError {
  const refusal = definitionRefusal(revert, id, performer);
  return new RpcError(refusal.reason, `${refusal.message} (${revert.name})`, {
    revert: revert.name,
    revertArgs: revert.args,
  });
}

function definitionRefusal(
  revert: { name: string; args: Record<string, string> },
  id: number,
  performer: string,
): RpcError {
  switch (revert.name) {
    case "OperatorNotRegistered":
      return new RpcError("PERFORMER_NOT_ACTIVE", `${performer} is not an active operator`);
    case "TaskDefinitionNotFound":
      return new RpcError("TASK_DEFINITION_NOT_FOUND", `task definition ${id} does not exist`);
    case "InvalidTaskDefinition":
      return new RpcError("TASK_DEFINITION_EXPIRED", `task definition ${id} has expired`);
    case "InvalidRestrictedAttester":
    case "InvalidRestrictedOperator":
      return new RpcError(
        "RESTRICTED_OPERATOR",
        `the performer is not in task definition ${id}'s restricted operator set`,
      );
    case "InsufficientVotingPowerForTaskDefinition":
      return new RpcError(
        "INSUFFICIENT_VOTING_POWER",
        // the second argument, whatever an ABI calls it (ours minVotingPower, others votingPower)
        `the performer holds less than task definition ${id}'s minimum voting power (${Object.values(revert.args)[1] ?? "?"})`,
      );
    default:
      return new RpcError("INVALID_PARAMS", `the task definition check failed: ${revert.name}`);
  }
}
