/**
 * Checks a whole workflow up front, where Ava's engine found cycles and dangling edges only
 * at run time: shapes and per-type configs, names, ids, edges, branch conditions, cycles,
 * reachability, and the syntax of every expression, template and custom code. Returns every
 * problem found (not only the first) with a stable code and a path into the document, and
 * the normalised workflow when there are none.
 */

import { Cron } from "croner";
import { analyzeGraph, type ResolvedEdge } from "./graph.js";
import { syntaxError } from "./sandbox.js";
import { templateExpressions, unwrapExpression } from "./template.js";
import {
  type BranchCondition,
  LOOP_RUNNER_TYPES,
  type LoopRunnerType,
  type MethodCall,
  NODE_TYPES,
  type NodeType,
  type RetryPolicy,
  TRIGGER_TYPES,
  type ValidationResult,
  type Workflow,
  type WorkflowEdge,
  type WorkflowErrorCode,
  type WorkflowNode,
  type WorkflowProblem,
  type WorkflowTrigger,
  type WorkflowTriggerType,
} from "./types.js";

export const MAX_NODES = 1000;
export const MAX_EDGES = 5000;
export const MAX_CODE_TIMEOUT_MS = 60_000;
export const MAX_HTTP_TIMEOUT_MS = 300_000;
export const MAX_RETRY_ATTEMPTS = 10;
export const MAX_RETRY_BACKOFF_MS = 60_000;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const RESERVED_WORDS = new Set(
  (
    "await break case catch class const continue debugger default delete do else enum export extends false " +
    "finally for function if implements import in instanceof interface let new null package private " +
    "protected public return static super switch this throw true try typeof var void while with yield " +
    "arguments eval undefined NaN Infinity globalThis"
  ).split(" "),
);
/** Globals that templates and code rely on; a node of that name would hide them. */
const RESERVED_NAMES = new Set([
  "apContext",
  "value",
  "index",
  "JSON",
  "Math",
  "Object",
  "Array",
  "String",
  "Number",
  "Boolean",
  "Date",
  "BigInt",
  "Promise",
  "Error",
  "RegExp",
  "Map",
  "Set",
  "console",
  "parseInt",
  "parseFloat",
  "isNaN",
]);

const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const HEX = /^0x([0-9a-fA-F]{2})*$/;
const AMOUNT = /^\s*\d+(\.\d+)?\s*(wei|gwei|eth)?\s*$/i;

/** Whether `name` can be a variable of templates and code (a node, trigger or input name). */
export function isValidVariableName(name: string): boolean {
  return IDENTIFIER.test(name) && !RESERVED_WORDS.has(name) && !name.startsWith("__");
}

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

class Problems {
  readonly list: WorkflowProblem[] = [];
  add(code: WorkflowErrorCode, path: string, message: string): void {
    this.list.push({ code, message, path });
  }
}

function join(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

/** Field readers that record a problem and return undefined on a wrong type. */
class Fields {
  constructor(
    private readonly p: Problems,
    private readonly obj: Obj,
    private readonly path: string,
    private readonly code: WorkflowErrorCode,
  ) {}

  at(key: string): string {
    return join(this.path, key);
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== null;
  }

  raw(key: string): unknown {
    return this.obj[key];
  }

  string(key: string, required: boolean): string | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (required) this.p.add(this.code, this.at(key), `${key} is required`);
      return undefined;
    }
    if (typeof v !== "string") {
      this.p.add(this.code, this.at(key), `${key} must be a string`);
      return undefined;
    }
    if (required && v.trim() === "") {
      this.p.add(this.code, this.at(key), `${key} must not be empty`);
      return undefined;
    }
    return v;
  }

  int(key: string, min: number, max: number): number | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) return undefined;
    const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < min || n > max) {
      this.p.add(this.code, this.at(key), `${key} must be an integer from ${min} to ${max}`);
      return undefined;
    }
    return n;
  }

  object(key: string, required: boolean): Obj | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (required) this.p.add(this.code, this.at(key), `${key} is required`);
      return undefined;
    }
    if (!isObject(v)) {
      this.p.add(this.code, this.at(key), `${key} must be an object`);
      return undefined;
    }
    return v;
  }

  array(key: string, required: boolean): unknown[] | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (required) this.p.add(this.code, this.at(key), `${key} is required`);
      return undefined;
    }
    if (!Array.isArray(v)) {
      this.p.add(this.code, this.at(key), `${key} must be an array`);
      return undefined;
    }
    return v;
  }
}

/** Checks the syntax of every `{{ }}` template in a JSON-like value. */
function checkTemplates(p: Problems, value: unknown, path: string): void {
  if (typeof value === "string") {
    for (const expr of templateExpressions(value)) {
      const problem = syntaxError(expr, "expression");
      if (problem) p.add("WF_INVALID_EXPRESSION", path, `template {{ ${expr} }}: ${problem}`);
    }
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => {
      checkTemplates(p, v, join(path, i));
    });
  } else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) checkTemplates(p, v, join(path, k));
  }
}

function checkExpression(p: Problems, text: string, path: string, what: string): string {
  const expr = unwrapExpression(text);
  const problem = syntaxError(expr, "expression");
  if (problem) p.add("WF_INVALID_EXPRESSION", path, `${what}: ${problem}`);
  return expr;
}

/** A literal (no template) must already be what it claims to be. */
function literal(text: string): boolean {
  return !text.includes("{{");
}

function checkUrl(p: Problems, f: Fields, key: string): string | undefined {
  const url = f.string(key, true);
  if (url === undefined) return undefined;
  checkTemplates(p, url, f.at(key));
  if (literal(url)) {
    let ok = false;
    try {
      ok = ["http:", "https:"].includes(new URL(url).protocol);
    } catch {}
    if (!ok) p.add("WF_INVALID_CONFIG", f.at(key), `"${url}" is not an http(s) URL`);
  }
  return url;
}

function headersOf(p: Problems, f: Fields): Record<string, string> {
  const raw = f.raw("headers");
  if (raw === undefined || raw === null) return {};
  const headers: Record<string, string> = {};
  // Ava's clients send a map; some send [[name, value], ...] pairs or [{key, value}]: accept all
  const entries: Array<[unknown, unknown]> = isObject(raw)
    ? Object.entries(raw)
    : Array.isArray(raw)
      ? raw.map((e) =>
          Array.isArray(e) ? [e[0], e[1]] : isObject(e) ? [e.key ?? e.name, e.value] : [undefined, undefined],
        )
      : [];
  if (!isObject(raw) && !Array.isArray(raw)) {
    p.add("WF_INVALID_CONFIG", f.at("headers"), "headers must be an object of name: value");
    return {};
  }
  entries.forEach(([k, v], i) => {
    if (typeof k !== "string" || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k) || typeof v !== "string") {
      p.add("WF_INVALID_CONFIG", join(f.at("headers"), isObject(raw) ? String(k) : i), "bad header");
      return;
    }
    headers[k] = v;
  });
  checkTemplates(p, headers, f.at("headers"));
  return headers;
}

function timeoutOf(f: Fields, max: number): number | undefined {
  return f.int("timeoutMs", 1, max);
}

function restApiConfig(p: Problems, f: Fields) {
  const url = checkUrl(p, f, "url");
  const methodRaw = f.string("method", false) ?? "GET";
  const method = methodRaw.toUpperCase();
  if (!HTTP_METHODS.includes(method)) {
    p.add("WF_INVALID_CONFIG", f.at("method"), `method must be one of ${HTTP_METHODS.join(", ")}`);
  }
  const headers = headersOf(p, f);
  const body = f.raw("body");
  if (body !== undefined && body !== null && typeof body !== "string" && typeof body !== "object") {
    p.add("WF_INVALID_CONFIG", f.at("body"), "body must be a string or a JSON value");
  }
  checkTemplates(p, body, f.at("body"));
  const timeoutMs = timeoutOf(f, MAX_HTTP_TIMEOUT_MS);
  return {
    url: url ?? "",
    method,
    headers,
    ...(body === undefined || body === null || body === "" ? {} : { body: body as string }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  };
}

function graphqlConfig(p: Problems, f: Fields) {
  const url = checkUrl(p, f, "url");
  const query = f.string("query", true);
  if (query !== undefined) checkTemplates(p, query, f.at("query"));
  const variables = f.object("variables", false) ?? {};
  checkTemplates(p, variables, f.at("variables"));
  const headers = headersOf(p, f);
  const timeoutMs = timeoutOf(f, MAX_HTTP_TIMEOUT_MS);
  return {
    url: url ?? "",
    query: query ?? "",
    variables,
    headers,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  };
}

type AbiInterface = import("ethers").Interface;

async function contractConfig(p: Problems, f: Fields, write: boolean) {
  const contractAddress = f.string("contractAddress", true);
  if (contractAddress !== undefined) {
    checkTemplates(p, contractAddress, f.at("contractAddress"));
    if (literal(contractAddress) && !ADDRESS.test(contractAddress.trim())) {
      p.add("WF_INVALID_CONFIG", f.at("contractAddress"), `"${contractAddress}" is not an address`);
    }
  }
  // Ava stores the ABI as a JSON string; the REST shape is an array
  let abi: unknown = f.raw("contractAbi");
  if (typeof abi === "string") {
    try {
      abi = JSON.parse(abi);
    } catch {
      p.add("WF_INVALID_CONFIG", f.at("contractAbi"), "contractAbi is a string but not JSON");
      abi = undefined;
    }
  }
  let iface: AbiInterface | undefined;
  if (abi === undefined || abi === null) {
    p.add("WF_INVALID_CONFIG", f.at("contractAbi"), "contractAbi is required");
  } else if (!Array.isArray(abi)) {
    p.add("WF_INVALID_CONFIG", f.at("contractAbi"), "contractAbi must be a JSON ABI array");
  } else {
    const { Interface } = await import("ethers");
    try {
      iface = new Interface(abi as never);
    } catch (error) {
      p.add(
        "WF_INVALID_CONFIG",
        f.at("contractAbi"),
        `not a valid ABI: ${(error as Error).message.split("\n")[0]}`,
      );
    }
  }
  const calls = f.array("methodCalls", true) ?? [];
  if (f.has("methodCalls") && calls.length === 0) {
    p.add("WF_INVALID_CONFIG", f.at("methodCalls"), "methodCalls needs at least one call");
  }
  const methodCalls: MethodCall[] = [];
  calls.forEach((c, i) => {
    const path = join(f.at("methodCalls"), i);
    if (!isObject(c)) {
      p.add("WF_INVALID_CONFIG", path, "a method call must be an object {methodName, methodParams}");
      return;
    }
    const cf = new Fields(p, c, path, "WF_INVALID_CONFIG");
    const methodName = cf.string("methodName", false);
    const callData = cf.string("callData", false);
    const params = cf.array("methodParams", false) ?? [];
    checkTemplates(p, params, cf.at("methodParams"));
    if (callData !== undefined) {
      checkTemplates(p, callData, cf.at("callData"));
      if (literal(callData) && !HEX.test(callData))
        p.add("WF_INVALID_CONFIG", cf.at("callData"), "callData must be 0x hex");
    }
    if (methodName === undefined && callData === undefined) {
      p.add("WF_INVALID_CONFIG", cf.at("methodName"), "methodName (or callData) is required");
    }
    if (methodName !== undefined && iface) {
      let fragment: import("ethers").FunctionFragment | null = null;
      try {
        fragment = iface.getFunction(methodName);
      } catch (error) {
        p.add(
          "WF_INVALID_CONFIG",
          cf.at("methodName"),
          `${methodName}: ${(error as Error).message.split("(")[0]!.trim()}`,
        );
      }
      if (!fragment && !p.list.some((x) => x.path === cf.at("methodName"))) {
        p.add("WF_INVALID_CONFIG", cf.at("methodName"), `the ABI has no function ${methodName}`);
      }
      if (fragment && fragment.inputs.length !== params.length && callData === undefined) {
        p.add(
          "WF_INVALID_CONFIG",
          cf.at("methodParams"),
          `${fragment.name} takes ${fragment.inputs.length} parameter(s), ${params.length} given`,
        );
      }
    }
    methodCalls.push({
      ...(methodName === undefined ? {} : { methodName }),
      methodParams: params,
      ...(callData === undefined ? {} : { callData }),
    });
  });
  const base = {
    contractAddress: contractAddress ?? "",
    contractAbi: (Array.isArray(abi) ? abi : []) as unknown[],
    methodCalls,
  };
  if (!write) return base;
  const value = amountField(p, f, "value", false);
  let gasLimit: string | undefined;
  const gl = f.raw("gasLimit");
  if (gl !== undefined && gl !== null && gl !== "") {
    gasLimit = String(gl);
    checkTemplates(p, gasLimit, f.at("gasLimit"));
    if (literal(gasLimit) && !/^\d+$/.test(gasLimit))
      p.add("WF_INVALID_CONFIG", f.at("gasLimit"), "gasLimit must be an integer");
  }
  return {
    ...base,
    ...(value === undefined ? {} : { value }),
    ...(gasLimit === undefined ? {} : { gasLimit }),
  };
}

function amountField(p: Problems, f: Fields, key: string, required: boolean): string | undefined {
  const raw = f.raw(key);
  if (raw === undefined || raw === null || raw === "") {
    if (required) p.add("WF_INVALID_CONFIG", f.at(key), `${key} is required`);
    return undefined;
  }
  if (typeof raw !== "string" && typeof raw !== "number") {
    p.add("WF_INVALID_CONFIG", f.at(key), `${key} must be an amount (wei, or e.g. "0.1eth")`);
    return undefined;
  }
  const text = typeof raw === "number" ? BigInt(Math.trunc(raw)).toString() : raw;
  checkTemplates(p, text, f.at(key));
  if (literal(text) && !AMOUNT.test(text)) {
    p.add("WF_INVALID_CONFIG", f.at(key), `"${text}" is not an amount (wei, or e.g. "0.1eth", "5gwei")`);
  }
  return text;
}

function ethTransferConfig(p: Problems, f: Fields) {
  const destination = f.string("destination", true);
  if (destination !== undefined) {
    checkTemplates(p, destination, f.at("destination"));
    if (literal(destination) && !ADDRESS.test(destination.trim())) {
      p.add("WF_INVALID_CONFIG", f.at("destination"), `"${destination}" is not an address`);
    }
  }
  const amount = amountField(p, f, "amount", true);
  return { destination: destination ?? "", amount: amount ?? "0" };
}

function customCodeConfig(p: Problems, f: Fields) {
  const lang = f.string("lang", false) ?? "javascript";
  if (!["javascript", "js"].includes(lang.toLowerCase())) {
    p.add("WF_INVALID_CONFIG", f.at("lang"), `lang "${lang}" is not supported (only javascript)`);
  }
  const source = f.string("source", true);
  if (source !== undefined) {
    const problem = syntaxError(source, "code");
    if (problem) p.add("WF_INVALID_EXPRESSION", f.at("source"), `custom code: ${problem}`);
  }
  const timeoutMs = timeoutOf(f, MAX_CODE_TIMEOUT_MS);
  return {
    lang: "javascript" as const,
    source: source ?? "",
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  };
}

function branchConfig(p: Problems, f: Fields) {
  const raw = f.array("conditions", true) ?? [];
  if (f.has("conditions") && raw.length === 0)
    p.add("WF_INVALID_CONFIG", f.at("conditions"), "a branch needs at least one condition");
  const conditions: BranchCondition[] = [];
  const ids = new Set<string>();
  raw.forEach((c, i) => {
    const path = join(f.at("conditions"), i);
    if (!isObject(c)) {
      p.add("WF_INVALID_CONFIG", path, "a condition must be an object {id, type, expression}");
      return;
    }
    const cf = new Fields(p, c, path, "WF_INVALID_CONFIG");
    const id = cf.string("id", true);
    if (id !== undefined) {
      if (ids.has(id))
        p.add("WF_DUPLICATE_ID", cf.at("id"), `condition id "${id}" is used twice in this branch`);
      if (id.includes(".")) p.add("WF_INVALID_CONFIG", cf.at("id"), "condition ids may not contain a dot");
      ids.add(id);
    }
    const type = cf.string("type", false) ?? "if";
    if (type !== "if" && type !== "else") {
      p.add("WF_INVALID_CONFIG", cf.at("type"), `condition type must be "if" or "else", not "${type}"`);
      return;
    }
    if (type === "else") {
      if (i !== raw.length - 1) p.add("WF_INVALID_CONFIG", path, "else must be the last condition");
      if (i === 0) p.add("WF_INVALID_CONFIG", path, "the first condition must be an if");
      conditions.push({ id: id ?? "", type });
      return;
    }
    const expression = cf.string("expression", true);
    conditions.push({
      id: id ?? "",
      type,
      expression:
        expression === undefined
          ? ""
          : checkExpression(p, expression, cf.at("expression"), `condition ${id}`),
    });
  });
  return { conditions };
}

function filterConfig(p: Problems, f: Fields) {
  const expression = f.string("expression", true);
  // older Ava clients name the input node (inputNodeName) instead of giving an expression
  const byNode = f.has("inputNodeName") && !f.has("inputVariable");
  const named = byNode ? f.string("inputNodeName", true) : undefined;
  const input = byNode
    ? named === undefined
      ? undefined
      : `${named}.data`
    : f.string("inputVariable", true);
  const inputPath = f.at(byNode ? "inputNodeName" : "inputVariable");
  return {
    expression:
      expression === undefined ? "" : checkExpression(p, expression, f.at("expression"), "filter expression"),
    inputVariable: input === undefined ? "" : checkExpression(p, input, inputPath, "inputVariable"),
  };
}

async function loopConfig(p: Problems, f: Fields) {
  const input = f.string("inputVariable", true);
  // the REST field is iterVar; Ava stores it as iterVal
  const iterKeyName = f.has("iterVar") ? "iterVar" : "iterVal";
  const iterVar = f.string(iterKeyName, false);
  if (iterVar === undefined) p.add("WF_INVALID_CONFIG", f.at("iterVar"), "iterVar is required");
  else if (!isValidVariableName(iterVar))
    p.add("WF_INVALID_NAME", f.at(iterKeyName), `iterVar "${iterVar}" is not a valid JavaScript identifier`);
  const iterKey = f.string("iterKey", false) || undefined;
  if (iterKey !== undefined) {
    if (!isValidVariableName(iterKey))
      p.add("WF_INVALID_NAME", f.at("iterKey"), `iterKey "${iterKey}" is not a valid JavaScript identifier`);
    else if (iterKey === iterVar)
      p.add("WF_VARIABLE_CONFLICT", f.at("iterKey"), "iterKey and iterVar must differ");
  }
  const mode = f.string("executionMode", false) ?? "sequential";
  if (mode !== "sequential" && mode !== "parallel") {
    p.add("WF_INVALID_CONFIG", f.at("executionMode"), `executionMode must be "sequential" or "parallel"`);
  }
  let runner: { type: LoopRunnerType; config: any } | undefined;
  const rawRunner = f.raw("runner");
  const runnerPath = f.at("runner");
  if (!isObject(rawRunner)) {
    p.add("WF_INVALID_CONFIG", runnerPath, "runner is required: one inline node config {type, config}");
  } else {
    // {type, config} as in the REST API, or Ava's oneof form {restApi: {config: {...}}}
    let type: unknown = rawRunner.type;
    let config: unknown = rawRunner.config;
    if (type === undefined) {
      const keys = Object.keys(rawRunner);
      if (keys.length === 1) {
        type = keys[0];
        const inner = rawRunner[keys[0]!];
        config = isObject(inner) && isObject(inner.config) ? inner.config : inner;
      }
    }
    if (typeof type !== "string" || !(NODE_TYPES as readonly string[]).includes(type)) {
      p.add("WF_UNKNOWN_NODE_TYPE", join(runnerPath, "type"), `unknown runner type "${String(type)}"`);
    } else if (!(LOOP_RUNNER_TYPES as readonly string[]).includes(type)) {
      p.add(
        "WF_INVALID_CONFIG",
        join(runnerPath, "type"),
        `a loop cannot run a ${type} node (use ${LOOP_RUNNER_TYPES.join(", ")})`,
      );
    } else if (!isObject(config)) {
      p.add("WF_INVALID_CONFIG", join(runnerPath, "config"), "the runner's config is required");
    } else {
      const normalized = await nodeConfig(p, type as NodeType, config, join(runnerPath, "config"));
      runner = { type: type as LoopRunnerType, config: normalized };
    }
  }
  return {
    inputVariable:
      input === undefined ? "" : checkExpression(p, input, f.at("inputVariable"), "inputVariable"),
    iterVar: iterVar ?? "",
    ...(iterKey === undefined ? {} : { iterKey }),
    executionMode: mode === "parallel" ? ("parallel" as const) : ("sequential" as const),
    runner: runner ?? { type: "customCode" as const, config: { lang: "javascript", source: "" } },
  };
}

async function nodeConfig(p: Problems, type: NodeType, config: Obj, path: string): Promise<any> {
  const f = new Fields(p, config, path, "WF_INVALID_CONFIG");
  switch (type) {
    case "restApi":
      return restApiConfig(p, f);
    case "graphqlQuery":
      return graphqlConfig(p, f);
    case "contractRead":
      return contractConfig(p, f, false);
    case "contractWrite":
      return contractConfig(p, f, true);
    case "ethTransfer":
      return ethTransferConfig(p, f);
    case "customCode":
      return customCodeConfig(p, f);
    case "branch":
      return branchConfig(p, f);
    case "filter":
      return filterConfig(p, f);
    case "loop":
      return loopConfig(p, f);
  }
}

function triggerConfig(p: Problems, type: WorkflowTriggerType, config: Obj, path: string): Obj {
  const f = new Fields(p, config, path, "WF_INVALID_TRIGGER_CONFIG");
  switch (type) {
    case "manual":
      return config;
    case "fixedTime": {
      const epochs = f.array("epochs", true) ?? [];
      if (f.has("epochs") && epochs.length === 0)
        p.add("WF_INVALID_TRIGGER_CONFIG", f.at("epochs"), "epochs needs at least one time");
      epochs.forEach((e, i) => {
        if (typeof e !== "number" || !Number.isSafeInteger(e) || e < 0) {
          p.add("WF_INVALID_TRIGGER_CONFIG", join(f.at("epochs"), i), "an epoch is a time in ms since 1970");
        }
      });
      return { epochs };
    }
    case "cron": {
      // the REST field is schedules; older clients send schedule
      const key = f.has("schedules") ? "schedules" : "schedule";
      const schedules = f.array(key, false);
      if (!schedules || schedules.length === 0) {
        p.add("WF_INVALID_TRIGGER_CONFIG", f.at("schedules"), "schedules needs at least one cron expression");
        return config;
      }
      schedules.forEach((s, i) => {
        if (typeof s !== "string" || !isCron(s)) {
          p.add("WF_INVALID_TRIGGER_CONFIG", join(f.at(key), i), `"${String(s)}" is not a cron expression`);
        }
      });
      return { schedules };
    }
    case "block": {
      const interval = f.int("interval", 1, Number.MAX_SAFE_INTEGER);
      if (!f.has("interval"))
        p.add("WF_INVALID_TRIGGER_CONFIG", f.at("interval"), "interval (blocks) is required");
      return { interval: interval ?? 1 };
    }
    case "event": {
      const queries = f.array("queries", false);
      const expression = f.string("expression", false);
      if (!queries && expression === undefined) {
        p.add(
          "WF_INVALID_TRIGGER_CONFIG",
          f.at("queries"),
          "queries (addresses and topics to match) is required",
        );
        return config;
      }
      (queries ?? []).forEach((q, i) => {
        const qpath = join(f.at("queries"), i);
        if (!isObject(q)) {
          p.add("WF_INVALID_TRIGGER_CONFIG", qpath, "a query must be an object {addresses, topics}");
          return;
        }
        const qf = new Fields(p, q, qpath, "WF_INVALID_TRIGGER_CONFIG");
        (qf.array("addresses", false) ?? []).forEach((a, j) => {
          if (typeof a !== "string" || !ADDRESS.test(a)) {
            p.add(
              "WF_INVALID_TRIGGER_CONFIG",
              join(qf.at("addresses"), j),
              `"${String(a)}" is not an address`,
            );
          }
        });
        qf.array("topics", false);
      });
      return config;
    }
  }
}

/** Five or six cron fields that croner accepts. */
function isCron(text: string): boolean {
  const fields = text.trim().split(/\s+/).length;
  if (fields < 5 || fields > 6) return false;
  try {
    new Cron(text, { paused: true }).stop();
    return true;
  } catch {
    return false;
  }
}

function retryOf(p: Problems, raw: unknown, path: string): RetryPolicy | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) {
    p.add("WF_INVALID_RETRY", path, "retry must be an object {attempts, backoffMs}");
    return undefined;
  }
  const f = new Fields(p, raw, path, "WF_INVALID_RETRY");
  const attempts = f.int("attempts", 1, MAX_RETRY_ATTEMPTS);
  if (!f.has("attempts")) p.add("WF_INVALID_RETRY", f.at("attempts"), "attempts is required");
  const backoffMs = f.int("backoffMs", 0, MAX_RETRY_BACKOFF_MS) ?? 0;
  return attempts === undefined ? undefined : { attempts, backoffMs };
}

/**
 * Validates a parsed workflow document (docs/protocol.md#task-workflows). Never throws; every problem
 * is in `errors`.
 */
export async function validateWorkflow(raw: unknown): Promise<ValidationResult> {
  const p = new Problems();
  if (!isObject(raw)) {
    p.add("WF_INVALID_SHAPE", "", "a workflow is an object {name, trigger, nodes, edges}");
    return { valid: false, errors: p.list };
  }
  const top = new Fields(p, raw, "", "WF_INVALID_SHAPE");
  const name = top.string("name", false) ?? "workflow";

  // trigger
  let trigger: WorkflowTrigger | undefined;
  const rawTrigger = top.object("trigger", true);
  if (rawTrigger) {
    const tf = new Fields(p, rawTrigger, "trigger", "WF_INVALID_SHAPE");
    const id = tf.string("id", true);
    const tname = tf.string("name", true);
    if (tname !== undefined && !isValidVariableName(tname)) {
      p.add("WF_INVALID_NAME", tf.at("name"), `"${tname}" is not a valid JavaScript identifier`);
    } else if (tname !== undefined && RESERVED_NAMES.has(tname)) {
      p.add("WF_INVALID_NAME", tf.at("name"), `"${tname}" is reserved`);
    }
    const type = tf.string("type", true);
    const config = tf.object("config", false) ?? {};
    if (type !== undefined && !(TRIGGER_TYPES as readonly string[]).includes(type)) {
      p.add(
        "WF_UNKNOWN_TRIGGER_TYPE",
        tf.at("type"),
        `unknown trigger type "${type}" (use ${TRIGGER_TYPES.join(", ")})`,
      );
    } else if (type !== undefined && id !== undefined && tname !== undefined) {
      const t = type as WorkflowTriggerType;
      trigger = { id, name: tname, type: t, config: triggerConfig(p, t, config, tf.at("config")) };
    } else if (type !== undefined) {
      triggerConfig(p, type as WorkflowTriggerType, config, tf.at("config"));
    }
  }

  // nodes
  const rawNodes = top.array("nodes", true) ?? [];
  if (top.has("nodes") && Array.isArray(raw.nodes) && rawNodes.length === 0) {
    p.add("WF_INVALID_SHAPE", "nodes", "a workflow needs at least one node");
  }
  if (rawNodes.length > MAX_NODES) p.add("WF_INVALID_SHAPE", "nodes", `at most ${MAX_NODES} nodes`);
  const nodes: WorkflowNode[] = [];
  const nodePaths = new Map<string, string>();
  for (const [i, rn] of rawNodes.slice(0, MAX_NODES).entries()) {
    const path = join("nodes", i);
    if (!isObject(rn)) {
      p.add("WF_INVALID_SHAPE", path, "a node is an object {id, name, type, config}");
      continue;
    }
    const nf = new Fields(p, rn, path, "WF_INVALID_SHAPE");
    const id = nf.string("id", true);
    const nname = nf.string("name", true);
    if (nname !== undefined && !isValidVariableName(nname)) {
      p.add("WF_INVALID_NAME", nf.at("name"), `"${nname}" is not a valid JavaScript identifier`);
    } else if (nname !== undefined && RESERVED_NAMES.has(nname)) {
      p.add(
        "WF_INVALID_NAME",
        nf.at("name"),
        `"${nname}" is reserved (it would hide a global of templates and code)`,
      );
    }
    const type = nf.string("type", true);
    const config = nf.object("config", true);
    const retry = retryOf(p, rn.retry, nf.at("retry"));
    if (type !== undefined && !(NODE_TYPES as readonly string[]).includes(type)) {
      p.add(
        "WF_UNKNOWN_NODE_TYPE",
        nf.at("type"),
        `unknown node type "${type}" (use ${NODE_TYPES.join(", ")})`,
      );
      continue;
    }
    if (type === undefined || config === undefined) continue;
    const normalized = await nodeConfig(p, type as NodeType, config, nf.at("config"));
    if (id === undefined || nname === undefined) continue;
    nodes.push({ id, name: nname, type, config: normalized, ...(retry ? { retry } : {}) } as WorkflowNode);
    if (!nodePaths.has(id)) nodePaths.set(id, path);
  }

  // ids and names
  const seenIds = new Map<string, string>();
  const seenNames = new Map<string, string>();
  const named: Array<{ id: string; name: string; path: string }> = [
    ...(trigger ? [{ id: trigger.id, name: trigger.name, path: "trigger" }] : []),
    ...rawNodes.flatMap((rn, i) =>
      isObject(rn) && typeof rn.id === "string" && typeof rn.name === "string"
        ? [{ id: rn.id, name: rn.name, path: join("nodes", i) }]
        : [],
    ),
  ];
  for (const { id, name: n, path } of named) {
    if (seenIds.has(id))
      p.add("WF_DUPLICATE_ID", join(path, "id"), `id "${id}" is also used by ${seenIds.get(id)}`);
    else seenIds.set(id, path);
    if (seenNames.has(n))
      p.add("WF_DUPLICATE_NAME", join(path, "name"), `name "${n}" is also used by ${seenNames.get(n)}`);
    else seenNames.set(n, path);
  }

  // input variables
  const inputVariables = top.object("inputVariables", false) ?? {};
  for (const key of Object.keys(inputVariables)) {
    const path = join("inputVariables", key);
    if (!isValidVariableName(key))
      p.add("WF_INVALID_NAME", path, `"${key}" is not a valid JavaScript identifier`);
    else if (RESERVED_NAMES.has(key)) p.add("WF_VARIABLE_CONFLICT", path, `"${key}" is reserved`);
    else if (seenNames.has(key))
      p.add("WF_VARIABLE_CONFLICT", path, `"${key}" is also the name of ${seenNames.get(key)}`);
  }
  for (const node of nodes) {
    if (node.type === "loop") {
      for (const v of [node.config.iterVar, node.config.iterKey]) {
        if (v && (seenNames.has(v) || v in inputVariables)) {
          p.add(
            "WF_VARIABLE_CONFLICT",
            `${nodePaths.get(node.id)}.config`,
            `loop variable "${v}" hides a node or input variable of that name`,
          );
        }
      }
    }
  }

  // schedule
  const startAt = top.int("startAt", 0, Number.MAX_SAFE_INTEGER);
  const expiredAt = top.int("expiredAt", 0, Number.MAX_SAFE_INTEGER);
  const maxExecution = top.int("maxExecution", 0, Number.MAX_SAFE_INTEGER);
  if (startAt !== undefined && expiredAt !== undefined && expiredAt > 0 && expiredAt <= startAt) {
    p.add("WF_INVALID_SCHEDULE", "expiredAt", "expiredAt must be after startAt");
  }

  // edges
  const rawEdges = top.array("edges", false) ?? [];
  if (rawEdges.length > MAX_EDGES) p.add("WF_INVALID_SHAPE", "edges", `at most ${MAX_EDGES} edges`);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const edges: WorkflowEdge[] = [];
  const resolved: ResolvedEdge[] = [];
  const edgeIds = new Map<string, string>();
  const pairs = new Set<string>();
  let edgeProblems = false;
  for (const [i, re] of rawEdges.slice(0, MAX_EDGES).entries()) {
    const path = join("edges", i);
    if (!isObject(re)) {
      p.add("WF_INVALID_SHAPE", path, "an edge is an object {id, source, target}");
      edgeProblems = true;
      continue;
    }
    const ef = new Fields(p, re, path, "WF_INVALID_SHAPE");
    const id = ef.string("id", false) ?? `edge-${i}`;
    const source = ef.string("source", true);
    const target = ef.string("target", true);
    if (edgeIds.has(id))
      p.add("WF_DUPLICATE_ID", ef.at("id"), `edge id "${id}" is also used by ${edgeIds.get(id)}`);
    else edgeIds.set(id, path);
    if (source === undefined || target === undefined) {
      edgeProblems = true;
      continue;
    }
    edges.push({ id, source, target });
    let from: { source: string; condition?: string } | undefined;
    if ((trigger && source === trigger.id) || byId.has(source)) {
      from = { source };
      if (byId.get(source)?.type === "branch") {
        p.add(
          "WF_INVALID_EDGE",
          ef.at("source"),
          `edges from branch "${source}" start at a condition: "${source}.<conditionId>"`,
        );
        edgeProblems = true;
      }
    } else {
      const dot = source.lastIndexOf(".");
      const owner = dot > 0 ? byId.get(source.slice(0, dot)) : undefined;
      if (!owner) {
        p.add("WF_DANGLING_EDGE", ef.at("source"), `source "${source}" is not the trigger or a node`);
        edgeProblems = true;
      } else if (owner.type !== "branch") {
        p.add(
          "WF_INVALID_EDGE",
          ef.at("source"),
          `"${owner.id}" is a ${owner.type} node; only branch nodes have conditions`,
        );
        edgeProblems = true;
      } else {
        const condition = source.slice(dot + 1);
        if (!owner.config.conditions.some((c) => c.id === condition)) {
          p.add(
            "WF_UNKNOWN_CONDITION",
            ef.at("source"),
            `branch "${owner.id}" has no condition "${condition}" (it has ${owner.config.conditions.map((c) => c.id).join(", ")})`,
          );
          edgeProblems = true;
        } else {
          from = { source: owner.id, condition };
        }
      }
    }
    if (trigger && target === trigger.id) {
      p.add("WF_INVALID_EDGE", ef.at("target"), "no edge may lead into the trigger");
      edgeProblems = true;
      continue;
    }
    if (!byId.has(target)) {
      p.add("WF_DANGLING_EDGE", ef.at("target"), `target "${target}" is not a node`);
      edgeProblems = true;
      continue;
    }
    if (!from) continue;
    const pair = `${source}\u0000${target}`;
    if (pairs.has(pair)) {
      p.add("WF_INVALID_EDGE", path, `a second edge from "${source}" to "${target}"`);
      continue;
    }
    pairs.add(pair);
    resolved.push({ id, ...from, target });
  }

  // graph: only meaningful when every node and edge resolved
  const nodesComplete = nodes.length === rawNodes.length && seenIds.size === named.length;
  if (trigger && nodesComplete && !edgeProblems) {
    const graph = analyzeGraph(
      trigger.id,
      nodes.map((n) => n.id),
      resolved,
    );
    for (const cycle of graph.cycles) {
      const names = cycle.map((id) => byId.get(id)!.name);
      p.add("WF_CYCLE", nodePaths.get(cycle[0]!)!, `cycle through ${names.join(" -> ")} -> ${names[0]}`);
    }
    for (const node of nodes) {
      if (!graph.reachable.has(node.id)) {
        p.add(
          "WF_UNREACHABLE",
          nodePaths.get(node.id)!,
          `node "${node.name}" cannot be reached from the trigger`,
        );
      }
    }
  }

  if (p.list.length > 0 || !trigger) return { valid: false, errors: p.list };
  const workflow: Workflow = {
    name,
    trigger,
    nodes,
    edges,
    inputVariables,
    ...(startAt === undefined ? {} : { startAt }),
    ...(expiredAt === undefined ? {} : { expiredAt }),
    ...(maxExecution === undefined ? {} : { maxExecution }),
  };
  return { valid: true, errors: [], workflow };
}
