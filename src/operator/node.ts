/**
 * The attester node of an operator added to a running devnet: started the way `devnet up`
 * started the others (src/devnet/up/nodes.ts), by copying a running attester's command, with
 * the new operator's key and a port of its own.
 */

import type { DevnetState } from "../devnet/state.js";
import { AvsctlError } from "../errors.js";

export interface StartedNode {
  name: string;
  pid: number | undefined;
  metricsUrl: string | undefined;
}

/** Nodes are added to process devnets only (a container would need the devnet's network and image). */
export function requireProcessRuntime(state: DevnetState): void {
  if (state.runtime !== "process") {
    throw new AvsctlError("COMMAND_FAILED", "operator add starts attester nodes in process devnets only", {
      hint: "start the devnet with `avsctl devnet up --runtime process`",
    });
  }
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
  requireProcessRuntime(state);
  const { ProcessRuntime } = await import("../devnet/runtime/process.js");
  const { findFreePorts } = await import("../devnet/runtime/ports.js");
  const runtime = new ProcessRuntime({ project: state.name, projectDir });
  const record = await runtime.record(template);
  if (!record) {
    throw new AvsctlError("DEVNET_UNHEALTHY", `no run record of ${template} to start ${name} like it`, {
      hint: "`avsctl devnet status` shows which component is down",
    });
  }
  const [port] = await findFreePorts(1);
  const oldPort = record.args[record.args.indexOf("--metrics.port") + 1];
  const args = record.args.map((a, i) => (record.args[i - 1] === "--metrics.port" ? String(port) : a));
  const { AVSCTL_BLS_SECRET_KEY: _own, ...env } = record.env;
  const started = await runtime.start(
    {
      name,
      command: record.command,
      args,
      cwd: record.cwd,
      env: { ...env, PRIVATE_KEY: privateKey },
      ports: [port!],
      stopGraceMs: record.stopGraceMs,
      wait: (record.wait ?? []).map((w) =>
        "port" in w && String(w.port) === oldPort ? { ...w, port: port! } : w,
      ),
    },
    { signal },
  );
  return { name, pid: started.pid, metricsUrl: `http://127.0.0.1:${port}/metrics` };
}

/** Stops and removes a devnet component (process or container). */
export async function removeNode(state: DevnetState, projectDir: string, name: string): Promise<void> {
  const { openRuntimes } = await import("../devnet/manage.js");
  const runtimes = await openRuntimes(state, projectDir);
  await runtimes.of(name).remove(name);
}
