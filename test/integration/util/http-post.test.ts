/**
 * httpPost's cap on the answer's size, on both of its paths: node:http for plain http, fetch
 * for https (a hosted validation service, say). The https server is a real TLS server on
 * 127.0.0.1 with the self-signed certificate of test/fixtures/tls (made for these tests only);
 * the client runs in a child node process started with NODE_EXTRA_CA_CERTS naming it, the way a
 * user behind a TLS-intercepting proxy trusts one.
 */

import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpPost } from "../../../src/util/http-post.js";

const root = path.resolve(import.meta.dirname, "../../..");
const tls = path.join(root, "test/fixtures/tls");
const BIG = 200 * 1024;

/** Answers every POST with a 200 whose body is `size` bytes of JSON string. */
function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  req.resume();
  req.on("end", () => {
    const size = Number(new URL(req.url ?? "/", "http://x").searchParams.get("size") ?? 16);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify("x".repeat(Math.max(0, size - 2))));
  });
}

let plain: http.Server;
let secure: https.Server;
let plainUrl: string;
let secureUrl: string;

beforeAll(async () => {
  plain = http.createServer(handler);
  secure = https.createServer(
    {
      key: readFileSync(path.join(tls, "localhost.key")),
      cert: readFileSync(path.join(tls, "localhost.crt")),
    },
    handler,
  );
  for (const server of [plain, secure]) await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  plainUrl = `http://127.0.0.1:${(plain.address() as AddressInfo).port}/`;
  secureUrl = `https://127.0.0.1:${(secure.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  for (const server of [plain, secure]) {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

/** httpPost run in a child process that trusts the fixture certificate; its outcome as JSON. */
async function postFromChild(url: string, opts: Record<string, unknown>): Promise<Record<string, unknown>> {
  const script = `
    const { httpPost } = await import(${JSON.stringify(path.join(root, "src/util/http-post.ts"))});
    try {
      const r = await httpPost(${JSON.stringify(url)}, "{}", ${JSON.stringify(opts)});
      console.log(JSON.stringify({ status: r.status, ok: r.ok, length: r.text.length }));
    } catch (error) {
      console.log(JSON.stringify({ error: error.message }));
    }`;
  const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], {
    env: { ...process.env, NODE_EXTRA_CA_CERTS: path.join(tls, "localhost.crt") },
    timeout: 20_000,
  });
  return JSON.parse(stdout.trim().split("\n").pop()!);
}

describe("httpPost's cap on the answer", () => {
  it("over http: reads an answer under the cap, refuses one above it", async () => {
    const small = await httpPost(`${plainUrl}?size=1000`, "{}", { timeoutMs: 5_000, maxBytes: 64 * 1024 });
    expect(small).toMatchObject({ status: 200, ok: true });
    expect(small.text).toHaveLength(1000);
    await expect(
      httpPost(`${plainUrl}?size=${BIG}`, "{}", { timeoutMs: 5_000, maxBytes: 64 * 1024 }),
    ).rejects.toThrow(/answer larger than 65536 bytes/);
    const drained = await httpPost(`${plainUrl}?size=${BIG}`, "{}", {
      timeoutMs: 5_000,
      maxBytes: 64 * 1024,
      discardBody: true,
    });
    expect(drained).toMatchObject({ status: 200, ok: true, text: "" });
  });

  it("over https: the same cap, and a body only the status of which matters is not read", async () => {
    expect(await postFromChild(`${secureUrl}?size=1000`, { timeoutMs: 10_000, maxBytes: 65_536 })).toEqual({
      status: 200,
      ok: true,
      length: 1000,
    });
    expect(await postFromChild(`${secureUrl}?size=${BIG}`, { timeoutMs: 10_000, maxBytes: 65_536 })).toEqual({
      error: "answer larger than 65536 bytes",
    });
    expect(
      await postFromChild(`${secureUrl}?size=${BIG}`, {
        timeoutMs: 10_000,
        maxBytes: 65_536,
        discardBody: true,
      }),
    ).toEqual({ status: 200, ok: true, length: 0 });
  });
});
