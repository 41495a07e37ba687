/**
 * The avsctl configuration: its types, defaults and validation. Validation never throws; it
 * returns the normalised config with problems by dotted path, so the caller decides how to
 * report them (CLI: CONFIG_INVALID naming file and key).
 */

import { parseAttestationCenters } from "../chain/endpoint-lists.js";
import { parseTaskDefinitionInput, type TaskDefinitionNames } from "../chain/task-def-input.js";
import { isAvsctlError } from "../errors.js";
import type { ConfigProblem } from "./problem.js";
import { parseTrigger, type TriggerConfig } from "./triggers.js";

export type { ConfigProblem } from "./problem.js";
export type {
  BlockTriggerConfig,
  CronTriggerConfig,
  EventTriggerConfig,
  FixedTimeTriggerConfig,
  IntervalTriggerConfig,
  TriggerCommonConfig,
  TriggerConfig,
} from "./triggers.js";

export type Runtime = "auto" | "docker" | "process";
export type AbiGeneration = "auto" | "gen1" | "gen2";

export interface ServiceConfig {
  /** Directory of the service, relative to the project root. */
  dir?: string;
  port?: number;
  /** Command that starts it in the process runtime (e.g. "npm start"). */
  command?: string;
  dockerfile?: string;
  /** A service the user runs himself; nothing is started. */
  url?: string;
}

export interface TaskDefinitionConfig {
  name: string;
  /** A block number or "never" (2^256-1). */
  blockExpiry?: string;
  rewardAttesters?: string;
  rewardPerformer?: string;
  rewardAggregator?: string;
  disputePeriod?: number;
  minVotingPower?: string;
  restrictedOperators?: number[];
  maxAttesters?: number;
  triggers?: TriggerConfig[];
}

export interface AvsctlConfig {
  name?: string;
  network: {
    rpcUrl?: string;
    attestationCenter?: string;
    chainId?: number;
    keystore?: string;
    abi: AbiGeneration;
  };
  devnet: {
    runtime: Runtime;
    attesters: number;
    l2Chains: number;
    blockTime: number;
    l1ChainId: number;
    l2ChainId: number;
    services: boolean;
    /** Base image of the devnet image (chains, nodes); services build on their own Dockerfiles. */
    baseImage?: string;
    mnemonic?: string;
    /** PEM file of CA certificates the project's service images and containers trust. */
    caCerts?: string;
    /** Where the project's services run; default: the devnet's runtime. */
    servicesRuntime?: "docker" | "process";
    /** Whether `up` starts the task engine; default: on in a workflow project (a workflow.json at the root). */
    engine?: boolean;
    /** The aggregator's bound on tasks in progress (its `--max-pending-tasks`); default the node's. */
    maxPendingTasks?: number;
  };
  services: { execution?: ServiceConfig; validation?: ServiceConfig };
  taskDefinitions: TaskDefinitionConfig[];
}

export interface ValidationResult {
  config: AvsctlConfig;
  errors: ConfigProblem[];
  warnings: ConfigProblem[];
}

export function defaultConfig(): AvsctlConfig {
  return {
    network: { abi: "auto" },
    devnet: {
      runtime: "auto",
      attesters: 3,
      l2Chains: 1,
      blockTime: 0,
      l1ChainId: 31337,
      l2ChainId: 31338,
      services: true,
    },
    services: {},
    taskDefinitions: [],
  };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const describe = (v: unknown) => (Array.isArray(v) ? "an array" : v === null ? "null" : `a ${typeof v}`);

/** Checks one object against its known keys; collects problems instead of throwing. */
class Checker {
  readonly errors: ConfigProblem[] = [];
  readonly warnings: ConfigProblem[] = [];

  fail(path: string, message: string): undefined {
    this.errors.push({ path, message });
    return undefined;
  }

  unknownKeys(obj: Obj, known: readonly string[], path: string): void {
    for (const key of Object.keys(obj)) {
      if (!known.includes(key))
        this.warnings.push({ path: join(path, key), message: "unknown key, ignored" });
    }
  }

  string(obj: Obj, key: string, path: string): string | undefined {
    const v = obj[key];
    if (v === undefined) return undefined;
    return typeof v === "string" ? v : this.fail(join(path, key), `expected a string, got ${describe(v)}`);
  }

  /** Amounts and big integers: a decimal string, or a safe integer number. */
  amount(obj: Obj, key: string, path: string): string | undefined {
    const v = obj[key];
    if (v === undefined) return undefined;
    if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return String(v);
    if (typeof v === "string" && v.trim() !== "") return v.trim();
    return this.fail(
      join(path, key),
      `expected a non-negative integer or a string like "0.1eth", got ${describe(v)}`,
    );
  }

  int(obj: Obj, key: string, path: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const v = obj[key];
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      return this.fail(
        join(path, key),
        `expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`,
      );
    }
    return v;
  }

  bool(obj: Obj, key: string, path: string): boolean | undefined {
    const v = obj[key];
    if (v === undefined) return undefined;
    return typeof v === "boolean"
      ? v
      : this.fail(join(path, key), `expected true or false, got ${describe(v)}`);
  }

  oneOf<T extends string>(obj: Obj, key: string, path: string, allowed: readonly T[]): T | undefined {
    const v = obj[key];
    if (v === undefined) return undefined;
    if (typeof v === "string" && (allowed as readonly string[]).includes(v)) return v as T;
    return this.fail(join(path, key), `expected one of ${allowed.join(", ")}, got ${JSON.stringify(v)}`);
  }

  /**
   * Runs a parser of the flags on config values; its error, which names `path` (the parser was
   * given it as the name), becomes a problem at that path.
   */
  parsed(fallbackPath: string, parse: () => void): void {
    try {
      parse();
    } catch (error) {
      if (!isAvsctlError(error)) throw error;
      const argument = error.details?.argument;
      const path = typeof argument === "string" ? argument : fallbackPath;
      this.fail(
        path,
        error.message.startsWith(`${path}: `) ? error.message.slice(path.length + 2) : error.message,
      );
    }
  }

  section(obj: Obj, key: string, path: string): Obj | undefined {
    const v = obj[key];
    if (v === undefined) return undefined;
    return isObj(v) ? v : this.fail(join(path, key), `expected an object, got ${describe(v)}`);
  }
}

function join(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

const TOP_KEYS = ["$schema", "name", "network", "devnet", "services", "taskDefinitions"] as const;
const NETWORK_KEYS = ["rpcUrl", "attestationCenter", "chainId", "keystore", "abi"] as const;
export const DEVNET_KEYS = [
  "runtime",
  "attesters",
  "l2Chains",
  "blockTime",
  "l1ChainId",
  "l2ChainId",
  "services",
  "baseImage",
  "mnemonic",
  "caCerts",
  "servicesRuntime",
  "engine",
  "maxPendingTasks",
] as const;
const SERVICE_KEYS = ["dir", "port", "command", "dockerfile", "url"] as const;
const TASK_DEF_KEYS = [
  "name",
  "blockExpiry",
  "rewardAttesters",
  "rewardPerformer",
  "rewardAggregator",
  "disputePeriod",
  "minVotingPower",
  "restrictedOperators",
  "maxAttesters",
  "triggers",
] as const;
const SECRET_KEYS = ["privateKey", "password", "keystorePassword"];

/** Normalises raw config data (from any file format) into an AvsctlConfig with defaults. */
export function validateConfig(raw: unknown): ValidationResult {
  const c = new Checker();
  const config = defaultConfig();
  if (raw === undefined || raw === null) return { config, errors: [], warnings: [] };
  if (!isObj(raw)) {
    c.fail("", `the configuration must be an object, got ${describe(raw)}`);
    return { config, errors: c.errors, warnings: c.warnings };
  }
  c.unknownKeys(raw, TOP_KEYS, "");
  for (const secret of SECRET_KEYS) {
    if (secret in raw)
      c.fail(secret, "secrets do not belong in the config file; use AVSCTL_PRIVATE_KEY or a keystore");
  }
  const name = c.string(raw, "name", "");
  if (name !== undefined) {
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(name))
      c.fail("name", "expected lowercase letters, digits and dashes");
    else config.name = name;
  }

  const network = c.section(raw, "network", "");
  if (network) {
    c.unknownKeys(network, NETWORK_KEYS, "network");
    for (const secret of SECRET_KEYS) {
      if (secret in network)
        c.fail(`network.${secret}`, "secrets do not belong in the config file; use AVSCTL_PRIVATE_KEY");
    }
    config.network.rpcUrl = c.string(network, "rpcUrl", "network");
    if (config.network.rpcUrl !== undefined && !/^(https?|wss?):\/\//.test(config.network.rpcUrl)) {
      c.fail("network.rpcUrl", "expected an http(s):// or ws(s):// URL");
    }
    config.network.attestationCenter = c.string(network, "attestationCenter", "network");
    const ac = config.network.attestationCenter;
    // checked as the variables are, so a wrong address is the file's error, not a variable's later
    if (ac !== undefined)
      c.parsed("network.attestationCenter", () => parseAttestationCenters(ac, "network.attestationCenter"));
    config.network.chainId = c.int(network, "chainId", "network", 1);
    config.network.keystore = c.string(network, "keystore", "network");
    config.network.abi = c.oneOf(network, "abi", "network", ["auto", "gen1", "gen2"] as const) ?? "auto";
  }

  const devnet = c.section(raw, "devnet", "");
  if (devnet) {
    c.unknownKeys(devnet, DEVNET_KEYS, "devnet");
    const d = config.devnet;
    d.runtime = c.oneOf(devnet, "runtime", "devnet", ["auto", "docker", "process"] as const) ?? d.runtime;
    d.attesters = c.int(devnet, "attesters", "devnet", 1, 64) ?? d.attesters;
    d.l2Chains = c.int(devnet, "l2Chains", "devnet", 1, 8) ?? d.l2Chains;
    d.blockTime = c.int(devnet, "blockTime", "devnet", 0, 3600) ?? d.blockTime;
    d.l1ChainId = c.int(devnet, "l1ChainId", "devnet", 1) ?? d.l1ChainId;
    d.l2ChainId = c.int(devnet, "l2ChainId", "devnet", 1) ?? d.l2ChainId;
    d.services = c.bool(devnet, "services", "devnet") ?? d.services;
    d.baseImage = c.string(devnet, "baseImage", "devnet");
    d.mnemonic = c.string(devnet, "mnemonic", "devnet");
    d.caCerts = c.string(devnet, "caCerts", "devnet");
    d.servicesRuntime = c.oneOf(devnet, "servicesRuntime", "devnet", ["docker", "process"] as const);
    d.engine = c.bool(devnet, "engine", "devnet");
    d.maxPendingTasks = c.int(devnet, "maxPendingTasks", "devnet", 1, 1_000_000);
  }

  const services = c.section(raw, "services", "");
  if (services) {
    c.unknownKeys(services, ["execution", "validation"], "services");
    for (const kind of ["execution", "validation"] as const) {
      const s = c.section(services, kind, "services");
      if (!s) continue;
      const path = `services.${kind}`;
      c.unknownKeys(s, SERVICE_KEYS, path);
      const service: ServiceConfig = {
        dir: c.string(s, "dir", path),
        port: c.int(s, "port", path, 1, 65535),
        command: c.string(s, "command", path),
        dockerfile: c.string(s, "dockerfile", path),
        url: c.string(s, "url", path),
      };
      config.services[kind] = stripUndefined(service);
    }
  }

  const defs = raw.taskDefinitions;
  if (defs !== undefined) {
    if (!Array.isArray(defs)) c.fail("taskDefinitions", `expected an array, got ${describe(defs)}`);
    else {
      const seen = new Set<string>();
      for (const [i, d] of defs.entries()) {
        const path = join("taskDefinitions", i);
        if (!isObj(d)) {
          c.fail(path, `expected an object, got ${describe(d)}`);
          continue;
        }
        c.unknownKeys(d, TASK_DEF_KEYS, path);
        const defName = c.string(d, "name", path);
        if (!defName) {
          if (d.name === undefined) c.fail(join(path, "name"), "required: the task definition name");
          continue;
        }
        if (seen.has(defName)) c.fail(join(path, "name"), `duplicate task definition name "${defName}"`);
        seen.add(defName);
        const restricted = d.restrictedOperators;
        let restrictedOperators: number[] | undefined;
        if (restricted !== undefined) {
          if (!Array.isArray(restricted) || !restricted.every((x) => Number.isInteger(x) && x > 0)) {
            c.fail(join(path, "restrictedOperators"), "expected an array of positive operator ids");
          } else restrictedOperators = restricted as number[];
        }
        let triggers: TriggerConfig[] | undefined;
        if (d.triggers !== undefined) {
          if (!Array.isArray(d.triggers)) c.fail(join(path, "triggers"), "expected an array");
          else {
            triggers = [];
            for (const [j, t] of d.triggers.entries()) {
              const checked = parseTrigger(t, join(join(path, "triggers"), j));
              for (const e of checked.errors) c.fail(e.path, e.message);
              c.warnings.push(...checked.warnings);
              if (checked.config) triggers.push(checked.config);
            }
          }
        }
        const before = c.errors.length;
        const def: TaskDefinitionConfig = {
          name: defName,
          blockExpiry: c.amount(d, "blockExpiry", path),
          rewardAttesters: c.amount(d, "rewardAttesters", path),
          rewardPerformer: c.amount(d, "rewardPerformer", path),
          rewardAggregator: c.amount(d, "rewardAggregator", path),
          disputePeriod: c.int(d, "disputePeriod", path, 0),
          minVotingPower: c.amount(d, "minVotingPower", path),
          restrictedOperators,
          maxAttesters: c.int(d, "maxAttesters", path, 0),
          triggers,
        };
        // the values `task-def apply` and `devnet up` will send, by the parser of the flags
        if (c.errors.length === before) {
          const names = Object.fromEntries(
            TASK_DEF_KEYS.map((key) => [key, join(path, key)]),
          ) as unknown as TaskDefinitionNames;
          c.parsed(path, () => parseTaskDefinitionInput(def, names));
        }
        config.taskDefinitions.push(stripUndefined(def));
      }
    }
  }
  return { config, errors: c.errors, warnings: c.warnings };
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
