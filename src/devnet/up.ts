import path from "node:path";
import createDebug from "debug";
import type { AvsctlConfig } from "../config/schema.js";
import { AvsctlError, isAvsctlError } from "../errors.js";
import { accountsNeeded, type DevnetKeys, deriveDevnetKeys } from "./keys.js";
import { DockerLauncher, type Launched, type Launcher, PORTS, ProcessLauncher } from "./launcher.js";
import type { OperatorKeys } from "./operator-keys.js";
import {
  type DevnetPlan,
  type PlanDifference,
  planDevnet,
  planDifferences,
  type ServicePlan,
  serviceSummary,
  type UpFlags,
} from "./plan.js";
import type { ServiceEnv } from "./project-services.js";
import type { WaitStrategy } from "./runtime/types.js";
import { type DevnetState, readDevnetState, removeDevnetState, writeDevnetState } from "./state.js";
import { hasTriggers, type TriggerSetup, triggerDefinitions } from "./trigger-service.js";

const debug = createDebug("avsctl:devnet:up");

/** Each attester's stake (= voting power on L2): 100 ETH, equal so thresholds are easy to read. */
export const ATTESTER_STAKE = 100n * 10n ** 18n;

export interface UpOptions {
  config: AvsctlConfig;
  projectDir: string;
  flags: UpFlags;
  /** Progress lines for humans (the CLI decides where they go). */
  progress?: (step: string) => void;
  signal?: AbortSignal;
  /** `--operator-keys`: the attesters run with these operators' own keys. */
  operators?: OperatorKeys;
}

export interface UpResult {
  state: DevnetState;
  /** False when a healthy devnet was already running and nothing changed. */
  created: boolean;
  runtimeReason: string;
  warnings: string[];
  /** When a healthy devnet was left as it is: where it differs from what was asked (`--fresh` applies it). */
  differences: PlanDifference[];
}

/** A small young generation keeps each node well under 200 MB even with a backlog of tasks. */
const NODE_MEMORY = { NODE_OPTIONS: "--max-semi-space-size=4" };

const rpcWait = (port: number): WaitStrategy[] => [
  { kind: "json-rpc", port, requireResult: true, timeoutMs: 30_000 },
];
const httpWait = (port: number, p = "/health"): WaitStrategy[] => [
  { kind: "http", port, path: p, timeoutMs: 60_000 },
];

/** Opens the runtime a plan asks for (building the devnet image for Docker). */
export async function openLauncher(
  plan: Pick<DevnetPlan, "project" | "projectDir" | "runtime" | "baseImage">,
  progress: (s: string) => void,
  signal?: AbortSignal,
): Promise<{ launcher: Launcher; reason: string }> {
  const { chooseRuntime } = await import("./runtime/select.js");
  const choice = await chooseRuntime(plan.runtime);
  if (choice.kind === "process") {
    const { ProcessRuntime } = await import("./runtime/process.js");
    return {
      launcher: new ProcessLauncher(
        new ProcessRuntime({ project: plan.project, projectDir: plan.projectDir }),
      ),
      reason: choice.reason,
    };
  }
  const { DockerRuntime } = await import("./runtime/docker.js");
  const { ensureDevnetImage } = await import("./image.js");
  progress("building the devnet image (cached after the first run)");
  const image = await ensureDevnetImage(choice.docker!, { baseImage: plan.baseImage, signal });
  progress(`devnet image ${image.image} ${image.cached ? "(cached)" : `built in ${image.durationMs} ms`}`);
  const runtime = new DockerRuntime({
    project: plan.project,
    projectDir: plan.projectDir,
    docker: choice.docker,
    helperImage: image.image,
  });
  return { launcher: new DockerLauncher(runtime, image.image, image.baseImage), reason: choice.reason };
}

/**
 * `devnet up`: chains, contracts, registered operators, task definitions, nodes and services,
 * all healthy, then returns (the components keep running). A healthy devnet is left as it is;
 * a broken or half-started one is removed and started again.
 */
export async function devnetUp(opts: UpOptions): Promise<UpResult> {
  const progress = opts.progress ?? (() => {});
  const plan = planDevnet(opts.config, opts.projectDir, opts.flags);
  if (opts.operators)
    await (await import("./operator-keys.js")).applyOperatorKeys(plan, opts.operators, opts.flags);
  const existing = readDevnetState(opts.projectDir);
  if (existing) {
    const { devnetStatus, devnetDown } = await import("./manage.js");
    if (!opts.flags.fresh) {
      const status = await devnetStatus(opts.projectDir);
      if (status.state?.healthy) {
        return {
          state: status.state,
          created: false,
          // the same answer as the run that started it: `up` twice prints the same state
          runtimeReason: (existing.internal?.runtimeReason as string | undefined) ?? existing.runtime,
          warnings: (existing.internal?.warnings as string[] | undefined) ?? [],
          differences: [
            ...planDifferences(plan, status.state, opts.flags),
            ...(await import("./operator-keys.js")).operatorKeyDifferences(existing, opts.operators),
          ],
        };
      }
      progress(`the existing devnet is unhealthy (${status.problems.join("; ")}); starting it again`);
    } else {
      progress("--fresh: removing the existing devnet");
    }
    await devnetDown(opts.projectDir);
  } else {
    // No state file, yet an interrupted start (Ctrl-C, a crash) may have left labelled
    // components behind: an attester the new plan lacks would otherwise run on unnoticed.
    const { devnetDown } = await import("./manage.js");
    const left = await devnetDown(opts.projectDir, opts.config);
    const count = left.containers.length + left.networks.length + left.volumes.length + left.processes.length;
    if (count > 0) progress(`removed ${count} leftover(s) of an interrupted start`);
  }

  const started = Date.now();
  const { launcher, reason } = await openLauncher(plan, progress, opts.signal);
  progress(`runtime: ${reason}`);
  try {
    const state = await bringUp(plan, launcher, opts, progress);
    state.startupMs = Date.now() - started;
    if (state.internal) state.internal.runtimeReason = reason;
    writeDevnetState(opts.projectDir, state);
    const warnings = state.internal?.warnings as string[];
    return { state, created: true, runtimeReason: reason, warnings: warnings ?? [], differences: [] };
  } catch (error) {
    debug("start failed: %O", error);
    progress("start failed; removing what was started");
    await launcher.runtime.removeProject().catch(() => {});
    removeDevnetState(opts.projectDir);
    if (isAvsctlError(error) && error.code !== "INTERNAL") throw error;
    throw new AvsctlError("DEVNET_START_FAILED", `devnet start failed: ${(error as Error).message}`, {
      hint: "rerun with --verbose; `avsctl devnet logs` is empty because everything was removed",
      cause: error,
    });
  }
}

async function bringUp(
  plan: DevnetPlan,
  launcher: Launcher,
  opts: UpOptions,
  progress: (s: string) => void,
): Promise<DevnetState> {
  const { withOperatorKeys, fundOperators } = await import("./operator-keys.js");
  const keys = withOperatorKeys(await deriveDevnetKeys(plan.attesters, plan.mnemonic), opts.operators);
  const warnings: string[] = [];
  if (keys.insecure)
    warnings.push("devnet keys come from anvil's public test mnemonic: never use them on a real network");
  const signal = opts.signal;

  // 1. chains
  progress(`starting L1 (${plan.l1ChainId}) and ${plan.l2ChainIds.length} L2 chain(s)`);
  const chainSpecs = [
    { name: "l1", chainId: plan.l1ChainId },
    ...plan.l2ChainIds.map((chainId, i) => ({ name: `l2-${i + 1}`, chainId })),
  ];
  const chains = await settled(
    chainSpecs.map(async (c) =>
      launcher.launch(
        {
          name: c.name,
          what: {
            anvil: {
              chainId: c.chainId,
              blockTime: plan.blockTime,
              accounts: accountsNeeded(plan.attesters),
              mnemonic: keys.mnemonic,
            },
          },
          ports: await launcher.allocate({ rpc: PORTS.chain }),
          wait: (p) => rpcWait(p.rpc!),
        },
        signal,
      ),
    ),
  );
  const [l1, ...l2s] = chains as [Launched, ...Launched[]];
  if (opts.operators) {
    progress(`funding ${keys.attesters.length} operator(s) from ${opts.operators.dir}`);
    await fundOperators(
      [l1, ...l2s].map((c) => c.hostUrl("rpc")),
      keys.attesters,
    );
  }

  // 2-4. contracts, operators, task definitions
  const { deployment, aggregatorReg, attesterRegs, taskDefinitions } = await deployAndRegister({
    l1RpcUrl: l1.hostUrl("rpc"),
    l2RpcUrls: l2s.map((l) => l.hostUrl("rpc")),
    keys,
    taskDefinitions: opts.config.taskDefinitions,
    progress,
  });

  // 5. services and nodes, which get the Othentic environment names (docs/protocol.md#service-environment)
  const chainEnv = (view: "internal" | "host") => {
    const url = (l: Launched) => (view === "internal" ? l.internalUrl("rpc") : l.hostUrl("rpc"));
    return {
      L2_RPC: l2s.map((l, i) => `${plan.l2ChainIds[i]}@${url(l)}`).join(","),
      L2_CHAIN: plan.l2ChainIds.join(","),
      ATTESTATION_CENTER_ADDRESS: deployment.l2
        .map((d, i) => `${plan.l2ChainIds[i]}@${d.attestationCenter}`)
        .join(","),
      L1_RPC: url(l1),
      L1_CHAIN: String(plan.l1ChainId),
      AVS_GOVERNANCE_ADDRESS: deployment.avsGovernance,
    };
  };
  const l2Env = chainEnv("internal");
  // The generated services send their tasks for this definition unless told otherwise.
  const definitionEnv = { TASK_DEFINITION_ID: String(taskDefinitions[0]?.taskDefinitionId ?? 1) };
  const warn = (message: string) => {
    warnings.push(message);
    progress(`warning: ${message}`);
  };

  // The validation service and the aggregator need nothing of each other, and the execution
  // service needs only the aggregator: they start side by side with the attesters.
  progress("starting the validation service, the aggregator, the attesters and the execution service");
  const journal =
    launcher.kind === "process"
      ? path.join(plan.projectDir, ".avsctl", "aggregator.db")
      : "/tmp/aggregator.db";
  const aggPorts = await launcher.allocate({ rpc: PORTS.aggregator, metrics: PORTS.metrics });
  const [validation, aggregator] = await settled([
    plan.services.validation
      ? launchService(
          "validation",
          plan.services.validation,
          plan,
          launcher,
          { internal: { ...definitionEnv }, host: { ...definitionEnv } },
          warn,
          signal,
        )
      : Promise.resolve(undefined),
    launcher.launch(
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
          ],
        },
        env: {
          ...l2Env,
          ...NODE_MEMORY,
          PRIVATE_KEY: keys.aggregator.privateKey,
          AVSCTL_RELAYER_KEY: keys.deployer.privateKey,
        },
        ports: aggPorts,
        wait: (p) => rpcWait(p.rpc!),
      },
      signal,
    ),
  ] as const);
  const validationForNodes = validation
    ? validation.internal
    : await launcher.reachHost(`http://127.0.0.1:${PORTS.validation}`);
  if (!validation)
    warnings.push(
      `--no-services: attesters call a validation service at http://127.0.0.1:${PORTS.validation} on this machine`,
    );

  const performerEnv = {
    PRIVATE_KEY_PERFORMER: keys.performer.privateKey,
    PERFORMER_ADDRESS: keys.performer.address,
  };
  const [attesters, execution] = await settled([
    settled(
      keys.attesters.map(async (a, i) => {
        const ports = await launcher.allocate({ metrics: PORTS.metrics });
        return launcher.launch(
          {
            name: `attester-${i + 1}`,
            what: {
              avsctl: [
                "node",
                "attester",
                "--avs-webapi",
                validationForNodes,
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
              OTHENTIC_CLIENT_RPC_ADDRESS: aggregator.internalUrl("rpc"),
            },
            ports,
            wait: (p) => httpWait(p.metrics!),
          },
          signal,
        );
      }),
    ),
    plan.services.execution
      ? launchService(
          "execution",
          plan.services.execution,
          plan,
          launcher,
          {
            internal: {
              ...l2Env,
              ...definitionEnv,
              ...performerEnv,
              OTHENTIC_CLIENT_RPC_ADDRESS: aggregator.internalUrl("rpc"),
            },
            host: {
              ...chainEnv("host"),
              ...definitionEnv,
              ...performerEnv,
              OTHENTIC_CLIENT_RPC_ADDRESS: aggregator.hostUrl("rpc"),
            },
          },
          warn,
          signal,
        )
      : Promise.resolve(undefined),
  ] as const);

  // 6. the trigger runner, when the config has triggers
  let triggersUrl: string | undefined;
  if (hasTriggers(opts.config)) {
    progress("starting the trigger runner");
    const setup: TriggerSetup = {
      definitions: triggerDefinitions(opts.config, taskDefinitions),
      l2: {
        rpcUrl: l2s[0]!.internalUrl("rpc"),
        attestationCenter: deployment.l2[0]!.attestationCenter,
        chainId: plan.l2ChainIds[0]!,
      },
      aggregatorUrl: aggregator.internalUrl("rpc"),
      // avsctl's sample execution service signs as the devnet performer; without a service of the
      // project's own, the elected operator signs each task itself, which shows the round robin.
      executionUrl: plan.services.execution?.kind === "sample" ? null : (execution?.internal ?? null),
      performer: keys.performer.address,
      attesters: plan.attesters,
      mnemonic: plan.mnemonic,
      attesterKeys: opts.operators ? keys.attesters.map((a) => a.privateKey) : undefined,
    };
    const ports = await launcher.allocate({ http: PORTS.triggers });
    const runner = await launcher.launch(
      {
        name: "triggers",
        what: {
          avsctl: [
            "devnet",
            "service",
            "triggers",
            "--port",
            String(ports.http),
            "--host",
            launcher.bindHost,
          ],
        },
        env: { AVSCTL_TRIGGER_SETUP: JSON.stringify(setup) },
        ports,
        wait: (p) => httpWait(p.http!),
      },
      signal,
    );
    triggersUrl = runner.hostUrl("http");
  }

  const operatorId = (reg: { l2: { operatorId: number }[] }) => reg.l2[0]?.operatorId ?? 0;
  return {
    name: plan.project,
    runtime: launcher.kind,
    healthy: true,
    l1: { chainId: plan.l1ChainId, rpcUrl: l1.hostUrl("rpc"), avsGovernance: deployment.avsGovernance },
    l2: l2s.map((l, i) => ({
      chainId: plan.l2ChainIds[i]!,
      rpcUrl: l.hostUrl("rpc"),
      attestationCenter: deployment.l2[i]!.attestationCenter,
      obls: deployment.l2[i]!.obls,
      internalTaskHandler: deployment.l2[i]!.internalTaskHandler,
    })),
    aggregator: {
      rpcUrl: aggregator.hostUrl("rpc"),
      address: keys.aggregator.address,
      operatorId: operatorId(aggregatorReg),
      metricsUrl: aggregator.hostUrl("metrics", "/metrics"),
    },
    attesters: attesters.map((a, i) => ({
      name: a.name,
      address: keys.attesters[i]!.address,
      operatorId: operatorId(attesterRegs[i]!),
      votingPower: attesterRegs[i]!.votingPower.toString(),
    })),
    performer: { address: keys.performer.address, privateKey: keys.performer.privateKey },
    deployer: { address: keys.deployer.address, privateKey: keys.deployer.privateKey },
    services: { execution: execution?.host ?? null, validation: validation?.host ?? null },
    taskDefinitions,
    startupMs: 0,
    internal: {
      projectDir: plan.projectDir,
      startedAt: new Date().toISOString(),
      components: await componentList(plan, launcher),
      warnings,
      triggersUrl,
      plan: {
        attesters: plan.attesters,
        l2Chains: plan.l2ChainIds.length,
        blockTime: plan.blockTime,
        operatorKeys: opts.operators?.dir,
        services: {
          validation: serviceSummary(plan.services.validation),
          execution: serviceSummary(plan.services.execution),
        },
      },
    },
  };
}

export interface DeployAndRegisterOptions {
  l1RpcUrl: string;
  l2RpcUrls: string[];
  keys: DevnetKeys;
  /** The config's task definitions; none: one named "default". */
  taskDefinitions: AvsctlConfig["taskDefinitions"];
  progress?: (step: string) => void;
}

/**
 * What turns empty chains into an AVS: our contracts deployed, the aggregator, the performer
 * and the attesters registered on L1 and mirrored to every L2, and the task definitions
 * created. `up` runs it from the host; an exported topology runs it as its bootstrap job.
 * On fresh chains the addresses depend only on the deployer key.
 */
export async function deployAndRegister(opts: DeployAndRegisterOptions) {
  const progress = opts.progress ?? (() => {});
  const { keys } = opts;
  progress("deploying AvsGovernance, AttestationCenter, OBLS and InternalTaskHandler");
  const { deployDevnetContracts, registerOperator } = await import("../chain/deploy.js");
  const deployment = await deployDevnetContracts({
    l1: { rpcUrl: opts.l1RpcUrl },
    l2: opts.l2RpcUrls.map((rpcUrl) => ({ rpcUrl })),
    deployerKey: keys.deployer.privateKey,
  });

  // The aggregator and performer are active but hold no voting power.
  progress(`registering the aggregator, the performer and ${keys.attesters.length} attester(s) on L1 and L2`);
  const register = async (key: string, stake: bigint, blsSecretKey?: string) =>
    registerOperator({
      l1: { rpcUrl: opts.l1RpcUrl, avsGovernance: deployment.avsGovernance },
      l2: opts.l2RpcUrls.map((rpcUrl, i) => ({
        rpcUrl,
        attestationCenter: deployment.l2[i]!.attestationCenter,
      })),
      operatorKey: key,
      messageHandlerKey: keys.deployer.privateKey,
      governanceKey: keys.deployer.privateKey,
      stake,
      bls: blsSecretKey ? await ownBlsKey(blsSecretKey) : undefined,
    });
  const aggregatorReg = await register(keys.aggregator.privateKey, 0n);
  await register(keys.performer.privateKey, 0n);
  const attesterRegs: Awaited<ReturnType<typeof register>>[] = [];
  for (const a of keys.attesters)
    attesterRegs.push(await register(a.privateKey, ATTESTER_STAKE, a.blsSecretKey));

  progress("creating task definitions");
  const taskDefinitions = await createTaskDefinitions(
    opts.taskDefinitions,
    opts.l2RpcUrls,
    deployment.l2.map((d) => d.attestationCenter),
    keys,
  );
  return { deployment, aggregatorReg, attesterRegs, taskDefinitions };
}

/** An imported operator's BLS key pair, registered as it is. */
async function ownBlsKey(secretHex: string) {
  const bls = await import("../crypto/bls.js");
  await bls.initBls();
  const secret = bls.parseBlsSecret(secretHex);
  return { secret, publicKey: bls.blsPublicKey(secret) };
}

/**
 * Like Promise.all, but waits for every start to finish before rethrowing the first failure,
 * so the cleanup that follows a failed start never races a component still starting.
 */
async function settled<T extends readonly unknown[]>(
  promises: readonly [...{ [K in keyof T]: Promise<T[K]> }],
): Promise<T> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/** Every component, including project services that a Docker devnet had to run on the host. */
async function componentList(plan: DevnetPlan, launcher: Launcher) {
  const components = (await launcher.runtime.list()).map((c) => ({
    name: c.component,
    kind: kindOf(c.component),
    runtime: undefined as "process" | undefined,
  }));
  if (launcher.kind === "docker") {
    const { ProcessRuntime } = await import("./runtime/process.js");
    const onHost = await new ProcessRuntime({ project: plan.project, projectDir: plan.projectDir }).list();
    for (const c of onHost)
      components.push({ name: c.component, kind: kindOf(c.component), runtime: "process" });
  }
  return components;
}

function kindOf(name: string): "chain" | "aggregator" | "attester" | "service" | "relayer" {
  if (name === "l1" || name.startsWith("l2-")) return "chain";
  if (name === "aggregator") return "aggregator";
  if (name.startsWith("attester-")) return "attester";
  return "service";
}

async function createTaskDefinitions(
  configured: AvsctlConfig["taskDefinitions"],
  l2RpcUrls: string[],
  attestationCenters: string[],
  keys: DevnetKeys,
): Promise<Array<{ taskDefinitionId: number; name: string }>> {
  const { connectRpc } = await import("../chain/rpc.js");
  const { Wallet } = await import("ethers");
  const { TaskDefClient, createTaskDefinition, parseTaskDefinitionInput, configToInput } = await import(
    "../task-def/task-defs.js"
  );
  const wanted = configured.length > 0 ? configured.map(configToInput) : [{ name: "default" }];
  const parsed = wanted.map((w) => parseTaskDefinitionInput(w));
  let created: Array<{ taskDefinitionId: number; name: string }> = [];
  // The same definitions on every L2, so a task can target any of them with the same id.
  for (const [i, rpcUrl] of l2RpcUrls.entries()) {
    const { provider, chainId } = await connectRpc(rpcUrl);
    try {
      const client = await TaskDefClient.open(
        {
          rpcUrl,
          chainId,
          attestationCenter: attestationCenters[i] as `0x${string}`,
          provider,
          devnet: undefined,
          devnetChainIds: [chainId],
        },
        { generation: "gen2", method: "flag", implementation: attestationCenters[i]! },
      );
      const signer = new Wallet(keys.deployer.privateKey, provider);
      const here = [];
      for (const p of parsed) {
        const r = await createTaskDefinition(client, signer, p);
        here.push({ taskDefinitionId: r.taskDefinitionId, name: r.name });
      }
      if (i === 0) created = here;
    } finally {
      provider.destroy();
    }
  }
  return created;
}

async function launchService(
  kind: "validation" | "execution",
  service: ServicePlan,
  plan: DevnetPlan,
  launcher: Launcher,
  env: ServiceEnv,
  warn: (message: string) => void,
  signal?: AbortSignal,
): Promise<{ host: string; internal: string }> {
  if (service.kind === "external") {
    return { host: service.url, internal: await launcher.reachHost(service.url) };
  }
  const defaultPort = kind === "validation" ? PORTS.validation : PORTS.execution;
  if (service.kind === "sample") {
    const ports = await launcher.allocate({ http: defaultPort });
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
      signal,
    );
    return { host: launched.hostUrl("http"), internal: launched.internalUrl("http") };
  }
  const { launchProjectService } = await import("./project-services.js");
  return launchProjectService(kind, service, plan, launcher, env, warn, signal);
}
