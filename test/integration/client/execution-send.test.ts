/**
 * `task send --via execution`'s one call, against real HTTP servers on 127.0.0.1: a service that
 * takes the request and never answers is a timeout, not "unreachable"; a port nobody listens on
 * is unreachable; an unknown task definition is TASK_DEF_NOT_FOUND, refused before the call on a
 * real anvil with our contracts, and read from the refusal the service passes on; a refusal for
 * too little connected voting power is the task's `unreachable` result, as over --via rpc.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Wallet } from "ethers";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { checkTaskDefinitionExists, sendTaskViaExecution } from "../../../src/client/send.js";
import { AvsctlError } from "../../../src/errors.js";
import { runTasks } from "../../../src/task/run.js";
import { useAnvil } from "../../helpers/anvil.js";
import { createDefinition, type Network2, setupNetwork } from "../contracts/fixture.js";

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

describe("an unknown task definition through the execution service", () => {
  it("the aggregator's refusal the service passes on is TASK_DEF_NOT_FOUND (exit 2), as over --via rpc", async () => {
    // the message of the templates' services: "sendTask failed: " and the aggregator's message
    const url = await serve((_req, res) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          error: true,
          message: "sendTask failed: task definition 99 does not exist (TaskDefinitionNotFound)",
          data: {},
        }),
      );
    });
    const error = await sendTaskViaExecution(url, { taskDefinitionId: 99 }, PERFORMER, 5_000).catch((e) => e);
    expect(error).toMatchObject({ code: "TASK_DEF_NOT_FOUND", exitCode: 2 });
    expect(error.message).toContain("task definition 99 does not exist");
    expect(error.hint).toContain("avsctl task-def list");
    expect(error.details).toMatchObject({ status: 500, reason: "TASK_DEFINITION_NOT_FOUND" });
  });

  it("any other failure of the service stays EXECUTION_FAILED", async () => {
    const url = await serve((_req, res) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: true, message: "sendTask failed: invalid performer", data: {} }));
    });
    const error = await sendTaskViaExecution(url, { taskDefinitionId: 1 }, PERFORMER, 5_000).catch((e) => e);
    expect(error).toMatchObject({ code: "EXECUTION_FAILED", exitCode: 1 });
  });

  describe("a refusal for too little connected voting power", () => {
    // The aggregator's INSUFFICIENT_CONNECTED_POWER messages (src/node/aggregator/reachability.ts,
    // admitConnected), as the templates' services relay them: "sendTask failed: " and the message.
    const refusals = [
      {
        refusal:
          "the connected attesters hold 100000000000000000000 voting power, below the 266666666666666666666 needed to approve a task of definition 1",
        connectedPower: "100000000000000000000",
        requiredPower: "266666666666666666666",
      },
      {
        refusal:
          "at most 1 attester(s) may sign for definition 4 (maximumNumberOfAttesters), and the strongest connected ones hold 1000000000000000000 voting power, below the 2000000000000000000 needed to approve a task of definition 4",
        connectedPower: "1000000000000000000",
        requiredPower: "2000000000000000000",
      },
    ];

    for (const { refusal, connectedPower, requiredPower } of refusals) {
      it(`is unreachable with the aggregator's reason and figures: ${refusal.slice(0, 40)}...`, async () => {
        const url = await serve((_req, res) => {
          res.writeHead(500, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: true, message: `sendTask failed: ${refusal}`, data: {} }));
        });
        const s = await runTasks({
          count: 1,
          concurrency: 1,
          wait: true,
          timeoutMs: 5_000,
          chainId: 31338,
          sendOne: (_i, left) => sendTaskViaExecution(url, { taskDefinitionId: 4 }, PERFORMER, left),
          taskOf: () => ({ taskDefinitionId: 4, performer: PERFORMER }),
        });
        expect(s).toMatchObject({ unreachable: 1, failed: 0, timedOut: 0 });
        expect(s.results[0]).toMatchObject({
          status: "unreachable",
          taskDefinitionId: 4,
          performer: PERFORMER,
          reason: { message: refusal, abstained: [], connectedPower, requiredPower },
        });
        const error = s.errors[0] as AvsctlError;
        expect(error.code).not.toBe("EXECUTION_FAILED");
        expect(error.hint).toContain("avsctl devnet status");
      });
    }
  });

  describe("checked on-chain before the service is called", () => {
    const chain = useAnvil({ chainId: 31337 });
    let net: Network2;
    let id: number;
    beforeAll(async () => {
      net = await setupNetwork(chain(), []);
      id = await createDefinition(net);
    });
    afterAll(() => net?.provider.destroy());

    const target = () => ({
      provider: net.provider,
      attestationCenter: net.deployment.attestationCenter as `0x${string}`,
      chainId: 31337,
    });

    it("a definition that does not exist is TASK_DEF_NOT_FOUND, exit 2", async () => {
      const error = await checkTaskDefinitionExists(target(), net.performer.address, 99).catch((e) => e);
      expect(error).toBeInstanceOf(AvsctlError);
      expect(error).toMatchObject({
        code: "TASK_DEF_NOT_FOUND",
        exitCode: 2,
        details: { taskDefinitionId: 99 },
      });
      expect(error.message).toBe(
        `task definition 99 does not exist on ${net.deployment.attestationCenter} (chain 31337); nothing was sent`,
      );
      expect(error.hint).toContain("avsctl task-def list");
    });

    it("an existing definition passes", async () => {
      await expect(checkTaskDefinitionExists(target(), net.performer.address, id)).resolves.toBeUndefined();
    });

    it("another refusal (a performer that is not registered) is left to the aggregator", async () => {
      const stranger = Wallet.createRandom().address;
      await expect(checkTaskDefinitionExists(target(), stranger, id)).resolves.toBeUndefined();
    });
  });
});
