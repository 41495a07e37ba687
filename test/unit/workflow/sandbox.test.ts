import { describe, expect, it } from "vitest";
import { Sandbox, SandboxError } from "../../../src/workflow/sandbox.js";
import { code, doc, edges, run, stepsByName } from "./build.js";

const sandbox = (vars: Record<string, unknown> = {}, timeoutMs = 300) => Sandbox.create(vars, { timeoutMs });

function failure(fn: () => unknown): SandboxError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SandboxError);
    return error as SandboxError;
  }
  throw new Error("expected the sandbox to refuse");
}

describe("customCode: a hard time limit (Ava's has none)", () => {
  it("stops a busy loop", () => {
    const e = failure(() => sandbox().runCode("while (true) {}", 100));
    expect(e.timedOut).toBe(true);
    expect(e.message).toMatch(/time limit of 100 ms/);
  });

  it("stops an endless chain of promise jobs", () => {
    const e = failure(() => sandbox().runCode("for (;;) { await null; }", 100));
    expect(e.timedOut).toBe(true);
  });

  it("reports code that awaits something that can never settle", () => {
    expect(failure(() => sandbox().runCode("await new Promise(() => {}); return 1")).message).toMatch(
      /never finished/,
    );
  });

  it("a node past its limit fails its step and the run goes on to a verdict", async () => {
    const record = await run(
      doc(
        [code("spin", "while (true) {}"), code("fine", "return 'done'")],
        edges("trigger->spin", "trigger->fine"),
      ),
      { limits: { codeTimeoutMs: 100 } },
    );
    expect(record.status).toBe("failed");
    const steps = stepsByName(record);
    expect(steps.spin!.error).toMatch(/time limit of 100 ms/);
    expect(steps.fine!.output).toBe("done");
  });

  it("a node's own timeoutMs is capped by the run's limit", async () => {
    const record = await run(
      doc(
        [
          {
            id: "spin",
            name: "spin",
            type: "customCode",
            config: { source: "while (true) {}", timeoutMs: 60_000 },
          },
        ],
        edges("trigger->spin"),
      ),
      { limits: { codeTimeoutMs: 100 } },
    );
    expect(stepsByName(record).spin!.error).toMatch(/time limit of 100 ms/);
  });
});

describe("customCode: the sandbox has no way out", () => {
  const cases: Array<[string, unknown]> = [
    ["return typeof process", "undefined"],
    ["return typeof require", "undefined"],
    [
      "return typeof module + typeof globalThis.process + typeof fetch + typeof setTimeout",
      "undefinedundefinedundefinedundefined",
    ],
    ["return typeof Atomics + typeof SharedArrayBuffer + typeof WebAssembly", "undefinedundefinedundefined"],
    // the classic escape goes through a host object's constructor.constructor: here even the
    // global's is the sandbox's own Function
    [
      "return this.constructor.constructor === Function && globalThis.constructor.constructor === Function",
      true,
    ],
  ];
  for (const [source, expected] of cases) {
    it(source, () => {
      expect(sandbox().runCode(source)).toBe(expected);
    });
  }

  it("this.constructor.constructor('return process') cannot even compile the string", () => {
    expect(
      failure(() => sandbox().runCode("return this.constructor.constructor('return process')()")).message,
    ).toMatch(/Code generation from strings disallowed/);
  });

  it("variables are copies made inside the sandbox, so their constructors lead nowhere", () => {
    const sb = sandbox({ node: { data: { x: 1 } } });
    expect(sb.runCode("return node.data.constructor === Object")).toBe(true);
    expect(
      failure(() => sb.runCode("return node.data.constructor.constructor('return process')()")).message,
    ).toMatch(/Code generation from strings disallowed/);
  });

  it("eval and Function from strings are off; errors caught inside are sandbox errors", () => {
    expect(failure(() => sandbox().runCode("return eval('1')")).message).toMatch(/Code generation/);
    expect(
      sandbox().runCode(
        "try { null.x } catch (e) { return e instanceof TypeError && e.constructor === TypeError }",
      ),
    ).toBe(true);
  });

  it("import() is refused (it would hand the code a host error)", () => {
    expect(failure(() => sandbox().runCode('return await import("node:fs")')).message).toMatch(
      /import is not available/,
    );
  });

  it("a thrown Proxy or getter cannot run outside the time limit", () => {
    const e = failure(() =>
      sandbox().runCode(
        "throw new Proxy({}, { get() { for (;;) {} }, getPrototypeOf() { for (;;) {} } })",
        100,
      ),
    );
    expect(e.timedOut).toBe(true);
  });

  it("changes to globals do not leak from one sandbox to the next", () => {
    sandbox().runCode("globalThis.leak = 1; Array.prototype.evil = 1; return 1");
    expect(sandbox().runCode("return [typeof leak, typeof [].evil]")).toEqual(["undefined", "undefined"]);
  });

  it("console output is collected, bigint is shown as text, undefined returns null at the node", async () => {
    const sb = sandbox();
    expect(sb.runCode("console.log('a', {b: 1}); console.warn(2n); return 10n ** 20n")).toBe(
      "100000000000000000000",
    );
    expect(sb.logs()).toEqual(['a {"b":1}', "warn: 2"]);
    const record = await run(doc([code("n", "console.log('hi')")], edges("trigger->n")));
    expect(stepsByName(record).n!.output).toBeNull();
    expect(stepsByName(record).n!.log).toBe("hi");
  });

  it("a result that is not JSON fails clearly", () => {
    expect(failure(() => sandbox().runCode("const a = {}; a.a = a; return a")).message).toMatch(/circular/i);
  });
});
