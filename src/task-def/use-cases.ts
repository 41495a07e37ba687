import type { PreparedCall } from "../chain/tx.js";
import { sendCall } from "../chain/tx.js";
import type { IdList } from "../chain/units.js";
import { type AvsctlError, invalidArgument } from "../errors.js";
import type { TaskDefClient } from "./client.js";
import { type CreateResult, createTaskDefinition, unsettledSetterHint } from "./create.js";
import type { ParsedInput, TaskDefinitionInfo, TaskDefinitionInput } from "./params.js";
import { configToInput, parseTaskDefinitionInput } from "./params.js";
import { type ApplyStep, executePlan, planApply } from "./plan.js";
import {
  type TargetInfo,
  type TaskDefSession,
  type TaskDefTargetOptions,
  withTaskDefSession,
} from "./session.js";

/** What a dry run prints: the calls it would send, nothing sent. */
export interface DryRun {
  dryRun: true;
  generation: string;
  chainId: number;
  calls: PreparedCall[];
  warnings: string[];
}

export interface Outcome<T> {
  info: TargetInfo;
  result: T;
}

type Progress = { onProgress?: (message: string) => void };

function dryRun(s: TaskDefSession, calls: PreparedCall[], warnings: string[] = []): Outcome<DryRun> {
  return {
    info: s.info,
    result: { dryRun: true, generation: s.generation.generation, chainId: s.target.chainId, calls, warnings },
  };
}

export function generationNote(info: TargetInfo): string {
  const g = info.generation;
  return `AttestationCenter generation ${g.generation.slice(3)} (${g.method === "flag" ? "--abi" : `detected from ${g.method}`})`;
}

/** `task-def create`: createNewTaskDefinition, then the setters for what the struct did not take. */
export async function createDefinition(
  opts: TaskDefTargetOptions & Progress & { input: TaskDefinitionInput; dryRun: boolean },
): Promise<Outcome<DryRun | CreateResult>> {
  let parsed!: ParsedInput;
  return withTaskDefSession(
    opts,
    async (s) => {
      await s.client.checkAgainstChain(parsed.params);
      parsed.warnings.push(
        ...(await restrictedSetWarnings(
          s.client,
          parsed.params.restrictedOperatorIndexes,
          parsed.params.minimumVotingPower,
        )),
      );
      if (opts.dryRun) return dryRun(s, [s.client.prepareCreate(parsed.params)], parsed.warnings);
      const wallet = await s.signer();
      opts.onProgress?.(
        `${generationNote(s.info)}; creating "${parsed.params.name}" on chain ${s.target.chainId}`,
      );
      for (const w of parsed.warnings) opts.onProgress?.(`note: ${w}`);
      const created = await createTaskDefinition(s.client, wallet, parsed, "create");
      if (parsed.params.minimumVotingPower > 0n)
        created.warnings.push(
          ...(await devnetPerformerRefused(s, opts.project.root, created.taskDefinitionId)),
        );
      return { info: s.info, result: created };
    },
    () => {
      parsed = parseTaskDefinitionInput(opts.input);
    },
  );
}

export async function listDefinitions(
  opts: TaskDefTargetOptions & { includeInternal: boolean; fromBlock?: number },
): Promise<Outcome<TaskDefinitionInfo[]>> {
  return withTaskDefSession(opts, async (s) => ({
    info: s.info,
    result: await s.client.list({ includeInternal: opts.includeInternal, fromBlock: opts.fromBlock }),
  }));
}

export async function showDefinition(
  opts: TaskDefTargetOptions & { taskDefinitionId: number },
): Promise<Outcome<TaskDefinitionInfo>> {
  return withTaskDefSession(opts, async (s) => ({
    info: s.info,
    result: await s.client.show(opts.taskDefinitionId),
  }));
}

/** One setter of `task-def set-*`, its value already parsed. */
export type SetterChange =
  | { kind: "min-voting-power"; wei: bigint }
  | { kind: "restricted"; ids: IdList }
  | { kind: "max-attesters"; n: bigint };

export interface SetResult {
  taskDefinitionId: number;
  method: string;
  txHash: string;
  gasUsed: string;
  transactions: Array<{ method: string; txHash: string; gasUsed: string }>;
  taskDefinition: TaskDefinitionInfo;
  generation: string;
  warnings: string[];
}

/**
 * The call of a setter, and the check of the contract's maximum-attester rule against the
 * definition on-chain (InvalidMaximumNumberOfAttesters): a setter the contract would refuse
 * exits 2 before anything is signed.
 */
function setterCall(
  id: number,
  change: SetterChange,
): {
  prepare: (c: TaskDefClient) => PreparedCall;
  check: (def: TaskDefinitionInfo) => void;
  warnings: string[];
} {
  if (change.kind === "min-voting-power") {
    return { prepare: (c) => c.prepareSetMinVotingPower(id, change.wei), check: () => {}, warnings: [] };
  }
  if (change.kind === "restricted") {
    const { ids, sorted } = change.ids;
    return {
      prepare: (c) => c.prepareSetRestricted(id, ids),
      check: (def) => {
        const max = BigInt(def.maximumNumberOfAttesters);
        if (ids.length > 0 && max > BigInt(ids.length)) {
          throw invalidArgument(
            "<ids>",
            `${ids.length} id(s) are fewer than the definition's maximum number of attesters (${max}); lower it first with set-max-attesters (InvalidMaximumNumberOfAttesters)`,
          );
        }
      },
      warnings: sorted ? [`operator ids sorted ascending as the contract requires: ${ids.join(",")}`] : [],
    };
  }
  const { n } = change;
  return {
    prepare: (c) => c.prepareSetMaxAttesters(id, n),
    check: (def) => {
      const count = def.restrictedOperatorIndexes.length;
      if (count > 0 && n > BigInt(count)) {
        throw invalidArgument(
          "<n>",
          `${n} exceeds the definition's ${count} restricted operators (InvalidMaximumNumberOfAttesters)`,
        );
      }
    },
    warnings: [],
  };
}

/**
 * On the devnet, whether its performer now falls short of the definition's minimum voting power
 * (it is registered without stake): the aggregator would refuse every task it sends for it.
 */
async function devnetPerformerRefused(
  s: TaskDefSession,
  projectDir: string,
  id: number,
  after = "",
): Promise<string[]> {
  const { readDevnetState } = await import("../devnet/state.js");
  const state = readDevnetState(projectDir);
  const center = s.target.attestationCenter.toLowerCase();
  if (!state?.l2.some((l) => l.attestationCenter.toLowerCase() === center)) return [];
  const { operatorRefusal } = await import("../chain/reverts.js");
  const refusal = await operatorRefusal(
    s.target.provider,
    s.target.attestationCenter,
    state.performer.address,
    id,
  );
  if (refusal?.name !== "InsufficientVotingPowerForTaskDefinition") return [];
  return [
    `the devnet's performer ${state.performer.address} has less voting power than this minimum: the aggregator refuses its tasks for definition ${id} (InsufficientVotingPowerForTaskDefinition); \`avsctl task-def set-min-voting-power ${id} 0\` lets them through${after}`,
  ];
}

/**
 * The contract takes any id into a restricted set, and a definition restricted to operators that
 * are not registered can never be served: said before anything is signed.
 */
/**
 * What a restricted set will do to the definition's tasks: ids that are not active operators,
 * ids that hold too little voting power to attest (the aggregator's rule: above 0 and at least
 * the minimum), and whether anyone in the set can attest at all (the aggregator then refuses
 * every task of the definition, NO_ELIGIBLE_ATTESTERS).
 */
async function restrictedSetWarnings(
  client: TaskDefClient,
  ids: readonly bigint[],
  minimumVotingPower: bigint,
): Promise<string[]> {
  if (ids.length === 0) return [];
  const active = await client.activeOperators();
  if (!active) return [];
  const warnings: string[] = [];
  const missing = ids.filter((id) => !active.has(id));
  if (missing.length > 0)
    warnings.push(
      `operator id(s) ${missing.join(", ")} are not active on this AttestationCenter: they can neither perform nor attest this definition's tasks until they are registered`,
    );
  const isEligible = (power: bigint) => power > 0n && power >= minimumVotingPower;
  const weak = ids.filter((id) => active.has(id) && !isEligible(active.get(id)!));
  const floor = minimumVotingPower > 0n ? ` of at least ${minimumVotingPower} (the minimum)` : "";
  if (weak.length > 0)
    warnings.push(
      `operator id(s) ${weak.join(", ")} hold no voting power${floor}: they may perform the definition's tasks but cannot attest them`,
    );
  if (!ids.some((id) => isEligible(active.get(id) ?? 0n)))
    warnings.push(
      `no restricted operator can attest, so the aggregator refuses every task of this definition (NO_ELIGIBLE_ATTESTERS); ${onDevnet(client.target) ? "`avsctl devnet status` lists the attesters and their operator ids" : "include the operator ids of attesters registered with voting power on this AttestationCenter"}`,
    );
  return warnings;
}

/** Whether the target is the running devnet's AttestationCenter, which devnet commands can show. */
function onDevnet(target: TaskDefClient["target"]): boolean {
  const center = target.attestationCenter.toLowerCase();
  return target.devnet?.l2.some((l) => l.attestationCenter.toLowerCase() === center) === true;
}

export async function setDefinition(
  opts: TaskDefTargetOptions & Progress & { taskDefinitionId: number; change: SetterChange; dryRun: boolean },
): Promise<Outcome<DryRun | SetResult>> {
  const id = opts.taskDefinitionId;
  const { prepare, check, warnings } = setterCall(id, opts.change);
  return withTaskDefSession(opts, async (s) => {
    const call = prepare(s.client);
    const before = await s.client.show(id); // a missing definition fails here, before signing
    check(before);
    if (opts.change.kind === "restricted")
      warnings.push(
        ...(await restrictedSetWarnings(s.client, opts.change.ids.ids, BigInt(before.minimumVotingPower))),
      );
    if (opts.dryRun) return dryRun(s, [call], warnings);
    const wallet = await s.signer();
    for (const w of warnings) opts.onProgress?.(`note: ${w}`);
    const sent = await sendCall(wallet, call, {
      rpcUrl: s.target.rpcUrl,
      unsettledHint: unsettledSetterHint(s.client, id),
    });
    const after = await s.client.show(id);
    if (opts.change.kind === "min-voting-power" && opts.change.wei > 0n)
      warnings.push(...(await devnetPerformerRefused(s, opts.project.root, id)));
    return {
      info: s.info,
      result: {
        taskDefinitionId: id,
        method: sent.method,
        txHash: sent.txHash,
        gasUsed: sent.gasUsed,
        transactions: [{ method: sent.method, txHash: sent.txHash, gasUsed: sent.gasUsed }],
        taskDefinition: after,
        generation: s.generation.generation,
        warnings,
      },
    };
  });
}

export interface ApplyResult {
  plan: ApplyStep[];
  applied: Array<ApplyStep & { txHash?: string; gasUsed?: string }>;
  /**
   * Per definition: restricted operators that are not active on the AttestationCenter, and on
   * the devnet a minimum voting power its performer falls short of.
   */
  warnings: string[];
}

/** `task-def apply`: makes the chain match the config's taskDefinitions (never duplicates). */
export async function applyDefinitions(
  opts: TaskDefTargetOptions & { dryRun: boolean },
): Promise<Outcome<ApplyResult>> {
  return withTaskDefSession(opts, async (s) => {
    const desired = opts.project.config.taskDefinitions.map((d, i) => {
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
    const warnings: string[] = [];
    for (const [i, d] of desired.entries()) {
      const restricting = actionable.some(
        (p) => p.name === d.params.name && (p.action === "create" || p.action === "setRestrictedOperators"),
      );
      if (!restricting) continue;
      for (const w of await restrictedSetWarnings(
        s.client,
        d.params.restrictedOperatorIndexes,
        d.params.minimumVotingPower,
      ))
        warnings.push(`taskDefinitions[${i}] (${d.params.name}): ${w}`);
    }
    // one shape whether anything was sent or not (docs/cli.md): a dry run is told by its flag
    if (opts.dryRun || actionable.length === 0)
      return { info: s.info, result: { plan, applied: [], warnings } };
    const applied = await executePlan(s.client, await s.signer(), plan, desired);
    for (const step of applied) {
      if (step.action !== "create" && step.action !== "setMinVotingPower") continue;
      const i = desired.findIndex((d) => d.params.name === step.name);
      if (desired[i]!.params.minimumVotingPower === 0n) continue;
      // the setter it names is undone by the next apply unless the config says so too
      const refused = await devnetPerformerRefused(
        s,
        opts.project.root,
        step.taskDefinitionId!,
        ` (with minVotingPower "0" in taskDefinitions[${i}] too, or the next apply raises it again)`,
      );
      for (const w of refused) warnings.push(`taskDefinitions[${i}] (${step.name}): ${w}`);
    }
    return { info: s.info, result: { plan, applied, warnings } };
  });
}
