/**
 * `devnet export --format compose|k8s`: the devnet's topology for teams that outgrow one
 * machine. The same components as `devnet up` in Docker (the same image, commands, Othentic
 * environment names and container ports), plus a one-shot `bootstrap` job that does what `up`
 * does from the host: deploy, register, create the task definitions. On fresh chains the
 * contract addresses depend only on the deployer key, so the bootstrap job checks that it got
 * the addresses the nodes were given.
 */
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import YAML from "yaml";
import type { AvsctlConfig } from "../config/schema.js";
import { AvsctlError, invalidArgument } from "../errors.js";
import { devnetImageTag } from "./image.js";
import { accountsNeeded, type DevnetKeys, deriveDevnetKeys } from "./keys.js";
import { anvilArgs, PORTS } from "./launcher.js";
import { type DevnetPlan, planDevnet, projectName, type ServicePlan } from "./plan.js";
import { type DevnetState, readDevnetState } from "./state.js";

export type ExportFormat = "compose" | "k8s";

/** Host ports of a topology exported from the config (a running devnet keeps its own). */
export const EXPORT_HOST_PORTS = {
  l1: 8545,
  /** L2 number i (from 1) gets 8545 + i. */
  l2: 8545,
  aggregator: 8645,
  aggregatorMetrics: 6060,
  /** Attester i (from 1) gets 6060 + i. */
  attesterMetrics: 6060,
  validation: 4002,
  execution: 4003,
} as const;

interface Health {
  kind: "json-rpc" | "http";
  port: number;
  path?: string;
}

/** One long-running component (or the one-shot bootstrap job) of the exported topology. */
export interface TopologyComponent {
  name: string;
  role: "chain" | "bootstrap" | "aggregator" | "attester" | "validation" | "execution" | "service";
  image: string;
  /** The project's own service: built from its Dockerfile. */
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  /** Full argv; undefined keeps the image's own entrypoint and command. */
  command?: string[];
  env: Record<string, string>;
  /** Environment names whose values are keys (a Kubernetes Secret holds them). */
  secretEnv: string[];
  ports: Array<{ name: string; container: number; host: number }>;
  /** `nodeHealth`: the probe runs `node` inside the image (true for the devnet image only). */
  health?: Health & { nodeHealth: boolean };
  dependsOn: Array<{ name: string; condition: "healthy" | "started" | "completed" }>;
  oneShot?: boolean;
  /** Reaches a service on the host (`host.docker.internal`). */
  usesHost?: boolean;
}

export interface Topology {
  project: string;
  image: string;
  source: "state" | "plan";
  /** The first L2's AttestationCenter: present once the bootstrap job has run. */
  readyCheck: { rpcUrl: string; address: string };
  components: TopologyComponent[];
  notes: string[];
}

export interface ExportOptions {
  config: AvsctlConfig;
  projectDir: string;
  format: string;
  /** Output file (relative to the current directory); undefined: only returned. */
  output?: string;
  cwd?: string;
}

export interface ExportResult {
  format: ExportFormat;
  path: string | null;
  content: string;
}

const HOST_ALIAS = "host.docker.internal";
/** The devnet's price feed for project services (as src/devnet/project-services.ts starts it). */
const SECRET_NAMES = ["PRIVATE_KEY", "PRIVATE_KEY_PERFORMER", "AVSCTL_RELAYER_KEY", "AVSCTL_DEVNET_MNEMONIC"];

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
  const avsctl = (...args: string[]) => ["node", "/app/bin/avsctl.js", ...args];
  const hostPort = {
    l1: portOf(state?.l1.rpcUrl) ?? EXPORT_HOST_PORTS.l1,
    l2: (i: number) => portOf(state?.l2[i]?.rpcUrl) ?? EXPORT_HOST_PORTS.l2 + i + 1,
    aggregator: portOf(state?.aggregator.rpcUrl) ?? EXPORT_HOST_PORTS.aggregator,
    aggregatorMetrics: portOf(state?.aggregator.metricsUrl) ?? EXPORT_HOST_PORTS.aggregatorMetrics,
    validation: portOf(state?.services.validation) ?? EXPORT_HOST_PORTS.validation,
    execution: portOf(state?.services.execution) ?? EXPORT_HOST_PORTS.execution,
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
  const devnetHealth = (kind: Health["kind"], port: number, p?: string) => ({
    kind,
    port,
    path: p,
    nodeHealth: true,
  });

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
      env: {},
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

  const service = (
    kind: "validation" | "execution",
    s: ServicePlan,
    env: Record<string, string>,
    secretEnv: string[],
  ): TopologyComponent | undefined => {
    if (s.kind === "external") return undefined;
    const host = kind === "validation" ? hostPort.validation : hostPort.execution;
    if (s.kind === "sample") {
      const port = kind === "validation" ? PORTS.validation : PORTS.execution;
      return {
        name: kind,
        role: kind,
        image,
        command: avsctl("devnet", "service", `sample-${kind}`, "--port", String(port), "--host", "0.0.0.0"),
        env,
        secretEnv,
        ports: [{ name: "http", container: port, host }],
        health: devnetHealth("http", port, "/health"),
        dependsOn: [],
      };
    }
    // The project's own code, as `up` runs it in Docker: built from its Dockerfile, fed
    // prices by the devnet's deterministic feed.
    if (!components.some((c) => c.name === "price-feed")) {
      components.push({
        name: "price-feed",
        role: "service",
        image,
        command: avsctl("devnet", "service", "price-feed", "--port", String(PORTS.feed), "--host", "0.0.0.0"),
        env: {},
        secretEnv: [],
        ports: [{ name: "http", container: PORTS.feed, host: PORTS.feed }],
        health: devnetHealth("http", PORTS.feed, "/health"),
        dependsOn: [],
      });
    }
    const isNode = existsSync(path.join(s.dir, "package.json"));
    return {
      name: kind,
      role: kind,
      image: `avsctl/${plan.project}-${kind}:dev`,
      build: {
        context: path.relative(outputDir, s.dir) || ".",
        dockerfile: s.dockerfile,
        args: isNode ? { BASE_IMAGE: plan.baseImage ?? "avsctl/node-base:24" } : undefined,
      },
      env: {
        HOST: "0.0.0.0",
        PRICE_SOURCE_URL: `http://price-feed:${PORTS.feed}/price`,
        ...env,
        PORT: String(s.port),
        [`${kind.toUpperCase()}_PORT`]: String(s.port),
      },
      secretEnv,
      ports: [{ name: "http", container: s.port, host }],
      health: { kind: "http", port: s.port, path: "/health", nodeHealth: false },
      dependsOn: [{ name: "price-feed", condition: "healthy" }],
    };
  };

  let validationUrl: string;
  let validationUsesHost = false;
  const validation = plan.services.validation;
  const validationComponent = validation ? service("validation", validation, {}, []) : undefined;
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
  return {
    project: plan.project,
    image,
    source: state ? "state" : "plan",
    readyCheck: { rpcUrl: chainUrl(l2Names[0]!), address: addresses.l2[0]!.attestationCenter },
    components,
    notes,
  };
}

const RPC_PROBE = (port: number) =>
  `fetch("http://127.0.0.1:${port}",{method:"POST",headers:{"content-type":"application/json"},` +
  `body:'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}'}).then((r)=>r.json())` +
  `.then((j)=>process.exit(j.result?0:1),()=>process.exit(1))`;
const HTTP_PROBE = (port: number, p = "/") =>
  `fetch("http://127.0.0.1:${port}${p}").then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))`;

function probeScript(h: Health): string {
  return h.kind === "json-rpc" ? RPC_PROBE(h.port) : HTTP_PROBE(h.port, h.path);
}

/** Polls eth_getCode until the bootstrap job's AttestationCenter exists (bounded: 10 minutes). */
function waitForContractsScript(rpcUrl: string, address: string): string {
  return (
    `const body=JSON.stringify({jsonrpc:"2.0",id:1,method:"eth_getCode",params:["${address}","latest"]});` +
    `(async()=>{for(let i=0;i<300;i++){try{const r=await fetch("${rpcUrl}",{method:"POST",` +
    `headers:{"content-type":"application/json"},body});const j=await r.json();` +
    `if(j.result&&j.result!=="0x")process.exit(0)}catch{}await new Promise((s)=>setTimeout(s,2000))}` +
    `console.error("contracts not deployed after 10 minutes");process.exit(1)})()`
  );
}

function header(t: Topology, format: ExportFormat): string[] {
  const lines = [
    `avsctl devnet "${t.project}" exported for ${format === "compose" ? "Docker Compose" : "Kubernetes"} (from the ${t.source === "state" ? "running devnet" : "config"})`,
    `image ${t.image}: built by \`avsctl devnet up --runtime docker\`${format === "k8s" ? "; push it (and any service image) where the cluster can pull it" : ""}`,
    "bootstrap deploys the contracts, registers the operators and creates the task definitions, once",
    ...t.notes,
  ];
  if (format === "compose") lines.push(`run: docker compose -p avsctl-${t.project} -f <this file> up -d`);
  else
    lines.push("run: kubectl apply -f <this file>; reach a port with kubectl port-forward svc/<name> <port>");
  return lines.map((l) => `# ${l}`);
}

/** Docker Compose YAML of a topology. */
export function renderCompose(t: Topology): string {
  const services: Record<string, unknown> = {};
  for (const c of t.components) {
    const s: Record<string, unknown> = { image: c.image };
    if (c.build) {
      s.build = {
        context: c.build.context,
        dockerfile: c.build.dockerfile,
        ...(c.build.args ? { args: c.build.args } : {}),
      };
    }
    if (c.command) {
      s.entrypoint = [];
      s.command = c.command;
    }
    if (Object.keys(c.env).length > 0) s.environment = c.env;
    if (c.ports.length > 0) s.ports = c.ports.map((p) => `127.0.0.1:${p.host}:${p.container}`);
    if (c.health?.nodeHealth) {
      s.healthcheck = {
        test: ["CMD", "node", "-e", probeScript(c.health)],
        interval: "2s",
        timeout: "3s",
        retries: 60,
      };
    }
    if (c.dependsOn.length > 0) {
      s.depends_on = Object.fromEntries(
        c.dependsOn.map((d) => [
          d.name,
          {
            condition:
              d.condition === "healthy"
                ? "service_healthy"
                : d.condition === "completed"
                  ? "service_completed_successfully"
                  : "service_started",
          },
        ]),
      );
    }
    if (c.usesHost) s.extra_hosts = [`${HOST_ALIAS}:host-gateway`];
    // A restarted chain would come back empty, so only nodes and services restart on a crash
    // (the default, "no", is left out: YAML 1.1 parsers read a bare no as false).
    if (!c.oneShot && c.role !== "chain") s.restart = "unless-stopped";
    services[c.name] = s;
  }
  // No top-level `name` (Compose v1 rejects it): the run line passes the project name instead.
  const doc = { services };
  return `${header(t, "compose").join("\n")}\n${YAML.stringify(doc, { lineWidth: 0 })}`;
}

/** Kubernetes manifests of a topology: a Secret, a Job, Deployments and Services, one multi-doc YAML. */
export function renderKubernetes(t: Topology): string {
  const partOf = `avsctl-${t.project}`;
  const labels = (name: string) => ({
    "app.kubernetes.io/name": name,
    "app.kubernetes.io/part-of": partOf,
    "app.kubernetes.io/managed-by": "avsctl",
  });
  const secretName = `${partOf}-keys`;
  const secretData: Record<string, string> = {};
  const secretKey = (component: string, env: string) =>
    `${component}-${env}`.toLowerCase().replace(/[^a-z0-9.-]+/g, "-");
  const docs: unknown[] = [];

  const container = (c: TopologyComponent) => {
    const env = Object.entries(c.env).map(([name, value]) => {
      if (!c.secretEnv.includes(name) && !SECRET_NAMES.includes(name)) return { name, value };
      const key = secretKey(c.name, name);
      secretData[key] = value;
      return { name, valueFrom: { secretKeyRef: { name: secretName, key } } };
    });
    const spec: Record<string, unknown> = {
      name: c.name,
      image: c.image,
      imagePullPolicy: "IfNotPresent",
    };
    if (c.command) {
      spec.command = [c.command[0]];
      spec.args = c.command.slice(1);
    }
    if (env.length > 0) spec.env = env;
    if (c.ports.length > 0) spec.ports = c.ports.map((p) => ({ name: p.name, containerPort: p.container }));
    if (c.health) {
      spec.readinessProbe =
        c.health.kind === "http"
          ? { httpGet: { path: c.health.path ?? "/", port: c.health.port }, periodSeconds: 2 }
          : { exec: { command: ["node", "-e", probeScript(c.health)] }, periodSeconds: 2 };
    }
    return spec;
  };

  const waitForContracts = {
    name: "wait-for-contracts",
    image: t.image,
    imagePullPolicy: "IfNotPresent",
    command: ["node", "-e", waitForContractsScript(t.readyCheck.rpcUrl, t.readyCheck.address)],
  };

  for (const c of t.components) {
    const podSpec: Record<string, unknown> = { containers: [container(c)] };
    if (c.oneShot) {
      docs.push({
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: { name: c.name, labels: labels(c.name) },
        spec: {
          backoffLimit: 10,
          template: {
            metadata: { labels: labels(c.name) },
            spec: { ...podSpec, restartPolicy: "OnFailure" },
          },
        },
      });
      continue;
    }
    // Nodes and the execution service need the bootstrap job's contracts (Compose orders this with depends_on).
    if (c.role !== "chain" && c.role !== "validation" && c.role !== "service")
      podSpec.initContainers = [waitForContracts];
    docs.push({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: c.name, labels: labels(c.name) },
      spec: {
        replicas: 1,
        selector: { matchLabels: { "app.kubernetes.io/name": c.name, "app.kubernetes.io/part-of": partOf } },
        template: { metadata: { labels: labels(c.name) }, spec: podSpec },
      },
    });
    if (c.ports.length > 0) {
      docs.push({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: c.name, labels: labels(c.name) },
        spec: {
          selector: { "app.kubernetes.io/name": c.name, "app.kubernetes.io/part-of": partOf },
          ports: c.ports.map((p) => ({ name: p.name, port: p.container, targetPort: p.container })),
        },
      });
    }
  }
  if (Object.keys(secretData).length > 0) {
    docs.unshift({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: secretName, labels: labels("keys") },
      type: "Opaque",
      stringData: secretData,
    });
  }
  const body = docs.map((d) => YAML.stringify(d, { lineWidth: 0 })).join("---\n");
  return `${header(t, "k8s").join("\n")}\n${body}`;
}

/**
 * `devnet export`: the topology as Compose or Kubernetes YAML, written to `output` when given.
 *
 * @example const { content } = await exportDevnet({ config, projectDir, format: "compose" });
 */
export async function exportDevnet(opts: ExportOptions): Promise<ExportResult> {
  if (opts.format !== "compose" && opts.format !== "k8s") {
    throw invalidArgument("--format", `expected compose or k8s, got "${opts.format}"`);
  }
  const format = opts.format as ExportFormat;
  const file = opts.output ? path.resolve(opts.cwd ?? process.cwd(), opts.output) : null;
  const topology = await buildTopology(
    opts.config,
    opts.projectDir,
    file ? path.dirname(file) : opts.projectDir,
  );
  const content = format === "compose" ? renderCompose(topology) : renderKubernetes(topology);
  if (file) {
    try {
      writeFileSync(file, content, { mode: 0o600 });
    } catch (error) {
      throw invalidArgument("--output", `cannot write ${file}: ${(error as Error).message}`);
    }
  }
  return { format, path: file, content };
}

export interface BootstrapResult {
  /** The contracts were there already (a restarted job): nothing was sent. */
  alreadyDone: boolean;
  avsGovernance: string;
  attestationCenters: string[];
  taskDefinitions: Array<{ taskDefinitionId: number; name: string }>;
}

/** `L2_RPC` in Othentic's forms: `url`, or `chainId@url,chainId@url`. */
function parseChainUrls(value: string): string[] {
  return value
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => part.replace(/^\d+@/, ""));
}

async function rpc(url: string, method: string, params: unknown[]): Promise<unknown> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    signal: AbortSignal.timeout(5_000),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(body.error.message);
  return body.result;
}

/**
 * The exported topology's one-shot job (hidden `devnet bootstrap`): what `devnet up` does to
 * fresh chains, driven by the Othentic environment names (`L1_RPC`, `L2_RPC`, and the expected
 * `AVS_GOVERNANCE_ADDRESS` / `ATTESTATION_CENTER_ADDRESS`). Idempotent: a rerun finds the
 * contracts and sends nothing.
 */
export async function bootstrapDevnet(opts: {
  env: NodeJS.ProcessEnv;
  attesters: number;
  progress?: (step: string) => void;
}): Promise<BootstrapResult> {
  const { env } = opts;
  if (!env.L1_RPC) throw invalidArgument("L1_RPC", "the L1 RPC URL is required");
  if (!env.L2_RPC) throw invalidArgument("L2_RPC", "the L2 RPC URL(s) are required");
  const l1RpcUrl = env.L1_RPC;
  const l2RpcUrls = parseChainUrls(env.L2_RPC);
  const expectedGovernance = env.AVS_GOVERNANCE_ADDRESS;
  const expectedCenters = env.ATTESTATION_CENTER_ADDRESS
    ? parseChainUrls(env.ATTESTATION_CENTER_ADDRESS)
    : [];
  if (expectedGovernance && (await rpc(l1RpcUrl, "eth_getCode", [expectedGovernance, "latest"])) !== "0x") {
    return {
      alreadyDone: true,
      avsGovernance: expectedGovernance,
      attestationCenters: expectedCenters,
      taskDefinitions: [],
    };
  }
  let taskDefinitions: AvsctlConfig["taskDefinitions"] = [];
  if (env.AVSCTL_TASK_DEFINITIONS) {
    try {
      taskDefinitions = JSON.parse(env.AVSCTL_TASK_DEFINITIONS);
    } catch {
      throw invalidArgument("AVSCTL_TASK_DEFINITIONS", "expected the config's taskDefinitions as JSON");
    }
  }
  const keys = await deriveDevnetKeys(opts.attesters, env.AVSCTL_DEVNET_MNEMONIC || undefined);
  const { deployAndRegister } = await import("./up.js");
  const done = await deployAndRegister({
    l1RpcUrl,
    l2RpcUrls,
    keys,
    taskDefinitions,
    progress: opts.progress,
  });
  const got = {
    avsGovernance: done.deployment.avsGovernance,
    attestationCenters: done.deployment.l2.map((d) => d.attestationCenter),
  };
  const same = (a: string | undefined, b: string) => !a || a.toLowerCase() === b.toLowerCase();
  if (
    !same(expectedGovernance, got.avsGovernance) ||
    expectedCenters.some((c, i) => !same(c, got.attestationCenters[i] ?? ""))
  ) {
    throw new AvsctlError(
      "DEVNET_START_FAILED",
      `the contracts were deployed at other addresses than the nodes expect (AvsGovernance ${got.avsGovernance}, ` +
        `AttestationCenter ${got.attestationCenters.join(", ")})`,
      { hint: "the chains were not fresh: remove their containers (or volumes) and start again" },
    );
  }
  return { alreadyDone: false, ...got, taskDefinitions: done.taskDefinitions };
}
