/** Creating a component's container: free host ports, labels, network, volumes, host alias. */
import type Docker from "dockerode";
import { AvsctlError } from "../../errors.js";
import { ensureVolume, hostAliasEntry, type ProjectNetwork, type ProjectScope } from "./docker-network.js";
import { DEFAULT_STOP_TIMEOUT_SEC, engineMessage, statusCode } from "./docker-util.js";
import { FORWARDER_SCRIPT, forwarderComponent, type HostAccessMode } from "./host-access.js";
import { containerName, LABEL_COMPONENT, LABEL_PORTS, LABEL_WAIT, projectLabels } from "./labels.js";
import { LOG_ROTATE_BYTES } from "./log-files.js";
import { findFreePort, LOCALHOST, releasePort, reservePort } from "./ports.js";
import type { DockerComponentSpec } from "./types.js";

export async function choosePorts(
  spec: DockerComponentSpec,
  publishHost: string,
): Promise<{ ports: Record<string, number>; auto: Set<number>; all: number[] }> {
  const ports: Record<string, number> = {};
  const auto = new Set<number>();
  const all: number[] = [];
  try {
    for (const entry of spec.ports ?? []) {
      const containerPort = typeof entry === "number" ? entry : entry.container;
      const wanted = typeof entry === "number" ? 0 : (entry.host ?? 0);
      const hostPort =
        wanted === 0 ? await findFreePort(publishHost) : await reservePort(wanted, publishHost);
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

export async function createContainer(
  scope: ProjectScope & { publishHost: string },
  spec: DockerComponentSpec,
  ports: Record<string, number>,
  network: ProjectNetwork,
  hostAccess: HostAccessMode,
): Promise<Docker.Container> {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const [containerPort, hostPort] of Object.entries(ports)) {
    exposed[`${containerPort}/tcp`] = {};
    bindings[`${containerPort}/tcp`] = [{ HostIp: scope.publishHost, HostPort: String(hostPort) }];
  }
  const binds = [...(spec.binds ?? [])];
  for (const volume of spec.volumes ?? []) {
    binds.push(`${await ensureVolume(scope, volume.name)}:${volume.target}${volume.readOnly ? ":ro" : ""}`);
  }
  const labels = {
    ...spec.labels,
    ...projectLabels(scope.project, scope.projectDir),
    [LABEL_COMPONENT]: spec.name,
    [LABEL_WAIT]: JSON.stringify(spec.wait ?? []),
    [LABEL_PORTS]: JSON.stringify(ports),
  };
  const options: Docker.ContainerCreateOptions = {
    name: containerName(scope.project, spec.name),
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
      ExtraHosts: [hostAliasEntry(hostAccess, network), ...(spec.extraHosts ?? [])],
      Binds: binds.length > 0 ? binds : undefined,
      // A component that dies on its own is started again, with Docker's backoff; `docker stop`
      // and `docker kill` are deliberate and leave it stopped.
      RestartPolicy: { Name: "on-failure" },
      // Held to the process runtime's bound (log-files.ts); json-file whatever the daemon's
      // default driver, as `devnet logs` and `task trace` read logs back through the Engine API.
      LogConfig: {
        Type: "json-file",
        Config: { "max-size": `${LOG_ROTATE_BYTES / (1024 * 1024)}m`, "max-file": "2" },
      },
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
    return await scope.docker.createContainer(options);
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
 * A forwarder on the host network: listens on `gateway:listenPort` and relays to the host's
 * `127.0.0.1:port` (see host-access.ts).
 */
export function forwarderOptions(
  scope: Pick<ProjectScope, "project" | "projectDir">,
  helperImage: string,
  to: { gateway: string; listenPort: number; port: number },
): Docker.ContainerCreateOptions {
  const component = forwarderComponent(to.port);
  return {
    name: containerName(scope.project, component),
    Image: helperImage,
    Cmd: ["node", "-e", FORWARDER_SCRIPT, to.gateway, String(to.listenPort), LOCALHOST, String(to.port)],
    Labels: {
      ...projectLabels(scope.project, scope.projectDir),
      [LABEL_COMPONENT]: component,
      [LABEL_WAIT]: JSON.stringify([]),
      [LABEL_PORTS]: JSON.stringify({ [String(to.port)]: to.listenPort }),
    },
    StopTimeout: 2,
    HostConfig: { NetworkMode: "host", Init: true, RestartPolicy: { Name: "no" } },
  };
}
