/**
 * Dispatch from node type to processor, the loop node (which runs one inline node per item),
 * and retries.
 */

import { sleep } from "../../util/sleep.ts";
import type { NodeContext } from "../context.ts";
import type { LoopConfig, NodeType, RetryPolicy, WorkflowNode } from "../types.ts";
import { runContractRead, runContractWrite, runEthTransfer } from "./chain.ts";
import { runGraphqlQuery, runRestApi } from "./http.ts";
import { inputArray, runBranch, runCustomCode, runFilter } from "./logic.ts";

/** A loop over more items than this is refused: it is a workflow, not a batch job. */
export const MAX_LOOP_ITEMS = 10_000;
const MAX_BACKOFF_MS = 30_000;

export interface NodeOutcome {
  output: unknown;
  /** For a branch: the condition taken (undefined when none matched). */
  conditionId?: string | undefined;
}

/** Runs one node's logic once (no retry). */
export async function runNodeOnce(node: WorkflowNode, ctx: NodeContext): Promise<NodeOutcome> {
  switch (node.type) {
    case "branch":
      return runBranch(node.id, node.config, ctx);
    case "loop":
      return { output: await runLoop(node.config, node.retry, ctx) };
    default:
      return { output: await runBody(node.type, node.config, ctx) };
  }
}

/** The work of a node type that has no control flow of its own (also a loop's runner). */
async function runBody(type: NodeType, config: any, ctx: NodeContext): Promise<unknown> {
  switch (type) {
    case "restApi":
      return runRestApi(config, ctx);
    case "graphqlQuery":
      return runGraphqlQuery(config, ctx);
    case "contractRead":
      return runContractRead(config, ctx);
    case "contractWrite":
      return runContractWrite(config, ctx);
    case "ethTransfer":
      return runEthTransfer(config, ctx);
    case "customCode":
      return runCustomCode(config, ctx);
    case "filter":
      return runFilter(config, ctx);
    default:
      throw new Error(`${type} cannot run here`);
  }
}

/**
 * Calls `attempt` up to `policy.attempts` times, waiting backoffMs, then twice that, ...
 * between tries (capped at 30 s). Every failed try is logged.
 */
export async function withRetry<T>(
  policy: RetryPolicy | undefined,
  ctx: NodeContext,
  attempt: () => Promise<T>,
  label = "",
): Promise<T> {
  const attempts = policy?.attempts ?? 1;
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (n >= attempts || ctx.signal.aborted) throw error;
      const wait = Math.min((policy?.backoffMs ?? 0) * 2 ** (n - 1), MAX_BACKOFF_MS);
      ctx.log(`${label}attempt ${n} of ${attempts} failed: ${messageOf(error)}; retrying in ${wait} ms`);
      await sleep(wait, ctx.signal);
    }
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs the loop's runner once per item of the input array, with `iterVar` (and `iterKey`)
 * set. The output is the runners' outputs in input order, whatever the execution mode.
 * Sequential mode stops at the first failure; parallel mode (bounded) runs every item and
 * then reports the failure of the lowest index, so the result never depends on timing.
 * A retry policy on the loop node applies to each iteration.
 */
async function runLoop(
  config: LoopConfig,
  retry: RetryPolicy | undefined,
  ctx: NodeContext,
): Promise<unknown[]> {
  const items = inputArray(config.inputVariable, ctx);
  if (items.length > MAX_LOOP_ITEMS)
    throw new Error(`${items.length} items: a loop runs at most ${MAX_LOOP_ITEMS}`);
  ctx.log(`${items.length} item(s), ${config.executionMode}`);
  const outputs: unknown[] = new Array(items.length).fill(null);
  const failures: Array<{ index: number; error: unknown }> = [];
  const iteration = async (index: number) => {
    const vars: Record<string, unknown> = { [config.iterVar]: items[index] };
    if (config.iterKey) vars[config.iterKey] = index;
    const child = ctx.child(vars);
    try {
      outputs[index] = await withRetry(
        retry,
        child,
        () => runBody(config.runner.type, config.runner.config, child),
        `[${index}] `,
      );
    } finally {
      for (const line of child.logs()) ctx.log(`[${index}] ${line}`);
    }
  };
  if (config.executionMode === "sequential") {
    for (let i = 0; i < items.length; i++) {
      if (ctx.signal.aborted) throw new Error("aborted");
      try {
        await iteration(i);
      } catch (error) {
        throw new Error(`iteration ${i}: ${messageOf(error)}`);
      }
    }
    return outputs;
  }
  let next = 0;
  const worker = async () => {
    while (next < items.length && !ctx.signal.aborted) {
      const i = next++;
      try {
        await iteration(i);
      } catch (error) {
        failures.push({ index: i, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(ctx.limits.concurrency, items.length) }, worker));
  if (ctx.signal.aborted) throw new Error("aborted");
  if (failures.length > 0) {
    const first = failures.reduce((a, b) => (b.index < a.index ? b : a));
    throw new Error(
      `iteration ${first.index}: ${messageOf(first.error)}${failures.length > 1 ? ` (and ${failures.length - 1} more)` : ""}`,
    );
  }
  return outputs;
}
