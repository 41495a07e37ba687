/**
 * The attester node of an operator added to a running devnet: started the way `devnet up`
 * started the others (src/devnet/up/nodes.ts), by copying a running attester's command (its run
 * record, or its container's config in Docker), with the new operator's key and a port of its own.
 */

import type { DevnetState } from "../devnet/state.js";
import { AvsctlError } from "../errors.js";

export interface StartedNode {
  name: string;
  pid: number | undefined;
  metricsUrl: string | undefined;
}

/** Starts `name` as an attester signing with `privateKey`, modelled on the attester `template`. */
export async function startAttesterNode(
  state: DevnetState,
  projectDir: string,
  name: string,
  template: string,
  privateKey: string,
  signal?: AbortSignal,
): Promise<StartedNode> {
  if (state.runtime === "docker")
    return startAttesterContainer(state, projectDir, name, template, privateKey, signal);
  const { ProcessRuntime, specOf } = await import("../devnet/runtime/process.js");
  const { findFreePorts } = await import("../devnet/runtime/ports.js");
  const runtime = new ProcessRuntime({ project: state.name, projectDir });
  const record = await runtime.record(template);
  if (!record) {
    throw noTemplate(template, name);
  }
  const [port] = await findFreePorts(1);
  const oldPort = record.args[record.args.indexOf("--metrics.port") + 1];
  const args = record.args.map((a, i) => (record.args[i - 1] === "--metrics.port" ? String(port) : a));
  const { AVSCTL_BLS_SECRET_KEY: _own, ...env } = record.env;
  const started = await runtime.start(
    {
      ...specOf(record),
      name,
      args,
      env: { ...env, PRIVATE_KEY: privateKey },
      ports: [port!],
      wait: (record.wait ?? []).map((w) =>
        "port" in w && String(w.port) === oldPort ? { ...w, port: port! } : w,
      ),
    },
    { signal },
  );
  return { name, pid: started.pid, metricsUrl: `http://127.0.0.1:${port}/metrics` };
}

function noTemplate(template: string, name: string): AvsctlError {
  return new AvsctlError("DEVNET_UNHEALTHY", `no ${template} to start ${name} like it`, {
    hint: "`avsctl devnet status` shows which component is down",
  });
}

/**
 * In Docker: a container like the template's (image, command, network, env), under the new name
 * with the new key. Container ports are the same in every container; the host ports are new.
 */
async function startAttesterContainer(
  state: DevnetState,
  projectDir: string,
  name: string,
  template: string,
  privateKey: string,
  signal?: AbortSignal,
): Promise<StartedNode> {
  const { DockerRuntime } = await import("../devnet/runtime/docker.js");
  const { requireDocker, dockerClient } = await import("../devnet/docker-engine.js");
  const { ENV_COMPONENT, LABEL_PORTS, LABEL_WAIT } = await import("../devnet/runtime/labels.js");
  await requireDocker(3000);
  const runtime = new DockerRuntime({ project: state.name, projectDir, docker: dockerClient() });
  let info: import("dockerode").ContainerInspectInfo;
  try {
    info = await runtime.docker.getContainer(runtime.containerName(template)).inspect();
  } catch {
    throw noTemplate(template, name);
  }
  const labels = info.Config.Labels ?? {};
  const ports = Object.keys(JSON.parse(labels[LABEL_PORTS] ?? "{}") as Record<string, number>).map(Number);
  const env: Record<string, string> = {};
  for (const entry of info.Config.Env ?? []) {
    const at = entry.indexOf("=");
    env[entry.slice(0, at)] = entry.slice(at + 1);
  }
  // the template's own BLS key would sign for it: the new operator's is derived from its key
  delete env.AVSCTL_BLS_SECRET_KEY;
  if (ENV_COMPONENT in env) env[ENV_COMPONENT] = name;
  const started = await runtime.start(
    {
      name,
      image: info.Config.Image,
      command: info.Config.Cmd ?? undefined,
      entrypoint: [],
      env: { ...env, PRIVATE_KEY: privateKey },
      labels,
      ports,
      wait: JSON.parse(labels[LABEL_WAIT] ?? "[]"),
      stopTimeoutSec: (info.Config as { StopTimeout?: number }).StopTimeout ?? 3,
    },
    { signal },
  );
  const metrics = ports[0];
  return {
    name,
    pid: undefined,
    metricsUrl: metrics === undefined ? undefined : started.url(metrics, "/metrics"),
  };
}

/** Stops and removes a devnet component (process or container). */
export async function removeNode(state: DevnetState, projectDir: string, name: string): Promise<void> {
  const { openRuntimes } = await import("../devnet/manage.js");
  const runtimes = await openRuntimes(state, projectDir);
  await runtimes.of(name).remove(name);
}
