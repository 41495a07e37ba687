import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { recoverAddress } from "ethers";
import { addressOf, normalizePrivateKey, signEcdsa, taskHash } from "../src/signing.ts";

const vector = JSON.parse(readFileSync(new URL("./fixtures/bls-othentic.json", import.meta.url), "utf8"));

test("the task hash is keccak256(abi.encode(proofOfTask, data, performer, taskDefinitionId))", () => {
  const { proofOfTask, data, performer, taskDefinitionId } = vector.task;
  assert.equal(taskHash(proofOfTask, data, performer, taskDefinitionId), vector.task.taskHash);
});

test("the ECDSA signature is raw (no EIP-191 prefix) and recovers the performer", () => {
  const key = normalizePrivateKey("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
  const hash = taskHash("0xabc", "0x1234", addressOf(key), 1);
  const signature = signEcdsa(hash, key);
  assert.match(signature, /^0x[0-9a-f]{130}$/);
  assert.ok(["1b", "1c"].includes(signature.slice(-2)), "v is 27 or 28");
  assert.equal(recoverAddress(hash, signature), addressOf(key));
});

test("private keys are accepted with or without 0x and rejected when malformed", () => {
  assert.equal(normalizePrivateKey("AB".repeat(32)), `0x${"ab".repeat(32)}`);
  assert.throws(() => normalizePrivateKey("0x1234"), /32 bytes/);
});
