import { createHash } from "node:crypto";

/**
 * The built-in sample AVS that the devnet runs when a project has no services of its own:
 * the proof of a task is the SHA-256 digest of its data bytes, as 0x-hex. An attester
 * approves exactly when the digest matches, so `task send --proof <anything else>` is the
 * easy way to see a rejection.
 */
export function sampleProof(dataHex: string): string {
  const bytes = Buffer.from(dataHex.replace(/^0x/, ""), "hex");
  return `0x${createHash("sha256").update(bytes).digest("hex")}`;
}

export function sampleIsValid(proofOfTask: string, dataHex: string): boolean {
  if (!/^0x([0-9a-fA-F]{2})*$/.test(dataHex)) return false;
  return proofOfTask.toLowerCase() === sampleProof(dataHex);
}

/** Text or 0x-hex from a user, as the 0x-hex bytes sendTask carries. */
export function toDataHex(value: string): string {
  if (/^0x([0-9a-fA-F]{2})*$/.test(value)) return value.toLowerCase();
  return `0x${Buffer.from(value, "utf8").toString("hex")}`;
}
