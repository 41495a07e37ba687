/**
 * Two semantics the engine shares with Ava's: `{{ }}` templates in a customCode source are
 * substituted as text before the code runs, and a branch condition that throws or is not a
 * boolean counts as false (with a line in the step's log).
 */
import { describe, expect, it } from "vitest";
import { validateWorkflow } from "../../../src/workflow/validate.js";
import { branch, code, doc, edges, run, stepsByName } from "./build.js";

describe("templates inside customCode sources", () => {
  it("are substituted as text: strings unquoted, objects as JSON", async () => {
    const record = await run(
      doc(
        [
          code(
            "c",
            'const who = "{{ trig.data.who }}"; const o = {{ trig.data }}; return who + {{ trig.data.n }} * 2 + o.n',
          ),
        ],
        edges("trigger->c"),
      ),
      { triggerData: { who: "bob", n: 3 } },
    );
    expect(record.status).toBe("success");
    expect(stepsByName(record).c!.output).toBe("bob63");
  });

  it("also in a loop's runner", async () => {
    const record = await run(
      doc(
        [
          {
            id: "l",
            name: "l",
            type: "loop",
            config: {
              inputVariable: "trig.data.items",
              iterVar: "item",
              runner: { type: "customCode", config: { lang: "javascript", source: "return {{ item }} + 1" } },
            },
          },
        ],
        edges("trigger->l"),
      ),
      { triggerData: { items: [1, 2] } },
    );
    expect(stepsByName(record).l!.output).toEqual([2, 3]);
  });

  it("are checked at validation: the code with a placeholder per template, and each expression", async () => {
    expect(
      (await validateWorkflow(doc([code("c", "return {{ trig.data.n }} + 1")], edges("trigger->c")))).valid,
    ).toBe(true);
    const broken = await validateWorkflow(doc([code("c", "return {{ trig.data.( }}")], edges("trigger->c")));
    expect(broken.errors.map((e) => [e.code, e.path])).toContainEqual([
      "WF_INVALID_EXPRESSION",
      "nodes[0].config.source",
    ]);
    const badCode = await validateWorkflow(
      doc([code("c", "return {{ trig.data.n }} +")], edges("trigger->c")),
    );
    expect(badCode.errors.map((e) => [e.code, e.path])).toContainEqual([
      "WF_INVALID_EXPRESSION",
      "nodes[0].config.source",
    ]);
  });

  it("a substituted value cannot smuggle in import: the step fails", async () => {
    const record = await run(doc([code("c", "return {{ trig.data.s }}")], edges("trigger->c")), {
      triggerData: { s: "import('node:fs')" },
    });
    expect(record.status).toBe("failed");
    expect(stepsByName(record).c!.error).toMatch(/import/);
  });

  it("a source over the size limit is refused at its path", async () => {
    const huge = `return ${JSON.stringify("x".repeat(1024 * 1024))}`;
    const result = await validateWorkflow(doc([code("c", huge)], edges("trigger->c")));
    expect(result.errors.map((e) => [e.code, e.path])).toEqual([
      ["WF_INVALID_CONFIG", "nodes[0].config.source"],
    ]);
  });
});

describe("branch conditions that throw or are not booleans", () => {
  const flow = (first: string) =>
    doc(
      [
        branch("b", [
          { id: "first", type: "if", expression: first },
          { id: "second", type: "if", expression: "trig.data.n === 7" },
        ]),
        code("one", "return 1"),
        code("two", "return 2"),
      ],
      edges("trigger->b", "b.first->one", "b.second->two"),
    );

  for (const [what, expression, logged] of [
    ["throws", "trig.data.missing.deep > 1", /threw, counted as false/],
    ["is a number", "trig.data.n", /not a boolean: counted as false/],
    ["is a string", "'yes'", /not a boolean: counted as false/],
  ] as const) {
    it(`a condition that ${what} counts as false and says so in the log`, async () => {
      const record = await run(flow(expression));
      expect(record.status).toBe("success");
      const steps = stepsByName(record);
      expect(steps.b!.success).toBe(true);
      expect(steps.b!.output).toEqual({ conditionId: "b.second" });
      expect(steps.b!.log).toMatch(logged);
      expect(steps.one).toBeUndefined();
      expect(steps.two!.output).toBe(2);
    });
  }

  it("with no condition left and no else, no path is taken and the run succeeds", async () => {
    const record = await run(
      doc(
        [branch("b", [{ id: "x", expression: "nope.data" }]), code("after", "return 1")],
        edges("trigger->b", "b.x->after"),
      ),
    );
    expect(record.status).toBe("success");
    expect(stepsByName(record).b!.output).toEqual({ conditionId: null });
    expect(stepsByName(record).after).toBeUndefined();
  });
});
