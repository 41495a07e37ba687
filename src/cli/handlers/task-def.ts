import path from "node:path";
import { detectGeneration, type GenerationReport } from "../../chain/generation.js";
import { loadSigner } from "../../chain/signer.js";
import { type ChainTarget, checkTargetFlags, resolveTarget } from "../../chain/target.js";
import type { PreparedCall } from "../../chain/tx.js";
import { sendCall } from "../../chain/tx.js";
import { parseAmount, parseOperatorIds, parseTaskDefinitionId, parseUint } from "../../chain/units.js";
import { type LoadedConfig, loadConfig } from "../../config/load.js";
import { type AvsctlError, invalidArgument } from "../../errors.js";
import {
  configToInput,
  createTaskDefinition,
  executePlan,
  paramsJson,
  parseTaskDefinitionInput,
  planApply,
  TaskDefClient,
  type TaskDefinitionInfo,
} from "../../task-def/task-defs.js";
import type { CommandContext } from "../context.js";
import { humanUint, table } from "../format.js";
import { valueOrPrompt } from "../interactive.js";
import type { CommandResult } from "../runner.js";
import { signerSpec } from "./signer-flags.js";

interface TargetFlags {
  rpcUrl?: string;
  attestationCenter?: string;
  chainId?: string;
  privateKey?: string;
  keystore?: string;
  passwordStdin?: boolean;
  allowDevKeys?: boolean;
  abi?: string;
  dryRun?: boolean;
}

interface Session {
  loaded: LoadedConfig;
  target: ChainTarget;
  generation: GenerationReport;
  client: TaskDefClient;
}

function parseFlags(flags: TargetFlags): { chainId?: number; abi: "auto" | "gen1" | "gen2" } {
  const abi = flags.abi ?? "auto";
  if (abi !== "auto" && abi !== "gen1" && abi !== "gen2")
    throw invalidArgument("--abi", `expected auto, gen1 or gen2, got "${abi}"`);
  const chainId =
    flags.chainId === undefined ? undefined : Number(parseUint(flags.chainId, "--chain-id", 64));
  return { chainId, abi };
}

/** Everything before the first transaction: config, flags, target, generation. Nothing is sent. */
async function open(ctx: CommandContext, flags: TargetFlags, check: () => void = () => {}): Promise<Session> {
  const loaded = await loadConfig({ cwd: ctx.cwd, configFile: ctx.config, env: ctx.env });
  const { chainId, abi } = parseFlags(flags);
  const input = {
    projectDir: loaded.root,
    config: loaded.config,
    rpcUrl: flags.rpcUrl,
    attestationCenter: flags.attestationCenter,
    chainId,
    targetFlags: true,
  };
  checkTargetFlags(input);
  check();
  const target = await resolveTarget(input);
  try {
    const wanted = abi === "auto" ? loaded.config.network.abi : abi;
    const generation: GenerationReport =
      wanted === "auto"
        ? await detectGeneration(target.provider, target.attestationCenter)
        : { generation: wanted, method: "flag", implementation: target.attestationCenter };
    const client = await TaskDefClient.open(target, generation);
    return { loaded, target, generation, client };
  } catch (error) {
    target.provider.destroy();
    throw error;
  }
}

async function signer(ctx: CommandContext, s: Session, flags: TargetFlags) {
  const spec = signerSpec(
    ctx,
    s.loaded,
    { ...flags, keystore: flags.keystore ? path.resolve(ctx.cwd, flags.keystore) : undefined },
    s.target.devnet?.deployer.privateKey,
  );
  return loadSigner(spec, s.target.provider, {
    chainId: s.target.chainId,
    devnetChainIds: s.target.devnetChainIds,
    allowDevKeys: flags.allowDevKeys === true,
  });
}

function dryRun(s: Session, calls: PreparedCall[], warnings: string[] = []): CommandResult {
  const data = {
    dryRun: true,
    generation: s.generation.generation,
    chainId: s.target.chainId,
    calls,
    warnings,
  };
  return {
    data,
    human: () =>
      [
        `dry run on chain ${s.target.chainId} (AttestationCenter ${s.target.attestationCenter}, ${s.generation.generation}); nothing sent`,
        ...warnings.map((w) => `note: ${w}`),
        ...calls.flatMap((c) => [
          `${c.method}`,
          `  args: ${JSON.stringify(c.args)}`,
          `  calldata: ${c.data}`,
        ]),
      ].join("\n"),
  };
}

async function withSession<T>(s: Session, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } finally {
    s.target.provider.destroy();
  }
}

function generationNote(g: GenerationReport): string {
  return `AttestationCenter generation ${g.generation.slice(3)} (${g.method === "flag" ? "--abi" : `detected from ${g.method}`})`;
}

export async function taskDefCreate(
  ctx: CommandContext,
  flags: TargetFlags & Record<string, unknown>,
): Promise<CommandResult> {
  let parsed!: ReturnType<typeof parseTaskDefinitionInput>;
  // The one required value: asked for on a terminal, otherwise an error naming --name.
  const name = await valueOrPrompt(flags.name as string | undefined, "--name", ctx.interactive, async () => {
    const { input } = await import("@inquirer/prompts");
    return input({ message: "Task definition name", validate: (v) => v.trim() !== "" || "required" });
  });
  const s = await open(ctx, flags, () => {
    parsed = parseTaskDefinitionInput({
      name,
      blockExpiry: flags.blockExpiry as string | undefined,
      rewardAttesters: flags.rewardAttesters as string | undefined,
      rewardPerformer: flags.rewardPerformer as string | undefined,
      rewardAggregator: flags.rewardAggregator as string | undefined,
      disputePeriod: flags.disputePeriod as string | undefined,
      minVotingPower: flags.minVotingPower as string | undefined,
      restrictedOperators: flags.restrictedOperators as string | undefined,
      maxAttesters: flags.maxAttesters as string | undefined,
    });
  });
  return withSession(s, async () => {
    await s.client.checkAgainstChain(parsed.params);
    if (flags.dryRun) return dryRun(s, [s.client.prepareCreate(parsed.params)], parsed.warnings);
    const wallet = await signer(ctx, s, flags);
    ctx.progress(
      `${generationNote(s.generation)}; creating "${parsed.params.name}" on chain ${s.target.chainId}`,
    );
    for (const w of parsed.warnings) ctx.progress(`note: ${w}`);
    const result = await createTaskDefinition(s.client, wallet, parsed);
    return {
      data: result,
      human: () =>
        [
          `created task definition ${result.taskDefinitionId} "${result.name}" (${result.generation})`,
          ...result.transactions.map((t) => `  ${t.method.split("(")[0]}  tx ${t.txHash}  gas ${t.gasUsed}`),
        ].join("\n"),
    };
  });
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
  flags: TargetFlags & { all?: boolean; fromBlock?: string },
): Promise<CommandResult> {
  let fromBlock: number | undefined;
  const s = await open(ctx, flags, () => {
    // Public RPCs cap eth_getLogs ranges: start from the AttestationCenter's deployment block.
    if (flags.fromBlock !== undefined) fromBlock = Number(parseUint(flags.fromBlock, "--from-block", 64));
  });
  return withSession(s, async () => {
    const taskDefinitions = await s.client.list({ includeInternal: flags.all === true, fromBlock });
    return {
      data: {
        taskDefinitions,
        generation: s.generation.generation,
        chainId: s.target.chainId,
        attestationCenter: s.target.attestationCenter,
      },
      human: () =>
        `${definitionsTable(taskDefinitions)}\n(${generationNote(s.generation)}, chain ${s.target.chainId})`,
    };
  });
}

export async function taskDefShow(
  ctx: CommandContext,
  idArg: string,
  flags: TargetFlags,
): Promise<CommandResult> {
  let id = 0;
  const s = await open(ctx, flags, () => {
    id = Number(parseUint(idArg, "<id>", 16));
  });
  return withSession(s, async () => {
    const def = await s.client.show(id);
    return {
      data: { ...def, generation: s.generation.generation },
      human: () =>
        Object.entries(def)
          .map(
            ([k, v]) =>
              `${k.padEnd(28)} ${Array.isArray(v) ? v.join(",") || "-" : humanUint(String(v), k === "blockExpiry" ? "block" : "plain")}`,
          )
          .join("\n"),
    };
  });
}

type Setter = "min-voting-power" | "restricted" | "max-attesters";

export async function taskDefSet(
  ctx: CommandContext,
  which: Setter,
  args: string[],
  flags: TargetFlags,
): Promise<CommandResult> {
  let id = 0;
  let prepare!: (client: TaskDefClient) => PreparedCall;
  // checks against the definition on-chain, so a setter the contract would refuse exits 2
  let checkState: (def: TaskDefinitionInfo) => void = () => {};
  const warnings: string[] = [];
  const s = await open(ctx, flags, () => {
    id = parseTaskDefinitionId(args[0] ?? "", "<id>");
    if (which === "min-voting-power") {
      const wei = parseAmount(args[1] ?? "", "<wei>");
      prepare = (c) => c.prepareSetMinVotingPower(id, wei);
    } else if (which === "restricted") {
      const { ids, sorted } = parseOperatorIds(args.slice(1), "<ids>");
      if (sorted) warnings.push(`operator ids sorted ascending as the contract requires: ${ids.join(",")}`);
      prepare = (c) => c.prepareSetRestricted(id, ids);
      checkState = (def) => {
        const max = BigInt(def.maximumNumberOfAttesters);
        if (ids.length > 0 && max > BigInt(ids.length)) {
          throw invalidArgument(
            "<ids>",
            `${ids.length} id(s) are fewer than the definition's maximum number of attesters (${max}); lower it first with set-max-attesters (InvalidMaximumNumberOfAttesters)`,
          );
        }
      };
    } else {
      const n = parseUint(args[1] ?? "", "<n>");
      prepare = (c) => c.prepareSetMaxAttesters(id, n);
      checkState = (def) => {
        const count = def.restrictedOperatorIndexes.length;
        if (count > 0 && n > BigInt(count)) {
          throw invalidArgument(
            "<n>",
            `${n} exceeds the definition's ${count} restricted operators (InvalidMaximumNumberOfAttesters)`,
          );
        }
      };
    }
  });
  return withSession(s, async () => {
    const call = prepare(s.client);
    checkState(await s.client.show(id)); // a missing definition fails here, before signing
    if (flags.dryRun) return dryRun(s, [call], warnings);
    const wallet = await signer(ctx, s, flags);
    for (const w of warnings) ctx.progress(`note: ${w}`);
    const sent = await sendCall(wallet, call, s.target.rpcUrl);
    const after = await s.client.show(id);
    const data = {
      taskDefinitionId: id,
      method: sent.method,
      txHash: sent.txHash,
      gasUsed: sent.gasUsed,
      transactions: [{ method: sent.method, txHash: sent.txHash, gasUsed: sent.gasUsed }],
      taskDefinition: after,
      generation: s.generation.generation,
      warnings,
    };
    return {
      data,
      human: () =>
        `${sent.method.split("(")[0]} on task definition ${id}: tx ${sent.txHash} (gas ${sent.gasUsed})`,
    };
  });
}

export async function taskDefApply(ctx: CommandContext, flags: TargetFlags): Promise<CommandResult> {
  let desired!: ReturnType<typeof parseTaskDefinitionInput>[];
  const s = await open(ctx, flags);
  return withSession(s, async () => {
    desired = s.loaded.config.taskDefinitions.map((d, i) => {
      try {
        return parseTaskDefinitionInput(configToInput(d));
      } catch (error) {
        throw invalidArgument(`taskDefinitions[${i}] (${d.name})`, (error as Error).message);
      }
    });
    const current = await s.client.list();
    const plan = planApply(desired, current, s.generation.generation);
    // an existing definition whose expiry block has passed is still the one the config means
    const creating = new Set(plan.filter((p) => p.action === "create").map((p) => p.name));
    for (const [i, d] of desired.entries()) {
      try {
        await s.client.checkAgainstChain(d.params, { creating: creating.has(d.params.name) });
      } catch (error) {
        if ((error as AvsctlError).code !== "INVALID_ARGUMENT") throw error;
        throw invalidArgument(`taskDefinitions[${i}] (${d.params.name})`, (error as Error).message);
      }
    }
    const actionable = plan.filter((p) => p.action !== "drift");
    if (flags.dryRun || actionable.length === 0) {
      return {
        data: {
          plan,
          applied: [],
          dryRun: flags.dryRun === true,
          desired: desired.map((d) => paramsJson(d.params)),
        },
        human: () => renderPlan(plan, flags.dryRun === true),
      };
    }
    const wallet = await signer(ctx, s, flags);
    const applied = await executePlan(s.client, wallet, plan, desired);
    return {
      data: { plan, applied },
      human: () => `${renderPlan(plan, false)}\napplied ${applied.length} change(s)`,
    };
  });
}

function renderPlan(plan: ReturnType<typeof planApply>, dry: boolean): string {
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
