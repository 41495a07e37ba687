/**
 * The CLI's JSON-RPC client over plain HTTP (a devnet's anvil, an aggregator): as many requests
 * in flight as the command asks for, and its error codes. A real server on 127.0.0.1.
 */
import http from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { rpcRequest } from "../../../src/chain/json-rpc.js";
import { type ListeningServer, listen } from "../../../src/node/http.js";

let server: ListeningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("rpcRequest over plain HTTP", () => {
  it("keeps more than 32 requests in flight to one endpoint (task send --concurrency goes to 1000)", async () => {
    const n = 40;
    const held: http.ServerResponse[] = [];
    let most = 0;
    // answers nothing until all n requests are in: a client that holds some back never gets any answer
    server = await listen(
      http.createServer((req, res) => {
        req.resume();
        req.on("end", () => {
          held.push(res);
          most = Math.max(most, held.length);
          if (held.length === n)
            for (const r of held.splice(0)) r.end('{"jsonrpc":"2.0","id":1,"result":"0x1"}');
        });
      }),
      "127.0.0.1",
      0,
    );
    const answers = await Promise.all(
      Array.from({ length: n }, () =>
        rpcRequest<string>(server!.url, "eth_chainId", [], { timeoutMs: 10_000 }),
      ),
    );
    expect(most).toBe(n);
    expect(answers.map((a) => a.result)).toEqual(Array(n).fill("0x1"));
  });

  it("reports a deadline as TIMEOUT and a refused connection as RPC_UNREACHABLE", async () => {
    server = await listen(
      http.createServer(() => undefined),
      "127.0.0.1",
      0,
    );
    await expect(rpcRequest(server.url, "eth_chainId", [], { timeoutMs: 200 })).rejects.toMatchObject({
      code: "TIMEOUT",
    });
    const port = server.port;
    await server.close();
    server = undefined;
    await expect(
      rpcRequest(`http://127.0.0.1:${port}`, "eth_chainId", [], { timeoutMs: 2_000 }),
    ).rejects.toMatchObject({ code: "RPC_UNREACHABLE" });
  });
});
