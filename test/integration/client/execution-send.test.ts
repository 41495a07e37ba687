/**
 * `task send --via execution`'s one call, against real HTTP servers on 127.0.0.1: a service that
 * takes the request and never answers is a timeout, not "unreachable"; a port nobody listens on
 * is unreachable.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { sendTaskViaExecution } from "../../../src/client/send.js";
import { AvsctlError } from "../../../src/errors.js";

const PERFORMER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const servers: http.Server[] = [];

async function serve(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

describe("sending through the execution service", () => {
  it("a service that took the request and did not answer in time is a TIMEOUT (exit 3) that says so", async () => {
    let received = 0;
    const url = await serve(() => {
      received++;
    });
    const error = await sendTaskViaExecution(url, { taskDefinitionId: 1 }, PERFORMER, 400).catch((e) => e);
    expect(received).toBe(1);
    expect(error).toBeInstanceOf(AvsctlError);
    expect(error).toMatchObject({ code: "TIMEOUT", exitCode: 3 });
    expect(error.message).toBe(`the execution service at ${url} did not answer within 0.4 s`);
    expect(error.hint).toContain("avsctl devnet logs execution");
  });

  it("a port nobody listens on is RPC_UNREACHABLE (exit 4)", async () => {
    const url = await serve(() => undefined);
    const server = servers.pop()!;
    await new Promise((resolve) => server.close(resolve));
    const error = await sendTaskViaExecution(url, { taskDefinitionId: 1 }, PERFORMER, 5_000).catch((e) => e);
    expect(error).toMatchObject({ code: "RPC_UNREACHABLE", exitCode: 4 });
    expect(error.message).toBe(`the execution service at ${url} is unreachable`);
  });

  it("an answered task comes back with its hash", async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ data: { proofOfTask: "QmProof", data: "0x01", taskDefinitionId: 1 }, error: false }),
      );
    });
    const sent = await sendTaskViaExecution(url, { taskDefinitionId: 1 }, PERFORMER, 5_000);
    expect(sent).toMatchObject({
      proofOfTask: "QmProof",
      data: "0x01",
      taskDefinitionId: 1,
      performer: PERFORMER,
    });
    expect(sent.taskHash).toMatch(/^0x[0-9a-f]{64}$/);
  });
});
