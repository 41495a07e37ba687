import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { hexlify, toUtf8Bytes } from "ethers";
import { canonicalJson } from "../src/engine/workflow/index.ts";
import { createValidationServer } from "../src/server.ts";
import { encodeTaskData } from "../src/workflow-task.ts";
import { type PriceFeed, startPriceFeed } from "./price-feed.ts";

const PERFORMER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const TASK = {
  inputVariables: { symbol: "ETHUSDT", threshold: 2500 },
  round: 1700000000000,
  triggerData: {},
};

// The fingerprint of a run of ../workflow.json over ETHUSDT at 3000.00, written out by hand
// (the restApi step's raw answer is not attested: its output is null).
const step = (id: string, name: string, type: string, output: unknown) => ({
  id,
  name,
  type,
  success: true,
  output,
  error: null,
});
const PROOF = `0x${createHash("sha256")
  .update(
    canonicalJson({
      status: "success",
      error: null,
      steps: [
        step("trigger", "manualTrigger", "manual", {}),
        step("fetch", "fetchPrice", "restApi", null),
        step("quote", "quote", "customCode", { symbol: "ETHUSDT", price: "3000.00" }),
        step("check", "checkPrice", "branch", { conditionId: "check.high" }),
        step("alert-high", "alertHigh", "customCode", { level: "high" }),
        step("report", "report", "customCode", {
          symbol: "ETHUSDT",
          price: "3000.00",
          threshold: 2500,
          level: "high",
        }),
      ],
    }),
  )
  .digest("hex")}`;

let feed: PriceFeed;
let server: Server;
let baseUrl: string;

before(async () => {
  feed = await startPriceFeed({ ETHUSDT: "3000.00", BTCUSDT: "65000.00" });
  server = createValidationServer({ PRICE_SOURCE_URL: feed.url });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await feed.close();
});

async function validate(body: unknown) {
  const response = await fetch(`${baseUrl}/task/validate`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

const request = (proofOfTask: string, data: string) => ({
  proofOfTask,
  data,
  taskDefinitionId: 1,
  performer: PERFORMER,
});

test("a proof equal to the re-run's fingerprint is approved", async () => {
  const { status, body } = await validate(request(PROOF, encodeTaskData(TASK)));
  assert.equal(status, 200);
  assert.deepEqual(body, { data: true, error: false, message: null });
  const upper = await validate(request(`0x${PROOF.slice(2).toUpperCase()}`, encodeTaskData(TASK)));
  assert.equal(upper.body.data, true);
});

test("another round of the same work is its own task with the same proof, approved", async () => {
  const next = { ...TASK, round: TASK.round + 1 };
  assert.notEqual(encodeTaskData(next), encodeTaskData(TASK));
  assert.equal((await validate(request(PROOF, encodeTaskData(next)))).body.data, true);
});

test("a tampered proof is rejected", async () => {
  const tampered = `${PROOF.slice(0, -1)}${PROOF.endsWith("0") ? "1" : "0"}`;
  for (const proof of [tampered, "0xdeadbeef", ""]) {
    const { status, body } = await validate(request(proof, encodeTaskData(TASK)));
    assert.equal(status, 200);
    assert.equal(body.data, false, proof);
  }
});

test("the same proof over other inputs is rejected: the re-run differs", async () => {
  const other = { ...TASK, inputVariables: { symbol: "BTCUSDT", threshold: 2500 } };
  assert.equal((await validate(request(PROOF, encodeTaskData(other)))).body.data, false);
});

test("data that is not the canonical task data is rejected", async () => {
  for (const text of [
    '{"inputVariables": {"symbol": "ETHUSDT", "threshold": 2500}, "round": 1, "triggerData": {}}',
    '{"triggerData":{},"round":1,"inputVariables":{"symbol":"ETHUSDT","threshold":2500}}',
    '{"inputVariables":{"symbol":"ETHUSDT","threshold":2500},"round":1,"triggerData":{},"extra":1}',
    '{"inputVariables":[],"round":1,"triggerData":{}}',
    '{"inputVariables":{"symbol":"ETHUSDT","threshold":2500},"round":1.5,"triggerData":{}}',
    '{"inputVariables":{"symbol":"ETHUSDT","threshold":2500},"round":-1,"triggerData":{}}',
    '{"inputVariables":{"symbol":"ETHUSDT","threshold":2500},"round":"1","triggerData":{}}',
    // Without a round: the task data of a template older than the round rule.
    '{"inputVariables":{"symbol":"ETHUSDT","threshold":2500},"triggerData":{}}',
  ]) {
    const { body } = await validate(request(PROOF, hexlify(toUtf8Bytes(text))));
    assert.equal(body.data, false, text);
  }
});

test("inputs the workflow refuses are a rejection; missing fields too", async () => {
  const bad = { ...TASK, inputVariables: { "not a name": 1 } };
  assert.equal((await validate(request(PROOF, encodeTaskData(bad)))).body.data, false);
  const { status, body } = await validate({ taskDefinitionId: 1 });
  assert.equal(status, 200);
  assert.equal(body.data, false);
});

test("when the re-run fails (its source is down) the service answers 500, not a vote", async () => {
  const unknown = { ...TASK, inputVariables: { symbol: "UNKNOWN", threshold: 2500 } };
  const { status, body } = await validate(request(PROOF, encodeTaskData(unknown)));
  assert.equal(status, 500);
  assert.equal(body.error, true);
  assert.match(body.message, /fetchPrice/);
});

test("GET /health answers ok", async () => {
  const response = await fetch(`${baseUrl}/health`);
  assert.equal(response.status, 200);
});
