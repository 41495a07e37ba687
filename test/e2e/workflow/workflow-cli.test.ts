/**
 * `avsctl workflow validate | simulate | run` as a user runs them: the built CLI on the
 * example workflows and on files written here, JSON shapes and exit codes of docs/cli.md. The
 * price example talks to the devnet's real price feed service, started here on a free port.
 */

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SampleService, startPriceFeed } from "../../../src/devnet/samples/sample-services.js";
import { ANVIL_DEV_ADDRESSES, ANVIL_DEV_PRIVATE_KEYS, rpc, useAnvil } from "../../helpers/anvil.js";
import { repoRoot, runCli } from "../../helpers/cli.js";

const examples = path.join(repoRoot, "examples", "workflows");
const priceCheck = path.join(examples, "price-check.json");
const portfolio = path.join(examples, "portfolio-loop.yaml");

let dir = "";
let feed: SampleService;

beforeAll(async () => {
  // an empty project directory: no config, no devnet state of the developer's leaks in
  dir = mkdtempSync(path.join(tmpdir(), "avsctl-workflow-e2e-"));
  feed = await startPriceFeed({ price: "3000.00" });
});

afterAll(async () => {
  await feed?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function write(name: string, content: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  return file;
}

const cli = (args: string[]) => runCli([...args, "--json"], { cwd: dir });

/** A manual trigger and one node after it. */
const oneNode = (node: { id: string; name: string; type: string; config: unknown }, extra = {}) => ({
  trigger: { id: "t", name: "start", type: "manual", config: {} },
  ...extra,
  nodes: [node],
  edges: [{ id: "e1", source: "t", target: node.id }],
});

describe("avsctl workflow validate", () => {
  it("the examples are valid (exit 0)", async () => {
    for (const file of [priceCheck, portfolio]) {
      const r = await cli(["workflow", "validate", file]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json()).toEqual({ valid: true, errors: [] });
    }
  });

  it("an invalid graph exits 2 with every problem, each {code, message, path}", async () => {
    const file = write("bad.json", {
      trigger: { id: "t", name: "start", type: "manual", config: {} },
      nodes: [
        { id: "a", name: "a", type: "customCode", config: { source: "return 1" } },
        { id: "b", name: "b", type: "customCode", config: { source: "return 2" } },
        { id: "c", name: "not valid", type: "customCode", config: { source: "return 3" } },
      ],
      edges: [
        { id: "e1", source: "t", target: "a" },
        { id: "e2", source: "a", target: "b" },
        { id: "e3", source: "b", target: "a" },
        { id: "e4", source: "a", target: "ghost" },
      ],
    });
    const r = await cli(["workflow", "validate", file]);
    expect(r.code).toBe(2);
    const body = r.json();
    expect(body.valid).toBe(false);
    expect(body.errors.map((e: { code: string }) => e.code).sort()).toEqual([
      "WF_DANGLING_EDGE",
      "WF_INVALID_NAME",
    ]);
    for (const e of body.errors) expect(Object.keys(e).sort()).toEqual(["code", "message", "path"]);
    // once the edges resolve, the cycle and the unreachable node are found too
    const graph = write("graph.json", {
      trigger: { id: "t", name: "start", type: "manual", config: {} },
      nodes: [
        { id: "a", name: "a", type: "customCode", config: { source: "return 1" } },
        { id: "b", name: "b", type: "customCode", config: { source: "return 2" } },
        { id: "c", name: "c", type: "customCode", config: { source: "return 3" } },
      ],
      edges: [
        { id: "e1", source: "t", target: "a" },
        { id: "e2", source: "a", target: "b" },
        { id: "e3", source: "b", target: "a" },
      ],
    });
    const g = await cli(["workflow", "validate", graph]);
    expect(g.code).toBe(2);
    expect(
      g
        .json()
        .errors.map((e: { code: string }) => e.code)
        .sort(),
    ).toEqual(["WF_CYCLE", "WF_UNREACHABLE"]);
  });

  it("a file that is not YAML or JSON exits 2 with WF_PARSE_ERROR; a missing file with INVALID_ARGUMENT", async () => {
    const r = await cli(["workflow", "validate", write("broken.yaml", "name: [unclosed\n")]);
    expect(r.code).toBe(2);
    expect(r.json().errors[0].code).toBe("WF_PARSE_ERROR");
    const missing = await cli(["workflow", "validate", "nowhere.json"]);
    expect(missing.code).toBe(2);
    expect(missing.json().error.code).toBe("INVALID_ARGUMENT");
  });

  it("a relative <file> starts at --cwd, and a missing one is named by the path read", async () => {
    const project = path.join(dir, "wfp");
    mkdirSync(project, { recursive: true });
    write(
      "wfp/here.json",
      oneNode({ id: "a", name: "a", type: "customCode", config: { source: "return 1" } }),
    );
    const found = await runCli(["--cwd", "wfp", "workflow", "validate", "here.json", "--json"], { cwd: dir });
    expect(found.code, found.stderr).toBe(0);
    const missing = await runCli(["--cwd", "wfp", "workflow", "validate", "nowhere.json", "--json"], {
      cwd: dir,
    });
    expect(missing.code).toBe(2);
    expect(missing.json().error.message).toBe(`<file>: cannot read ${path.join(project, "nowhere.json")}`);
  });

  it("without --json, problems are listed for humans on stdout", async () => {
    const r = await runCli(["workflow", "validate", write("h.json", { nodes: [] })], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain("WF_INVALID_SHAPE");
  });
});

describe("avsctl workflow simulate", () => {
  it("the loop example runs: {status, error, steps}, exit 0", async () => {
    const r = await cli(["workflow", "simulate", portfolio]);
    expect(r.code, r.stderr).toBe(0);
    const body = r.json();
    expect(Object.keys(body).sort()).toEqual(["error", "status", "steps"]);
    expect(body.status).toBe("success");
    expect(body.error).toBeNull();
    expect(body.steps.map((s: { name: string }) => s.name)).toEqual([
      "manualTrigger",
      "positions",
      "large",
      "describe",
      "summary",
    ]);
    for (const s of body.steps) {
      for (const key of ["id", "name", "type", "success", "output", "error", "startAt", "endAt"])
        expect(s).toHaveProperty(key);
    }
    expect(body.steps[4].output).toEqual({
      lines: ["1. ETH: 6000.00 USD", "2. BTC: 6000.00 USD"],
      total: 12000,
    });
    const more = await cli(["workflow", "simulate", portfolio, "--input", "portfolio.minValue=50"]);
    expect(more.json().steps[4].output.total).toBe(12100);
  });

  it("the price example takes the branch the price decides, and the join after it runs", async () => {
    const url = `settings.priceUrl=${feed.url}/price`;
    const high = await cli(["workflow", "simulate", priceCheck, "--input", url]);
    expect(high.code, high.stderr).toBe(0);
    const names = (r: typeof high) => r.json().steps.map((s: { name: string }) => s.name);
    expect(names(high)).toEqual(["manualTrigger", "fetchPrice", "checkPrice", "alertHigh", "report"]);
    expect(high.json().steps[4].output).toEqual({ symbol: "ETHUSDT", price: "3000.00", level: "high" });

    const inputs = write("inputs.json", { settings: { priceUrl: `${feed.url}/price`, threshold: 5000 } });
    const low = await cli(["workflow", "simulate", priceCheck, "--inputs", inputs]);
    expect(low.code, low.stderr).toBe(0);
    expect(names(low)).toEqual(["manualTrigger", "fetchPrice", "checkPrice", "alertLow", "report"]);
    expect(low.json().steps[4].output.level).toBe("low");
  });

  it("a secret the workflow reads and nobody set is named up front, with how to give it", async () => {
    const file = write(
      "secret-url.json",
      oneNode({
        id: "a",
        name: "fetchPrice",
        type: "restApi",
        config: { url: "{{ apContext.configVars.FEED_URL }}?symbol=ETHUSDT", method: "GET" },
      }),
    );
    const hint = "give it with --secret FEED_URL=<value> or AVSCTL_SECRET_FEED_URL";
    const missing = await cli(["workflow", "simulate", file]);
    expect(missing.code).toBe(1);
    expect(missing.json().warnings).toEqual([
      `apContext.configVars.FEED_URL is not set and reads as empty: ${hint}`,
    ]);
    const human = await runCli(["workflow", "simulate", file], { cwd: dir });
    expect(human.stdout).toContain(`warning: apContext.configVars.FEED_URL is not set`);
    // the hint works as it says
    const given = await cli(["workflow", "simulate", file, "--secret", `FEED_URL=${feed.url}/price`]);
    expect(given.code, given.stderr).toBe(0);
    expect(given.json().warnings).toBeUndefined();
    const fromEnv = await runCli(["workflow", "simulate", file, "--json"], {
      cwd: dir,
      env: { AVSCTL_SECRET_FEED_URL: `${feed.url}/price` },
    });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
  });

  it("a failing step exits 1 with status failed", async () => {
    const file = write(
      "fails.json",
      oneNode({ id: "a", name: "a", type: "customCode", config: { source: "while (true) {}" } }),
    );
    const r = await cli(["workflow", "simulate", file, "--code-timeout", "200"]);
    expect(r.code).toBe(1);
    const body = r.json();
    expect(body.status).toBe("failed");
    expect(body.error).toMatch(/^a: custom code exceeded its time limit of 200 ms/);
  });

  it("an invalid workflow does not run: status error, exit 2 (invalid input), the problems listed", async () => {
    const file = write("invalid.json", {
      trigger: { id: "t", name: "start", type: "manual" },
      nodes: [{ id: "a", name: "a", type: "magic", config: {} }],
    });
    const r = await cli(["workflow", "simulate", file]);
    expect(r.code).toBe(2);
    const body = r.json();
    expect(body).toMatchObject({ status: "error", steps: [] });
    expect(body.errors[0].code).toBe("WF_UNKNOWN_NODE_TYPE");
  });

  it("is not offline: a restApi POST is sent, as its help and docs/cli.md say", async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.setHeader("content-type", "application/json");
      res.end('{"ok":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const file = write(
        "posts.json",
        oneNode({ id: "p", name: "p", type: "restApi", config: { url, method: "POST", body: "{}" } }),
      );
      const r = await cli(["workflow", "simulate", file]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(seen).toEqual(["POST /hook"]);
    } finally {
      server.close();
    }
    const help = await runCli(["workflow", "simulate", "--help"], { cwd: dir });
    const text = help.stdout.replace(/\s+/g, " ");
    expect(text).not.toContain("offline");
    expect(text).toContain("its HTTP requests and chain reads are real, chain writes only estimated");
    const docs = readFileSync(path.join(repoRoot, "docs", "cli.md"), "utf8");
    expect(docs).toMatch(
      /`simulate <file>`.*its HTTP requests \(`restApi`, any method\) and chain reads are real/,
    );
  });

  it("bad flags exit 2", async () => {
    expect((await cli(["workflow", "simulate", portfolio, "--input", "no-equals"])).code).toBe(2);
    expect((await cli(["workflow", "simulate", portfolio, "--concurrency", "0"])).code).toBe(2);
  });
});

describe("avsctl workflow simulate|run never print a secret's value", () => {
  const SECRET = "echo-Secret-51c3e";
  const seen: string[] = [];
  let server: Server;
  let base = "";

  beforeAll(async () => {
    // answers with what it was asked: the secret comes back in the restApi node's output
    server = createServer((req, res) => {
      seen.push(`${req.url} ${req.headers["x-api-key"]}`);
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ path: req.url, key: req.headers["x-api-key"] ?? null }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("masks it in step outputs, the trigger's data, errors and logs: --json and for humans, --secret and the environment", async () => {
    const file = write("echoes-secret.json", {
      trigger: { id: "t", name: "start", type: "manual", config: {} },
      nodes: [
        {
          id: "fetch",
          name: "fetch",
          type: "restApi",
          config: {
            url: `${base}/echo?key={{ apContext.configVars.API_KEY }}`,
            method: "GET",
            headers: { "x-api-key": "{{ apContext.configVars.API_KEY }}" },
          },
        },
        {
          id: "say",
          name: "say",
          type: "customCode",
          config: { source: "return 'token=' + apContext.configVars.API_KEY + ' from ' + fetch.data.key" },
        },
        {
          id: "boom",
          name: "boom",
          type: "customCode",
          config: { source: "throw new Error('refused ' + fetch.data.path)" },
        },
      ],
      edges: [
        { id: "e1", source: "t", target: "fetch" },
        { id: "e2", source: "fetch", target: "say" },
        { id: "e3", source: "fetch", target: "boom" },
      ],
    });
    const triggerData = ["--trigger-data", JSON.stringify({ echo: SECRET })];
    const flag = ["--secret", `API_KEY=${SECRET}`];
    const env = { AVSCTL_SECRET_API_KEY: SECRET };
    const runs = [
      await runCli(["workflow", "simulate", file, ...flag, ...triggerData, "--json"], { cwd: dir }),
      await runCli(["workflow", "simulate", file, ...flag, ...triggerData], { cwd: dir }),
      await runCli(["workflow", "run", file, ...triggerData, "--json"], { cwd: dir, env }),
      await runCli(["workflow", "run", file, ...triggerData], { cwd: dir, env }),
    ];
    // the secret was used: the server saw it in the query and the header, once per run
    expect(seen).toEqual(Array(4).fill(`/echo?key=${SECRET} ${SECRET}`));
    for (const r of runs) {
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout + r.stderr).not.toContain(SECRET);
    }
    for (const r of [runs[0]!, runs[2]!]) {
      const body = r.json();
      expect(body.status).toBe("failed");
      expect(body.error).toBe("boom: custom code failed: refused /echo?key=***");
      expect(body.steps.map((s: { output: unknown }) => s.output)).toEqual([
        { echo: "***" },
        { path: "/echo?key=***", key: "***" },
        "token=*** from ***",
        null,
      ]);
    }
    for (const r of [runs[1]!, runs[3]!]) {
      expect(r.stdout).toContain('-> {"path":"/echo?key=***","key":"***"}');
      expect(r.stdout).toContain('-> "token=*** from ***"');
    }
  });
});

describe("avsctl workflow run", () => {
  const chain = useAnvil();

  it("prints the whole execution record", async () => {
    const r = await cli(["workflow", "run", portfolio]);
    expect(r.code, r.stderr).toBe(0);
    const record = r.json();
    expect(Object.keys(record).sort()).toEqual([
      "endAt",
      "error",
      "id",
      "index",
      "startAt",
      "status",
      "steps",
    ]);
    expect(record).toMatchObject({ status: "success", error: null, index: 0 });
  });

  it("sends writes with --private-key where simulate only estimates them", async () => {
    const to = ANVIL_DEV_ADDRESSES[6];
    const file = write(
      "pay.json",
      oneNode(
        {
          id: "pay",
          name: "pay",
          type: "ethTransfer",
          config: { destination: "{{ to }}", amount: "0.5eth" },
        },
        { inputVariables: { to } },
      ),
    );
    const balance = async () => BigInt(await rpc<string>(chain().rpcUrl, "eth_getBalance", [to, "latest"]));
    const before = await balance();
    const args = [file, "--rpc-url", chain().rpcUrl, "--private-key", ANVIL_DEV_PRIVATE_KEYS[2]];
    const simulated = await cli(["workflow", "simulate", ...args]);
    expect(simulated.code, simulated.stderr).toBe(0);
    expect(simulated.json().steps[1].output).toMatchObject({ simulated: true, gasEstimate: "21000" });
    expect(await balance()).toBe(before);
    const sent = await cli(["workflow", "run", ...args]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.json().steps[1].output.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(await balance()).toBe(before + 500_000_000_000_000_000n);
  });

  it("an unreachable --rpc-url is an environment error (exit 4)", async () => {
    const file = write(
      "read.json",
      oneNode({
        id: "pay",
        name: "pay",
        type: "ethTransfer",
        config: { destination: ANVIL_DEV_ADDRESSES[6], amount: "1" },
      }),
    );
    const r = await cli(["workflow", "simulate", file, "--rpc-url", "http://127.0.0.1:9"]);
    expect(r.code).toBe(4);
    expect(r.json().error.code).toBe("RPC_UNREACHABLE");
  });
});
