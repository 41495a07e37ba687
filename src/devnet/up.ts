import createDebug from "debug";
import type { AvsctlConfig } from "../config/schema.js";
import { AvsctlError, invalidArgument, isAvsctlError } from "../errors.js";
import { shellQuote } from "../shell-quote.js";
import { DockerLauncher, type Launcher, ProcessLauncher } from "./launcher.js";
import type { OperatorKeys } from "./operator-keys.js";
import { type AddedOperator, readSaved } from "./persist.js";
import { type DevnetPlan, type PlanDifference, planDevnet, planDifferences, type UpFlags } from "./plan.js";
import { KeptPorts, type MovedPort } from "./runtime/ports.js";
import { type DevnetState, readDevnetState, removeDevnetState, writeDevnetState } from "./state.js";
import { type StartedEngine, startEngine } from "./up/engine.js";
import { startIpfs } from "./up/ipfs.js";
import { type PhaseContext, settled } from "./up/launch.js";
import { startNodes } from "./up/nodes.js";
import { recordState } from "./up/record.js";
import type { Repair } from "./up/repair.js";
import { chainsAndRegistration } from "./up/resume.js";
import { planStart, type StartPlan } from "./up/start-plan.js";
import { startTriggers } from "./up/triggers.js";

export { ATTESTER_STAKE, type DeployAndRegisterOptions, deployAndRegister } from "./up/register.js";

const debug = createDebug("avsctl:devnet:up");

export interface UpOptions {
  config: AvsctlConfig;
  projectDir: string;
  flags: UpFlags;
  /** Progress lines for humans (the CLI decides where they go). */
  progress?: (step: string) => void;
  signal?: AbortSignal;
  /** `--operator-keys`: the attesters run with these operators' own keys. */
  operators?: OperatorKeys;
  /** The environment the CA bundle default comes from (NODE_EXTRA_CA_CERTS, SSL_CERT_FILE). */
  env?: NodeJS.ProcessEnv;
  /** The devnet keys the config file sets (`devnet.attesters`, ...): the rest are defaults. */
  configured?: ReadonlySet<string>;
  /**
   * Opens the `--operator-keys` directory an unhealthy devnet was started with when `up` was not
   * given it, to start the devnet again with those keys; absent, such a devnet is refused (exit 2).
   */
  unlockOperatorKeys?: (dir: string) => Promise<OperatorKeys>;
}

export interface UpResult {
  state: DevnetState;
  /** False when a healthy devnet was already running and nothing changed. */
  created: boolean;
  runtimeReason: string;
  warnings: string[];
  /**
   * When a healthy devnet was left as it is, or an unhealthy one started again as it was started:
   * where it differs from what was asked (`--fresh` applies it).
   */
  differences: PlanDifference[];
  /**
   * Set when an unhealthy devnet was started again as it was started, or a devnet as a start that
   * did not finish was asked to start it (`unfinished`): what was wrong, and for a process devnet
   * the components that could not have their ports again.
   */
  repaired?: { problems: string[]; unfinished?: true; movedPorts?: MovedPort[] };
  /** Set when a healthy devnet's supervisor was gone and this `up` started it again. */
  supervisorStarted?: { pid: number };
}

/** Opens the runtime a plan asks for (building the devnet image for Docker). */
export async function openLauncher(
  plan: Pick<DevnetPlan, "project" | "projectDir" | "runtime" | "baseImage" | "keptPorts">,
  progress: (s: string) => void,
  signal?: AbortSignal,
): Promise<{ launcher: Launcher; reason: string }> {
  const { chooseRuntime } = await import("./runtime/select.js");
  const choice = await chooseRuntime(plan.runtime);
  if (choice.kind === "process") {
    const { ProcessRuntime } = await import("./runtime/process.js");
    return {
      launcher: new ProcessLauncher(
        new ProcessRuntime({ project: plan.project, projectDir: plan.projectDir }),
        plan.keptPorts,
      ),
      reason: choice.reason,
    };
  }
  const { DockerRuntime } = await import("./runtime/docker.js");
  const { ensureDevnetImage } = await import("./image.js");
  progress("building the devnet image (cached after the first run)");
  const image = await ensureDevnetImage(choice.docker!, { baseImage: plan.baseImage, signal });
  progress(`devnet image ${image.image} ${image.cached ? "(cached)" : `built in ${image.durationMs} ms`}`);
  const runtime = new DockerRuntime({
    project: plan.project,
    projectDir: plan.projectDir,
    docker: choice.docker,
    helperImage: image.image,
  });
  return { launcher: new DockerLauncher(runtime, image.image), reason: choice.reason };
}

/**
 * `devnet up`: chains, contracts, registered operators, task definitions, nodes and services,
 * all healthy, then returns (the components keep running). A healthy devnet is left as it is;
 * a broken or half-started one is removed and started again.
 */
export async function devnetUp(opts: UpOptions): Promise<UpResult> {
  const run: Run = { kept: false };
  try {
    return await up(opts, run);
  } catch (error) {
    const wasInterrupted = opts.signal?.aborted === true;
    if (run.kept) {
      const why = String((error as Error)?.message ?? error).split("\n")[0];
      const { endUnfinishedStart } = await import("./up/repair.js");
      endUnfinishedStart(opts.projectDir, wasInterrupted ? "was interrupted" : `failed (${why})`);
    }
    // Ctrl-C before anything started (the image build, say) stops it just the same
    if (wasInterrupted && !(isAvsctlError(error) && error.code === "INTERRUPTED"))
      throw interrupted(error, run);
    throw error;
  }
}

/** One `up`: whether how it was to start the devnet is kept (up/repair.ts UnfinishedStart). */
interface Run {
  kept: boolean;
}

function interrupted(cause: unknown, run: Run): AvsctlError {
  return new AvsctlError("INTERRUPTED", "devnet up was interrupted: everything it started is stopped", {
    hint: run.kept
      ? "run `avsctl devnet up` again: it starts the devnet as this one was to, its saved chain state resumed"
      : "run the same `avsctl devnet up` again; the saved chain state stays",
    cause,
  });
}

async function up(opts: UpOptions, run: Run): Promise<UpResult> {
  const progress = opts.progress ?? (() => {});
  let plan = planDevnet(opts.config, opts.projectDir, opts.flags, opts.configured);
  await readCa(plan, opts.flags.caCerts, opts);
  let operators = opts.operators;
  if (operators) await (await import("./operator-keys.js")).applyOperatorKeys(plan, operators, opts.flags);
  const clearing: string[] = [];
  const cleared = await reuseOrClear(plan, opts, progress, clearing, run);
  if ("reused" in cleared) return cleared.reused;
  const { repair } = cleared;
  if (repair) ({ plan, operators } = repair);
  if (repair?.ports) plan.keptPorts = new KeptPorts(repair.ports);
  if (!opts.flags.fresh) keepSavedShape(plan, operators !== undefined);
  const { rotateLogs } = await import("./runtime/log-files.js");
  if (rotateLogs(plan.projectDir).length > 0) debug("the last devnet's logs moved to .avsctl/logs/previous");

  const started = Date.now();
  const start = await planStart(plan, opts.config, operators);
  start.warnings.push(...clearing);
  const { launcher, reason } = await openLauncher(plan, progress, opts.signal);
  progress(`runtime: ${reason}`);
  if (launcher.kind === "process" && plan.servicesRuntime === "docker") {
    throw invalidArgument(
      opts.flags.servicesRuntime ? "--services-runtime" : "devnet.servicesRuntime",
      `services run in Docker only in a Docker devnet, and this one runs as processes (${reason})`,
      "pass --runtime docker, or leave --services-runtime out",
    );
  }
  const unfinished = await import("./up/repair.js");
  unfinished.keepUnfinishedStart(opts.projectDir, unfinished.startedAsPlanned(start, launcher.kind, reason));
  run.kept = true;
  try {
    const state = await untilInterrupted(bringUp(start, launcher, { progress, signal: opts.signal }), opts);
    state.startupMs = Date.now() - started;
    if (state.internal) state.internal.runtimeReason = reason;
    await supervise(state, opts.projectDir);
    // As `status` lists them: a resumed chain holds the definitions `task-def create` made since
    // the AVS was deployed too. Kept for `status` to give while the chains are down.
    const listed = await (await import("./status-checks.js"))
      .devnetTaskDefinitions(state)
      .catch(() => undefined);
    if (listed && state.internal)
      state.internal.taskDefinitionsRead = { at: new Date().toISOString(), list: listed };
    writeDevnetState(opts.projectDir, state);
    unfinished.forgetUnfinishedStart(opts.projectDir);
    const warnings = state.internal?.warnings as string[];
    const moved = plan.keptPorts?.moved ?? [];
    return {
      state: listed ? { ...state, taskDefinitions: listed } : state,
      created: true,
      runtimeReason: reason,
      warnings: [...(warnings ?? []), ...moved.map(movedWarning)],
      differences: repair?.differences ?? [],
      ...(repair
        ? {
            repaired: {
              problems: repair.problems,
              ...(repair.unfinished ? { unfinished: true as const } : {}),
              ...(plan.keptPorts ? { movedPorts: moved } : {}),
            },
          }
        : {}),
    };
  } catch (error) {
    debug("start failed: %O", error);
    const wasInterrupted = opts.signal?.aborted === true;
    progress(
      `${wasInterrupted ? "interrupted" : "start failed"}; removing what was started (the saved chain state stays)`,
    );
    await (await import("./supervisor.js")).stopSupervisor(opts.projectDir).catch(() => undefined);
    await launcher.runtime.removeProject({ keepVolumes: true }).catch(() => {});
    // A Docker devnet runs the project's services as host processes under `--services-runtime process`.
    if (launcher.kind === "docker") {
      const { ProcessRuntime } = await import("./runtime/process.js");
      await new ProcessRuntime({ project: plan.project, projectDir: plan.projectDir })
        .removeProject()
        .catch(() => {});
    }
    removeDevnetState(opts.projectDir);
    if (wasInterrupted) throw interrupted(error, run);
    if (isAvsctlError(error) && error.code !== "INTERNAL") throw error;
    throw new AvsctlError("DEVNET_START_FAILED", `devnet start failed: ${(error as Error).message}`, {
      hint: "rerun with --verbose; `avsctl devnet logs` is empty because everything was removed",
      cause: error,
    });
  }
}

/** A port a component had that another process took meanwhile: its URL changed. */
function movedWarning(m: MovedPort): string {
  return `${m.component}: port ${m.from} was taken by another process, so it listens on ${m.to} now (http://127.0.0.1:${m.to}); update what holds its old URL`;
}

/**
 * The start, until Ctrl-C: then it fails at once, but only after the start has settled (each
 * component start sees the aborted signal and stops what it spawned), so the cleanup that
 * follows never races a process still being spawned.
 */
async function untilInterrupted<T>(start: Promise<T>, opts: UpOptions): Promise<T> {
  const signal = opts.signal;
  if (!signal) return start;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([start, aborted]);
  } catch (error) {
    if (signal.aborted) {
      opts.progress?.("interrupted: stopping what was started");
      // bounded: the phases after the signal only finish their current chain request
      await Promise.race([start.catch(() => undefined), new Promise((r) => setTimeout(r, 15_000).unref())]);
    }
    throw error;
  } finally {
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }
}

/**
 * A devnet with components running as processes gets its supervisor, which starts a crashed
 * one again (a Docker devnet's containers have their restart policy instead). Returns the pid
 * of one it had to start, undefined when one ran already or none is needed.
 */
async function supervise(state: DevnetState, projectDir: string): Promise<number | undefined> {
  const { isSupervised, startSupervisor, supervisorPid } = await import("./supervisor.js");
  if (!isSupervised(state)) return undefined;
  const running = await supervisorPid(projectDir);
  const pid = running ?? (await startSupervisor(state.name, projectDir));
  if (state.internal) state.internal.supervisor = { pid };
  return running === undefined ? pid : undefined;
}

/**
 * The CA bundle for the project's service images, read before anything starts so a bad file
 * fails at once (exit 2). A file named on purpose (flag, config) is always checked; the
 * environment's default only when a service may be built in Docker.
 */
async function readCa(plan: DevnetPlan, caCerts: string | undefined, opts: UpOptions): Promise<void> {
  const { caCertsChoice, readServiceCa } = await import("./service-ca.js");
  const choice = caCertsChoice(caCerts, opts.config.devnet.caCerts, opts.projectDir, opts.env ?? process.env);
  if (!choice) return;
  const inDocker =
    plan.runtime !== "process" &&
    plan.servicesRuntime !== "process" &&
    [plan.services.execution, plan.services.validation].some((s) => s?.kind === "project");
  const named = choice.source === "--ca-certs" || choice.source === "devnet.caCerts";
  if (inDocker || named) plan.ca = readServiceCa(choice);
}

/**
 * The saved devnet's runtime, attesters and L2s where the plan has only defaults for them: `down`
 * keeps the chain state for the next `up`, which would otherwise start fresh over a devnet brought
 * up with `--attesters 4` because the default is 3, or with `--runtime process` because auto
 * picks Docker.
 */
function keepSavedShape(plan: DevnetPlan, keysGiven: boolean): void {
  const saved = readSaved(plan.projectDir);
  if (!saved) return;
  // Its chains know only those operators: started with the mnemonic's, they would be deleted.
  if (saved.operatorKeys && !keysGiven) {
    throw invalidArgument(
      "--operator-keys",
      `the saved devnet's attesters run with the operator keys of ${saved.operatorKeys}; nothing was started`,
      `pass \`--operator-keys ${shellQuote(saved.operatorKeys)}\` to resume it, or \`--fresh\` to start over with the devnet's own keys`,
    );
  }
  // a process devnet's state is the process runtime's: auto would pick Docker where it answers
  if (!plan.given.has("runtime") && plan.runtime === "auto" && saved.runtime === "process")
    plan.runtime = "process";
  const attesters = saved.accounts.length - 3;
  if (!plan.given.has("attesters") && !keysGiven && attesters > 0) plan.attesters = attesters;
  const l2s = saved.chainIds.slice(1);
  if (!plan.given.has("l2Chains") && l2s.length > 0 && l2s[0] === plan.l2ChainIds[0]) plan.l2ChainIds = l2s;
}

/**
 * A healthy devnet is left as it is (the result says where it differs from the plan); an
 * unhealthy one (to be started again as it was started, the plan for that decided first, so a
 * refusal changes nothing), one `--fresh` replaces, or the leftovers of an interrupted start are
 * removed.
 */
async function reuseOrClear(
  plan: DevnetPlan,
  opts: UpOptions,
  progress: (s: string) => void,
  warnings: string[],
  run: Run,
): Promise<
  | { reused: UpResult }
  | { repair?: Repair & { problems: string[]; unfinished?: boolean; ports?: Map<string, readonly number[]> } }
> {
  const { devnetStatus, devnetDown } = await import("./manage.js");
  const down = async (config: AvsctlConfig | undefined) => {
    const left = await devnetDown(opts.projectDir, config, { volumes: opts.flags.fresh === true });
    for (const warning of left.warnings) progress(`warning: ${warning}`);
    warnings.push(...left.warnings);
    return left;
  };
  const existing = readDevnetState(opts.projectDir);
  const { repairPlan, readUnfinishedStart, keepUnfinishedStart, startedAsState } = await import(
    "./up/repair.js"
  );
  if (!existing) {
    // A start that did not finish is started again as it was asked, as an unhealthy devnet is
    // (decided first, so a refusal changes nothing).
    const last = opts.flags.fresh ? undefined : readUnfinishedStart(opts.projectDir);
    let repair: (Repair & { problems: string[]; unfinished: boolean }) | undefined;
    if (last) {
      const r = await repairPlan(plan, last.asked, opts.flags, opts.operators, opts.unlockOperatorKeys);
      const problem = `the last \`devnet up\` ${last.ended ?? "did not finish"}`;
      if (r.differences.length > 0) {
        // Nothing runs to keep: a retry that asks otherwise (another flag to get past what made
        // the last start fail) is a new start, as asked.
        progress(
          `${problem}; this \`up\` asks otherwise (${askedOtherwise(r.differences)}), so it starts the devnet as asked`,
        );
      } else {
        await readCa(r.plan, r.caCerts, opts);
        progress(`${problem}; starting the devnet as it was asked`);
        repair = { ...r, problems: [problem], unfinished: true };
        run.kept = true;
      }
    }
    // No state file, yet an interrupted start (Ctrl-C, a crash) may have left labelled
    // components behind: an attester the new plan lacks would otherwise run on unnoticed.
    const left = await down(opts.config);
    const count = left.containers.length + left.networks.length + left.processes.length;
    if (count > 0) progress(`removed ${count} leftover(s) of an interrupted start`);
    if (opts.flags.fresh && left.volumes.length > 0) progress("--fresh: deleted the saved state");
    return repair ? { repair } : {};
  }
  if (!opts.flags.fresh) {
    const status = await devnetStatus(opts.projectDir);
    if (status.state?.healthy) {
      // a supervisor that died (or a devnet from before supervision) is started again
      const supervisor = await supervise(existing, opts.projectDir);
      writeDevnetState(opts.projectDir, existing);
      const reused: UpResult = {
        state: status.state,
        created: false,
        // the same answer as the run that started it: `up` twice prints the same state
        runtimeReason: (existing.internal?.runtimeReason as string | undefined) ?? existing.runtime,
        warnings: (existing.internal?.warnings as string[] | undefined) ?? [],
        differences: [
          ...planDifferences(plan, status.state, opts.flags),
          ...(await import("./operator-keys.js")).operatorKeyDifferences(existing, opts.operators),
        ],
        ...(supervisor === undefined ? {} : { supervisorStarted: { pid: supervisor } }),
      };
      return { reused };
    }
    const repair = await repairPlan(plan, existing, opts.flags, opts.operators, opts.unlockOperatorKeys);
    await readCa(repair.plan, repair.caCerts, opts);
    progress(
      `the existing devnet is unhealthy (${status.problems.join("; ")}); starting it again as it was started`,
    );
    // each component takes its port again, so the URLs users hold stay true: read before `down`
    // drops the run records
    const ports =
      repair.plan.runtime === "process" ? await recordedPorts(existing, opts.projectDir) : undefined;
    notApplied(repair.differences, progress);
    // its state file goes with it: should this start fail before it keeps its own, the next `up`
    // still starts the devnet as it was started
    keepUnfinishedStart(opts.projectDir, startedAsState(existing));
    run.kept = true;
    await down(undefined);
    return { repair: { ...repair, problems: status.problems, ...(ports ? { ports } : {}) } };
  }
  progress("--fresh: removing the existing devnet and its saved state");
  await down(undefined);
  return {};
}

/**
 * Named before the start, not only once it is up: a start that fails again (what was asked may be
 * what makes it fail) would otherwise not say that the flags given were left out.
 */
function notApplied(differences: PlanDifference[], progress: (s: string) => void): void {
  if (differences.length === 0) return;
  progress(
    `not applied, as it was started: ${askedOtherwise(differences)}; \`avsctl devnet up --fresh\` with those flags applies them`,
  );
}

/** The differences as the progress names them: each flag with what was asked. */
function askedOtherwise(differences: PlanDifference[]): string {
  return differences.map((d) => `${d.flag} (asked ${d.asked})`).join(", ");
}

/** The ports each process of a devnet listened on, from its run records. */
async function recordedPorts(
  state: DevnetState,
  projectDir: string,
): Promise<Map<string, readonly number[]>> {
  const { ProcessRuntime } = await import("./runtime/process.js");
  const records = await new ProcessRuntime({ project: state.name, projectDir }).records();
  return new Map(records.map((r) => [r.component, r.ports]));
}

/** The phases in order, each given the plan and what the phases before it started. */
async function bringUp(
  plan: StartPlan,
  launcher: Launcher,
  run: Pick<PhaseContext, "progress" | "signal">,
): Promise<DevnetState> {
  const warnings = [...plan.warnings];
  const ctx: PhaseContext = {
    ...run,
    warnings,
    warn: (message) => {
      warnings.push(message);
      run.progress(`warning: ${message}`);
    },
  };
  const { buildProjectImages } = await import("./project-services.js");
  await buildProjectImages(plan.topology, launcher, run.progress, run.signal);
  // The IPFS node needs nothing of the chains: it starts while they start and are registered.
  const [{ chains, registration, added, removed }, ipfs] = await settled([
    chainsAndRegistration(plan, launcher, ctx),
    startIpfs(plan, launcher, ctx),
  ] as const);
  let engine: StartedEngine | undefined;
  const addedKeys = await addedAccounts(plan, added);
  const nodes = await startNodes(
    plan,
    launcher,
    chains,
    registration,
    ctx,
    ipfs,
    plan.topology.engine
      ? async (aggregator) => {
          engine = await startEngine(plan, launcher, chains, registration, aggregator, ipfs, ctx);
          return engine?.launched;
        }
      : undefined,
    addedKeys,
    removed,
  );
  const triggersUrl = await startTriggers(plan, launcher, chains, registration, nodes, ctx);
  return recordState(
    plan,
    launcher,
    { chains, registration, nodes, triggersUrl, ipfs, engine, added, removed },
    warnings,
  );
}

/** The keys of the attesters `operator add` added, from the devnet mnemonic (their BLS key follows). */
async function addedAccounts(plan: StartPlan, added: AddedOperator[]) {
  if (added.length === 0) return [];
  const { HDNodeWallet, Mnemonic } = await import("ethers");
  const phrase = Mnemonic.fromPhrase(plan.keys.mnemonic);
  return added.map((a) => {
    const w = HDNodeWallet.fromMnemonic(phrase, `m/44'/60'/0'/0/${a.index}`);
    if (w.address.toLowerCase() !== a.address.toLowerCase())
      throw new AvsctlError(
        "DEVNET_START_FAILED",
        `${a.name}'s recorded key is not on this devnet's mnemonic`,
        { hint: "`avsctl devnet up --fresh` starts over without it" },
      );
    return { name: a.name, address: w.address, privateKey: w.privateKey };
  });
}
