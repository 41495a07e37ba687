import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { keccak256, toUtf8Bytes, toUtf8String } from "ethers";
import { buildProof, canonicalJson, decodeReport, priceUrl, withinTolerance } from "../src/price.ts";
import { performTask } from "../src/task.ts";
import { type PriceFeed, startPriceFeed } from "./price-feed.ts";

let feed: PriceFeed;
before(async () => {
  feed = await startPriceFeed({ ETHUSDT: "3000.12", BTCUSDT: "65000" });
});
after(() => feed.close());

test("the canonical JSON has fixed keys, no whitespace and the price as a string", () => {
  const text = canonicalJson({ price: "3000.12", symbol: "ETHUSDT", timestamp: 1700000000 });
  assert.equal(text, '{"price":"3000.12","symbol":"ETHUSDT","timestamp":1700000000}');
});

test("the proof is the keccak256 of the data bytes", () => {
  const proof = buildProof({ price: "1.5", symbol: "ETHUSDT", timestamp: 1 });
  assert.equal(toUtf8String(proof.data), '{"price":"1.5","symbol":"ETHUSDT","timestamp":1}');
  assert.equal(proof.proofOfTask, keccak256(toUtf8Bytes('{"price":"1.5","symbol":"ETHUSDT","timestamp":1}')));
});

test("performTask fetches the price and proves it", async () => {
  const proof = await performTask({ symbol: "BTCUSDT" }, { PRICE_SOURCE_URL: feed.url });
  assert.deepEqual(decodeReport(proof.data), { price: "65000", symbol: "BTCUSDT", timestamp: 1700000000 });
  assert.equal(proof.proofOfTask, keccak256(proof.data));
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
