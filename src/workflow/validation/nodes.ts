/** Per-type node configs: the logic nodes here, dispatching to http.ts and contract.ts for the rest. */

import { syntaxError } from "../sandbox.ts";
import { hasTemplate, withPlaceholders } from "../template.ts";
import {
  type BranchCondition,
  LOOP_RUNNER_TYPES,
  type LoopRunnerType,
  NODE_TYPES,
  type NodeType,
} from "../types.ts";
import { contractConfig, ethTransferConfig } from "./contract.ts";
import {
  checkExpression,
  checkTemplates,
  Fields,
  isObject,
  isValidVariableName,
  join,
  type Obj,
  type Problems,
} from "./fields.ts";
import { graphqlConfig, restApiConfig, timeoutOf } from "./http.ts";
import { MAX_CODE_SOURCE_CHARS, MAX_CODE_TIMEOUT_MS } from "./limits.ts";

function customCodeConfig(p: Problems, f: Fields) {
  const lang = f.string("lang", false) ?? "javascript";
  if (!["javascript", "js"].includes(lang.toLowerCase())) {
    p.add("WF_INVALID_CONFIG", f.at("lang"), `lang "${lang}" is not supported (only javascript)`);
  }
  const source = f.string("source", true);
  if (source !== undefined && source.length > MAX_CODE_SOURCE_CHARS) {
    p.add("WF_INVALID_CONFIG", f.at("source"), `a source is at most ${MAX_CODE_SOURCE_CHARS} characters`);
  } else if (source !== undefined) {
    // templates are substituted as text before the code runs (Ava's semantics): check their
    // expressions, and the code with a placeholder where each value will go
    const templated = hasTemplate(source);
    if (templated) checkTemplates(p, source, f.at("source"));
    const problem = syntaxError(templated ? withPlaceholders(source) : source, "code");
    if (problem) p.add("WF_INVALID_EXPRESSION", f.at("source"), `custom code ${problem}`);
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

export async function nodeConfig(p: Problems, type: NodeType, config: Obj, path: string): Promise<any> {
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
