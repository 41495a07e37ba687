/**
 * The vocabulary shared by the Docker and the process runtime. The devnet orchestration
 * (topology plan, deploy, register, state) talks to either runtime through `DevnetRuntime`
 * and only picks the spec type that fits.
 */

import { AvsctlError } from "../../errors.js";

export type RuntimeKind = "docker" | "process";

interface WaitCommon {
  /** How long this strategy may take before the start fails with TIMEOUT (default 60 s). */
  timeoutMs?: number;
}

/**
 * An HTTP GET answers. `port` is the port the component listens on: the container port for
 * Docker (probed through its published 127.0.0.1 port), the host port for a process.
 */
export interface HttpWait extends WaitCommon {
  kind: "http";
  port: number;
  /** Default `/`. */
  path?: string;
  /** Exact status expected; default any 2xx. */
  status?: number;
}

/** A JSON-RPC 2.0 POST answers with a JSON-RPC response (a JSON-RPC `error` reply counts as answering). */
export interface JsonRpcWait extends WaitCommon {
  kind: "json-rpc";
  port: number;
  /** Default `/`. */
  path?: string;
  /** Default `eth_chainId`. */
  method?: string;
  params?: unknown[];
  /** Only a `result` counts, not an `error` reply. */
  requireResult?: boolean;
}

/** A TCP connection to the port succeeds. */
export interface TcpWait extends WaitCommon {
  kind: "tcp";
  port: number;
}

/** A line of the component's output (stdout or stderr) matches, `times` times (default 1). */
export interface LogWait extends WaitCommon {
  kind: "log";
  /** A regular expression source (kept as a string so strategies can be stored in labels/files). */
  pattern: string;
  flags?: string;
  times?: number;
}

export type WaitStrategy = HttpWait | JsonRpcWait | TcpWait | LogWait;

interface ComponentSpecBase {
  /** Component name, unique in the project: `l1`, `l2-1`, `aggregator`, `attester-2`, `execution`. */
  name: string;
  env?: Record<string, string>;
  /** Checked in order after the start; all must pass. */
  wait?: WaitStrategy[];
}

/** A published container port. `host` omitted or 0: a free 127.0.0.1 port is chosen. */
export interface PortSpec {
  container: number;
  host?: number;
}

export interface DockerVolumeSpec {
  /** Short name; the volume is `avsctl-<project>-<name>` and carries the project labels. */
  name: string;
  target: string;
  readOnly?: boolean;
}

export interface DockerComponentSpec extends ComponentSpecBase {
  image: string;
  /** Arguments (`CMD`); the image's entrypoint stays unless `entrypoint` is set. */
  command?: string[];
  entrypoint?: string[];
  /** Container ports to publish on 127.0.0.1 (number = container port, host port chosen). */
  ports?: Array<number | PortSpec>;
  /** Extra DNS names on the project network; the component name is always one. */
  aliases?: string[];
  volumes?: DockerVolumeSpec[];
  /** Host bind mounts, `"/abs/host/path:/container/path[:ro]"`. */
  binds?: string[];
  workingDir?: string;
  user?: string;
  /** Added to `host.docker.internal:<gateway>` which every container gets. */
  extraHosts?: string[];
  /** Extra labels (the avsctl labels are always set and win). */
  labels?: Record<string, string>;
  /** Seconds `stop` waits before SIGKILL (default 5). */
  stopTimeoutSec?: number;
}

export interface ProcessComponentSpec extends ComponentSpecBase {
  /** Executable (PATH lookup) or absolute path. */
  command: string;
  args?: string[];
  /** Working directory (default: the project directory). */
  cwd?: string;
  /** Ports the process listens on (host ports), reported as `{port: port}`. */
  ports?: number[];
  /** Milliseconds between SIGTERM and SIGKILL on stop (default 3000). */
  stopGraceMs?: number;
}

export type ComponentState = "running" | "created" | "restarting" | "paused" | "exited" | "dead" | "missing";

export interface ComponentInfo {
  component: string;
  runtime: RuntimeKind;
  /** Container id, or the process group leader's pid as a string. */
  id: string;
  /** Process runtime: the pid (= process group id) to keep in the state file. */
  pid?: number;
  /** `{ "<container or listening port>": <host port on 127.0.0.1> }`. */
  ports: Record<string, number>;
  state: ComponentState;
  running: boolean;
  startedAt?: string;
  exitCode?: number;
  /** Process runtime: `<projectDir>/.avsctl/logs/<component>.log`. */
  logFile?: string;
  /** Times it was started again after it died (Docker's restart policy, the process supervisor). */
  restarts?: number;
}

export interface ComponentHealth extends ComponentInfo {
  /** Running, and every HTTP/JSON-RPC/TCP wait strategy answers right now. */
  healthy: boolean;
  /** Human-readable reasons when not healthy (empty when healthy). */
  problems: string[];
}

export interface StartedComponent extends ComponentInfo {
  /** Host port on 127.0.0.1 for a container/listening port; throws when it is not published. */
  hostPort(port: number): number;
  /** `http://127.0.0.1:<hostPort(port)><path>`. */
  url(port: number, path?: string): string;
  /** Stops and removes this component (idempotent). */
  remove(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface StartOptions {
  signal?: AbortSignal;
  /**
   * Process runtime: called once, with its pid, when another process (the devnet's supervisor)
   * is starting or stopping the component now and this start waits for it to be done.
   */
  onWait?: (holder: number) => void;
  /**
   * Process runtime: told what the start had to set right before it could start (a chain's
   * state file cut short, started from its last whole copy: ../chain-storage.ts).
   */
  warn?: (message: string) => void;
}

export interface LogOptions {
  /** Keep streaming new lines until `signal` aborts. */
  follow?: boolean;
  /** Only the last N lines of what is already there (default: all; with `follow`: 100; 0: none). */
  tail?: number;
  /** Docker: each line starts with the RFC 3339 time it was captured and a space (a process log has none to give). */
  timestamps?: boolean;
  signal?: AbortSignal;
}

export interface RemovedResources {
  containers: string[];
  networks: string[];
  volumes: string[];
  /** Process runtime: pids of the process groups that were killed. */
  processes: number[];
}

export interface HealthOptions {
  /** Per-probe timeout (default 2 s). */
  probeTimeoutMs?: number;
}

/**
 * What the orchestration needs from a runtime. All methods are idempotent where that makes
 * sense: stopping or removing something that is already gone succeeds.
 */
export interface DevnetRuntime<Spec> {
  readonly kind: RuntimeKind;
  /** Sanitised project name. */
  readonly project: string;
  /**
   * Start one component and wait until its strategies pass. A component of the same name is
   * replaced. On any failure what was created is removed and the error rethrown
   * (DEVNET_START_FAILED when it exited, TIMEOUT when it never became ready).
   */
  start(spec: Spec, options?: StartOptions): Promise<StartedComponent>;
  stop(component: string): Promise<void>;
  remove(component: string): Promise<void>;
  /** Restart with the configuration it was started with, then wait again. */
  restart(component: string, options?: StartOptions): Promise<StartedComponent>;
  /** Current state without probing; `state: "missing"` when it does not exist. */
  inspect(component: string): Promise<ComponentInfo>;
  /** Current state plus a one-shot probe of its HTTP/JSON-RPC/TCP strategies. */
  health(component: string, options?: HealthOptions): Promise<ComponentHealth>;
  /** Every component of the project, running or not. */
  list(): Promise<ComponentInfo[]>;
  /** Lines of the component's output (stdout and stderr interleaved). */
  logs(component: string, options?: LogOptions): AsyncIterable<string>;
  /**
   * Remove every container/network/volume/process of this project, and only those. `keepVolumes`:
   * Docker volumes (the devnet's saved state) stay; processes keep theirs in files anyway.
   */
  removeProject(opts?: { keepVolumes?: boolean }): Promise<RemovedResources>;
}

/** NOT_FOUND for a component the devnet does not have (restart, logs). */
export function notPartOf(component: string, project: string): AvsctlError {
  return new AvsctlError("NOT_FOUND", `${component} is not part of the ${project} devnet`, {
    hint: "Run `avsctl devnet status` to see the components, or `avsctl devnet up` to start them.",
    details: { component },
  });
}
