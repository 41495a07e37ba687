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
import { choosePorts, createContainer, forwarderOptions } from "./docker-create.js";
import { containerWaitTarget, followLines, readLogLines } from "./docker-logs.js";
import { createOrFindNetwork, detectHostAccess, type ProjectNetwork } from "./docker-network.js";
import {
  type ContainerRecord,
  containerRemoved,
  readContainerRecord,
  removeContainerRecord,
  removeContainerRecords,
  writeContainerRecord,
} from "./docker-records.js";
import { removeProject } from "./docker-resources.js";
import {
  assertOurs,
  componentInfo,
  DEFAULT_STOP_TIMEOUT_SEC,
  listedInfo,
  parseJsonLabel,
  removeQuietly,
  sinceParam,
  startFailure,
  statusCode,
} from "./docker-util.js";
import { forwarderComponent, HOST_ALIAS, type HostAccessMode, isLoopbackHost } from "./host-access.js";
import { containerName, LABEL_PORTS, LABEL_WAIT, labelFilter, sanitizeName } from "./labels.js";
import { findFreePort, LOCALHOST, releasePort } from "./ports.js";
import {
  type ComponentHealth,
  type ComponentInfo,
  type DevnetRuntime,
  type DockerComponentSpec,
  type HealthOptions,
  type LogOptions,
  notPartOf,
  type RemovedResources,
  type StartedComponent,
  type StartOptions,
  type WaitStrategy,
} from "./types.js";
import { checkStrategies, probe, waitForReady } from "./wait.js";

export type { ProjectNetwork } from "./docker-network.js";
export {
  listProjectResources,
  listProjects,
  type ProjectResources,
  removeAllProjects,
  removeProject,
} from "./docker-resources.js";

const debug = createDebug("avsctl:devnet:runtime:docker");

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
    this.network ??= createOrFindNetwork(this).catch((error) => {
      this.network = undefined;
      throw error;
    });
    return this.network;
  }

  private async detectHostAccess(): Promise<HostAccessMode> {
    this.hostAccess ??= await detectHostAccess(this.docker);
    return this.hostAccess;
  }

  private async containerInspect(component: string): Promise<Docker.ContainerInspectInfo | null> {
    try {
      return await this.docker.getContainer(this.containerName(component)).inspect();
    } catch (error) {
      if (statusCode(error) === 404) return null;
      throw error;
    }
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

  private waitTarget(component: string, ports: Record<string, number>, since: string | undefined) {
    const container = this.docker.getContainer(this.containerName(component));
    return containerWaitTarget(container, this.probeHost, component, ports, since);
  }

  /**
   * Start a component: network, volumes, free host ports, container, then its wait strategies.
   * A container of the same name is replaced. On failure the container is removed and the
   * error rethrown; PORT_IN_USE when a pinned host port is taken.
   */
  async start(spec: DockerComponentSpec, options: StartOptions = {}): Promise<StartedComponent> {
    checkStrategies(spec.name, spec.wait ?? []);
    const network = await this.ensureNetwork();
    // its record stays until the new one is up: a start that fails leaves the last way it ran
    await this.removeContainer(spec.name);
    // A port chosen free can be grabbed before Docker binds it: retry with fresh ports then.
    for (let attempt = 1; ; attempt++) {
      options.signal?.throwIfAborted();
      const { ports, auto, all } = await choosePorts(spec, this.publishHost);
      let container: Docker.Container | undefined;
      try {
        container = await createContainer(this, spec, ports, network, await this.detectHostAccess());
        const failure = await container.start().then(
          () => undefined,
          (error: unknown) => startFailure(spec.name, error, ports, auto, attempt < START_ATTEMPTS),
        );
        if (failure === "retry") {
          debug("%s: port race on start, retrying", spec.name);
          await removeQuietly(container);
          container = undefined;
          for (const port of all) releasePort(port);
          continue;
        }
        if (failure) throw failure;
        debug("started %s (%s)", this.containerName(spec.name), container.id.slice(0, 12));
        await waitForReady(spec.wait ?? [], this.waitTarget(spec.name, ports, undefined), {
          signal: options.signal,
          defaultTimeoutMs: this.defaultWaitTimeoutMs,
        });
        if (this.projectDir) writeContainerRecord(this.projectDir, spec, ports);
        return this.started(componentInfo(spec.name, await container.inspect()));
      } catch (error) {
        if (container) await removeQuietly(container);
        for (const port of all) releasePort(port);
        throw error;
      }
    }
  }

  /** Stop a component; already stopped or missing is success. */
  async stop(component: string): Promise<void> {
    const info = await this.containerInspect(component);
    if (!info) return;
    assertOurs(this.project, component, info);
    const container = this.docker.getContainer(info.Id);
    try {
      await container.stop();
    } catch (error) {
      const code = statusCode(error);
      if (code !== 304 && code !== 404) throw error;
    }
  }

  /**
   * Remove a component's container (and its anonymous volumes) and its record, so `restart`
   * does not bring back what was removed on purpose; missing is success.
   */
  async remove(component: string): Promise<void> {
    await this.removeContainer(component);
    if (this.projectDir) removeContainerRecord(this.projectDir, component);
  }

  private async removeContainer(component: string): Promise<void> {
    const info = await this.containerInspect(component);
    if (!info) return;
    assertOurs(this.project, component, info);
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

  /** How `start` last started a component (see docker-records.ts); undefined without one. */
  recorded(component: string): ContainerRecord | undefined {
    return this.projectDir ? readContainerRecord(this.projectDir, component) : undefined;
  }

  /**
   * Restart a component in place (same container, same host ports) and wait for its stored
   * strategies again. A container removed since is created again from its record, at the same
   * host ports; NOT_FOUND when the component has neither.
   */
  async restart(component: string, options: StartOptions = {}): Promise<StartedComponent> {
    const info = await this.containerInspect(component);
    if (!info) {
      const spec = this.recorded(component);
      if (spec?.forward) {
        const container = await this.startForwarder(spec.image, spec.forward, options);
        return this.started(componentInfo(component, await container.inspect()));
      }
      if (spec) return this.start(spec, options);
      throw notPartOf(component, this.project);
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
    return this.started(componentInfo(component, await container.inspect()));
  }

  async inspect(component: string): Promise<ComponentInfo> {
    return componentInfo(component, await this.containerInspect(component));
  }

  /** State plus a one-shot probe of the stored HTTP/JSON-RPC/TCP strategies. */
  async health(component: string, options: HealthOptions = {}): Promise<ComponentHealth> {
    const raw = await this.containerInspect(component);
    const info = componentInfo(component, raw);
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
      .map(listedInfo)
      .sort((a, b) => (a.component < b.component ? -1 : a.component > b.component ? 1 : 0));
  }

  /**
   * A component's output lines. Without `follow` it returns what is there (`tail` lines); with
   * `follow` it keeps streaming until `signal` aborts or the container stops.
   */
  async *logs(component: string, options: LogOptions = {}): AsyncGenerator<string> {
    const info = await this.containerInspect(component);
    if (!info) {
      // Callers ask only for a component the devnet started (its state names it): its container
      // was removed, and Docker keeps a container's log with the container.
      throw containerRemoved(component, this.recorded(component) !== undefined, ": its logs went with it");
    }
    const container = this.docker.getContainer(info.Id);
    if (!options.follow) {
      yield* await readLogLines(container, options.tail, options.timestamps);
      return;
    }
    yield* followLines(container, {
      tail: options.tail ?? 100,
      timestamps: options.timestamps,
      signal: options.signal,
    });
  }

  /** Remove every container, network and volume of this project (only this project). */
  async removeProject(opts: { keepVolumes?: boolean } = {}): Promise<RemovedResources> {
    this.network = undefined;
    if (this.projectDir) removeContainerRecords(this.projectDir);
    return removeProject(this.docker, this.project, opts);
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
    await this.startForwarder(this.helperImage, { port, listenPort }, options);
    return { host: HOST_ALIAS, port: listenPort };
  }

  /** The forwarder of `exposeHostPort`, recorded so `restart` can create it again at the same port. */
  private async startForwarder(
    image: string,
    forward: { port: number; listenPort: number },
    options: StartOptions,
  ): Promise<Docker.Container> {
    const { port, listenPort } = forward;
    const component = forwarderComponent(port);
    const network = await this.ensureNetwork();
    const container = await this.docker.createContainer(
      forwarderOptions(this, image, { gateway: network.gateway, listenPort, port }),
    );
    try {
      await container.start();
      await waitForReady(
        [{ kind: "log", pattern: "^forwarding ", timeoutMs: 15_000 }],
        this.waitTarget(component, {}, undefined),
        { signal: options.signal },
      );
    } catch (error) {
      await removeQuietly(container);
      releasePort(listenPort);
      throw error;
    }
    debug("forwarding %s:%d -> 127.0.0.1:%d", network.gateway, listenPort, port);
    if (this.projectDir) writeContainerRecord(this.projectDir, { name: component, image, forward }, {});
    return container;
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
