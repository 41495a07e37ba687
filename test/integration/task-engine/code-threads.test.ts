/**
 * customCode runs on worker threads (src/workflow/code-pool.ts). On the engine's main thread,
 * a node busy for 1.5 s (under its 2 s limit) held everything else: executions ran one after
 * another whatever --concurrency said, GET /health took seconds, and the replays attesters ask
 * for (POST /task/validate) timed out. The answers must stay the same bit for bit: attesters
 * replay the code and compare digests.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { replayExecution } from "../../../src/task-engine/record.js";
import { sealRun } from "../../../src/task-engine/worker.js";
import { CodePool } from "../../../src/workflow/code-pool.js";
import { comparableRecord, InputTape, runWorkflow, validateWorkflow } from "../../../src/workflow/index.js";
import { call, code, type Harness, sampleExecution, signIn, startHarness, until, Wallet } from "./helpers.js";

const busy = (ms: number, value: string) =>
  `const end = Date.now() + ${ms}; let n = 0; while (Date.now() < end) n++; return ${value};`;

const busyFlow = {
  name: "busy",
  trigger: { id: "trigger", name: "trig", type: "manual", config: { data: { n: 1 } } },
  nodes: [code("a", busy(1_500, "trig.data.n + 1")), code("b", busy(1_500, "a.data * 2"))],
  edges: [
    { id: "e1", source: "trigger", target: "a" },
    { id: "e2", source: "a", target: "b" },
  ],
};

describe("a busy customCode node on the engine", () => {
  let h: Harness;
  let token: string;
  beforeAll(async () => {
    h = await startHarness({ concurrency: 4 });
    token = await signIn(h.engine.url, Wallet.createRandom());
  });
  afterAll(async () => {
    await h?.close();
  });

  it("leaves /health answering and lets executions run at once", { timeout: 60_000 }, async () => {
    const url = h.engine.url;
    const task = (await call(url, "POST", "/workflows", token, busyFlow)).body;
    // The engine shares this thread: the longest gap between ticks of a 20 ms timer is the
    // longest any request (GET /health, a trigger, a replay) had to wait for it.
    let slowest = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const at = performance.now();
      slowest = Math.max(slowest, at - last);
      last = at;
    }, 20);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await call(url, "POST", `/workflows/${task.id}:trigger`, token, { triggerData: { n: i } });
      expect(r.status, r.text).toBe(202);
      ids.push(r.body.executionId);
    }
    const done = await until(
      async () => {
        expect((await call(url, "GET", "/health")).status).toBe(200);
        const all = await Promise.all(
          ids.map(
            async (id) => (await call(url, "GET", `/workflows/${task.id}/executions/${id}`, token)).body,
          ),
        );
        return all.every((e) => e.status === "success") && all;
      },
      "the executions",
      40_000,
    ).finally(() => clearInterval(ticker));
    expect(slowest).toBeLessThan(700);
    expect(done.map((e: any) => e.steps[2].output)).toEqual([2, 4, 6, 8]);
    // with one thread, each execution started after the previous one ended
    const spans = done.map((e: any) => [e.steps[1].startAt, e.steps[2].endAt] as const);
    const overlapping = spans.some(([s1, e1], i) =>
      spans.some(([s2, e2], j) => i !== j && s1 < e2 && s2 < e1),
    );
    expect(overlapping).toBe(true);
  });
});

describe("customCode on a pool thread", () => {
  const pool = new CodePool(2);
  afterAll(() => pool.close());

  const cases: Record<string, string> = {
    value:
      'console.log("n is", trig.data.n, { deep: [1n] }); return { x: trig.data.n, s: "{{ trig.data.n * 3 }}" }',
    throws: 'console.warn("about to"); throw new TypeError("bad " + trig.data.n)',
    timeout: "console.log('spinning'); while (true) {}",
    undefinedResult: "return undefined",
    notJson: "return () => 1",
  };

  for (const [name, source] of Object.entries(cases)) {
    it(`gives the record the main thread gives: ${name}`, async () => {
      const workflow = (
        await validateWorkflow({
          name: "one",
          trigger: { id: "trigger", name: "trig", type: "manual", config: { data: { n: 7 } } },
          nodes: [code("c", source, { config: { lang: "javascript", source, timeoutMs: 300 } } as never)],
          edges: [{ id: "e1", source: "trigger", target: "c" }],
        })
      ).workflow!;
      const opts = { mode: "simulate" as const, id: "x", index: 0, now: () => 1 };
      const inline = await runWorkflow(workflow, opts);
      const pooled = await runWorkflow(workflow, { ...opts, codePool: pool });
      expect(JSON.stringify(comparableRecord(pooled))).toBe(JSON.stringify(comparableRecord(inline)));
      expect(JSON.stringify(pooled.steps)).toBe(JSON.stringify(inline.steps));
    });
  }

  it("a replay on a pool thread approves a run made on the main thread", async () => {
    const workflow = (await validateWorkflow(busyFlow)).workflow!;
    const execution = sampleExecution();
    const tape = InputTape.recording();
    const record = await runWorkflow(workflow, { mode: "simulate", tape, id: execution.id, index: 0 });
    const { result, doc } = sealRun(execution, workflow, record, {
      configVars: {},
      inputs: tape.inputs(),
      attest: true,
    });
    const replayed = await replayExecution(JSON.parse(JSON.stringify(doc)), result.digest, {
      codePool: pool,
    });
    expect(replayed).toEqual({ valid: true, digest: result.digest });
  });
});
