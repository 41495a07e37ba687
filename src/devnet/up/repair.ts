import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { invalidArgument } from "../../errors.js";
import { shellQuote } from "../../shell-quote.js";
import type { OperatorKeys } from "../operator-keys.js";
import { unfinishedStartFile } from "../persist.js";
import {
  type DevnetPlan,
  type PlanDifference,
  planDifferences,
  type RecordedPlan,
  SERVICE_KINDS,
  type ServicePlan,
  type StartedAs,
  type UpFlags,
} from "../plan.js";
import { type DevnetState, stateDir } from "../state.js";
import { recordedPlan, serviceRuntime } from "./record.js";
import type { StartPlan } from "./start-plan.js";

/** How `up` starts an unhealthy devnet again: as it was started, and what it leaves unapplied. */
export interface Repair {
  plan: DevnetPlan;
  operators: OperatorKeys | undefined;
  /** The `--ca-certs` file it was started with (read as the flag is); undefined: the default's. */
  caCerts: string | undefined;
  /** What was asked that differs from the devnet as it was started: not applied (`--fresh` does). */
  differences: PlanDifference[];
}

/**
 * The plan an unhealthy devnet was started with, from its state: the runtime, attesters, chains,
 * block time, services, task engine, CA bundle and operator keys. A script that runs a plain `up`
 * to heal a devnet cannot know the flags it was started with, and the defaults would give another
 * devnet (its chain state deleted when the attesters or chains differ). What a flag or the config
 * asks otherwise is left out, as on a healthy devnet: the differences name it.
 */
export async function repairPlan(
  asked: DevnetPlan,
  existing: StartedAs,
  flags: UpFlags,
  givenOperators: OperatorKeys | undefined,
  unlockOperatorKeys: ((dir: string) => Promise<OperatorKeys>) | undefined,
): Promise<Repair> {
  const recorded = (existing.internal?.plan ?? {}) as RecordedPlan;
  const plan: DevnetPlan = { ...asked, services: { ...asked.services } };
  const given = new Set(asked.given);
  // auto chose Docker then and chooses it again where it answers; a process devnet stays one
  const reason = existing.internal?.runtimeReason as string | undefined;
  plan.runtime = existing.runtime === "docker" && reason?.startsWith("auto") ? "auto" : existing.runtime;
  given.add("runtime");
  if (recorded.attesters !== undefined) {
    plan.attesters = recorded.attesters;
    given.add("attesters");
  }
  plan.l1ChainId = existing.l1.chainId;
  if (existing.l2.length > 0) {
    plan.l2ChainIds = existing.l2.map((l) => l.chainId);
    given.add("l2Chains");
  }
  if (recorded.blockTime !== undefined) {
    plan.blockTime = recorded.blockTime;
    given.add("blockTime");
  }
  for (const kind of SERVICE_KINDS) {
    // an older state recorded no summary: the user's own URL or no service are told by the state
    const was =
      recorded.services?.[kind] ??
      (existing.services[kind] === null
        ? "none"
        : existing.serviceRuntimes?.[kind] === "external"
          ? existing.services[kind]
          : undefined);
    // the project's own: its directory and command are the config's, which the state does not hold
    if (was === undefined || was === "project") continue;
    plan.services[kind] =
      was === "none" ? null : was === "sample" ? { kind: "sample" } : { kind: "external", url: was };
  }
  if (existing.serviceRuntimes) {
    const onHost = SERVICE_KINDS.some(
      (kind) => recorded.services?.[kind] === "project" && existing.serviceRuntimes?.[kind] === "process",
    );
    if (existing.runtime === "docker" && onHost) plan.servicesRuntime = "process";
    else delete plan.servicesRuntime;
  }
  plan.engine = existing.engine !== undefined;
  delete plan.ca;
  plan.given = given;

  let operators: OperatorKeys | undefined;
  const keysDir = recorded.operatorKeys;
  if (keysDir !== undefined) {
    if (givenOperators?.dir === keysDir) operators = givenOperators;
    else if (unlockOperatorKeys) operators = await unlockOperatorKeys(keysDir);
    else
      throw invalidArgument(
        "--operator-keys",
        `the devnet's attesters run with the operator keys of ${keysDir}; nothing was changed`,
        `pass \`--operator-keys ${shellQuote(keysDir)}\` to start it again, or \`--fresh\` to start over with the devnet's own keys`,
      );
    const { applyOperatorKeys } = await import("../operator-keys.js");
    await applyOperatorKeys(plan, operators, {});
  }

  const { operatorKeyDifferences } = await import("../operator-keys.js");
  // a difference the repair could not undo (a project service the config no longer has) applies
  const left = new Set(planDifferences(plan, existing, flags).map((d) => d.flag));
  const differences = [
    ...planDifferences(asked, existing, flags).filter((d) => !left.has(d.flag) && wasAsked(d, flags)),
    // left out, the flag asks for nothing: the keys the devnet was started with are its own
    ...(givenOperators ? operatorKeyDifferences(existing, givenOperators) : []),
  ];
  const caCerts = recorded.caCerts?.source === "--ca-certs" ? recorded.caCerts.file : undefined;
  return { plan, operators, caCerts, differences };
}

/**
 * Whether a flag or the config asked for what differs. A default asks for nothing, and neither
 * does a service flag left out (it names the services the devnet was started with).
 */
function wasAsked(d: PlanDifference, flags: UpFlags): boolean {
  if (d.flag.endsWith("(default)")) return false;
  if (d.flag === "--no-services") return flags.services === false;
  if (d.flag === "--validation-url") return flags.validationUrl !== undefined || flags.services === false;
  if (d.flag === "--execution-url") return flags.executionUrl !== undefined || flags.services === false;
  return true;
}

/**
 * How a start was asked to start the devnet, kept from before it stops or starts anything until
 * the devnet is up: a start that failed, was interrupted or was killed leaves it, and the next
 * `up` starts the devnet as that start was asked (its block time, services, engine, ...), as it
 * would have started the devnet again had it been up and unhealthy, not with the defaults, which
 * give another devnet than the one the start was to give. It stays with the saved chain state:
 * `down --volumes` and `up --fresh` delete it (persist.ts savedPaths).
 */
export interface UnfinishedStart {
  version: 1;
  asked: StartedAs;
  /** How it ended, in words (`was interrupted`, `failed (...)`); absent: it was killed. */
  ended?: string;
}

/** Kept by a start that will start the devnet so, before it stops or starts anything. */
export function keepUnfinishedStart(projectDir: string, asked: StartedAs): void {
  writeRecord(projectDir, { version: 1, asked });
}

/** How an unhealthy devnet was started, to be started so again. */
export function startedAsState(state: DevnetState): StartedAs {
  return {
    runtime: state.runtime,
    l1: { chainId: state.l1.chainId },
    l2: state.l2.map((l) => ({ chainId: l.chainId })),
    attesters: state.attesters.map((a) => ({ address: a.address })),
    services: state.services,
    ...(state.serviceRuntimes ? { serviceRuntimes: state.serviceRuntimes } : {}),
    ...(state.engine ? { engine: true } : {}),
    internal: { plan: state.internal?.plan, runtimeReason: state.internal?.runtimeReason },
  };
}

/** How a start that has its runtime is to start the devnet (no service URL is known yet). */
export function startedAsPlanned(
  start: StartPlan,
  runtime: DevnetState["runtime"],
  runtimeReason: string,
): StartedAs {
  const { topology } = start;
  const url = (service: ServicePlan | null) => (service?.kind === "external" ? service.url : null);
  return {
    runtime,
    l1: { chainId: topology.l1ChainId },
    l2: topology.l2ChainIds.map((chainId) => ({ chainId })),
    attesters: start.keys.attesters.map((k) => ({ address: k.address })),
    services: { execution: url(topology.services.execution), validation: url(topology.services.validation) },
    serviceRuntimes: {
      execution: serviceRuntime(topology.services.execution, topology, { kind: runtime }),
      validation: serviceRuntime(topology.services.validation, topology, { kind: runtime }),
    },
    ...(topology.engine ? { engine: true } : {}),
    internal: { plan: recordedPlan(start), runtimeReason },
  };
}

/** Says how the start ended, for the next `up` to name. */
export function endUnfinishedStart(projectDir: string, ended: string): void {
  const record = readUnfinishedStart(projectDir);
  if (record) writeRecord(projectDir, { ...record, ended });
}

/** The devnet is up: its state file says how it was started from now on. */
export function forgetUnfinishedStart(projectDir: string): void {
  rmSync(unfinishedStartFile(projectDir), { force: true });
}

export function readUnfinishedStart(projectDir: string): UnfinishedStart | undefined {
  const file = unfinishedStartFile(projectDir);
  if (!existsSync(file)) return undefined;
  try {
    const record = JSON.parse(readFileSync(file, "utf8")) as UnfinishedStart;
    return record.version === 1 ? record : undefined;
  } catch {
    // unreadable (a disk that filled up): as if none, the saved chains' shape stands
    return undefined;
  }
}

function writeRecord(projectDir: string, record: UnfinishedStart): void {
  mkdirSync(stateDir(projectDir), { recursive: true });
  const file = unfinishedStartFile(projectDir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}
