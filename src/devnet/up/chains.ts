import { resumeClock } from "../chain-clock.js";
import { chainStorage } from "../chain-storage.js";
import { accountsNeeded } from "../keys.js";
import type { Launched, Launcher } from "../launcher.js";
import { type PhaseContext, rpcWait, settled } from "./launch.js";
import type { StartPlan } from "./start-plan.js";

export interface Chains {
  l1: Launched;
  l2s: Launched[];
}

/**
 * Phase 1: L1 and every L2 side by side, with the accounts funded (operators' keys too). Each
 * chain loads its saved state file when there is one (persist.ts) and keeps saving it; its clock,
 * which the file does not hold, goes on from there (chain-clock.ts).
 */
export async function startChains(plan: StartPlan, launcher: Launcher, ctx: PhaseContext): Promise<Chains> {
  const { topology, keys } = plan;
  ctx.progress(`starting L1 (${topology.l1ChainId}) and ${topology.l2ChainIds.length} L2 chain(s)`);
  const specs = [
    { name: "l1", chainId: topology.l1ChainId },
    ...topology.l2ChainIds.map((chainId, i) => ({ name: `l2-${i + 1}`, chainId })),
  ];
  const chains = await settled(
    specs.map(async (c) => {
      const storage = chainStorage(launcher.kind, topology.projectDir, c.name);
      const chain = await launcher.launch(
        {
          name: c.name,
          what: {
            anvil: {
              chainId: c.chainId,
              blockTime: topology.blockTime,
              accounts: accountsNeeded(topology.attesters),
              mnemonic: keys.mnemonic,
              stateFile: storage.stateFile,
            },
          },
          ...(storage.volumes ? { volumes: storage.volumes } : {}),
          ports: await launcher.allocate({ rpc: plan.ports.chain }, c.name),
          wait: (p) => rpcWait(p.rpc!),
          // a state file cut short: started from its last whole copy (the process runtime's start)
          warn: ctx.warn,
        },
        ctx.signal,
      );
      await resumeClock(topology.projectDir, c.name, chain.hostUrl("rpc"));
      return chain;
    }),
  );
  const [l1, ...l2s] = chains as [Launched, ...Launched[]];
  if (plan.operators) {
    ctx.progress(`funding ${keys.attesters.length} operator(s) from ${plan.operators.dir}`);
    const { fundOperators } = await import("../operator-keys.js");
    await fundOperators(
      [l1, ...l2s].map((c) => c.hostUrl("rpc")),
      keys.attesters,
    );
  }
  return { l1, l2s };
}
