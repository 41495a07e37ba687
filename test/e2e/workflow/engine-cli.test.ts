/**
 * `avsctl workflow create|list|get|trigger|cancel|delete|executions|execution` and
 * `avsctl secret set|list|delete` as a user runs them: the built CLI against a task engine
 * process (dist) started here, with `--engine`. A secret's value shows in no CLI output and no
 * engine log line; another owner's key is refused on every command; bad input exits 2 naming
 * the field path, with nothing stored.
 */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { encryptKeystoreJsonSync, Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executionDigest } from "../../../src/task-engine/record.js";
import { type CliResult, runCli, runPasted } from "../../helpers/cli.js";
import { type EngineProcess, startEngineProcess } from "../../helpers/engine.js";

const SECRET_VALUE = "s3cr3t-Value-9f2c71";
const owner = Wallet.createRandom();
const other = Wallet.createRandom();
let dir = "";
let engine: EngineProcess;
const outputs: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "avsctl-engine-cli-"));
  engine = await startEngineProcess();
}, 60_000);

afterAll(async () => {
  await engine?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function write(name: string, content: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  return file;
}

async function cli(
  args: string[],
  opts: { key?: string; input?: string; json?: boolean } = {},
): Promise<CliResult> {
  const r = await runCli([...args, "--engine", engine.url, ...(opts.json === false ? [] : ["--json"])], {
    cwd: dir,
    env: { AVSCTL_PRIVATE_KEY: opts.key ?? owner.privateKey, AVSCTL_KEYSTORE_PASSWORD: undefined },
    ...(opts.input === undefined ? {} : { input: opts.input }),
  });
  outputs.push(r.stdout, r.stderr);
  return r;
}

const flow = (extra: Record<string, unknown> = {}, source = "return trig.data.n + 1") => ({
  name: "cli-flow",
  trigger: { id: "trigger", name: "trig", type: "manual", config: { data: { n: 1 } } },
  nodes: [{ id: "c", name: "c", type: "customCode", config: { lang: "javascript", source } }],
  edges: [{ id: "e1", source: "trigger", target: "c" }],
  ...extra,
});

describe("workflow commands against a task engine", () => {
  let id = "";
  let execId = "";

  it("creates, lists, gets, triggers with --wait, and reads executions", async () => {
    const created = await cli(["workflow", "create", write("flow.json", flow())]);
    expect(created.code, created.stderr + created.stdout).toBe(0);
    id = created.json().id;
    expect(created.json()).toMatchObject({ status: "active", owner: owner.address, name: "cli-flow" });

    const list = await cli(["workflow", "list", "--status", "active", "--limit", "5"]);
    expect(list.code).toBe(0);
    expect(list.json().items.map((t: { id: string }) => t.id)).toEqual([id]);
    expect((await cli(["workflow", "get", id])).json()).toMatchObject({ id, status: "active" });

    const run = await cli(["workflow", "trigger", id, "--wait", "--trigger-data", '{"n": 41}']);
    expect(run.code, run.stdout).toBe(0);
    expect(run.json()).toMatchObject({ status: "success", workflowId: id });
    expect(run.json().steps[1].output).toBe(42);
    execId = run.json().executionId;

    const queued = await cli(["workflow", "trigger", id]);
    expect(queued.code).toBe(0);
    const watched = await cli(["workflow", "execution", id, queued.json().executionId, "--watch"]);
    expect(watched.json().status).toBe("success");
    // for humans, each status it saw is a line of its own on stderr
    const watchedHuman = await cli(["workflow", "execution", id, queued.json().executionId, "--watch"], {
      json: false,
    });
    expect(watchedHuman.code).toBe(0);
    expect(watchedHuman.stderr).toBe(`${queued.json().executionId} success\n`);

    const runs = await cli(["workflow", "executions", id]);
    expect(runs.json().items).toHaveLength(2);
    const one = await cli(["workflow", "execution", id, execId]);
    expect(one.json()).toMatchObject({ id: execId, status: "success", index: 0 });
    const human = await cli(["workflow", "list"], { json: false });
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(id);
  }, 60_000);

  it("keeps a secret's value out of every output and every engine log line", async () => {
    const set = await cli(["secret", "set", "apiKey", "--value", SECRET_VALUE]);
    expect(set.code, set.stdout).toBe(0);
    expect(set.json()).toMatchObject({ name: "apiKey", created: true });
    const fromStdin = await cli(["secret", "set", "apiKey"], { input: `${SECRET_VALUE}\n` });
    expect(fromStdin.json()).toMatchObject({ name: "apiKey", created: false });
    expect((await cli(["secret", "list"])).json().items.map((s: { name: string }) => s.name)).toEqual([
      "apiKey",
    ]);
    const uses = await cli([
      "workflow",
      "create",
      write("uses-secret.json", flow({}, "return 'key=' + apContext.configVars.apiKey")),
    ]);
    const run = await cli(["workflow", "trigger", uses.json().id, "--wait"]);
    expect(run.json().status).toBe("success");
    expect(run.json().steps[1].output).toBe("key=***");
    await cli(["workflow", "delete", uses.json().id]);
    const removed = await cli(["secret", "delete", "apiKey"]);
    expect(removed.json()).toEqual({ name: "apiKey", deleted: true });
    expect((await cli(["secret", "list"])).json().items).toEqual([]);
    expect(outputs.filter((o) => o.includes(SECRET_VALUE))).toEqual([]);
    expect(engine.raw.filter((line) => line.includes(SECRET_VALUE))).toEqual([]);
    expect(engine.raw.length).toBeGreaterThan(0);
  }, 60_000);

  it("a stored workflow that reads a secret the engine lacks says so on create, and the command it names sets it", async () => {
    const file = write("needs-secret.json", flow({}, "return 'url=' + apContext.configVars.feedUrl"));
    const created = await cli(["workflow", "create", file]);
    expect(created.code, created.stderr).toBe(0);
    // customCode reading a secret is said whatever the engine has (code-secrets.test.ts)
    const inCode = expect.stringMatching(
      /^nodes\[0\]\.config\.source \(customCode "c"\) reads apContext\.configVars\.feedUrl: /,
    );
    const hint = `avsctl secret set feedUrl --engine ${engine.url}`;
    expect(created.json().warnings).toEqual([
      `the workflow reads apContext.configVars.feedUrl and the task engine has no secret feedUrl: its runs see it empty until \`${hint}\` (the value on stdin)`,
      inCode,
    ]);
    const human = await cli(["workflow", "create", file], { json: false });
    expect(human.stdout).toMatch(/^warning: the workflow reads apContext\.configVars\.feedUrl/);
    // pasted as printed, the value on stdin; then a new create has nothing to say
    const set = await runPasted(hint, {
      cwd: dir,
      env: { AVSCTL_PRIVATE_KEY: owner.privateKey },
      input: "http://feed.example\n",
    });
    expect(set.code, set.stderr).toBe(0);
    const again = await cli(["workflow", "create", file]);
    expect(again.json().warnings).toEqual([inCode]);
    const run = await cli(["workflow", "trigger", again.json().id, "--wait"]);
    expect(run.json().steps[1].output).toBe("url=***");
    for (const id of [created.json().id, human.stdout.match(/created (\S+)/)![1], again.json().id]) {
      await cli(["workflow", "delete", id]);
    }
    await cli(["secret", "delete", "feedUrl"]);
  }, 60_000);

  it("a secret scoped to another workflow: create says so truly, and set never moves or overwrites it unasked", async () => {
    const reads = flow({}, "return 'key=' + apContext.configVars.SCOPED");
    const a = (await cli(["workflow", "create", write("scoped-a.json", reads)])).json().id;
    expect((await cli(["secret", "set", "SCOPED", "--workflow", a], { input: "a-value\n" })).code).toBe(0);
    const before = (await cli(["secret", "list"])).json().items;
    const b = (await cli(["workflow", "create", write("scoped-b.json", reads)])).json();
    const warning: string = b.warnings[0];
    expect(warning).toContain(
      `the task engine's secret SCOPED is scoped to workflow ${a}, so this workflow's runs see it empty`,
    );
    expect(warning).toContain("A secret name holds one scope");
    expect(warning).not.toContain("has no secret");
    // a set without a scope, or with B's, would change what A's runs see: refused, exit 2
    for (const scope of [[], ["--workflow", b.id]]) {
      const refused = await cli(["secret", "set", "SCOPED", ...scope], { input: "b-value\n" });
      expect(refused.code, refused.stdout).toBe(2);
      expect(refused.json().error).toMatchObject({
        code: "INVALID_ARGUMENT",
        message: expect.stringContaining(`secret SCOPED exists scoped to workflow ${a}`),
        details: { argument: "--workflow", workflowId: a },
      });
      expect(refused.json().error.hint).toContain(
        `\`avsctl secret set SCOPED --workflow ${a} --engine ${engine.url}\` replaces its value where it is`,
      );
    }
    expect((await cli(["secret", "list"])).json().items).toEqual(before);
    // the warning's commands, pasted in turn, give B (and every workflow) the secret
    const [, remove, set] = [...warning.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    expect(remove).toBe(`avsctl secret delete SCOPED --engine ${engine.url}`);
    const env = { AVSCTL_PRIVATE_KEY: owner.privateKey };
    expect((await runPasted(remove!, { cwd: dir, env })).code).toBe(0);
    expect((await runPasted(set!, { cwd: dir, env, input: "shared\n" })).code).toBe(0);
    const run = await cli(["workflow", "trigger", b.id, "--wait"]);
    expect(run.json().steps[1].output).toBe("key=***");
    for (const id of [a, b.id]) await cli(["workflow", "delete", id]);
    await cli(["secret", "delete", "SCOPED"]);
  }, 60_000);

  it("refuses another owner's key on every command (403, exit 1)", async () => {
    const key = other.privateKey;
    const denied = [
      ["workflow", "get", id],
      ["workflow", "trigger", id, "--wait"],
      ["workflow", "cancel", id],
      ["workflow", "delete", id],
      ["workflow", "executions", id],
      ["workflow", "execution", id, execId],
      ["workflow", "execution", id, execId, "--watch"],
      ["secret", "set", "x", "--value", "v", "--workflow", id],
      ["secret", "list", "--workflow", id],
    ];
    for (const args of denied) {
      const r = await cli(args, { key });
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.json().error).toMatchObject({ code: "ACCESS_DENIED", details: { status: 403 } });
    }
    expect((await cli(["workflow", "list"], { key })).json().items).toEqual([]);
    expect((await cli(["workflow", "get", id])).json().status).toBe("active");
  }, 60_000);

  it("cancels (no trigger is accepted then) and deletes", async () => {
    expect((await cli(["workflow", "cancel", id])).json().status).toBe("canceled");
    const late = await cli(["workflow", "trigger", id]);
    expect(late.code).toBe(1);
    expect(late.json().error.details.engineCode).toBe("TASK_NOT_ACTIVE");
    // hints that lead somewhere: the workflow's status, the lists of what exists
    expect(late.json().error.hint).toContain(`\`avsctl workflow get ${id}\` shows its status`);
    const noExecution = await cli(["workflow", "execution", id, "01ARZ3NDEKTSV4RRFFQ69G5FAV"]);
    expect(noExecution.json().error).toMatchObject({
      code: "NOT_FOUND",
      hint: `\`avsctl workflow executions ${id}\` lists the workflow's executions`,
    });
    expect((await cli(["workflow", "get", id])).json().status).toBe("canceled");
    expect((await cli(["workflow", "delete", id])).json()).toEqual({ id, deleted: true });
    const gone = await cli(["workflow", "get", id]);
    expect(gone.code).toBe(1);
    expect(gone.json().error.code).toBe("NOT_FOUND");
    expect(gone.json().error.hint).toBe("`avsctl workflow list` lists your workflows with their ids");
    expect((await cli(["workflow", "list"])).code).toBe(0);
    const noSecret = await cli(["secret", "delete", "neverSet"]);
    expect(noSecret.json().error).toMatchObject({
      code: "NOT_FOUND",
      hint: expect.stringContaining("`avsctl secret list`"),
    });
  }, 60_000);

  it("a trigger refused for maxExecution or startAt says which bound and what to do", async () => {
    const once = (await cli(["workflow", "create", write("once.json", flow({ maxExecution: 1 }))])).json().id;
    expect((await cli(["workflow", "trigger", once, "--wait"])).code).toBe(0);
    const twice = (await cli(["workflow", "trigger", once])).json().error;
    expect(twice).toMatchObject({
      code: "COMMAND_FAILED",
      details: { engineCode: "MAX_EXECUTION_REACHED" },
      message: expect.stringContaining("its 1 execution(s)"),
      hint: `the workflow has had the executions its maxExecution allows: \`avsctl workflow executions ${once}\` lists them; to run it more, raise maxExecution in its file (0: no bound) and store it anew with \`avsctl workflow create <file>\``,
    });
    const startAt = Date.now() + 3_600_000;
    const later = (await cli(["workflow", "create", write("later.json", flow({ startAt }))])).json().id;
    const early = (await cli(["workflow", "trigger", later])).json().error;
    expect(early).toMatchObject({
      details: { engineCode: "TASK_NOT_STARTED" },
      message: expect.stringContaining(new Date(startAt).toISOString()),
      hint: expect.stringContaining(`\`avsctl workflow get ${later}\` shows its schedule`),
    });
    // the command it names does show the schedule
    const shown = await cli(["workflow", "get", later], { json: false });
    expect(shown.stdout).toContain(`schedule   from ${new Date(startAt).toISOString()} until -`);
    for (const t of [once, later]) await cli(["workflow", "delete", t]);
  }, 60_000);

  it("records a `workflow run` in the engine as a one-off task, its secrets masked", async () => {
    const file = write("run.json", flow({}, "return 'key=' + apContext.configVars.token"));
    const run = await runCli(
      ["workflow", "run", file, "--secret", "token=run-only-value", "--engine", engine.url, "--json"],
      { cwd: dir, env: { AVSCTL_PRIVATE_KEY: owner.privateKey } },
    );
    expect(run.code, run.stderr + run.stdout).toBe(0);
    const { recorded } = run.json();
    expect(recorded).toMatchObject({ workflowId: expect.any(String), executionId: expect.any(String) });
    const task = await cli(["workflow", "get", recorded.workflowId]);
    expect(task.json()).toMatchObject({ status: "completed", totalExecution: 1, maxExecution: 1 });
    const execution = await cli(["workflow", "execution", recorded.workflowId, recorded.executionId]);
    expect(execution.json()).toMatchObject({ status: "success", triggerReason: { type: "manual" } });
    expect(execution.json().steps[1].output).toBe("key=***");
    expect(execution.json().digest).toMatch(/^0x[0-9a-f]{64}$/);
    await cli(["workflow", "delete", recorded.workflowId]);
    const offline = await runCli(["workflow", "run", file, "--secret", "token=x", "--json"], {
      cwd: dir,
      env: { AVSCTL_PRIVATE_KEY: owner.privateKey },
    });
    expect(offline.code).toBe(0);
    expect(offline.json().recorded).toBeUndefined();
  }, 60_000);

  it("simulate and run print the record the engine keeps of the same run: a secret echoed by a server masked alike", async () => {
    const secret = "engine-echo-Secret-7d41";
    const server = createServer((req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ path: req.url, key: req.headers["x-api-key"] ?? null }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const file = write("echo-secret.json", {
        name: "echo-secret",
        trigger: { id: "trigger", name: "trig", type: "manual", config: { data: { n: 1 } } },
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
        ],
        edges: [
          { id: "e1", source: "trigger", target: "fetch" },
          { id: "e2", source: "fetch", target: "say" },
        ],
      });
      expect((await cli(["secret", "set", "API_KEY"], { input: `${secret}\n` })).code).toBe(0);
      const created = await cli(["workflow", "create", file]);
      expect(created.code, created.stdout).toBe(0);
      const stored = await cli(["workflow", "trigger", created.json().id, "--wait"]);
      expect(stored.code, stored.stdout).toBe(0);
      const env = { AVSCTL_PRIVATE_KEY: owner.privateKey, AVSCTL_SECRET_API_KEY: secret };
      const simulated = await runCli(["workflow", "simulate", file, "--json"], { cwd: dir, env });
      const run = await runCli(["workflow", "run", file, "--engine", engine.url, "--json"], {
        cwd: dir,
        env,
      });
      outputs.push(simulated.stdout, simulated.stderr, run.stdout, run.stderr);
      expect(simulated.code, simulated.stderr).toBe(0);
      expect(run.code, run.stderr).toBe(0);

      // what an execution's digest covers: status, error, and each step but its times and log
      const decided = (r: { status: string; error: unknown; steps: Array<Record<string, unknown>> }) => ({
        status: r.status,
        error: r.error,
        steps: r.steps.map(({ startAt: _s, endAt: _e, log: _l, ...rest }) => rest),
      });
      expect(decided(stored.json()).steps[1]).toMatchObject({
        output: { path: "/echo?key=***", key: "***" },
      });
      expect(decided(stored.json()).steps[2]).toMatchObject({ output: "token=*** from ***" });
      expect(decided(simulated.json())).toEqual(decided(stored.json()));
      expect(decided(run.json())).toEqual(decided(stored.json()));

      // `run` records what it printed: the engine digests the record shown, steps and times alike
      const { recorded } = run.json();
      const kept = (await cli(["workflow", "execution", recorded.workflowId, recorded.executionId])).json();
      expect(kept.steps).toEqual(run.json().steps);
      expect(kept.digest).toBe(executionDigest({ ...kept, taskId: kept.workflowId }, run.json()));
      const human = await cli(["workflow", "execution", recorded.workflowId, recorded.executionId], {
        json: false,
      });
      expect(human.code).toBe(0);

      for (const id of [created.json().id, recorded.workflowId]) await cli(["workflow", "delete", id]);
      await cli(["secret", "delete", "API_KEY"]);
      expect(outputs.filter((o) => o.includes(secret))).toEqual([]);
      expect(engine.raw.filter((line) => line.includes(secret))).toEqual([]);
    } finally {
      server.close();
    }
  }, 60_000);

  it("refuses bad input with exit 2, naming the field path, and stores nothing", async () => {
    const base = flow();
    const node = (n: Record<string, unknown>) => ({ ...base, nodes: [n] });
    const cases: Array<[string, Record<string, unknown>, string]> = [
      [
        "cycle",
        {
          ...base,
          nodes: [
            { id: "a", name: "a", type: "customCode", config: { lang: "javascript", source: "return 1" } },
            { id: "b", name: "b", type: "customCode", config: { lang: "javascript", source: "return 2" } },
          ],
          edges: [
            { id: "e1", source: "trigger", target: "a" },
            { id: "e2", source: "a", target: "b" },
            { id: "e3", source: "b", target: "a" },
          ],
        },
        "nodes[0]",
      ],
      ["dangling edge", { ...base, edges: [{ id: "e1", source: "trigger", target: "nowhere" }] }, "edges[0]"],
      ["no trigger", { ...base, trigger: undefined }, "trigger"],
      [
        "bad node name",
        node({
          id: "c",
          name: "not a name",
          type: "customCode",
          config: { lang: "javascript", source: "return 1" },
        }),
        "nodes[0].name",
      ],
      ["unknown node type", node({ id: "c", name: "c", type: "teleport", config: {} }), "nodes[0].type"],
      [
        "1 MB source",
        node({
          id: "c",
          name: "c",
          type: "customCode",
          config: { lang: "javascript", source: `return 1; // ${"x".repeat(1024 * 1024)}` },
        }),
        "nodes[0].config.source",
      ],
    ];
    for (const [name, doc, pathPrefix] of cases) {
      const r = await cli(["workflow", "create", write(`bad-${name.replace(/ /g, "-")}.json`, doc)]);
      expect(r.code, name).toBe(2);
      const error = r.json().error;
      expect(error.code, name).toBe("WORKFLOW_INVALID");
      const paths = error.details.errors.map((e: { path: string }) => e.path);
      expect(
        paths.some((p: string) => p.startsWith(pathPrefix)),
        `${name}: ${paths}`,
      ).toBe(true);
      const human = await cli(["workflow", "create", path.join(dir, `bad-${name.replace(/ /g, "-")}.json`)], {
        json: false,
      });
      expect(human.code).toBe(2);
      for (const p of paths) expect(human.stderr).toContain(p);
      // the hint's command names the file given, and finds the same problems when pasted
      const hinted = /`(avsctl workflow validate [^`]+)`/.exec(error.hint)?.[1];
      expect(hinted, error.hint).toBeDefined();
      const pasted = await runPasted(`${hinted} --json`, { cwd: dir });
      expect(pasted.code, `${name}: ${hinted}`).toBe(2);
    }
    expect((await cli(["workflow", "list"])).json().items).toEqual([]);
    const badId = await cli(["workflow", "get", "not-an-id"]);
    expect(badId.code).toBe(2);
    expect(badId.json().error.code).toBe("INVALID_ARGUMENT");
  }, 120_000);

  it("a refusal only a stored task has does not send the user to `workflow validate`, which passes it", async () => {
    const expired = write("expired.json", flow({ expiredAt: 1000 }));
    const offline = await runCli(["workflow", "validate", expired, "--json"], { cwd: dir });
    expect(offline.code).toBe(0);
    const r = await cli(["workflow", "create", expired]);
    expect(r.code).toBe(2);
    const error = r.json().error;
    expect(error.details.errors.map((e: { path: string }) => e.path)).toEqual(["expiredAt"]);
    expect(error.hint).toBe("set expiredAt to a time still to come (Unix ms), or 0 for no end");
    // with a problem validate does catch too, validate is named for that one, and finds it
    const both = write(
      "both.json",
      flow({ nodes: [{ id: "c", name: "c", type: "pythonCode", config: {} }], edges: [] }),
    );
    const mixed = (await cli(["workflow", "create", both])).json().error;
    expect(mixed.hint).toBe(
      `add an edge from the trigger to a node; \`avsctl workflow validate ${both}\` checks the rest offline`,
    );
    const pasted = await runPasted(mixed.hint.match(/`([^`]+)`/)[1], { cwd: dir });
    expect(pasted.code).toBe(2);
    expect(pasted.stdout + pasted.stderr).toContain("WF_UNKNOWN_NODE_TYPE");
    expect((await cli(["workflow", "list"])).json().items).toEqual([]);
  });

  it("a relative --keystore starts at --cwd, as every file argument does", async () => {
    const project = path.join(dir, "wfp");
    mkdirSync(project, { recursive: true });
    writeFileSync(
      path.join(project, "owner.json"),
      encryptKeystoreJsonSync({ address: owner.address, privateKey: owner.privateKey }, "pw", {
        scrypt: { N: 1 << 10 },
      }),
    );
    const r = await runCli(
      ["--cwd", "wfp", "secret", "list", "--engine", engine.url, "--keystore", "owner.json", "--json"],
      { cwd: dir, env: { AVSCTL_PRIVATE_KEY: undefined, AVSCTL_KEYSTORE_PASSWORD: "pw" } },
    );
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.json().items).toEqual([]);
  });

  it("exits 4 when the engine is unreachable, or when there is no devnet and no --engine", async () => {
    const r = await runCli(["workflow", "list", "--engine", "http://127.0.0.1:1", "--json"], {
      cwd: dir,
      env: { AVSCTL_PRIVATE_KEY: owner.privateKey },
    });
    expect(r.code).toBe(4);
    expect(r.json().error.code).toBe("ENGINE_UNREACHABLE");
    const none = await runCli(["secret", "list", "--json"], {
      cwd: dir,
      env: { AVSCTL_PRIVATE_KEY: owner.privateKey },
    });
    expect(none.code).toBe(4);
    expect(none.json().error.code).toBe("NO_DEVNET");
  });
});
