import assert from "node:assert/strict";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { hexlify, recoverAddress, toUtf8Bytes } from "ethers";
import { blsPublicKey, blsVerifyTask } from "../src/bls.ts";
import { createExecutionServer } from "../src/server.ts";
import { loadExecutionSettings } from "../src/settings.ts";
import { taskHash } from "../src/signing.ts";
import {
  expectSignedTaskHandedBack,
  type FakeAggregator,
  startFakeAggregator,
  withServiceAgainst,
} from "./fake-aggregator.ts";
import { type IpfsStandIn, startIpfsStandIn } from "./ipfs-stand-in.ts";
import { type PriceFeed, startPriceFeed } from "./price-feed.ts";

// A well-known development key (anvil's account 1); never use it for anything real.
const PRIVATE_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const PERFORMER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

let feed: PriceFeed;
let ipfs: IpfsStandIn;
let aggregator: FakeAggregator;
let server: Server;
let baseUrl: string;
/** What every execution service here runs with, but the aggregator. */
let serviceEnv: Record<string, string>;

before(async () => {
  feed = await startPriceFeed({ ETHUSDT: "3000.5" });
  ipfs = await startIpfsStandIn();
  aggregator = await startFakeAggregator();
  serviceEnv = {
    PRIVATE_KEY_PERFORMER: PRIVATE_KEY,
    PRICE_SOURCE_URL: feed.url,
    PINATA_API_URL: ipfs.apiUrl,
    PINATA_GATEWAY: ipfs.gatewayUrl,
  };
  const env = { ...serviceEnv, OTHENTIC_CLIENT_RPC_ADDRESS: aggregator.url };
  server = createExecutionServer(loadExecutionSettings(env), env);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await aggregator.close();
  await ipfs.close();
  await feed.close();
});

async function execute(body: unknown) {
  const response = await fetch(`${baseUrl}/task/execute`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

test("GET /health answers ok", async () => {
  const response = await fetch(`${baseUrl}/health`);
  assert.equal(response.status, 200);
  assert.equal(((await response.json()) as any).status, "ok");
});

test("POST /task/execute sends the signed task to the aggregator and answers the proof", async () => {
  const before = aggregator.sendTasks().length;
  const { status, body } = await execute({ symbol: "ETHUSDT", taskDefinitionId: 2 });
  assert.equal(status, 200);
  assert.equal(body.error, false);
  assert.equal(body.message, null);
  const { proofOfTask, data, taskDefinitionId } = body.data;
  assert.equal(taskDefinitionId, 2);
  const params = aggregator.sendTasks()[before];
  assert.ok(params, "sendTask reached the aggregator");
  assert.deepEqual(params.slice(0, 4), [proofOfTask, data, 2, PERFORMER]);
  assert.equal(params[5], "ecdsa");
  const hash = taskHash(proofOfTask, data, PERFORMER, 2);
  assert.equal(recoverAddress(hash, params[4] as string), PERFORMER);
  assert.equal(body.data.known, undefined);
});

test("the proof is the CID of the report pinned to IPFS, and data the report itself", async () => {
  const pinsBefore = ipfs.pins.length;
  const { status, body } = await execute({ symbol: "ETHUSDT" });
  assert.equal(status, 200);
  assert.equal(ipfs.pins.length, pinsBefore + 1);
  const pinned = await fetch(`${ipfs.gatewayUrl}${body.data.proofOfTask}`);
  assert.equal(pinned.status, 200);
  assert.equal(hexlify(toUtf8Bytes(await pinned.text())), body.data.data);
});

test("a pinning failure is a 502 and nothing is sent to the aggregator", async () => {
  const before = aggregator.sendTasks().length;
  ipfs.failPinsWith = 500;
  try {
    const { status, body } = await execute({ symbol: "ETHUSDT" });
    assert.equal(status, 502);
    assert.equal(body.error, true);
    assert.deepEqual(body.data, {});
    assert.match(body.message, /pinning the report to IPFS failed/);
  } finally {
    ipfs.failPinsWith = undefined;
  }
  assert.equal(aggregator.sendTasks().length, before);
});

test("a BLS performer signature travels as {x, y} JSON and verifies", async () => {
  const before = aggregator.sendTasks().length;
  const { status, body } = await execute({ signatureType: "bls", targetChainId: 31338 });
  assert.equal(status, 200);
  const params = aggregator.sendTasks()[before];
  assert.ok(params);
  assert.equal(params[5], "bls");
  assert.equal(params[6], 31338);
  const signature = JSON.parse(params[4] as string);
  const hash = taskHash(body.data.proofOfTask, body.data.data, PERFORMER, 1);
  assert.equal(await blsVerifyTask(hash, signature, await blsPublicKey(PRIVATE_KEY)), true);
});

test("bad input is a 400 and nothing is sent", async () => {
  const before = aggregator.sendTasks().length;
  for (const body of [{ taskDefinitionId: 70000 }, { signatureType: "rsa" }, { symbol: "" }]) {
    const { status, body: answer } = await execute(body);
    assert.equal(status, 400);
    assert.equal(answer.error, true);
    assert.deepEqual(answer.data, {});
  }
  assert.equal(aggregator.sendTasks().length, before);
});

test("two executions send two distinct tasks", async () => {
  const before = aggregator.sendTasks().length;
  const first = await execute({ symbol: "ETHUSDT" });
  const second = await execute({ symbol: "ETHUSDT" });
  assert.equal(first.status, 200);
  assert.equal(second.status, 200);
  assert.notEqual(second.body.data.taskHash, first.body.data.taskHash);
  assert.equal(aggregator.sendTasks().length, before + 2);
});

test("a task the aggregator already has (TASK_KNOWN) is a success marked known", async () => {
  await withServiceAgainst({ taskKnown: "approved" }, serviceEnv, async (url, knowing) => {
    const response = await fetch(`${url}/task/execute`, {
      method: "POST",
      body: JSON.stringify({ taskDefinitionId: 1, symbol: "ETHUSDT" }),
    });
    assert.equal(response.status, 200);
    const answer = (await response.json()) as any;
    assert.equal(answer.error, false);
    assert.equal(answer.message, null);
    assert.equal(answer.data.known, true);
    assert.equal(answer.data.taskDefinitionId, 1);
    const params = knowing.sendTasks()[0];
    assert.ok(params, "sendTask reached the aggregator");
    assert.deepEqual(params.slice(0, 3), [answer.data.proofOfTask, answer.data.data, 1]);
  });
});

test("an aggregator that cuts sendTask mid-request: a 500 handing back the task it signed", async () => {
  await withServiceAgainst({ cutSendTask: true }, serviceEnv, (url, cutting) =>
    expectSignedTaskHandedBack(url, cutting, { taskDefinitionId: 1, symbol: "ETHUSDT" }),
  );
});

test("an aggregator error is a 500 that names sendTask, in the answer and in the log", async () => {
  const logged: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => logged.push(String(chunk)) > 0) as typeof write;
  try {
    await withServiceAgainst({ sendTaskError: "invalid performer" }, serviceEnv, async (url, _failing) => {
      const response = await fetch(`${url}/task/execute`, { method: "POST", body: "{}" });
      assert.equal(response.status, 500);
      const answer = (await response.json()) as any;
      assert.equal(answer.error, true);
      assert.match(answer.message, /sendTask failed: invalid performer/);
    });
  } finally {
    process.stderr.write = write;
  }
  assert.ok(
    logged.some((line) =>
      line.includes("POST /task/execute failed (500): sendTask failed: invalid performer"),
    ),
    logged.join(""),
  );
});

test("settings name the missing variable", () => {
  assert.throws(
    () => loadExecutionSettings({ PRIVATE_KEY_PERFORMER: PRIVATE_KEY }),
    /OTHENTIC_CLIENT_RPC_ADDRESS/,
  );
  assert.throws(
    () => loadExecutionSettings({ OTHENTIC_CLIENT_RPC_ADDRESS: "http://x" }),
    /PRIVATE_KEY_PERFORMER/,
  );
  assert.throws(
    () =>
      loadExecutionSettings({
        OTHENTIC_CLIENT_RPC_ADDRESS: "http://x",
        PRIVATE_KEY_PERFORMER: PRIVATE_KEY,
        PERFORMER_ADDRESS: "0x1234",
      }),
    /PERFORMER_ADDRESS/,
  );
});
