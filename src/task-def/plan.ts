import type { Wallet } from "ethers";
import type { Generation } from "../chain/generation.js";
import { sendCall } from "../chain/tx.js";
import type { TaskDefClient } from "./client.js";
import { createTaskDefinition, unsettledSetterHint } from "./create.js";
import type { ParsedInput, TaskDefinitionInfo } from "./params.js";

export interface ApplyStep {
  action: "create" | "setMinVotingPower" | "setRestrictedOperators" | "setMaxAttesters" | "drift";
  name: string;
  taskDefinitionId?: number;
  from?: unknown;
  to?: unknown;
  /** For `drift`: what differs but has no setter (it stays as it is on-chain). */
  note?: string;
}

/**
 * Compares the desired definitions (by name) with the chain: missing ones are created, setter
 * values fixed; values without a setter are reported as drift. An empty plan sends nothing.
 */
export function planApply(
  desired: readonly ParsedInput[],
  current: readonly TaskDefinitionInfo[],
  gen: Generation,
): ApplyStep[] {
  const plan: ApplyStep[] = [];
  for (const { params: p } of desired) {
    const existing = current
      .filter((c) => c.name === p.name)
      .sort((a, b) => a.taskDefinitionId - b.taskDefinitionId)[0];
    if (!existing) {
      plan.push({ action: "create", name: p.name });
      continue;
    }
    const id = existing.taskDefinitionId;
    if (existing.minimumVotingPower !== p.minimumVotingPower.toString()) {
      plan.push({
        action: "setMinVotingPower",
        name: p.name,
        taskDefinitionId: id,
        from: existing.minimumVotingPower,
        to: p.minimumVotingPower.toString(),
      });
    }
    const want = p.restrictedOperatorIndexes.map(String);
    const restrictedStep: ApplyStep | undefined =
      existing.restrictedOperatorIndexes.join(",") !== want.join(",")
        ? {
            action: "setRestrictedOperators",
            name: p.name,
            taskDefinitionId: id,
            from: existing.restrictedOperatorIndexes,
            to: want,
          }
        : undefined;
    const maxStep: ApplyStep | undefined =
      gen === "gen2" && existing.maximumNumberOfAttesters !== p.maximumNumberOfAttesters.toString()
        ? {
            action: "setMaxAttesters",
            name: p.name,
            taskDefinitionId: id,
            from: existing.maximumNumberOfAttesters,
            to: p.maximumNumberOfAttesters.toString(),
          }
        : undefined;
    // Each setter checks max <= restricted count against the other's current value: lower the
    // maximum first unless it is about to exceed the restricted ids still on-chain.
    const currentCount = BigInt(existing.restrictedOperatorIndexes.length);
    const maxFirst = currentCount === 0n || p.maximumNumberOfAttesters <= currentCount;
    const ordered = maxFirst ? [maxStep, restrictedStep] : [restrictedStep, maxStep];
    for (const step of ordered) if (step) plan.push(step);
    for (const [key, want2] of [
      ["blockExpiry", p.blockExpiry],
      ["baseRewardFeeForAttesters", p.baseRewardFeeForAttesters],
      ["baseRewardFeeForPerformer", p.baseRewardFeeForPerformer],
      ["baseRewardFeeForAggregator", p.baseRewardFeeForAggregator],
      ["disputePeriodBlocks", p.disputePeriodBlocks],
    ] as const) {
      if (existing[key] !== want2.toString()) {
        plan.push({
          action: "drift",
          name: p.name,
          taskDefinitionId: id,
          from: existing[key],
          to: want2.toString(),
          note: `${key} has no setter; create a new definition to change it`,
        });
      }
    }
  }
  return plan;
}

export async function executePlan(
  client: TaskDefClient,
  signer: Wallet,
  plan: readonly ApplyStep[],
  desired: readonly ParsedInput[],
): Promise<Array<ApplyStep & { txHash?: string; gasUsed?: string; taskDefinitionId?: number }>> {
  const applied: Array<ApplyStep & { txHash?: string; gasUsed?: string }> = [];
  for (const step of plan) {
    if (step.action === "drift") continue;
    if (step.action === "create") {
      const input = desired.find((d) => d.params.name === step.name)!;
      const r = await createTaskDefinition(client, signer, input, "apply");
      applied.push({
        ...step,
        taskDefinitionId: r.taskDefinitionId,
        txHash: r.txHash,
        gasUsed: r.transactions[0]!.gasUsed,
      });
      continue;
    }
    const id = step.taskDefinitionId!;
    const call =
      step.action === "setMinVotingPower"
        ? client.prepareSetMinVotingPower(id, BigInt(step.to as string))
        : step.action === "setRestrictedOperators"
          ? client.prepareSetRestricted(id, (step.to as string[]).map(BigInt))
          : client.prepareSetMaxAttesters(id, BigInt(step.to as string));
    const s = await sendCall(signer, call, {
      rpcUrl: client.target.rpcUrl,
      unsettledHint: unsettledSetterHint(client, id),
    });
    applied.push({ ...step, txHash: s.txHash, gasUsed: s.gasUsed });
  }
  return applied;
}
