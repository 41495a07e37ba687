/**
 * Task and vote hashes of docs/protocol.md (task hash, consensus), computed with ethers' ABI
 * coder so they match `keccak256(abi.encode(...))` in the AttestationCenter exactly.
 */

import { AbiCoder, isHexString, keccak256 } from "ethers";
import { AvsctlError } from "../errors.js";
import { checksumAddress } from "./address.js";
import type { Hex } from "./bytes.js";

/** The fields of a TaskInfo that the task hash covers. */
export interface TaskHashInput {
  proofOfTask: string;
  /** 0x-hex bytes ("0x" for none). */
  data: string;
  performer: string;
  taskDefinitionId: number;
}

/** A task plus what a vote binds it to. */
export interface VoteHashInput extends TaskHashInput {
  attestationCenter: string;
  chainId: bigint | number;
  isApproved: boolean;
}

const coder = AbiCoder.defaultAbiCoder();

function checkTask(t: TaskHashInput): void {
  if (typeof t.proofOfTask !== "string") throw invalid("proofOfTask", "expected a string");
  if (typeof t.data !== "string" || !isHexString(t.data) || t.data.length % 2 !== 0) {
    throw invalid("data", "expected 0x-hex bytes");
  }
  if (!Number.isInteger(t.taskDefinitionId) || t.taskDefinitionId < 0 || t.taskDefinitionId > 0xffff) {
    throw invalid("taskDefinitionId", "expected an integer in [0, 65535]");
  }
}

function invalid(name: string, problem: string): AvsctlError {
  return new AvsctlError("INVALID_ARGUMENT", `${name}: ${problem}`, { details: { argument: name } });
}

const address = checksumAddress;

/** keccak256(abi.encode(string proofOfTask, bytes data, address performer, uint16 taskDefinitionId)). */
export function taskHash(t: TaskHashInput): Hex {
  checkTask(t);
  return keccak256(
    coder.encode(
      ["string", "bytes", "address", "uint16"],
      [t.proofOfTask, t.data, address(t.performer, "performer"), t.taskDefinitionId],
    ),
  ) as Hex;
}

/**
 * The message attesters sign: keccak256(abi.encode(string proofOfTask, bytes data, address
 * taskPerformer, uint16 taskDefinitionId, address attestationCenter, uint256 chainId, bool isApproved)).
 */
export function voteHash(v: VoteHashInput): Hex {
  checkTask(v);
  return keccak256(
    coder.encode(
      ["string", "bytes", "address", "uint16", "address", "uint256", "bool"],
      [
        v.proofOfTask,
        v.data,
        address(v.performer, "performer"),
        v.taskDefinitionId,
        address(v.attestationCenter, "attestationCenter"),
        BigInt(v.chainId),
        v.isApproved,
      ],
    ),
  ) as Hex;
}
