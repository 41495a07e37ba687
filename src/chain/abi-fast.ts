/**
 * Hand-written ABI encodings of the few shapes on the node's hot path (task hash, vote hash,
 * submitTask calldata) and in scans of every verdict of a chain (task hash of each event).
 * ethers' general coder costs about a millisecond per call, which at a hundred tasks a second is
 * a tenth of a core per process; these are string concatenations. Each encoding is checked
 * against ethers in the tests.
 */

import { keccak256 } from "../crypto/digest.js";

const WORD_ZERO = "0".repeat(64);

function word(value: bigint | number): string {
  return value.toString(16).padStart(64, "0");
}

/** `bytes` / `string` tail: length word and the data right-padded to whole words. */
function tail(hexBody: string): string {
  const len = hexBody.length / 2;
  const pad = (64 - (hexBody.length % 64)) % 64;
  return word(len) + hexBody + WORD_ZERO.slice(0, pad);
}

function utf8Hex(text: string): string {
  return Buffer.from(text, "utf8").toString("hex");
}

function addressWord(address: string): string {
  return address.slice(2).toLowerCase().padStart(64, "0");
}

/** The task fields as they are hashed and as the TaskInfo tuple is encoded. */
export interface TaskFields {
  proofOfTask: string;
  /** 0x-hex. */
  data: string;
  performer: string;
  taskDefinitionId: number;
}

/** abi.encode(string, bytes, address, uint16) without 0x: also the body of a TaskInfo tuple. */
function encodeTaskTuple(t: TaskFields): string {
  return encodeTaskTupleHex(
    utf8Hex(t.proofOfTask),
    t.data.slice(2).toLowerCase(),
    t.performer,
    t.taskDefinitionId,
  );
}

function encodeTaskTupleHex(
  proofHex: string,
  dataHex: string,
  performer: string,
  taskDefinitionId: number,
): string {
  const proof = tail(proofHex);
  const data = tail(dataHex);
  return (
    word(128) + word(128 + proof.length / 2) + addressWord(performer) + word(taskDefinitionId) + proof + data
  );
}

function keccakHex(hexBody: string): string {
  return `0x${Buffer.from(keccak256(Buffer.from(hexBody, "hex"))).toString("hex")}`;
}

/** keccak256(abi.encode(string proofOfTask, bytes data, address performer, uint16 taskDefinitionId)). */
export function fastTaskHash(t: TaskFields): string {
  return keccakHex(encodeTaskTuple(t));
}

/**
 * The task hash of a proofOfTask given as its bytes (lowercase hex without 0x), as an event
 * carries it: exact whatever those bytes are, valid UTF-8 or not.
 */
export function fastTaskHashOfBytes(
  proofHex: string,
  dataHex: string,
  performer: string,
  taskDefinitionId: number,
): string {
  return keccakHex(encodeTaskTupleHex(proofHex, dataHex, performer, taskDefinitionId));
}

/** keccak256(abi.encode(proofOfTask, data, performer, taskDefinitionId, attestationCenter, chainId, isApproved)). */
export function fastVoteHash(
  t: TaskFields,
  attestationCenter: string,
  chainId: number,
  isApproved: boolean,
): string {
  const proof = tail(utf8Hex(t.proofOfTask));
  const data = tail(t.data.slice(2).toLowerCase());
  const head =
    word(224) +
    word(224 + proof.length / 2) +
    addressWord(t.performer) +
    word(t.taskDefinitionId) +
    addressWord(attestationCenter) +
    word(chainId) +
    word(isApproved ? 1 : 0);
  return keccakHex(head + proof + data);
}

const SELECTOR_ECDSA = "fff768e3";
const SELECTOR_BLS = "8a7ce8a4";

function uintArray(values: readonly bigint[]): string {
  return word(values.length) + values.map(word).join("");
}

/**
 * Calldata of submitTask(TaskInfo, EcdsaTaskSubmissionDetails) (0xfff768e3) or
 * submitTask(TaskInfo, BlsTaskSubmissionDetails) (0x8a7ce8a4).
 */
export function encodeSubmitTask(
  t: TaskFields,
  d: {
    isApproved: boolean;
    /** 0x-hex ECDSA signature, or the BLS [x, y]. */
    tpSignature: string | readonly [bigint, bigint];
    taSignature: readonly [bigint, bigint];
    attestersIds: readonly bigint[];
  },
): string {
  const info = encodeTaskTuple(t);
  let details: string;
  let selector: string;
  if (typeof d.tpSignature === "string") {
    selector = SELECTOR_ECDSA;
    const sig = tail(d.tpSignature.slice(2).toLowerCase());
    details =
      word(d.isApproved ? 1 : 0) +
      word(160) +
      word(d.taSignature[0]) +
      word(d.taSignature[1]) +
      word(160 + sig.length / 2) +
      sig +
      uintArray(d.attestersIds);
  } else {
    selector = SELECTOR_BLS;
    details =
      word(d.isApproved ? 1 : 0) +
      word(d.tpSignature[0]) +
      word(d.tpSignature[1]) +
      word(d.taSignature[0]) +
      word(d.taSignature[1]) +
      word(192) +
      uintArray(d.attestersIds);
  }
  return `0x${selector}${word(64)}${word(64 + info.length / 2)}${info}${details}`;
}
