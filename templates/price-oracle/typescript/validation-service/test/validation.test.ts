import assert from "node:assert/strict";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { hexlify, keccak256, toUtf8Bytes } from "ethers";
import { canonicalJson, decodeReport, type PriceReport, reportData } from "../src/price.ts";
import { createValidationServer } from "../src/server.ts";
import { type IpfsStandIn, standInCid, startIpfsStandIn } from "./ipfs-stand-in.ts";
import { type PriceFeed, startPriceFeed } from "./price-feed.ts";

const PERFORMER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

let feed: PriceFeed;
// Stands in for Pinata (and for the devnet's IPFS node): the CIDs these tests pin live here.
let ipfs: IpfsStandIn;
let servers: Server[] = [];
let baseUrl: string;

async function startService(env: Record<string, string>): Promise<string> {
  const server = createValidationServer(env);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

before(async () => {
  feed = await startPriceFeed({ ETHUSDT: "3000.00" });
  ipfs = await startIpfsStandIn();
  baseUrl = await startService({
    PRICE_SOURCE_URL: feed.url,
    PRICE_TOLERANCE_BPS: "100",
    PINATA_GATEWAY: ipfs.gatewayUrl,
  });
});

after(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  servers = [];
  await ipfs.close();
  await feed.close();
});

async function validate(body: unknown, url = baseUrl) {
  const response = await fetch(`${url}/task/validate`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

function request(proof: { proofOfTask: string; data: string }) {
  return { ...proof, taskDefinitionId: 1, performer: PERFORMER };
}

/** What an honest execution service sends: the report pinned, its CID and the report as data. */
function pinned(report: PriceReport) {
  return { proofOfTask: ipfs.put(canonicalJson(report)), data: reportData(report) };
}

test("a pinned report within the tolerance whose CID is the proof is approved", async () => {
  const { status, body } = await validate(
    request(pinned({ price: "3010.5", round: 1, symbol: "ETHUSDT", timestamp: 1 })),
  );
  assert.equal(status, 200);
  assert.deepEqual(body, { data: true, error: false, message: null });
});

test("the report is read from IPFS alone when the request has no data", async () => {
  const { proofOfTask } = pinned({ price: "3000.00", round: 2, symbol: "ETHUSDT", timestamp: 1 });
  for (const data of [undefined, null]) {
    const { body } = await validate({ proofOfTask, data, taskDefinitionId: 1, performer: PERFORMER });
    assert.equal(body.data, true, String(data));
  }
  // Empty data is data, and not the report.
  const { body } = await validate({ proofOfTask, data: "0x", taskDefinitionId: 1, performer: PERFORMER });
  assert.equal(body.data, false);
});

test('data "" or "0x" is given, and rejected without asking the gateway', async () => {
  const { proofOfTask } = pinned({ price: "3000.00", round: 8, symbol: "ETHUSDT", timestamp: 1 });
  // Were the gateway asked, a failing one would make this a 500; an empty report is a verdict.
  ipfs.failGatewayWith = 503;
  try {
    for (const data of ["", "0x"]) {
      const { status, body } = await validate({
        proofOfTask,
        data,
        taskDefinitionId: 1,
        performer: PERFORMER,
      });
      assert.equal(status, 200, JSON.stringify(data));
      assert.deepEqual(body, { data: false, error: false, message: null }, JSON.stringify(data));
    }
  } finally {
    ipfs.failGatewayWith = undefined;
  }
});

test("a gateway answering 408 or 429 cannot decide (500); any other 4xx is a rejection", async () => {
  const proof = pinned({ price: "3000.00", round: 9, symbol: "ETHUSDT", timestamp: 1 });
  try {
    for (const status of [408, 429]) {
      ipfs.failGatewayWith = status;
      const answer = await validate(request(proof));
      assert.equal(answer.status, 500, String(status));
      assert.equal(answer.body.error, true);
      assert.deepEqual(answer.body.data, {});
      assert.match(answer.body.message, new RegExp(`IPFS gateway .* HTTP ${status}`));
    }
    for (const status of [400, 403, 404, 410]) {
      ipfs.failGatewayWith = status;
      const answer = await validate(request(proof));
      assert.equal(answer.status, 200, String(status));
      assert.deepEqual(answer.body, { data: false, error: false, message: null }, String(status));
    }
  } finally {
    ipfs.failGatewayWith = undefined;
  }
});

test("a price outside the tolerance is rejected", async () => {
  const { body } = await validate(
    request(pinned({ price: "3030.01", round: 1, symbol: "ETHUSDT", timestamp: 1 })),
  );
  assert.deepEqual(body, { data: false, error: false, message: null });
});

test("a CID the gateway does not have is rejected", async () => {
  const data = reportData({ price: "3000.00", round: 3, symbol: "ETHUSDT", timestamp: 1 });
  const neverPinned = standInCid(`never pinned ${data}`);
  const { status, body } = await validate(request({ proofOfTask: neverPinned, data }));
  assert.equal(status, 200);
  assert.deepEqual(body, { data: false, error: false, message: null });
});

test("pinned content that does not match data is rejected", async () => {
  const honest = pinned({ price: "3000.00", round: 4, symbol: "ETHUSDT", timestamp: 1 });
  for (const other of [
    { price: "3000.01", round: 4, symbol: "ETHUSDT", timestamp: 1 },
    { price: "3000.00", round: 5, symbol: "ETHUSDT", timestamp: 1 },
  ]) {
    const { body } = await validate(request({ proofOfTask: honest.proofOfTask, data: reportData(other) }));
    assert.equal(body.data, false, JSON.stringify(other));
  }
  // Content that is no report at all, under a real CID.
  const { body } = await validate(request({ proofOfTask: ipfs.put('{"hello":"world"}'), data: honest.data }));
  assert.equal(body.data, false);
});

test("a proof that is not a CID is rejected without asking the gateway", async () => {
  const data = reportData({ price: "3000.00", round: 6, symbol: "ETHUSDT", timestamp: 1 });
  for (const proofOfTask of [keccak256(data), "", "Qm123", `${standInCid(data)}/x`, 42]) {
    const { status, body } = await validate({ proofOfTask, data, taskDefinitionId: 1, performer: PERFORMER });
    assert.equal(status, 200);
    assert.equal(body.data, false, String(proofOfTask));
  }
});

test("data that is not the canonical JSON is rejected even when the pinned report matches it", async () => {
  const { proofOfTask } = pinned({ price: "3000.00", round: 1, symbol: "ETHUSDT", timestamp: 1 });
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
    const { body } = await validate(request({ proofOfTask, data: hexlify(bytes) }));
    assert.equal(body.data, false, text);
  }
});

test("missing fields are a rejection, not an error", async () => {
  const { status, body } = await validate({ taskDefinitionId: 1 });
  assert.equal(status, 200);
  assert.equal(body.data, false);
});

test("when the gateway is down or failing the service answers 500, not a vote", async () => {
  const proof = pinned({ price: "3000.00", round: 7, symbol: "ETHUSDT", timestamp: 1 });
  const gone = await startIpfsStandIn();
  await gone.close();
  const url = await startService({ PRICE_SOURCE_URL: feed.url, PINATA_GATEWAY: gone.gatewayUrl });
  const { status, body } = await validate(request(proof), url);
  assert.equal(status, 500);
  assert.equal(body.error, true);
  assert.deepEqual(body.data, {});
  assert.match(body.message, /IPFS gateway .* unreachable/);

  // A gateway that fails on its side says nothing about the content either.
  ipfs.failGatewayWith = 503;
  try {
    const answer = await validate(request(proof));
    assert.equal(answer.status, 500);
    assert.match(answer.body.message, /IPFS gateway .* HTTP 503/);
  } finally {
    ipfs.failGatewayWith = undefined;
  }
});

test("when the price source is down the service answers 500, not a vote", async () => {
  const { status, body } = await validate(
    request(pinned({ price: "1", round: 1, symbol: "UNKNOWN", timestamp: 1 })),
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
