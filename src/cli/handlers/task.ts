import type { TaskEndReason } from "../../client/retry.js";
import type { TaskVerdict } from "../../client/verdicts.js";
import { AvsctlError, EXIT, type ExitCode, invalidArgument } from "../../errors.js";
import type { LoadSummary, TaskResult } from "../../task/run.js";
import type { SendTasksOptions } from "../../task/send.js";
import type { TaskRef } from "../../task/verdicts.js";
import type { CommandContext } from "../context.js";
import { follow, INTERRUPT_GRACE_MS, untilInterrupted } from "../follow.js";
import { table } from "../format.js";
import { useFancyProgress } from "../interactive.js";
import type { CommandResult } from "../runner.js";

/** The flags of `task send` as src/cli/commands/task.ts parsed them. */
interface SendFlags {
  taskDef: number;
  via?: "rpc" | "execution";
  proof?: string;
  data?: string;
  sigType?: "ecdsa" | "bls";
  targetChain?: number;
  aggregator?: string;
  wait?: boolean;
  timeout: number;
  count: number;
  concurrency: number;
  rate?: number;
}

/** A live bar on a terminal; a line every 10% otherwise; nothing under --json. */
function progressBar(ctx: CommandContext): (done: number, total: number) => void {
  if (useFancyProgress(ctx.json, ctx.env)) {
    return (done, total) => {
      const width = 30;
      const filled = Math.round((done / total) * width);
      ctx.out.stderr(`\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total} sent`);
    };
  }
  return (done, total) => {
    if (done % Math.max(1, Math.floor(total / 10)) === 0) ctx.progress(`sent ${done}/${total}`);
  };
}

function exitFor(summary: LoadSummary): ExitCode {
  if (summary.rejected > 0 || summary.failed > 0 || summary.unreachable > 0) return EXIT.FAILED;
  if (summary.timedOut > 0) return EXIT.TIMEOUT;
  return EXIT.OK;
}

function resultLine(r: TaskResult): string {
  const head = `${r.status.toUpperCase()}`;
  if (r.status === "approved" || r.status === "rejected") {
    return `${head}${r.duplicate ? " (already sent: the same task)" : ""}  task #${r.taskNumber} (definition ${r.taskDefinitionId}) on chain ${r.chainId}  tx ${r.txHash}  attesters [${r.attestersIds.join(",")}]  ${r.latencyMs} ms${r.gasUsed ? `  gas ${r.gasUsed}` : ""}`;
  }
  const why = r.reason ? `: ${r.reason.message}${abstentions(r.reason)}` : r.error ? `: ${r.error}` : "";
  return `${head}  task ${r.taskHash}${why}`;
}

/** Who abstained and why, one line each, for a task that got no verdict. */
function abstentions(reason: Pick<TaskEndReason, "abstained">): string {
  return reason.abstained
    .map((a) => `\n  attester ${a.operatorId} (${a.attester}) abstained: ${a.reason}`)
    .join("");
}

function summaryLines(summary: LoadSummary): string {
  return [
    `sent ${summary.sent}: ${summary.distinct} distinct task(s), ${summary.duplicates} duplicate(s)${summary.alreadyKnown ? `, ${summary.alreadyKnown} already known` : ""}, failed ${summary.failed} (not sent, or its submission failed)`,
    `on-chain: approved ${summary.approved}, rejected ${summary.rejected}, timed out ${summary.timedOut}, unreachable ${summary.unreachable}`,
    ...(summary.refusedBusy > 0 || summary.retried > 0
      ? [`refused busy ${summary.refusedBusy}, sent again ${summary.retried} (the same tasks)`]
      : []),
    summary.latencyMs.max === null
      ? "latency ms: - (no task got its verdict)"
      : `latency ms: p50 ${summary.latencyMs.p50}  p95 ${summary.latencyMs.p95}  p99 ${summary.latencyMs.p99}  max ${summary.latencyMs.max}`,
    `throughput ${summary.throughputPerSec}/s over ${(summary.durationMs / 1000).toFixed(1)} s`,
    ...summary.warnings.map((w) => `warning: ${w}`),
  ].join("\n");
}

/** Tasks the aggregator took that were still waiting for their verdict when the run ended. */
function undecided(summary: LoadSummary): TaskResult[] {
  return summary.results.filter((r) => (r.status === "timeout" || r.status === "sent") && r.taskHash);
}

/** INTERRUPTED, saying what was sent: a task that reached the aggregator may still be decided. */
function interrupted(summary: LoadSummary | undefined, flags: SendFlags): AvsctlError {
  const reached = (summary?.results ?? []).filter((r) => r.status !== "failed" && r.taskHash);
  const decided = reached.filter((r) => r.status === "approved" || r.status === "rejected");
  const one = flags.count === 1 && summary ? undecided(summary)[0] : undefined;
  const offDevnet = flags.aggregator !== undefined;
  const details = {
    sent: reached.length,
    decided: decided.length,
    taskHashes: reached.slice(0, 100).map((r) => r.taskHash),
  };
  if (!summary) {
    return new AvsctlError(
      "INTERRUPTED",
      "task send was interrupted while sending: a task in flight may still reach the aggregator and be decided",
      { hint: "`avsctl task list` shows the verdicts that landed", details },
    );
  }
  if (one) {
    return new AvsctlError(
      "INTERRUPTED",
      `task send was interrupted before task ${one.taskHash} had its verdict; the aggregator has it and may still decide it`,
      {
        hint: `\`avsctl task status ${one.taskHash}\` shows its verdict once it lands${offDevnet ? " (with L2_RPC and ATTESTATION_CENTER_ADDRESS set)" : ""}`,
        details,
      },
    );
  }
  return new AvsctlError(
    "INTERRUPTED",
    `task send was interrupted after sending ${reached.length} of ${flags.count} task(s), ${decided.length} decided; the others may still be decided on-chain`,
    {
      hint: `\`avsctl task list\` shows the verdicts that landed${offDevnet ? " (with L2_RPC and ATTESTATION_CENTER_ADDRESS set)" : ""}`,
      details,
    },
  );
}

export async function taskSend(ctx: CommandContext, flags: SendFlags): Promise<CommandResult> {
  const { sendTasks } = await import("../../task/send.js");
  const options: SendTasksOptions = {
    project: await ctx.loadConfig(),
    taskDefinitionId: flags.taskDef,
    via: flags.via,
    proof: flags.proof,
    data: flags.data,
    sigType: flags.sigType,
    targetChain: flags.targetChain,
    aggregator: flags.aggregator,
    wait: flags.wait === true,
    timeoutMs: flags.timeout,
    count: flags.count,
    concurrency: flags.concurrency,
    rate: flags.rate,
    onProgress: flags.count > 1 ? progressBar(ctx) : undefined,
    signal: ctx.signal,
  };
  const ended = await untilInterrupted(sendTasks(options), ctx.signal);
  // interrupted with every task already decided, or ended for good: the answer is the same as without
  if (!ended || (ctx.signal.aborted && (undecided(ended).length > 0 || ended.results.length < flags.count)))
    throw interrupted(ended, flags);
  const summary = ended;
  if (flags.count > 1 && useFancyProgress(ctx.json, ctx.env)) ctx.out.stderr("\n");
  if (flags.count === 1) {
    const r = summary.results[0]!;
    const { error: _e, ...publicResult } = r;
    // one task's JSON is its result alone (docs/cli.md); a human sees the run's warnings under it
    const human = () => [resultLine(r), ...summary.warnings.map((w) => `warning: ${w}`)].join("\n");
    return { data: publicResult, human, exitCode: exitFor(summary) };
  }
  const { errors: _errors, ...data } = summary;
  return { data, human: () => summaryLines(summary), exitCode: exitFor(summary) };
}

function verdictRow(v: TaskVerdict): (string | number)[] {
  return [
    v.taskNumber,
    v.status,
    v.taskDefinitionId,
    v.performer,
    v.attestersIds.join(","),
    v.blockNumber,
    v.txHash,
  ];
}

export async function taskStatus(
  ctx: CommandContext,
  ref: TaskRef,
  flags: { targetChain?: number },
): Promise<CommandResult> {
  const { findTaskVerdict } = await import("../../task/verdicts.js");
  const v = await findTaskVerdict({ project: await ctx.loadConfig(), ref, targetChain: flags.targetChain });
  // A task with no verdict exits as `task send --wait` would: 1 unreachable or failed, 3 timed out.
  const exitCode: ExitCode =
    v.status === "unreachable" || v.status === "failed"
      ? EXIT.FAILED
      : v.status === "timeout"
        ? EXIT.TIMEOUT
        : EXIT.OK;
  return {
    data: v,
    exitCode,
    human: () =>
      Object.entries(v)
        .map(([k, val]) => {
          if (k !== "reason") return `${k.padEnd(17)} ${Array.isArray(val) ? val.join(",") : val}`;
          const reason = val as TaskEndReason | null;
          return `${k.padEnd(17)} ${reason ? `${reason.message}${abstentions(reason)}` : "-"}`;
        })
        .join("\n"),
  };
}

export async function taskTrace(
  ctx: CommandContext,
  ref: TaskRef,
  flags: { targetChain?: number },
): Promise<CommandResult> {
  const { traceTask } = await import("../../task/trace.js");
  const trace = await traceTask({
    project: await ctx.loadConfig(),
    ref,
    targetChain: flags.targetChain,
    signal: ctx.signal,
  });
  return {
    data: trace,
    human: () => {
      const head = `task ${trace.taskHash} on chain ${trace.chainId}: ${trace.status}${trace.taskNumber === null ? "" : ` (task ${trace.taskNumber})`}`;
      const width = Math.max(9, ...trace.events.map((e) => e.component.length));
      const lines = trace.events.map(
        (e) => `${(e.time ?? "-").padEnd(24)} ${e.component.padEnd(width)} ${e.summary}`,
      );
      const gone = trace.logsAfterTask.map(
        (l) =>
          `(${l.component}'s log begins at ${l.logBegins}, after this task: its steps there are not shown)`,
      );
      return [head, ...lines, ...gone].join("\n");
    },
  };
}

export async function taskList(
  ctx: CommandContext,
  flags: {
    taskDef?: number;
    status?: "approved" | "rejected";
    fromBlock?: number;
    toBlock?: number;
    targetChain?: number;
  },
): Promise<CommandResult> {
  if (flags.fromBlock !== undefined && flags.toBlock !== undefined && flags.toBlock < flags.fromBlock) {
    throw invalidArgument("--to-block", `${flags.toBlock} is before --from-block ${flags.fromBlock}`);
  }
  const { listTasks } = await import("../../task/verdicts.js");
  const { taskDef, ...rest } = flags;
  const data = await listTasks({ ...rest, taskDefinitionId: taskDef, project: await ctx.loadConfig() });
  return {
    data,
    human: () =>
      data.tasks.length === 0
        ? `no tasks on chain ${data.chains.join(", ")}`
        : table(
            ["CHAIN", "TASK", "STATUS", "DEF", "PERFORMER", "ATTESTERS", "BLOCK", "TX"],
            data.tasks.map((v) => [v.chainId, ...verdictRow(v)]),
          ),
  };
}

/**
 * Streams verdicts as they land; one JSON line per verdict with --json. Ends at --timeout (exit
 * 0), or on Ctrl-C/SIGTERM with INTERRUPTED naming the --from-block that goes on from there.
 */
export async function taskWatch(
  ctx: CommandContext,
  flags: { targetChain?: number; timeout?: number; fromBlock?: number },
): Promise<CommandResult> {
  let seen = 0;
  let resumeAt = flags.fromBlock;
  const interrupted = (cause?: unknown) => {
    const resume = [
      "avsctl task watch",
      ...(flags.targetChain === undefined ? [] : ["--target-chain", String(flags.targetChain)]),
      ...(resumeAt === undefined ? [] : ["--from-block", String(resumeAt)]),
    ].join(" ");
    return new AvsctlError("INTERRUPTED", `task watch was interrupted after ${seen} verdict(s)`, {
      // before the watch read its first block there is nothing to go on from
      hint:
        resumeAt === undefined
          ? `\`${resume}\` watches again`
          : `\`${resume}\` watches on without missing a verdict that lands meanwhile`,
      details: { verdicts: seen, ...(resumeAt === undefined ? {} : { fromBlock: resumeAt }) },
      cause,
    });
  };
  await follow(
    ctx,
    async () => {
      const { watchTasks } = await import("../../task/verdicts.js");
      const verdicts = watchTasks({
        project: await ctx.loadConfig(),
        targetChain: flags.targetChain,
        timeoutMs: flags.timeout,
        fromBlock: flags.fromBlock,
        signal: ctx.signal,
        onStart: (t) => {
          resumeAt = t.fromBlock;
          if (!ctx.json)
            ctx.out.stderr(`watching chain ${t.chainId} (${t.attestationCenter}); Ctrl-C to stop\n`);
        },
      });
      for await (const verdict of verdicts) {
        seen++;
        // every verdict of a block is shown before the watch reads on: the next block loses none
        resumeAt = Math.max(resumeAt ?? 0, verdict.blockNumber + 1);
        ctx.out.stdout(ctx.json ? `${JSON.stringify(verdict)}\n` : `${verdictRow(verdict).join("  ")}\n`);
      }
    },
    interrupted,
    // a frozen node does not hold a cancelled watch
    INTERRUPT_GRACE_MS,
  );
  return { data: undefined, human: () => (ctx.json ? "" : `${seen} verdict(s) seen`) };
}

/**
 * `task triggers`: the running devnet's triggers with their next firing, from its trigger
 * runner; the configured ones (not running) when the devnet runs none.
 */
export async function taskTriggers(ctx: CommandContext): Promise<CommandResult> {
  const { listTriggers } = await import("../../task/triggers.js");
  const report = await listTriggers(await ctx.loadConfig());
  if (report.running) {
    return {
      data: report,
      human: () =>
        report.triggers.length === 0
          ? "no triggers"
          : table(
              ["TRIGGER", "DEFINITION", "TYPE", "SCHEDULE", "NEXT", "FIRED", "LAST PERFORMER"],
              report.triggers.map((t) => [
                t.id,
                `${t.taskDefinitionId} ${t.taskDefinitionName ?? ""}`.trim(),
                t.type,
                t.description,
                t.done
                  ? "done"
                  : (t.nextFiring ?? (t.nextBlock !== null ? `block ${t.nextBlock}` : "on event")),
                t.firings,
                t.lastFiring?.performer ?? "-",
              ]),
            ),
    };
  }
  const { triggers } = report;
  return {
    data: report,
    human: () =>
      triggers.length === 0
        ? "no triggers configured (add taskDefinitions[].triggers to the avsctl config)"
        : `${table(
            ["DEFINITION", "TYPE", "SCHEDULE", "NEXT (if the devnet ran)"],
            triggers.map((t) => [t.taskDefinition, t.type, t.description, t.nextFiring ?? "-"]),
          )}\n(the devnet is not running them: \`avsctl devnet up\` starts the trigger runner)`,
  };
}
