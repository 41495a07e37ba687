import { rmSync } from "node:fs";
import type { Launcher } from "../launcher.js";
import {
  type AddedOperator,
  chainStateDir,
  journalFile,
  readSaved,
  type SavedDevnet,
  savedContractsMissing,
  savedMismatch,
  writeSaved,
} from "../persist.js";
import { type Chains, startChains } from "./chains.js";
import type { PhaseContext } from "./launch.js";
import { type Registration, registerAvs } from "./register.js";
import type { StartPlan } from "./start-plan.js";

export interface ChainsAndRegistration {
  chains: Chains;
  registration: Registration;
  /** True when the saved chain state already held the deployment (nothing was deployed). */
  resumed: boolean;
  /** Attesters `operator add` registered on the resumed chains: their nodes start too. */
  added: AddedOperator[];
  /** Lowercase addresses of the plan's attesters `operator remove` unregistered: no node for them. */
  removed: Set<string>;
}

/**
 * Phases 1-4 over the saved state: the chains start from their state files, and when those hold
 * the recorded contracts nothing is deployed or registered again. Saved state that does not fit
 * this run (other chains, other operators, contracts missing) is deleted, with a warning saying
 * why, and the AVS is deployed on clean chains.
 */
export async function chainsAndRegistration(
  plan: StartPlan,
  launcher: Launcher,
  ctx: PhaseContext,
): Promise<ChainsAndRegistration> {
  const { projectDir } = plan.topology;
  let saved: SavedDevnet | undefined = readSaved(projectDir);
  const mismatch = saved && savedMismatch(saved, plan, launcher.kind);
  if (mismatch) ctx.warn(`the saved chain state does not fit this run (${mismatch}): starting fresh`);
  if (!saved || mismatch) {
    // Also state files without a record: a start interrupted before registration finished.
    await wipeChainState(launcher, plan);
    saved = undefined;
  }
  let chains = await startChains(plan, launcher, ctx);
  if (saved) {
    const missing = await savedContractsMissing(saved, chains);
    if (!missing) {
      ctx.progress("resuming the saved chain state: contracts, operators and task definitions are there");
      return {
        chains,
        registration: saved.registration,
        resumed: true,
        added: saved.addedOperators ?? [],
        removed: new Set((saved.removedOperators ?? []).map((o) => o.address.toLowerCase())),
      };
    }
    ctx.warn(`the saved chain state does not hold the recorded deployment (${missing}): starting fresh`);
    for (const c of [chains.l1, ...chains.l2s]) await launcher.runtime.remove(c.name);
    await wipeChainState(launcher, plan);
    chains = await startChains(plan, launcher, ctx);
  }
  const registration = await registerAvs(plan, chains, ctx);
  writeSaved(projectDir, launcher.kind, plan, registration);
  return { chains, registration, resumed: false, added: [], removed: new Set() };
}

/** The chains' state and the aggregator's journal (which only makes sense with those chains). */
async function wipeChainState(launcher: Launcher, plan: StartPlan): Promise<void> {
  const { projectDir } = plan.topology;
  const journal = journalFile(projectDir);
  for (const p of [chainStateDir(projectDir), journal, `${journal}-wal`, `${journal}-shm`])
    rmSync(p, { recursive: true, force: true });
  if (launcher.kind !== "docker") return;
  const { removeVolumes } = await import("../runtime/docker-resources.js");
  const chains = ["l1", ...plan.topology.l2ChainIds.map((_, i) => `l2-${i + 1}`)];
  const docker = (launcher.runtime as import("../runtime/docker.js").DockerRuntime).docker;
  await removeVolumes(docker, plan.topology.project, [...chains.map((c) => `chain-${c}`), "aggregator"]);
}
