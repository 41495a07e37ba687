/**
 * The Docker runtime: one user-defined bridge network per project, one labelled container per
 * component (`avsctl-<project>-<component>`), ports published on 127.0.0.1 at free host ports
 * chosen up front (so a restart keeps them), and a wait strategy per component. Modelled on
 * testcontainers-node: on a failed start what was created is removed before the error is
 * rethrown, and stopping or removing something already gone is success.
 */
import createDebug from "debug";
import type Docker from "dockerode";
import { AvsctlError } from "../../errors.js";
import { dockerClient } from "../docker-engine.js";
import {
  FORWARDER_SCRIPT,
  forwarderComponent,
  HOST_ALIAS,
  type HostAccessMode,
  isLoopbackHost,
} from "./host-access.js";
import {
  containerName,
  LABEL_COMPONENT,
  LABEL_PORTS,
  LABEL_PROJECT,
  LABEL_WAIT,
  labelFilter,
  networkName,
  projectLabels,
  sanitizeName,
  volumeName,
} from "./labels.js";
import { demuxDockerBuffer, demuxDockerStream, splitLines } from "./lines.js";
import { findFreePort, LOCALHOST, releasePort, reservePort } from "./ports.js";
import type {
  ComponentHealth,
  ComponentInfo,
  ComponentState,
  DevnetRuntime,
  DockerComponentSpec,
  HealthOptions,
  LogOptions,
  RemovedResources,
  StartedComponent,
  StartOptions,
  WaitStrategy,
} from "./types.js";
import { checkStrategies, probe, type WaitTarget, waitForReady } from "./wait.js";

const debug = createDebug("avsctl:devnet:runtime:docker");

const DEFAULT_STOP_TIMEOUT_SEC = 5;
const START_ATTEMPTS = 3;

export interface DockerRuntimeOptions {
  project: string;
  /** Absolute project directory, recorded as a label. */
  projectDir?: string;
  docker?: Docker;
  /** Address host ports are published on (default 127.0.0.1; docs/cli.md: all host endpoints bind it). */
  publishHost?: string;
  /** Address wait strategies and health probes connect to (default: `publishHost`). */
  probeHost?: string;
  /** Default timeout for strategies that set none (60 s). */
  defaultWaitTimeoutMs?: number;
  /**
   * Image with `node` for helper containers (the host-port forwarders). Required only for
   * `exposeHostPort` in forwarder mode; typically `resolveBaseImage(docker).image`.
   */
  helperImage?: string;
  /** Force how containers reach host loopback services (default: detected). */
  hostAccess?: HostAccessMode;
}

export interface ProjectNetwork {
  id: string;
  name: string;
  /** The bridge's gateway address on the host, e.g. 172.18.0.1. */
  gateway: string;
  subnet: string;
}

export interface ProjectResources {
  containers: Array<{ id: string; name: string; project: string; component: string; state: ComponentState }>;
  networks: Array<{ id: string; name: string; project: string }>;
  volumes: Array<{ name: string; project: string }>;
}

function statusCode(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}

function engineMessage(error: unknown): string {
  const json = (error as { json?: { message?: string } }).json;
  return json?.message ?? (error as Error).message ?? String(error);
}

function toState(value: string | undefined): ComponentState {
  switch (value) {
    case "running":
    case "created":
    case "restarting":
    case "paused":
    case "exited":
    case "dead":
      return value;
    case "removing":
      return "dead";
    default:
      return "exited";
  }
}

function parseJsonLabel<T>(value: string | undefined, fallback: T): T {
  if (value === undefined) return fallback;
  try {
    return JSON.parse(value) as T;
  } catch {
    return fallback;
  }
}

/** Engine time as Docker's `since` parameter (seconds with fraction), rounded down to the ms. */
function sinceParam(isoTime: string | undefined): string | undefined {
  const ms = isoTime ? Date.parse(isoTime) : Number.NaN;
  if (!Number.isFinite(ms) || ms <= 0) return undefined;
  return (Math.floor(ms) / 1000).toFixed(3);
}

/**
 * A Docker runtime for one project.
 *
 * @example
 * const runtime = new DockerRuntime({ project: "my-avs", projectDir });
 * const chain = await runtime.start({ name: "l1", image: "avsctl/chain:dev", ports: [8545],
 *   wait: [{ kind: "json-rpc", port: 8545 }] });
 * chain.url(8545); // http://127.0.0.1:49152
 */
export class DockerRuntime implements DevnetRuntime<DockerComponentSpec> {
  readonly kind = "docker" as const;
  readonly project: string;
  readonly docker: Docker;
  readonly projectDir: string | undefined;
  readonly publishHost: string;
  readonly probeHost: string;
  private readonly defaultWaitTimeoutMs: number | undefined;
  private helperImage: string | undefined;
  private hostAccess: HostAccessMode | undefined;
  private network: Promise<ProjectNetwork> | undefined;

  constructor(options: DockerRuntimeOptions) {
    this.project = sanitizeName(options.project);
    this.projectDir = options.projectDir;
    this.docker = options.docker ?? dockerClient();
    this.publishHost = options.publishHost ?? LOCALHOST;
    this.probeHost = options.probeHost ?? this.publishHost;
    this.defaultWaitTimeoutMs = options.defaultWaitTimeoutMs;
    this.helperImage = options.helperImage;
    this.hostAccess = options.hostAccess;
  }

  /** `avsctl-<project>-<component>`. */
  containerName(component: string): string {
    return containerName(this.project, component);
  }

  /** Create the project's bridge network, or return the existing one (idempotent, memoised). */
  ensureNetwork(): Promise<ProjectNetwork> {
    this.network ??= this.createOrFindNetwork().catch((error) => {
      this.network = undefined;
      throw error;
    });
    return this.network;
  }

  private async createOrFindNetwork(): Promise<ProjectNetwork> {
    const name = networkName(this.project);
    const existing = await this.inspectNetwork(name);
    if (existing) return existing;
    try {
      await this.docker.createNetwork({
        Name: name,
        Driver: "bridge",
        CheckDuplicate: true,
        Labels: projectLabels(this.project, this.projectDir),
      });
      debug("created network %s", name);
    } catch (error) {
      // Another avsctl run created it meanwhile: fine, use it.
      if (statusCode(error) !== 409) {
        throw new AvsctlError(
          "DEVNET_START_FAILED",
          `cannot create network ${name}: ${engineMessage(error)}`,
          {
            hint: "Too many Docker networks can exhaust the address pools; `docker network prune` frees them.",
            cause: error,
          },
        );
      }
    }
    const created = await this.inspectNetwork(name);
    if (!created)
      throw new AvsctlError("DEVNET_START_FAILED", `network ${name} vanished right after it was created`);
    return created;
  }

  private async inspectNetwork(name: string): Promise<ProjectNetwork | null> {
    let info: Docker.NetworkInspectInfo;
    try {
      info = await this.docker.getNetwork(name).inspect();
    } catch (error) {
      if (statusCode(error) === 404) return null;
      throw error;
    }
    if (info.Labels?.[LABEL_PROJECT] !== this.project) {
      throw new AvsctlError(
        "DEVNET_START_FAILED",
        `network ${name} exists but was not created by avsctl for ${this.project}`,
        {
          hint: `Remove it (\`docker network rm ${name}\`) or rename the project.`,
        },
      );
    }
    const ipam = info.IPAM?.Config?.[0];
    return { id: info.Id, name, gateway: ipam?.Gateway ?? "", subnet: ipam?.Subnet ?? "" };
  }

  private async ensureVolume(name: string): Promise<string> {
    const fullName = volumeName(this.project, name);
    // Creating an existing volume returns it unchanged, so this is idempotent.
    await this.docker.createVolume({ Name: fullName, Labels: projectLabels(this.project, this.projectDir) });
    return fullName;
  }

  private async detectHostAccess(): Promise<HostAccessMode> {
    if (this.hostAccess) return this.hostAccess;
    const dockerHost = process.env.DOCKER_HOST ?? "";
    let mode: HostAccessMode = "forwarder";
    if (dockerHost !== "" && !dockerHost.startsWith("unix://")) mode = "direct";
    else {
      const info = (await this.docker.info()) as { OperatingSystem?: string };
      if (/docker desktop/i.test(info.OperatingSystem ?? "")) mode = "direct";
    }
    this.hostAccess = mode;
    debug("host access mode: %s", mode);
    return mode;
  }

  /** The `ExtraHosts` entry that makes `host.docker.internal` reach the host from containers. */
  private async hostAliasEntry(network: ProjectNetwork): Promise<string> {
    const mode = await this.detectHostAccess();
    return mode === "forwarder" && network.gateway !== ""
      ? `${HOST_ALIAS}:${network.gateway}`
      : `${HOST_ALIAS}:host-gateway`;
  }

  private async containerInspect(component: string): Promise<Docker.ContainerInspectInfo | null> {
    try {
      return await this.docker.getContainer(this.containerName(component)).inspect();
    } catch (error) {
      if (statusCode(error) === 404) return null;
      throw error;
    }
  }

  private infoFromInspect(component: string, info: Docker.ContainerInspectInfo | null): ComponentInfo {
    if (!info) return { component, runtime: "docker", id: "", ports: {}, state: "missing", running: false };
    const state = toState(info.State?.Status);
    const result: ComponentInfo = {
      component,
      runtime: "docker",
      id: info.Id,
      ports: parseJsonLabel<Record<string, number>>(info.Config?.Labels?.[LABEL_PORTS], {}),
      state,
      running: info.State?.Running === true,
    };
    if (info.State?.StartedAt && !info.State.StartedAt.startsWith("0001"))
      result.startedAt = info.State.StartedAt;
    if (!result.running && info.State?.ExitCode !== undefined) result.exitCode = info.State.ExitCode;
    return result;
  }

  private started(info: ComponentInfo): StartedComponent {
    const hostPort = (port: number): number => {
      const mapped = info.ports[String(port)];
      if (mapped === undefined) {
        throw new AvsctlError("INVALID_ARGUMENT", `port ${port} of ${info.component} is not published`, {
          details: { component: info.component, port },
        });
      }
      return mapped;
    };
    return {
      ...info,
      hostPort,
      url: (port: number, path = "") => `http://${this.probeHost}:${hostPort(port)}${path}`,
      remove: () => this.remove(info.component),
      [Symbol.asyncDispose]: () => this.remove(info.component),
    };
  }

  private waitTarget(
    component: string,
    ports: Record<string, number>,
    since: string | undefined,
  ): WaitTarget {
    const container = this.docker.getContainer(this.containerName(component));
    return {
      component,
      host: this.probeHost,
      hostPort: (port) => {
        const mapped = ports[String(port)];
        if (mapped === undefined) {
          throw new AvsctlError(
            "INVALID_ARGUMENT",
            `wait strategy of ${component} uses port ${port}, which is not published`,
          );
        }
        return mapped;
      },
      logLines: (signal) => this.followLines(container, { since, signal }),
      exitReason: async () => {
        const info = await container.inspect().catch(() => null);
        if (!info) return "container is gone";
        if (info.State.Running) return null;
        return `exit code ${info.State.ExitCode}${info.State.OOMKilled ? ", out of memory" : ""}${info.State.Error ? `, ${info.State.Error}` : ""}`;
      },
      logTail: async (lines) => this.tailLines(container, lines),
    };
  }

  private async tailLines(container: Docker.Container, lines: number): Promise<string[]> {
    const buffer = (await container.logs({
      stdout: true,
      stderr: true,
      follow: false,
      tail: lines,
    })) as unknown as Buffer;
    return demuxDockerBuffer(Buffer.isBuffer(buffer) ? buffer : Buffer.from(String(buffer)));
  }

  private async *followLines(
    container: Docker.Container,
    options: { since?: string; tail?: number; signal?: AbortSignal },
  ): AsyncGenerator<string> {
    const query: Record<string, unknown> = {
      stdout: true,
      stderr: true,
      follow: true,
      abortSignal: options.signal,
    };
    if (options.since !== undefined) query.since = options.since;
    if (options.tail !== undefined) query.tail = options.tail;
    let stream: NodeJS.ReadableStream;
    try {
      stream = (await container.logs(query as { follow: true })) as NodeJS.ReadableStream;
    } catch (error) {
      if (options.signal?.aborted) return;
      if (statusCode(error) === 404) return;
      throw error;
    }
    const onAbort = () => (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      yield* splitLines(demuxDockerStream(stream as AsyncIterable<Buffer>));
    } catch (error) {
      if (!options.signal?.aborted) throw error;
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
      onAbort();
    }
  }

  private async choosePorts(
    spec: DockerComponentSpec,
  ): Promise<{ ports: Record<string, number>; auto: Set<number>; all: number[] }> {
    const ports: Record<string, number> = {};
    const auto = new Set<number>();
    const all: number[] = [];
    try {
      for (const entry of spec.ports ?? []) {
        const containerPort = typeof entry === "number" ? entry : entry.container;
        const wanted = typeof entry === "number" ? 0 : (entry.host ?? 0);
        const hostPort =
          wanted === 0 ? await findFreePort(this.publishHost) : await reservePort(wanted, this.publishHost);
        if (wanted === 0) auto.add(hostPort);
        ports[String(containerPort)] = hostPort;
        all.push(hostPort);
      }
    } catch (error) {
      for (const port of all) releasePort(port);
      throw error;
    }
    return { ports, auto, all };
  }

  private async createContainer(
    spec: DockerComponentSpec,
    ports: Record<string, number>,
    network: ProjectNetwork,
  ): Promise<Docker.Container> {
    const exposed: Record<string, object> = {};
    const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
    for (const [containerPort, hostPort] of Object.entries(ports)) {
      exposed[`${containerPort}/tcp`] = {};
      bindings[`${containerPort}/tcp`] = [{ HostIp: this.publishHost, HostPort: String(hostPort) }];
    }
    const binds = [...(spec.binds ?? [])];
    for (const volume of spec.volumes ?? []) {
      binds.push(`${await this.ensureVolume(volume.name)}:${volume.target}${volume.readOnly ? ":ro" : ""}`);
    }
    const labels = {
      ...spec.labels,
      ...projectLabels(this.project, this.projectDir),
      [LABEL_COMPONENT]: spec.name,
      [LABEL_WAIT]: JSON.stringify(spec.wait ?? []),
      [LABEL_PORTS]: JSON.stringify(ports),
    };
    const options: Docker.ContainerCreateOptions = {
      name: this.containerName(spec.name),
      Image: spec.image,
      Env: Object.entries(spec.env ?? {}).map(([key, value]) => `${key}=${value}`),
      Labels: labels,
      ExposedPorts: exposed,
      StopTimeout: spec.stopTimeoutSec ?? DEFAULT_STOP_TIMEOUT_SEC,
      HostConfig: {
        NetworkMode: network.name,
        PortBindings: bindings,
        // An init process reaps zombies and forwards SIGTERM, so `node` as PID 1 stops at once.
        Init: true,
        ExtraHosts: [await this.hostAliasEntry(network), ...(spec.extraHosts ?? [])],
        Binds: binds.length > 0 ? binds : undefined,
        RestartPolicy: { Name: "no" },
      },
      NetworkingConfig: {
        EndpointsConfig: { [network.name]: { Aliases: [...new Set([spec.name, ...(spec.aliases ?? [])])] } },
      },
    };
    if (spec.command) options.Cmd = spec.command;
    if (spec.entrypoint) options.Entrypoint = spec.entrypoint;
    if (spec.workingDir) options.WorkingDir = spec.workingDir;
    if (spec.user) options.User = spec.user;
    try {
      return await this.docker.createContainer(options);
    } catch (error) {
      if (statusCode(error) === 404) {
        throw new AvsctlError("DEVNET_START_FAILED", `image ${spec.image} of ${spec.name} is not present`, {
          hint: "Build it first (devnet up builds its images), or check the image name.",
          details: { component: spec.name, image: spec.image },
          cause: error,
        });
      }
      throw new AvsctlError("DEVNET_START_FAILED", `cannot create ${spec.name}: ${engineMessage(error)}`, {
        details: { component: spec.name },
        cause: error,
      });
    }
  }

  /**
   * Start a component: network, volumes, free host ports, container, then its wait strategies.
   * A container of the same name is replaced. On failure the container is removed and the
   * error rethrown; PORT_IN_USE when a pinned host port is taken.
   */
  async start(spec: DockerComponentSpec, options: StartOptions = {}): Promise<StartedComponent> {
    checkStrategies(spec.name, spec.wait ?? []);
    const network = await this.ensureNetwork();
    await this.remove(spec.name);
    // A port chosen free can be grabbed before Docker binds it: retry with fresh ports then.
    for (let attempt = 1; ; attempt++) {
      options.signal?.throwIfAborted();
      const { ports, auto, all } = await this.choosePorts(spec);
      let container: Docker.Container | undefined;
      try {
        container = await this.createContainer(spec, ports, network);
        try {
          await container.start();
        } catch (error) {
          const message = engineMessage(error);
          if (/address already in use|port is already allocated/i.test(message)) {
            const pinned = all.filter((port) => !auto.has(port));
            if (pinned.length === 0 && attempt < START_ATTEMPTS) {
              debug("%s: port race on start (%s), retrying", spec.name, message);
              await this.removeQuietly(container);
              container = undefined;
              for (const port of all) releasePort(port);
              continue;
            }
            throw new AvsctlError("PORT_IN_USE", `cannot start ${spec.name}: ${message}`, {
              hint: "Free the port or leave it unset so a free one is chosen.",
              details: { component: spec.name, ports },
              cause: error,
            });
          }
          throw new AvsctlError("DEVNET_START_FAILED", `cannot start ${spec.name}: ${message}`, {
            details: { component: spec.name },
            cause: error,
          });
        }
        debug("started %s (%s)", this.containerName(spec.name), container.id.slice(0, 12));
        await waitForReady(spec.wait ?? [], this.waitTarget(spec.name, ports, undefined), {
          signal: options.signal,
          defaultTimeoutMs: this.defaultWaitTimeoutMs,
        });
        return this.started(this.infoFromInspect(spec.name, await container.inspect()));
      } catch (error) {
        if (container) await this.removeQuietly(container);
        for (const port of all) releasePort(port);
        throw error;
      }
    }
  }

  private async removeQuietly(container: Docker.Container): Promise<void> {
    try {
      await container.remove({ force: true, v: true });
    } catch (error) {
      if (statusCode(error) !== 404 && statusCode(error) !== 409)
        debug("remove failed: %s", engineMessage(error));
    }
  }

  /** Never touch a container that merely has our naming scheme but not our labels. */
  private assertOurs(component: string, info: Docker.ContainerInspectInfo): void {
    if (info.Config?.Labels?.[LABEL_PROJECT] === this.project) return;
    throw new AvsctlError(
      "DEVNET_START_FAILED",
      `container ${info.Name.replace(/^\//, "")} exists but is not managed by avsctl`,
      {
        hint: "Remove or rename that container yourself, or rename the project.",
        details: { component, container: info.Id },
      },
    );
  }

  /** Stop a component; already stopped or missing is success. */
  async stop(component: string): Promise<void> {
    const info = await this.containerInspect(component);
    if (!info) return;
    this.assertOurs(component, info);
    const container = this.docker.getContainer(info.Id);
    try {
      await container.stop();
    } catch (error) {
      const code = statusCode(error);
      if (code !== 304 && code !== 404) throw error;
    }
  }

  /** Remove a component's container (and its anonymous volumes); missing is success. */
  async remove(component: string): Promise<void> {
    const info = await this.containerInspect(component);
    if (!info) return;
    this.assertOurs(component, info);
    try {
      await this.docker.getContainer(info.Id).remove({ force: true, v: true });
      debug("removed %s", this.containerName(component));
    } catch (error) {
      // 404: already gone; 409: a removal is already in progress.
      const code = statusCode(error);
      if (code !== 404 && code !== 409) throw error;
    }
    for (const port of Object.values(
      parseJsonLabel<Record<string, number>>(info.Config?.Labels?.[LABEL_PORTS], {}),
    )) {
      releasePort(port);
    }
  }

  /**
   * Restart a component in place (same container, same host ports) and wait for its stored
   * strategies again. NOT_FOUND when the component does not exist.
   */
  async restart(component: string, options: StartOptions = {}): Promise<StartedComponent> {
    const info = await this.containerInspect(component);
    if (!info) {
      throw new AvsctlError("NOT_FOUND", `${component} is not part of the ${this.project} devnet`, {
        hint: "Run `avsctl devnet status` to see the components, or `avsctl devnet up` to start them.",
        details: { component },
      });
    }
    const container = this.docker.getContainer(info.Id);
    const stopTimeout = (info.Config as { StopTimeout?: number }).StopTimeout ?? DEFAULT_STOP_TIMEOUT_SEC;
    await container.restart({ t: stopTimeout });
    const after = await container.inspect();
    const wait = parseJsonLabel<WaitStrategy[]>(info.Config?.Labels?.[LABEL_WAIT], []);
    const ports = parseJsonLabel<Record<string, number>>(info.Config?.Labels?.[LABEL_PORTS], {});
    await waitForReady(wait, this.waitTarget(component, ports, sinceParam(after.State?.StartedAt)), {
      signal: options.signal,
      defaultTimeoutMs: this.defaultWaitTimeoutMs,
    });
    return this.started(this.infoFromInspect(component, await container.inspect()));
  }

  async inspect(component: string): Promise<ComponentInfo> {
    return this.infoFromInspect(component, await this.containerInspect(component));
  }

  /** State plus a one-shot probe of the stored HTTP/JSON-RPC/TCP strategies. */
  async health(component: string, options: HealthOptions = {}): Promise<ComponentHealth> {
    const raw = await this.containerInspect(component);
    const info = this.infoFromInspect(component, raw);
    if (!info.running) {
      const why = info.state === "missing" ? "container does not exist" : `container is ${info.state}`;
      return { ...info, healthy: false, problems: [`${component}: ${why}`] };
    }
    const wait = parseJsonLabel<WaitStrategy[]>(raw?.Config?.Labels?.[LABEL_WAIT], []);
    const target = this.waitTarget(component, info.ports, undefined);
    const problems = (
      await Promise.all(wait.map((strategy) => probe(strategy, target, options.probeTimeoutMs)))
    ).filter((problem): problem is string => problem !== null);
    return { ...info, healthy: problems.length === 0, problems };
  }

  /** Every container of the project (forwarders included), running or not. */
  async list(): Promise<ComponentInfo[]> {
    const containers = await this.docker.listContainers({ all: true, filters: labelFilter(this.project) });
    return containers
      .map((container) => {
        const info: ComponentInfo = {
          component:
            container.Labels[LABEL_COMPONENT] ?? container.Names[0]?.replace(/^\//, "") ?? container.Id,
          runtime: "docker",
          id: container.Id,
          ports: parseJsonLabel<Record<string, number>>(container.Labels[LABEL_PORTS], {}),
          state: toState(container.State),
          running: container.State === "running",
        };
        return info;
      })
      .sort((a, b) => (a.component < b.component ? -1 : a.component > b.component ? 1 : 0));
  }

  /**
   * A component's output lines. Without `follow` it returns what is there (`tail` lines); with
   * `follow` it keeps streaming until `signal` aborts or the container stops.
   */
  async *logs(component: string, options: LogOptions = {}): AsyncGenerator<string> {
    const info = await this.containerInspect(component);
    if (!info) {
      throw new AvsctlError("NOT_FOUND", `${component} is not part of the ${this.project} devnet`, {
        details: { component },
      });
    }
    const container = this.docker.getContainer(info.Id);
    if (!options.follow) {
      const query: { stdout: true; stderr: true; follow: false; tail?: number } = {
        stdout: true,
        stderr: true,
        follow: false,
      };
      if (options.tail !== undefined) query.tail = options.tail;
      const buffer = (await container.logs(query)) as unknown as Buffer;
      yield* demuxDockerBuffer(Buffer.isBuffer(buffer) ? buffer : Buffer.from(String(buffer)));
      return;
    }
    yield* this.followLines(container, { tail: options.tail ?? 100, signal: options.signal });
  }

  /** Remove every container, network and volume of this project (only this project). */
  async removeProject(): Promise<RemovedResources> {
    this.network = undefined;
    return removeProject(this.docker, this.project);
  }

  /**
   * Make the host's `127.0.0.1:<port>` reachable from this project's containers; returns the
   * address they must use: `host.docker.internal:<forwarder port>` (see host-access.ts for why
   * a forwarder is needed). The forwarder listens on a port of its own on the gateway address,
   * so it never collides with the host service, whether that binds 127.0.0.1 or 0.0.0.0.
   * Idempotent; the forwarder is a labelled component removed with the project.
   */
  async exposeHostPort(port: number, options: StartOptions = {}): Promise<{ host: string; port: number }> {
    const network = await this.ensureNetwork();
    if ((await this.detectHostAccess()) === "direct" || network.gateway === "")
      return { host: HOST_ALIAS, port };
    const component = forwarderComponent(port);
    const existing = await this.inspect(component);
    const existingPort = existing.ports[String(port)];
    if (existing.running && existingPort !== undefined) return { host: HOST_ALIAS, port: existingPort };
    if (!this.helperImage) {
      throw new AvsctlError(
        "INTERNAL",
        "DockerRuntime needs `helperImage` (a Node image) to forward host ports",
      );
    }
    await this.remove(component);
    const listenPort = await findFreePort(network.gateway);
    const container = await this.docker.createContainer({
      name: this.containerName(component),
      Image: this.helperImage,
      Cmd: ["node", "-e", FORWARDER_SCRIPT, network.gateway, String(listenPort), LOCALHOST, String(port)],
      Labels: {
        ...projectLabels(this.project, this.projectDir),
        [LABEL_COMPONENT]: component,
        [LABEL_WAIT]: JSON.stringify([]),
        [LABEL_PORTS]: JSON.stringify({ [String(port)]: listenPort }),
      },
      StopTimeout: 2,
      HostConfig: { NetworkMode: "host", Init: true, RestartPolicy: { Name: "no" } },
    });
    try {
      await container.start();
      await waitForReady(
        [{ kind: "log", pattern: "^forwarding ", timeoutMs: 15_000 }],
        this.waitTarget(component, {}, undefined),
        { signal: options.signal },
      );
    } catch (error) {
      await this.removeQuietly(container);
      releasePort(listenPort);
      throw error;
    }
    debug("forwarding %s:%d -> 127.0.0.1:%d", network.gateway, listenPort, port);
    return { host: HOST_ALIAS, port: listenPort };
  }

  /**
   * The URL a container must use for `url`: loopback URLs (`http://127.0.0.1:4002/x`,
   * `localhost`) become `http://host.docker.internal:<forwarder port>/x` with a forwarder
   * started when needed; other URLs are returned unchanged.
   */
  async containerUrl(url: string, options: StartOptions = {}): Promise<string> {
    const parsed = new URL(url);
    if (!isLoopbackHost(parsed.hostname)) return url;
    const port = Number(parsed.port || (parsed.protocol === "https:" ? 443 : 80));
    const exposed = await this.exposeHostPort(port, options);
    parsed.hostname = exposed.host;
    parsed.port = String(exposed.port);
    return parsed.toString();
  }
}

/** Every avsctl resource of `project` (or of every project when omitted), found by label. */
export async function listProjectResources(docker: Docker, project?: string): Promise<ProjectResources> {
  const filters = labelFilter(project);
  const [containers, networks, volumes] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
    docker.listVolumes({ filters }),
  ]);
  return {
    containers: containers.map((container) => ({
      id: container.Id,
      name: container.Names[0]?.replace(/^\//, "") ?? container.Id,
      project: container.Labels[LABEL_PROJECT] ?? "",
      component: container.Labels[LABEL_COMPONENT] ?? "",
      state: toState(container.State),
    })),
    networks: networks.map((network) => ({
      id: network.Id,
      name: network.Name,
      project: network.Labels?.[LABEL_PROJECT] ?? "",
    })),
    volumes: (volumes.Volumes ?? []).map((volume) => ({
      name: volume.Name,
      project: (volume.Labels as Record<string, string> | null)?.[LABEL_PROJECT] ?? "",
    })),
  };
}

async function removeResources(docker: Docker, resources: ProjectResources): Promise<RemovedResources> {
  const removed: RemovedResources = { containers: [], networks: [], volumes: [], processes: [] };
  const ignoreGone = (error: unknown) => {
    const code = statusCode(error);
    if (code !== 404 && code !== 409) throw error;
  };
  await Promise.all(
    resources.containers.map(async (container) => {
      await docker.getContainer(container.id).remove({ force: true, v: true }).catch(ignoreGone);
      removed.containers.push(container.name);
    }),
  );
  for (const network of resources.networks) {
    const handle = docker.getNetwork(network.id);
    try {
      await handle.remove();
    } catch (error) {
      if (statusCode(error) === 404) continue;
      // Something not ours is still attached: detach it rather than leave the network behind.
      const info = (await handle.inspect().catch(() => null)) as Docker.NetworkInspectInfo | null;
      for (const id of Object.keys(info?.Containers ?? {})) {
        await handle.disconnect({ Container: id, Force: true }).catch(ignoreGone);
      }
      await handle.remove().catch(ignoreGone);
    }
    removed.networks.push(network.name);
  }
  for (const volume of resources.volumes) {
    await docker.getVolume(volume.name).remove().catch(ignoreGone);
    removed.volumes.push(volume.name);
  }
  removed.containers.sort();
  debug("removed %o", removed);
  return removed;
}

/**
 * Remove every container (forced), network and volume labelled for `project`; other projects
 * are untouched. Succeeds when there is nothing to remove.
 */
export async function removeProject(docker: Docker, project: string): Promise<RemovedResources> {
  return removeResources(docker, await listProjectResources(docker, sanitizeName(project)));
}

/** `down --all`: remove the resources of every avsctl devnet on this engine. */
export async function removeAllProjects(docker: Docker): Promise<RemovedResources> {
  return removeResources(docker, await listProjectResources(docker));
}

/** Names of the projects that have any avsctl resource on this engine. */
export async function listProjects(docker: Docker): Promise<string[]> {
  const resources = await listProjectResources(docker);
  const names = new Set<string>();
  for (const group of [resources.containers, resources.networks, resources.volumes]) {
    for (const resource of group) if (resource.project !== "") names.add(resource.project);
  }
  return [...names].sort();
}
