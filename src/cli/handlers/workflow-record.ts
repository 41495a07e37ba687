/**
 * `workflow run` records its execution in the task engine when there is one (`--engine`, else
 * the devnet's): the run has happened, so a failure to record is reported in `recorded.error`
 * and never changes the exit code.
 */

import { isAvsctlError } from "../../errors.js";
import type { ExecutionRecord, Workflow } from "../../workflow/index.js";
import type { CommandContext } from "../context.js";
import { type EngineFlags, engineClientIfAny } from "./engine-target.js";

export type Recorded =
  | { workflowId: string; executionId: string }
  | { error: { code: string; message: string } };

export async function recordRun(
  ctx: CommandContext,
  flags: EngineFlags & { privateKey?: string },
  workflow: Workflow,
  /** Its secrets already masked (maskRecord), as it was printed. */
  record: ExecutionRecord,
): Promise<Recorded | undefined> {
  try {
    const client = await engineClientIfAny(ctx, flags);
    if (!client) return undefined;
    const answer = await client.recordRun(workflow, record);
    return { workflowId: String(answer.workflowId), executionId: String(answer.executionId) };
  } catch (error) {
    const code = isAvsctlError(error) ? error.code : "INTERNAL";
    const message = error instanceof Error ? error.message : String(error);
    ctx.progress(`the run was not recorded in the task engine: ${message}`);
    return { error: { code, message } };
  }
}
