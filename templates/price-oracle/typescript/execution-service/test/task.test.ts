import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { toUtf8String } from "ethers";
import { isCid } from "../src/ipfs.ts";
import {
  canonicalJson,
  decodeReport,
  nextRound,
  priceUrl,
  reportData,
  withinTolerance,
} from "../src/price.ts";
import { performTask } from "../src/task.ts";
import { type IpfsStandIn, startIpfsStandIn } from "./ipfs-stand-in.ts";
import { type PriceFeed, startPriceFeed } from "./price-feed.ts";

let feed: PriceFeed;
let ipfs: IpfsStandIn;
let env: Record<string, string>;
before(async () => {
  feed = await startPriceFeed({ ETHUSDT: "3000.12", BTCUSDT: "65000" });
  ipfs = await startIpfsStandIn();
  env = { PRICE_SOURCE_URL: feed.url, PINATA_API_URL: ipfs.apiUrl, PINATA_GATEWAY: ipfs.gatewayUrl };
});
after(async () => {
  await feed.close();
  await ipfs.close();
});

// The same report gives the same bytes in the TypeScript, Python and Go templates.
const KNOWN_REPORT = { price: "3000.12", round: 1700000000000, symbol: "ETHUSDT", timestamp: 1700000000 };
const KNOWN_DATA =
  "0x7b227072696365223a22333030302e3132222c22726f756e64223a313730303030303030303030302c2273796d626f6c223a2245544855534454222c2274696d657374616d70223a313730303030303030307d";

test("the canonical JSON has fixed keys, no whitespace and the price as a string", () => {
  assert.equal(
    canonicalJson(KNOWN_REPORT),
    '{"price":"3000.12","round":1700000000000,"symbol":"ETHUSDT","timestamp":1700000000}',
  );
});

test("data is the hex of the canonical JSON, the same as in the other languages", () => {
  assert.equal(reportData(KNOWN_REPORT), KNOWN_DATA);
  assert.deepEqual(decodeReport(KNOWN_DATA), KNOWN_REPORT);
  const data = reportData({ price: "1.5", round: 2, symbol: "ETHUSDT", timestamp: 1 });
  assert.equal(toUtf8String(data), '{"price":"1.5","round":2,"symbol":"ETHUSDT","timestamp":1}');
});

test("rounds increase by at least one and never fall behind the clock", () => {
  const first = nextRound();
  assert.ok(first >= Date.now() - 60_000);
  assert.equal(nextRound(0), first + 1);
  assert.equal(nextRound(first + 1000), first + 1000);
  assert.equal(nextRound(first), first + 1001);
});

test("performTask fetches the price, pins the report to IPFS and proves it with the CID", async () => {
  const before = ipfs.pins.length;
  const proof = await performTask({ symbol: "BTCUSDT" }, env);
  const report = decodeReport(proof.data);
  assert.ok(report);
  assert.deepEqual(
    { ...report, round: 0 },
    { price: "65000", round: 0, symbol: "BTCUSDT", timestamp: 1700000000 },
  );
  assert.ok(Number.isSafeInteger(report.round) && report.round > 0);
  assert.equal(ipfs.pins.length, before + 1);
  assert.deepEqual(ipfs.pins[before]?.body, {
    pinataContent: report,
    pinataMetadata: { name: `price-report-${report.round}` },
  });
  assert.equal(ipfs.pins[before]?.authorization, undefined);
  assert.ok(isCid(proof.proofOfTask), proof.proofOfTask);
  const pinned = await fetch(`${ipfs.gatewayUrl}${proof.proofOfTask}`);
  assert.equal(await pinned.text(), canonicalJson(report));
});

test("a CID is CIDv0 (Qm + 44 base58 characters) or CIDv1 in base32", () => {
  assert.equal(isCid("QmcyoGhJmH8wUBdnGnqU4xgUNCa9MF6uCeP8uDAokfh5g9"), true);
  assert.equal(isCid("bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"), true);
  for (const value of [
    "QmcyoGhJmH8wUBdnGnqU4xgUNCa9MF6uCeP8uDAokfh5g",
    "Qm0yoGhJmH8wUBdnGnqU4xgUNCa9MF6uCeP8uDAokfh5g9",
    "bafy",
    `0x${"ab".repeat(32)}`,
    1,
  ]) {
    assert.equal(isCid(value), false, String(value));
  }
});

test("PINATA_JWT is sent as a bearer token", async () => {
  const before = ipfs.pins.length;
  await performTask({}, { ...env, PINATA_JWT: "test-jwt" });
  assert.equal(ipfs.pins[before]?.authorization, "Bearer test-jwt");
});

test("a pinning failure is an HTTP 502 that says so", async () => {
  ipfs.failPinsWith = 401;
  try {
    await assert.rejects(performTask({}, env), (error: any) => {
      assert.equal(error.status, 502);
      assert.match(error.message, /pinning the report to IPFS failed: .* HTTP 401 .*PINATA_JWT/);
      return true;
    });
  } finally {
    ipfs.failPinsWith = undefined;
  }
  const closed = await startIpfsStandIn();
  await closed.close();
  await assert.rejects(performTask({}, { ...env, PINATA_API_URL: closed.apiUrl }), {
    status: 502,
    message: /pinning the report to IPFS failed: .* unreachable/,
  });
});

test("two executions over the same quote are two tasks, in increasing rounds", async () => {
  const first = await performTask({}, env);
  const second = await performTask({}, env);
  assert.notEqual(second.data, first.data);
  assert.notEqual(second.proofOfTask, first.proofOfTask);
  const a = decodeReport(first.data);
  const b = decodeReport(second.data);
  assert.ok(a && b && b.round > a.round);
  assert.deepEqual({ ...b, round: a.round }, a);
});

test("performTask uses PRICE_SYMBOL when the body names no symbol", async () => {
  const proof = await performTask({}, { ...env, PRICE_SYMBOL: "ETHUSDT" });
  assert.equal(decodeReport(proof.data)?.price, "3000.12");
});

test("a bad symbol is bad input and an unknown one a source error", async () => {
  await assert.rejects(performTask({ symbol: "ETH USD" }, env), { status: 400 });
  await assert.rejects(performTask({ symbol: "NOPE" }, env), /HTTP 404/);
});

test("tolerance is exact decimal arithmetic in basis points", () => {
  assert.equal(withinTolerance("101", "100", 100), true);
  assert.equal(withinTolerance("101.01", "100", 100), false);
  assert.equal(withinTolerance("99.000", "100", 100), true);
  assert.equal(withinTolerance("3000.12000000", "3000.12", 0), true);
  assert.equal(priceUrl("http://x/p?a=1", "ETHUSDT"), "http://x/p?a=1&symbol=ETHUSDT");
});
