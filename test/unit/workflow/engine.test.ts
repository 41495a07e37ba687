import { describe, expect, it } from "vitest";
import { NodeContext } from "../../../src/workflow/context.js";
import {
  comparableRecord,
  DEFAULT_LIMITS,
  recordFingerprint,
  runWorkflow,
} from "../../../src/workflow/engine.js";
import { maskSecrets } from "../../../src/workflow/mask.js";
import { withRetry } from "../../../src/workflow/processors/index.js";
import { branch, code, doc, edges, run, stepsByName, valid } from "./build.js";

describe("workflow engine: data flow and the execution record", () => {
  it("passes trigger data, input variables, secrets and upstream outputs as <name>.data", async () => {
    const record = await run(
      doc(
        [
          code("a", "return trig.data.n * settings.factor"),
          code("b", "return { doubled: a.data * 2, secret: apContext.configVars.token.length }"),
        ],
        edges("trigger->a", "a->b"),
        { inputVariables: { settings: { factor: 3 } } },
      ),
      { configVars: { token: "s3cr3t-value" } },
    );
    expect(record.status).toBe("success");
    expect(record.error).toBeNull();
    const steps = stepsByName(record);
    expect(steps.trig!.output).toEqual({ n: 7 });
    expect(steps.a!.output).toBe(21);
    expect(steps.b!.output).toEqual({ doubled: 42, secret: 12 });
  });

  it("has exactly the record shape of docs/protocol.md", async () => {
    const record = await run(doc([code("a", "return 1")], edges("trigger->a")), { index: 4 });
    expect(Object.keys(record).sort()).toEqual([
      "endAt",
      "error",
      "id",
      "index",
      "startAt",
      "status",
      "steps",
    ]);
    expect(record.index).toBe(4);
    for (const step of record.steps) {
      expect(Object.keys(step).sort()).toEqual([
        "endAt",
        "error",
        "id",
        "log",
        "name",
        "output",
        "startAt",
        "success",
        "type",
      ]);
      expect(step.endAt).toBeGreaterThanOrEqual(step.startAt);
    }
    expect(record.steps.map((s) => [s.id, s.type])).toEqual([
      ["trigger", "manual"],
      ["a", "customCode"],
    ]);
  });

  it("input variables given at run time replace the workflow's", async () => {
    const record = await run(
      doc([code("a", "return limit")], edges("trigger->a"), { inputVariables: { limit: 1 } }),
      {
        inputVariables: { limit: 5 },
      },
    );
    expect(stepsByName(record).a!.output).toBe(5);
  });
});

describe("workflow engine: branches and joins", () => {
  const diamond = (expression: string) =>
    doc(
      [
        code("price", "return trig.data.n"),
        branch("check", [
          { id: "high", type: "if", expression },
          { id: "low", type: "else" },
        ]),
        code("onHigh", "return 'high'"),
        code("onLow", "return 'low'"),
        code("join", "return { from: onHigh.data ?? onLow.data }"),
      ],
      edges(
        "trigger->price",
        "price->check",
        "check.high->onHigh",
        "check.low->onLow",
        "onHigh->join",
        "onLow->join",
      ),
    );

  it("runs only the taken path; the node after two exclusive branches (the join) runs once", async () => {
    for (const [expr, taken, notTaken] of [
      ["price.data > 5", "onHigh", "onLow"],
      ["price.data > 50", "onLow", "onHigh"],
    ] as const) {
      const record = await run(diamond(expr));
      expect(record.status).toBe("success");
      const names = record.steps.map((s) => s.name);
      expect(names).toContain(taken);
      expect(names).not.toContain(notTaken);
      expect(names.filter((n) => n === "join")).toHaveLength(1);
      expect(stepsByName(record).join!.output).toEqual({ from: taken === "onHigh" ? "high" : "low" });
      expect(stepsByName(record).check!.output).toEqual({
        conditionId: `check.${taken === "onHigh" ? "high" : "low"}`,
      });
    }
  });

  it("a join directly on both conditions of one branch runs whichever is taken", async () => {
    const record = await run(
      doc(
        [
          branch("b", [
            { id: "x", expression: "false" },
            { id: "y", type: "else" },
          ]),
          code("after", "return 'ran'"),
        ],
        edges("trigger->b", "b.x->after", "b.y->after"),
      ),
    );
    expect(stepsByName(record).after!.output).toBe("ran");
  });

  it("a node on a path not taken never runs, even when it has another, live input", async () => {
    const record = await run(
      doc(
        [
          code("other", "return 1"),
          branch("b", [{ id: "x", expression: "false" }]),
          code("guarded", "return 'ran'"),
          code("tail", "return 2"),
        ],
        edges("trigger->other", "trigger->b", "b.x->guarded", "other->guarded", "guarded->tail"),
      ),
    );
    expect(record.status).toBe("success");
    expect(record.steps.map((s) => s.name)).toEqual(["trig", "other", "b"]);
    expect(stepsByName(record).b!.output).toEqual({ conditionId: null });
  });

  it("nested branches join back into one node", async () => {
    const record = await run(
      doc(
        [
          branch("outer", [
            { id: "a", expression: "trig.data.n > 5" },
            { id: "b", type: "else" },
          ]),
          branch("inner", [
            { id: "c", expression: "trig.data.n > 100" },
            { id: "d", type: "else" },
          ]),
          code("big", "return 'big'"),
          code("mid", "return 'mid'"),
          code("small", "return 'small'"),
          code("end", "return [big.data, mid.data, small.data]"),
        ],
        edges(
          "trigger->outer",
          "outer.a->inner",
          "outer.b->small",
          "inner.c->big",
          "inner.d->mid",
          "big->end",
          "mid->end",
          "small->end",
        ),
      ),
    );
    expect(stepsByName(record).end!.output).toEqual([null, "mid", null]);
    expect(record.steps.map((s) => s.name)).toEqual(["trig", "outer", "inner", "mid", "end"]);
  });

  it("else catches what no if matched; the first true if wins", async () => {
    const record = await run(
      doc(
        [
          branch("b", [
            { id: "one", expression: "{{ trig.data.n > 1 }}" },
            { id: "two", expression: "trig.data.n > 2" },
            { id: "other", type: "else" },
          ]),
          code("x", "return 1"),
          code("y", "return 2"),
        ],
        edges("trigger->b", "b.one->x", "b.two->y"),
      ),
    );
    expect(stepsByName(record).b!.output).toEqual({ conditionId: "b.one" });
    expect(record.steps.map((s) => s.name)).toEqual(["trig", "b", "x"]);
  });
});

describe("workflow engine: failures", () => {
  it("a failed step fails the run, blocks its dependents, and lets independent nodes finish", async () => {
    const record = await run(
      doc(
        [code("bad", "throw new Error('boom')"), code("after", "return 1"), code("independent", "return 2")],
        edges("trigger->bad", "bad->after", "trigger->independent"),
      ),
    );
    expect(record.status).toBe("failed");
    expect(record.error).toBe("bad: custom code failed: boom");
    const steps = stepsByName(record);
    expect(steps.bad!.success).toBe(false);
    expect(steps.bad!.output).toBeNull();
    expect(steps.after).toBeUndefined();
    expect(steps.independent!.output).toBe(2);
  });

  it("a node sees only its ancestors: reading a sibling is an error every time, never a race", async () => {
    const raw = doc(
      [code("left", "return 1"), code("right", "return left.data")],
      edges("trigger->left", "trigger->right"),
    );
    for (let i = 0; i < 3; i++) {
      const record = await run(raw);
      expect(record.status).toBe("failed");
      expect(stepsByName(record).right!.error).toMatch(/left is not defined/);
    }
  });

  it("an aborted run is an error and starts nothing more", async () => {
    const controller = new AbortController();
    controller.abort();
    const record = await run(doc([code("a", "return 1")], edges("trigger->a")), {
      signal: controller.signal,
    });
    expect(record.status).toBe("error");
    expect(record.steps.map((s) => s.name)).toEqual(["trig"]);
  });

  it("secrets are masked in errors and logs", async () => {
    const record = await run(
      doc(
        [
          code(
            "a",
            "console.log('key', apContext.configVars.k); throw new Error('bad ' + apContext.configVars.k)",
          ),
        ],
        edges("trigger->a"),
      ),
      {
        configVars: { k: "hunter2-secret" },
      },
    );
    const step = stepsByName(record).a!;
    expect(step.error).toBe("custom code failed: bad ***");
    expect(step.log).toBe("key ***");
    expect(record.error).not.toContain("hunter2");
  });

  it("a secret of any length is masked, as the stored record masks it: the longest first", async () => {
    const record = await run(
      doc(
        [
          code(
            "a",
            "const { s, t } = apContext.configVars; console.log('s=' + s, 't=' + t); throw new Error('bad ' + t + ' ' + s)",
          ),
        ],
        edges("trigger->a"),
      ),
      // t holds s: masked first, it leaves no tail of itself
      { configVars: { s: "x7q", t: "x7q-long" } },
    );
    const step = stepsByName(record).a!;
    expect(step.log).toBe("s=*** t=***");
    expect(step.error).toBe("custom code failed: bad *** ***");
    expect(maskSecrets({ log: "s=x7q t=x7q-long" }, ["x7q", "x7q-long"])).toEqual({ log: step.log });
  });
});

describe("workflow engine: determinism", () => {
  const raw = doc(
    [
      // listed out of order on purpose: the record follows the graph, not the document or the clock
      code("d", "return [b.data, c.data]"),
      code("c", "let s = 0; for (let i = 0; i < 20000; i++) s += i; return s"),
      code("b", "return a.data + 1"),
      code("a", "return trig.data.n"),
    ],
    edges("trigger->a", "a->b", "a->c", "b->d", "c->d"),
  );

  it("lists steps in a fixed topological order (ties by position in nodes)", async () => {
    const record = await run(raw);
    expect(record.steps.map((s) => s.name)).toEqual(["trig", "a", "c", "b", "d"]);
  });

  it("two runs give the same comparable record and fingerprint; only ids and times differ", async () => {
    const workflow = await valid(raw);
    const one = await runWorkflow(workflow, { mode: "simulate", limits: { concurrency: 1 } });
    const two = await runWorkflow(workflow, { mode: "simulate", limits: { concurrency: 8 } });
    expect(one.id).not.toBe(two.id);
    expect(comparableRecord(one)).toEqual(comparableRecord(two));
    expect(recordFingerprint(one)).toBe(recordFingerprint(two));
    expect(recordFingerprint(one)).toMatch(/^0x[0-9a-f]{64}$/);
    const changed = await runWorkflow(workflow, { mode: "simulate", triggerData: { n: 8 } });
    expect(recordFingerprint(changed)).not.toBe(recordFingerprint(one));
  });
});

describe("workflow engine: retries (Ava has none)", () => {
  it("retries a failing node up to attempts, logging each failed try", async () => {
    const record = await run(
      doc(
        [code("flaky", "throw new Error('nope')", { retry: { attempts: 3, backoffMs: 1 } })],
        edges("trigger->flaky"),
      ),
    );
    const step = stepsByName(record).flaky!;
    expect(step.success).toBe(false);
    expect(step.log.match(/attempt \d of 3 failed/g)).toEqual([
      "attempt 1 of 3 failed",
      "attempt 2 of 3 failed",
    ]);
  });

  it("withRetry stops at the first success and never exceeds attempts", async () => {
    const ctx = new NodeContext("simulate", {}, DEFAULT_LIMITS, new AbortController().signal, undefined);
    let calls = 0;
    const value = await withRetry({ attempts: 5, backoffMs: 1 }, ctx, async () => {
      calls++;
      if (calls < 3) throw new Error(`try ${calls}`);
      return "ok";
    });
    expect(value).toBe("ok");
    expect(calls).toBe(3);
    let failing = 0;
    await expect(
      withRetry({ attempts: 2, backoffMs: 0 }, ctx, async () => {
        failing++;
        throw new Error("always");
      }),
    ).rejects.toThrow("always");
    expect(failing).toBe(2);
    let once = 0;
    await expect(
      withRetry(undefined, ctx, async () => {
        once++;
        throw new Error("no policy");
      }),
    ).rejects.toThrow();
    expect(once).toBe(1);
  });
});
