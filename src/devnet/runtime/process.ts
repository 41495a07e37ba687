/**
 * The process runtime: the same components as plain child processes. Each component runs
 * detached in its own session and process group (so it survives `devnet up` returning), writes
 * stdout and stderr to `<projectDir>/.avsctl/logs/<component>.log`, and carries environment
 * "labels" (`AVSCTL_DEVNET_PROJECT`, ...) that its own children inherit. `stop` kills the whole
 * group (SIGTERM, then SIGKILL after a grace period) plus every labelled process that escaped
 * it, so `down` leaves nothing behind even when a run record was lost.
 *
 * Run records live in `<projectDir>/.avsctl/run/<component>.json` (mode 0600: they hold the
 * component's env, devnet keys included) so that `restart` and `status` work from a later CLI run.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import createDebug from "debug";
import { AvsctlError } from "../../errors.js";
import { repairStateFile, stateFileOf } from "../chain-storage.js";
import { ENV_COMPONENT, ENV_PROJECT, ENV_PROJECT_DIR, sanitizeName } from "./labels.js";
import { splitLines } from "./lines.js";
import { followFile, logDirOf, logHistory, tailFile } from "./log-files.js";
import { canListen, LOCALHOST, whoListensCommand } from "./ports.js";
import {
  canonicalDir,
  DEFAULT_STOP_GRACE_MS,
  findLabelledProcesses,
  isAlive,
  killProcessGroups,
} from "./process-groups.js";
import { type Held, waitHold } from "./process-hold.js";
import { spawnDetached } from "./spawn.js";
import type {
  ComponentHealth,
  ComponentInfo,
  DevnetRuntime,
  HealthOptions,
  LogOptions,
  ProcessComponentSpec,
  RemovedResources,
  StartedComponent,
  StartOptions,
} from "./types.js";
import { notPartOf } from "./types.js";
import { checkStrategies, probe, type WaitTarget, waitForReady } from "./wait.js";

const debug = createDebug("avsctl:devnet:runtime:process");

export {
  canonicalDir,
  findLabelledProcesses,
  isAlive,
  killProcessGroups,
  removeAllProcesses,
} from "./process-groups.js";

/** What `start` records about a process (serialisable; the state file can hold it too). */
export interface ProcessRecord {
  component: string;
  /** Pid of the group leader; the process group id is the same number. */
  pid: number;
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  ports: number[];
  wait: ProcessComponentSpec["wait"];
  stopGraceMs: number;
  logFile: string;
  /** Byte offset in the log file where this run's output starts. */
  logOffset: number;
  startedAt: string;
}

/** The spec that starts a component again as its run record says: same command, env, ports and waits. */
export function specOf(record: ProcessRecord): ProcessComponentSpec {
  return {
    name: record.component,
    command: record.command,
    args: record.args,
    cwd: record.cwd,
    env: record.env,
    ports: record.ports,
    stopGraceMs: record.stopGraceMs,
    ...(record.wait ? { wait: record.wait } : {}),
  };
}

export interface ProcessRuntimeOptions {
  project: string;
  /** Absolute project root; `.avsctl/logs` and `.avsctl/run` are created under it. */
  projectDir: string;
  /** Default timeout for strategies that set none (60 s). */
  defaultWaitTimeoutMs?: number;
}

/**
 * A process runtime for one project directory.
 *
 * @example
 * const runtime = new ProcessRuntime({ project: "my-avs", projectDir: process.cwd() });
 * const l1 = await runtime.start({ name: "l1", command: anvilPath, args: ["--port", "8545"],
 *   ports: [8545], wait: [{ kind: "json-rpc", port: 8545 }] });
 * l1.pid; // keep in the state file
 */
export class ProcessRuntime implements DevnetRuntime<ProcessComponentSpec> {
  readonly kind = "process" as const;
  readonly project: string;
  readonly projectDir: string;
  readonly logDir: string;
  readonly runDir: string;
  private readonly defaultWaitTimeoutMs: number | undefined;
  /** Exit status of processes this runtime spawned (only known to the spawning CLI run). */
  private readonly exits = new Map<number, string>();

  constructor(options: ProcessRuntimeOptions) {
    this.project = sanitizeName(options.project);
    // The canonical path, so processes started via a symlinked or relative path are still found.
    this.projectDir = canonicalDir(options.projectDir);
    this.logDir = logDirOf(this.projectDir);
    this.runDir = path.join(this.projectDir, ".avsctl", "run");
    this.defaultWaitTimeoutMs = options.defaultWaitTimeoutMs;
  }

  /** `<projectDir>/.avsctl/logs/<component>.log`. */
  logFile(component: string): string {
    return path.join(this.logDir, `${sanitizeName(component)}.log`);
  }

  private recordFile(component: string): string {
    return path.join(this.runDir, `${sanitizeName(component)}.json`);
  }

  /** The run record of a component, or null. */
  async record(component: string): Promise<ProcessRecord | null> {
    try {
      return JSON.parse(await readFile(this.recordFile(component), "utf8")) as ProcessRecord;
    } catch {
      return null;
    }
  }

  /** The run records' file names, sorted; none when there is no run directory. */
  private recordNames(): string[] {
    try {
      return readdirSync(this.runDir)
        .filter((n) => n.endsWith(".json"))
        .sort();
    } catch {
      return [];
    }
  }

  /** Every run record. */
  async records(): Promise<ProcessRecord[]> {
    const records: ProcessRecord[] = [];
    for (const name of this.recordNames()) {
      const record = await this.record(name.slice(0, -5));
      if (record) records.push(record);
    }
    return records;
  }

  /**
   * `records()` for a loop that reads them for as long as the devnet runs (the supervisor, twice
   * a second): each file is parsed again only when it changed. A record is replaced by a rename
   * (a new inode), so inode, size and ctime tell a changed one. It reads synchronously: async
   * reads of a dozen files each time, through libuv's pool, were most of the supervisor's idle CPU.
   */
  recordWatch(): () => ProcessRecord[] {
    const cache = new Map<string, { stamp: string; record: ProcessRecord }>();
    return () => {
      const records: ProcessRecord[] = [];
      for (const name of this.recordNames()) {
        const file = path.join(this.runDir, name);
        try {
          const st = statSync(file);
          const stamp = `${st.ino}:${st.size}:${st.ctimeMs}`;
          let entry = cache.get(file);
          if (entry?.stamp !== stamp) {
            entry = { stamp, record: JSON.parse(readFileSync(file, "utf8")) as ProcessRecord };
            cache.set(file, entry);
          }
          records.push(entry.record);
        } catch {
          cache.delete(file); // gone meanwhile: next round
        }
      }
      return records;
    };
  }

  private labelledFilter(component?: string) {
    return { project: this.project, projectDir: this.projectDir, component };
  }

  private async infoOf(component: string, record: ProcessRecord | null): Promise<ComponentInfo> {
    const labelled = await findLabelledProcesses(this.labelledFilter(component));
    const pid = record && isAlive(record.pid) ? record.pid : labelled[0]?.pgrp;
    const running = pid !== undefined && isAlive(pid);
    if (!record && !running)
      return { component, runtime: "process", id: "", ports: {}, state: "missing", running: false };
    const info: ComponentInfo = {
      component,
      runtime: "process",
      id: String(pid ?? record?.pid ?? ""),
      ports: Object.fromEntries((record?.ports ?? []).map((port) => [String(port), port])),
      state: running ? "running" : "exited",
      running,
      logFile: record?.logFile ?? this.logFile(component),
    };
    if (pid !== undefined) info.pid = pid;
    else if (record) info.pid = record.pid;
    if (record) info.startedAt = record.startedAt;
    return info;
  }

  private started(info: ComponentInfo): StartedComponent {
    const hostPort = (port: number) => port;
    return {
      ...info,
      hostPort,
      url: (port: number, p = "") => `http://${LOCALHOST}:${port}${p}`,
      remove: () => this.remove(info.component),
      [Symbol.asyncDispose]: () => this.remove(info.component),
    };
  }

  private waitTarget(record: ProcessRecord): WaitTarget {
    return {
      component: record.component,
      host: LOCALHOST,
      hostPort: (port) => port,
      logLines: (signal) => splitLines(followFile(record.logFile, record.logOffset, signal)),
      exitReason: async () => {
        const known = this.exits.get(record.pid);
        if (known !== undefined) return known;
        return isAlive(record.pid) ? null : "process is gone";
      },
      logTail: (lines) => tailFile(record.logFile, lines, record.logOffset),
    };
  }

  /**
   * Start a component as a detached process group, logging to `.avsctl/logs/<name>.log`, then
   * wait for its strategies. A running component of the same name is stopped first; a start or
   * stop of it another process makes now (the supervisor's) is waited for. A chain (anvil's
   * `--state <file>`) whose state file is cut short starts from its last whole copy
   * (../chain-storage.ts repairStateFile, said through `options.warn`). On failure the group
   * is killed and the error rethrown (TOOLCHAIN_MISSING when the command does not exist).
   */
  async start(spec: ProcessComponentSpec, options: StartOptions = {}): Promise<StartedComponent> {
    return this.holding(spec.name, options, () => this.startHeld(spec, options));
  }

  /**
   * Runs `fn` holding the component (process-hold.ts), so no other process starts or stops it
   * meanwhile: one that does now is waited for.
   */
  private async holding<T>(
    component: string,
    options: StartOptions,
    fn: (held: Held) => Promise<T>,
  ): Promise<T> {
    options.signal?.throwIfAborted();
    await mkdir(this.runDir, { recursive: true });
    const held = await waitHold(this.runDir, component, options);
    try {
      return await fn(held);
    } finally {
      held.release();
    }
  }

  /** `start` for a caller that holds the component already (the supervisor, with `tryHold`). */
  async startHeld(spec: ProcessComponentSpec, options: StartOptions = {}): Promise<StartedComponent> {
    checkStrategies(spec.name, spec.wait ?? []);
    await mkdir(this.runDir, { recursive: true });
    await this.kill(spec.name);
    // Checked before the spawn: the process would only die with its own words for it ("Address
    // already in use"), which no caller can tell from any other crash.
    for (const port of spec.ports ?? []) {
      if (await this.portFree(spec.name, port)) continue;
      await rm(this.recordFile(spec.name), { force: true });
      throw portInUse(spec.name, port);
    }
    const args = spec.args ?? [];
    // Judged only now, with every process of the component stopped: anvil rewrites its state
    // file in place every second, so one read while it runs can look cut short, and swapping in
    // the older copy then would start the chain without its last blocks.
    const stateFile = stateFileOf(args);
    const repaired = stateFile ? repairStateFile(stateFile) : undefined;
    if (repaired) {
      debug("%s: %s", spec.name, repaired);
      options.warn?.(repaired);
    }
    await mkdir(this.logDir, { recursive: true });
    const logFile = this.logFile(spec.name);
    const cwd = spec.cwd ?? this.projectDir;
    const { pid, logOffset, exited } = await spawnDetached({
      name: spec.name,
      command: spec.command,
      args,
      cwd,
      env: {
        ...spec.env,
        [ENV_PROJECT]: this.project,
        [ENV_PROJECT_DIR]: this.projectDir,
        [ENV_COMPONENT]: spec.name,
      },
      logFile,
    });
    void exited.then((reason) => this.exits.set(pid, reason));
    const record: ProcessRecord = {
      component: spec.name,
      pid,
      command: spec.command,
      args,
      cwd,
      env: spec.env ?? {},
      ports: spec.ports ?? [],
      wait: spec.wait ?? [],
      stopGraceMs: spec.stopGraceMs ?? DEFAULT_STOP_GRACE_MS,
      logFile,
      logOffset,
      startedAt: new Date().toISOString(),
    };
    debug("started %s as pid %d", spec.name, pid);
    try {
      await this.writeRecord(record);
      await waitForReady(record.wait ?? [], this.waitTarget(record), {
        signal: options.signal,
        defaultTimeoutMs: this.defaultWaitTimeoutMs,
      });
    } catch (error) {
      await killProcessGroups([pid], [], 0).catch(() => undefined);
      await rm(this.recordFile(spec.name), { force: true });
      throw error;
    }
    return this.started(await this.infoOf(spec.name, record));
  }

  /**
   * Whether the component can listen on its port. A process of this component that started since
   * the stop before (by an avsctl that did not wait for the hold: a supervisor from an older
   * version) is ours, not another program's: stopped as the old one was, and the port checked again.
   */
  private async portFree(component: string, port: number): Promise<boolean> {
    if (await canListen(port)) return true;
    if ((await findLabelledProcesses(this.labelledFilter(component))).length === 0) return false;
    debug("%s: port %d taken while a process of its own runs: stopping that", component, port);
    await this.kill(component);
    return canListen(port);
  }

  /** Written aside and renamed in: a reader (status, down, a supervisor) never sees half a record. */
  private async writeRecord(record: ProcessRecord): Promise<void> {
    const file = this.recordFile(record.component);
    await writeFile(`${file}.tmp`, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }

  /**
   * Stop a component's process group and every process labelled with it; gone is success. A
   * deliberate stop: the devnet's supervisor leaves it stopped until it is started again.
   */
  async stop(component: string): Promise<void> {
    // nothing ever started here: nothing holds it, and no run directory is made for it
    if (!existsSync(this.runDir)) return this.kill(component);
    await this.holding(component, {}, async (held) => {
      await this.kill(component);
      if (await this.record(component)) held.markStopped();
    });
  }

  private async kill(component: string): Promise<void> {
    const record = await this.record(component);
    const labelled = await findLabelledProcesses(this.labelledFilter(component));
    const groups = new Set(labelled.map((p) => p.pgrp));
    if (record && stillOurs(record, labelled)) groups.add(record.pid);
    if (groups.size === 0 && labelled.length === 0) return;
    await killProcessGroups(
      [...groups],
      labelled.map((p) => p.pid),
      record?.stopGraceMs ?? DEFAULT_STOP_GRACE_MS,
    );
    debug("stopped %s (groups %o)", component, [...groups]);
  }

  /**
   * Stop the component and forget its run record (its log file stays). The `stopped` hold stays
   * too: a supervisor that read the record just before it went must not start it again (a later
   * start of the same name replaces the hold).
   */
  async remove(component: string): Promise<void> {
    await this.stop(component);
    await rm(this.recordFile(component), { force: true });
  }

  /**
   * Stop and start again from the run record (same command, env and ports), then wait. A start
   * that fails puts the record back: the component stays part of the devnet, down, and the same
   * restart (or the supervisor) starts it once what failed is fixed (a port freed, say).
   */
  async restart(component: string, options: StartOptions = {}): Promise<StartedComponent> {
    if (!(await this.record(component))) throw notPartOf(component, this.project);
    return this.holding(component, options, async () => {
      // Read again under the hold: the supervisor may have started it meanwhile (a new pid).
      const record = await this.record(component);
      if (!record) throw notPartOf(component, this.project);
      try {
        return await this.startHeld(specOf(record), options);
      } catch (error) {
        if (!(await this.record(component))) await this.writeRecord(record).catch(() => undefined);
        throw error;
      }
    });
  }

  async inspect(component: string): Promise<ComponentInfo> {
    return this.infoOf(component, await this.record(component));
  }

  /** State plus a one-shot probe of the recorded HTTP/JSON-RPC/TCP strategies. */
  async health(component: string, options: HealthOptions = {}): Promise<ComponentHealth> {
    const record = await this.record(component);
    const info = await this.infoOf(component, record);
    if (!info.running) {
      const why = info.state === "missing" ? "not started" : "process is not running";
      return { ...info, healthy: false, problems: [`${component}: ${why}`] };
    }
    const target = { host: LOCALHOST, hostPort: (port: number) => port };
    const problems = (
      await Promise.all(
        (record?.wait ?? []).map((strategy) => probe(strategy, target, options.probeTimeoutMs)),
      )
    ).filter((problem): problem is string => problem !== null);
    return { ...info, healthy: problems.length === 0, problems };
  }

  /** Components with a run record or a labelled live process. */
  async list(): Promise<ComponentInfo[]> {
    const records = await this.records();
    const names = new Set(records.map((record) => record.component));
    for (const labelled of await findLabelledProcesses(this.labelledFilter())) {
      if (labelled.component !== "") names.add(labelled.component);
    }
    const infos: ComponentInfo[] = [];
    for (const name of [...names].sort()) {
      infos.push(await this.infoOf(name, records.find((record) => record.component === name) ?? null));
    }
    return infos;
  }

  /**
   * Lines of the component's log file: the last `tail` lines (all without `tail`), and with
   * `follow` new lines as they are appended, until `signal` aborts.
   */
  async *logs(component: string, options: LogOptions = {}): AsyncGenerator<string> {
    const file = (await this.record(component))?.logFile ?? this.logFile(component);
    const exists = await stat(file).then(
      () => true,
      () => false,
    );
    if (!exists) {
      throw new AvsctlError("NOT_FOUND", `no log for ${component} in ${this.logDir}`, {
        details: { component },
      });
    }
    // logHistory reads 0 as "everything"; LogOptions' 0 means "no history".
    const tail = options.tail ?? (options.follow ? 100 : 0);
    const wantsHistory = options.tail !== 0;
    // Tail and follow split at one offset, so no line is shown twice or skipped.
    const size = (await stat(file)).size;
    if (wantsHistory) yield* logHistory(file, tail, size);
    if (!options.follow) return;
    const signal = options.signal ?? new AbortController().signal;
    yield* splitLines(followFile(file, size, signal));
  }

  /** Kill every process of this project (records and labels) and drop the run records. */
  async removeProject(): Promise<RemovedResources> {
    const records = await this.records();
    const labelled = await findLabelledProcesses({ project: this.project, projectDir: this.projectDir });
    const groups = new Set(labelled.map((p) => p.pgrp));
    for (const record of records) if (stillOurs(record, labelled)) groups.add(record.pid);
    const pids = [...new Set([...groups, ...labelled.map((p) => p.pid)])].filter((pid) => isAlive(pid));
    await killProcessGroups(
      [...groups],
      labelled.map((p) => p.pid),
      Math.max(DEFAULT_STOP_GRACE_MS, ...records.map((record) => record.stopGraceMs)),
    );
    await rm(this.runDir, { recursive: true, force: true });
    return { containers: [], networks: [], volumes: [], processes: pids.sort((a, b) => a - b) };
  }
}

/** PORT_IN_USE (exit 4) for a component whose port another process listens on. */
function portInUse(component: string, port: number): AvsctlError {
  return new AvsctlError(
    "PORT_IN_USE",
    `${component} cannot start: port ${LOCALHOST}:${port} is in use by another process`,
    {
      hint: `stop what listens on ${LOCALHOST}:${port} (\`${whoListensCommand(port)}\` names it)`,
      details: { component, port, host: LOCALHOST },
    },
  );
}

/** A recorded pid is only trusted when it is still ours (pids get reused). */
function stillOurs(record: ProcessRecord, labelled: ReadonlyArray<{ pid: number }>): boolean {
  return isAlive(record.pid) && (process.platform !== "linux" || labelled.some((p) => p.pid === record.pid));
}
