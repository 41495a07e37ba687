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
import { closeSync, openSync, readdirSync, readFileSync, realpathSync, writeSync } from "node:fs";
import { mkdir, open, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import createDebug from "debug";
import { execa } from "execa";
import { AvsctlError } from "../../errors.js";
import { ENV_COMPONENT, ENV_PROJECT, ENV_PROJECT_DIR, sanitizeName } from "./labels.js";
import { splitLines } from "./lines.js";
import { LOCALHOST } from "./ports.js";
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
import { checkStrategies, probe, type WaitTarget, waitForReady } from "./wait.js";

const debug = createDebug("avsctl:devnet:runtime:process");

const DEFAULT_STOP_GRACE_MS = 3_000;
const KILL_WAIT_MS = 2_000;
const FOLLOW_POLL_MS = 200;
const TAIL_READ_BYTES = 1 << 20;

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

export interface ProcessRuntimeOptions {
  project: string;
  /** Absolute project root; `.avsctl/logs` and `.avsctl/run` are created under it. */
  projectDir: string;
  /** Default timeout for strategies that set none (60 s). */
  defaultWaitTimeoutMs?: number;
}

function canonicalDir(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return path.resolve(dir);
  }
}

/** True when `pid` exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  if (process.platform === "linux") {
    try {
      const stat = readProcStat(pid);
      if (stat?.state === "Z" || stat?.state === "X") return false;
    } catch {
      // /proc unreadable: trust kill(0).
    }
  }
  return true;
}

function readProcStat(pid: number): { state: string; pgrp: number } | null {
  let text: string;
  try {
    // Synchronous on purpose: tiny procfs reads inside bounded kill loops.
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // `pid (comm) state ppid pgrp ...`; comm may contain spaces and parentheses.
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: rest[0] ?? "", pgrp: Number(rest[2]) };
}

/** Whether a process group still has a member that is not a zombie. */
function groupHasLiveMembers(group: number): boolean {
  try {
    process.kill(-group, 0);
  } catch {
    return false;
  }
  // kill(0) also succeeds for a group of zombies nobody reaped yet; look closer where we can.
  if (process.platform !== "linux") return true;
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return true;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (stat && stat.pgrp === group && stat.state !== "Z" && stat.state !== "X") return true;
  }
  return false;
}

/** Our own pid and process group: never signalled, whatever a label or record says. */
function isSelf(pid: number): boolean {
  return pid <= 1 || pid === process.pid || pid === (readProcStat(process.pid)?.pgrp ?? -1);
}

interface LabelledProcess {
  pid: number;
  pgrp: number;
  project: string;
  projectDir: string;
  component: string;
}

/**
 * Processes carrying avsctl's environment labels (Linux: from /proc/<pid>/environ), optionally
 * of one project / project directory / component. Other platforms return an empty list and
 * rely on the run records.
 */
export async function findLabelledProcesses(
  filter: { project?: string; projectDir?: string; component?: string } = {},
): Promise<LabelledProcess[]> {
  if (process.platform !== "linux") return [];
  let entries: string[];
  try {
    entries = await readdir("/proc");
  } catch {
    return [];
  }
  const found: LabelledProcess[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    let environ: string;
    try {
      environ = await readFile(`/proc/${pid}/environ`, "latin1");
    } catch {
      continue;
    }
    if (!environ.includes(`${ENV_PROJECT}=`)) continue;
    const vars = new Map<string, string>();
    for (const pair of environ.split("\0")) {
      const index = pair.indexOf("=");
      if (index > 0) vars.set(pair.slice(0, index), pair.slice(index + 1));
    }
    const labelled: LabelledProcess = {
      pid,
      pgrp: readProcStat(pid)?.pgrp ?? pid,
      project: vars.get(ENV_PROJECT) ?? "",
      projectDir: vars.get(ENV_PROJECT_DIR) ?? "",
      component: vars.get(ENV_COMPONENT) ?? "",
    };
    if (filter.project !== undefined && labelled.project !== filter.project) continue;
    if (filter.projectDir !== undefined && labelled.projectDir !== filter.projectDir) continue;
    if (filter.component !== undefined && labelled.component !== filter.component) continue;
    if (!isAlive(pid)) continue;
    found.push(labelled);
  }
  return found;
}

function signalGroupOrPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
    return;
  } catch {
    // Not a group leader (or the group is gone): fall back to the process itself.
  }
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

async function waitAllDead(pids: readonly number[], groups: readonly number[], ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  const allDead = () =>
    pids.every((pid) => !isAlive(pid)) && groups.every((group) => !groupHasLiveMembers(group));
  // Bounded by `ms`.
  while (Date.now() < deadline) {
    if (allDead()) return true;
    await sleep(50);
  }
  return allDead();
}

/**
 * Terminate process groups and loose processes: SIGTERM to each group (and pid), SIGKILL to
 * what is left after `graceMs`. Already-dead pids are fine; our own process and group are
 * never signalled.
 */
export async function killProcessGroups(
  groups: readonly number[],
  loosePids: readonly number[] = [],
  graceMs: number = DEFAULT_STOP_GRACE_MS,
): Promise<void> {
  const allGroups = [...new Set(groups)].filter((group) => !isSelf(group) && groupHasLiveMembers(group));
  const allPids = [...new Set([...groups, ...loosePids])].filter((pid) => !isSelf(pid) && isAlive(pid));
  if (allPids.length === 0 && allGroups.length === 0) return;
  for (const group of allGroups) signalGroupOrPid(group, "SIGTERM");
  for (const pid of allPids) signalGroupOrPid(pid, "SIGTERM");
  if (await waitAllDead(allPids, allGroups, graceMs)) return;
  debug("escalating to SIGKILL for groups %o, pids %o", allGroups, allPids);
  for (const group of allGroups) signalGroupOrPid(group, "SIGKILL");
  for (const pid of allPids) signalGroupOrPid(pid, "SIGKILL");
  if (!(await waitAllDead(allPids, allGroups, KILL_WAIT_MS))) {
    const left = allPids.filter((pid) => isAlive(pid));
    throw new AvsctlError("DEVNET_UNHEALTHY", `processes ${left.join(", ")} survived SIGKILL`, {
      hint: "They may be stuck in the kernel (D state); check `ps -o pid,stat,cmd -p <pid>`.",
      details: { pids: left, groups: allGroups },
    });
  }
}

/**
 * The last `lines` lines (0: all) of the bytes `[fromOffset, toOffset)` of a file, reading at
 * most 1 MB from the end.
 */
async function tailFile(file: string, lines: number, fromOffset = 0, toOffset?: number): Promise<string[]> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, "r");
  } catch {
    return [];
  }
  try {
    const size = toOffset ?? (await handle.stat()).size;
    const start = Math.max(fromOffset, size - TAIL_READ_BYTES);
    const length = Math.max(0, size - start);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, start);
    const all = buffer.toString("utf8").split("\n");
    if (all.at(-1) === "") all.pop();
    if (start > fromOffset && all.length > 0) all.shift();
    return lines > 0 ? all.slice(-lines) : all;
  } finally {
    await handle.close();
  }
}

/** Yield chunks appended to `file` from `offset` on, until `signal` aborts (polling, bounded read size). */
async function* followFile(file: string, offset: number, signal: AbortSignal): AsyncGenerator<Buffer> {
  let position = offset;
  while (!signal.aborted) {
    const size = await stat(file).then(
      (info) => info.size,
      () => -1,
    );
    if (size >= 0 && size < position) position = 0; // truncated: start over
    if (size > position) {
      const handle = await open(file, "r");
      try {
        const length = Math.min(size - position, TAIL_READ_BYTES);
        const buffer = Buffer.alloc(length);
        const { bytesRead } = await handle.read(buffer, 0, length, position);
        position += bytesRead;
        if (bytesRead > 0) yield buffer.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
      continue;
    }
    await sleep(FOLLOW_POLL_MS, undefined, { signal }).catch(() => undefined);
  }
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
    this.logDir = path.join(this.projectDir, ".avsctl", "logs");
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

  private async records(): Promise<ProcessRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.runDir);
    } catch {
      return [];
    }
    const records: ProcessRecord[] = [];
    for (const name of names.filter((n) => n.endsWith(".json")).sort()) {
      const record = await this.record(name.slice(0, -5));
      if (record) records.push(record);
    }
    return records;
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
   * wait for its strategies. A running component of the same name is stopped first. On
   * failure the group is killed and the error rethrown (TOOLCHAIN_MISSING when the command
   * does not exist).
   */
  async start(spec: ProcessComponentSpec, options: StartOptions = {}): Promise<StartedComponent> {
    checkStrategies(spec.name, spec.wait ?? []);
    options.signal?.throwIfAborted();
    await this.stop(spec.name);
    await mkdir(this.logDir, { recursive: true });
    await mkdir(this.runDir, { recursive: true });
    const logFile = this.logFile(spec.name);
    const cwd = spec.cwd ?? this.projectDir;
    const args = spec.args ?? [];
    const fd = openSync(logFile, "a");
    let logOffset: number;
    let subprocess: ReturnType<typeof execa>;
    try {
      writeSync(
        fd,
        `[avsctl] ${new Date().toISOString()} starting ${spec.name}: ${spec.command} ${args.join(" ")}\n`,
      );
      logOffset = (await stat(logFile)).size;
      subprocess = execa(spec.command, args, {
        cwd,
        env: {
          ...spec.env,
          [ENV_PROJECT]: this.project,
          [ENV_PROJECT_DIR]: this.projectDir,
          [ENV_COMPONENT]: spec.name,
        },
        extendEnv: true,
        // The log file's descriptor goes to the child as is (no pipe through us), so the child keeps
        // logging after the CLI exits; execa's typings only list small literal descriptors.
        stdio: ["ignore", fd, fd] as unknown as ["ignore", "ignore", "ignore"],
        // Own session and process group: survives the CLI, and one kill(-pgid) stops it all.
        detached: true,
        cleanup: false,
        reject: false,
        buffer: false,
      });
    } finally {
      closeSync(fd);
    }
    const pid = subprocess.pid;
    if (pid === undefined) {
      const result = await subprocess;
      const code = (result as { code?: string }).code;
      throw new AvsctlError(
        code === "ENOENT" ? "TOOLCHAIN_MISSING" : "DEVNET_START_FAILED",
        `cannot start ${spec.name}: ${code === "ENOENT" ? `${spec.command} not found` : result.message}`,
        {
          hint: code === "ENOENT" ? `Install ${spec.command} or put it on PATH.` : undefined,
          details: { component: spec.name, command: spec.command },
        },
      );
    }
    subprocess.nodeChildProcess.unref();
    void subprocess.then((result) => {
      this.exits.set(pid, result.signal ? `killed by ${result.signal}` : `exit code ${result.exitCode}`);
    });
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
      await writeFile(this.recordFile(spec.name), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
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

  /** Stop a component's process group and every process labelled with it; gone is success. */
  async stop(component: string): Promise<void> {
    const record = await this.record(component);
    const labelled = await findLabelledProcesses(this.labelledFilter(component));
    const groups = new Set(labelled.map((p) => p.pgrp));
    // A recorded pid is only trusted when it is still ours (pids get reused).
    if (
      record &&
      isAlive(record.pid) &&
      (process.platform !== "linux" || labelled.some((p) => p.pid === record.pid))
    ) {
      groups.add(record.pid);
    }
    if (groups.size === 0 && labelled.length === 0) return;
    await killProcessGroups(
      [...groups],
      labelled.map((p) => p.pid),
      record?.stopGraceMs ?? DEFAULT_STOP_GRACE_MS,
    );
    debug("stopped %s (groups %o)", component, [...groups]);
  }

  /** Stop the component and forget its run record (its log file stays). */
  async remove(component: string): Promise<void> {
    await this.stop(component);
    await rm(this.recordFile(component), { force: true });
  }

  /** Stop and start again from the run record (same command, env and ports), then wait. */
  async restart(component: string, options: StartOptions = {}): Promise<StartedComponent> {
    const record = await this.record(component);
    if (!record) {
      throw new AvsctlError("NOT_FOUND", `${component} is not part of the ${this.project} devnet`, {
        hint: "Run `avsctl devnet status` to see the components, or `avsctl devnet up` to start them.",
        details: { component },
      });
    }
    const spec: ProcessComponentSpec = {
      name: record.component,
      command: record.command,
      args: record.args,
      cwd: record.cwd,
      env: record.env,
      ports: record.ports,
      stopGraceMs: record.stopGraceMs,
    };
    if (record.wait) spec.wait = record.wait;
    return this.start(spec, options);
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
    // tailFile reads 0 as "everything"; LogOptions' 0 means "no history".
    const tail = options.tail ?? (options.follow ? 100 : 0);
    const wantsHistory = options.tail !== 0;
    // Tail and follow split at one offset, so no line is shown twice or skipped.
    const size = (await stat(file)).size;
    if (wantsHistory) yield* await tailFile(file, tail, 0, size);
    if (!options.follow) return;
    const signal = options.signal ?? new AbortController().signal;
    yield* splitLines(followFile(file, size, signal));
  }

  /** Kill every process of this project (records and labels) and drop the run records. */
  async removeProject(): Promise<RemovedResources> {
    const records = await this.records();
    const labelled = await findLabelledProcesses({ project: this.project, projectDir: this.projectDir });
    const groups = new Set(labelled.map((p) => p.pgrp));
    for (const record of records) {
      if (
        isAlive(record.pid) &&
        (process.platform !== "linux" || labelled.some((p) => p.pid === record.pid))
      ) {
        groups.add(record.pid);
      }
    }
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

/** `down --all` for processes: kill every process carrying avsctl labels on this machine (Linux). */
export async function removeAllProcesses(): Promise<number[]> {
  const labelled = await findLabelledProcesses();
  const pids = labelled.map((p) => p.pid);
  await killProcessGroups([...new Set(labelled.map((p) => p.pgrp))], pids);
  return pids.sort((a, b) => a - b);
}
