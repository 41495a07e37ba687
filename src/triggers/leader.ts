/**
 * Who performs a firing: round robin over the active operators by block number
 * (docs/protocol.md#leader-election),
 * `performerIndex = floor(blockNumber / epochBlocks) % numberOfActiveOperators`, over
 * `getActiveOperatorsDetails()` in the order the contract returns them. Every runner that reads
 * the same chain at the same block elects the same operator, so exactly one performs.
 */

import { jsonRpc } from "../chain/json-rpc.js";
import { AvsctlError } from "../errors.js";

export interface ActiveOperator {
  /** Operator address, as the contract returns it. */
  operator: string;
  operatorId: number;
}

/** Where the active operators come from: by default the AttestationCenter, at the firing block. */
export type ActiveOperatorsSource = (blockNumber: number) => Promise<ReadonlyArray<ActiveOperator>>;

/**
 * The index of the performer among `count` active operators at `blockNumber`; -1 when there
 * are none.
 */
export function leaderIndex(blockNumber: number, count: number, epochBlocks = 1): number {
  if (!Number.isSafeInteger(blockNumber) || blockNumber < 0) {
    throw new AvsctlError(
      "INVALID_ARGUMENT",
      `blockNumber: expected a non-negative integer, got ${blockNumber}`,
    );
  }
  if (!Number.isSafeInteger(epochBlocks) || epochBlocks < 1) {
    throw new AvsctlError("INVALID_ARGUMENT", `epochBlocks: expected a positive integer, got ${epochBlocks}`);
  }
  if (count <= 0) return -1;
  return Math.floor(blockNumber / epochBlocks) % count;
}

/** The performer for `blockNumber`, or undefined when no operator is active. */
export function electPerformer<T extends ActiveOperator>(
  operators: ReadonlyArray<T>,
  blockNumber: number,
  epochBlocks = 1,
): T | undefined {
  const i = leaderIndex(blockNumber, operators.length, epochBlocks);
  return i < 0 ? undefined : operators[i];
}

const DETAILS_ABI =
  "function getActiveOperatorsDetails() view returns ((address operator, uint256 operatorId, uint256 votingPower, uint256 feeToClaim)[])";

/**
 * Reads `getActiveOperatorsDetails()` from an AttestationCenter at a block (default latest),
 * keeping the contract's order.
 */
export async function readActiveOperators(
  rpcUrl: string,
  attestationCenter: string,
  blockNumber?: number,
  signal?: AbortSignal,
): Promise<ActiveOperator[]> {
  const { Interface } = await import("ethers");
  const iface = new Interface([DETAILS_ABI]);
  const tag = blockNumber === undefined ? "latest" : `0x${blockNumber.toString(16)}`;
  const result = await jsonRpc<string>(
    rpcUrl,
    "eth_call",
    [{ to: attestationCenter, data: iface.encodeFunctionData("getActiveOperatorsDetails", []) }, tag],
    { signal },
  );
  let decoded: Array<{ operator: string; operatorId: bigint }>;
  try {
    decoded = iface.decodeFunctionResult("getActiveOperatorsDetails", result)[0];
  } catch (error) {
    throw new AvsctlError(
      "COMMAND_FAILED",
      `${attestationCenter} did not answer getActiveOperatorsDetails() (is it an AttestationCenter?)`,
      { details: { attestationCenter, result }, cause: error },
    );
  }
  return Array.from(decoded, (d) => ({ operator: String(d.operator), operatorId: Number(d.operatorId) }));
}
