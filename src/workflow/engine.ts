/**
 * The workflow engine: runs a validated workflow as a graph and returns the execution
 * record of docs/protocol.md#task-workflows.
 *
 * Scheduling. A node is decided once every one of its predecessors has settled:
 * - a predecessor that failed (or was blocked by a failure) blocks it: it never runs;
 * - an edge is live when its source succeeded and, for an edge leaving a branch condition,
 *   that condition was the one taken;
 * - for each branch it hangs off directly, one of that branch's edges into it must be live
 *   (so a node on a path not taken never runs, even if it also has other inputs);
 * - and at least one incoming edge must be live. Otherwise it is skipped, and so are the
 *   nodes that only it leads to.
 * A join after two exclusive branches therefore runs once, when the taken path reaches it
 * (Ava's engine waited for the path not taken and never ran it). Independent nodes run in
 * parallel, at most `concurrency` at a time. A failure stops only what depends on it.
 *
 * Determinism. Steps are listed in a fixed topological order of the graph (ties broken by
 * position in `nodes`), never by completion time; a node sees only the outputs of its
 * ancestors, which have all settled before it starts; loops keep input order. Two runs over
 * the same inputs give the same steps, outputs and errors: only ids and times differ (see
 * comparableRecord()).
 */

import { createHash, randomUUID } from "node:crypto";
import { canonicalJson } from "./canonical.ts";
import type { CodePool } from "./code-pool.ts";
import { type Limits, NodeContext, type WorkflowChain } from "./context.ts";
import { analyzeGraph, ancestorsOf, type ResolvedEdge } from "./graph.ts";
import { maskText } from "./mask.ts";
import { messageOf, runNodeOnce, withRetry } from "./processors/index.ts";
import type { InputTape } from "./replay.ts";
import type { ExecutionRecord, ExecutionStep, Workflow, WorkflowNode } from "./types.ts";

export const DEFAULT_LIMITS: Limits = {
  codeTimeoutMs: 2_000,
  expressionTimeoutMs: 500,
  httpTimeoutMs: 30_000,
  concurrency: 4,
};

export interface RunWorkflowOptions {
  /** "simulate" never sends a transaction; "run" sends writes with `chain.signer`. */
  mode: "simulate" | "run";
  /** Values that replace or add to the workflow's inputVariables. */
  inputVariables?: Record<string, unknown>;
  /** Secrets, visible as `apContext.configVars.<name>` and masked in errors and logs. */
  configVars?: Record<string, string>;
  /** The trigger's output (`<triggerName>.data`); by default derived from the trigger type. */
  triggerData?: unknown;
  chain?: WorkflowChain;
  limits?: Partial<Limits>;
  signal?: AbortSignal;
  /** The execution's number for this task (the record's `index`), default 0. */
  index?: number;
  id?: string;
  now?: () => number;
  /**
   * Records every outside answer (InputTape.recording()), or answers from recorded ones
   * (InputTape.replaying(inputs)): a replay never touches the network or a chain.
   */
  tape?: InputTape;
  /** Runs customCode off this thread (a long-lived process shares one; see code-pool.ts). */
  codePool?: CodePool;
}

type NodeState = "pending" | "running" | "success" | "failed" | "skipped" | "blocked";

interface NodeRun {
  node: WorkflowNode;
  rank: number;
  state: NodeState;
  output: unknown;
  conditionId: string | undefined;
  step?: ExecutionStep;
}

/** What the trigger hands the first nodes when the caller gives nothing. */
export function defaultTriggerData(workflow: Workflow, now: number): unknown {
  const t = workflow.trigger;
  switch (t.type) {
    case "manual":
      return t.config.data ?? {};
    case "fixedTime":
    case "cron":
      return { timestamp: now, timestampIso: new Date(now).toISOString() };
    case "block":
      return { blockNumber: 0 };
    case "event":
      return { data: null };
  }
}

/**
 * Runs a workflow (already validated) once. Never throws for a node's failure: that is in
 * the record (`status: "failed"`).
 */
export async function runWorkflow(workflow: Workflow, options: RunWorkflowOptions): Promise<ExecutionRecord> {
  const now = options.now ?? Date.now;
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  limits.concurrency = Math.max(1, Math.floor(limits.concurrency));
  const controller = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  const startAt = now();
  const trigger = workflow.trigger;
  const triggerData = plain(
    options.triggerData !== undefined ? options.triggerData : defaultTriggerData(workflow, startAt),
  );
  const secrets = Object.values(options.configVars ?? {});

  const graph = analyzeGraph(
    trigger.id,
    workflow.nodes.map((n) => n.id),
    resolveEdges(workflow),
  );
  const runs = new Map<string, NodeRun>();
  workflow.nodes.forEach((node) => {
    runs.set(node.id, {
      node,
      rank: graph.order.indexOf(node.id),
      state: "pending",
      output: undefined,
      conditionId: undefined,
    });
  });
  const baseVariables: Record<string, unknown> = {
    ...plainObject(workflow.inputVariables),
    ...plainObject(options.inputVariables ?? {}),
    apContext: { configVars: { ...(options.configVars ?? {}) } },
    [trigger.name]: { data: triggerData },
  };
  const triggerStep: ExecutionStep = {
    id: trigger.id,
    name: trigger.name,
    type: trigger.type,
    success: true,
    output: triggerData,
    error: null,
    log: "",
    startAt,
    endAt: startAt,
  };

  const variablesFor = (node: WorkflowNode): Record<string, unknown> => {
    const vars = { ...baseVariables };
    for (const id of ancestorsOf(node.id, graph.incoming)) {
      const run = runs.get(id);
      if (run) vars[run.node.name] = { data: run.state === "success" ? run.output : null };
    }
    return vars;
  };

  const decide = (run: NodeRun): NodeState | "ready" | undefined => {
    const incoming = graph.incoming.get(run.node.id) ?? [];
    let anyLive = false;
    const branchGroups = new Map<string, boolean>();
    for (const edge of incoming) {
      const source = edge.source === trigger.id ? undefined : runs.get(edge.source)!;
      const state: NodeState = source ? source.state : "success";
      if (state === "pending" || state === "running") return undefined;
      if (state === "failed" || state === "blocked") return "blocked";
      const live =
        state === "success" && (edge.condition === undefined || source!.conditionId === edge.condition);
      if (live) anyLive = true;
      if (edge.condition !== undefined)
        branchGroups.set(edge.source, (branchGroups.get(edge.source) ?? false) || live);
    }
    if (signal.aborted) return "blocked";
    if (!anyLive || [...branchGroups.values()].some((ok) => !ok)) return "skipped";
    return "ready";
  };

  const execute = async (run: NodeRun): Promise<void> => {
    const ctx = new NodeContext(
      options.mode,
      variablesFor(run.node),
      limits,
      signal,
      options.chain,
      options.tape,
      options.codePool,
    );
    const started = now();
    let success = true;
    let error: string | null = null;
    try {
      const outcome =
        run.node.type === "loop"
          ? await runNodeOnce(run.node, ctx)
          : await withRetry(run.node.retry, ctx, () => runNodeOnce(run.node, ctx));
      run.output = plain(outcome.output);
      run.conditionId = outcome.conditionId;
    } catch (e) {
      success = false;
      error = maskText(messageOf(e), secrets);
      run.output = null;
    }
    run.state = success ? "success" : "failed";
    run.step = {
      id: run.node.id,
      name: run.node.name,
      type: run.node.type,
      success,
      output: success ? run.output : null,
      error,
      log: maskText(ctx.logs().join("\n"), secrets),
      startAt: started,
      endAt: now(),
    };
  };

  // The scheduling loop: settle every decidable node, start ready ones in rank order up to
  // the concurrency bound, then wait for one to finish. Bounded: each pass settles or starts
  // at least one node, or waits for one of a finite set of running nodes.
  const inFlight = new Map<string, Promise<void>>();
  const ordered = [...runs.values()].sort((a, b) => a.rank - b.rank);
  for (;;) {
    let changed = true;
    while (changed) {
      changed = false;
      for (const run of ordered) {
        if (run.state !== "pending") continue;
        const verdict = decide(run);
        if (verdict === "skipped" || verdict === "blocked") {
          run.state = verdict;
          changed = true;
        } else if (verdict === "ready" && inFlight.size < limits.concurrency) {
          run.state = "running";
          const promise = execute(run).finally(() => inFlight.delete(run.node.id));
          inFlight.set(run.node.id, promise);
          changed = true;
        }
      }
    }
    if (inFlight.size === 0) break;
    await Promise.race(inFlight.values());
  }

  const steps = [triggerStep, ...ordered.flatMap((r) => (r.step ? [r.step] : []))];
  const failed = ordered.find((r) => r.state === "failed");
  const aborted = options.signal?.aborted === true;
  return {
    id: options.id ?? randomUUID(),
    startAt,
    endAt: now(),
    status: aborted ? "error" : failed ? "failed" : "success",
    error: aborted ? "the run was aborted" : failed ? `${failed.node.name}: ${failed.step!.error}` : null,
    index: options.index ?? 0,
    steps,
  };
}

function resolveEdges(workflow: Workflow): ResolvedEdge[] {
  const ids = new Set([workflow.trigger.id, ...workflow.nodes.map((n) => n.id)]);
  return workflow.edges.map((edge) => {
    if (ids.has(edge.source)) return { id: edge.id, source: edge.source, target: edge.target };
    const dot = edge.source.lastIndexOf(".");
    return {
      id: edge.id,
      source: edge.source.slice(0, dot),
      condition: edge.source.slice(dot + 1),
      target: edge.target,
    };
  });
}

/** JSON-safe copy: bigint as decimal strings, undefined as null. */
function plain(value: unknown): unknown {
  if (value === undefined) return null;
  const text = JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
  return text === undefined ? null : JSON.parse(text);
}

function plainObject(value: Record<string, unknown>): Record<string, unknown> {
  const copy = plain(value);
  return copy && typeof copy === "object" && !Array.isArray(copy) ? (copy as Record<string, unknown>) : {};
}

/**
 * The record without what legitimately differs between two runs of the same workflow on the
 * same inputs (execution id, times): what an attester re-runs and compares.
 */
export function comparableRecord(record: ExecutionRecord): {
  status: ExecutionRecord["status"];
  error: string | null;
  steps: Array<Omit<ExecutionStep, "startAt" | "endAt" | "log">>;
} {
  return {
    status: record.status,
    error: record.error,
    steps: record.steps.map(({ startAt: _s, endAt: _e, log: _l, ...rest }) => rest),
  };
}

/** sha256 of the canonical JSON (sorted keys) of comparableRecord(record), 0x-prefixed. */
export function recordFingerprint(record: ExecutionRecord): string {
  return `0x${createHash("sha256")
    .update(canonicalJson(comparableRecord(record)))
    .digest("hex")}`;
}
