/**
 * `task send --via execution`'s one call, against real HTTP servers on 127.0.0.1: a service that
 * takes the request and never answers is a timeout, not "unreachable"; a port nobody listens on
 * is unreachable; an unknown task definition is TASK_DEF_NOT_FOUND, refused before the call on a
 * real anvil with our contracts, and read from the refusal the service passes on; every other
 * refusal of the aggregator's sendTask the service passes on (built by the aggregator's own code)
 * is the error --via rpc gives for it, and a busy one is sent again after the wait it asks for;
 * a refusal for too little connected voting power is the task's `unreachable` result, as over
 * --via rpc.
 */
import { execFileSync } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { Wallet } from "ethers";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  checkTaskDefinitionExists,
  prepareTask,
  sendPrepared,
  sendTaskRpc,
  sendTaskViaExecution,
} from "../../../src/client/send.js";
import { startSampleExecution } from "../../../src/devnet/samples/sample-services.js";
import { AvsctlError } from "../../../src/errors.js";
import {
  chainUnavailable,
  insufficientConnectedPower,
  noEligibleAttesters,
  notRecorded,
  overloaded,
  payloadTooLarge,
  performerNotActive,
  unknownChain,
} from "../../../src/node/aggregator/refusals.js";
import { definitionCheckError } from "../../../src/node/chain-errors.js";
import { RpcError } from "../../../src/node/json-rpc.js";
import { DEFAULT_LIMITS } from "../../../src/node/options.js";
import { parseSendTaskParams } from "../../../src/node/send-task.js";
import { runTasks } from "../../../src/task/run.js";
import { sendTask as templateSendTask } from "../../../templates/_shared/typescript/execution-service/src/rpc.ts";
import { useAnvil } from "../../helpers/anvil.js";
import { repoRoot } from "../../helpers/cli.js";
import { createDefinition, type Network2, setupNetwork } from "../contracts/fixture.js";

const PERFORMER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
/** anvil's third account, PERFORMER */
const PERFORMER_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
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

/** The RpcError a check of sendTask's parameters throws for them. */
function paramsRefusal(params: unknown[]): RpcError {
  try {
    parseSendTaskParams(params, DEFAULT_LIMITS);
  } catch (error) {
    return error as RpcError;
  }
  throw new Error("the parameters passed");
}

const SIGNATURE = `0x${"11".repeat(64)}1b`;
const definition = {
  id: 6,
  minimumVotingPower: 5n,
  restrictedAttesterIds: [7n, 9n],
  maximumNumberOfAttesters: 0,
  totalVotingPower: 0n,
  fetchedAt: 0,
};

/**
 * Each refusal of the aggregator's sendTask a user can act on, built by the aggregator's own code
 * (src/node/aggregator/refusals.ts, chain-errors.ts, send-task.ts), so a change of its words
 * fails here, and the facts its message carries.
 */
const actionable: Array<{ name: string; error: RpcError; facts?: Record<string, unknown> }> = [
  {
    name: "definition expired",
    error: definitionCheckError({ name: "InvalidTaskDefinition", args: {} }, 6, PERFORMER),
  },
  {
    name: "restricted operator",
    error: definitionCheckError({ name: "InvalidRestrictedOperator", args: {} }, 6, PERFORMER),
  },
  {
    name: "restricted attester (older ABI)",
    error: definitionCheckError({ name: "InvalidRestrictedAttester", args: {} }, 6, PERFORMER),
  },
  {
    name: "performer's voting power below the minimum",
    error: definitionCheckError(
      {
        name: "InsufficientVotingPowerForTaskDefinition",
        args: { operator: PERFORMER, minVotingPower: "5" },
      },
      6,
      PERFORMER,
    ),
  },
  {
    name: "performer not registered (definition check)",
    error: definitionCheckError({ name: "OperatorNotRegistered", args: {} }, 6, PERFORMER),
  },
  { name: "performer not active", error: performerNotActive(PERFORMER, 31338) },
  {
    name: "aggregator busy",
    error: overloaded(70, 64, 250),
    facts: { retryAfterMs: 250, pending: 70, limit: 64 },
  },
  {
    name: "too little connected voting power",
    error: insufficientConnectedPower({ id: 6, maximumNumberOfAttesters: 0 }, 1n, 2n),
    facts: { connectedPower: "1", requiredPower: "2" },
  },
  { name: "no eligible attesters", error: noEligibleAttesters(definition) },
  { name: "unknown chain", error: unknownChain(999, [31338]) },
  {
    name: "chain unavailable (check)",
    error: chainUnavailable("check", 6, new Error("connect ECONNREFUSED")),
  },
  { name: "chain unavailable (read)", error: chainUnavailable("read", 6, new Error("timeout")) },
  {
    name: "a definition check's unnamed revert",
    error: definitionCheckError({ name: "SomethingNew", args: {} }, 6, PERFORMER),
  },
  {
    name: "data too large",
    error: paramsRefusal([
      "proof",
      `0x${"00".repeat(DEFAULT_LIMITS.maxDataBytes + 1)}`,
      6,
      PERFORMER,
      SIGNATURE,
    ]),
  },
  { name: "request body too large", error: payloadTooLarge(DEFAULT_LIMITS.maxBodyBytes) },
  { name: "journal failed", error: notRecorded(new Error("database or disk is full")) },
];

/** Refusals of what the execution service built itself: its own failure. */
const servicesOwn: Array<{ name: string; error: RpcError }> = [
  { name: "a malformed signature", error: paramsRefusal(["proof", "0x", 6, PERFORMER, "0x12"]) },
  {
    name: "a signature with a bad v",
    error: paramsRefusal(["proof", "0x", 6, PERFORMER, `0x${"11".repeat(64)}05`]),
  },
  { name: "an empty proof", error: paramsRefusal(["", "0x", 6, PERFORMER, SIGNATURE]) },
  {
    name: "a signature by another key",
    error: new RpcError(
      "INVALID_SIGNATURE",
      "the signature was not made by performerAddress over the task hash",
    ),
  },
  { name: "an unknown method", error: new RpcError("METHOD_NOT_FOUND", 'method "sendTask" does not exist') },
];

/** A real HTTP server playing the aggregator: every JSON-RPC call is answered with `error`. */
function refusingAggregator(error: RpcError): Promise<string> {
  return serve((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ jsonrpc: "2.0", id: 1, error: error.toJSON() }));
    });
  });
}

/** A real HTTP server playing a template's execution service relaying `message` (templates/_shared). */
function relayingService(message: string, received?: { n: number }): Promise<string> {
  return serve((req, res) => {
    req.resume();
    if (received) received.n++;
    res.writeHead(500, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: true, message: `sendTask failed: ${message}`, data: {} }));
  });
}

/** A send that was meant to be refused and was not. */
const unexpected = (sent: unknown): never => {
  throw new Error(`sent: ${JSON.stringify(sent)}`);
};

const rpcSend = (aggregatorUrl: string) =>
  sendTaskRpc(
    { proofOfTask: "proof", data: "0x", taskDefinitionId: 6 },
    { aggregatorUrl, performerKey: PERFORMER_KEY, sigType: "ecdsa" },
  ).then(unexpected, (e: AvsctlError) => e);

describe("every refusal of the aggregator's sendTask, passed on by the execution service", () => {
  for (const { name, error, facts } of actionable) {
    it(`${name}: the code, exit code and hint of --via rpc, by a template's service and avsctl's own`, async () => {
      const overRpc = await rpcSend(await refusingAggregator(error));
      expect(overRpc).toBeInstanceOf(AvsctlError);
      expect(overRpc.code).not.toBe("EXECUTION_FAILED");

      // a template's service: "sendTask failed: " and the aggregator's message
      const viaTemplate = await sendTaskViaExecution(
        await relayingService(error.message),
        { taskDefinitionId: 6 },
        PERFORMER,
        5_000,
      ).then(unexpected, (e: AvsctlError) => e);
      // avsctl's sample service, calling a real aggregator's JSON-RPC
      const sample = await startSampleExecution({
        aggregatorUrl: await refusingAggregator(error),
        performerKey: PERFORMER_KEY,
      });
      const viaSample = await sendTaskViaExecution(sample.url, { taskDefinitionId: 6 }, PERFORMER, 5_000)
        .then(unexpected, (e: AvsctlError) => e)
        .finally(() => sample.stop());

      for (const relayed of [viaTemplate, viaSample]) {
        expect(relayed).toBeInstanceOf(AvsctlError);
        expect({ code: relayed.code, exitCode: relayed.exitCode, hint: relayed.hint }).toEqual({
          code: overRpc.code,
          exitCode: overRpc.exitCode,
          hint: overRpc.hint,
        });
        expect(relayed.message).toBe(
          `the execution service's task was refused by the aggregator: ${
            relayed === viaTemplate ? "sendTask failed" : "sendTask refused by the aggregator"
          }: ${error.message}`,
        );
        expect(relayed.details).toMatchObject({
          status: 500,
          reason: error.reason,
          taskDefinitionId: 6,
          ...facts,
        });
      }
    });
  }

  it("no eligible attesters, an unknown chain and an unreadable L2 each get a hint of their own, by either path", async () => {
    const own: Array<[RpcError, string]> = [
      [
        noEligibleAttesters(definition),
        "the definition's restricted operators and minimum voting power leave no attester to approve its tasks: `avsctl task-def show 6` shows them, `avsctl devnet status` the attesters' operator ids",
      ],
      [
        unknownChain(999, [31338]),
        "pass a --target-chain of one of the devnet's L2s (`avsctl devnet status` lists them), or none for the first",
      ],
      [
        chainUnavailable("read", 6, new Error("timeout")),
        "the aggregator could not read its L2, and took nothing: `avsctl devnet status` shows whether the L2 is down; send the task again once it answers",
      ],
    ];
    for (const [error, hint] of own) {
      const overRpc = await rpcSend(await refusingAggregator(error));
      const relayed = await sendTaskViaExecution(
        await relayingService(error.message),
        { taskDefinitionId: 6 },
        PERFORMER,
        5_000,
      ).then(unexpected, (e: AvsctlError) => e);
      for (const e of [overRpc, relayed]) expect(e.hint, error.reason).toBe(hint);
    }
  });

  for (const { name, error } of servicesOwn) {
    it(`${name} is the service's own failure: EXECUTION_FAILED, its log`, async () => {
      const relayed = await sendTaskViaExecution(
        await relayingService(error.message),
        { taskDefinitionId: 6 },
        PERFORMER,
        5_000,
      ).then(unexpected, (e: AvsctlError) => e);
      expect(relayed).toMatchObject({ code: "EXECUTION_FAILED", exitCode: 1 });
      expect(relayed.hint).toContain("avsctl devnet logs execution");
    });
  }

  it("load mode sends a busy refusal again after the wait the aggregator asked for, and the task goes through", async () => {
    const busy = overloaded(3, 2, 300);
    const arrivals: number[] = [];
    const url = await serve((req, res) => {
      req.resume();
      arrivals.push(Date.now());
      if (arrivals.length === 1) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: true, message: `sendTask failed: ${busy.message}`, data: {} }));
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ data: { proofOfTask: "QmProof", data: "0x01", taskDefinitionId: 6 }, error: false }),
      );
    });
    const s = await runTasks({
      count: 1,
      concurrency: 1,
      wait: false,
      timeoutMs: 10_000,
      chainId: 31338,
      sendOne: (_i, left) => sendTaskViaExecution(url, { taskDefinitionId: 6 }, PERFORMER, left),
      taskOf: () => ({ taskDefinitionId: 6, performer: PERFORMER }),
    });
    expect(s).toMatchObject({ sent: 1, failed: 0, refusedBusy: 1, retried: 1 });
    expect(arrivals).toHaveLength(2);
    expect(arrivals[1]! - arrivals[0]!).toBeGreaterThanOrEqual(300);
  });

  it("an L2 the aggregator cannot read is its answer, not silence: sent once and failed at once by either path, with or without --wait", async () => {
    const error = chainUnavailable("check", 6, new Error("connect ECONNREFUSED 127.0.0.1:8545"));
    const received = { n: 0 };
    const aggregator = await serve((req, res) => {
      req.resume();
      received.n++;
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ jsonrpc: "2.0", id: 1, error: error.toJSON() }));
      });
    });
    const service = await relayingService(error.message, received);
    // as task send does: signed once, every retry the same task
    const prepared = await prepareTask(
      { proofOfTask: "proof", data: "0x", taskDefinitionId: 6 },
      { aggregatorUrl: aggregator, performerKey: PERFORMER_KEY, sigType: "ecdsa" },
    );
    const paths = {
      rpc: (_i: number, left: number) => sendPrepared(prepared, aggregator, Math.min(15_000, left)),
      execution: (_i: number, left: number) =>
        sendTaskViaExecution(service, { taskDefinitionId: 6 }, PERFORMER, left),
    };
    for (const [via, sendOne] of Object.entries(paths)) {
      for (const wait of [false, true]) {
        received.n = 0;
        const started = Date.now();
        const s = await runTasks({
          count: 1,
          concurrency: 1,
          wait,
          timeoutMs: 10_000,
          chainId: 31338,
          idempotent: via === "rpc",
          sendOne,
          taskOf: () => ({ taskDefinitionId: 6, performer: PERFORMER }),
        });
        const what = `--via ${via}${wait ? " --wait" : ""}`;
        expect(s.results[0], what).toMatchObject({ status: "failed" });
        expect(s.errors[0], what).toMatchObject({ code: "RPC_UNREACHABLE", hint: expect.any(String) });
        expect(received.n, what).toBe(1);
        expect(Date.now() - started, what).toBeLessThan(5_000);
      }
    }
  });

  it("load mode does not send again a refusal that is no busy one, nor a call of unknown fate", async () => {
    const received = { n: 0 };
    const refused = await relayingService(performerNotActive(PERFORMER, 31338).message, received);
    let hung = 0;
    const silent = await serve(() => {
      hung++;
    });
    for (const [url, timeoutMs] of [
      [refused, 5_000],
      [silent, 600],
    ] as const) {
      const s = await runTasks({
        count: 1,
        concurrency: 1,
        wait: false,
        timeoutMs,
        chainId: 31338,
        sendOne: (_i, left) => sendTaskViaExecution(url, { taskDefinitionId: 6 }, PERFORMER, left),
        taskOf: () => ({ taskDefinitionId: 6, performer: PERFORMER }),
      });
      expect(s).toMatchObject({ sent: 0, failed: 1, refusedBusy: 0, retried: 0 });
    }
    expect(received.n).toBe(1);
    expect(hung).toBe(1);
  });
});

/** A URL on 127.0.0.1 where nothing listens (any more): an aggregator that is down. */
async function closedPort(): Promise<string> {
  const url = await serve(() => undefined);
  const server = servers.pop()!;
  await new Promise((resolve) => server.close(resolve));
  return url;
}

/**
 * A real HTTP server playing the TypeScript templates' execution service: the template's own
 * sendTask (templates/_shared/typescript/execution-service/src/rpc.ts) calls the aggregator, and
 * its error is answered as the template's sendError answers it.
 */
function templateService(aggregatorUrl: string): Promise<string> {
  return serve(async (req, res) => {
    req.resume();
    let status = 200;
    let body: unknown = { data: { proofOfTask: "QmProof", data: "0x01", taskDefinitionId: 6 }, error: false };
    try {
      await templateSendTask(aggregatorUrl, ["QmProof", "0x01", 6, PERFORMER, SIGNATURE, "ecdsa"], 2_000);
    } catch (error) {
      status = 500;
      body = { data: {}, error: true, message: (error as Error).message };
    }
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  });
}

/** What the Python templates' send_task (templates/_shared/python) raises for `url`, from that very code. */
function pythonTemplateMessage(url: string): string {
  const dir = path.join(repoRoot, "templates/_shared/python/execution-service");
  const script =
    "import sys\nfrom rpc import send_task\ntry:\n    send_task(sys.argv[1], [], 2)\nexcept Exception as e:\n    print(e)";
  return execFileSync("python3", ["-c", script, url], { cwd: dir, encoding: "utf8" }).trim();
}

/**
 * A real aggregator stand-in on `url`'s port, taking every sendTask (`received` counts them): one
 * that came back. It answers batches too, and eth_chainId, as ethers (the TypeScript template's
 * client) asks.
 */
function takingAggregator(url: string, received: { n: number }): Promise<void> {
  const server = http.createServer((req, res) => {
    let text = "";
    req.on("data", (d) => void (text += d));
    req.on("end", () => {
      const body = JSON.parse(text) as { id: number; method: string } | Array<{ id: number; method: string }>;
      const answer = (call: { id: number; method: string }) => {
        if (call.method === "sendTask") received.n++;
        return { jsonrpc: "2.0", id: call.id, result: call.method === "eth_chainId" ? "0x7a6a" : true };
      };
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(Array.isArray(body) ? body.map(answer) : answer(body)));
    });
  });
  servers.push(server);
  return new Promise((resolve) => server.listen(Number(new URL(url).port), "127.0.0.1", () => resolve()));
}

describe("an aggregator the execution service could not connect to (down, or starting again)", () => {
  it("is RPC_UNREACHABLE (exit 4) with the devnet's hint, as over --via rpc, by avsctl's own service and each template's", async () => {
    const down = await closedPort();
    const port = new URL(down).port;
    const sample = await startSampleExecution({ aggregatorUrl: down, performerKey: PERFORMER_KEY });
    try {
      const services: Record<string, string> = {
        sample: sample.url,
        typescript: await templateService(down),
        python: await relayingService(pythonTemplateMessage(down).replace(/^sendTask failed: /, "")),
        // templates/_shared/go/execution-service/rpc.go around net/http's error, as Go prints it
        go: await relayingService(
          `${down} unreachable: Post "${down}": dial tcp 127.0.0.1:${port}: connect: connection refused`,
        ),
      };
      const overRpc = await rpcSend(down);
      expect(overRpc).toMatchObject({ code: "RPC_UNREACHABLE", exitCode: 4 });
      for (const [name, url] of Object.entries(services)) {
        const error = await sendTaskViaExecution(url, { taskDefinitionId: 6 }, PERFORMER, 5_000).then(
          unexpected,
          (e: AvsctlError) => e,
        );
        expect({ code: error.code, exitCode: error.exitCode, hint: error.hint }, name).toEqual({
          code: "RPC_UNREACHABLE",
          exitCode: 4,
          hint: overRpc.hint,
        });
        expect(error.message, name).toMatch(/^the execution service could not reach the aggregator: /);
        expect(error.message, name).toContain(port);
      }
    } finally {
      await sample.stop();
    }
  });

  it("with --wait the task is asked for again until the aggregator is back, without it once; a refusal is never asked for again", async () => {
    for (const kind of ["sample", "typescript"] as const) {
      const aggregator = await closedPort();
      const sample =
        kind === "sample"
          ? await startSampleExecution({ aggregatorUrl: aggregator, performerKey: PERFORMER_KEY })
          : undefined;
      const service = sample?.url ?? (await templateService(aggregator));
      const sendOne = (_i: number, left: number) =>
        sendTaskViaExecution(service, { taskDefinitionId: 6 }, PERFORMER, left);
      const run = (wait: boolean) =>
        runTasks({
          count: 1,
          concurrency: 1,
          wait,
          timeoutMs: 10_000,
          chainId: 31338,
          idempotent: false,
          sendOne,
          taskOf: () => ({ taskDefinitionId: 6, performer: PERFORMER }),
        });
      try {
        const once = await run(false);
        expect(once, kind).toMatchObject({ sent: 0, failed: 1, retried: 0 });
        expect(once.errors[0], kind).toMatchObject({ code: "RPC_UNREACHABLE" });

        // the aggregator comes back 800 ms into the run, as a supervisor starts it again
        const received = { n: 0 };
        const backAt = Date.now() + 800;
        const back = new Promise((r) => setTimeout(r, 800)).then(() =>
          takingAggregator(aggregator, received),
        );
        const waited = await run(true);
        await back;
        expect(waited, `${kind}: ${waited.results[0]?.error}`).toMatchObject({ sent: 1, failed: 0 });
        expect(waited.retried, kind).toBeGreaterThanOrEqual(1);
        expect(waited.results[0]!.taskHash, kind).toMatch(/^0x[0-9a-f]{64}$/);
        expect(received.n, kind).toBe(1);
        expect(Date.now(), kind).toBeGreaterThanOrEqual(backAt);
      } finally {
        await sample?.stop();
      }
    }
    // an aggregator that answered, refusing: sent once, with --wait too
    const received = { n: 0 };
    const refused = await relayingService(performerNotActive(PERFORMER, 31338).message, received);
    const s = await runTasks({
      count: 1,
      concurrency: 1,
      wait: true,
      timeoutMs: 5_000,
      chainId: 31338,
      sendOne: (_i, left) => sendTaskViaExecution(refused, { taskDefinitionId: 6 }, PERFORMER, left),
      taskOf: () => ({ taskDefinitionId: 6, performer: PERFORMER }),
    });
    expect(s).toMatchObject({ sent: 0, failed: 1, retried: 0 });
    expect(received.n).toBe(1);
  });
});
