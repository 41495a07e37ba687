/**
 * Two attester processes with one operator key against a real aggregator: the connected one
 * keeps its place and keeps voting, the second is refused once with the reason and waits
 * (before, each hello replaced the other's stream and both reconnected about 5 times a second
 * without a word why). And the legitimate case: an attester restarted while the aggregator
 * still holds its old connection (the host vanished without closing it) is let in at once.
 */

import { type AddressInfo, connect, createServer, type Socket } from "node:net";
import { hexlify, toUtf8Bytes } from "ethers";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  type LogRecord,
  type NodeProcess,
  type NodeTestBed,
  sendTaskLikeOthentic,
  startAttesterProcess,
  startNodes,
  startNodeTestBed,
  waitPeers,
  waitTaskFinal,
} from "../../helpers/node.js";

let bed: NodeTestBed | undefined;
let aggregator: NodeProcess | undefined;
const nodes: NodeProcess[] = [];
let rpcUrl: string;
let proxy: Blackhole | undefined;

const CONFLICT =
  "another node is connected to the aggregator with this operator key; this one stays out until that one leaves";
const REFUSED =
  "refused a second attester with the operator key of a connected one (two nodes run with the same key)";
const RECONNECTED = "attester reconnected; its previous connection did not answer and was closed";

beforeAll(async () => {
  bed = await startNodeTestBed();
  const started = await startNodes(bed.entry, bed.net, bed.services);
  aggregator = started.aggregator;
  nodes.push(...started.attesters);
  rpcUrl = started.rpcUrl;
});

afterAll(async () => {
  await Promise.all([aggregator, ...nodes].map((n) => n?.stop()));
  await proxy?.close();
  await bed?.stop();
});

const idOf = (i: number): number => bed!.net.operatorIds.get(bed!.net.attesters[i]!.address.toLowerCase())!;
const count = (logs: LogRecord[], from: number, pred: (r: LogRecord) => boolean): number =>
  logs.slice(from).filter(pred).length;
const samePeer = (r: LogRecord, address: string): boolean =>
  String(r.peer).toLowerCase() === address.toLowerCase();

it("a second attester with a connected operator's key is refused once with the reason, backs off, and the operator keeps voting", async () => {
  const { entry, net, services } = bed!;
  const first = nodes[0]!;
  const address = net.attesters[0]!.address;
  await first.waitFor((r) => r.msg === "connected to the aggregator");
  const firstFrom = first.logs.length;
  const aggregatorFrom = aggregator!.logs.length;

  const second = startAttesterProcess(entry, net, 1, rpcUrl, services[0]!.url);
  nodes.push(second);
  await second.waitFor((r) => r.msg === CONFLICT || r.msg === "connected to the aggregator", 60_000);
  // A bounded window with both running.
  await new Promise((r) => setTimeout(r, 3_000));

  const connects = (logs: LogRecord[], from: number) =>
    count(logs, from, (r) => r.msg === "connected to the aggregator");
  const ended = (logs: LogRecord[], from: number) =>
    count(logs, from, (r) => r.msg === "aggregator stream ended; saying hello again");
  expect({
    firstConnects: connects(first.logs, firstFrom),
    firstEnded: ended(first.logs, firstFrom),
    secondConnects: connects(second.logs, 0),
    secondEnded: ended(second.logs, 0),
  }).toEqual({ firstConnects: 0, firstEnded: 0, secondConnects: 0, secondEnded: 0 });

  // The loser says why, once, naming the operator; the aggregator says it once per conflict.
  const said = second.logs.filter((r) => r.msg === CONFLICT);
  expect(said).toHaveLength(1);
  expect(said[0]).toMatchObject({ level: "error", operator: address });
  expect(said[0]!.error).toContain(`operator ${idOf(0)} (${address}) is already connected`);
  const refusals = aggregator!.logs.slice(aggregatorFrom).filter((r) => r.msg === REFUSED);
  expect(refusals).toHaveLength(1);
  expect(refusals[0]).toMatchObject({ level: "warn", operatorId: String(idOf(0)) });
  expect(samePeer(refusals[0]!, address)).toBe(true);

  // With attester 3 gone, approving takes attesters 1 and 2: the operator's vote still counts.
  await nodes[2]!.stop();
  await waitPeers(rpcUrl, 2);
  const hash = await sendTaskLikeOthentic(rpcUrl, net.performer.privateKey, {
    proofOfTask: `dup-key-${Date.now()}`,
    data: hexlify(toUtf8Bytes("dup")),
    taskDefinitionId: 1,
  });
  const status = await waitTaskFinal(rpcUrl, hash);
  expect(status.status).toBe("approved");
  expect(status.attestersIds).toContain(idOf(0));
  // Still one line each, however often the second asked again meanwhile.
  expect(second.logs.filter((r) => r.msg === CONFLICT)).toHaveLength(1);
  expect(aggregator!.logs.filter((r) => r.msg === REFUSED)).toHaveLength(1);
  expect(connects(first.logs, firstFrom)).toBe(0);
  await second.stop();
});

it("an attester restarted while the aggregator still holds its old connection is let in within seconds", async () => {
  const { entry, net, services } = bed!;
  const address = net.attesters[2]!.address;
  await nodes[2]!.stop();
  proxy = await blackhole(new URL(rpcUrl));
  const old = startAttesterProcess(entry, net, 3, proxy.url, services[2]!.url);
  nodes.push(old);
  await old.waitFor((r) => r.msg === "connected to the aggregator", 60_000);
  await waitPeers(rpcUrl, 3);

  // The old node's host goes away without closing anything: the aggregator's side stays open.
  proxy.freeze();
  await old.kill();
  const aggregatorFrom = aggregator!.logs.length;

  const startedAt = Date.now();
  const restarted = startAttesterProcess(entry, net, 3, rpcUrl, services[2]!.url);
  nodes.push(restarted);
  await restarted.waitFor((r) => r.msg === "connected to the aggregator", 30_000);
  expect(Date.now() - startedAt).toBeLessThan(15_000);
  expect(restarted.logs.filter((r) => r.msg === CONFLICT)).toEqual([]);
  // The aggregator says what it did with the old connection, and closed it.
  const said = aggregator!.logs.slice(aggregatorFrom).filter((r) => r.msg === RECONNECTED);
  expect(said).toHaveLength(1);
  expect(said[0]).toMatchObject({ operatorId: String(idOf(2)) });
  expect(samePeer(said[0]!, address)).toBe(true);
  expect(aggregator!.logs.slice(aggregatorFrom).filter((r) => r.msg === REFUSED)).toEqual([]);
  await proxy.closedByServer();
  await waitPeers(rpcUrl, 3);
});

interface Blackhole {
  url: string;
  /** From now on nothing passes and the aggregator's sides stay open, whatever the clients do. */
  freeze(): void;
  /** Resolves once the aggregator closed the attester stream it held through the proxy. */
  closedByServer(): Promise<void>;
  close(): Promise<void>;
}

/** A TCP proxy to `target` that can turn into a black hole, like a host that vanished. */
async function blackhole(target: URL): Promise<Blackhole> {
  let frozen = false;
  const pairs = new Set<{ client: Socket; upstream: Socket; closed: Promise<void>; first: string }>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    const closed = new Promise<void>((resolve) => upstream.on("close", () => resolve()));
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("error", () => undefined);
    upstream.on("error", () => undefined);
    client.on("close", () => {
      if (!frozen) upstream.destroy();
    });
    upstream.on("close", () => client.destroy());
    const pair = { client, upstream, closed, first: "" };
    client.once("data", (chunk: Buffer) => {
      pair.first = chunk.toString("latin1", 0, 32);
    });
    pairs.add(pair);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    freeze() {
      frozen = true;
      for (const { client, upstream } of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        // Read and drop what the aggregator sends, so its close is seen (unpipe paused it).
        upstream.on("data", () => undefined);
        upstream.resume();
      }
    },
    async closedByServer() {
      const streams = [...pairs].filter((p) => p.first.startsWith("GET /p2p/stream"));
      if (streams.length === 0) throw new Error("no attester stream went through the proxy");
      await Promise.race([
        Promise.all(streams.map((p) => p.closed)),
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error("the aggregator kept the old stream open")), 5_000),
        ),
      ]);
    },
    async close() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
