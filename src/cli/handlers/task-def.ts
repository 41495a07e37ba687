import path from "node:path";
import type { IdList } from "../../chain/units.js";
import type { LoadedConfig } from "../../config/load.js";
import { AvsctlError } from "../../errors.js";
import type { TaskDefinitionInfo } from "../../task-def/params.js";
import type { ApplyStep } from "../../task-def/plan.js";
import type { TaskDefTargetOptions } from "../../task-def/session.js";
import type { DryRun, Outcome, SetterChange } from "../../task-def/use-cases.js";
import type { CommandContext } from "../context.js";
import { humanUint, table } from "../format.js";
import { valueOrPrompt } from "../interactive.js";
import type { CommandResult } from "../runner.js";
import { type SignerFlags, signerSpec } from "./signer-flags.js";

interface TargetFlags extends SignerFlags {
  rpcUrl?: string;
  attestationCenter?: string;
  chainId?: number;
  allowDevKeys?: boolean;
  abi: "auto" | "gen1" | "gen2";
  dryRun?: boolean;
}

interface CreateFlags extends TargetFlags {
  name?: string;
  blockExpiry: bigint;
  rewardAttesters: bigint;
  rewardPerformer: bigint;
  rewardAggregator: bigint;
  disputePeriod: bigint;
  minVotingPower: bigint;
  restrictedOperators?: IdList;
  maxAttesters: bigint;
}

const useCases = () => import("../../task-def/use-cases.js");

/** The flags as the use cases take them; the signer follows the precedence of signer-flags. */
function targetOptions(ctx: CommandContext, loaded: LoadedConfig, flags: TargetFlags): TaskDefTargetOptions {
  return {
    project: loaded,
    rpcUrl: flags.rpcUrl,
    attestationCenter: flags.attestationCenter,
    chainId: flags.chainId,
    abi: flags.abi,
    allowDevKeys: flags.allowDevKeys === true,
    signer: (deployerKey) =>
      signerSpec(
        ctx,
        loaded,
        { ...flags, keystore: flags.keystore ? path.resolve(ctx.cwd, flags.keystore) : undefined },
        deployerKey,
      ),
  };
}

function isDryRun(result: object): result is DryRun {
  return "dryRun" in result && result.dryRun === true && "calls" in result;
}

function renderDryRun({ info, result }: Outcome<DryRun>): CommandResult {
  return {
    data: result,
    human: () =>
      [
        `dry run on chain ${result.chainId} (AttestationCenter ${info.attestationCenter}, ${result.generation}); nothing sent`,
        ...result.warnings.map((w) => `note: ${w}`),
        ...result.calls.flatMap((c) => [
          `${c.method}`,
          `  args: ${JSON.stringify(c.args)}`,
          `  calldata: ${c.data}`,
        ]),
      ].join("\n"),
  };
}

export async function taskDefCreate(ctx: CommandContext, flags: CreateFlags): Promise<CommandResult> {
  // The one required value: asked for on a terminal, otherwise an error naming --name.
  const name = await valueOrPrompt(flags.name, "--name", ctx.interactive, async () => {
    const { input } = await import("@inquirer/prompts");
    return input({ message: "Task definition name", validate: (v) => v.trim() !== "" || "required" });
  });
  const loaded = await ctx.loadConfig();
  const { createDefinition } = await useCases();
  const outcome = await createDefinition({
    ...targetOptions(ctx, loaded, flags),
    dryRun: flags.dryRun === true,
    onProgress: (m) => ctx.progress(m),
    input: {
      name,
      blockExpiry: flags.blockExpiry,
      rewardAttesters: flags.rewardAttesters,
      rewardPerformer: flags.rewardPerformer,
      rewardAggregator: flags.rewardAggregator,
      disputePeriod: flags.disputePeriod,
      minVotingPower: flags.minVotingPower,
      restrictedOperators: flags.restrictedOperators,
      maxAttesters: flags.maxAttesters,
    },
  });
  const { result } = outcome;
  if (isDryRun(result)) return renderDryRun({ ...outcome, result });
  return {
    data: result,
    human: () =>
      [
        `created task definition ${result.taskDefinitionId} "${result.name}" (${result.generation})`,
        ...result.transactions.map((t) => `  ${t.method.split("(")[0]}  tx ${t.txHash}  gas ${t.gasUsed}`),
      ].join("\n"),
  };
}

function definitionsTable(defs: TaskDefinitionInfo[]): string {
  if (defs.length === 0) return "no task definitions";
  return table(
    ["ID", "NAME", "EXPIRY", "REWARDS (att/perf/agg)", "DISPUTE", "MIN VP", "RESTRICTED", "MAX ATT"],
    defs.map((d) => [
      d.taskDefinitionId,
      d.name,
      humanUint(d.blockExpiry, "block"),
      [d.baseRewardFeeForAttesters, d.baseRewardFeeForPerformer, d.baseRewardFeeForAggregator]
        .map((v) => humanUint(v, "wei"))
        .join(" / "),
      d.disputePeriodBlocks,
      humanUint(d.minimumVotingPower, "wei"),
      d.restrictedOperatorIndexes.join(",") || "-",
      d.maximumNumberOfAttesters === "0" ? "-" : d.maximumNumberOfAttesters,
    ]),
  );
}

export async function taskDefList(
  ctx: CommandContext,
  flags: TargetFlags & { all?: boolean; fromBlock?: number },
): Promise<CommandResult> {
  const { listDefinitions, generationNote } = await useCases();
  const { info, result: taskDefinitions } = await listDefinitions({
    ...targetOptions(ctx, await ctx.loadConfig(), flags),
    includeInternal: flags.all === true,
    // Public RPCs cap eth_getLogs ranges: start from the AttestationCenter's deployment block.
    fromBlock: flags.fromBlock,
  });
  return {
    data: {
      taskDefinitions,
      generation: info.generation.generation,
      chainId: info.chainId,
      attestationCenter: info.attestationCenter,
    },
    human: () => `${definitionsTable(taskDefinitions)}\n(${generationNote(info)}, chain ${info.chainId})`,
  };
}

export async function taskDefShow(
  ctx: CommandContext,
  id: number,
  flags: TargetFlags,
): Promise<CommandResult> {
  const { showDefinition } = await useCases();
  const { info, result: def } = await showDefinition({
    ...targetOptions(ctx, await ctx.loadConfig(), flags),
    taskDefinitionId: id,
  });
  return {
    data: { ...def, generation: info.generation.generation },
    human: () =>
      Object.entries(def)
        .map(
          ([k, v]) =>
            `${k.padEnd(28)} ${Array.isArray(v) ? v.join(",") || "-" : humanUint(String(v), k === "blockExpiry" ? "block" : "plain")}`,
        )
        .join("\n"),
  };
}

export async function taskDefSet(
  ctx: CommandContext,
  id: number,
  change: SetterChange,
  flags: TargetFlags,
): Promise<CommandResult> {
  const { setDefinition } = await useCases();
  const outcome = await setDefinition({
    ...targetOptions(ctx, await ctx.loadConfig(), flags),
    taskDefinitionId: id,
    change,
    dryRun: flags.dryRun === true,
    onProgress: (m) => ctx.progress(m),
  });
  const { result } = outcome;
  if (isDryRun(result)) return renderDryRun({ ...outcome, result });
  return {
    data: result,
    human: () =>
      `${result.method.split("(")[0]} on task definition ${id}: tx ${result.txHash} (gas ${result.gasUsed})`,
  };
}

export async function taskDefApply(ctx: CommandContext, flags: TargetFlags): Promise<CommandResult> {
  const { applyDefinitions } = await useCases();
  const dry = flags.dryRun === true;
  const loaded = await ctx.loadConfig();
  // with no config, "nothing to change" would be said of a config that is not there
  if (loaded.filepath === undefined) {
    throw new AvsctlError(
      "CONFIG_NOT_FOUND",
      `no avsctl config in ${loaded.root} or above: apply has no taskDefinitions to apply`,
      {
        hint: "run it in the project's directory (--cwd <dir>), or pass --config <file>; `avsctl init` creates a project",
      },
    );
  }
  const { result } = await applyDefinitions({
    ...targetOptions(ctx, loaded, flags),
    dryRun: dry,
  });
  for (const w of result.warnings) ctx.progress(`note: ${w}`);
  if (dry || result.applied.length === 0) return { data: result, human: () => renderPlan(result.plan, dry) };
  return {
    data: result,
    human: () => `${renderPlan(result.plan, false)}\napplied ${result.applied.length} change(s)`,
  };
}

function renderPlan(plan: ApplyStep[], dry: boolean): string {
  if (plan.length === 0) return "plan: nothing to change (the chain matches the config)";
  const lines = plan.map((p) =>
    p.action === "create"
      ? `+ create "${p.name}"`
      : p.action === "drift"
        ? `! "${p.name}" (${p.taskDefinitionId}): ${p.note} (chain ${p.from}, config ${p.to})`
        : `~ ${p.action} "${p.name}" (${p.taskDefinitionId}): ${JSON.stringify(p.from)} -> ${JSON.stringify(p.to)}`,
  );
  return [`plan${dry ? " (dry run, nothing sent)" : ""}:`, ...lines].join("\n");
}
