/** Finding and removing a project's labelled Docker resources (`down`, `down --all`). */
import createDebug from "debug";
import type Docker from "dockerode";
import { statusCode, toState } from "./docker-util.js";
import {
  LABEL_COMPONENT,
  LABEL_PROJECT,
  LABEL_PROJECT_DIR,
  labelFilter,
  sanitizeName,
  volumeName,
} from "./labels.js";
import type { ComponentState, RemovedResources } from "./types.js";

const debug = createDebug("avsctl:devnet:runtime:docker");

export interface ProjectResources {
  containers: Array<{
    id: string;
    name: string;
    project: string;
    /** The project directory that started it ("" for a container from before the label). */
    projectDir: string;
    component: string;
    state: ComponentState;
  }>;
  networks: Array<{ id: string; name: string; project: string }>;
  volumes: Array<{ name: string; project: string }>;
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
      projectDir: container.Labels[LABEL_PROJECT_DIR] ?? "",
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

async function removeResources(
  docker: Docker,
  resources: ProjectResources,
  opts: RemoveOptions,
): Promise<RemovedResources> {
  const removed: RemovedResources = { containers: [], networks: [], volumes: [], processes: [] };
  const ignoreGone = (error: unknown) => {
    const code = statusCode(error);
    if (code !== 404 && code !== 409) throw error;
  };
  // Each container is stopped before it goes. A stop is deliberate, so the container's restart
  // policy stands down: a forced removal racing the restart of a container that just died can
  // leave it Dead and the engine stuck. Kept volumes must also be whole for the next `up`: anvil
  // writes its state on SIGTERM, so those containers get their StopTimeout; without the volumes,
  // nothing is worth waiting for.
  await Promise.all(
    resources.containers
      .filter((container) => container.state === "running" || container.state === "restarting")
      .map((container) =>
        docker
          .getContainer(container.id)
          .stop(opts.keepVolumes ? {} : { t: 0 })
          .catch((error: unknown) => {
            if (statusCode(error) !== 304) ignoreGone(error);
          }),
      ),
  );
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

/** `keepVolumes`: the volumes hold the devnet's state (chains, journal, IPFS) and stay for its next `up`. */
export interface RemoveOptions {
  keepVolumes?: boolean;
}

function withoutVolumes(resources: ProjectResources, opts: RemoveOptions): ProjectResources {
  return opts.keepVolumes ? { ...resources, volumes: [] } : resources;
}

/**
 * Remove every container (forced), network and volume labelled for `project`; other projects
 * are untouched. Succeeds when there is nothing to remove.
 */
export async function removeProject(
  docker: Docker,
  project: string,
  opts: RemoveOptions = {},
): Promise<RemovedResources> {
  return removeResources(
    docker,
    withoutVolumes(await listProjectResources(docker, sanitizeName(project)), opts),
    opts,
  );
}

/** `down --all`: remove the resources of every avsctl devnet on this engine. */
export async function removeAllProjects(docker: Docker, opts: RemoveOptions = {}): Promise<RemovedResources> {
  return removeResources(docker, withoutVolumes(await listProjectResources(docker), opts), opts);
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

/** Removes some of a project's volumes by short name (`chain-l1`); missing or in use is skipped. */
export async function removeVolumes(docker: Docker, project: string, names: string[]): Promise<void> {
  for (const name of names) {
    await docker
      .getVolume(volumeName(sanitizeName(project), name))
      .remove()
      .catch((error: unknown) => {
        const code = statusCode(error);
        if (code !== 404 && code !== 409) throw error;
      });
  }
}
