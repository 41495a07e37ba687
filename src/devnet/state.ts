import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { AvsctlError } from "../errors.js";

export type ServiceRuntime = "docker" | "process" | "external";

/** The devnet state of docs/cli.md (`devnet up --json` / `status --json`), plus private bookkeeping. */
export interface DevnetState {
  name: string;
  runtime: "docker" | "process";
  healthy: boolean;
  l1: { chainId: number; rpcUrl: string; avsGovernance: string };
  l2: Array<{
    chainId: number;
    rpcUrl: string;
    attestationCenter: string;
    obls: string;
    internalTaskHandler: string;
  }>;
  aggregator: { rpcUrl: string; address: string; operatorId: number; metricsUrl: string };
  attesters: Array<{ name: string; address: string; operatorId: number; votingPower: string }>;
  performer: { address: string; privateKey: string };
  deployer: { address: string; privateKey: string };
  services: { execution: string | null; validation: string | null };
  /**
   * Where each service runs: a container, a process on this machine, or one the user runs
   * (`--execution-url`/`--validation-url`); null without a service. Absent in older states.
   */
  serviceRuntimes?: { execution: ServiceRuntime | null; validation: ServiceRuntime | null };
  /** The devnet's IPFS node: Kubo's RPC API, a path gateway (ends in `/ipfs/`) and Pinata's API. */
  ipfs?: { apiUrl: string; gatewayUrl: string; pinataUrl: string };
  /**
   * The task engine (docs/task-engine.md): its URL, the chain id sign-in messages name, and the
   * task definition its executions are sent as. Absent in older states.
   */
  engine?: { url: string; chainId: number; taskDefinitionId: number };
  taskDefinitions: Array<{ taskDefinitionId: number; name: string }>;
  /**
   * `status` only, when the first L2 did not answer: `taskDefinitions` is then the list the last
   * `up` read from it, at this time (null when the state does not say), not the chain's now.
   */
  taskDefinitionsSavedAt?: string | null;
  startupMs: number;
  /** Not part of the public JSON: what `down`/`status` need to find every component. */
  internal?: DevnetInternal;
}

export interface DevnetInternal {
  projectDir: string;
  startedAt: string;
  /** The project's task definitions `up` read from the first L2, and when (what `status` gives while it is down). */
  taskDefinitionsRead?: { at: string; list: DevnetState["taskDefinitions"] };
  components: Array<{
    name: string;
    kind: "chain" | "aggregator" | "attester" | "service" | "feed" | "relayer";
    /** Set when it runs elsewhere than the devnet's runtime (a host process in a Docker devnet). */
    runtime?: "docker" | "process";
    pid?: number;
    containerId?: string;
    /** How `status` checks it: a JSON-RPC or HTTP URL on the host. */
    healthUrl?: string;
    healthKind?: "jsonrpc" | "http";
  }>;
  [key: string]: unknown;
}

export function stateDir(projectDir: string): string {
  return path.join(projectDir, ".avsctl");
}

export function statePath(projectDir: string): string {
  return path.join(stateDir(projectDir), "devnet.json");
}

export function readDevnetState(projectDir: string): DevnetState | undefined {
  const file = statePath(projectDir);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as DevnetState;
  } catch (error) {
    throw new AvsctlError("DEVNET_UNHEALTHY", `${file} is not readable devnet state`, {
      hint: "run `avsctl devnet down` then `avsctl devnet up`",
      cause: error,
    });
  }
}

/** Written atomically, so a crash mid-write never leaves half a state file. */
export function writeDevnetState(projectDir: string, state: DevnetState): void {
  mkdirSync(stateDir(projectDir), { recursive: true });
  const file = statePath(projectDir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

export function removeDevnetState(projectDir: string): void {
  rmSync(statePath(projectDir), { force: true });
}

/** The public JSON of docs/cli.md: the state without private bookkeeping. */
export function publicState(state: DevnetState): Omit<DevnetState, "internal"> {
  const { internal: _internal, ...rest } = state;
  return rest;
}

export function requireDevnetState(projectDir: string): DevnetState {
  const state = readDevnetState(projectDir);
  if (!state) {
    throw new AvsctlError("NO_DEVNET", `no devnet is running for the project in ${projectDir}`, {
      // its callers (devnet logs, devnet restart) take no --rpc-url: name nothing they reject
      hint: "start one with `avsctl devnet up`",
    });
  }
  return state;
}
