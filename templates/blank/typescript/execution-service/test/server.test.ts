import assert from "node:assert/strict";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { recoverAddress, toUtf8String } from "ethers";
import { blsPublicKey, blsVerifyTask } from "../src/bls.ts";
import { createExecutionServer } from "../src/server.ts";
import { loadExecutionSettings } from "../src/settings.ts";
import { taskHash } from "../src/signing.ts";
import { performTask } from "../src/task.ts";
import {
  expectSignedTaskHandedBack,
  type FakeAggregator,
  startFakeAggregator,
  withServiceAgainst,
} from "./fake-aggregator.ts";

// A well-known development key (anvil's account 1); never use it for anything real.
const PRIVATE_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const PERFORMER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

let aggregator: FakeAggregator;
let server: Server;
let baseUrl: string;

before(async () => {
  aggregator = await startFakeAggregator();
  const env = { OTHENTIC_CLIENT_RPC_ADDRESS: aggregator.url, PRIVATE_KEY_PERFORMER: PRIVATE_KEY };
  server = createExecutionServer(loadExecutionSettings(env), env);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await aggregator.close();
});

async function execute(body: unknown) {
  const response = await fetch(`${baseUrl}/task/execute`, { method: "POST", body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as any };
}

test("the task turns its input into the proof and carries it with its round as data", async () => {
  const proof = await performTask({ input: "abc" }, {});
  assert.equal(proof.proofOfTask, "abc");
  const data = JSON.parse(toUtf8String(proof.data));
  assert.deepEqual(Object.keys(data), ["input", "round"]);
  assert.equal(data.input, "abc");
  assert.ok(Number.isSafeInteger(data.round) && data.round > 0);
  await assert.rejects(performTask({ input: "" }, {}), { status: 400 });
});

test("two executions of the same input are two tasks, in increasing rounds", async () => {
  const first = await performTask({}, {});
  const second = await performTask({}, {});
  assert.equal(second.proofOfTask, first.proofOfTask);
  assert.notEqual(second.data, first.data);
  assert.ok(JSON.parse(toUtf8String(second.data)).round > JSON.parse(toUtf8String(first.data)).round);
});

test("POST /task/execute signs the task and sends it to the aggregator", async () => {
  const before = aggregator.sendTasks().length;
  const { status, body } = await execute({ input: "hello world" });
  assert.equal(status, 200);
  assert.deepEqual(
    {
      error: body.error,
      message: body.message,
      proofOfTask: body.data.proofOfTask,
      id: body.data.taskDefinitionId,
    },
    { error: false, message: null, proofOfTask: "hello world", id: 1 },
  );
  const params = aggregator.sendTasks()[before];
  assert.ok(params);
  assert.deepEqual(params.slice(0, 4), ["hello world", body.data.data, 1, PERFORMER]);
  assert.equal(params[5], "ecdsa");
  assert.equal(
    recoverAddress(taskHash("hello world", body.data.data, PERFORMER, 1), params[4] as string),
    PERFORMER,
  );
});

test("a BLS performer signature verifies", async () => {
  const before = aggregator.sendTasks().length;
  const { status, body } = await execute({ signatureType: "bls" });
  assert.equal(status, 200);
  const params = aggregator.sendTasks()[before];
  assert.ok(params);
  const hash = taskHash(body.data.proofOfTask, body.data.data, PERFORMER, 1);
  assert.equal(
    await blsVerifyTask(hash, JSON.parse(params[4] as string), await blsPublicKey(PRIVATE_KEY)),
    true,
  );
});

test("a task the aggregator already has (TASK_KNOWN) is a success marked known", async () => {
  await withServiceAgainst(
    { taskKnown: "pending" },
    { PRIVATE_KEY_PERFORMER: PRIVATE_KEY },
    async (url, knowing) => {
      const response = await fetch(`${url}/task/execute`, {
        method: "POST",
        body: JSON.stringify({ taskDefinitionId: 1, input: "abc" }),
      });
      assert.equal(response.status, 200);
      const answer = (await response.json()) as any;
      assert.deepEqual(
        {
          error: answer.error,
          message: answer.message,
          known: answer.data.known,
          proof: answer.data.proofOfTask,
        },
        { error: false, message: null, known: true, proof: "abc" },
      );
      assert.equal(knowing.sendTasks().length, 1);
    },
  );
});

test("an aggregator that cuts sendTask mid-request: a 500 handing back the task it signed", async () => {
  await withServiceAgainst({ cutSendTask: true }, { PRIVATE_KEY_PERFORMER: PRIVATE_KEY }, (url, cutting) =>
    expectSignedTaskHandedBack(url, cutting, { taskDefinitionId: 1, input: "abc" }),
  );
});

test("GET /health answers ok", async () => {
  assert.equal((await fetch(`${baseUrl}/health`)).status, 200);
});
