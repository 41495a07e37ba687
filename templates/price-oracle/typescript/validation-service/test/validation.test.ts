import assert from "node:assert/strict";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { hexlify, keccak256, toUtf8Bytes } from "ethers";
import { buildProof, decodeReport } from "../src/price.ts";
import { createValidationServer } from "../src/server.ts";
import { type PriceFeed, startPriceFeed } from "./price-feed.ts";

const PERFORMER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

let feed: PriceFeed;
let server: Server;
let baseUrl: string;

before(async () => {
  feed = await startPriceFeed({ ETHUSDT: "3000.00" });
  server = createValidationServer({ PRICE_SOURCE_URL: feed.url, PRICE_TOLERANCE_BPS: "100" });
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

function request(proof: { proofOfTask: string; data: string }) {
  return { ...proof, taskDefinitionId: 1, performer: PERFORMER };
}

test("a correct proof is approved", async () => {
  const { status, body } = await validate(
    request(buildProof({ price: "3010.5", round: 1, symbol: "ETHUSDT", timestamp: 1 })),
  );
  assert.equal(status, 200);
  assert.deepEqual(body, { data: true, error: false, message: null });
});

test("a price outside the tolerance is rejected", async () => {
  const { body } = await validate(
    request(buildProof({ price: "3030.01", round: 1, symbol: "ETHUSDT", timestamp: 1 })),
  );
  assert.deepEqual(body, { data: false, error: false, message: null });
});

test("a digest that does not match the data is rejected", async () => {
  const proof = buildProof({ price: "3000.00", round: 1, symbol: "ETHUSDT", timestamp: 1 });
  const tampered = `${proof.proofOfTask.slice(0, -1)}${proof.proofOfTask.endsWith("0") ? "1" : "0"}`;
  const { body } = await validate(request({ ...proof, proofOfTask: tampered }));
  assert.equal(body.data, false);
});

test("data that is not the canonical JSON is rejected even with a matching digest", async () => {
  for (const text of [
    '{"price": "3000.00", "round": 1, "symbol": "ETHUSDT", "timestamp": 1}',
    '{"round":1,"price":"3000.00","symbol":"ETHUSDT","timestamp":1}',
    '{"price":3000,"round":1,"symbol":"ETHUSDT","timestamp":1}',
    '{"price":"3000.00","round":1,"symbol":"ETHUSDT","timestamp":1,"extra":1}',
    '{"price":"3000.00","round":1.5,"symbol":"ETHUSDT","timestamp":1}',
    '{"price":"3000.00","round":-1,"symbol":"ETHUSDT","timestamp":1}',
    '{"price":"3000.00","round":"1","symbol":"ETHUSDT","timestamp":1}',
    // Without a round: the report of a template older than the round rule.
    '{"price":"3000.00","symbol":"ETHUSDT","timestamp":1}',
  ]) {
    const bytes = toUtf8Bytes(text);
    assert.equal(decodeReport(hexlify(bytes)), null, text);
    const { body } = await validate(request({ proofOfTask: keccak256(bytes), data: hexlify(bytes) }));
    assert.equal(body.data, false, text);
  }
});

test("missing fields are a rejection, not an error", async () => {
  const { status, body } = await validate({ taskDefinitionId: 1 });
  assert.equal(status, 200);
  assert.equal(body.data, false);
});

test("when the price source is down the service answers 500, not a vote", async () => {
  const { status, body } = await validate(
    request(buildProof({ price: "1", round: 1, symbol: "UNKNOWN", timestamp: 1 })),
  );
  assert.equal(status, 500);
  assert.equal(body.error, true);
  assert.deepEqual(body.data, {});
  assert.match(body.message, /price source/);
});

test("a body that is not JSON is a 400", async () => {
  const response = await fetch(`${baseUrl}/task/validate`, { method: "POST", body: "not json" });
  assert.equal(response.status, 400);
});

test("GET /health answers ok", async () => {
  const response = await fetch(`${baseUrl}/health`);
  assert.equal(response.status, 200);
});
