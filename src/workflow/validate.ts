/**
 * Checks a whole workflow up front, where Ava's engine found cycles and dangling edges only
 * at run time: shapes and per-type configs, names, ids, edges, branch conditions, cycles,
 * reachability, and the syntax of every expression, template and custom code. Returns every
 * problem found (not only the first) with a stable code and a path into the document, and
 * the normalised workflow when there are none.
 */

import { analyzeGraph, type ResolvedEdge } from "./graph.ts";
import {
  NODE_TYPES,
  type NodeType,
  TRIGGER_TYPES,
  type ValidationResult,
  type Workflow,
  type WorkflowEdge,
  type WorkflowNode,
  type WorkflowTrigger,
  type WorkflowTriggerType,
} from "./types.ts";
import {
  Fields,
  isObject,
  isValidVariableName,
  join,
  Problems,
  RESERVED_NAMES,
} from "./validation/fields.ts";
import { MAX_EDGES, MAX_NODES } from "./validation/limits.ts";
import { nodeConfig } from "./validation/nodes.ts";
import { retryOf, triggerConfig } from "./validation/trigger.ts";

export { isValidVariableName } from "./validation/fields.ts";
export * from "./validation/limits.ts";

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
  // A node whose own problems kept it out of `nodes` (an unknown type, no config) is still in
  // the document: an edge naming it is not dangling, and reporting it would hide the real error.
  // So is a trigger refused for its own type or shape.
  const unresolved = new Set(
    rawNodes.flatMap((rn) => (isObject(rn) && typeof rn.id === "string" && !byId.has(rn.id) ? [rn.id] : [])),
  );
  if (!trigger && rawTrigger && typeof rawTrigger.id === "string") unresolved.add(rawTrigger.id);
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
      if (unresolved.has(source) || (dot > 0 && unresolved.has(source.slice(0, dot)))) {
        edgeProblems = true;
      } else if (!owner) {
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
      if (!unresolved.has(target))
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
