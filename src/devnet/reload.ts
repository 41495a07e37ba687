/**
 * Reloading one of the project's services in a running devnet (`devnet watch`): a process is
 * started again from its run record, as `devnet restart` does; a container's image is rebuilt
 * from its Dockerfile, as `devnet up` builds it, and the container replaced under the same name
 * and host port. Nothing else of the devnet is touched.
 */
import type Docker from "dockerode";
import { DockerLauncher } from "./launcher.js";
import type { DevnetPlan } from "./plan.js";
import { buildServiceImage, imageTag, type ProjectService, ServiceBuildFailed } from "./project-services.js";
import type { DockerRuntime } from "./runtime/docker.js";
import { containerRemoved } from "./runtime/docker-records.js";
import { statusCode } from "./runtime/docker-util.js";
import { removeImageQuietly } from "./runtime/image-engine.js";
import { LABEL_PORTS, LABEL_PROJECT, LABEL_WAIT, sanitizeName } from "./runtime/labels.js";
import type { ProcessComponentSpec, WaitStrategy } from "./runtime/types.js";
import type { ServiceKind } from "./service-env.js";

export interface ReloadTarget {
  kind: ServiceKind;
  service: ProjectService;
  /** Where it runs now: a process on this machine, or a container of the Docker devnet. */
  runtime: "process" | "docker";
}

/** Why a reload failed, and whether the service still runs its previous version. */
export class ReloadFailure extends Error {
  /**
   * The last lines the new version printed before it died (its container is gone with them), or
   * of the build that failed, as `devnet up` shows them.
   */
  readonly logTail: string[];
  /** What to do, when there is more to say than "fix it" (a build that did not trust a TLS certificate). */
  readonly hint: string | undefined;
  constructor(
    message: string,
    readonly previousKept: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    const cause = options?.cause;
    if (cause instanceof ServiceBuildFailed) {
      this.logTail = cause.buildLog.slice(-15);
      this.hint = cause.details?.untrustedCertificate ? cause.advice : undefined;
      return;
    }
    const tail = (cause as { details?: { logTail?: unknown } } | undefined)?.details?.logTail;
    this.logTail = Array.isArray(tail) ? tail.map(String) : [];
    this.hint = undefined;
  }
}

/**
 * Rebuilds and restarts one service. A failure throws ReloadFailure: a process that does not
 * start again is down (its port is the one the devnet knows); a Docker build that fails leaves
 * the running container as it was, a container that does not start is down.
 */
export async function reloadService(target: ReloadTarget, plan: DevnetPlan, project: string): Promise<void> {
  if (target.runtime === "process") return reloadProcess(target.kind, plan, project);
  return reloadContainer(target, plan, project);
}

// The last way each service was started: a start that fails deletes its run record, and the
// next change must still be able to start it.
const lastSpecs = new Map<string, ProcessComponentSpec>();

async function reloadProcess(kind: ServiceKind, plan: DevnetPlan, project: string): Promise<void> {
  const { ProcessRuntime, specOf } = await import("./runtime/process.js");
  // The state's name: the runtime finds the process by the name the devnet was started under.
  const runtime = new ProcessRuntime({ project, projectDir: plan.projectDir });
  const key = `${plan.projectDir}\0${kind}`;
  const record = await runtime.record(kind);
  if (record) {
    // as `devnet restart` starts it again: the same command, env, port and waits
    lastSpecs.set(key, specOf(record));
  }
  const spec = lastSpecs.get(key);
  if (!spec) {
    throw new ReloadFailure(`the ${kind} service has no process in this devnet to restart`, false);
  }
  try {
    await runtime.start(spec);
  } catch (error) {
    throw new ReloadFailure(`${kind} did not start again: ${message(error)}`, false, { cause: error });
  }
}

// The last container each service ran as: a new one that does not start is removed, and the
// next change must still know how to start it (env, binds, port, waits).
const lastContainers = new Map<string, RunningContainer>();

async function reloadContainer(target: ReloadTarget, plan: DevnetPlan, project: string): Promise<void> {
  const { requireDocker } = await import("./docker-engine.js");
  const { DockerRuntime } = await import("./runtime/docker.js");
  const docker = await requireDocker(3000);
  const runtime = new DockerRuntime({ project, projectDir: plan.projectDir, docker });
  const { kind, service } = target;
  const key = `${plan.projectDir}\0${kind}`;
  const old = await currentContainer(runtime, docker, kind).catch((error: unknown) => {
    const last = lastContainers.get(key);
    if (!last) throw error;
    return last;
  });
  lastContainers.set(key, old);
  const tag = imageTag(plan, kind);
  try {
    await buildServiceImage(new DockerLauncher(runtime, ""), kind, service, plan, tag);
  } catch (error) {
    throw new ReloadFailure(`${message(error)}; the previous ${kind} container still runs`, true, {
      cause: error,
    });
  }
  const hostPort = old.ports[String(service.port)];
  try {
    // start() removes the old container first: the same name, so the others still reach it.
    await runtime.start({
      name: kind,
      image: tag,
      env: old.env,
      ports: [{ container: service.port, ...(hostPort ? { host: hostPort } : {}) }],
      ...(old.binds.length > 0 ? { binds: old.binds } : {}),
      wait: old.wait,
      stopTimeoutSec: 3,
    });
  } catch (error) {
    throw new ReloadFailure(`the new ${kind} container did not start: ${message(error)}`, false, {
      cause: error,
    });
  } finally {
    // The build could not remove the image it superseded while the old container used it. That
    // container is gone now whether its successor started or not (start() removes it first),
    // and nothing else would ever remove its image: each reload would leave one behind.
    if (old.image) await removeSuperseded(docker, old.image, plan.project);
  }
}

/**
 * Removes the image an old container ran once no tag names it, if it is this project's (labelled
 * as buildServiceImage labels it). Without force, the engine refuses while any container (of any
 * project) still uses it; an image a tag still names (the build changed nothing, or someone
 * tagged it) is not ours to delete, and deleting it by id would take that tag with it.
 */
async function removeSuperseded(docker: Docker, id: string, project: string): Promise<void> {
  const info = await docker
    .getImage(id)
    .inspect()
    .catch(() => undefined);
  if (!info || (info.RepoTags ?? []).some((t) => t !== "<none>:<none>")) return;
  if (info.Config?.Labels?.[LABEL_PROJECT] !== sanitizeName(project)) return;
  await removeImageQuietly(docker, info.Id);
}

interface RunningContainer {
  /** The id of the image it runs (unknown for a container removed since: its record names the tag). */
  image?: string;
  env: Record<string, string>;
  binds: string[];
  ports: Record<string, number>;
  wait: WaitStrategy[];
}

/**
 * What the running container was started with, so its replacement gets the same: the env
 * `devnet up` gave it (what its image sets is left to the new image), binds, host port, waits.
 */
async function currentContainer(
  runtime: DockerRuntime,
  docker: Docker,
  kind: ServiceKind,
): Promise<RunningContainer> {
  let info: Docker.ContainerInspectInfo;
  try {
    info = await docker.getContainer(runtime.containerName(kind)).inspect();
  } catch (error) {
    if (statusCode(error) !== 404) throw error;
    // removed since `up` (docker rm -f, a prune): started again as `up` recorded it
    const spec = runtime.recorded(kind);
    if (!spec)
      throw containerRemoved(kind, false, ", and this devnet recorded nothing to create it again from");
    const ports: Record<string, number> = {};
    for (const p of spec.ports ?? [])
      if (typeof p !== "number" && p.host) ports[String(p.container)] = p.host;
    return { env: spec.env ?? {}, binds: spec.binds ?? [], ports, wait: spec.wait ?? [] };
  }
  const imageEnv = new Set(
    await docker
      .getImage(info.Image)
      .inspect()
      .then((image) => image.Config?.Env ?? [])
      .catch(() => [] as string[]),
  );
  const env: Record<string, string> = {};
  for (const entry of info.Config?.Env ?? []) {
    if (imageEnv.has(entry)) continue;
    const at = entry.indexOf("=");
    if (at > 0) env[entry.slice(0, at)] = entry.slice(at + 1);
  }
  const labels = info.Config?.Labels ?? {};
  return {
    image: info.Image,
    env,
    binds: info.HostConfig?.Binds ?? [],
    ports: parseJson<Record<string, number>>(labels[LABEL_PORTS], {}),
    wait: parseJson<WaitStrategy[]>(labels[LABEL_WAIT], []),
  };
}

function parseJson<T>(text: string | undefined, fallback: T): T {
  if (!text) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
