import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { formatOf, parseWorkflowText } from "../../../src/workflow/parse.js";
import {
  WORKFLOW_ERROR_CODES,
  type WorkflowErrorCode,
  type WorkflowProblem,
} from "../../../src/workflow/types.js";
import { validateWorkflow } from "../../../src/workflow/validate.js";
import { repoRoot } from "../../helpers/cli.js";
import { branch, code, doc, edges } from "./build.js";

const seen = new Set<WorkflowErrorCode>();

/** The problems of a document; records which codes the suite has exercised. */
async function problems(raw: unknown): Promise<WorkflowProblem[]> {
  const result = await validateWorkflow(raw);
  expect(result.valid).toBe(result.errors.length === 0);
  for (const e of result.errors) seen.add(e.code);
  return result.errors;
}

async function expectProblem(raw: unknown, code: WorkflowErrorCode, pathPrefix?: string) {
  const errors = await problems(raw);
  const hit = errors.find(
    (e) => e.code === code && (pathPrefix === undefined || e.path.startsWith(pathPrefix)),
  );
  expect(hit, `expected ${code} at ${pathPrefix ?? "*"} in ${JSON.stringify(errors)}`).toBeDefined();
  return errors;
}

const ABI = [
  {
    type: "function",
    name: "balanceOf",
    stateMutability: "view",
    inputs: [{ name: "who", type: "address" }],
    outputs: [{ name: "", type: "uint256" }],
  },
];

describe("workflow validation: the whole graph is checked up front", () => {
  it("accepts the example workflows", async () => {
    for (const file of ["price-check.json", "portfolio-loop.yaml"]) {
      const full = path.join(repoRoot, "examples", "workflows", file);
      const parsed = await parseWorkflowText(readFileSync(full, "utf8"), formatOf(full));
      expect(parsed.ok).toBe(true);
      const result = await validateWorkflow((parsed as { value: unknown }).value);
      expect(result.errors).toEqual([]);
      expect(result.valid).toBe(true);
    }
  });

  it("WF_PARSE_ERROR: neither JSON nor YAML", async () => {
    for (const [text, format] of [
      ["{ not json", "json"],
      ["a: [1, 2", "yaml"],
      ["{ broken", "auto"],
    ] as const) {
      const parsed = await parseWorkflowText(text, format);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) {
        expect(parsed.problem.code).toBe("WF_PARSE_ERROR");
        seen.add(parsed.problem.code);
      }
    }
    const yaml = await parseWorkflowText("name: x\nnodes: []\n", "auto");
    expect(yaml).toEqual({ ok: true, value: { name: "x", nodes: [] } });
  });

  it("WF_INVALID_SHAPE: not an object, missing nodes, wrong field types", async () => {
    await expectProblem(42, "WF_INVALID_SHAPE", "");
    await expectProblem({ trigger: doc([], []).trigger }, "WF_INVALID_SHAPE", "nodes");
    await expectProblem(doc([code("a", "return 1")], "nope" as never), "WF_INVALID_SHAPE", "edges");
    await expectProblem(
      doc([{ id: "a", type: "customCode", config: {} }], []),
      "WF_INVALID_SHAPE",
      "nodes[0].name",
    );
    await expectProblem(
      doc([code("a", "return 1")], edges("trigger->a"), { trigger: undefined }),
      "WF_INVALID_SHAPE",
      "trigger",
    );
  });

  it("a trigger refused for its type is reported there only: its edges are not called dangling", async () => {
    const hourly = {
      ...doc([code("a", "return 1")], edges("trigger->a")),
      trigger: { id: "trigger", name: "t", type: "hourly", config: {} },
    };
    expect((await problems(hourly)).map((e) => `${e.code} ${e.path}`)).toEqual([
      "WF_UNKNOWN_TRIGGER_TYPE trigger.type",
    ]);
  });

  it("WF_UNKNOWN_TRIGGER_TYPE and WF_INVALID_TRIGGER_CONFIG", async () => {
    const base = doc([code("a", "return 1")], edges("trigger->a"));
    const withTrigger = (type: string, config: unknown) => ({
      ...base,
      trigger: { id: "trigger", name: "t", type, config },
    });
    await expectProblem(withTrigger("webhook", {}), "WF_UNKNOWN_TRIGGER_TYPE", "trigger.type");
    await expectProblem(
      withTrigger("cron", { schedules: ["every minute"] }),
      "WF_INVALID_TRIGGER_CONFIG",
      "trigger.config.schedules[0]",
    );
    await expectProblem(withTrigger("block", {}), "WF_INVALID_TRIGGER_CONFIG", "trigger.config.interval");
    await expectProblem(
      withTrigger("fixedTime", { epochs: [] }),
      "WF_INVALID_TRIGGER_CONFIG",
      "trigger.config.epochs",
    );
    await expectProblem(
      withTrigger("event", { queries: [{ addresses: ["0x12"] }] }),
      "WF_INVALID_TRIGGER_CONFIG",
      "trigger.config.queries[0].addresses[0]",
    );
    for (const [type, config] of [
      ["cron", { schedules: ["*/5 * * * *"] }],
      ["block", { interval: 10 }],
      ["fixedTime", { epochs: [1_700_000_000_000] }],
      ["event", { queries: [{ addresses: ["0x5FbDB2315678afecb367f032d93F642f64180aa3"], topics: [] }] }],
    ] as const) {
      expect(await problems(withTrigger(type, config))).toEqual([]);
    }
  });

  it("an event trigger's topics are hex, a signature for topic0, or null: nothing else is read as any", async () => {
    const base = doc([code("a", "return 1")], edges("trigger->a"));
    const EMITTER = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
    const event = (config: unknown) => ({
      ...base,
      trigger: { id: "trigger", name: "t", type: "event", config },
    });
    const withTopics = (topics: unknown) => event({ queries: [{ addresses: [EMITTER], topics }] });
    const errorsAt = async (raw: unknown) => (await problems(raw)).map((e) => `${e.code} ${e.path}`);
    const HASH = `0x${"ab".repeat(32)}`;
    for (const topics of [
      ["Pong(uint256)"],
      [{ values: ["Pong(uint256)", "0x2b"] }],
      [HASH, null, ["0x2b", HASH]],
      [{ values: [HASH, ""] }],
    ]) {
      expect(await problems(withTopics(topics)), JSON.stringify(topics)).toEqual([]);
    }
    expect(await errorsAt(withTopics(["0x2b"]))).toEqual([
      "WF_INVALID_TRIGGER_CONFIG trigger.config.queries[0].topics[0]",
    ]);
    expect(await errorsAt(withTopics([{ values: [HASH, "Pong(uint256)"] }]))).toEqual([
      "WF_INVALID_TRIGGER_CONFIG trigger.config.queries[0].topics[0].values[1]",
    ]);
    expect(await errorsAt(withTopics([HASH, `0x${"1".repeat(66)}`]))).toEqual([
      "WF_INVALID_TRIGGER_CONFIG trigger.config.queries[0].topics[1]",
    ]);
    expect(await errorsAt(withTopics([HASH, 42, [HASH, null], []]))).toEqual([
      "WF_INVALID_TRIGGER_CONFIG trigger.config.queries[0].topics[1]",
      "WF_INVALID_TRIGGER_CONFIG trigger.config.queries[0].topics[2][1]",
      "WF_INVALID_TRIGGER_CONFIG trigger.config.queries[0].topics[3]",
    ]);
    expect(await errorsAt(withTopics([HASH, null, null, null, HASH]))).toEqual([
      "WF_INVALID_TRIGGER_CONFIG trigger.config.queries[0].topics",
    ]);
    // expression alone matches nothing the watcher reads; beside queries it would be ignored
    expect(await errorsAt(event({ expression: "topics[0] == '0x01'" }))).toEqual([
      "WF_INVALID_TRIGGER_CONFIG trigger.config.expression",
      "WF_INVALID_TRIGGER_CONFIG trigger.config.queries",
    ]);
    expect(
      await errorsAt(event({ queries: [{ addresses: [EMITTER], topics: [HASH] }], expression: "true" })),
    ).toEqual(["WF_INVALID_TRIGGER_CONFIG trigger.config.expression"]);
    // a query with no address would watch nothing
    expect(await errorsAt(event({ queries: [{ topics: [HASH] }] }))).toEqual([
      "WF_INVALID_TRIGGER_CONFIG trigger.config.queries[0].addresses",
    ]);
    expect(await errorsAt(event({ queries: [] }))).toEqual([
      "WF_INVALID_TRIGGER_CONFIG trigger.config.queries",
    ]);
  });

  it("WF_UNKNOWN_NODE_TYPE, for nodes and loop runners", async () => {
    await expectProblem(
      doc([{ id: "a", name: "a", type: "sendEmail", config: {} }], edges("trigger->a")),
      "WF_UNKNOWN_NODE_TYPE",
      "nodes[0].type",
    );
    const loop = {
      id: "l",
      name: "l",
      type: "loop",
      config: { inputVariable: "[1]", iterVar: "x", runner: { type: "teleport", config: {} } },
    };
    await expectProblem(
      doc([loop], edges("trigger->l")),
      "WF_UNKNOWN_NODE_TYPE",
      "nodes[0].config.runner.type",
    );
  });

  it("WF_UNKNOWN_NODE_TYPE is the only problem of edges to and from that node", async () => {
    // the node is in the document; only its type is unknown, so no edge of it dangles
    const nodes = [
      code("fetchPrice", "return 1"),
      { id: "quote", name: "quote", type: "pythonCode", config: {} },
      branch("check", [
        { id: "high", expression: "true" },
        { id: "low", type: "else" },
      ]),
      code("alert", "return 1"),
    ];
    const wiring = edges("trigger->fetchPrice", "fetchPrice->quote", "quote->check", "check.high->alert");
    expect((await problems(doc(nodes, wiring))).map((e) => [e.code, e.path])).toEqual([
      ["WF_UNKNOWN_NODE_TYPE", "nodes[1].type"],
    ]);
    // the same for a branch left out for its type: edges from its conditions do not dangle
    const unknownBranch = nodes.map((n) => (n.id === "check" ? { ...n, type: "switch" } : n));
    expect((await problems(doc(unknownBranch, wiring))).map((e) => [e.code, e.path])).toEqual([
      ["WF_UNKNOWN_NODE_TYPE", "nodes[1].type"],
      ["WF_UNKNOWN_NODE_TYPE", "nodes[2].type"],
    ]);
    // a node without config is left out too, and its edges are not blamed
    const noConfig = [code("a", "return 1"), { id: "b", name: "b", type: "customCode" }];
    expect((await problems(doc(noConfig, edges("trigger->a", "a->b")))).map((e) => [e.code, e.path])).toEqual(
      [["WF_INVALID_SHAPE", "nodes[1].config"]],
    );
  });

  it("WF_INVALID_CONFIG: missing or invalid configs per node type", async () => {
    const one = (node: unknown) => doc([node], edges("trigger->n"));
    const cases: Array<[unknown, string]> = [
      [{ id: "n", name: "n", type: "restApi", config: {} }, "nodes[0].config.url"],
      [{ id: "n", name: "n", type: "restApi", config: { url: "ftp://x" } }, "nodes[0].config.url"],
      [
        { id: "n", name: "n", type: "restApi", config: { url: "http://x", method: "FETCH" } },
        "nodes[0].config.method",
      ],
      [{ id: "n", name: "n", type: "graphqlQuery", config: { url: "http://x" } }, "nodes[0].config.query"],
      [
        {
          id: "n",
          name: "n",
          type: "contractRead",
          config: { contractAddress: "0x1", contractAbi: ABI, methodCalls: [] },
        },
        "nodes[0].config.contractAddress",
      ],
      [
        {
          id: "n",
          name: "n",
          type: "contractRead",
          config: {
            contractAddress: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
            contractAbi: "[oops",
            methodCalls: [{ methodName: "balanceOf", methodParams: ["0x"] }],
          },
        },
        "nodes[0].config.contractAbi",
      ],
      [
        {
          id: "n",
          name: "n",
          type: "contractRead",
          config: {
            contractAddress: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
            contractAbi: ABI,
            methodCalls: [{ methodName: "totalSupply", methodParams: [] }],
          },
        },
        "nodes[0].config.methodCalls[0].methodName",
      ],
      [
        {
          id: "n",
          name: "n",
          type: "contractRead",
          config: {
            contractAddress: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
            contractAbi: ABI,
            methodCalls: [{ methodName: "balanceOf", methodParams: [] }],
          },
        },
        "nodes[0].config.methodCalls[0].methodParams",
      ],
      [
        {
          id: "n",
          name: "n",
          type: "contractWrite",
          config: {
            contractAddress: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
            contractAbi: ABI,
            methodCalls: [{ methodName: "balanceOf", methodParams: ["{{ x }}"] }],
            value: "lots",
          },
        },
        "nodes[0].config.value",
      ],
      [
        {
          id: "n",
          name: "n",
          type: "ethTransfer",
          config: { destination: "0x5FbDB2315678afecb367f032d93F642f64180aa3" },
        },
        "nodes[0].config.amount",
      ],
      [
        { id: "n", name: "n", type: "customCode", config: { lang: "python", source: "return 1" } },
        "nodes[0].config.lang",
      ],
      [{ id: "n", name: "n", type: "branch", config: { conditions: [] } }, "nodes[0].config.conditions"],
      [
        {
          id: "n",
          name: "n",
          type: "branch",
          config: {
            conditions: [
              { id: "e", type: "else" },
              { id: "i", type: "if", expression: "true" },
            ],
          },
        },
        "nodes[0].config.conditions[0]",
      ],
      [
        { id: "n", name: "n", type: "filter", config: { expression: "value > 1" } },
        "nodes[0].config.inputVariable",
      ],
      [
        {
          id: "n",
          name: "n",
          type: "loop",
          config: {
            inputVariable: "[1]",
            iterVar: "x",
            runner: { type: "branch", config: { conditions: [] } },
          },
        },
        "nodes[0].config.runner.type",
      ],
      [
        {
          id: "n",
          name: "n",
          type: "loop",
          config: { inputVariable: "[1]", runner: { type: "customCode", config: { source: "return 1" } } },
        },
        "nodes[0].config.iterVar",
      ],
      [
        {
          id: "n",
          name: "n",
          type: "loop",
          config: { inputVariable: "[1]", iterVar: "x", runner: { type: "restApi", config: {} } },
        },
        "nodes[0].config.runner.config.url",
      ],
      [
        {
          id: "n",
          name: "n",
          type: "loop",
          config: {
            inputVariable: "[1]",
            iterVar: "x",
            executionMode: "eager",
            runner: { type: "customCode", config: { source: "return 1" } },
          },
        },
        "nodes[0].config.executionMode",
      ],
    ];
    for (const [node, at] of cases) await expectProblem(one(node), "WF_INVALID_CONFIG", at);
  });

  it("accepts Ava's spellings: iterVal, a JSON-string ABI, the oneof runner form", async () => {
    const loop = {
      id: "n",
      name: "n",
      type: "loop",
      config: {
        inputVariable: "{{ [1, 2] }}",
        iterVal: "x",
        runner: { customCode: { config: { lang: "JavaScript", source: "return x" } } },
      },
    };
    const read = {
      id: "r",
      name: "r",
      type: "contractRead",
      config: {
        contractAddress: "{{ token }}",
        contractAbi: JSON.stringify(ABI),
        methodCalls: [{ methodName: "balanceOf", methodParams: ["{{ who }}"] }],
      },
    };
    const result = await validateWorkflow(doc([loop, read], edges("trigger->n", "trigger->r")));
    expect(result.errors).toEqual([]);
    const normalized = result.workflow!.nodes[0]!;
    expect(normalized.type === "loop" && normalized.config.iterVar).toBe("x");
    expect(normalized.type === "loop" && normalized.config.runner.type).toBe("customCode");
  });

  it("WF_INVALID_EXPRESSION: syntax errors in conditions, filters, templates and code, and import", async () => {
    await expectProblem(
      doc([branch("b", [{ id: "c", type: "if", expression: "price >" }])], edges("trigger->b")),
      "WF_INVALID_EXPRESSION",
      "nodes[0].config.conditions[0].expression",
    );
    await expectProblem(
      doc(
        [
          {
            id: "f",
            name: "f",
            type: "filter",
            config: { inputVariable: "x.data", expression: "value ===" },
          },
        ],
        edges("trigger->f"),
      ),
      "WF_INVALID_EXPRESSION",
      "nodes[0].config.expression",
    );
    await expectProblem(
      doc(
        [{ id: "r", name: "r", type: "restApi", config: { url: "http://x/{{ a.( }}" } }],
        edges("trigger->r"),
      ),
      "WF_INVALID_EXPRESSION",
      "nodes[0].config.url",
    );
    await expectProblem(
      doc([code("c", "return (")], edges("trigger->c")),
      "WF_INVALID_EXPRESSION",
      "nodes[0].config.source",
    );
    await expectProblem(
      doc([code("c", 'const fs = await import("node:fs"); return 1')], edges("trigger->c")),
      "WF_INVALID_EXPRESSION",
      "nodes[0].config.source",
    );
  });

  it("WF_INVALID_EXPRESSION speaks of the text written, not of the engine's wrapper", async () => {
    const messageOf = async (raw: unknown) =>
      (await problems(raw)).find((e) => e.code === "WF_INVALID_EXPRESSION")!.message;
    // the wrapper's closing parenthesis used to be reported: "Unexpected token ')'"
    expect(
      await messageOf(
        doc(
          [branch("b", [{ id: "high", type: "if", expression: "Number(quote.data.price >" }])],
          edges("trigger->b"),
        ),
      ),
    ).toBe('condition high: "Number(quote.data.price >" is not valid JavaScript: Unexpected end of input');
    expect(
      await messageOf(
        doc(
          [{ id: "r", name: "r", type: "restApi", config: { url: "http://x/{{ a + }}" } }],
          edges("trigger->r"),
        ),
      ),
    ).toBe("template {{ a + }} is not valid JavaScript: Unexpected end of input");
    // an unmatched ")" of the user's is still named
    expect(await messageOf(doc([branch("b", [{ id: "c", expression: "a)" }])], edges("trigger->b")))).toBe(
      `condition c: "a)" is not valid JavaScript: Unexpected token ')'`,
    );
    // custom code: its wrapper's "}" is not reported either; a line is named in longer code
    expect(await messageOf(doc([code("c", "return (1")], edges("trigger->c")))).toBe(
      "custom code is not valid JavaScript: Unexpected end of input",
    );
    expect(await messageOf(doc([code("c", "await null;\nreturn [1,")], edges("trigger->c")))).toBe(
      "custom code is not valid JavaScript: Unexpected end of input (line 2)",
    );
    expect(await messageOf(doc([code("c", "const a = 1\nreturn a b")], edges("trigger->c")))).toBe(
      "custom code is not valid JavaScript: Unexpected identifier 'b' (line 2)",
    );
  });

  it("WF_INVALID_NAME: node names must be JavaScript identifiers, not reserved", async () => {
    for (const name of ["fetch-price", "1st", "class", "apContext", "__proto__", ""]) {
      const errors = await problems(doc([{ ...code("a", "return 1"), name }], edges("trigger->a")));
      expect(
        errors.some((e) => e.code === "WF_INVALID_NAME" || (name === "" && e.code === "WF_INVALID_SHAPE")),
        name,
      ).toBe(true);
    }
    await expectProblem(
      {
        ...doc([code("a", "return 1")], edges("trigger->a")),
        trigger: { id: "trigger", name: "my trigger", type: "manual", config: {} },
      },
      "WF_INVALID_NAME",
      "trigger.name",
    );
    await expectProblem(
      doc([code("a", "return 1")], edges("trigger->a"), { inputVariables: { "bad-key": 1 } }),
      "WF_INVALID_NAME",
      "inputVariables",
    );
  });

  it("WF_DUPLICATE_NAME and WF_DUPLICATE_ID", async () => {
    await expectProblem(
      doc(
        [code("a", "return 1"), { ...code("b", "return 2"), name: "a" }],
        edges("trigger->a", "trigger->b"),
      ),
      "WF_DUPLICATE_NAME",
      "nodes[1].name",
    );
    await expectProblem(
      doc([code("a", "return 1"), { ...code("a", "return 2"), name: "b" }], edges("trigger->a")),
      "WF_DUPLICATE_ID",
      "nodes[1].id",
    );
    await expectProblem(doc([code("trigger", "return 1")], []), "WF_DUPLICATE_ID", "nodes[0].id");
    await expectProblem(
      doc(
        [code("a", "return 1"), code("b", "return 1")],
        [
          { id: "e", source: "trigger", target: "a" },
          { id: "e", source: "trigger", target: "b" },
        ],
      ),
      "WF_DUPLICATE_ID",
      "edges[1].id",
    );
    await expectProblem(
      doc(
        [
          branch("b", [
            { id: "x", expression: "true" },
            { id: "x", expression: "false" },
          ]),
        ],
        edges("trigger->b"),
      ),
      "WF_DUPLICATE_ID",
      "nodes[0].config.conditions[1].id",
    );
  });

  it("WF_VARIABLE_CONFLICT: an input variable or loop variable named like a node", async () => {
    await expectProblem(
      doc([code("price", "return 1")], edges("trigger->price"), { inputVariables: { price: 3 } }),
      "WF_VARIABLE_CONFLICT",
      "inputVariables.price",
    );
    const loop = {
      id: "l",
      name: "l",
      type: "loop",
      config: {
        inputVariable: "[1]",
        iterVar: "price",
        runner: { type: "customCode", config: { source: "return 1" } },
      },
    };
    await expectProblem(
      doc([code("price", "return 1"), loop], edges("trigger->price", "price->l")),
      "WF_VARIABLE_CONFLICT",
      "nodes[1].config",
    );
  });

  it("WF_DANGLING_EDGE: an edge from or to nothing", async () => {
    await expectProblem(
      doc([code("a", "return 1")], edges("trigger->a", "a->ghost")),
      "WF_DANGLING_EDGE",
      "edges[1].target",
    );
    await expectProblem(
      doc([code("a", "return 1")], edges("trigger->a", "ghost->a")),
      "WF_DANGLING_EDGE",
      "edges[1].source",
    );
  });

  it("WF_UNKNOWN_CONDITION: an edge from a branch condition that does not exist", async () => {
    const nodes = [
      branch("b", [
        { id: "yes", expression: "true" },
        { id: "no", type: "else" },
      ]),
      code("a", "return 1"),
    ];
    const errors = await expectProblem(
      doc(nodes, edges("trigger->b", "b.maybe->a")),
      "WF_UNKNOWN_CONDITION",
      "edges[1].source",
    );
    expect(errors.find((e) => e.code === "WF_UNKNOWN_CONDITION")!.message).toContain("yes, no");
  });

  it("WF_INVALID_EDGE: a branch edge without condition, into the trigger, a condition on a non-branch, twice", async () => {
    const nodes = [branch("b", [{ id: "yes", expression: "true" }]), code("a", "return 1")];
    await expectProblem(doc(nodes, edges("trigger->b", "b->a")), "WF_INVALID_EDGE", "edges[1].source");
    await expectProblem(
      doc([code("a", "return 1")], edges("trigger->a", "a->trigger")),
      "WF_INVALID_EDGE",
      "edges[1].target",
    );
    await expectProblem(
      doc([code("a", "return 1"), code("c", "return 1")], edges("trigger->a", "a.x->c")),
      "WF_INVALID_EDGE",
      "edges[1].source",
    );
    await expectProblem(
      doc([code("a", "return 1")], edges("trigger->a", "trigger->a")),
      "WF_INVALID_EDGE",
      "edges[1]",
    );
  });

  it("WF_CYCLE: cycles are found before anything runs, self-loops included", async () => {
    const errors = await expectProblem(
      doc(
        [code("a", "return 1"), code("b", "return 1"), code("c", "return 1")],
        edges("trigger->a", "a->b", "b->c", "c->a"),
      ),
      "WF_CYCLE",
    );
    expect(errors.find((e) => e.code === "WF_CYCLE")!.message).toContain("a -> b -> c -> a");
    const self = await expectProblem(
      doc([code("a", "return 1")], edges("trigger->a", "a->a")),
      "WF_CYCLE",
      "nodes[0]",
    );
    expect(self.find((e) => e.code === "WF_CYCLE")!.message).toBe("cycle through a -> a");
  });

  it("WF_CYCLE names one real cycle, edge by edge, when its component has branches", async () => {
    // every node is in one strongly connected component, but alertHigh and alertLow are
    // alternatives: no cycle passes through both
    const nodes = [
      code("fetchPrice", "return 1"),
      code("quote", "return 1"),
      branch("checkPrice", [
        { id: "high", expression: "true" },
        { id: "low", type: "else" },
      ]),
      code("alertHigh", "return 1"),
      code("alertLow", "return 1"),
      code("report", "return 1"),
    ];
    const wiring = edges(
      "trigger->fetchPrice",
      "fetchPrice->quote",
      "quote->checkPrice",
      "checkPrice.high->alertHigh",
      "checkPrice.low->alertLow",
      "alertHigh->report",
      "alertLow->report",
      "report->fetchPrice",
    );
    const graphEdges = new Set(wiring.map((e) => `${e.source.split(".")[0]}->${e.target}`));
    const errors = await expectProblem(doc(nodes, wiring), "WF_CYCLE", "nodes[0]");
    const cycles = errors.filter((e) => e.code === "WF_CYCLE");
    expect(cycles).toHaveLength(1);
    const names = cycles[0]!.message.replace(/^cycle through /, "").split(" -> ");
    expect(names[0]).toBe(names.at(-1));
    for (let i = 0; i + 1 < names.length; i++) {
      expect(graphEdges, `${names[i]} -> ${names[i + 1]}`).toContain(`${names[i]}->${names[i + 1]}`);
    }
    expect(new Set(names.slice(0, -1)).size).toBe(names.length - 1);
    expect(cycles[0]!.message).toBe(
      "cycle through fetchPrice -> quote -> checkPrice -> alertHigh -> report -> fetchPrice",
    );
  });

  it("WF_UNREACHABLE: nodes the trigger never leads to", async () => {
    const errors = await expectProblem(
      doc([code("a", "return 1"), code("island", "return 1")], edges("trigger->a")),
      "WF_UNREACHABLE",
      "nodes[1]",
    );
    expect(errors).toHaveLength(1);
  });

  it("WF_INVALID_SCHEDULE: expiredAt before startAt", async () => {
    await expectProblem(
      doc([code("a", "return 1")], edges("trigger->a"), { startAt: 2000, expiredAt: 1000 }),
      "WF_INVALID_SCHEDULE",
      "expiredAt",
    );
    expect(
      await problems(
        doc([code("a", "return 1")], edges("trigger->a"), {
          startAt: 1000,
          expiredAt: 2000,
          maxExecution: 3,
        }),
      ),
    ).toEqual([]);
  });

  it("WF_INVALID_RETRY: attempts 1..10, backoff 0..60000 ms", async () => {
    for (const retry of [{ attempts: 0 }, { attempts: 11 }, { attempts: 2, backoffMs: -1 }, "3", {}]) {
      await expectProblem(
        doc([code("a", "return 1", { retry })], edges("trigger->a")),
        "WF_INVALID_RETRY",
        "nodes[0].retry",
      );
    }
  });

  it("reports every problem at once, each with a path", async () => {
    const errors = await problems(
      doc(
        [
          { ...code("a", "return ("), name: "bad name" },
          { id: "b", name: "b", type: "nope", config: {} },
        ],
        edges("trigger->a", "a->ghost"),
      ),
    );
    expect(errors.map((e) => e.code).sort()).toEqual([
      "WF_DANGLING_EDGE",
      "WF_INVALID_EXPRESSION",
      "WF_INVALID_NAME",
      "WF_UNKNOWN_NODE_TYPE",
    ]);
    for (const e of errors) expect(e.path).not.toBe("");
  });

  // last in the file: tests run in order, so every test above has added its codes
  it("every stable code is produced by a test above", () => {
    expect([...seen].sort()).toEqual([...WORKFLOW_ERROR_CODES].sort());
  });
});
