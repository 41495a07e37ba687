import { createHash } from "node:crypto";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import path from "node:path";
import { rootCertificates } from "node:tls";
import { type AvsctlConfig, defaultConfig, type ServiceConfig } from "../config/schema.js";
import { invalidArgument } from "../errors.js";
import { certificatesHash, extraCertificates } from "./ca-certs.js";
import type { KeptPorts } from "./runtime/ports.js";
import type { RuntimeRequest } from "./runtime/select.js";
import type { ServiceCa } from "./service-ca.js";
import { type DevnetState, stateDir } from "./state.js";

/** How the devnet gets a service: the user's own URL, avsctl's sample, or the project's code. */
export type ServicePlan =
  | { kind: "external"; url: string }
  | { kind: "sample" }
  | { kind: "project"; dir: string; port: number; command?: string; dockerfile: string };

export interface DevnetPlan {
  project: string;
  projectDir: string;
  runtime: RuntimeRequest;
  attesters: number;
  l1ChainId: number;
  l2ChainIds: number[];
  blockTime: number;
  mnemonic?: string;
  baseImage?: string;
  services: { validation: ServicePlan | null; execution: ServicePlan | null };
  /** Where the project's services run, when asked (`--services-runtime`); else the devnet's runtime. */
  servicesRuntime?: "docker" | "process";
  /** The certificates service images and containers trust besides Node's (read by `up`). */
  ca?: ServiceCa;
  /** The project's own task definitions (config), created after definition 1 if missing. */
  taskDefinitionNames: string[];
  /**
   * Whether the task engine runs, with its "workflows" task definition after the config's and
   * the attesters' route to it. Off, the definitions are the config's alone, so the ids the
   * project's docs give (the first `task-def create` gets the next) hold.
   */
  engine: boolean;
  /** The aggregator's `--max-pending-tasks` (devnet.maxPendingTasks); undefined: the node's default. */
  maxPendingTasks?: number;
  /**
   * The devnet keys a flag or the config file gave (`attesters`, `l2Chains`, ...); the others
   * are defaults, which a running or saved devnet's own shape stands over.
   */
  given: ReadonlySet<string>;
  /** The ports of a process devnet `up` starts again, each component's to take again where free. */
  keptPorts?: KeptPorts;
}

/**
 * What `up` was asked for on top of the config, already parsed and checked where the flags are
 * declared (src/cli/commands/devnet.ts): a value left out takes the config's.
 */
export interface UpFlags {
  runtime?: RuntimeRequest;
  attesters?: number;
  l2Chains?: number;
  blockTime?: number;
  services?: boolean;
  fresh?: boolean;
  /** An http(s) URL without a trailing slash. */
  validationUrl?: string;
  executionUrl?: string;
  /** `--services-runtime`: where the project's own services run. */
  servicesRuntime?: "docker" | "process";
  /** `--ca-certs`, an absolute path. */
  caCerts?: string;
  /** `--engine` / `--no-engine`. */
  engine?: boolean;
}

/** A project `avsctl init --template workflow` made: its workflow.json at the root. */
export function isWorkflowProject(projectDir: string): boolean {
  return existsSync(path.join(projectDir, "workflow.json"));
}

/** Whether `up` starts the task engine: the flag, else devnet.engine, else on in a workflow project. */
export function engineWanted(
  config: AvsctlConfig,
  projectDir: string,
  flags: Pick<UpFlags, "engine">,
): boolean {
  return flags.engine ?? config.devnet.engine ?? isWorkflowProject(projectDir);
}

/** A Docker- and process-safe project name from the config, else the directory name. */
export function projectName(config: AvsctlConfig, projectDir: string): string {
  const raw = config.name ?? path.basename(projectDir);
  const clean = raw
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/, "");
  return clean || "avs";
}

/**
 * The absolute path with symlinks resolved, also before the directory exists (its nearest
 * existing ancestor is resolved), so the name derived from it does not change once it is created.
 */
function canonicalPath(dir: string): string {
  const absolute = path.resolve(dir);
  let existing = absolute;
  while (!existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  try {
    return path.join(realpathSync(existing), path.relative(existing, absolute));
  } catch {
    return absolute;
  }
}

/** Six hex digits of the project root's absolute path. */
export function rootHash(projectDir: string): string {
  return createHash("sha256").update(canonicalPath(projectDir)).digest("hex").slice(0, 6);
}

/**
 * The devnet's name: the project's name plus a hash of its root. Every container, network,
 * volume, image and process label of the devnet carries it, so two projects of the same name in
 * two directories, or the quickstarts of two checkouts, run side by side on one Docker engine.
 */
export function devnetName(config: AvsctlConfig, projectDir: string): string {
  return `${projectName(config, projectDir)}-${rootHash(projectDir)}`;
}

/** Where a checkout's quickstart keeps its devnet, and the embedded project it runs. */
export function quickstartProject(root: string): { projectDir: string; config: AvsctlConfig } {
  const config = defaultConfig();
  config.name = "quickstart";
  return { projectDir: path.join(path.resolve(root), ".avsctl", "quickstart"), config };
}

function servicePlan(
  kind: "execution" | "validation",
  configured: ServiceConfig | undefined,
  projectDir: string,
  defaultPort: number,
): ServicePlan {
  if (configured?.url) return { kind: "external", url: configured.url };
  if (configured?.dir) {
    const dir = path.resolve(projectDir, configured.dir);
    if (!existsSync(dir)) {
      throw invalidArgument(`services.${kind}.dir`, `${dir} does not exist`);
    }
    return {
      kind: "project",
      dir,
      port: configured.port ?? defaultPort,
      command: configured.command,
      dockerfile: configured.dockerfile ?? "Dockerfile",
    };
  }
  return { kind: "sample" };
}

/** The topology from config and the parsed flags, before anything starts (exit 2 on a bad config). */
export function planDevnet(
  config: AvsctlConfig,
  projectDir: string,
  flags: UpFlags,
  configured: ReadonlySet<string> = new Set(),
): DevnetPlan {
  const byFlag: Record<string, unknown> = {
    runtime: flags.runtime,
    attesters: flags.attesters,
    l2Chains: flags.l2Chains,
    blockTime: flags.blockTime,
  };
  const given = new Set(
    [...Object.keys(byFlag).filter((k) => byFlag[k] !== undefined), ...configured].map((k) =>
      k.replace(/^devnet\./, ""),
    ),
  );
  const runtime = flags.runtime ?? config.devnet.runtime;
  const attesters = flags.attesters ?? config.devnet.attesters;
  const l2Chains = flags.l2Chains ?? config.devnet.l2Chains;
  const blockTime = flags.blockTime ?? config.devnet.blockTime;
  const { validationUrl, executionUrl } = flags;
  const withServices = flags.services !== false && config.devnet.services;
  const servicesRuntime = flags.servicesRuntime ?? config.devnet.servicesRuntime;
  if (servicesRuntime === "docker" && runtime === "process") {
    throw invalidArgument(
      flags.servicesRuntime ? "--services-runtime" : "devnet.servicesRuntime",
      "services run in Docker only in a Docker devnet",
      "pass --runtime docker, or leave --services-runtime out",
    );
  }
  const l2ChainIds = Array.from({ length: l2Chains }, (_, i) => config.devnet.l2ChainId + i);
  if (l2ChainIds.includes(config.devnet.l1ChainId)) {
    throw invalidArgument("devnet.l1ChainId", "the L1 and L2 chain ids must differ");
  }
  const validation: ServicePlan | null = validationUrl
    ? { kind: "external", url: validationUrl }
    : withServices
      ? servicePlan("validation", config.services.validation, projectDir, 4002)
      : null;
  const execution: ServicePlan | null = executionUrl
    ? { kind: "external", url: executionUrl }
    : withServices
      ? servicePlan("execution", config.services.execution, projectDir, 4003)
      : null;
  return {
    project: devnetName(config, projectDir),
    projectDir,
    runtime,
    attesters,
    l1ChainId: config.devnet.l1ChainId,
    l2ChainIds,
    blockTime,
    mnemonic: config.devnet.mnemonic,
    baseImage: config.devnet.baseImage,
    services: { validation, execution },
    ...(servicesRuntime ? { servicesRuntime } : {}),
    taskDefinitionNames: config.taskDefinitions.map((d) => d.name),
    engine: engineWanted(config, projectDir, flags),
    given,
    ...(config.devnet.maxPendingTasks === undefined
      ? {}
      : { maxPendingTasks: config.devnet.maxPendingTasks }),
  };
}

/** How a devnet gets a service, in a word: none, sample, project, or the external URL. */
export function serviceSummary(service: ServicePlan | null): string {
  if (!service) return "none";
  return service.kind === "external" ? service.url : service.kind;
}

/** One setting where `up`'s request differs from the running devnet. */
export interface PlanDifference {
  /** The flag that asked for it, or the config key (`devnet.attesters (config)`). */
  flag: string;
  running: string;
  asked: string;
}

/**
 * A CA bundle asked for (flag, config or environment) whose certificates are not those the
 * running devnet's service images were built with, when one of them is built from the project's
 * Dockerfile and still would be. The running devnet's are what its state records, else (an older
 * avsctl) the bundle its containers mount.
 */
function caDifference(
  plan: DevnetPlan,
  recorded: RecordedPlan,
  builtInDocker: (kind: "execution" | "validation") => boolean,
): PlanDifference | undefined {
  if (!plan.ca || plan.servicesRuntime === "process" || !SERVICE_KINDS.some(builtInDocker)) return undefined;
  const asked = certificatesHash(plan.ca.extra);
  let running = recorded.caCerts;
  if (!running) {
    const mounted = path.join(stateDir(plan.projectDir), "ca-certificates.pem");
    if (existsSync(mounted)) {
      const extra = extraCertificates(readFileSync(mounted, "utf8"), rootCertificates);
      running = { file: mounted, source: "mounted", sha256: certificatesHash(extra) };
    }
  }
  if (running?.sha256 === asked) return undefined;
  return {
    flag:
      plan.ca.source === "--ca-certs"
        ? "--ca-certs"
        : `${plan.ca.source} (${plan.ca.source === "devnet.caCerts" ? "config" : "environment"})`,
    running: running ? `${running.file} (certificates sha256 ${running.sha256})` : "no CA bundle",
    asked: `${plan.ca.file} (certificates sha256 ${asked})`,
  };
}

/** What the running devnet recorded of the plan it was started with (state `internal.plan`). */
export interface RecordedPlan {
  attesters?: number;
  l2Chains?: number;
  blockTime?: number;
  /** The `--operator-keys` directory the attesters' keys came from, absolute. */
  operatorKeys?: string;
  /** The CA bundle the project's service images were built with (extra certificates' hash). */
  caCerts?: { file: string; source: string; sha256: string };
  services?: { validation?: string; execution?: string };
}

export const SERVICE_KINDS = ["execution", "validation"] as const;

/**
 * How a devnet was started, as `up` compares a request with it: its state, or what a start that
 * did not finish kept of how it was asked to start (up/repair.ts), which has no URLs or
 * contracts yet. `internal.plan` is a RecordedPlan.
 */
export interface StartedAs {
  runtime: DevnetState["runtime"];
  l1: { chainId: number };
  l2: ReadonlyArray<{ chainId: number }>;
  attesters: ReadonlyArray<{ address: string }>;
  services: DevnetState["services"];
  serviceRuntimes?: DevnetState["serviceRuntimes"];
  engine?: unknown;
  internal?: Record<string, unknown>;
}

/**
 * Where a request to `up` differs from the healthy devnet already running, which `up` leaves as
 * it is: the runtime (when one was asked for), the attesters, L2 chains, block time, chain ids
 * and services. A setting the running state does not record is not compared.
 */
export function planDifferences(plan: DevnetPlan, running: StartedAs, flags: UpFlags): PlanDifference[] {
  const recorded = (running.internal?.plan ?? {}) as RecordedPlan;
  const from = (flag: string, byFlag: unknown, key: string) =>
    byFlag !== undefined
      ? flag
      : `${key} (${plan.given.has(key.replace(/^devnet\./, "")) ? "config" : "default"})`;
  const out: PlanDifference[] = [];
  const add = (flag: string, was: unknown, asked: unknown) =>
    out.push({ flag, running: String(was), asked: String(asked) });

  if (plan.runtime !== "auto" && plan.runtime !== running.runtime)
    add(from("--runtime", flags.runtime, "devnet.runtime"), running.runtime, plan.runtime);
  // Left to their defaults, the running devnet's own attesters and L2s stand.
  if (plan.attesters !== running.attesters.length && plan.given.has("attesters"))
    add(from("--attesters", flags.attesters, "devnet.attesters"), running.attesters.length, plan.attesters);
  if (plan.l2ChainIds.length !== running.l2.length && plan.given.has("l2Chains"))
    add(from("--l2-chains", flags.l2Chains, "devnet.l2Chains"), running.l2.length, plan.l2ChainIds.length);
  if (recorded.blockTime !== undefined && plan.blockTime !== recorded.blockTime)
    add(from("--block-time", flags.blockTime, "devnet.blockTime"), recorded.blockTime, plan.blockTime);
  if (plan.l1ChainId !== running.l1.chainId)
    add("devnet.l1ChainId (config)", running.l1.chainId, plan.l1ChainId);
  if (running.l2[0] && plan.l2ChainIds[0] !== running.l2[0].chainId)
    add("devnet.l2ChainId (config)", running.l2[0].chainId, plan.l2ChainIds[0]);

  if (plan.engine !== (running.engine !== undefined))
    add(
      from(plan.engine ? "--engine" : "--no-engine", flags.engine, "devnet.engine"),
      running.engine ? "task engine" : "no task engine",
      plan.engine ? "task engine" : "no task engine",
    );

  // Services. A state that recorded no summary only tells "none" from "some" ("running").
  const was = (kind: "execution" | "validation") =>
    recorded.services?.[kind] ?? (running.services[kind] === null ? "none" : "running");
  const asked = (kind: "execution" | "validation") => serviceSummary(plan.services[kind]);
  const isUrl = (s: string) => !["none", "sample", "project", "running"].includes(s);
  const describe = (summary: string, url: string | null) =>
    summary === "none"
      ? "none"
      : summary === "sample"
        ? `avsctl's sample${url ? ` at ${url}` : ""}`
        : summary === "project"
          ? `the project's own${url ? ` at ${url}` : ""}`
          : summary === "running"
            ? `running at ${url}`
            : `yours at ${summary}`;
  const onOff: Array<"execution" | "validation"> = [];
  for (const kind of SERVICE_KINDS) {
    const before = was(kind);
    const now = asked(kind);
    if (before === now) continue;
    // recorded by an older avsctl: "running" matches any service but "none" and another URL
    if (before === "running" && now !== "none" && (!isUrl(now) || running.services[kind] === now)) continue;
    if (isUrl(now) || isUrl(before))
      add(`--${kind}-url`, describe(before, running.services[kind]), describe(now, null));
    else if (now === "none" || before === "none") onOff.push(kind);
    else add(`services.${kind} (config)`, describe(before, running.services[kind]), describe(now, null));
  }
  // Where the project's services run, when asked and both the running and the asked are the project's.
  const where = (kind: "execution" | "validation") => running.serviceRuntimes?.[kind];
  const moved = SERVICE_KINDS.filter(
    (kind) =>
      plan.servicesRuntime !== undefined &&
      was(kind) === "project" &&
      asked(kind) === "project" &&
      where(kind) !== undefined &&
      where(kind) !== plan.servicesRuntime,
  );
  if (moved.length > 0)
    add(
      from("--services-runtime", flags.servicesRuntime, "devnet.servicesRuntime"),
      moved.map((kind) => `${kind} ${where(kind)}`).join(", "),
      moved.map((kind) => `${kind} ${plan.servicesRuntime}`).join(", "),
    );
  const ca = caDifference(
    plan,
    recorded,
    (kind) => was(kind) === "project" && asked(kind) === "project" && where(kind) === "docker",
  );
  if (ca) out.push(ca);
  if (onOff.length > 0) {
    const services = (pick: (kind: "execution" | "validation") => string, urls: boolean) =>
      onOff.every((k) => pick(k) === "none")
        ? `no ${onOff.join(" or ")} service`
        : onOff.map((k) => `${k} ${describe(pick(k), urls ? running.services[k] : null)}`).join(", ");
    const askedNone = onOff.every((k) => asked(k) === "none");
    add(
      askedNone && flags.services !== false ? "devnet.services (config)" : "--no-services",
      services(was, true),
      services(asked, false),
    );
  }
  return out;
}
