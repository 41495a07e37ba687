import { keccak_256 } from "@noble/hashes/sha3.js";
import { describe, expect, it } from "vitest";
import { taskHash, voteHash } from "../../../src/crypto/task-hash.js";

const word = (n: bigint | number): string => BigInt(n).toString(16).padStart(64, "0");
const hexOf = (text: string): string => Buffer.from(text, "utf8").toString("hex");
// Dynamic values: length word, then the bytes right-padded to a 32-byte boundary.
const tail = (hex: string): string => word(hex.length / 2) + hex.padEnd(Math.ceil(hex.length / 64) * 64, "0");
const keccakHex = (hex: string): string =>
  `0x${Buffer.from(keccak_256(Buffer.from(hex, "hex"))).toString("hex")}`;

const task = {
  proofOfTask: "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG-with-a-long-proof-string",
  data: "0x3132332e3435",
  performer: "0x2222222222222222222222222222222222222222",
  taskDefinitionId: 7,
};

function encodeTaskHead(headWords: number): { head: string; tails: string } {
  const proof = tail(hexOf(task.proofOfTask));
  const data = tail(task.data.slice(2));
  const headSize = headWords * 32;
  return {
    head:
      word(headSize) +
      word(headSize + proof.length / 2) +
      word(BigInt(task.performer)) +
      word(task.taskDefinitionId),
    tails: proof + data,
  };
}

describe("taskHash", () => {
  it("equals keccak256 of a hand-built abi.encode(string,bytes,address,uint16)", () => {
    const { head, tails } = encodeTaskHead(4);
    expect(taskHash(task)).toBe(keccakHex(head + tails));
  });

  it("covers every field", () => {
    const base = taskHash(task);
    expect(taskHash({ ...task, proofOfTask: "other" })).not.toBe(base);
    expect(taskHash({ ...task, data: "0x" })).not.toBe(base);
    expect(taskHash({ ...task, performer: "0x3333333333333333333333333333333333333333" })).not.toBe(base);
    expect(taskHash({ ...task, taskDefinitionId: 8 })).not.toBe(base);
  });

  it("rejects bad input with coded errors", () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return (error as { code?: string }).code;
      }
    };
    expect(code(() => taskHash({ ...task, data: "123" }))).toBe("INVALID_ARGUMENT");
    expect(code(() => taskHash({ ...task, data: "0x123" }))).toBe("INVALID_ARGUMENT");
    expect(code(() => taskHash({ ...task, taskDefinitionId: 65536 }))).toBe("INVALID_ARGUMENT");
    expect(code(() => taskHash({ ...task, performer: "0x12" }))).toBe("INVALID_ADDRESS");
  });
});

describe("voteHash", () => {
  const vote = {
    ...task,
    attestationCenter: "0x4444444444444444444444444444444444444444",
    chainId: 31337n,
    isApproved: true,
  };

  it("equals keccak256 of a hand-built abi.encode(string,bytes,address,uint16,address,uint256,bool)", () => {
    const { head, tails } = encodeTaskHead(7);
    const rest = word(BigInt(vote.attestationCenter)) + word(vote.chainId) + word(1);
    expect(voteHash(vote)).toBe(keccakHex(head + rest + tails));
  });

  it("differs between approve and reject and between chains", () => {
    expect(voteHash(vote)).not.toBe(voteHash({ ...vote, isApproved: false }));
    expect(voteHash(vote)).not.toBe(voteHash({ ...vote, chainId: 1 }));
    expect(voteHash(vote)).not.toBe(taskHash(task));
  });
});
