/**
 * The aggregator's JSON-RPC port is served by several listening sockets (listenShared), because
 * libuv takes one new connection per event-loop turn from a listening socket. Real sockets on
 * 127.0.0.1; turns are counted, not timed.
 */
import http from "node:http";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type ListeningServer, listen, listenShared } from "../../../src/node/http.js";

const open: ListeningServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((l) => l.close()));
});

const makeServer = (): http.Server => http.createServer((_req, res) => res.end("ok"));

/** Opens `n` connections at once; resolves with how many the server took in each event-loop turn. */
async function acceptedPerTurn(servers: http.Server[], port: number, n: number): Promise<number[]> {
  let turn = 0;
  let counting = true;
  const tick = (): void => {
    turn++;
    if (counting) setImmediate(tick);
  };
  const perTurn = new Map<number, number>();
  const accepted = new Promise<void>((resolve) => {
    let count = 0;
    for (const s of servers) {
      s.on("connection", () => {
        perTurn.set(turn, (perTurn.get(turn) ?? 0) + 1);
        if (++count === n) resolve();
      });
    }
  });
  const sockets = Array.from({ length: n }, () => net.connect(port, "127.0.0.1"));
  setImmediate(tick);
  await accepted;
  counting = false;
  for (const s of sockets) s.destroy();
  return [...perTurn.values()];
}

describe("listenShared", () => {
  it("a single listening socket takes one new connection per event-loop turn", async () => {
    const server = makeServer();
    const l = await listen(server, "127.0.0.1", 0);
    open.push(l);
    const perTurn = await acceptedPerTurn([server], l.port, 40);
    expect(Math.max(...perTurn)).toBe(1);
  });

  it("several sockets on one port take several a turn, and all answer", async () => {
    const servers: http.Server[] = [];
    const l = await listenShared(
      () => {
        const s = makeServer();
        servers.push(s);
        return s;
      },
      "127.0.0.1",
      0,
      8,
    );
    open.push(l);
    expect(servers).toHaveLength(8);
    const perTurn = await acceptedPerTurn(servers, l.port, 40);
    expect(perTurn.reduce((a, b) => a + b, 0)).toBe(40);
    expect(Math.max(...perTurn)).toBeGreaterThan(1);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        fetch(l.url, { headers: { connection: "close" } }).then((r) => r.text()),
      ),
    );
    expect(answers).toEqual(Array(20).fill("ok"));
  });

  it("a port held by another server, or by another shared group, is PORT_IN_USE", async () => {
    const plain = await listen(makeServer(), "127.0.0.1", 0);
    open.push(plain);
    await expect(listenShared(makeServer, "127.0.0.1", plain.port, 4)).rejects.toMatchObject({
      code: "PORT_IN_USE",
    });
    const shared = await listenShared(makeServer, "127.0.0.1", 0, 4);
    open.push(shared);
    await expect(listenShared(makeServer, "127.0.0.1", shared.port, 4)).rejects.toMatchObject({
      code: "PORT_IN_USE",
    });
  });

  it("close() releases the port: every socket of the group is closed", async () => {
    const shared = await listenShared(makeServer, "127.0.0.1", 0, 4);
    await shared.close();
    const again = await listen(makeServer(), "127.0.0.1", shared.port);
    open.push(again);
    expect(again.port).toBe(shared.port);
  });
});
