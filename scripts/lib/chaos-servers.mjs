// The suite's own HTTP servers on 127.0.0.1: the validation service every attester calls, which
// misbehaves on request, and a fault-injecting proxy in front of the aggregator.
import { createHash } from "node:crypto";
import http from "node:http";

/** Garbage a validation service might answer with HTTP 200; none is a shape docs/protocol.md accepts. */
const GARBAGE = [
  "<html>oops</html>",
  '{"data": tr',
  '{"ok":true}',
  "[true]",
  '{"data":"true","error":false}',
  '{"data":1}',
  "",
];

/** How long the slow mode waits: past the attesters' 10 s validation timeout (docs/protocol.md). */
export const SLOW_MS = 11_000;

function listen(server) {
  const sockets = new Set();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}`,
        port,
        stop: () =>
          new Promise((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

function readBody(req) {
  return new Promise((resolve) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => resolve(body));
    req.on("error", () => resolve(body));
  });
}

/**
 * The sample AVS's validation rule (the proof is the SHA-256 of the data, as avsctl's sample
 * service judges), except for tasks whose data is JSON naming a fault: `{"chaos": "garbage" |
 * "slow" | "500"}`. Each fault would approve if the attester took it at face value: a slow
 * answer is `true`, and the task's proof is valid. `calls` counts calls per proofOfTask.
 */
export async function startValidationService() {
  const calls = new Map();
  const timers = new Set();
  let garbageIndex = 0;
  const server = http.createServer(async (req, res) => {
    const body = await readBody(req);
    if (req.method === "GET" && req.url === "/health") return void res.writeHead(200).end("ok");
    if (req.method !== "POST" || req.url !== "/task/validate") return void res.writeHead(404).end();
    let task;
    try {
      task = JSON.parse(body);
    } catch {
      return void res.writeHead(400).end();
    }
    calls.set(task.proofOfTask, (calls.get(task.proofOfTask) ?? 0) + 1);
    let fault;
    try {
      fault = JSON.parse(Buffer.from(String(task.data).slice(2), "hex").toString("utf8"))?.chaos;
    } catch {
      fault = undefined;
    }
    const valid =
      typeof task.data === "string" &&
      /^0x([0-9a-f]{2})*$/i.test(task.data) &&
      String(task.proofOfTask).toLowerCase() ===
        `0x${createHash("sha256")
          .update(Buffer.from(task.data.slice(2), "hex"))
          .digest("hex")}`;
    const answer = JSON.stringify({ data: valid, error: false, message: null });
    if (fault === "garbage") {
      res.writeHead(200, { "content-type": "application/json" });
      return void res.end(GARBAGE[garbageIndex++ % GARBAGE.length]);
    }
    if (fault === "500") {
      res.writeHead(500, { "content-type": "application/json" });
      return void res.end(JSON.stringify({ error: true, message: "chaos: cannot validate", data: {} }));
    }
    if (fault === "slow") {
      const t = setTimeout(() => {
        timers.delete(t);
        if (!res.destroyed) res.writeHead(200, { "content-type": "application/json" }).end(answer);
      }, SLOW_MS);
      timers.add(t);
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(answer);
  });
  const handle = await listen(server);
  return {
    ...handle,
    calls,
    stop: async () => {
      for (const t of timers) clearTimeout(t);
      await handle.stop();
    },
  };
}

/**
 * A JSON-RPC proxy in front of the aggregator that makes the client's first send of some tasks
 * fail after the aggregator got it: every `dropEvery`-th first send has its connection cut
 * once the aggregator answered, every `holdEvery`-th gets no answer until the client gives up
 * (its own sendTask timeout, whatever it is; the proxy cuts at `holdMs`). Retries (a task seen
 * before) pass untouched. Counts it all.
 */
export async function startFaultProxy(target, { dropEvery = 3, holdEvery = 7, holdMs = 45_000 } = {}) {
  const seen = new Map();
  const stats = { requests: 0, firstSends: 0, retries: 0, dropped: 0, held: 0, gaveUp: 0 };
  const timers = new Set();
  const server = http.createServer(async (req, res) => {
    const body = await readBody(req);
    stats.requests++;
    let key;
    try {
      const msg = JSON.parse(body);
      const call = Array.isArray(msg) ? msg.find((m) => m?.method === "sendTask") : msg;
      if (call?.method === "sendTask") key = JSON.stringify(call.params?.slice(0, 4));
    } catch {}
    let fault = null;
    if (key !== undefined) {
      const n = seen.get(key) ?? 0;
      seen.set(key, n + 1);
      if (n === 0) {
        stats.firstSends++;
        if (stats.firstSends % dropEvery === 0) fault = "drop";
        else if (stats.firstSends % holdEvery === 0) fault = "hold";
      } else stats.retries++;
    }
    let upstream;
    try {
      upstream = await fetch(target, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(30_000),
      });
    } catch {
      return void res.socket?.destroy();
    }
    const text = await upstream.text();
    if (fault === "drop") {
      stats.dropped++;
      return void res.socket?.destroy();
    }
    if (fault === "hold") {
      stats.held++;
      const t = setTimeout(() => {
        timers.delete(t);
        res.socket?.destroy();
      }, holdMs);
      timers.add(t);
      res.on("close", () => {
        if (timers.delete(t)) {
          clearTimeout(t);
          stats.gaveUp++;
        }
      });
      return;
    }
    res.writeHead(upstream.status, { "content-type": "application/json" }).end(text);
  });
  const handle = await listen(server);
  return {
    ...handle,
    stats,
    /** Distinct tasks (by their first four sendTask parameters) that went through the proxy. */
    distinct: () => seen.size,
    stop: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await handle.stop();
    },
  };
}
