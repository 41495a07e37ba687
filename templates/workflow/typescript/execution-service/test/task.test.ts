import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, test } from "node:test";
import { hexlify, toUtf8Bytes } from "ethers";
import { canonicalJson } from "../src/engine/workflow/index.ts";
import { performTask } from "../src/task.ts";
import { decodeTaskData, nextRound } from "../src/workflow-task.ts";
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

test("the proof is the fingerprint of the run and data carries its inputs and round", async () => {
  const proof = await performTask({}, env);
  const task = decodeTaskData(proof.data);
  assert.ok(task);
  assert.ok(Number.isSafeInteger(task.round) && task.round > 0);
  assert.equal(
    proof.data,
    hexlify(
      toUtf8Bytes(
        `{"inputVariables":{"symbol":"ETHUSDT","threshold":2500},"round":${task.round},"triggerData":{}}`,
      ),
    ),
  );
  assert.deepEqual(task, {
    inputVariables: { symbol: "ETHUSDT", threshold: 2500 },
    round: task.round,
    triggerData: {},
  });
  assert.equal(proof.proofOfTask, sha256(canonicalJson(expectedRecord("ETHUSDT", "3000.00", 2500))));
});

test("rounds increase by at least one and never fall behind the clock", () => {
  const first = nextRound();
  assert.equal(nextRound(0), first + 1);
  assert.equal(nextRound(first + 1000), first + 1000);
  assert.equal(nextRound(first), first + 1001);
});

/** The task data without its round. */
const inputsOf = (data: string) => {
  const task = decodeTaskData(data);
  assert.ok(task);
  return { inputVariables: task.inputVariables, triggerData: task.triggerData };
};

test("two runs over the same inputs give the same proof, whatever second the source answers in, as two tasks", async () => {
  const later = await startPriceFeed({ ETHUSDT: "3000.00" }, 1700000999);
  try {
    const first = await performTask({}, env);
    const second = await performTask({}, env);
    const third = await performTask({}, { PRICE_SOURCE_URL: later.url });
    for (const other of [second, third]) {
      assert.equal(other.proofOfTask, first.proofOfTask);
      assert.notEqual(other.data, first.data);
      assert.deepEqual(inputsOf(other.data), inputsOf(first.data));
    }
    assert.ok((decodeTaskData(third.data)?.round ?? 0) > (decodeTaskData(second.data)?.round ?? 0));
    assert.ok((decodeTaskData(second.data)?.round ?? 0) > (decodeTaskData(first.data)?.round ?? 0));
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

test("the body's fields are the inputs: they change the run and its proof", async () => {
  // What `avsctl task send --data '{"symbol":"DOGEUSDT"}'` POSTs.
  const proof = await performTask({ taskDefinitionId: 1, symbol: "DOGEUSDT" }, env);
  assert.equal(proof.proofOfTask, sha256(canonicalJson(expectedRecord("DOGEUSDT", "0.15", 2500))));
  assert.deepEqual(decodeTaskData(proof.data)?.inputVariables, { symbol: "DOGEUSDT", threshold: 2500 });
  const both = await performTask({ symbol: "DOGEUSDT", threshold: 0.1, signatureType: "ecdsa" }, env);
  assert.equal(both.proofOfTask, sha256(canonicalJson(expectedRecord("DOGEUSDT", "0.15", 0.1))));
});

test("bad inputs are a 400; a failed run is an error, not a proof", async () => {
  await assert.rejects(performTask({ "not a name": 1 }, env), { status: 400 });
  await assert.rejects(performTask({ symbol: "NOPE" }, env), /failed: fetchPrice: .*HTTP 404/);
});
