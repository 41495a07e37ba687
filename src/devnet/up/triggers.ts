import type { Launcher } from "../launcher.js";
import { type TriggerSetup, triggerDefinitions } from "../trigger-service.js";
import type { Chains } from "./chains.js";
import { httpWait, type PhaseContext } from "./launch.js";
import type { Nodes } from "./nodes.js";
import type { Registration } from "./register.js";
import type { StartPlan } from "./start-plan.js";

/** Phase 6: the trigger runner, when the config has triggers. Returns its status URL. */
export async function startTriggers(
  plan: StartPlan,
  launcher: Launcher,
  chains: Chains,
  registration: Registration,
  nodes: Nodes,
  ctx: PhaseContext,
): Promise<string | undefined> {
  if (!plan.triggers) return undefined;
  const { topology, keys } = plan;
  ctx.progress("starting the trigger runner");
  const setup: TriggerSetup = {
    definitions: triggerDefinitions(plan.triggers, registration.taskDefinitions),
    l2: {
      rpcUrl: chains.l2s[0]!.internalUrl("rpc"),
      attestationCenter: registration.deployment.l2[0]!.attestationCenter,
      chainId: topology.l2ChainIds[0]!,
    },
    aggregatorUrl: nodes.aggregator.internalUrl("rpc"),
    // avsctl's sample execution service signs as the devnet performer; without a service of the
    // project's own, the elected operator signs each task itself, which shows the round robin.
    executionUrl: topology.services.execution?.kind === "sample" ? null : (nodes.execution?.internal ?? null),
    performer: keys.performer.address,
    attesters: topology.attesters,
    mnemonic: topology.mnemonic,
    attesterKeys: plan.operators ? keys.attesters.map((a) => a.privateKey) : undefined,
  };
  const ports = await launcher.allocate({ http: plan.ports.triggers }, "triggers");
  const runner = await launcher.launch(
    {
      name: "triggers",
      what: {
        avsctl: ["devnet", "service", "triggers", "--port", String(ports.http), "--host", launcher.bindHost],
      },
      env: { AVSCTL_TRIGGER_SETUP: JSON.stringify(setup) },
      ports,
      wait: (p) => httpWait(p.http!),
    },
    ctx.signal,
  );
  return runner.hostUrl("http");
}
