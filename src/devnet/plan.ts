import { existsSync } from "node:fs";
import path from "node:path";
import type { AvsctlConfig, ServiceConfig } from "../config/schema.js";
import { invalidArgument } from "../errors.js";
import type { RuntimeRequest } from "./runtime/select.js";

/** How the devnet gets a service: the user's own URL, avsctl's sample, or the project's code. */
export type ServicePlan =
  | { kind: "external"; url: string }
  | { kind: "sample" }
  | { kind: "project"; dir: string; port: number; command?: string; dockerfile: string };

export interface DevnetPlan {
  project: string;
  projectDir: string;
  runtime: RuntimeRequest;
  attesters: number;
  l1ChainId: number;
  l2ChainIds: number[];
  blockTime: number;
  mnemonic?: string;
  baseImage?: string;
  services: { validation: ServicePlan | null; execution: ServicePlan | null };
  /** The project's own task definitions (config), created after definition 1 if missing. */
  taskDefinitionNames: string[];
}

export interface UpFlags {
  runtime?: string;
  attesters?: string;
  l2Chains?: string;
  blockTime?: string;
  services?: boolean;
  fresh?: boolean;
  validationUrl?: string;
  executionUrl?: string;
}

function intFlag(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) {
    throw invalidArgument(flag, `expected an integer from ${min} to ${max}, got "${value}"`);
  }
  return Number(value);
}

function urlFlag(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  try {
    const u = new URL(value);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error("protocol");
    return value.replace(/\/$/, "");
  } catch {
    throw invalidArgument(flag, `"${value}" is not an http(s) URL`);
  }
}

/** A Docker- and process-safe project name from the config, else the directory name. */
export function projectName(config: AvsctlConfig, projectDir: string): string {
  const raw = config.name ?? path.basename(projectDir);
  const clean = raw
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
  return clean || "avs";
}

function servicePlan(
  kind: "execution" | "validation",
  configured: ServiceConfig | undefined,
  projectDir: string,
  defaultPort: number,
): ServicePlan {
  if (configured?.url) return { kind: "external", url: configured.url };
  if (configured?.dir) {
    const dir = path.resolve(projectDir, configured.dir);
    if (!existsSync(dir)) {
      throw invalidArgument(`services.${kind}.dir`, `${dir} does not exist`);
    }
    return {
      kind: "project",
      dir,
      port: configured.port ?? defaultPort,
      command: configured.command,
      dockerfile: configured.dockerfile ?? "Dockerfile",
    };
  }
  return { kind: "sample" };
}

/** The topology from config and flags; checks every flag before anything starts (exit 2). */
export function planDevnet(config: AvsctlConfig, projectDir: string, flags: UpFlags): DevnetPlan {
  const runtime = (flags.runtime ?? config.devnet.runtime) as RuntimeRequest;
  if (!["auto", "docker", "process"].includes(runtime)) {
    throw invalidArgument("--runtime", `expected auto, docker or process, got "${runtime}"`);
  }
  const attesters = intFlag(flags.attesters, "--attesters", 1, 64) ?? config.devnet.attesters;
  const l2Chains = intFlag(flags.l2Chains, "--l2-chains", 1, 8) ?? config.devnet.l2Chains;
  const blockTime = intFlag(flags.blockTime, "--block-time", 0, 3600) ?? config.devnet.blockTime;
  const validationUrl = urlFlag(flags.validationUrl, "--validation-url");
  const executionUrl = urlFlag(flags.executionUrl, "--execution-url");
  const withServices = flags.services !== false && config.devnet.services;
  const l2ChainIds = Array.from({ length: l2Chains }, (_, i) => config.devnet.l2ChainId + i);
  if (l2ChainIds.includes(config.devnet.l1ChainId)) {
    throw invalidArgument("devnet.l1ChainId", "the L1 and L2 chain ids must differ");
  }
  const validation: ServicePlan | null = validationUrl
    ? { kind: "external", url: validationUrl }
    : withServices
      ? servicePlan("validation", config.services.validation, projectDir, 4002)
      : null;
  const execution: ServicePlan | null = executionUrl
    ? { kind: "external", url: executionUrl }
    : withServices
      ? servicePlan("execution", config.services.execution, projectDir, 4003)
      : null;
  return {
    project: projectName(config, projectDir),
    projectDir,
    runtime,
    attesters,
    l1ChainId: config.devnet.l1ChainId,
    l2ChainIds,
    blockTime,
    mnemonic: config.devnet.mnemonic,
    baseImage: config.devnet.baseImage,
    services: { validation, execution },
    taskDefinitionNames: config.taskDefinitions.map((d) => d.name),
  };
}
