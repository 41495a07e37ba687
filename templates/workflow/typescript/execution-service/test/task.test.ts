import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, test } from "node:test";
import { hexlify, toUtf8Bytes } from "ethers";
import { canonicalJson } from "../src/engine/workflow/index.ts";
import { performTask } from "../src/task.ts";
import { decodeTaskData } from "../src/workflow-task.ts";
import { type PriceFeed, startPriceFeed } from "./price-feed.ts";

let feed: PriceFeed;
let env: NodeJS.ProcessEnv;
before(async () => {
  feed = await startPriceFeed({ ETHUSDT: "3000.00", DOGEUSDT: "0.15" });
  env = { PRICE_SOURCE_URL: feed.url };
});
after(() => feed.close());

/**
 * The comparable record of a run of ../workflow.json over a price, written out by hand, as
 * attested: the restApi step's output (the source's raw answer) is null.
 */
function expectedRecord(symbol: string, price: string, threshold: number) {
  const level = Number(price) > threshold ? "high" : "low";
  const step = (id: string, name: string, type: string, output: unknown) => ({
    id,
    name,
    type,
    success: true,
    output,
    error: null,
  });
  return {
    status: "success",
    error: null,
    steps: [
      step("trigger", "manualTrigger", "manual", {}),
      step("fetch", "fetchPrice", "restApi", null),
      step("quote", "quote", "customCode", { symbol, price }),
      step("check", "checkPrice", "branch", { conditionId: `check.${level}` }),
      step(`alert-${level}`, level === "high" ? "alertHigh" : "alertLow", "customCode", { level }),
      step("report", "report", "customCode", { symbol, price, threshold, level }),
    ],
  };
}

const sha256 = (text: string) => `0x${createHash("sha256").update(text).digest("hex")}`;

test("the proof is the fingerprint of the run and data carries its inputs", async () => {
  const proof = await performTask({}, env);
  const inputs = { inputVariables: { symbol: "ETHUSDT", threshold: 2500 }, triggerData: {} };
  assert.equal(
    proof.data,
    hexlify(toUtf8Bytes('{"inputVariables":{"symbol":"ETHUSDT","threshold":2500},"triggerData":{}}')),
  );
  assert.deepEqual(decodeTaskData(proof.data), inputs);
  assert.equal(proof.proofOfTask, sha256(canonicalJson(expectedRecord("ETHUSDT", "3000.00", 2500))));
});

test("two runs over the same inputs give the same proof, whatever second the source answers in", async () => {
  const later = await startPriceFeed({ ETHUSDT: "3000.00" }, 1700000999);
  try {
    const first = await performTask({}, env);
    assert.deepEqual(await performTask({}, env), first);
    assert.deepEqual(await performTask({}, { PRICE_SOURCE_URL: later.url }), first);
  } finally {
    await later.close();
  }
});

test("another price from the source is another proof", async () => {
  const other = await startPriceFeed({ ETHUSDT: "3000.01" });
  try {
    const proof = await performTask({}, { PRICE_SOURCE_URL: other.url });
    assert.equal(proof.proofOfTask, sha256(canonicalJson(expectedRecord("ETHUSDT", "3000.01", 2500))));
  } finally {
    await other.close();
  }
});

test("inputs from the request change the run and its proof", async () => {
  const proof = await performTask({ inputs: { symbol: "DOGEUSDT" } }, env);
  assert.equal(proof.proofOfTask, sha256(canonicalJson(expectedRecord("DOGEUSDT", "0.15", 2500))));
  assert.deepEqual(decodeTaskData(proof.data)?.inputVariables, { symbol: "DOGEUSDT", threshold: 2500 });
  const viaData = await performTask({ data: hexlify(toUtf8Bytes('{"symbol":"DOGEUSDT"}')) }, env);
  assert.deepEqual(viaData, proof);
});

test("bad inputs are a 400; a failed run is an error, not a proof", async () => {
  await assert.rejects(performTask({ inputs: [1] }, env), { status: 400 });
  await assert.rejects(performTask({ data: "0x1234" }, env), { status: 400 });
  await assert.rejects(performTask({ inputs: { "not a name": 1 } }, env), { status: 400 });
  await assert.rejects(performTask({ inputs: { symbol: "NOPE" } }, env), /failed: fetchPrice: .*HTTP 404/);
});
