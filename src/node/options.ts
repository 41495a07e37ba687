/**
 * Options of the node runtime. The fields mirror the flags of `avsctl node` (docs/cli.md) and
 * the environment names of Othentic's examples (docs/protocol.md#node-environment), so the CLI
 * only maps flags onto this shape and `nodeOptionsFromEnv` fills the rest.
 */

import { parseAttestationCenters, parseChainId, parseRpcList } from "../chain/endpoint-lists.js";
import { parseAddress } from "../crypto/address.js";
import { AvsctlError, invalidArgument, missingArgument } from "../errors.js";
import type { LogSink } from "./log.js";

/** One L2 the node serves: where its AttestationCenter lives. */
export interface L2Target {
  chainId: number;
  rpcUrl: string;
  attestationCenter: string;
}

/** The L1 side (AvsGovernance): read by internal tasks and the registration relayer. */
export interface L1Target {
  chainId?: number;
  rpcUrl: string;
  avsGovernance?: string;
}

/** An internal task schedule (`INTERNAL_TASKS` entry). */
export interface InternalTaskSchedule {
  name: "VOTING_POWER_SYNC" | "VOTING_POWER_PER_TASK_DEFINITION_SYNC";
  intervalMs: number;
}

/** What both roles share. */
export interface NodeCommonOptions {
  /** Operator ECDSA key (0x-hex). Resolved from `--keystore` by the caller when given. */
  privateKey?: string;
  /** `--keystore <file>`: an ECDSA Web3 Secret Storage file, opened with `keystorePassword`. */
  keystore?: string;
  keystorePassword?: string;
  /** `--l1-chain` plus L1_RPC / AVS_GOVERNANCE_ADDRESS. */
  l1?: L1Target;
  /** `--l2-chain` plus L2_RPC / ATTESTATION_CENTER_ADDRESS; the first is the default target. */
  l2: L2Target[];
  /** Bind address of every port; 127.0.0.1 unless told otherwise (inside containers 0.0.0.0). */
  host?: string;
  /** `--metrics`, `--metrics.port` (default 6060): Prometheus text on /metrics plus /health. */
  metrics?: boolean;
  metricsPort?: number;
  /** `--avs-webapi` and `--avs-webapi-port`: the validation service (docs/protocol.md#services). */
  avsWebapi?: string;
  avsWebapiPort?: number;
  /** Where JSON log lines go (the process entry writes them to stdout). Default: nowhere. */
  log?: LogSink;
  /** Stops the node when aborted (same as handle.stop()). */
  signal?: AbortSignal;
}

export interface AggregatorOptions extends NodeCommonOptions {
  /** `--json-rpc`: serve the JSON-RPC methods (the p2p endpoints are always served). Default true. */
  jsonRpc?: boolean;
  /** `--json-rpc.port`, default 8545; 0 picks a free port. */
  jsonRpcPort?: number;
  /** `--json-rpc.custom-message-enabled`: accept sendCustomMessage. */
  customMessageEnabled?: boolean;
  /** `--internal-tasks` (+ INTERNAL_TASKS / `--sync-interval`); empty or undefined: none. */
  internalTasks?: InternalTaskSchedule[];
  /** Task journal (node:sqlite file). Default: in memory (nothing survives a restart). */
  journalPath?: string;
  /** A task that reaches neither threshold within this time is reported timed out. Default 30 s. */
  taskTimeoutMs?: number;
  /**
   * For this long after the aggregator starts listening, attesters not connected yet are not
   * held against tasks (neither refused nor ended unreachable for want of them). Default 5 s.
   */
  joinGraceMs?: number;
  /** How often the operator / voting-power cache is refreshed from the chain. Default 5 s. */
  chainRefreshMs?: number;
  /** Run the L1 -> L2 registration relayer in this process with this L2 message-handler key. */
  relayer?: { privateKey: string; pollMs?: number };
  /** Caps on untrusted input. */
  limits?: Partial<RequestLimits>;
}

export interface AttesterOptions extends NodeCommonOptions {
  /**
   * The BLS secret (0x-hex) the attester votes with (AVSCTL_BLS_SECRET_KEY), for an operator
   * registered with a BLS key of its own. Default: derived from the ECDSA key as Othentic's
   * clients do.
   */
  blsSecretKey?: string;
  /** The aggregator's base URL (also OTHENTIC_CLIENT_RPC_ADDRESS); the attester dials it. */
  aggregatorUrl: string;
  /** Only accept tasks from this aggregator address (default: any active operator). */
  aggregatorAddress?: string;
  /** Time allowed to the validation service per task. Default 10 s. */
  validationTimeoutMs?: number;
  /** Validation calls in flight at once. Default 64. */
  validationConcurrency?: number;
  /**
   * avsctl's own: the validation service of given task definitions (`--avs-webapi-for
   * <id>=<url>`, AVSCTL_AVS_WEBAPI_FOR); any other definition goes to `avsWebapi`.
   */
  avsWebapiFor?: ReadonlyMap<number, string>;
}

export interface RequestLimits {
  /** HTTP request body cap in bytes. */
  maxBodyBytes: number;
  /** Requests per JSON-RPC batch. */
  maxBatch: number;
  /** proofOfTask length in characters. */
  maxProofLength: number;
  /** `data` size in bytes. */
  maxDataBytes: number;
  /** Tasks accepted but not yet ended; beyond it sendTask answers OVERLOADED (`--max-pending-tasks`). */
  maxPendingTasks: number;
}

export const DEFAULT_LIMITS: RequestLimits = {
  maxBodyBytes: 1024 * 1024,
  maxBatch: 100,
  maxProofLength: 16 * 1024,
  maxDataBytes: 64 * 1024,
  // An accepted task waits behind those in progress: its latency is about pending / throughput
  // (Little's law). 256 is one to two seconds of work at the 130-250 tasks/s a node reaches on
  // two cores, so accepted tasks stay fast under overload and the excess is refused at once;
  // at 2,000 a burst queued 20 s of work and nothing was refused.
  maxPendingTasks: 256,
};

export const DEFAULT_JSON_RPC_PORT = 8545;
export const DEFAULT_METRICS_PORT = 6060;
export const DEFAULT_AVS_WEBAPI_PORT = 4002;
export const DEFAULT_INTERNAL_TASK_INTERVAL_MS = 3_600_000;
export const MIN_INTERNAL_TASK_INTERVAL_MS = 60_000;

/**
 * `INTERNAL_TASKS='[{"name":"VOTING_POWER_SYNC","interval":3600000}]'` (interval in ms, minimum
 * 60,000). A legacy `--sync-interval` becomes a VOTING_POWER_SYNC entry.
 */
export function parseInternalTasks(
  json: string | undefined,
  syncIntervalMs?: number,
): InternalTaskSchedule[] {
  const out: InternalTaskSchedule[] = [];
  if (json !== undefined && json.trim() !== "") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      throw invalidArgument(
        "INTERNAL_TASKS",
        "not valid JSON",
        `example: [{"name":"VOTING_POWER_SYNC","interval":3600000}]`,
      );
    }
    if (!Array.isArray(parsed)) throw invalidArgument("INTERNAL_TASKS", "expected a JSON array");
    for (const entry of parsed) {
      const name = (entry as { name?: unknown })?.name;
      if (name !== "VOTING_POWER_SYNC" && name !== "VOTING_POWER_PER_TASK_DEFINITION_SYNC") {
        throw invalidArgument("INTERNAL_TASKS", `unknown internal task ${JSON.stringify(name)}`);
      }
      const interval = (entry as { interval?: unknown }).interval ?? DEFAULT_INTERNAL_TASK_INTERVAL_MS;
      out.push({ name, intervalMs: checkInterval(Number(interval), "INTERNAL_TASKS") });
    }
  }
  if (syncIntervalMs !== undefined && !out.some((t) => t.name === "VOTING_POWER_SYNC")) {
    out.push({ name: "VOTING_POWER_SYNC", intervalMs: checkInterval(syncIntervalMs, "--sync-interval") });
  }
  return out;
}

function checkInterval(ms: number, what: string): number {
  if (!Number.isSafeInteger(ms) || ms < MIN_INTERNAL_TASK_INTERVAL_MS) {
    throw invalidArgument(
      what,
      `interval must be an integer of at least ${MIN_INTERNAL_TASK_INTERVAL_MS} ms`,
    );
  }
  return ms;
}

/**
 * Validation service URL from `--avs-webapi` and `--avs-webapi-port` (Othentic passes the host
 * and the port separately; the port defaults to 4002 when neither names one).
 */
export function resolveWebapiUrl(base: string, port?: number): string {
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(base) ? base : `http://${base}`);
  } catch {
    throw invalidArgument("--avs-webapi", `"${base}" is not a URL`);
  }
  if (port !== undefined) url.port = String(port);
  else if (url.port === "") url.port = String(DEFAULT_AVS_WEBAPI_PORT);
  return url.toString().replace(/\/$/, "");
}

/**
 * `--avs-webapi-for <taskDefinitionId>=<url>` (repeatable) or AVSCTL_AVS_WEBAPI_FOR
 * (`id=url,id=url`): which validation service validates which task definition. A definition
 * named twice, a bad id or a bad URL is refused (exit 2).
 */
export function parseWebapiRoutes(values: readonly string[], what = "--avs-webapi-for"): Map<number, string> {
  const routes = new Map<number, string>();
  for (const raw of values
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter(Boolean)) {
    const eq = raw.indexOf("=");
    const id = eq > 0 ? raw.slice(0, eq).trim() : "";
    if (!/^[0-9]{1,5}$/.test(id) || Number(id) > 65535) {
      throw invalidArgument(what, `"${raw}" is not <taskDefinitionId>=<url>`, "e.g. 2=http://127.0.0.1:8092");
    }
    const n = Number(id);
    if (routes.has(n)) throw invalidArgument(what, `task definition ${n} is named twice`);
    const url = raw.slice(eq + 1).trim();
    if (!/^https?:\/\//i.test(url)) throw invalidArgument(what, `"${url}" is not an http(s) URL`);
    routes.set(n, resolveWebapiUrl(url));
  }
  return routes;
}

export type NodeRole = "aggregator" | "attester";

/** Options read from the environment; the CLI lays its flags over them. */
export interface EnvNodeOptions {
  privateKey?: string;
  l1?: L1Target;
  l2: L2Target[];
  internalTasks?: InternalTaskSchedule[];
  aggregatorUrl?: string;
  avsWebapi?: string;
  avsWebapiFor?: Map<number, string>;
  blsSecretKey?: string;
}

/**
 * Reads the Othentic environment names (docs/protocol.md#node-environment): the role's key
 * (`PRIVATE_KEY_AGGREGATOR` or `PRIVATE_KEY_ATTESTER<n>` with `attesterIndex`, else
 * `PRIVATE_KEY`), `L1_RPC`, `L1_CHAIN`, `AVS_GOVERNANCE_ADDRESS`, `L2_RPC`, `L2_CHAIN`,
 * `ATTESTATION_CENTER_ADDRESS` (single or `id@0x..` list), `INTERNAL_TASKS`,
 * `OTHENTIC_CLIENT_RPC_ADDRESS` (the aggregator, for attesters) and `AVS_WEBAPI`.
 * L2 chain ids missing from the environment are left 0 for `resolveChainIds` to fill from RPC.
 */
export function nodeOptionsFromEnv(
  env: NodeJS.ProcessEnv,
  role: NodeRole = "aggregator",
  attesterIndex?: number,
): EnvNodeOptions {
  const pick = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  };
  const roleKey =
    role === "aggregator"
      ? pick("PRIVATE_KEY_AGGREGATOR")
      : attesterIndex !== undefined
        ? pick(`PRIVATE_KEY_ATTESTER${attesterIndex}`)
        : undefined;
  const privateKey = roleKey ?? pick("PRIVATE_KEY");

  const l1Rpc = pick("L1_RPC");
  const l1: L1Target | undefined = l1Rpc
    ? {
        rpcUrl: l1Rpc,
        chainId: pick("L1_CHAIN") ? parseChainId(pick("L1_CHAIN")!, "L1_CHAIN") : undefined,
        avsGovernance: pick("AVS_GOVERNANCE_ADDRESS")
          ? parseAddress(pick("AVS_GOVERNANCE_ADDRESS")!.trim(), "AVS_GOVERNANCE_ADDRESS")
          : undefined,
      }
    : undefined;

  const chainList = pick("L2_CHAIN")
    ?.split(",")
    .map((c) => c.trim())
    .filter(Boolean)
    .map((c) => parseChainId(c, "L2_CHAIN"));
  const rpcs = pick("L2_RPC") ? parseRpcList(pick("L2_RPC")!, "L2_RPC") : [];
  const centers = pick("ATTESTATION_CENTER_ADDRESS")
    ? parseAttestationCenters(
        pick("ATTESTATION_CENTER_ADDRESS")!,
        "ATTESTATION_CENTER_ADDRESS",
        chainList?.[0],
      )
    : [];

  const l2: L2Target[] = centers.map((center, i) => {
    const chainId = center.chainId ?? chainList?.[i];
    const rpc =
      rpcs.find((r) => r.chainId !== undefined && r.chainId === chainId) ??
      rpcs.filter((r) => r.chainId === undefined)[i] ??
      rpcs[0];
    if (!rpc) throw missingArgument("L2_RPC", "missing", "set L2_RPC to the L2 RPC URL");
    return { chainId: chainId ?? 0, rpcUrl: rpc.url, attestationCenter: center.address };
  });

  const internalJson = pick("INTERNAL_TASKS");
  return {
    privateKey,
    l1,
    l2,
    internalTasks: internalJson ? parseInternalTasks(internalJson) : undefined,
    aggregatorUrl: pick("OTHENTIC_CLIENT_RPC_ADDRESS") ?? pick("AGGREGATOR_URL"),
    avsWebapi: pick("AVS_WEBAPI"),
    avsWebapiFor: pick("AVSCTL_AVS_WEBAPI_FOR")
      ? parseWebapiRoutes([pick("AVSCTL_AVS_WEBAPI_FOR")!], "AVSCTL_AVS_WEBAPI_FOR")
      : undefined,
    blsSecretKey: pick("AVSCTL_BLS_SECRET_KEY"),
  };
}

/** Checks the key shape without ever echoing it. */
export function checkPrivateKey(key: string | undefined, what: string): string {
  if (key === undefined) {
    throw new AvsctlError("MISSING_ARGUMENT", `${what}: no operator key`, {
      hint: "set PRIVATE_KEY (or PRIVATE_KEY_AGGREGATOR / PRIVATE_KEY_ATTESTER<n>) or pass --keystore",
    });
  }
  const k = key.startsWith("0x") ? key : `0x${key}`;
  if (!/^0x[0-9a-fA-F]{64}$/.test(k))
    throw new AvsctlError("INVALID_KEY", `${what}: not a 32-byte hex private key`);
  return k.toLowerCase();
}
