import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  blsPublicKey,
  blsSecretKeyHex,
  blsSignatureParam,
  blsSignTask,
  blsVerifyTask,
  hashToPoint,
  TASKS_MANAGER_DOMAIN,
  taskMessage,
} from "../src/bls.ts";

// A known-answer vector checked against Othentic's OBLS.hashToPoint and BLS.verifySingle.
const vector = JSON.parse(readFileSync(new URL("./fixtures/bls-othentic.json", import.meta.url), "utf8"));

test("the BLS key is derived from the private key as Othentic's clients do", async () => {
  assert.equal(await blsSecretKeyHex(vector.seed), vector.secretKey);
  assert.deepEqual(await blsPublicKey(vector.seed), vector.publicKeyG2);
});

test("hashToPoint matches the contract for the TasksManager domain", async () => {
  const point = await hashToPoint(TASKS_MANAGER_DOMAIN, taskMessage(vector.task.taskHash));
  assert.deepEqual(point, vector.messagePointG1);
});

test("the task signature matches the vector and verifies with the pairing", async () => {
  const signature = await blsSignTask(vector.task.taskHash, vector.seed);
  assert.deepEqual(signature, vector.signatureG1);
  assert.equal(await blsVerifyTask(vector.task.taskHash, signature, vector.publicKeyG2), true);
  const other = `0x${"11".repeat(32)}`;
  assert.equal(await blsVerifyTask(other, signature, vector.publicKeyG2), false);
  assert.deepEqual(JSON.parse(blsSignatureParam(signature)), vector.signatureG1);
});
