import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { keccak256, toUtf8Bytes, toUtf8String } from "ethers";
import {
  buildProof,
  canonicalJson,
  decodeReport,
  nextRound,
  priceUrl,
  withinTolerance,
} from "../src/price.ts";
import { performTask } from "../src/task.ts";
import { type PriceFeed, startPriceFeed } from "./price-feed.ts";

let feed: PriceFeed;
before(async () => {
  feed = await startPriceFeed({ ETHUSDT: "3000.12", BTCUSDT: "65000" });
});
after(() => feed.close());

// The same report gives the same bytes in the TypeScript, Python and Go templates.
const KNOWN_REPORT = { price: "3000.12", round: 1700000000000, symbol: "ETHUSDT", timestamp: 1700000000 };
const KNOWN_PROOF = {
  proofOfTask: "0xab4ae797cfcdaf9d4fd1b871ed128aaec7651d8a67dfbd98e749567aa2aa9600",
  data: "0x7b227072696365223a22333030302e3132222c22726f756e64223a313730303030303030303030302c2273796d626f6c223a2245544855534454222c2274696d657374616d70223a313730303030303030307d",
};

test("the canonical JSON has fixed keys, no whitespace and the price as a string", () => {
  assert.equal(
    canonicalJson(KNOWN_REPORT),
    '{"price":"3000.12","round":1700000000000,"symbol":"ETHUSDT","timestamp":1700000000}',
  );
});

test("the proof is the keccak256 of the data bytes, the same as in the other languages", () => {
  assert.deepEqual(buildProof(KNOWN_REPORT), KNOWN_PROOF);
  const proof = buildProof({ price: "1.5", round: 2, symbol: "ETHUSDT", timestamp: 1 });
  assert.equal(toUtf8String(proof.data), '{"price":"1.5","round":2,"symbol":"ETHUSDT","timestamp":1}');
  assert.equal(
    proof.proofOfTask,
    keccak256(toUtf8Bytes('{"price":"1.5","round":2,"symbol":"ETHUSDT","timestamp":1}')),
  );
});

test("rounds increase by at least one and never fall behind the clock", () => {
  const first = nextRound();
  assert.ok(first >= Date.now() - 60_000);
  assert.equal(nextRound(0), first + 1);
  assert.equal(nextRound(first + 1000), first + 1000);
  assert.equal(nextRound(first), first + 1001);
});

test("performTask fetches the price and proves it", async () => {
  const proof = await performTask({ symbol: "BTCUSDT" }, { PRICE_SOURCE_URL: feed.url });
  const report = decodeReport(proof.data);
  assert.ok(report);
  assert.deepEqual(
    { ...report, round: 0 },
    { price: "65000", round: 0, symbol: "BTCUSDT", timestamp: 1700000000 },
  );
  assert.ok(Number.isSafeInteger(report.round) && report.round > 0);
  assert.equal(proof.proofOfTask, keccak256(proof.data));
});

test("two executions over the same quote are two tasks, in increasing rounds", async () => {
  const first = await performTask({}, { PRICE_SOURCE_URL: feed.url });
  const second = await performTask({}, { PRICE_SOURCE_URL: feed.url });
  assert.notEqual(second.data, first.data);
  assert.notEqual(second.proofOfTask, first.proofOfTask);
  const a = decodeReport(first.data);
  const b = decodeReport(second.data);
  assert.ok(a && b && b.round > a.round);
  assert.deepEqual({ ...b, round: a.round }, a);
});

test("performTask uses PRICE_SYMBOL when the body names no symbol", async () => {
  const proof = await performTask({}, { PRICE_SOURCE_URL: feed.url, PRICE_SYMBOL: "ETHUSDT" });
  assert.equal(decodeReport(proof.data)?.price, "3000.12");
});

test("a bad symbol is bad input and an unknown one a source error", async () => {
  await assert.rejects(performTask({ symbol: "ETH USD" }, { PRICE_SOURCE_URL: feed.url }), { status: 400 });
  await assert.rejects(performTask({ symbol: "NOPE" }, { PRICE_SOURCE_URL: feed.url }), /HTTP 404/);
});

test("tolerance is exact decimal arithmetic in basis points", () => {
  assert.equal(withinTolerance("101", "100", 100), true);
  assert.equal(withinTolerance("101.01", "100", 100), false);
  assert.equal(withinTolerance("99.000", "100", 100), true);
  assert.equal(withinTolerance("3000.12000000", "3000.12", 0), true);
  assert.equal(priceUrl("http://x/p?a=1", "ETHUSDT"), "http://x/p?a=1&symbol=ETHUSDT");
});
