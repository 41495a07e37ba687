import assert from "node:assert/strict";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { createValidationServer } from "../src/server.ts";

let server: Server;
let baseUrl: string;

before(async () => {
  server = createValidationServer({});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function validate(body: unknown) {
  const response = await fetch(`${baseUrl}/task/validate`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

test("a non-empty proof is approved", async () => {
  const { status, body } = await validate({
    proofOfTask: "hello",
    data: "0x",
    taskDefinitionId: 1,
    performer: "0x",
  });
  assert.equal(status, 200);
  assert.deepEqual(body, { data: true, error: false, message: null });
});

test("an empty or missing proof is rejected", async () => {
  assert.equal((await validate({ proofOfTask: "" })).body.data, false);
  assert.equal((await validate({})).body.data, false);
});

test("GET /health answers ok", async () => {
  assert.equal((await fetch(`${baseUrl}/health`)).status, 200);
});
