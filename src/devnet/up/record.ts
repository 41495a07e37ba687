import { certificatesHash } from "../ca-certs.js";
import type { Launched, Launcher } from "../launcher.js";
import type { AddedOperator } from "../persist.js";
import { type DevnetPlan, type RecordedPlan, type ServicePlan, serviceSummary } from "../plan.js";
import type { DevnetState, ServiceRuntime } from "../state.js";
import type { Chains } from "./chains.js";
import type { StartedEngine } from "./engine.js";
import { ipfsUrls } from "./ipfs.js";
import { type Nodes, plannedAttesters } from "./nodes.js";
import type { Registration } from "./register.js";
import type { StartPlan } from "./start-plan.js";

/** The last phase: what was started, as `.avsctl/devnet.json` records it (startupMs set by the caller). */
export async function recordState(
  plan: StartPlan,
  launcher: Launcher,
  started: {
    chains: Chains;
    registration: Registration;
    nodes: Nodes;
    triggersUrl: string | undefined;
    ipfs: Launched;
    engine?: StartedEngine | undefined;
    /** Attesters `operator add` added to the resumed chains (after the planned ones in nodes). */
    added?: AddedOperator[];
    /** Lowercase addresses of planned attesters `operator remove` unregistered (no node, not listed). */
    removed?: ReadonlySet<string>;
  },
  warnings: string[],
): Promise<DevnetState> {
  const { topology, keys } = plan;
  const { chains, registration, nodes } = started;
  const { deployment, aggregatorReg, attesterRegs, taskDefinitions } = registration;
  const operatorId = (reg: { l2: { operatorId: number }[] }) => reg.l2[0]?.operatorId ?? 0;
  return {
    name: topology.project,
    runtime: launcher.kind,
    healthy: true,
    l1: {
      chainId: topology.l1ChainId,
      rpcUrl: chains.l1.hostUrl("rpc"),
      avsGovernance: deployment.avsGovernance,
    },
    l2: chains.l2s.map((l, i) => ({
      chainId: topology.l2ChainIds[i]!,
      rpcUrl: l.hostUrl("rpc"),
      attestationCenter: deployment.l2[i]!.attestationCenter,
      obls: deployment.l2[i]!.obls,
      internalTaskHandler: deployment.l2[i]!.internalTaskHandler,
    })),
    aggregator: {
      rpcUrl: nodes.aggregator.hostUrl("rpc"),
      address: keys.aggregator.address,
      operatorId: operatorId(aggregatorReg),
      metricsUrl: nodes.aggregator.hostUrl("metrics", "/metrics"),
    },
    attesters: [
      ...plannedAttesters(keys.attesters, started.removed ?? new Set()).map((k) => ({
        name: k.name,
        address: k.address,
        operatorId: operatorId(attesterRegs[k.index]!),
        votingPower: attesterRegs[k.index]!.votingPower.toString(),
      })),
      ...(started.added ?? []).map((a) => ({
        name: a.name,
        address: a.address,
        operatorId: a.operatorId,
        votingPower: a.votingPower,
      })),
    ],
    performer: { address: keys.performer.address, privateKey: keys.performer.privateKey },
    deployer: { address: keys.deployer.address, privateKey: keys.deployer.privateKey },
    services: { execution: nodes.execution?.host ?? null, validation: nodes.validation?.host ?? null },
    serviceRuntimes: {
      execution: serviceRuntime(topology.services.execution, topology, launcher),
      validation: serviceRuntime(topology.services.validation, topology, launcher),
    },
    ipfs: ipfsUrls(started.ipfs),
    ...(started.engine
      ? {
          engine: {
            url: started.engine.launched.hostUrl("http"),
            chainId: started.engine.chainId,
            taskDefinitionId: started.engine.taskDefinitionId,
          },
        }
      : {}),
    taskDefinitions,
    startupMs: 0,
    internal: {
      projectDir: topology.projectDir,
      startedAt: new Date().toISOString(),
      components: await componentList(topology, launcher, new Set((started.added ?? []).map((a) => a.name))),
      warnings,
      triggersUrl: started.triggersUrl,
      engineOperatorSecret: started.engine?.operatorSecret,
      plan: recordedPlan(plan),
    },
  };
}

/** How the devnet was asked to start, as its state records it (`internal.plan`, RecordedPlan). */
export function recordedPlan(plan: StartPlan): RecordedPlan {
  const { topology } = plan;
  return {
    attesters: topology.attesters,
    l2Chains: topology.l2ChainIds.length,
    blockTime: topology.blockTime,
    operatorKeys: plan.operators?.dir,
    // what `up` compares a later --ca-certs with: the certificates the images were built to trust
    ...(topology.ca
      ? {
          caCerts: {
            file: topology.ca.file,
            source: topology.ca.source,
            sha256: certificatesHash(topology.ca.extra),
          },
        }
      : {}),
    services: {
      validation: serviceSummary(topology.services.validation),
      execution: serviceSummary(topology.services.execution),
    },
  };
}

/** Where a service runs: the user's own, else the project's where asked, else the devnet's runtime. */
export function serviceRuntime(
  service: ServicePlan | null,
  plan: DevnetPlan,
  launcher: Pick<Launcher, "kind">,
): ServiceRuntime | null {
  if (!service) return null;
  if (service.kind === "external") return "external";
  if (service.kind === "project" && launcher.kind === "docker") return plan.servicesRuntime ?? "docker";
  return launcher.kind;
}

/**
 * Every component, project services a Docker devnet runs on this machine included. `attesters`:
 * the names `operator add` gave its attesters, which need not start with attester-.
 */
async function componentList(plan: DevnetPlan, launcher: Launcher, attesters: ReadonlySet<string>) {
  const kind = (name: string) => (attesters.has(name) ? "attester" : kindOf(name));
  const components = (await launcher.runtime.list()).map((c) => ({
    name: c.component,
    kind: kind(c.component),
    runtime: undefined as "process" | undefined,
  }));
  if (launcher.kind === "docker") {
    const { ProcessRuntime } = await import("../runtime/process.js");
    const onHost = await new ProcessRuntime({ project: plan.project, projectDir: plan.projectDir }).list();
    for (const c of onHost)
      components.push({ name: c.component, kind: kind(c.component), runtime: "process" });
  }
  return components;
}

function kindOf(name: string): "chain" | "aggregator" | "attester" | "service" | "relayer" {
  if (name === "l1" || name.startsWith("l2-")) return "chain";
  if (name === "aggregator") return "aggregator";
  if (name.startsWith("attester-")) return "attester";
  return "service";
}
