import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import {
  blsPublicKey,
  blsSecretFromSeed,
  blsVerify,
  DOMAIN_TASKS,
  hashToPoint,
  initBls,
  signTaskBls,
  verifyTaskBls,
} from "../../../src/crypto/bls.js";
import { isBlsReady } from "../../../src/crypto/mcl.js";
import { taskHash } from "../../../src/crypto/task-hash.js";

interface Vector {
  seed: string;
  secretKey: string;
  publicKeyG2: [string, string, string, string];
  task: { proofOfTask: string; data: string; performer: string; taskDefinitionId: number; taskHash: string };
  messagePointG1: { x: string; y: string };
  signatureG1: { x: string; y: string };
}

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
const vector = JSON.parse(
  readFileSync(path.join(repoRoot, "test/fixtures/bls-othentic.json"), "utf8"),
) as Vector;

describe("Othentic BLS known-answer vector", () => {
  // The message point must not depend on whether mcl is loaded: check the bigint path first.
  const readyBeforeInit = isBlsReady();
  const pointBeforeInit = hashToPoint(DOMAIN_TASKS, vector.task.taskHash);

  beforeAll(async () => {
    await initBls();
  });

  it("derives the secret key from the seed", () => {
    expect(blsSecretFromSeed(vector.seed)).toBe(BigInt(vector.secretKey));
    // Othentic hashes the lowercase text; uppercase input must give the same key.
    expect(blsSecretFromSeed(vector.seed.toUpperCase().replace("0X", "0x"))).toBe(BigInt(vector.secretKey));
    expect(blsSecretFromSeed(vector.seed.slice(2))).toBe(BigInt(vector.secretKey));
  });

  it("computes the G2 public key in [x.c0, x.c1, y.c0, y.c1] order", () => {
    expect(blsPublicKey(BigInt(vector.secretKey))).toEqual(vector.publicKeyG2.map(BigInt));
  });

  it("computes the task hash", () => {
    const { taskHash: expected, ...task } = vector.task;
    expect(taskHash(task)).toBe(expected);
  });

  it("maps the task hash to the message point with either field backend", () => {
    const expected = [BigInt(vector.messagePointG1.x), BigInt(vector.messagePointG1.y)];
    expect(readyBeforeInit).toBe(false);
    expect(pointBeforeInit).toEqual(expected);
    expect(hashToPoint(DOMAIN_TASKS, vector.task.taskHash)).toEqual(expected);
  });

  it("signs the task hash to the expected signature, which verifies", () => {
    const sk = blsSecretFromSeed(vector.seed);
    const sig = signTaskBls(sk, vector.task.taskHash);
    expect(sig).toEqual([BigInt(vector.signatureG1.x), BigInt(vector.signatureG1.y)]);
    const pk = vector.publicKeyG2.map(BigInt) as unknown as readonly [bigint, bigint, bigint, bigint];
    expect(verifyTaskBls(sig, pk, vector.task.taskHash)).toBe(true);
    expect(blsVerify(sig, pk, DOMAIN_TASKS, vector.task.taskHash)).toBe(true);
    // The swapped (imaginary-first) key layout must not verify.
    const swapped = [pk[1], pk[0], pk[3], pk[2]] as const;
    expect(verifyTaskBls(sig, swapped, vector.task.taskHash)).toBe(false);
  });
});
