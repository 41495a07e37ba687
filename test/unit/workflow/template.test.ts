import { describe, expect, it } from "vitest";
import { Sandbox } from "../../../src/workflow/sandbox.js";
import {
  containsTemplate,
  renderDeep,
  renderText,
  templateExpressions,
  unwrapExpression,
} from "../../../src/workflow/template.js";
import { code, doc, edges, run, stepsByName } from "./build.js";

const vars = {
  fetchPrice: { data: { price: "3000.5", tags: ["a", "b"] } },
  manualTrigger: { data: { symbol: "ETH" } },
  settings: { threshold: 2500, url: "http://127.0.0.1:9/p" },
  apContext: { configVars: { apiKey: "k-123" } },
  nothing: { data: null },
};
const sb = () => Sandbox.create(vars, { timeoutMs: 200 });

describe("{{ expression }} templates", () => {
  it("a field that is one template keeps the value's type", () => {
    expect(renderText("{{ settings.threshold }}", sb())).toBe(2500);
    expect(renderText("  {{ fetchPrice.data.tags }} ", sb())).toEqual(["a", "b"]);
    expect(renderText("{{ Number(fetchPrice.data.price) > settings.threshold }}", sb())).toBe(true);
  });

  it("templates inside text are spliced in as text", () => {
    expect(renderText("{{ settings.url }}?symbol={{ manualTrigger.data.symbol }}", sb())).toBe(
      "http://127.0.0.1:9/p?symbol=ETH",
    );
    expect(renderText("tags={{ fetchPrice.data.tags }} none={{ nothing.data }}.", sb())).toBe(
      'tags=["a","b"] none=.',
    );
    expect(renderText("Bearer {{ apContext.configVars.apiKey }}", sb())).toBe("Bearer k-123");
    expect(renderText("no templates here", sb())).toBe("no templates here");
  });

  it("renders every string of a JSON value, leaving keys alone", () => {
    expect(
      renderDeep({ "{{ k }}": ["{{ settings.threshold + 1 }}", 5, { s: "x{{ 1 + 1 }}" }] }, sb()),
    ).toEqual({
      "{{ k }}": [2501, 5, { s: "x2" }],
    });
  });

  it("an unknown variable or a throwing expression is an error naming the template", () => {
    expect(() => renderText("{{ missing.data }}", sb(), "url")).toThrow(
      /url \{\{ missing\.data \}\}.*missing is not defined/,
    );
  });

  it("expression fields may be bare or wrapped in one template", () => {
    expect(unwrapExpression("{{ a > 1 }}")).toBe("a > 1");
    expect(unwrapExpression(" a > 1 ")).toBe("a > 1");
    expect(unwrapExpression("{{ a }} and {{ b }}")).toBe("{{ a }} and {{ b }}");
    expect(templateExpressions("x {{ a }} y {{b.c}}")).toEqual(["a", "b.c"]);
    expect(containsTemplate({ a: [1, "{{ x }}"] })).toBe(true);
    expect(containsTemplate({ a: [1, "{ x }"] })).toBe(false);
  });

  it("template evaluation is bounded too", () => {
    expect(() => renderText("{{ (() => { for (;;) {} })() }}", sb())).toThrow(/time limit of 200 ms/);
  });
});

describe("filter and loop nodes", () => {
  const items = [
    { sym: "ETH", px: 3000 },
    { sym: "BTC", px: 60000 },
    { sym: "DOGE", px: 0.1 },
    { sym: "SOL", px: 150 },
  ];

  it("filter keeps the items whose predicate over value and index holds", async () => {
    const filter = (expression: string) =>
      run(
        doc(
          [
            code("src", "return list"),
            { id: "f", name: "f", type: "filter", config: { inputVariable: "{{ src.data }}", expression } },
          ],
          edges("trigger->src", "src->f"),
          { inputVariables: { list: items, min: 100 } },
        ),
      );
    expect(stepsByName(await filter("value.px >= min")).f!.output).toEqual([items[0], items[1], items[3]]);
    expect(stepsByName(await filter("{{ index % 2 === 1 }}")).f!.output).toEqual([items[1], items[3]]);
    const notArray = await run(
      doc(
        [{ id: "f", name: "f", type: "filter", config: { inputVariable: "min", expression: "true" } }],
        edges("trigger->f"),
        {
          inputVariables: { min: 1 },
        },
      ),
    );
    expect(stepsByName(notArray).f!.error).toMatch(/not an array/);
  });

  for (const executionMode of ["sequential", "parallel"] as const) {
    it(`loop (${executionMode}) runs its runner per item with iterVar and iterKey, output in input order`, async () => {
      const record = await run(
        doc(
          [
            {
              id: "l",
              name: "l",
              type: "loop",
              config: {
                inputVariable: "list",
                iterVar: "item",
                iterKey: "i",
                executionMode,
                runner: {
                  type: "customCode",
                  config: { source: "return i + ':' + item.sym + ':' + item.px * factor" },
                },
              },
            },
          ],
          edges("trigger->l"),
          { inputVariables: { list: items, factor: 2 } },
        ),
        { limits: { concurrency: 3 } },
      );
      expect(record.status).toBe("success");
      expect(stepsByName(record).l!.output).toEqual([
        "0:ETH:6000",
        "1:BTC:120000",
        "2:DOGE:0.2",
        "3:SOL:300",
      ]);
    });
  }

  it("a loop accepts Ava's iterVal and reports the failing iteration (lowest index in parallel mode)", async () => {
    const loop = (executionMode: string) =>
      run(
        doc(
          [
            {
              id: "l",
              name: "l",
              type: "loop",
              config: {
                inputVariable: "[1, 2, 3, 4]",
                iterVal: "n",
                executionMode,
                runner: {
                  type: "customCode",
                  config: { source: "if (n % 2 === 0) throw new Error('even ' + n); return n" },
                },
              },
            },
          ],
          edges("trigger->l"),
        ),
      );
    for (const mode of ["sequential", "parallel"]) {
      const step = stepsByName(await loop(mode)).l!;
      expect(step.success).toBe(false);
      expect(step.error).toMatch(/^iteration 1: custom code failed: even 2/);
    }
  });

  it("a retry policy on a loop applies to each iteration", async () => {
    const record = await run(
      doc(
        [
          {
            id: "l",
            name: "l",
            type: "loop",
            retry: { attempts: 2, backoffMs: 0 },
            config: {
              inputVariable: "[1, 2]",
              iterVar: "n",
              runner: {
                type: "customCode",
                config: { source: "if (n === 2) throw new Error('no'); return n" },
              },
            },
          },
        ],
        edges("trigger->l"),
      ),
    );
    const step = stepsByName(record).l!;
    expect(step.error).toMatch(/^iteration 1:/);
    expect(step.log).toContain("[1] [1] attempt 1 of 2 failed");
  });
});
