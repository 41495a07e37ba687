/**
 * customCode, branch and filter nodes: user JavaScript in the sandbox, each entry bounded by
 * a hard time limit.
 */

import { type CodeJob, codeOutcome, runCodeJob } from "../code-job.ts";
import type { NodeContext } from "../context.ts";
import type { BranchConfig, CustomCodeConfig, FilterConfig } from "../types.ts";

/**
 * Runs a customCode node: its source's `return` value is the output. `{{ }}` templates in the
 * source are first replaced by their values as text (Ava's semantics).
 */
export async function runCustomCode(config: CustomCodeConfig, ctx: NodeContext): Promise<unknown> {
  const job: CodeJob = {
    variables: ctx.variables,
    source: config.source,
    timeoutMs: Math.min(config.timeoutMs ?? ctx.limits.codeTimeoutMs, ctx.limits.codeTimeoutMs),
    expressionTimeoutMs: ctx.limits.expressionTimeoutMs,
  };
  const answer = ctx.codePool ? await ctx.codePool.run(job) : runCodeJob(job);
  for (const line of answer.logs) ctx.log(line);
  return codeOutcome(answer);
}

/**
 * Runs a branch node: the first `if` whose expression is true wins, else the `else`; none
 * may match (then no path leaves the branch). The output names `<branchId>.<conditionId>`.
 * A condition that throws or gives something other than a boolean counts as false (Ava's
 * semantics) and says so in the step's log.
 */
export function runBranch(
  nodeId: string,
  config: BranchConfig,
  ctx: NodeContext,
): { output: { conditionId: string | null }; conditionId: string | undefined } {
  const sandbox = ctx.sandbox();
  for (const condition of config.conditions) {
    if (condition.type === "else") {
      ctx.log(`else "${condition.id}" taken`);
      return { output: { conditionId: `${nodeId}.${condition.id}` }, conditionId: condition.id };
    }
    let value: unknown;
    try {
      value = sandbox.evaluate(condition.expression ?? "", `condition ${condition.id}`);
    } catch (error) {
      ctx.log(
        `if "${condition.id}" threw, counted as false: ${error instanceof Error ? error.message : String(error)}`,
      );
      continue;
    }
    if (typeof value !== "boolean") {
      ctx.log(
        `if "${condition.id}" gave ${JSON.stringify(value) ?? "undefined"}, not a boolean: counted as false`,
      );
      continue;
    }
    ctx.log(`if "${condition.id}": ${value}`);
    if (value) return { output: { conditionId: `${nodeId}.${condition.id}` }, conditionId: condition.id };
  }
  ctx.log("no condition matched: no path is taken");
  return { output: { conditionId: null }, conditionId: undefined };
}

/** Evaluates a node's input expression (filter and loop); it must give an array. */
export function inputArray(expression: string, ctx: NodeContext): unknown[] {
  const value = ctx.sandbox().evaluate(expression, "inputVariable");
  if (!Array.isArray(value)) {
    const kind = value === null ? "null" : typeof value;
    const hint =
      kind === "object" && Array.isArray((value as { data?: unknown }).data)
        ? ` (did you mean ${expression}.data?)`
        : "";
    throw new Error(
      `inputVariable ${expression} is ${kind === "object" ? "an object" : kind}, not an array${hint}`,
    );
  }
  return value;
}

/** Runs a filter node: the items of the input array for which the predicate holds. */
export function runFilter(config: FilterConfig, ctx: NodeContext): unknown[] {
  const items = inputArray(config.inputVariable, ctx);
  const kept = ctx.sandbox().filterIndexes(items, config.expression, ctx.limits.codeTimeoutMs);
  ctx.log(`kept ${kept.length} of ${items.length}`);
  return kept.map((i) => items[i]);
}
