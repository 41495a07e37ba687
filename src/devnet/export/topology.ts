import path from "node:path";
import { ANVIL_ENV } from "../../chain/anvil-command.js";
import type { AvsctlConfig } from "../../config/schema.js";
import { AvsctlError } from "../../errors.js";
import { devnetImageTag } from "../image.js";
import { accountsNeeded, type DevnetKeys, deriveDevnetKeys } from "../keys.js";
import { anvilArgs, PORTS } from "../launcher.js";
import { type DevnetPlan, planDevnet, projectName, type RecordedPlan, type ServicePlan } from "../plan.js";
import { serviceEnv } from "../service-env.js";
import { type DevnetState, readDevnetState } from "../state.js";
import { workflowDefinitionId } from "../up/register.js";
import { engineComponent, engineRoute } from "./engine.js";
import { avsctl, devnetHealth, serviceComponent } from "./service-component.js";
import { EXPORT_HOST_PORTS, HOST_ALIAS, type Topology, type TopologyComponent } from "./types.js";

/** Where the IPFS node keeps its blocks in its container (as `devnet up` mounts it). */
const IPFS_DATA = "/data/ipfs";

function portOf(url: string | null | undefined): number | undefined {
  if (!url) return undefined;
  const u = new URL(url);
  return Number(u.port || (u.protocol === "https:" ? 443 : 80));
}

/** A URL the user serves on this machine's loopback, as containers see it. */
function viaHost(url: string): { url: string; usesHost: boolean } {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, "");
  if (host === "localhost" || host === "::1" || /^127\./.test(host)) {
    u.hostname = HOST_ALIAS;
    return { url: u.toString().replace(/\/$/, ""), usesHost: true };
  }
  return { url, usesHost: false };
}

/** Which services a running devnet has: the ones it started, or the user's own URLs. */
function servicesFromState(
  state: DevnetState,
  plan: DevnetPlan,
): { validation: ServicePlan | null; execution: ServicePlan | null } {
  const started = new Set(state.internal?.components.map((c) => c.name) ?? []);
  const pick = (kind: "validation" | "execution"): ServicePlan | null => {
    const configured = plan.services[kind];
    if (started.has(kind))
      return configured && configured.kind !== "external" ? configured : { kind: "sample" };
    const url = state.services[kind];
    return url ? { kind: "external", url } : null;
  };
  return { validation: pick("validation"), execution: pick("execution") };
}

/** Contract addresses a fresh deployment by this deployer gets (see deployL1 / deployL2). */
async function predictedAddresses(keys: DevnetKeys, l2Count: number) {
  const { getCreateAddress } = await import("ethers");
  const at = (nonce: number) => getCreateAddress({ from: keys.deployer.address, nonce });
  return {
    avsGovernance: at(0),
    l2: Array.from({ length: l2Count }, () => ({
      obls: at(0),
      attestationCenter: at(1),
      internalTaskHandler: at(2),
    })),
  };
}

/**
 * The topology to export: from the running devnet's state when there is one (its chain ids,
 * addresses, attester count and host ports), otherwise from the config's plan.
 */
export async function buildTopology(
  config: AvsctlConfig,
  projectDir: string,
  outputDir: string,
): Promise<Topology> {
  const state = readDevnetState(projectDir);
  // An exported file runs elsewhere: it keeps the project's own name, without the hash of this
  // machine's path that the local devnet's name carries.
  const planned = { ...planDevnet(config, projectDir, {}), project: projectName(config, projectDir) };
  const plan: DevnetPlan = state
    ? {
        ...planned,
        // the running devnet's setting: its definitions' ids are the ones the export reproduces
        engine: state.engine !== undefined,
        attesters: state.attesters.length,
        l1ChainId: state.l1.chainId,
        l2ChainIds: state.l2.map((l) => l.chainId),
        blockTime: Number((state.internal?.plan as { blockTime?: number } | undefined)?.blockTime ?? 0),
        services: servicesFromState(state, planned),
      }
    : planned;
  const keys = await deriveDevnetKeys(plan.attesters, plan.mnemonic);
  const notes: string[] = [];
  if (state && keys.attesters.some((k, i) => k.address !== state.attesters[i]?.address)) {
    throw new AvsctlError(
      "CONFIG_INVALID",
      "devnet.mnemonic changed since the devnet was started: its keys no longer match the running devnet",
      { hint: "run `avsctl devnet up --fresh`, or export after `avsctl devnet down`" },
    );
  }
  const addresses = state
    ? { avsGovernance: state.l1.avsGovernance, l2: state.l2 }
    : await predictedAddresses(keys, plan.l2ChainIds.length);

  const image = devnetImageTag();
  const hostPort = {
    l1: portOf(state?.l1.rpcUrl) ?? EXPORT_HOST_PORTS.l1,
    l2: (i: number) => portOf(state?.l2[i]?.rpcUrl) ?? EXPORT_HOST_PORTS.l2 + i + 1,
    aggregator: portOf(state?.aggregator.rpcUrl) ?? EXPORT_HOST_PORTS.aggregator,
    aggregatorMetrics: portOf(state?.aggregator.metricsUrl) ?? EXPORT_HOST_PORTS.aggregatorMetrics,
    validation: portOf(state?.services.validation) ?? EXPORT_HOST_PORTS.validation,
    execution: portOf(state?.services.execution) ?? EXPORT_HOST_PORTS.execution,
    ipfs: portOf(state?.ipfs?.apiUrl) ?? EXPORT_HOST_PORTS.ipfs,
    engine: portOf(state?.engine?.url) ?? EXPORT_HOST_PORTS.engine,
  };

  const chainUrl = (name: string) => `http://${name}:${PORTS.chain}`;
  const l2Names = plan.l2ChainIds.map((_, i) => `l2-${i + 1}`);
  const chainEnv: Record<string, string> = {
    L2_RPC: l2Names.map((n, i) => `${plan.l2ChainIds[i]}@${chainUrl(n)}`).join(","),
    L2_CHAIN: plan.l2ChainIds.join(","),
    ATTESTATION_CENTER_ADDRESS: addresses.l2
      .map((d, i) => `${plan.l2ChainIds[i]}@${d.attestationCenter}`)
      .join(","),
    L1_RPC: chainUrl("l1"),
    L1_CHAIN: String(plan.l1ChainId),
    AVS_GOVERNANCE_ADDRESS: addresses.avsGovernance,
  };
  const aggregatorUrl = `http://aggregator:${PORTS.aggregator}`;
  const components: TopologyComponent[] = [];

  // chains
  const chains = [
    { name: "l1", chainId: plan.l1ChainId, host: hostPort.l1 },
    ...l2Names.map((name, i) => ({ name, chainId: plan.l2ChainIds[i]!, host: hostPort.l2(i) })),
  ];
  for (const c of chains) {
    const anvil = { chainId: c.chainId, blockTime: plan.blockTime, accounts: accountsNeeded(plan.attesters) };
    components.push({
      name: c.name,
      role: "chain",
      image,
      command: ["anvil", ...anvilArgs({ ...anvil, mnemonic: keys.mnemonic }, "0.0.0.0", PORTS.chain)],
      env: { ...ANVIL_ENV },
      secretEnv: [],
      ports: [{ name: "rpc", container: PORTS.chain, host: c.host }],
      health: devnetHealth("json-rpc", PORTS.chain),
      dependsOn: [],
    });
  }

  // bootstrap: contracts, operators, task definitions (what `up` does from the host)
  const bootstrapEnv: Record<string, string> = { ...chainEnv };
  if (!keys.insecure) bootstrapEnv.AVSCTL_DEVNET_MNEMONIC = keys.mnemonic;
  if (config.taskDefinitions.length > 0)
    bootstrapEnv.AVSCTL_TASK_DEFINITIONS = JSON.stringify(config.taskDefinitions);
  if (plan.engine) bootstrapEnv.AVSCTL_ENGINE = "1";
  components.push({
    name: "bootstrap",
    role: "bootstrap",
    image,
    command: avsctl("devnet", "bootstrap", "--attesters", String(plan.attesters)),
    env: bootstrapEnv,
    secretEnv: keys.insecure ? [] : ["AVSCTL_DEVNET_MNEMONIC"],
    ports: [],
    dependsOn: chains.map((c) => ({ name: c.name, condition: "healthy" as const })),
    oneShot: true,
  });

  components.push({
    name: "aggregator",
    role: "aggregator",
    image,
    command: avsctl(
      "node",
      "aggregator",
      "--json-rpc",
      "--json-rpc.port",
      String(PORTS.aggregator),
      "--metrics",
      "--metrics.port",
      String(PORTS.metrics),
      "--host",
      "0.0.0.0",
      "--journal",
      "/tmp/aggregator.db",
      "--relayer",
      // as `devnet up` starts it: the voting-power sync runs (internal task 10001)
      "--internal-tasks",
      ...(plan.maxPendingTasks === undefined ? [] : ["--max-pending-tasks", String(plan.maxPendingTasks)]),
    ),
    env: {
      ...chainEnv,
      PRIVATE_KEY: keys.aggregator.privateKey,
      AVSCTL_RELAYER_KEY: keys.deployer.privateKey,
    },
    secretEnv: ["PRIVATE_KEY", "AVSCTL_RELAYER_KEY"],
    ports: [
      { name: "rpc", container: PORTS.aggregator, host: hostPort.aggregator },
      { name: "metrics", container: PORTS.metrics, host: hostPort.aggregatorMetrics },
    ],
    health: devnetHealth("json-rpc", PORTS.aggregator),
    dependsOn: [{ name: "bootstrap", condition: "completed" }],
  });

  // The devnet's IPFS node, as `up` starts it: the services reach it by the same names.
  const ipfsBase = `http://ipfs:${PORTS.ipfs}`;
  const ipfsServiceEnv = serviceEnv(undefined, {
    ipfs: { apiUrl: `${ipfsBase}/api/v0`, gatewayUrl: `${ipfsBase}/ipfs/`, pinataUrl: ipfsBase },
  });
  components.push({
    name: "ipfs",
    role: "service",
    image,
    command: avsctl("devnet", "service", "ipfs", "--port", String(PORTS.ipfs), "--host", "0.0.0.0"),
    env: { AVSCTL_IPFS_DIR: IPFS_DATA },
    secretEnv: [],
    ports: [{ name: "http", container: PORTS.ipfs, host: hostPort.ipfs }],
    health: devnetHealth("http", PORTS.ipfs, "/health"),
    dependsOn: [],
    volumes: [{ name: "ipfs", target: IPFS_DATA }],
  });

  // The task engine, the performer of workflow executions; attesters validate those with it.
  const engineDefinition = plan.engine
    ? (state?.engine?.taskDefinitionId ?? workflowDefinitionId(config.taskDefinitions))
    : undefined;
  if (engineDefinition !== undefined)
    components.push(
      engineComponent({
        image,
        command: avsctl(
          "devnet",
          "service",
          "task-engine",
          "--port",
          String(PORTS.engine),
          "--host",
          "0.0.0.0",
        ),
        chainEnv,
        aggregatorUrl,
        keys,
        taskDefinitionId: engineDefinition,
        chainId: plan.l2ChainIds[0]!,
        ipfsEnv: ipfsServiceEnv,
        hostPort: hostPort.engine,
      }),
    );

  const service = (
    kind: "validation" | "execution",
    sp: ServicePlan,
    env: Record<string, string>,
    secretEnv: string[],
  ) =>
    serviceComponent(
      {
        plan,
        outputDir,
        image,
        components,
        host: kind === "validation" ? hostPort.validation : hostPort.execution,
      },
      kind,
      sp,
      env,
      secretEnv,
    );

  let validationUrl: string;
  let validationUsesHost = false;
  const validation = plan.services.validation;
  const validationComponent = validation ? service("validation", validation, ipfsServiceEnv, []) : undefined;
  if (validationComponent) {
    components.push(validationComponent);
    validationUrl = `http://validation:${validationComponent.ports[0]!.container}`;
  } else {
    const given =
      validation?.kind === "external" ? validation.url : `http://127.0.0.1:${EXPORT_HOST_PORTS.validation}`;
    ({ url: validationUrl, usesHost: validationUsesHost } = viaHost(given));
    notes.push(
      `attesters call the validation service you run yourself at ${given} (${validationUrl} from containers); ` +
        "on a native Linux engine it must listen on the docker bridge, not only on 127.0.0.1",
    );
  }

  for (const [i, a] of keys.attesters.entries()) {
    components.push({
      name: `attester-${i + 1}`,
      role: "attester",
      image,
      command: avsctl(
        "node",
        "attester",
        "--avs-webapi",
        validationUrl,
        ...(engineDefinition !== undefined ? engineRoute(engineDefinition) : []),
        "--metrics",
        "--metrics.port",
        String(PORTS.metrics),
        "--host",
        "0.0.0.0",
      ),
      env: { ...chainEnv, PRIVATE_KEY: a.privateKey, OTHENTIC_CLIENT_RPC_ADDRESS: aggregatorUrl },
      secretEnv: ["PRIVATE_KEY"],
      ports: [{ name: "metrics", container: PORTS.metrics, host: EXPORT_HOST_PORTS.attesterMetrics + i + 1 }],
      health: devnetHealth("http", PORTS.metrics, "/health"),
      dependsOn: [
        { name: "aggregator", condition: "healthy" },
        ...(engineDefinition !== undefined ? [{ name: "task-engine", condition: "healthy" as const }] : []),
        ...(validationComponent
          ? [
              {
                name: "validation",
                condition: validationComponent.health?.nodeHealth
                  ? ("healthy" as const)
                  : ("started" as const),
              },
            ]
          : []),
      ],
      usesHost: validationUsesHost,
    });
  }

  const execution = plan.services.execution;
  const executionComponent = execution
    ? service(
        "execution",
        execution,
        {
          ...chainEnv,
          ...ipfsServiceEnv,
          PRIVATE_KEY_PERFORMER: keys.performer.privateKey,
          PERFORMER_ADDRESS: keys.performer.address,
          OTHENTIC_CLIENT_RPC_ADDRESS: aggregatorUrl,
        },
        ["PRIVATE_KEY_PERFORMER"],
      )
    : undefined;
  if (executionComponent) {
    executionComponent.dependsOn.push({ name: "aggregator", condition: "healthy" });
    components.push(executionComponent);
  } else if (execution?.kind === "external") {
    notes.push(`the execution service is yours, at ${execution.url}; point it at the aggregator's host port`);
  }

  if (keys.insecure)
    notes.push("devnet keys come from anvil's public test mnemonic: never use them on a real network");
  const recordedCa = (state?.internal?.plan as RecordedPlan | undefined)?.caCerts;
  const caCerts = recordedCa
    ? { file: recordedCa.file, source: recordedCa.source }
    : config.devnet.caCerts
      ? { file: path.resolve(projectDir, config.devnet.caCerts), source: "devnet.caCerts" }
      : undefined;
  return {
    project: plan.project,
    image,
    source: state ? "state" : "plan",
    readyCheck: { rpcUrl: chainUrl(l2Names[0]!), address: addresses.l2[0]!.attestationCenter },
    components,
    notes,
    ...(caCerts ? { caCerts } : {}),
  };
}
