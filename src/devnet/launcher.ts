import path from "node:path";
import { ANVIL_ENV, ANVIL_HISTORY_ARGS, anvilBinaryPath } from "../chain/anvil-command.js";
import { packageRoot } from "../chain/artifacts.js";
import type { DockerRuntime } from "./runtime/docker.js";
import { findFreePorts, type KeptPorts } from "./runtime/ports.js";
import type { ProcessRuntime } from "./runtime/process.js";
import type {
  DevnetRuntime,
  DockerComponentSpec,
  DockerVolumeSpec,
  ProcessComponentSpec,
  RuntimeKind,
  StartedComponent,
  WaitStrategy,
} from "./runtime/types.js";

/** Fixed ports inside containers; processes get free host ports instead. */
export const PORTS = {
  chain: 8545,
  aggregator: 8545,
  metrics: 6060,
  validation: 4002,
  execution: 4003,
  triggers: 4020,
  feed: 4010,
  ipfs: 5001,
  engine: 8092,
} as const;

export interface LaunchSpec {
  name: string;
  /** `avsctl <args>` (nodes, sample services) or a chain. */
  what: { avsctl: string[] } | { anvil: AnvilSpec };
  env?: Record<string, string>;
  /** Named volumes in Docker; a process keeps its data under the project directory instead. */
  volumes?: DockerVolumeSpec[];
  /** Logical ports this component listens on, by role. */
  ports: Record<string, number>;
  wait: (ports: Record<string, number>) => WaitStrategy[];
  /** Told what the start had to set right first (a process chain's state file cut short). */
  warn?: (message: string) => void;
}

export interface Launched {
  name: string;
  started: StartedComponent;
  /** How other components reach each port. */
  internalUrl(role: string, path?: string): string;
  /** How the host (the CLI, the user) reaches each port: always 127.0.0.1. */
  hostUrl(role: string, path?: string): string;
}

/**
 * The one place that knows how a logical component becomes a process or a container: which
 * command, which ports, which address others use to reach it. Everything above it (up,
 * restart) is the same for both runtimes.
 */
export interface Launcher {
  readonly kind: RuntimeKind;
  readonly runtime: DevnetRuntime<any>;
  /**
   * Port numbers a component listens on (container ports are fixed; processes get free ones, or
   * the ones `component` had when `up` starts a devnet again).
   */
  allocate(roles: Record<string, number>, component?: string): Promise<Record<string, number>>;
  /** Bind address for servers: 0.0.0.0 only inside a container. */
  readonly bindHost: string;
  launch(spec: LaunchSpec, signal?: AbortSignal): Promise<Launched>;
  /** How other components will reach a component's port (its Launched.internalUrl), known before it runs. */
  internalUrlOf(name: string, port: number): string;
  /** A URL on the host's loopback (a service the user runs himself) as components see it. */
  reachHost(url: string): Promise<string>;
}

export interface AnvilSpec {
  chainId: number;
  blockTime: number;
  accounts: number;
  mnemonic: string;
  /** anvil's state file: loaded at start when it exists, written every STATE_INTERVAL_S and on exit. */
  stateFile?: string;
}

/**
 * Seconds between two saves of a chain's state file: what a SIGKILL can lose at most. Each save
 * writes the whole chain, so once a second is the cost a devnet pays to survive a crash.
 */
export const STATE_INTERVAL_S = 1;

/** anvil's arguments for a devnet chain (also written by `devnet export`). */
export function anvilArgs(a: AnvilSpec, host: string, port: number) {
  const args = [
    "--host",
    host,
    "--port",
    String(port),
    "--chain-id",
    String(a.chainId),
    ...ANVIL_HISTORY_ARGS,
  ];
  args.push("--accounts", String(a.accounts), "--mnemonic", a.mnemonic, "--balance", "100000");
  if (a.blockTime > 0) args.push("--block-time", String(a.blockTime));
  if (a.stateFile) args.push("--state", a.stateFile, "--state-interval", String(STATE_INTERVAL_S));
  // Logs are kept small: a load test would otherwise write megabytes per second.
  args.push("--silent");
  return args;
}

export class ProcessLauncher implements Launcher {
  readonly kind = "process" as const;
  readonly bindHost = "127.0.0.1";

  constructor(
    readonly runtime: ProcessRuntime,
    private readonly kept?: KeptPorts,
  ) {}

  async allocate(roles: Record<string, number>, component?: string): Promise<Record<string, number>> {
    const names = Object.keys(roles);
    const ports = this.kept
      ? await this.kept.take(component, names.length)
      : await findFreePorts(names.length);
    return Object.fromEntries(names.map((n, i) => [n, ports[i]!]));
  }

  async launch(spec: LaunchSpec, signal?: AbortSignal): Promise<Launched> {
    const ports = spec.ports;
    const base: Pick<ProcessComponentSpec, "name" | "env" | "wait" | "ports"> = {
      name: spec.name,
      env: spec.env,
      wait: spec.wait(ports),
      ports: Object.values(ports),
    };
    const processSpec: ProcessComponentSpec =
      "anvil" in spec.what
        ? {
            ...base,
            env: { ...spec.env, ...ANVIL_ENV },
            command: anvilBinaryPath(),
            args: anvilArgs(spec.what.anvil, "127.0.0.1", ports.rpc!),
          }
        : {
            ...base,
            command: process.execPath,
            args: [path.join(packageRoot(), "bin", "avsctl.js"), ...spec.what.avsctl],
          };
    const started = await this.runtime.start(processSpec, { signal, warn: spec.warn });
    const url = (role: string, p = "") => `${this.internalUrlOf(spec.name, ports[role]!)}${p}`;
    return { name: spec.name, started, internalUrl: url, hostUrl: url };
  }

  internalUrlOf(_name: string, port: number): string {
    return `http://127.0.0.1:${port}`;
  }

  async reachHost(url: string): Promise<string> {
    return url;
  }
}

export class DockerLauncher implements Launcher {
  readonly kind = "docker" as const;
  readonly bindHost = "0.0.0.0";

  constructor(
    readonly runtime: DockerRuntime,
    readonly image: string,
  ) {}

  async allocate(roles: Record<string, number>): Promise<Record<string, number>> {
    return { ...roles };
  }

  async launch(spec: LaunchSpec, signal?: AbortSignal): Promise<Launched> {
    const ports = spec.ports;
    const command =
      "anvil" in spec.what
        ? ["anvil", ...anvilArgs(spec.what.anvil, "0.0.0.0", ports.rpc!)]
        : ["node", "/app/bin/avsctl.js", ...spec.what.avsctl];
    const dockerSpec: DockerComponentSpec = {
      name: spec.name,
      image: this.image,
      command,
      entrypoint: [],
      env: "anvil" in spec.what ? { ...spec.env, ...ANVIL_ENV } : spec.env,
      ...(spec.volumes ? { volumes: spec.volumes } : {}),
      ports: Object.values(ports),
      wait: spec.wait(ports),
      stopTimeoutSec: 3,
    };
    const started = await this.runtime.start(dockerSpec, { signal });
    return {
      name: spec.name,
      started,
      internalUrl: (role, p = "") => `${this.internalUrlOf(spec.name, ports[role]!)}${p}`,
      hostUrl: (role, p = "") => started.url(ports[role]!, p),
    };
  }

  internalUrlOf(name: string, port: number): string {
    return `http://${name}:${port}`;
  }

  async reachHost(url: string): Promise<string> {
    return this.runtime.containerUrl(url);
  }
}
