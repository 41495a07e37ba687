/**
 * A node outlives its chain (issue 18): an aggregator whose L2 does not answer at start waits
 * for it instead of exiting, and one whose L2 goes away keeps running; the log says so once per
 * change of state, not once per attempt. The L2 is the test network's anvil behind a proxy of
 * the test's own that is switched off and on.
 */

import http from "node:http";
import { createServer } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type NodeProcess, type NodeTestBed, spawnNode, startNodeTestBed } from "../../helpers/node.js";
import { stablePort } from "../../helpers/ports.js";
import { until } from "../../helpers/until.js";

let bed: NodeTestBed | undefined;
let node: NodeProcess | undefined;
let proxy: http.Server | undefined;

/** Forwards JSON-RPC POSTs on 127.0.0.1:`port` to `target`. */
async function startProxy(port: number, target: string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", async () => {
      try {
        const r = await fetch(target, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        res.writeHead(r.status, { "content-type": "application/json" }).end(await r.text());
      } catch {
        res.writeHead(502).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return server;
}

/** A chain that is down: every connection on 127.0.0.1:`port` is cut at once, and counted. */
async function startDownChain(port: number): Promise<{ attempts: number; stop(): Promise<void> }> {
  const state = { attempts: 0 };
  const server = createServer((socket) => {
    state.attempts++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return Object.assign(state, {
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

async function stopProxy(server: http.Server | undefined): Promise<void> {
  if (!server) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

beforeAll(async () => {
  bed = await startNodeTestBed();
}, 120_000);

afterAll(async () => {
  await node?.stop();
  await stopProxy(proxy);
  await bed?.stop();
});

it("an aggregator waits for an L2 that is down at start and keeps running when it goes away, logging each change once", async () => {
  const { entry, net } = bed!;
  const env = net.env("aggregator");
  const chain = env.L2_RPC!;
  const port = await stablePort();
  node = spawnNode(
    entry,
    "aggregator",
    { jsonRpcPort: 0, chainRefreshMs: 200 },
    { ...env, L2_RPC: `http://127.0.0.1:${port}` },
  );
  const unreachable = (r: { msg?: string }) => r.msg === "L2 unreachable; retrying";
  const reachable = (r: { msg?: string }) => r.msg === "L2 reachable again";

  // The chain is down: whatever connects is cut off at once. The node tries several times.
  let down = await startDownChain(port);
  await node.waitFor(unreachable, 30_000);
  await until(async () => down.attempts >= 3, "three attempts on the chain that is down");
  await down.stop();
  proxy = await startProxy(port, chain);
  await node.waitFor(reachable, 30_000);
  await node.waitFor((r) => r.msg === "aggregator ready", 30_000);
  // however many attempts failed meanwhile, one line said the chain was down
  expect(node.logs.filter(unreachable)).toHaveLength(1);

  // The chain goes away while the node runs: one line, however many refreshes fail.
  await stopProxy(proxy);
  proxy = undefined;
  down = await startDownChain(port);
  await until(async () => down.attempts >= 3, "three refreshes on the chain that went away");
  await node.waitFor(() => node!.logs.filter(unreachable).length === 2, 30_000);
  await down.stop();
  proxy = await startProxy(port, chain);
  // still running: it says the chain is back
  await node.waitFor(() => node!.logs.filter(reachable).length === 2, 30_000);
  expect(node.logs.filter(unreachable)).toHaveLength(2);
  expect(node.child.exitCode).toBeNull();
}, 120_000);
