/** Small builders for workflow documents in tests. */

import { type RunWorkflowOptions, runWorkflow } from "../../../src/workflow/engine.js";
import type { ExecutionRecord, Workflow } from "../../../src/workflow/types.js";
import { validateWorkflow } from "../../../src/workflow/validate.js";

export type RawNode = {
  id: string;
  name?: string;
  type: string;
  config: Record<string, unknown>;
  retry?: unknown;
};

/** A customCode node whose name is its id. */
export function code(id: string, source: string, extra: Partial<RawNode> = {}): RawNode {
  return { id, name: id, type: "customCode", config: { lang: "javascript", source }, ...extra };
}

export function branch(
  id: string,
  conditions: Array<{ id: string; type?: string; expression?: string }>,
): RawNode {
  return { id, name: id, type: "branch", config: { conditions } };
}

/** Edges written as "a->b" (the trigger is "trigger"). */
export function edges(...pairs: string[]): Array<{ id: string; source: string; target: string }> {
  return pairs.map((p, i) => {
    const [source, target] = p.split("->");
    return { id: `e${i}`, source: source!, target: target! };
  });
}

export function doc(
  nodes: unknown[],
  edgeList: unknown[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    name: "test",
    trigger: { id: "trigger", name: "trig", type: "manual", config: { data: { n: 7 } } },
    nodes,
    edges: edgeList,
    ...extra,
  };
}

/** Validates (failing the test with the problems when invalid). */
export async function valid(raw: unknown): Promise<Workflow> {
  const result = await validateWorkflow(raw);
  if (!result.valid) throw new Error(`invalid workflow: ${JSON.stringify(result.errors)}`);
  return result.workflow!;
}

export async function run(raw: unknown, options: Partial<RunWorkflowOptions> = {}): Promise<ExecutionRecord> {
  return runWorkflow(await valid(raw), { mode: "simulate", ...options });
}

/** name -> step, for assertions. */
export function stepsByName(record: ExecutionRecord) {
  return Object.fromEntries(record.steps.map((s) => [s.name, s]));
}
