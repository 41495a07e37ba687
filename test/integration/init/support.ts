/**
 * Shared by the init integration tests that run generated projects for real: the performer's
 * key, the environment children run in, command and service processes, and what the services
 * talk to: the real aggregator (behind a tap that records the wire) and a price feed.
 * 127.0.0.1 only.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { execa } from "execa";
import { buildNodeEntry, startAggregatorProcess, startTestNetwork } from "../../helpers/node.js";

/** anvil's account 1, a public development key: the services' performer. */
export const PRIVATE_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
/** The address of {@link PRIVATE_KEY}. */
export const PERFORMER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
/** The service folders every generated project has. */
export const SERVICES = ["execution-service", "validation-service"] as const;

/**
 * The environment for children: the Node that runs the tests (24 in CI) first on PATH, whatever
 * else is there, and Go allowed to update go.sum from go.mod as it resolves modules.
 */
export const childEnv: NodeJS.ProcessEnv = {
  ...process.env,
  PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ""}`,
  GOFLAGS: "-mod=mod",
};

/**
 * The environment a generated service runs in: {@link childEnv} plus the settings its README
 * names, on 127.0.0.1 with ephemeral ports, the performer's key, the given aggregator and price
 * feed, and any extra settings.
 */
export function serviceEnv(
  aggregatorUrl: string,
  priceSourceUrl: string,
  extra: NodeJS.ProcessEnv = {},
): NodeJS.ProcessEnv {
  return {
    ...childEnv,
    HOST: "127.0.0.1",
    EXECUTION_PORT: "0",
    VALIDATION_PORT: "0",
    OTHENTIC_CLIENT_RPC_ADDRESS: aggregatorUrl,
    PRIVATE_KEY_PERFORMER: PRIVATE_KEY,
    PRICE_SOURCE_URL: priceSourceUrl,
    ...extra,
  };
}

/** Runs a command to completion in {@link childEnv}; returns its output, throws with it on a non-zero exit. */
export async function run(command: string, args: string[], cwd: string): Promise<string> {
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

/** Listens on an ephemeral 127.0.0.1 port; resolves to the server's base URL. */
export function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

/** Closes a server, dropping kept-alive connections so the close does not wait on them. */
export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A local server a test started. */
export interface LocalServer {
  url: string;
  close(): Promise<void>;
}

/** The real aggregator behind a tap, with what reached it. */
export interface AggregatorTap extends LocalServer {
  /** The params of every sendTask call, in order. */
  sendTasks: unknown[][];
  /** The method names of every batch request, in order. */
  batches: string[][];
  /**
   * Cuts the next request that holds a sendTask: forwarded, answered by the aggregator (which
   * took the task), then its connection reset instead of the answer relayed, as when the
   * aggregator is cut mid-request.
   */
  cutNextSendTask(): void;
  /** The aggregator's own JSON-RPC URL, not tapped. */
  rpcUrl: string;
}

/**
 * The real aggregator (a node process on a test network of test/helpers/node.ts: anvils with our
 * contracts, {@link PERFORMER} a registered operator, task definition 1) behind a tap. The
 * aggregator checks and answers every request as in production; the tap only records each
 * request on its way through, because these tests check the wire itself (raw sendTask params,
 * batch shapes), which the aggregator does not keep.
 */
export async function startAggregator(): Promise<AggregatorTap> {
  const net = await startTestNetwork();
  let node: Awaited<ReturnType<typeof startAggregatorProcess>>;
  try {
    // No attesters here: a join grace that outlasts the test keeps it accepting tasks (as in
    // production right after start) instead of refusing them for want of connected power.
    node = await startAggregatorProcess(await buildNodeEntry(), net, { joinGraceMs: 24 * 3600_000 });
  } catch (error) {
    await net.stop();
    throw error;
  }
  const sendTasks: unknown[][] = [];
  const batches: string[][] = [];
  let cutNext = false;
  const server = createServer(async (req, res) => {
    let text = "";
    for await (const chunk of req) text += chunk;
    const body = JSON.parse(text);
    if (Array.isArray(body)) batches.push(body.map((r) => r.method));
    let cut = false;
    for (const r of Array.isArray(body) ? body : [body])
      if (r.method === "sendTask") {
        sendTasks.push(r.params ?? []);
        cut ||= cutNext;
      }
    if (cut) cutNext = false;
    // Forwarded byte for byte (not re-framed by a JSON-RPC client), so the aggregator sees what the service sent.
    const answer = await fetch(node.rpcUrl, {
      method: "POST",
      headers: { "content-type": req.headers["content-type"] ?? "application/json" },
      body: text,
    });
    if (cut) {
      await answer.text();
      req.socket.resetAndDestroy();
      return;
    }
    res.writeHead(answer.status, {
      "content-type": answer.headers.get("content-type") ?? "application/json",
    });
    res.end(await answer.text());
  });
  const url = await listen(server);
  return {
    url,
    sendTasks,
    batches,
    cutNextSendTask: () => {
      cutNext = true;
    },
    rpcUrl: node.rpcUrl,
    async close() {
      await closeServer(server);
      await node.aggregator.stop();
      await net.stop();
    },
  };
}

/**
 * The devnet-style price feed over the given prices by symbol: GET /price?symbol=X ->
 * {"symbol", "price", "timestamp"}, 404 for other symbols. Its url includes the /price path.
 */
export async function startFeed(prices: Record<string, string>): Promise<LocalServer> {
  const server = createServer((req, res) => {
    const symbol = new URL(req.url ?? "/", "http://x").searchParams.get("symbol") ?? "";
    const price = Object.hasOwn(prices, symbol) ? prices[symbol] : undefined;
    res.writeHead(price ? 200 : 404, { "content-type": "application/json" });
    res.end(JSON.stringify(price ? { symbol, price, timestamp: 1700000000 } : { error: "unknown" }));
  });
  const url = `${await listen(server)}/price`;
  return { url, close: () => closeServer(server) };
}

/** A started service process and the URL it announced. */
export interface Service {
  url: string;
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
}

export interface StartServiceOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Defaults to the Node that runs the tests. */
  command?: string;
  /** Defaults to a generated TypeScript service's entry, `src/main.ts`. */
  args?: string[];
}

/**
 * Starts a service in its own process group and waits (60 s at most) for its
 * "listening on http://127.0.0.1:PORT" line. Stop it with {@link stopService}.
 */
export function startService(options: StartServiceOptions): Promise<Service> {
  const { cwd, env, command = process.execPath, args = ["src/main.ts"] } = options;
  const child = spawn(command, args, { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stopService(child);
      reject(new Error(`${command} in ${cwd} did not start within 60 s:\n${output}`));
    }, 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ url: `http://127.0.0.1:${match[1]}`, child, output: () => output });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} in ${cwd} exited with ${code}:\n${output}`));
    });
  });
}

/** Kills a service's whole process group (its children too); a no-op once it has exited. */
export function stopService(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** The aggregator and a price feed, and the services started against them. */
export interface ServiceHarness {
  aggregator: AggregatorTap;
  feed: LocalServer;
  /** What each service runs with: {@link serviceEnv} over this aggregator and feed. */
  env: NodeJS.ProcessEnv;
  /** {@link startService} with {@link env}; the service is stopped by {@link stop}. */
  start(options: Omit<StartServiceOptions, "env">): Promise<Service>;
  /** Kills every service started, then closes both servers. */
  stop(): Promise<void>;
}

/**
 * Starts {@link startAggregator} and {@link startFeed} over the given prices, for services that
 * run with the extra environment settings given.
 */
export async function startServiceHarness(
  prices: Record<string, string>,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<ServiceHarness> {
  const aggregator = await startAggregator();
  const feed = await startFeed(prices).catch(async (error: unknown) => {
    await aggregator.close();
    throw error;
  });
  const env = serviceEnv(aggregator.url, feed.url, extraEnv);
  const children: ChildProcess[] = [];
  return {
    aggregator,
    feed,
    env,
    async start(options) {
      const service = await startService({ ...options, env });
      children.push(service.child);
      return service;
    },
    async stop() {
      for (const child of children) stopService(child);
      await aggregator.close();
      await feed.close();
    },
  };
}

/** POSTs a JSON body; resolves to the status and the parsed JSON answer. */
export async function postJson(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}
