/**
 * The process runtime's supervisor: a small detached process `devnet up` starts beside the
 * components (its pid in the devnet state and in `.avsctl/supervisor.json`). It watches every
 * component that has a run record and starts a dead one again from that record, exactly as
 * `devnet restart` does (`specOf(record)`), with exponential backoff while it keeps dying. It
 * holds a component while it starts it (`devnet restart` waits for it), leaves alone what
 * someone else holds (`devnet restart`, a reload, a deliberate stop: runtime/process-hold.ts),
 * and `devnet down` stops it before anything else. A Docker devnet needs none: its
 * containers carry a restart policy.
 */
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { sleep } from "../util/sleep.js";
import { resumeClock } from "./chain-clock.js";
import { keepGoodCopy, stateFileOf } from "./chain-storage.js";
import { ENV_COMPONENT, ENV_PROJECT, ENV_PROJECT_DIR, sanitizeName } from "./runtime/labels.js";
import { capLogFile, rotatedLogOf } from "./runtime/log-files.js";
import { canonicalDir, isAlive, killProcessGroups } from "./runtime/process-groups.js";
import { isHeld, tryHold } from "./runtime/process-hold.js";
import { stateDir } from "./state.js";

/** How often the supervisor looks at the components. */
const POLL_MS = 500;
/** The first restart waits this long; each crash within STABLE_MS of a restart doubles it. */
export const BACKOFF_BASE_MS = 500;
export const BACKOFF_CAP_MS = 30_000;
/** A component that has run this long since its restart counts as recovered: backoff resets. */
const STABLE_MS = 30_000;
/**
 * How often a chain's whole state file is copied aside (what a kill mid-save can lose at most),
 * and the components' logs are capped.
 */
const GOOD_COPY_MS = 10_000;

/** What the supervisor publishes for `devnet status`. */
export interface SupervisorFile {
  pid: number;
  startedAt: string;
  /** Restarts the supervisor made (or started), by component (a `devnet restart` is not one). */
  restarts: Record<string, number>;
  /** The last restart of each component: when, why, and whether it came up. */
  last: Record<string, { at: string; reason: string; ok: boolean; error?: string }>;
}

export function supervisorFile(projectDir: string): string {
  return path.join(stateDir(projectDir), "supervisor.json");
}

export function readSupervisor(projectDir: string): SupervisorFile | undefined {
  try {
    return JSON.parse(readFileSync(supervisorFile(projectDir), "utf8")) as SupervisorFile;
  } catch {
    return undefined;
  }
}

function writeSupervisor(projectDir: string, file: SupervisorFile): void {
  const target = supervisorFile(projectDir);
  const tmp = `${target}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`);
  renameSync(tmp, target);
}

/** The wait before the next restart of a component that crashed `crashes` times in a row. */
export function backoffMs(crashes: number): number {
  if (crashes <= 1) return 0;
  return Math.min(BACKOFF_BASE_MS * 2 ** (crashes - 2), BACKOFF_CAP_MS);
}

interface Watch {
  /** Crashes since it last ran STABLE_MS. */
  crashes: number;
  notBefore: number;
  restartedAt: number;
  restarting: boolean;
}

/**
 * Runs until `signal` aborts: every POLL_MS, a component whose recorded process is gone and
 * that nobody holds is started again. `log` gets one line per restart.
 */
export async function supervise(opts: {
  project: string;
  projectDir: string;
  signal: AbortSignal;
  log: (line: Record<string, unknown>) => void;
}): Promise<void> {
  const { ProcessRuntime, specOf } = await import("./runtime/process.js");
  const runtime = new ProcessRuntime({ project: opts.project, projectDir: opts.projectDir });
  const file: SupervisorFile = {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    restarts: readSupervisor(opts.projectDir)?.restarts ?? {},
    last: readSupervisor(opts.projectDir)?.last ?? {},
  };
  writeSupervisor(opts.projectDir, file);
  const watches = new Map<string, Watch>();
  type RunRecord = Awaited<ReturnType<typeof runtime.records>>[number];
  /** Starts a component again from its run record, holding it (`tryHold`); true when it came up. */
  const startAgain = async (record: RunRecord, reason: string): Promise<boolean> => {
    const name = record.component;
    // Counted and published before the start, so `status` never sees the new process beside the
    // old count; as with Docker's RestartCount, a start that fails counts too.
    file.restarts[name] = (file.restarts[name] ?? 0) + 1;
    if (!opts.signal.aborted) writeSupervisor(opts.projectDir, file);
    try {
      // Not aborted by the supervisor's own stop: a start cut short would drop the run record,
      // and `down` removes whatever it started anyway. A chain's state file cut short is set
      // right by the start itself, once no process of the chain runs.
      await runtime.startHeld(specOf(record), {
        warn: (detail) => opts.log({ msg: "chain state", component: name, detail }),
      });
      file.last[name] = { at: new Date().toISOString(), reason, ok: true };
      opts.log({ msg: "restarted", component: name, restarts: file.restarts[name] });
      return true;
    } catch (error) {
      if (opts.signal.aborted) return false;
      const message = (error as Error).message;
      file.last[name] = { at: new Date().toISOString(), reason, ok: false, error: message };
      // start() dropped the run record of a start that failed: put it back (still holding the
      // component, so over no one's new record), and the next attempt (after the backoff) has
      // the same spec to start from.
      const recordFile = path.join(runtime.runDir, `${sanitizeName(name)}.json`);
      writeFileSync(recordFile, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
      opts.log({ msg: "restart failed", component: name, error: message });
      return false;
    }
  };
  const restart = async (record: RunRecord, w: Watch) => {
    const name = record.component;
    // Held first, and the record read again under the hold: a `devnet restart` of the component
    // now waits for this one to be done, and one that is under way, or that ended since the
    // records were read (a new pid), or an `operator remove`, is not ours to start.
    const held = tryHold(runtime.runDir, name);
    const current = held && (await runtime.record(name));
    if (!held || !current || current.pid !== record.pid) {
      held?.release();
      w.restarting = false;
      w.crashes--;
      return;
    }
    try {
      const reason = `process ${record.pid} is gone`;
      opts.log({ msg: "restarting", component: name, reason, crashes: w.crashes });
      const stateFile = stateFileOf(record.args);
      const up = await startAgain(record, reason);
      if (up && stateFile) {
        await resumeClock(opts.projectDir, name, `http://127.0.0.1:${record.ports[0]}`).catch((error) =>
          opts.log({ msg: "chain clock not set", component: name, error: (error as Error).message }),
        );
      }
      // A chain back from its state file may have lost its last second: the aggregator's journal
      // and nonces are ahead of it. Its start-up recovery trims the one and resyncs the other.
      if (up && stateFile && /^l2-\d+$/.test(name)) await resyncAggregator(name);
    } finally {
      held.release();
      w.restartedAt = Date.now();
      w.notBefore = Date.now() + backoffMs(w.crashes + 1);
      w.restarting = false;
      if (!opts.signal.aborted) writeSupervisor(opts.projectDir, file);
    }
  };
  const resyncAggregator = async (chain: string) => {
    const w = watches.get("aggregator");
    if (w?.restarting) return;
    // One that someone else starts or stops now (a `devnet restart` of the L2 restarts it too) is theirs.
    const held = tryHold(runtime.runDir, "aggregator");
    if (!held) return;
    if (w) w.restarting = true;
    try {
      const aggregator = await runtime.record("aggregator");
      if (!aggregator) return;
      opts.log({ msg: "restarting", component: "aggregator", reason: `${chain} was started again` });
      await startAgain(aggregator, `${chain} was started again: the aggregator resyncs with it`);
    } finally {
      held.release();
      if (w) w.restarting = false;
    }
  };
  const copied = new Map<string, number>();
  const readRecords = runtime.recordWatch();
  let nextCopy = 0;
  while (!opts.signal.aborted) {
    const records = readRecords();
    if (Date.now() >= nextCopy) {
      nextCopy = Date.now() + GOOD_COPY_MS;
      keepGoodCopies(records, copied);
      capLogs([...records.map((r) => r.logFile), supervisorLogOf(runtime.logDir)], opts.log);
    }
    for (const record of records) {
      const name = record.component;
      const w = watches.get(name) ?? { crashes: 0, notBefore: 0, restartedAt: 0, restarting: false };
      watches.set(name, w);
      if (w.restarting || isHeld(runtime.runDir, name)) continue;
      if (isAlive(record.pid)) {
        if (w.crashes > 0 && Date.now() - w.restartedAt > STABLE_MS) w.crashes = 0;
        continue;
      }
      if (Date.now() < w.notBefore) continue;
      w.crashes++;
      w.restarting = true;
      void restart(record, w);
    }
    await sleep(POLL_MS, opts.signal);
  }
}

/** Each component's log, and the supervisor's own, held to LOG_ROTATE_BYTES (log-files.ts). */
function capLogs(files: readonly string[], log: (line: Record<string, unknown>) => void): void {
  for (const file of new Set(files)) {
    try {
      if (capLogFile(file))
        log({ msg: "log rotated", file: path.basename(file), to: path.basename(rotatedLogOf(file)) });
    } catch (error) {
      log({ msg: "log rotation failed", file: path.basename(file), error: (error as Error).message });
    }
  }
}

/** Each running chain's state file, copied aside when it changed and is whole (chain-storage.ts). */
function keepGoodCopies(
  records: ReadonlyArray<{ args: string[]; pid: number }>,
  copied: Map<string, number>,
): void {
  for (const record of records) {
    const file = stateFileOf(record.args);
    if (!file || !isAlive(record.pid)) continue;
    try {
      const mtime = statSync(file).mtimeMs;
      if (copied.get(file) === mtime) continue;
      if (keepGoodCopy(file)) copied.set(file, mtime);
    } catch {
      // no state file yet, or it moved meanwhile: next round
    }
  }
}

function supervisorLogOf(logDir: string): string {
  return path.join(logDir, "supervisor.log");
}

/** The environment labels of the supervisor: this project's, with no component (never listed as one). */
function labels(project: string, projectDir: string): Record<string, string> {
  return { [ENV_PROJECT]: sanitizeName(project), [ENV_PROJECT_DIR]: projectDir, [ENV_COMPONENT]: "" };
}

/** Starts the supervisor of a process devnet (detached, logging to `.avsctl/logs/supervisor.log`); returns its pid. */
export async function startSupervisor(project: string, projectDir: string): Promise<number> {
  // One per devnet; a replaced one's counts carry over (`down` forgets them).
  await stopSupervisor(projectDir, false);
  const { ProcessRuntime } = await import("./runtime/process.js");
  const runtime = new ProcessRuntime({ project, projectDir });
  const { spawnDetached } = await import("./runtime/spawn.js");
  const { mkdir } = await import("node:fs/promises");
  await mkdir(runtime.logDir, { recursive: true });
  const entry = new URL("./supervisor-main.js", import.meta.url).pathname;
  const { pid } = await spawnDetached({
    name: "supervisor",
    command: process.execPath,
    args: [entry, project, runtime.projectDir],
    cwd: runtime.projectDir,
    env: labels(project, runtime.projectDir),
    logFile: supervisorLogOf(runtime.logDir),
  });
  return pid;
}

/**
 * Whether a devnet has a supervisor: one whose components run as processes, all of them or the
 * project's services of a Docker devnet (`--services-runtime process`). Containers have their
 * restart policy instead.
 */
export function isSupervised(state: {
  runtime: string;
  internal?: { components?: Array<{ runtime?: string }> };
}): boolean {
  return (
    state.runtime === "process" || state.internal?.components?.some((c) => c.runtime === "process") === true
  );
}

/** What `status` and `up` say about a supervised devnet's supervisor. */
export interface SupervisorStatus {
  running: boolean;
  /** Its pid; when it is not running, the last one known (null: none was ever recorded). */
  pid: number | null;
}

/** Whether the supervisor of this project directory runs, and its pid (or the last one known). */
export async function supervisorStatus(projectDir: string, recordedPid?: number): Promise<SupervisorStatus> {
  const pid = await supervisorPid(projectDir);
  if (pid !== undefined) return { running: true, pid };
  return { running: false, pid: readSupervisor(projectDir)?.pid ?? recordedPid ?? null };
}

/** The supervisor of this project directory: the labelled process without a component. */
export async function supervisorPid(projectDir: string): Promise<number | undefined> {
  const { findLabelledProcesses } = await import("./runtime/process-groups.js");
  const dir = canonicalDir(projectDir);
  const found = await findLabelledProcesses({ projectDir: dir, component: "" });
  return found[0]?.pid;
}

/**
 * Stops the supervisor, first thing in `down` (so it starts nothing while the rest stops).
 * `forget` also drops its restart counts. Returns its pid when one was running.
 */
export async function stopSupervisor(projectDir: string, forget = true): Promise<number | undefined> {
  const { findLabelledProcesses } = await import("./runtime/process-groups.js");
  const found = await findLabelledProcesses({ projectDir: canonicalDir(projectDir), component: "" });
  const pids = found.map((p) => p.pid);
  if (pids.length > 0)
    await killProcessGroups(
      found.map((p) => p.pgrp),
      pids,
      5_000,
    );
  if (forget && existsSync(supervisorFile(projectDir))) rmSync(supervisorFile(projectDir), { force: true });
  return pids[0];
}
