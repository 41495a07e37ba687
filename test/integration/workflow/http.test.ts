/**
 * restApi, graphqlQuery, retries and the scheduler's parallelism against a real HTTP server
 * on 127.0.0.1. Parallelism is proven by construction, not by a clock: a barrier route
 * answers only once N requests are waiting at the same time (and gives up with 504 after a
 * fallback delay, so a sequential caller fails instead of hanging).
 */

import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { comparableRecord } from "../../../src/workflow/engine.js";
import { doc, edges, run, stepsByName } from "../../unit/workflow/build.js";

let server: http.Server;
let base = "";
const flakyCalls = new Map<string, number>();
const barriers = new Map<string, Array<() => void>>();

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

beforeAll(async () => {
  server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const body = await readBody(req);
    if (url.pathname === "/price") {
      if (req.headers["x-api-key"] !== "k-1") return json(res, 401, { error: "no key" });
      return json(res, 200, { symbol: url.searchParams.get("symbol"), price: "3000.50" });
    }
    if (url.pathname === "/echo") {
      return json(res, 200, { method: req.method, contentType: req.headers["content-type"] ?? null, body });
    }
    if (url.pathname === "/broken") return json(res, 500, { error: "broken" });
    if (url.pathname === "/hang") return; // never answers; closed in afterAll
    if (url.pathname.startsWith("/flaky/")) {
      const calls = (flakyCalls.get(url.pathname) ?? 0) + 1;
      flakyCalls.set(url.pathname, calls);
      return calls <= Number(url.searchParams.get("failures"))
        ? json(res, 503, { calls })
        : json(res, 200, { calls });
    }
    if (url.pathname.startsWith("/barrier/")) {
      const n = Number(url.searchParams.get("n"));
      const waiting = barriers.get(url.pathname) ?? [];
      barriers.set(url.pathname, waiting);
      const release = () => {
        clearTimeout(timer);
        json(res, 200, { released: n, item: url.searchParams.get("item") });
      };
      const timer = setTimeout(
        () => {
          waiting.splice(waiting.indexOf(release), 1);
          json(res, 504, { error: "alone at the barrier" });
        },
        Number(url.searchParams.get("wait") ?? 3000),
      );
      waiting.push(release);
      if (waiting.length >= n) for (const release of waiting.splice(0)) release();
      return;
    }
    if (url.pathname === "/delay") {
      setTimeout(() => json(res, 200, { v: url.searchParams.get("v") }), Number(url.searchParams.get("ms")));
      return;
    }
    if (url.pathname === "/graphql") {
      const { query, variables } = JSON.parse(body) as { query: string; variables: Record<string, unknown> };
      if (query.includes("boom")) return json(res, 200, { errors: [{ message: "boom happened" }] });
      return json(res, 200, { data: { price: { symbol: variables.symbol, usd: 3000 } } });
    }
    json(res, 404, { error: "not found" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const rest = (id: string, config: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  id,
  name: id,
  type: "restApi",
  config,
  ...extra,
});

describe("restApi", () => {
  it("renders url and headers from variables and secrets; the output is the parsed body", async () => {
    const record = await run(
      doc(
        [
          rest("price", {
            url: "{{ settings.base }}/price?symbol={{ trig.data.symbol }}",
            headers: { "x-api-key": "{{ apContext.configVars.key }}" },
          }),
        ],
        edges("trigger->price"),
        { inputVariables: { settings: { base } } },
      ),
      { configVars: { key: "k-1" }, triggerData: { symbol: "ETH" } },
    );
    expect(record.status).toBe("success");
    const step = stepsByName(record).price!;
    expect(step.output).toEqual({ symbol: "ETH", price: "3000.50" });
    expect(step.log).toMatch(/GET .*\/price\?symbol=ETH -> HTTP 200/);
  });

  it("sends a JSON body built from templates, or a text body as written", async () => {
    const record = await run(
      doc(
        [
          rest("obj", {
            url: `${base}/echo`,
            method: "POST",
            body: { n: "{{ trig.data.n }}", tag: "x-{{ trig.data.n }}" },
          }),
          rest("text", {
            url: `${base}/echo`,
            method: "put",
            body: "n={{ trig.data.n }}",
            headers: { "content-type": "text/plain" },
          }),
        ],
        edges("trigger->obj", "trigger->text"),
      ),
    );
    const steps = stepsByName(record);
    expect(steps.obj!.output).toEqual({
      method: "POST",
      contentType: "application/json",
      body: JSON.stringify({ n: 7, tag: "x-7" }),
    });
    expect(steps.text!.output).toEqual({ method: "PUT", contentType: "text/plain", body: "n=7" });
  });

  it("a non-2xx answer fails the step with the status", async () => {
    const record = await run(doc([rest("r", { url: `${base}/broken` })], edges("trigger->r")));
    expect(record.status).toBe("failed");
    expect(stepsByName(record).r!.error).toMatch(/answered HTTP 500/);
  });

  it("a server that never answers fails at the node's timeout", async () => {
    const record = await run(doc([rest("r", { url: `${base}/hang`, timeoutMs: 200 })], edges("trigger->r")));
    expect(stepsByName(record).r!.error).toMatch(/no answer within 200 ms/);
  });

  it("retries until an attempt succeeds, and fails when attempts run out", async () => {
    const ok = await run(
      doc(
        [rest("r", { url: `${base}/flaky/a?failures=2` }, { retry: { attempts: 3, backoffMs: 10 } })],
        edges("trigger->r"),
      ),
    );
    const step = stepsByName(ok).r!;
    expect(step.success).toBe(true);
    expect(step.output).toEqual({ calls: 3 });
    expect(step.log.match(/attempt \d of 3 failed/g)).toHaveLength(2);
    const out = await run(
      doc(
        [rest("r", { url: `${base}/flaky/b?failures=2` }, { retry: { attempts: 2, backoffMs: 10 } })],
        edges("trigger->r"),
      ),
    );
    expect(stepsByName(out).r!.error).toMatch(/HTTP 503/);
    expect(flakyCalls.get("/flaky/b")).toBe(2);
  });
});

describe("graphqlQuery", () => {
  it("posts query and variables; the output is data, errors fail the step", async () => {
    const node = (query: string) => ({
      id: "q",
      name: "q",
      type: "graphqlQuery",
      config: { url: `${base}/graphql`, query, variables: { symbol: "{{ trig.data.symbol }}" } },
    });
    const ok = await run(
      doc([node("query P($symbol: String!) { price(symbol: $symbol) { usd } }")], edges("trigger->q")),
      {
        triggerData: { symbol: "BTC" },
      },
    );
    expect(stepsByName(ok).q!.output).toEqual({ price: { symbol: "BTC", usd: 3000 } });
    const bad = await run(doc([node("{ boom }")], edges("trigger->q")));
    expect(stepsByName(bad).q!.error).toMatch(/boom happened/);
  });
});

describe("scheduler against real requests", () => {
  it("independent nodes are in flight together; concurrency 1 runs them one at a time", async () => {
    const twoAtBarrier = (group: string, wait: number) =>
      doc(
        [
          rest("left", { url: `${base}/barrier/${group}?n=2&wait=${wait}` }),
          rest("right", { url: `${base}/barrier/${group}?n=2&wait=${wait}` }),
        ],
        edges("trigger->left", "trigger->right"),
      );
    const parallel = await run(twoAtBarrier("p", 5000));
    expect(parallel.status).toBe("success");
    const serial = await run(twoAtBarrier("s", 500), { limits: { concurrency: 1 } });
    expect(serial.status).toBe("failed");
    expect(stepsByName(serial).left!.error).toMatch(/HTTP 504/);
  });

  it("a parallel loop has its iterations in flight together and keeps input order", async () => {
    const record = await run(
      doc(
        [
          {
            id: "l",
            name: "l",
            type: "loop",
            config: {
              inputVariable: "['a', 'b', 'c']",
              iterVar: "item",
              executionMode: "parallel",
              runner: {
                type: "restApi",
                config: { url: `${base}/barrier/loop?n=3&wait=5000&item={{ item }}` },
              },
            },
          },
        ],
        edges("trigger->l"),
      ),
    );
    expect(record.status).toBe("success");
    expect((stepsByName(record).l!.output as Array<{ item: string }>).map((o) => o.item)).toEqual([
      "a",
      "b",
      "c",
    ]);
  });

  it("the record lists steps by graph order, not by who finished first, run after run", async () => {
    const raw = doc(
      [
        rest("slow", { url: `${base}/delay?ms=300&v=slow` }),
        rest("fast", { url: `${base}/delay?ms=0&v=fast` }),
      ],
      edges("trigger->slow", "trigger->fast"),
    );
    const one = await run(raw);
    const two = await run(raw);
    expect(one.steps.map((s) => s.name)).toEqual(["trig", "slow", "fast"]);
    expect(comparableRecord(one)).toEqual(comparableRecord(two));
  });
});
