import { type ChainTarget, resolveTarget } from "../../chain/target.js";
import { parseTaskDefinitionId, parseUint } from "../../chain/units.js";
import { executionInput, parseSigType, sendTaskRpc, sendTaskViaExecution } from "../../client/send.js";
import { readVerdicts, type TaskVerdict } from "../../client/verdicts.js";
import { loadConfig } from "../../config/load.js";
import { buildTask } from "../../devnet/samples/sample-rule.js";
import { readDevnetState } from "../../devnet/state.js";
import { AvsctlError, EXIT, type ExitCode, invalidArgument } from "../../errors.js";
import { type LoadSummary, runTasks, type TaskResult } from "../../task/run.js";
import type { CommandContext } from "../context.js";
import { table } from "../format.js";
import { useFancyProgress } from "../interactive.js";
import type { CommandResult } from "../runner.js";

interface SendFlags {
  taskDef?: string;
  via?: string;
  proof?: string;
  data?: string;
  sigType?: string;
  targetChain?: string;
  aggregator?: string;
  wait?: boolean;
  timeout?: string;
  count?: string;
  concurrency?: string;
  rate?: string;
}

function positiveInt(value: string | undefined, flag: string, fallback: number, max = 1_000_000): number {
  if (value === undefined) return fallback;
  const n = Number(parseUint(value, flag, 32));
  if (n < 1 || n > max) throw invalidArgument(flag, `expected 1 to ${max}, got ${value}`);
  return n;
}

/** Where tasks go and where verdicts are read: the devnet, or --aggregator plus a configured L2. */
async function sendContext(ctx: CommandContext, flags: SendFlags, targetChain: number | undefined) {
  const loaded = await loadConfig({ cwd: ctx.cwd, configFile: ctx.config, env: ctx.env });
  const devnet = readDevnetState(loaded.root);
  if (!devnet && !flags.aggregator) {
    throw new AvsctlError("NO_DEVNET", "no devnet is running for this project", {
      hint: "start one with `avsctl devnet up`, or pass --aggregator <url> (and set PRIVATE_KEY_PERFORMER)",
    });
  }
  const aggregatorUrl = flags.aggregator ?? devnet!.aggregator.rpcUrl;
  if (!/^https?:\/\//.test(aggregatorUrl))
    throw invalidArgument("--aggregator", `"${aggregatorUrl}" is not an http(s) URL`);
  // `||`: a `.env` copied from .env.example holds empty values, which mean "not set"
  const performerKey =
    loaded.env.PRIVATE_KEY_PERFORMER ||
    loaded.env.AVSCTL_PRIVATE_KEY ||
    devnet?.performer.privateKey ||
    undefined;
  if (!performerKey) {
    throw new AvsctlError("MISSING_ARGUMENT", "no performer key", {
      hint: "set PRIVATE_KEY_PERFORMER (or AVSCTL_PRIVATE_KEY)",
      details: { argument: "PRIVATE_KEY_PERFORMER" },
    });
  }
  let target: ChainTarget | undefined;
  if (devnet && !flags.aggregator) {
    if (targetChain !== undefined && !devnet.l2.some((l) => l.chainId === targetChain)) {
      throw invalidArgument(
        "--target-chain",
        `the devnet has no L2 with chain id ${targetChain} (it has ${devnet.l2.map((l) => l.chainId).join(", ")})`,
      );
    }
    target = await resolveTarget({
      projectDir: loaded.root,
      config: loaded.config,
      chainId: targetChain,
      chainFlag: "--target-chain",
    });
  } else if (flags.wait) {
    target = await resolveTarget({
      projectDir: loaded.root,
      config: loaded.config,
      chainId: targetChain,
      chainFlag: "--target-chain",
    });
  }
  return { devnet, aggregatorUrl, performerKey, target };
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
  if (summary.rejected > 0 || summary.failed > 0) return EXIT.FAILED;
  if (summary.timedOut > 0) return EXIT.TIMEOUT;
  return EXIT.OK;
}

function resultLine(r: TaskResult): string {
  const head = `${r.status.toUpperCase()}`;
  if (r.status === "approved" || r.status === "rejected") {
    return `${head}${r.duplicate ? " (already sent: the same task)" : ""}  task #${r.taskNumber} (definition ${r.taskDefinitionId}) on chain ${r.chainId}  tx ${r.txHash}  attesters [${r.attestersIds.join(",")}]  ${r.latencyMs} ms${r.gasUsed ? `  gas ${r.gasUsed}` : ""}`;
  }
  return `${head}  task ${r.taskHash}${r.error ? `: ${r.error}` : ""}`;
}

/**
 * Which path a send takes: the project's own execution service when the devnet runs one and no
 * raw-proof flag asks otherwise, so a project's first task is checked by its own rules.
 */
function choosePath(flags: SendFlags, executionUrl: string | null | undefined): "rpc" | "execution" {
  if (flags.via === "rpc" || flags.via === "execution") return flags.via;
  if (flags.aggregator !== undefined || flags.proof !== undefined || flags.sigType !== undefined)
    return "rpc";
  return executionUrl ? "execution" : "rpc";
}

export async function taskSend(ctx: CommandContext, flags: SendFlags): Promise<CommandResult> {
  const taskDefinitionId = parseTaskDefinitionId(flags.taskDef ?? "1", "--task-def");
  const sigType = parseSigType(flags.sigType);
  const targetChain =
    flags.targetChain === undefined ? undefined : Number(parseUint(flags.targetChain, "--target-chain", 64));
  const timeoutMs = positiveInt(flags.timeout ?? "60", "--timeout", 60, 3600) * 1000;
  const count = positiveInt(flags.count, "--count", 1, 100_000);
  const concurrency = positiveInt(flags.concurrency, "--concurrency", 1, 1000);
  const rate = flags.rate === undefined ? undefined : positiveInt(flags.rate, "--rate", 1, 100_000);
  if (flags.via === "execution" && (flags.proof !== undefined || flags.sigType !== undefined)) {
    throw invalidArgument(
      "--via",
      "with --via execution the execution service builds and signs the proof (drop --proof/--sig-type)",
    );
  }

  if (flags.via !== undefined && flags.via !== "rpc" && flags.via !== "execution")
    throw invalidArgument("--via", `expected rpc or execution, got "${flags.via}"`);

  const sc = await sendContext(ctx, flags, targetChain);
  try {
    const chainId = sc.target?.chainId ?? targetChain ?? 0;
    const via = choosePath(flags, flags.aggregator ? undefined : sc.devnet?.services.execution);
    if (via === "execution" && !sc.devnet?.services.execution) {
      throw invalidArgument(
        "--via",
        "the devnet runs no execution service",
        "start the devnet with services (without --no-services), or use --via rpc",
      );
    }
    const { Wallet } = await import("ethers");
    const performer = new Wallet(sc.performerKey).address;
    // Built once per index, so a retried send repeats the same task instead of making a new one.
    const tasks = new Map<number, ReturnType<typeof buildTask>>();
    const taskFor = (i: number) => {
      if (!tasks.has(i)) tasks.set(i, buildTask({ proof: flags.proof, data: flags.data, taskDefinitionId }));
      return tasks.get(i)!;
    };
    const summary = await runTasks({
      count,
      concurrency,
      rate,
      wait: flags.wait === true,
      timeoutMs,
      chainId,
      provider: sc.target?.provider,
      attestationCenter: sc.target?.attestationCenter,
      aggregatorUrl: sc.aggregatorUrl,
      sendOne: (i) =>
        via === "execution"
          ? sendTaskViaExecution(
              sc.devnet!.services.execution!,
              executionInput(taskDefinitionId, flags.data, targetChain),
              performer,
            )
          : sendTaskRpc(taskFor(i), {
              aggregatorUrl: sc.aggregatorUrl,
              performerKey: sc.performerKey,
              sigType,
              targetChainId: targetChain,
            }),
      onProgress: count > 1 ? progressBar(ctx) : undefined,
    });
    if (count > 1 && useFancyProgress(ctx.json, ctx.env)) ctx.out.stderr("\n");
    if (count === 1) {
      const r = summary.results[0]!;
      if (r.status === "failed")
        throw summary.errors[0] ?? new AvsctlError("COMMAND_FAILED", r.error ?? "sending the task failed");
      const { error: _e, ...publicResult } = r;
      return {
        data: publicResult,
        human: () => resultLine(r),
        exitCode: exitFor(summary),
      };
    }
    const { errors: _errors, ...data } = summary;
    return {
      data,
      human: () =>
        [
          `sent ${summary.sent}: ${summary.distinct} distinct task(s), ${summary.duplicates} duplicate(s)${summary.alreadyKnown ? `, ${summary.alreadyKnown} already known` : ""}, failed ${summary.failed}`,
          `on-chain: approved ${summary.approved}, rejected ${summary.rejected}, timed out ${summary.timedOut}`,
          `latency ms: p50 ${summary.latencyMs.p50}  p95 ${summary.latencyMs.p95}  p99 ${summary.latencyMs.p99}  max ${summary.latencyMs.max}`,
          `throughput ${summary.throughputPerSec}/s over ${(summary.durationMs / 1000).toFixed(1)} s`,
          ...summary.warnings.map((w) => `warning: ${w}`),
        ].join("\n"),
      exitCode: exitFor(summary),
    };
  } finally {
    sc.target?.provider.destroy();
  }
}

async function chainTarget(ctx: CommandContext, flags: { targetChain?: string }) {
  const loaded = await loadConfig({ cwd: ctx.cwd, configFile: ctx.config, env: ctx.env });
  const chainId =
    flags.targetChain === undefined ? undefined : Number(parseUint(flags.targetChain, "--target-chain", 64));
  return resolveTarget({
    projectDir: loaded.root,
    config: loaded.config,
    chainId,
    chainFlag: "--target-chain",
  });
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
  ref: string,
  flags: { targetChain?: string },
): Promise<CommandResult> {
  const isHash = /^0x[0-9a-fA-F]{64}$/.test(ref);
  const number = isHash ? undefined : Number(parseUint(ref, "<taskNumber|taskHash>", 32));
  const target = await chainTarget(ctx, flags);
  try {
    const verdicts = await readVerdicts({
      provider: target.provider,
      attestationCenter: target.attestationCenter,
      chainId: target.chainId,
    });
    const v = verdicts.find((x) =>
      isHash ? x.taskHash.toLowerCase() === ref.toLowerCase() : x.taskNumber === number,
    );
    if (!v) {
      throw new AvsctlError("NOT_FOUND", `no verdict on chain ${target.chainId} for task ${ref}`, {
        hint: "a task appears once the aggregator submits it; `avsctl task list` shows the known ones",
      });
    }
    return {
      data: v,
      human: () =>
        Object.entries(v)
          .map(([k, val]) => `${k.padEnd(17)} ${Array.isArray(val) ? val.join(",") : val}`)
          .join("\n"),
    };
  } finally {
    target.provider.destroy();
  }
}

/**
 * The L2s `task list` reads: the --target-chain one, else the configured network, else every
 * L2 of the devnet (a task can land on any of them).
 */
async function listTargets(ctx: CommandContext, flags: { targetChain?: string }): Promise<ChainTarget[]> {
  const loaded = await loadConfig({ cwd: ctx.cwd, configFile: ctx.config, env: ctx.env });
  const chainId =
    flags.targetChain === undefined ? undefined : Number(parseUint(flags.targetChain, "--target-chain", 64));
  const devnet = readDevnetState(loaded.root);
  const network = loaded.config.network;
  const configured =
    network.rpcUrl !== undefined || network.attestationCenter !== undefined || network.chainId !== undefined;
  const chains = !devnet || configured || chainId !== undefined ? [chainId] : devnet.l2.map((l) => l.chainId);
  const targets: ChainTarget[] = [];
  try {
    for (const id of chains) {
      targets.push(
        await resolveTarget({
          projectDir: loaded.root,
          config: loaded.config,
          chainId: id,
          chainFlag: "--target-chain",
        }),
      );
    }
  } catch (error) {
    for (const t of targets) t.provider.destroy();
    throw error;
  }
  return targets;
}

export async function taskList(
  ctx: CommandContext,
  flags: { taskDef?: string; status?: string; fromBlock?: string; toBlock?: string; targetChain?: string },
): Promise<CommandResult> {
  const taskDefinitionId =
    flags.taskDef === undefined ? undefined : Number(parseUint(flags.taskDef, "--task-def", 16));
  const status = flags.status;
  if (status !== undefined && status !== "approved" && status !== "rejected") {
    throw invalidArgument("--status", `expected approved or rejected, got "${status}"`);
  }
  const fromBlock =
    flags.fromBlock === undefined ? 0 : Number(parseUint(flags.fromBlock, "--from-block", 64));
  const toBlock = flags.toBlock === undefined ? "latest" : Number(parseUint(flags.toBlock, "--to-block", 64));
  const targets = await listTargets(ctx, flags);
  try {
    const perChain = await Promise.all(
      targets.map((target) =>
        readVerdicts({
          provider: target.provider,
          attestationCenter: target.attestationCenter,
          chainId: target.chainId,
          fromBlock,
          toBlock,
        }).catch(async (error: unknown) => {
          const { translateChainError } = await import("../../chain/rpc.js");
          throw await translateChainError(error, {
            action: `reading the verdicts of chain ${target.chainId}`,
            rpcUrl: target.rpcUrl,
          });
        }),
      ),
    );
    const tasks = perChain
      .flat()
      .filter(
        (v) =>
          (taskDefinitionId === undefined || v.taskDefinitionId === taskDefinitionId) &&
          (!status || v.status === status),
      );
    return {
      data: { chains: targets.map((t) => t.chainId), tasks },
      human: () =>
        tasks.length === 0
          ? `no tasks on chain ${targets.map((t) => t.chainId).join(", ")}`
          : table(
              ["CHAIN", "TASK", "STATUS", "DEF", "PERFORMER", "ATTESTERS", "BLOCK", "TX"],
              tasks.map((v) => [v.chainId, ...verdictRow(v)]),
            ),
    };
  } finally {
    for (const t of targets) t.provider.destroy();
  }
}

/** Streams verdicts as they land; one JSON line per verdict with --json. Ends on Ctrl-C. */
export async function taskWatch(
  ctx: CommandContext,
  flags: { targetChain?: string; timeout?: string },
): Promise<CommandResult> {
  const target = await chainTarget(ctx, flags);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const until =
    flags.timeout === undefined
      ? Number.POSITIVE_INFINITY
      : Date.now() + positiveInt(flags.timeout, "--timeout", 60) * 1000;
  const { followVerdicts } = await import("../../client/verdicts.js");
  let seen = 0;
  try {
    const fromBlock = Number(await target.provider.send("eth_blockNumber", [])) + 1;
    if (!ctx.json)
      ctx.out.stderr(`watching chain ${target.chainId} (${target.attestationCenter}); Ctrl-C to stop\n`);
    const q = {
      provider: target.provider,
      attestationCenter: target.attestationCenter,
      chainId: target.chainId,
      fromBlock,
    };
    for await (const verdict of followVerdicts(q, { until, signal: controller.signal, pollMs: 200 })) {
      seen++;
      ctx.out.stdout(ctx.json ? `${JSON.stringify(verdict)}\n` : `${verdictRow(verdict).join("  ")}\n`);
    }
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    target.provider.destroy();
  }
  return { data: undefined, human: () => (ctx.json ? "" : `${seen} verdict(s) seen`) };
}

/**
 * `task triggers`: the running devnet's triggers with their next firing, from its trigger
 * runner; the configured ones (not running) when the devnet runs none.
 */
export async function taskTriggers(ctx: CommandContext): Promise<CommandResult> {
  const loaded = await loadConfig({ cwd: ctx.cwd, configFile: ctx.config, env: ctx.env });
  const devnet = readDevnetState(loaded.root);
  const statusUrl = devnet?.internal?.triggersUrl as string | undefined;
  if (devnet && statusUrl) {
    const { fetchTriggerStatus } = await import("../../triggers/status-client.js");
    const status = await fetchTriggerStatus(statusUrl);
    return {
      data: { running: true, ...status },
      human: () =>
        status.triggers.length === 0
          ? "no triggers"
          : table(
              ["TRIGGER", "DEFINITION", "TYPE", "SCHEDULE", "NEXT", "FIRED", "LAST PERFORMER"],
              status.triggers.map((t) => [
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
  const { parseTrigger, describeTrigger, nextFiring } = await import("../../triggers/schedule.js");
  const triggers = loaded.config.taskDefinitions.flatMap((d, i) =>
    (d.triggers ?? []).map((raw, j) => {
      const { trigger } = parseTrigger(raw, `taskDefinitions[${i}].triggers[${j}]`);
      const next = trigger ? nextFiring(trigger, Date.now(), null) : { at: null, block: null };
      return {
        taskDefinition: d.name,
        type: raw.type,
        description: trigger ? describeTrigger(trigger) : "",
        nextFiring: next.at === null ? null : new Date(next.at).toISOString(),
      };
    }),
  );
  return {
    data: { running: false, triggers },
    human: () =>
      triggers.length === 0
        ? "no triggers configured (add taskDefinitions[].triggers to the avsctl config)"
        : `${table(
            ["DEFINITION", "TYPE", "SCHEDULE", "NEXT (if the devnet ran)"],
            triggers.map((t) => [t.taskDefinition, t.type, t.description, t.nextFiring ?? "-"]),
          )}\n(the devnet is not running them: \`avsctl devnet up\` starts the trigger runner)`,
  };
}
