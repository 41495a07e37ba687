import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { AvsctlError, isAvsctlError } from "../errors.js";
import { untrustedCertificateLine } from "./ca-certs.js";
import { type DockerLauncher, type Launched, type Launcher, PORTS } from "./launcher.js";
import type { DevnetPlan, ServicePlan } from "./plan.js";
import { LABEL_PROJECT, sanitizeName } from "./runtime/labels.js";
import type { WaitStrategy } from "./runtime/types.js";
import { CONTAINER_CA_BUNDLE, type ServiceCa, writeServiceBundle } from "./service-ca.js";
import { type ServiceKind, serviceEnv } from "./service-env.js";

export interface ServiceEnv {
  /** As components inside the devnet see the others (container names in Docker). */
  internal: Record<string, string>;
  /** As a process on this machine sees them (127.0.0.1 ports). */
  host: Record<string, string>;
}

export type ProjectService = Extract<ServicePlan, { kind: "project" }>;

const health = (port: number): WaitStrategy[] => [{ kind: "http", port, path: "/health", timeoutMs: 90_000 }];

function isNodeService(dir: string): boolean {
  return existsSync(path.join(dir, "package.json"));
}

/** The command that starts a service on this machine: the config's, or the language's usual one. */
export function serviceCommand(kind: string, service: ProjectService): string {
  if (service.command) return service.command;
  if (isNodeService(service.dir)) return "npm start";
  throw new AvsctlError(
    "CONFIG_INVALID",
    `services.${kind}.command is needed to run ${service.dir} as a process`,
    {
      hint: 'set it in the avsctl config, e.g. "command": "python3 main.py"',
      details: { key: `services.${kind}.command` },
    },
  );
}

function portEnv(kind: ServiceKind, port: number): Record<string, string> {
  return serviceEnv(kind, { port });
}

/** The feed's price endpoint; `devnet env` finds the running feed and appends the same path. */
export const PRICE_PATH = "/price";

// One feed per devnet start, shared by both services (the plan object is per start).
const priceFeeds = new WeakMap<DevnetPlan, Promise<Launched>>();

/**
 * The devnet's deterministic price feed (`avsctl devnet service price-feed`), started with the
 * first project service that needs it. A project's services read PRICE_SOURCE_URL; without the
 * feed they would fall back to a public exchange, which a devnet must never depend on.
 */
function priceFeed(plan: DevnetPlan, launcher: Launcher, signal?: AbortSignal): Promise<Launched> {
  let feed = priceFeeds.get(plan);
  if (!feed) {
    feed = (async () => {
      const ports = await launcher.allocate({ http: PORTS.feed }, "price-feed");
      return launcher.launch(
        {
          name: "price-feed",
          what: {
            avsctl: [
              "devnet",
              "service",
              "price-feed",
              "--port",
              String(ports.http),
              "--host",
              launcher.bindHost,
            ],
          },
          ports,
          wait: (p) => [{ kind: "http", port: p.http!, path: "/health", timeoutMs: 60_000 }],
        },
        signal,
      );
    })();
    priceFeeds.set(plan, feed);
  }
  return feed;
}

/** Environment every project service gets on top of the devnet's (which wins when it sets the same). */
async function serviceDefaults(
  kind: ServiceKind,
  plan: DevnetPlan,
  launcher: Launcher,
  env: ServiceEnv,
  signal?: AbortSignal,
): Promise<ServiceEnv> {
  const feed =
    env.host.PRICE_SOURCE_URL && env.internal.PRICE_SOURCE_URL
      ? undefined
      : await priceFeed(plan, launcher, signal);
  const internal = serviceEnv(kind, {
    logFormat: "json",
    host: launcher.bindHost,
    priceSourceUrl: feed?.internalUrl("http", PRICE_PATH),
  });
  const host = serviceEnv(kind, {
    logFormat: "json",
    host: "127.0.0.1",
    priceSourceUrl: feed?.hostUrl("http", PRICE_PATH),
  });
  return { internal: { ...internal, ...env.internal }, host: { ...host, ...env.host } };
}

async function asProcess(
  kind: ServiceKind,
  service: ProjectService,
  plan: DevnetPlan,
  env: Record<string, string>,
  signal?: AbortSignal,
): Promise<{ host: string; internal: string }> {
  const { ProcessRuntime } = await import("./runtime/process.js");
  const { findFreePort } = await import("./runtime/ports.js");
  const runtime = new ProcessRuntime({ project: plan.project, projectDir: plan.projectDir });
  const port = plan.keptPorts ? (await plan.keptPorts.take(kind, 1))[0]! : await findFreePort();
  await runtime.start(
    {
      name: kind,
      command: "sh",
      args: ["-c", serviceCommand(kind, service)],
      cwd: service.dir,
      env: { ...env, ...portEnv(kind, port) },
      ports: [port],
      wait: health(port),
    },
    { signal },
  );
  const url = `http://127.0.0.1:${port}`;
  return { host: url, internal: url };
}

/** The images a Dockerfile builds on (`FROM x`, not an earlier stage or a `$ARG`). */
export function dockerfileBaseImages(dockerfile: string): string[] {
  const stages = new Set<string>();
  const images: string[] = [];
  for (const line of dockerfile.split("\n")) {
    const from = /^\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (!from) continue;
    const image = from[1]!;
    if (!image.includes("$") && !stages.has(image.toLowerCase()) && !images.includes(image))
      images.push(image);
    if (from[2]) stages.add(from[2].toLowerCase());
  }
  return images;
}

/** A service image that did not build: its last lines, and what to do about it. */
export class ServiceBuildFailed extends AvsctlError {
  constructor(
    message: string,
    /** The build's output, to its last line. */
    readonly buildLog: string[],
    /** What to do, without the build's lines (`devnet watch` shows those on their own). */
    readonly advice: string,
    details: Record<string, unknown>,
    cause: unknown,
  ) {
    super("DEVNET_START_FAILED", message, {
      hint: `${buildLog.length > 0 ? `last lines of its build:\n  ${buildLog.slice(-15).join("\n  ")}\n` : ""}${advice}`,
      details,
      cause,
    });
  }
}

/**
 * Builds a service's image from its Dockerfile as it is. The extra CA certificates go in as the
 * EXTRA_CA_CERTS build argument (the generated Dockerfiles trust them while installing). A
 * failure names the service, the Dockerfile and the step that failed, with its last output.
 */
export async function buildServiceImage(
  docker: DockerLauncher,
  kind: ServiceKind,
  service: ProjectService,
  plan: DevnetPlan,
  tag: string,
  signal?: AbortSignal,
): Promise<void> {
  const { buildImage } = await import("./runtime/images.js");
  const dockerfile = path.join(service.dir, service.dockerfile);
  let text = "";
  try {
    text = readFileSync(dockerfile, "utf8");
  } catch {
    // buildImage names the missing Dockerfile
  }
  const extra = plan.ca?.extra ?? [];
  try {
    await buildImage(docker.runtime.docker, {
      tag,
      dir: service.dir,
      dockerfile: service.dockerfile,
      buildArgs: extra.length > 0 ? { EXTRA_CA_CERTS: extra.join("\n") } : undefined,
      // a base image rebuilt or pulled anew rebuilds the service
      dependsOn: dockerfileBaseImages(text),
      kind: "service",
      // whose it is, once a newer build leaves it untagged (docker images --filter label=...)
      labels: { [LABEL_PROJECT]: sanitizeName(plan.project) },
      signal,
    });
  } catch (error) {
    signal?.throwIfAborted();
    if (isAvsctlError(error) && error.code !== "DEVNET_START_FAILED") throw error;
    const details = isAvsctlError(error) ? error.details : undefined;
    const step = (details?.step as string | null | undefined) ?? undefined;
    const log = (details?.buildLog as string[] | undefined) ?? [];
    const reason = (error as Error).message.replace(/^building image \S+ failed: /, "");
    const untrusted = untrustedCertificateLine([...log, reason]);
    const advice = untrusted
      ? untrustedHint(plan.ca, dockerfile, text)
      : "fix the Dockerfile, or run the project's services on this machine with --services-runtime process";
    throw new ServiceBuildFailed(
      `the ${kind} service's image could not be built from ${dockerfile}` +
        `${step ? `: step \`${step}\` failed` : ""}: ${reason}`,
      log,
      advice,
      {
        service: kind,
        dockerfile,
        step: step ?? null,
        image: tag,
        buildLog: log,
        ...(untrusted ? { untrustedCertificate: untrusted.trim(), caCerts: plan.ca?.file ?? null } : {}),
      },
      error,
    );
  }
}

/**
 * What to do when a build did not trust a TLS certificate: a proxy between the build and the
 * registry shows its own, signed by a CA the build must be given (or one the bundle given lacks).
 */
function untrustedHint(ca: ServiceCa | undefined, dockerfile: string, text: string): string {
  const what =
    "the build did not trust a TLS certificate (a TLS-intercepting proxy between it and the registry?)";
  if (!ca)
    return (
      `${what}: give the image builds the proxy's CA certificate with --ca-certs <file> ` +
      "(a PEM file; or devnet.caCerts, NODE_EXTRA_CA_CERTS, SSL_CERT_FILE)"
    );
  if (ca.extra.length === 0)
    return `${what}: ${ca.file} (${ca.source}) holds only CA certificates Node ships, so none went into the build; add the proxy's CA certificate to it`;
  const given = `the ${ca.extra.length} certificate(s) of ${ca.file} (${ca.source}) that Node does not ship`;
  if (!/\bARG\s+EXTRA_CA_CERTS\b/.test(text))
    return `${what}: ${given} went in as the EXTRA_CA_CERTS build argument, but ${dockerfile} does not take it; trust it there before installing, as the Dockerfiles \`avsctl init\` writes do`;
  return `${what}: ${given} went in as the EXTRA_CA_CERTS build argument, and none of them signed it; add the proxy's CA certificate to that file`;
}

const WORKFLOW_FILE = "workflow.json";
const CONTAINER_WORKFLOW = "/etc/avsctl/workflow.json";

/**
 * What a service container gets from the project besides its image: the CA bundle (Node's
 * roots plus the extra certificates) and, for a workflow project, its workflow.json, which the
 * services look for beside them or one folder up and a service's image does not hold.
 */
function projectFiles(
  service: ProjectService,
  plan: DevnetPlan,
  env: Record<string, string>,
): { binds: string[]; env: Record<string, string> } {
  const binds: string[] = [];
  const extraEnv: Record<string, string> = {};
  if (plan.ca) {
    const bundle = writeServiceBundle(plan.projectDir, plan.ca);
    binds.push(`${bundle}:${CONTAINER_CA_BUNDLE}:ro`);
    for (const name of ["NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"])
      extraEnv[name] = CONTAINER_CA_BUNDLE;
  }
  // The service's own copy first, as the services themselves look (the image holds neither).
  const workflow = [service.dir, plan.projectDir]
    .map((dir) => path.join(dir, WORKFLOW_FILE))
    .find((file) => existsSync(file));
  if (!env.WORKFLOW_FILE && workflow) {
    binds.push(`${workflow}:${CONTAINER_WORKFLOW}:ro`);
    extraEnv.WORKFLOW_FILE = CONTAINER_WORKFLOW;
  }
  return { binds, env: extraEnv };
}

// The images of one devnet start, by service, built before anything starts (the plan is per start).
const serviceImages = new WeakMap<DevnetPlan, Map<ServiceKind, Promise<string>>>();

export const imageTag = (plan: DevnetPlan, kind: ServiceKind) => `avsctl/${plan.project}-${kind}:dev`;

/** Whether the project's service runs as a container built from its Dockerfile. */
function inContainer(service: ServicePlan | null, plan: DevnetPlan, launcher: Launcher): boolean {
  return service?.kind === "project" && launcher.kind === "docker" && plan.servicesRuntime !== "process";
}

/**
 * Builds the images of the project's services that run in containers, side by side and before
 * anything starts, so a Dockerfile that fails leaves nothing to stop. Every build finishes
 * before the first failure is thrown.
 */
export async function buildProjectImages(
  plan: DevnetPlan,
  launcher: Launcher,
  progress: (step: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const kinds = (["validation", "execution"] as const).filter((kind) =>
    inContainer(plan.services[kind], plan, launcher),
  );
  if (kinds.length === 0) return;
  progress(`building the ${kinds.join(" and ")} service image${kinds.length > 1 ? "s" : ""}`);
  const builds = new Map<ServiceKind, Promise<string>>();
  for (const kind of kinds) {
    const service = plan.services[kind] as ProjectService;
    const tag = imageTag(plan, kind);
    builds.set(
      kind,
      buildServiceImage(launcher as DockerLauncher, kind, service, plan, tag, signal).then(() => tag),
    );
  }
  serviceImages.set(plan, builds);
  const results = await Promise.allSettled(builds.values());
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
}

/**
 * Starts one of the project's own services: a process in the process runtime; in Docker, a
 * container of the image built from its Dockerfile (a build that fails fails the start), or a
 * process on this machine that containers reach through the host when `--services-runtime
 * process` asks for it.
 */
export async function launchProjectService(
  kind: "validation" | "execution",
  service: ProjectService,
  plan: DevnetPlan,
  launcher: Launcher,
  env: ServiceEnv,
  signal?: AbortSignal,
): Promise<{ host: string; internal: string }> {
  env = await serviceDefaults(kind, plan, launcher, env, signal);
  if (launcher.kind === "process") return asProcess(kind, service, plan, env.host, signal);
  if (plan.servicesRuntime === "process") {
    const started = await asProcess(kind, service, plan, env.host, signal);
    return { host: started.host, internal: await launcher.reachHost(started.host) };
  }

  const docker = launcher as DockerLauncher;
  const tag = await (serviceImages.get(plan)?.get(kind) ??
    buildServiceImage(docker, kind, service, plan, imageTag(plan, kind), signal).then(() =>
      imageTag(plan, kind),
    ));
  const files = projectFiles(service, plan, env.internal);
  const started = await docker.runtime.start(
    {
      name: kind,
      image: tag,
      env: { ...env.internal, ...files.env, ...portEnv(kind, service.port) },
      ports: [service.port],
      ...(files.binds.length > 0 ? { binds: files.binds } : {}),
      wait: health(service.port),
      stopTimeoutSec: 3,
    },
    { signal },
  );
  return { host: started.url(service.port), internal: `http://${kind}:${service.port}` };
}
