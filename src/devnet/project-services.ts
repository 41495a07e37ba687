import { existsSync } from "node:fs";
import path from "node:path";
import { AvsctlError } from "../errors.js";
import { type DockerLauncher, type Launched, type Launcher, PORTS } from "./launcher.js";
import type { DevnetPlan, ServicePlan } from "./plan.js";
import type { WaitStrategy } from "./runtime/types.js";
import { type ServiceKind, serviceEnv } from "./service-env.js";

export interface ServiceEnv {
  /** As components inside the devnet see the others (container names in Docker). */
  internal: Record<string, string>;
  /** As a process on this machine sees them (127.0.0.1 ports). */
  host: Record<string, string>;
}

type ProjectService = Extract<ServicePlan, { kind: "project" }>;

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
      const ports = await launcher.allocate({ http: PORTS.feed });
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
    host: launcher.bindHost,
    priceSourceUrl: feed?.internalUrl("http", PRICE_PATH),
  });
  const host = serviceEnv(kind, { host: "127.0.0.1", priceSourceUrl: feed?.hostUrl("http", PRICE_PATH) });
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
  const port = await findFreePort();
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

/**
 * Starts one of the project's own services: a process in the process runtime; in Docker, an
 * image built from its Dockerfile, or, when that image cannot be built here (its base image
 * cannot be pulled, say), a process on this machine that containers reach through the host.
 */
export async function launchProjectService(
  kind: "validation" | "execution",
  service: ProjectService,
  plan: DevnetPlan,
  launcher: Launcher,
  env: ServiceEnv,
  warn: (message: string) => void,
  signal?: AbortSignal,
): Promise<{ host: string; internal: string }> {
  env = await serviceDefaults(kind, plan, launcher, env, signal);
  if (launcher.kind === "process") return asProcess(kind, service, plan, env.host, signal);

  const docker = launcher as DockerLauncher;
  const { buildImage } = await import("./runtime/images.js");
  const tag = `avsctl/${plan.project}-${kind}:dev`;
  try {
    // Node services build on the devnet's own base image; others keep their Dockerfile's default.
    const baseImage = isNodeService(service.dir) ? await docker.baseImage() : undefined;
    await buildImage(docker.runtime.docker, {
      tag,
      dir: service.dir,
      dockerfile: service.dockerfile,
      buildArgs: baseImage ? { BASE_IMAGE: baseImage } : undefined,
      kind: "service",
      signal,
    });
  } catch (error) {
    warn(
      `the ${kind} service image could not be built here (${(error as Error).message.split("\n")[0]}); ` +
        "running it as a process on this machine instead",
    );
    const started = await asProcess(kind, service, plan, env.host, signal);
    return { host: started.host, internal: await launcher.reachHost(started.host) };
  }
  const started = await docker.runtime.start(
    {
      name: kind,
      image: tag,
      env: { ...env.internal, ...portEnv(kind, service.port) },
      ports: [service.port],
      wait: health(service.port),
      stopTimeoutSec: 3,
    },
    { signal },
  );
  return { host: started.url(service.port), internal: `http://${kind}:${service.port}` };
}
