/**
 * Process groups of the process runtime: finding the processes a devnet labelled (its own
 * children included) and killing whole groups, SIGTERM first, then SIGKILL.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, realpathSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import createDebug from "debug";
import { AvsctlError } from "../../errors.js";
import { sleep } from "../../util/sleep.js";
import { ENV_COMPONENT, ENV_PROJECT, ENV_PROJECT_DIR } from "./labels.js";

const debug = createDebug("avsctl:devnet:runtime:process");

/** How long a component gets between SIGTERM and SIGKILL unless it says otherwise. */
export const DEFAULT_STOP_GRACE_MS = 3_000;
const KILL_WAIT_MS = 2_000;

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

/**
 * A project directory as the runtime labels its processes with it (symlinks resolved), so the
 * labels of one project compare equal however its path was given.
 */
export function canonicalDir(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return path.resolve(dir);
  }
}

/**
 * When `pid` started, as the system tells (Linux: clock ticks since boot from /proc; elsewhere
 * `ps`'s start time), or undefined when it is gone or cannot be read. With the pid it names one
 * process for good: a pid the system handed to another process later has another start time.
 */
export function processStartTime(pid: number): string | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (process.platform === "linux") return readProcStat(pid)?.startTime;
  try {
    const out = execFileSync("ps", ["-o", "lstart=", "-p", String(pid)], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    return out === "" ? undefined : out;
  } catch {
    return undefined;
  }
}

function readProcStat(pid: number): { state: string; pgrp: number; startTime: string } | null {
  let text: string;
  try {
    // Synchronous on purpose: tiny procfs reads inside bounded kill loops.
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // `pid (comm) state ppid pgrp ...`; comm may contain spaces and parentheses.
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // starttime is field 22 of the line, the 20th after comm
  return { state: rest[0] ?? "", pgrp: Number(rest[2]), startTime: rest[19] ?? "" };
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

/** `down --all` for processes: kill every process carrying avsctl labels on this machine (Linux). */
export async function removeAllProcesses(): Promise<number[]> {
  const labelled = await findLabelledProcesses();
  const pids = labelled.map((p) => p.pid);
  await killProcessGroups([...new Set(labelled.map((p) => p.pgrp))], pids);
  return pids.sort((a, b) => a - b);
}
