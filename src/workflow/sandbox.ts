/**
 * Where user JavaScript runs: expressions, templates, filter predicates and customCode.
 *
 * Each sandbox is a fresh `node:vm` context with its own realm. Nothing of the host realm is
 * handed in: variables cross as JSON text and results come back as JSON text, so no host
 * object (whose `constructor.constructor` would be the host's Function, and through it
 * `process`) is ever reachable. There is no `process`, `require`, `fetch`, timer, Atomics,
 * SharedArrayBuffer or WebAssembly inside. Every entry into the context goes through
 * `runInContext` with a timeout, and promise jobs run inside that same timeout
 * (`microtaskMode: "afterEvaluate"`), so `while (true) await null` is stopped as surely as
 * `while (true) {}`. Ava's custom code had no time limit; ours always has one.
 *
 * Two holes of node:vm are closed on purpose: `import()` would hand the code a host-realm
 * error (the callback that could make it a sandbox error needs --experimental-vm-modules),
 * so the word `import` is refused in user code and code generation from strings (eval,
 * Function) is off, which leaves no way to spell it at run time.
 *
 * The limit is on time, not memory: a sandbox runs in this process (the task engine's
 * customCode on one of its worker threads: code-pool.ts).
 */

import { types } from "node:util";
import vm from "node:vm";

/** A failure of user code: a throw, a syntax error, a timeout, or a non-JSON result. */
export class SandboxError extends Error {
  readonly timedOut: boolean;

  constructor(message: string, timedOut = false) {
    super(message);
    this.timedOut = timedOut;
    this.name = "SandboxError";
  }
}

const MAX_LOG_LINES = 200;
const MAX_LOG_LINE_CHARS = 2000;

// Helpers are frozen onto the global so user code cannot swap the function that reports
// its own result; a user who breaks JSON or Array.prototype only breaks their own node.
const PRELUDE = `
"use strict";
(() => {
  for (const name of ["SharedArrayBuffer", "Atomics", "WebAssembly"]) delete globalThis[name];
  const define = (name, value) =>
    Object.defineProperty(globalThis, name, { value, writable: false, configurable: false, enumerable: false });
  const stringify = JSON.stringify;
  const replacer = (_k, x) => (typeof x === "bigint" ? x.toString() : x);
  const out = (v) => {
    if (v === undefined) return "u";
    const s = stringify(v, replacer);
    return s === undefined ? "u" : "j" + s;
  };
  const errText = (e) => {
    try {
      if (e && typeof e === "object" && typeof e.message === "string") {
        return (typeof e.name === "string" && e.name !== "Error" ? e.name + ": " : "") + e.message;
      }
      return "threw " + String(e);
    } catch {
      return "threw a value that cannot be shown";
    }
  };
  const logs = [];
  const fmt = (v) => {
    if (typeof v === "string") return v;
    if (typeof v === "bigint") return v.toString();
    try {
      const s = stringify(v, replacer);
      return s === undefined ? String(v) : s;
    } catch {
      return String(v);
    }
  };
  const log = (level) => (...args) => {
    if (logs.length >= ${MAX_LOG_LINES}) return;
    const line = (level ? level + ": " : "") + args.map(fmt).join(" ");
    logs.push(line.length > ${MAX_LOG_LINE_CHARS} ? line.slice(0, ${MAX_LOG_LINE_CHARS}) + "..." : line);
  };
  globalThis.console = { log: log(""), info: log(""), debug: log(""), warn: log("warn"), error: log("error") };
  let state;
  define("__run", (fn) => {
    try {
      return "o" + out(fn());
    } catch (e) {
      return "e" + errText(e);
    }
  });
  define("__settle", (promise) => {
    state = undefined;
    Promise.resolve(promise).then(
      (v) => {
        try {
          state = "o" + out(v);
        } catch (e) {
          state = "e" + errText(e);
        }
      },
      (e) => {
        state = "e" + errText(e);
      },
    );
    return "ok";
  });
  define("__state", () => (state === undefined ? "p" : state));
  define("__logs", () => stringify(logs));
  define("__setVars", (json) => {
    const vars = JSON.parse(json);
    for (const key of Object.keys(vars)) {
      Object.defineProperty(globalThis, key, { value: vars[key], writable: true, configurable: true, enumerable: true });
    }
    return "ok";
  });
})();
`;

let preludeScript: vm.Script | undefined;

export interface SandboxOptions {
  /** Hard limit of each entry into the sandbox, in ms. */
  timeoutMs: number;
}

/**
 * A JavaScript realm holding the workflow variables as globals. Cheap enough (about 1 ms)
 * to make one per node execution.
 */
export class Sandbox {
  private readonly context: vm.Context;
  private readonly timeoutMs: number;

  private constructor(context: vm.Context, timeoutMs: number) {
    this.context = context;
    this.timeoutMs = timeoutMs;
  }

  /** A new realm with `variables` (JSON-safe values) as globals. */
  static create(variables: Record<string, unknown>, options: SandboxOptions): Sandbox {
    const context = vm.createContext(vm.constants.DONT_CONTEXTIFY, {
      name: "avsctl workflow sandbox",
      codeGeneration: { strings: false, wasm: false },
      microtaskMode: "afterEvaluate",
    });
    preludeScript ??= new vm.Script(PRELUDE, { filename: "sandbox-prelude.js" });
    preludeScript.runInContext(context, { timeout: options.timeoutMs });
    const sandbox = new Sandbox(context, options.timeoutMs);
    sandbox.setVariables(variables);
    return sandbox;
  }

  /** Adds or replaces globals (loop variables, filter inputs). */
  setVariables(variables: Record<string, unknown>): void {
    const json = JSON.stringify(variables, jsonReplacer);
    this.enter(`__setVars(${JSON.stringify(json)})`, this.timeoutMs, "setting variables");
  }

  /** Evaluates one JavaScript expression against the variables; the result as plain JSON. */
  evaluate(expression: string, what = "expression", timeoutMs = this.timeoutMs): unknown {
    refuseImport(expression, what);
    return this.result(this.enter(`__run(() => (\n${expression}\n))`, timeoutMs, what), what);
  }

  /**
   * Runs customCode: the source is the body of an async function, and what it `return`s is
   * the output. Console output is collected (see logs()).
   */
  runCode(source: string, timeoutMs = this.timeoutMs): unknown {
    const what = "custom code";
    refuseImport(source, what);
    this.enter(`__settle((async function () {\n${source}\n})())`, timeoutMs, what);
    const state = this.enter("__state()", timeoutMs, what);
    if (state === "p") {
      throw new SandboxError(`${what} never finished: it awaits a promise that nothing can settle`);
    }
    return this.result(state, what);
  }

  /** Indexes of the items for which `predicate` (over `value` and `index`) is truthy. */
  filterIndexes(items: unknown[], predicate: string, timeoutMs = this.timeoutMs): number[] {
    const what = "filter expression";
    refuseImport(predicate, what);
    this.setVariables({ __items: items });
    const code =
      "__run(() => { const kept = []; __items.forEach((value, index) => { if (\n" +
      predicate +
      "\n) kept.push(index); }); return kept; })";
    const kept = this.result(this.enter(code, timeoutMs, what), what);
    if (!Array.isArray(kept) || !kept.every((i) => Number.isSafeInteger(i))) {
      throw new SandboxError(`${what} did not run as a predicate`);
    }
    return kept as number[];
  }

  /** What console.log and friends printed so far. */
  logs(): string[] {
    try {
      const text = this.enter("__logs()", this.timeoutMs, "reading logs");
      const parsed = typeof text === "string" ? JSON.parse(text) : [];
      return Array.isArray(parsed) ? parsed.filter((l): l is string => typeof l === "string") : [];
    } catch {
      return [];
    }
  }

  private enter(code: string, timeoutMs: number, what: string): string {
    let script: vm.Script;
    try {
      script = new vm.Script(code, { filename: "workflow.js" });
    } catch (error) {
      // compiling happens in this realm: the error is ours
      const e = error as Error;
      throw new SandboxError(`${what}: ${e.name === "Error" ? "" : `${e.name}: `}${e.message}`);
    }
    let result: unknown;
    try {
      result = script.runInContext(this.context, { timeout: timeoutMs, breakOnSigint: false });
    } catch (error) {
      if (ownString(error, "code") === "ERR_SCRIPT_EXECUTION_TIMEOUT") {
        throw new SandboxError(`${what} exceeded its time limit of ${timeoutMs} ms`, true);
      }
      throw new SandboxError(
        `${what}: ${ownString(error, "message") ?? "threw a value from inside the sandbox"}`,
      );
    }
    // Only a string is trusted: code that broke out of our wrapper may return anything,
    // and touching a foreign object (a getter, a Proxy trap) would run it outside the limit.
    if (typeof result !== "string") throw new SandboxError(`${what} escaped its wrapper`);
    return result;
  }

  private result(tagged: string, what: string): unknown {
    if (tagged.startsWith("e")) throw new SandboxError(`${what} failed: ${tagged.slice(1)}`);
    if (tagged === "ou") return undefined;
    if (tagged.startsWith("oj")) return JSON.parse(tagged.slice(2));
    throw new SandboxError(`${what} returned something that is not JSON`);
  }
}

const IMPORT = /\bimport\b/;

function refuseImport(code: string, what: string): void {
  if (IMPORT.test(code)) throw new SandboxError(`${what}: import is not available in workflow code`);
}

function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

/**
 * An own data property of a thrown value, read without running anything of the sandbox: no
 * getter, no Proxy trap (what escapes runInContext may come from either realm).
 */
function ownString(value: unknown, key: string): string | undefined {
  if (typeof value !== "object" || value === null || types.isProxy(value)) return undefined;
  const descriptor = Object.getOwnPropertyDescriptor(value, key);
  return descriptor && "value" in descriptor && typeof descriptor.value === "string"
    ? descriptor.value
    : undefined;
}

/**
 * Syntax check without running anything: returns the problem, or undefined when `code`
 * compiles as an expression ("expression") or as an async function body ("code"). The
 * problem reads after what was checked: "is not valid JavaScript: ..." or "uses import, ...".
 */
export function syntaxError(code: string, kind: "expression" | "code"): string | undefined {
  if (IMPORT.test(code))
    return "uses import, which is not available in workflow code (no modules in the sandbox)";
  const wrapped = kind === "expression" ? `(\n${code}\n)` : `(async function () {\n${code}\n})`;
  const problem = compileProblem(() => new vm.Script(wrapped, { filename: "workflow.js" }));
  if (!problem) return undefined;
  const lines = code.split("\n").length;
  const userLine = problem.line === undefined ? undefined : problem.line - 1;
  if (userLine !== undefined && userLine >= 1 && userLine <= lines) {
    return `is not valid JavaScript: ${problem.message}${lines > 1 ? ` (line ${userLine})` : ""}`;
  }
  // The parser stopped in our wrapper: the text ended early ("Unexpected token ')'" where the
  // user wrote none) or closed the wrapper itself. Parsed without a wrapper, it fails on its
  // own text. A bare function body is not async: each await is blanked out (the operand
  // stays, so the syntax around it does), keeping lines and columns.
  const bare = compileProblem(() =>
    kind === "expression"
      ? new vm.Script(code, { filename: "workflow.js" })
      : vm.compileFunction(code.replace(/\bawait\b/g, "     "), [], { filename: "workflow.js" }),
  );
  if (!bare) return `is not valid JavaScript: ${problem.message}`;
  return `is not valid JavaScript: ${bare.message}${lines > 1 && bare.line !== undefined ? ` (line ${bare.line})` : ""}`;
}

/** The SyntaxError's message and line (in the compiled text) of a compile, or undefined. */
function compileProblem(compile: () => unknown): { message: string; line?: number } | undefined {
  try {
    compile();
    return undefined;
  } catch (error) {
    const e = error as Error;
    // V8 puts "<filename>:<line>" first in a SyntaxError's stack
    const line = /^workflow\.js:(\d+)/.exec(e.stack ?? "")?.[1];
    const message = e.name === "SyntaxError" || e.name === "Error" ? e.message : `${e.name}: ${e.message}`;
    return { message, ...(line === undefined ? {} : { line: Number(line) }) };
  }
}
