/**
 * The workflow template for real: scaffold it, install its dependencies from npm, run its own
 * tests and typecheck (which run avsctl's engine as copied into the services), then run both
 * services as processes and check that the validation service approves what the execution
 * service proves and rejects a tampered proof. Network: 127.0.0.1 only (a price feed and a
 * fake aggregator run inside this test).
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { hexlify, toUtf8Bytes } from "ethers";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ScaffoldResult, scaffoldProject } from "../../../src/init/scaffold.js";

const PRIVATE_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"; // anvil account 1
const PERFORMER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const SERVICES = ["execution-service", "validation-service"] as const;

// Children use the Node that runs the tests (24 in CI), whatever else is on PATH.
const childEnv: NodeJS.ProcessEnv = {
  ...process.env,
  PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ""}`,
};

let tmp: string;
let project: ScaffoldResult;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "avsctl-init-wf-it-"));
  project = await scaffoldProject({
    dir: path.join(tmp, "wf-avs"),
    template: "workflow",
    language: "ts",
    install: true,
    installOptions: { env: childEnv },
  });
}, 600_000);

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function run(command: string, args: string[], cwd: string): Promise<string> {
  const result = await execa(command, args, {
    cwd,
    env: childEnv,
    all: true,
    reject: false,
    stdin: "ignore",
  });
  if (result.exitCode !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} in ${cwd} exited ${result.exitCode}:\n${result.all?.slice(-4000)}`,
    );
  }
  return result.all ?? "";
}

it("the generated workflow project passes its own tests and typecheck", { timeout: 300_000 }, async () => {
  expect(project.installed).toBe(true);
  for (const service of SERVICES) {
    const cwd = path.join(project.path, service);
    expect(await run("npm", ["test"], cwd)).toMatch(/ℹ fail 0/);
    await run("npm", ["run", "typecheck"], cwd);
  }
});

// ---- the two services as processes ----

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function startService(cwd: string, env: NodeJS.ProcessEnv): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ["src/main.ts"], {
    cwd,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stopService(child);
      reject(new Error(`the service in ${cwd} did not start within 60 s:\n${output}`));
    }, 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ url: `http://127.0.0.1:${match[1]}`, child });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the service in ${cwd} exited with ${code}:\n${output}`));
    });
  });
}

function stopService(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // already gone
  }
}

async function postJson(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

describe("the workflow services as processes", () => {
  const servers: Server[] = [];
  const children: ChildProcess[] = [];
  const sendTasks: unknown[][] = [];
  let execution = "";
  let validation = "";

  beforeAll(async () => {
    const aggregator = createServer(async (req, res) => {
      let text = "";
      for await (const chunk of req) text += chunk;
      const answer = (r: { id?: unknown; method?: string; params?: unknown[] }) => {
        if (r.method === "eth_chainId") return { jsonrpc: "2.0", id: r.id, result: "0x7a6a" };
        if (r.method === "sendTask") sendTasks.push(r.params ?? []);
        return { jsonrpc: "2.0", id: r.id, result: true };
      };
      const body = JSON.parse(text);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(Array.isArray(body) ? body.map(answer) : answer(body)));
    });
    const feed = createServer((req, res) => {
      const symbol = new URL(req.url ?? "/", "http://x").searchParams.get("symbol") ?? "";
      const price = { ETHUSDT: "3000.00", DOGEUSDT: "0.15" }[symbol];
      res.writeHead(price ? 200 : 404, { "content-type": "application/json" });
      res.end(JSON.stringify(price ? { symbol, price, timestamp: 1700000000 } : { error: "unknown" }));
    });
    servers.push(aggregator, feed);
    const env = {
      ...childEnv,
      HOST: "127.0.0.1",
      EXECUTION_PORT: "0",
      VALIDATION_PORT: "0",
      OTHENTIC_CLIENT_RPC_ADDRESS: await listen(aggregator),
      PRIVATE_KEY_PERFORMER: PRIVATE_KEY,
      PRICE_SOURCE_URL: `${await listen(feed)}/price`,
    };
    for (const service of SERVICES) {
      const started = await startService(path.join(project.path, service), env);
      children.push(started.child);
      if (service === "execution-service") execution = started.url;
      else validation = started.url;
    }
  }, 120_000);

  afterAll(async () => {
    for (const child of children) stopService(child);
    for (const server of servers) await closeServer(server);
  });

  const validate = async (proofOfTask: string, data: string) => {
    const answer = await postJson(`${validation}/task/validate`, {
      proofOfTask,
      data,
      taskDefinitionId: 1,
      performer: PERFORMER,
    });
    expect(answer.status).toBe(200);
    return answer.body.data;
  };

  it("the validation service re-runs what the execution service proved and approves it", async () => {
    for (const inputs of [undefined, { symbol: "DOGEUSDT" }]) {
      const before = sendTasks.length;
      const { status, body } = await postJson(`${execution}/task/execute`, inputs ? { inputs } : {});
      expect(status, JSON.stringify(body)).toBe(200);
      const { proofOfTask, data } = body.data;
      expect(proofOfTask).toMatch(/^0x[0-9a-f]{64}$/);
      expect(sendTasks.length).toBe(before + 1);
      expect((sendTasks[before] as unknown[]).slice(0, 4)).toEqual([proofOfTask, data, 1, PERFORMER]);
      expect(await validate(proofOfTask, data)).toBe(true);
    }
  });

  it("a tampered proof, or the proof over other inputs, is rejected", async () => {
    const { body } = await postJson(`${execution}/task/execute`, {});
    const { proofOfTask, data } = body.data;
    const tampered = `${proofOfTask.slice(0, -1)}${proofOfTask.endsWith("0") ? "1" : "0"}`;
    expect(await validate(tampered, data)).toBe(false);
    const other = hexlify(
      toUtf8Bytes('{"inputVariables":{"symbol":"DOGEUSDT","threshold":2500},"triggerData":{}}'),
    );
    expect(await validate(proofOfTask, other)).toBe(false);
  });
});
