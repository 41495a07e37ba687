import { createHash, randomBytes } from "node:crypto";
import { toDataHex } from "../../crypto/bytes.js";

export { toDataHex };

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

/**
 * A task for the sample AVS: `data` as text or 0x-hex (default: a fresh unique payload), the
 * proof as given or, by default, the sample rule's proof of that data.
 */
export function buildTask(opts: { proof?: string; data?: string; taskDefinitionId: number }): {
  proofOfTask: string;
  data: string;
  taskDefinitionId: number;
} {
  const data = toDataHex(
    opts.data ?? JSON.stringify({ nonce: randomBytes(8).toString("hex"), at: Date.now() }),
  );
  return { proofOfTask: opts.proof ?? sampleProof(data), data, taskDefinitionId: opts.taskDefinitionId };
}
