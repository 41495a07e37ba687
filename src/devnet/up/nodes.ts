import type { DevnetAccount } from "../keys.js";
import type { Launched, Launcher } from "../launcher.js";
import { CONTAINER_JOURNAL_DIR, journalFile } from "../persist.js";
import type { ServicePlan } from "../plan.js";
import type { ServiceEnv } from "../project-services.js";
import { type EnvChains, serviceEnv, chainEnv as sharedChainEnv } from "../service-env.js";
import type { Chains } from "./chains.js";
import { ipfsEnv } from "./ipfs.js";
import { httpWait, NODE_MEMORY, type PhaseContext, rpcWait, settled } from "./launch.js";
import type { Registration } from "./register.js";
import type { StartPlan } from "./start-plan.js";

export interface ServiceUrls {
  host: string;
  internal: string;
}

export interface Nodes {
  aggregator: Launched;
  attesters: Launched[];
  validation: ServiceUrls | undefined;
  execution: ServiceUrls | undefined;
}

/** The chains and contracts as the components (`internal`) or the host see them. */
export function envChains(
  plan: StartPlan,
  chains: Chains,
  registration: Registration,
  view: "internal" | "host",
): EnvChains {
  const { l2ChainIds, l1ChainId } = plan.topology;
  const url = (l: Launched) => (view === "internal" ? l.internalUrl("rpc") : l.hostUrl("rpc"));
  return {
    l1: { chainId: l1ChainId, rpcUrl: url(chains.l1), avsGovernance: registration.deployment.avsGovernance },
    l2: chains.l2s.map((l, i) => ({
      chainId: l2ChainIds[i]!,
      rpcUrl: url(l),
      attestationCenter: registration.deployment.l2[i]!.attestationCenter,
    })),
  };
}

/**
 * The Othentic environment names (docs/protocol.md#service-environment) for the chains and
 * contracts, as the components (`internal`) or the host sees them.
 */
export function chainEnv(
  plan: StartPlan,
  chains: Chains,
  registration: Registration,
  view: "internal" | "host",
): Record<string, string> {
  return sharedChainEnv(envChains(plan, chains, registration, view));
}

/**
 * Phase 5: the services and the nodes. The validation service and the aggregator need nothing
 * of each other, and the execution service needs only the aggregator. The attesters need the
 * validation service, and of the aggregator only its address (an attester says hello again
 * until it answers; it is healthy once joined): they start while the aggregator starts, unless
 * the task engine, which needs the running aggregator, gives them a route.
 */
export async function startNodes(
  plan: StartPlan,
  launcher: Launcher,
  chains: Chains,
  registration: Registration,
  ctx: PhaseContext,
  ipfs: Launched,
  /** Starts the task engine once the aggregator runs; attesters validate its tasks with it. */
  engine?: (aggregator: Launched) => Promise<Launched | undefined>,
  /** Attesters `operator add` added to the resumed chains, after the planned ones. */
  added: Array<DevnetAccount & { name: string }> = [],
  /** Lowercase addresses of planned attesters `operator remove` unregistered on the resumed chains. */
  removed: ReadonlySet<string> = new Set(),
): Promise<Nodes> {
  const { topology, keys } = plan;
  const l2Env = chainEnv(plan, chains, registration, "internal");
  // The generated services send their tasks for this definition unless told otherwise.
  const taskDefinitionId = registration.taskDefinitions[0]?.taskDefinitionId ?? 1;
  const validationEnv = serviceEnv("validation", { taskDefinitionId });

  ctx.progress("starting the validation service, the aggregator, the attesters and the execution service");
  // The journal outlives the aggregator (persist.ts): a file of the project, or a volume.
  const journal =
    launcher.kind === "process" ? journalFile(topology.projectDir) : `${CONTAINER_JOURNAL_DIR}/aggregator.db`;
  const aggPorts = await launcher.allocate(
    { rpc: plan.ports.aggregator, metrics: plan.ports.metrics },
    "aggregator",
  );
  const validationStart = topology.services.validation
    ? launchService(
        "validation",
        topology.services.validation,
        plan,
        launcher,
        {
          internal: { ...validationEnv, ...ipfsEnv(ipfs, "internal") },
          host: { ...validationEnv, ...ipfsEnv(ipfs, "host") },
        },
        ctx,
      )
    : Promise.resolve(undefined);
  const aggregatorStart = launcher.launch(
    {
      name: "aggregator",
      what: {
        avsctl: [
          "node",
          "aggregator",
          "--json-rpc",
          "--json-rpc.port",
          String(aggPorts.rpc),
          "--metrics",
          "--metrics.port",
          String(aggPorts.metrics),
          "--host",
          launcher.bindHost,
          "--journal",
          journal,
          "--relayer",
          // VOTING_POWER_SYNC, which `avsctl operator` also runs on demand (avsctl_syncVotingPower)
          "--internal-tasks",
          ...(topology.maxPendingTasks === undefined
            ? []
            : ["--max-pending-tasks", String(topology.maxPendingTasks)]),
        ],
      },
      env: {
        ...l2Env,
        ...NODE_MEMORY,
        PRIVATE_KEY: keys.aggregator.privateKey,
        AVSCTL_RELAYER_KEY: keys.deployer.privateKey,
      },
      ...(launcher.kind === "docker"
        ? { volumes: [{ name: "aggregator", target: CONTAINER_JOURNAL_DIR }] }
        : {}),
      ports: aggPorts,
      wait: (p) => rpcWait(p.rpc!),
    },
    ctx.signal,
  );
  const aggregatorUrl = launcher.internalUrlOf("aggregator", aggPorts.rpc!);
  const attestersStart = (async () => {
    const validation = await validationStart;
    const validationForNodes = validation
      ? validation.internal
      : await launcher.reachHost(`http://127.0.0.1:${plan.ports.validation}`);
    const engineUrl = engine ? (await engine(await aggregatorStart))?.internalUrl("http") : undefined;
    const engineRoute = engineUrl
      ? ["--avs-webapi-for", `${registration.workflowDefinition!.taskDefinitionId}=${engineUrl}`]
      : [];
    return settled(
      [...plannedAttesters(keys.attesters, removed), ...added].map(async (a) => {
        const ports = await launcher.allocate({ metrics: plan.ports.metrics }, a.name);
        return launcher.launch(
          {
            name: a.name,
            what: {
              avsctl: [
                "node",
                "attester",
                "--avs-webapi",
                validationForNodes,
                ...engineRoute,
                "--metrics",
                "--metrics.port",
                String(ports.metrics),
                "--host",
                launcher.bindHost,
              ],
            },
            env: {
              ...l2Env,
              ...NODE_MEMORY,
              PRIVATE_KEY: a.privateKey,
              ...(a.blsSecretKey ? { AVSCTL_BLS_SECRET_KEY: a.blsSecretKey } : {}),
              OTHENTIC_CLIENT_RPC_ADDRESS: aggregatorUrl,
            },
            ports,
            wait: (p) => httpWait(p.metrics!),
          },
          ctx.signal,
        );
      }),
    );
  })();
  const executionPlan = topology.services.execution;
  const executionStart = executionPlan
    ? aggregatorStart.then((aggregator) =>
        launchService(
          "execution",
          executionPlan,
          plan,
          launcher,
          {
            internal: {
              ...serviceEnv("execution", {
                chains: envChains(plan, chains, registration, "internal"),
                taskDefinitionId,
                performer: keys.performer,
                aggregatorUrl: aggregator.internalUrl("rpc"),
              }),
              ...ipfsEnv(ipfs, "internal"),
            },
            host: {
              ...serviceEnv("execution", {
                chains: envChains(plan, chains, registration, "host"),
                taskDefinitionId,
                performer: keys.performer,
                aggregatorUrl: aggregator.hostUrl("rpc"),
              }),
              ...ipfsEnv(ipfs, "host"),
            },
          },
          ctx,
        ),
      )
    : Promise.resolve(undefined);
  const [validation, aggregator, attesters, execution] = await settled([
    validationStart,
    aggregatorStart,
    attestersStart,
    executionStart,
  ] as const);
  if (!validation)
    ctx.warnings.push(
      `--no-services: attesters call a validation service at http://127.0.0.1:${plan.ports.validation} on this machine`,
    );
  return { aggregator, attesters, validation, execution };
}

/**
 * The plan's attesters, named by their place in it, less those `operator remove` unregistered:
 * the aggregator refuses their hello, so their node would never be ready.
 */
export function plannedAttesters<K extends { address: string }>(
  attesters: K[],
  removed: ReadonlySet<string>,
): Array<K & { name: string; index: number }> {
  return attesters
    .map((a, index) => ({ ...a, name: `attester-${index + 1}`, index }))
    .filter((a) => !removed.has(a.address.toLowerCase()));
}

async function launchService(
  kind: "validation" | "execution",
  service: ServicePlan,
  plan: StartPlan,
  launcher: Launcher,
  env: ServiceEnv,
  ctx: PhaseContext,
): Promise<ServiceUrls> {
  if (service.kind === "external") {
    return { host: service.url, internal: await launcher.reachHost(service.url) };
  }
  const defaultPort = kind === "validation" ? plan.ports.validation : plan.ports.execution;
  if (service.kind === "sample") {
    const ports = await launcher.allocate({ http: defaultPort }, kind);
    const launched = await launcher.launch(
      {
        name: kind,
        what: {
          avsctl: [
            "devnet",
            "service",
            `sample-${kind}`,
            "--port",
            String(ports.http),
            "--host",
            launcher.bindHost,
          ],
        },
        env: env.internal,
        ports,
        wait: (p) => httpWait(p.http!),
      },
      ctx.signal,
    );
    return { host: launched.hostUrl("http"), internal: launched.internalUrl("http") };
  }
  const { launchProjectService } = await import("../project-services.js");
  return launchProjectService(kind, service, plan.topology, launcher, env, ctx.signal);
}
