/**
 * The aggregator's cached chain reads under load: a task definition and a performer's check that
 * have just gone stale are answered at once while a single read refreshes them, and only a read
 * far too old makes requests wait (all of them on that one read). Real anvil and contracts; the
 * proxy in front only counts eth_calls.
 */
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ChainView } from "../../../src/node/chain-view.js";
import { listen } from "../../../src/node/http.js";
import { createLogger } from "../../../src/node/log.js";
import { RpcClient } from "../../../src/node/rpc-client.js";
import { startTestNetwork, type TestNetwork } from "../../helpers/node.js";

describe("ChainView cached reads", () => {
  let net: TestNetwork;
  let proxy: http.Server;
  let proxyUrl: string;
  let ethCalls = 0;

  beforeAll(async () => {
    net = await startTestNetwork();
    proxy = http.createServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        const calls = [JSON.parse(body)].flat() as { method: string }[];
        ethCalls += calls.filter((c) => c.method === "eth_call").length;
        const up = http.request(
          net.l2.rpcUrl,
          { method: "POST", headers: { "content-type": "application/json" } },
          (r) => {
            res.writeHead(r.statusCode ?? 502, { "content-type": "application/json" });
            r.pipe(res);
          },
        );
        up.on("error", () => res.destroy());
        up.end(body);
      });
    });
    proxyUrl = (await listen(proxy, "127.0.0.1", 0)).url;
  }, 120_000);

  afterAll(async () => {
    vi.useRealTimers();
    await new Promise((r) => proxy?.close(r));
    await net?.stop();
  });

  it("answers stale values while one read refreshes them, and waits only when they are far too old", async () => {
    const view = new ChainView(
      { chainId: net.l2s[0]!.chainId, rpcUrl: proxyUrl, attestationCenter: net.attestationCenter },
      new RpcClient(proxyUrl),
      createLogger(undefined),
      3_600_000,
    );
    await view.start();
    const id = net.taskDefinitionId;
    const performer = net.performer.address;
    const first = await view.definition(id);
    expect(await view.checkOperatorForDefinition(performer, id)).toBeUndefined();

    const concurrently = async () => {
      ethCalls = 0;
      const defs = await Promise.all(Array.from({ length: 20 }, () => view.definition(id)));
      const checks = await Promise.all(
        Array.from({ length: 20 }, () => view.checkOperatorForDefinition(performer, id)),
      );
      return { defs, checks };
    };
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    try {
      // fresh: no read at all
      let r = await concurrently();
      expect(ethCalls).toBe(0);
      expect(r.defs.every((d) => d === first)).toBe(true);

      // just stale: the cached answers at once, and one read each (4 eth_calls for a definition, 1 check)
      vi.setSystemTime(Date.now() + 6_000);
      r = await concurrently();
      expect(r.defs.every((d) => d === first)).toBe(true);
      expect(r.checks.every((c) => c === undefined)).toBe(true);
      let refreshed = first;
      await vi.waitUntil(
        async () => {
          refreshed = await view.definition(id);
          return refreshed !== first;
        },
        { timeout: 10_000 },
      );
      expect(ethCalls).toBe(5);
      expect(refreshed.fetchedAt).toBeGreaterThan(first.fetchedAt);

      // far too old: every caller waits, all on the same read
      vi.setSystemTime(Date.now() + 60_000);
      r = await concurrently();
      expect(ethCalls).toBe(5);
      expect(r.defs.every((d) => d === r.defs[0] && d.fetchedAt > refreshed.fetchedAt)).toBe(true);
      expect(r.defs[0]!.minimumVotingPower).toBe(first.minimumVotingPower);
    } finally {
      vi.useRealTimers();
      view.stop();
    }
  }, 60_000);
});
