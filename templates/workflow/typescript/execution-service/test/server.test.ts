import assert from "node:assert/strict";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { recoverAddress } from "ethers";
import { createExecutionServer } from "../src/server.ts";
import { loadExecutionSettings } from "../src/settings.ts";
import { taskHash } from "../src/signing.ts";
import {
  expectSignedTaskHandedBack,
  type FakeAggregator,
  startFakeAggregator,
  withServiceAgainst,
} from "./fake-aggregator.ts";
import { type PriceFeed, startPriceFeed } from "./price-feed.ts";

// A well-known development key (anvil's account 1); never use it for anything real.
const PRIVATE_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const PERFORMER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

let feed: PriceFeed;
let aggregator: FakeAggregator;
let server: Server;
let baseUrl: string;

before(async () => {
  feed = await startPriceFeed({ ETHUSDT: "3000.00" });
  aggregator = await startFakeAggregator();
  const env = {
    OTHENTIC_CLIENT_RPC_ADDRESS: aggregator.url,
    PRIVATE_KEY_PERFORMER: PRIVATE_KEY,
    PRICE_SOURCE_URL: feed.url,
  };
  server = createExecutionServer(loadExecutionSettings(env), env);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await aggregator.close();
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

test("POST /task/execute runs the workflow and sends the signed proof to the aggregator", async () => {
  const before = aggregator.sendTasks().length;
  const { status, body } = await execute({ taskDefinitionId: 2 });
  assert.equal(status, 200);
  assert.equal(body.error, false);
  const { proofOfTask, data } = body.data;
  assert.match(proofOfTask, /^0x[0-9a-f]{64}$/);
  const params = aggregator.sendTasks()[before];
  assert.ok(params, "sendTask reached the aggregator");
  assert.deepEqual(params.slice(0, 4), [proofOfTask, data, 2, PERFORMER]);
  assert.equal(recoverAddress(taskHash(proofOfTask, data, PERFORMER, 2), params[4] as string), PERFORMER);
  assert.equal(body.data.known, undefined);
});

test("two executions send two distinct tasks", async () => {
  const before = aggregator.sendTasks().length;
  const first = await execute({});
  const second = await execute({});
  assert.equal(first.status, 200);
  assert.equal(second.status, 200);
  assert.notEqual(second.body.data.taskHash, first.body.data.taskHash);
  assert.equal(aggregator.sendTasks().length, before + 2);
});

test("a task the aggregator already has (TASK_KNOWN) is a success marked known", async () => {
  await withServiceAgainst(
    { taskKnown: "approved" },
    {
      PRIVATE_KEY_PERFORMER: PRIVATE_KEY,
      PRICE_SOURCE_URL: feed.url,
    },
    async (url, knowing) => {
      const response = await fetch(`${url}/task/execute`, {
        method: "POST",
        body: JSON.stringify({ taskDefinitionId: 1, symbol: "ETHUSDT" }),
      });
      assert.equal(response.status, 200);
      const answer = (await response.json()) as any;
      assert.deepEqual(
        {
          error: answer.error,
          message: answer.message,
          known: answer.data.known,
          id: answer.data.taskDefinitionId,
        },
        { error: false, message: null, known: true, id: 1 },
      );
      assert.deepEqual(knowing.sendTasks()[0]?.slice(0, 3), [answer.data.proofOfTask, answer.data.data, 1]);
    },
  );
});

test("an aggregator that cuts sendTask mid-request: a 500 handing back the task it signed", async () => {
  await withServiceAgainst(
    { cutSendTask: true },
    { PRIVATE_KEY_PERFORMER: PRIVATE_KEY, PRICE_SOURCE_URL: feed.url },
    (url, cutting) => expectSignedTaskHandedBack(url, cutting, { taskDefinitionId: 1, symbol: "ETHUSDT" }),
  );
});

test("a failing run is a 500 and nothing is sent", async () => {
  const before = aggregator.sendTasks().length;
  const { status, body } = await execute({ symbol: "UNKNOWN" });
  assert.equal(status, 500);
  assert.equal(body.error, true);
  assert.match(body.message, /fetchPrice/);
  assert.equal(aggregator.sendTasks().length, before);
});

test("GET /health answers ok", async () => {
  const response = await fetch(`${baseUrl}/health`);
  assert.equal(response.status, 200);
  assert.equal(((await response.json()) as any).service, "execution");
});
