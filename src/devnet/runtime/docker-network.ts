/** A project's bridge network and volumes, and how its containers reach the host. */
import createDebug from "debug";
import type Docker from "dockerode";
import { AvsctlError } from "../../errors.js";
import { engineMessage, statusCode } from "./docker-util.js";
import { HOST_ALIAS, type HostAccessMode } from "./host-access.js";
import { LABEL_PROJECT, networkName, projectLabels, volumeName } from "./labels.js";

const debug = createDebug("avsctl:devnet:runtime:docker");

export interface ProjectNetwork {
  id: string;
  name: string;
  /** The bridge's gateway address on the host, e.g. 172.18.0.1. */
  gateway: string;
  subnet: string;
}

/** Which project the resources belong to, as their labels say. */
export interface ProjectScope {
  docker: Docker;
  project: string;
  projectDir: string | undefined;
}

export async function createOrFindNetwork(scope: ProjectScope): Promise<ProjectNetwork> {
  const name = networkName(scope.project);
  const existing = await inspectNetwork(scope, name);
  if (existing) return existing;
  try {
    await scope.docker.createNetwork({
      Name: name,
      Driver: "bridge",
      CheckDuplicate: true,
      Labels: projectLabels(scope.project, scope.projectDir),
    });
    debug("created network %s", name);
  } catch (error) {
    // Another avsctl run created it meanwhile: fine, use it.
    if (statusCode(error) !== 409) {
      throw new AvsctlError("DEVNET_START_FAILED", `cannot create network ${name}: ${engineMessage(error)}`, {
        hint: "Too many Docker networks can exhaust the address pools; `docker network prune` frees them.",
        cause: error,
      });
    }
  }
  const created = await inspectNetwork(scope, name);
  if (!created)
    throw new AvsctlError("DEVNET_START_FAILED", `network ${name} vanished right after it was created`);
  return created;
}

async function inspectNetwork(scope: ProjectScope, name: string): Promise<ProjectNetwork | null> {
  let info: Docker.NetworkInspectInfo;
  try {
    info = await scope.docker.getNetwork(name).inspect();
  } catch (error) {
    if (statusCode(error) === 404) return null;
    throw error;
  }
  if (info.Labels?.[LABEL_PROJECT] !== scope.project) {
    throw new AvsctlError(
      "DEVNET_START_FAILED",
      `network ${name} exists but was not created by avsctl for ${scope.project}`,
      {
        hint: `Remove it (\`docker network rm ${name}\`) or rename the project.`,
      },
    );
  }
  const ipam = info.IPAM?.Config?.[0];
  return { id: info.Id, name, gateway: ipam?.Gateway ?? "", subnet: ipam?.Subnet ?? "" };
}

export async function ensureVolume(scope: ProjectScope, name: string): Promise<string> {
  const fullName = volumeName(scope.project, name);
  // Creating an existing volume returns it unchanged, so this is idempotent.
  await scope.docker.createVolume({ Name: fullName, Labels: projectLabels(scope.project, scope.projectDir) });
  return fullName;
}

/** Whether containers reach the host directly (Docker Desktop, a remote engine) or need a forwarder. */
export async function detectHostAccess(docker: Docker): Promise<HostAccessMode> {
  const dockerHost = process.env.DOCKER_HOST ?? "";
  let mode: HostAccessMode = "forwarder";
  if (dockerHost !== "" && !dockerHost.startsWith("unix://")) mode = "direct";
  else {
    const info = (await docker.info()) as { OperatingSystem?: string };
    if (/docker desktop/i.test(info.OperatingSystem ?? "")) mode = "direct";
  }
  debug("host access mode: %s", mode);
  return mode;
}

/** The `ExtraHosts` entry that makes `host.docker.internal` reach the host from containers. */
export function hostAliasEntry(mode: HostAccessMode, network: ProjectNetwork): string {
  return mode === "forwarder" && network.gateway !== ""
    ? `${HOST_ALIAS}:${network.gateway}`
    : `${HOST_ALIAS}:host-gateway`;
}
