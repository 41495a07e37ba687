/**
 * One command at a time changes a project's devnet. Two `devnet up` started together (a retry
 * wrapper, two CI jobs on one runner, `make -j`) would otherwise each see no devnet and start
 * one, or each tear down what the other started. The lock is `.avsctl/devnet.lock`, created with
 * O_EXCL (atomic on every local file system, no native module), holding its owner: pid, that
 * process's start time (a pid handed to a later process is not the owner), host and command.
 * A lock whose owner no longer runs is taken over at once; the others are waited for.
 */
import { existsSync, rmdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { AvsctlError } from "../errors.js";
import { shellQuote } from "../shell-quote.js";
import { sleep } from "../util/sleep.js";
import { ABANDONED_MS, ageMs, breakStale, createExclusive, readText } from "./runtime/exclusive-file.js";
import { isAlive, processStartTime } from "./runtime/process-groups.js";
import { stateDir } from "./state.js";

export interface LockOwner {
  pid: number;
  /** processStartTime(pid) when it took the lock. */
  startTime?: string;
  host: string;
  /** What it runs: "devnet up", "operator add", ... */
  command: string;
  /** ISO time it took the lock. */
  since: string;
}

export interface LockOptions {
  /** What this process runs, for the message of a command that waits for it. */
  command: string;
  /** Called once, when another command holds the lock and this one starts waiting for it. */
  onWait?: (owner: LockOwner) => void;
  timeoutMs?: number;
}

export interface DevnetLock {
  release(): void;
}

/** Long enough for the slowest `up` (a first Docker image build) or `quickstart` it waits for. */
export const LOCK_TIMEOUT_MS = 15 * 60_000;
const POLL_MS = 200;
const SIGNALS = ["SIGINT", "SIGTERM"] as const;
/**
 * A lock file still empty, or a breaker still there, after this long was left by a process that
 * died between creating and writing it (or inside the breaker's few milliseconds).
 */

export function lockPath(projectDir: string): string {
  return path.join(stateDir(projectDir), "devnet.lock");
}

/** Runs `fn` holding the project's devnet lock, released however `fn` ends. */
export async function withDevnetLock<T>(
  projectDir: string,
  opts: LockOptions,
  fn: () => Promise<T>,
): Promise<T> {
  const lock = await acquireDevnetLock(projectDir, opts);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

export async function acquireDevnetLock(projectDir: string, opts: LockOptions): Promise<DevnetLock> {
  const file = lockPath(projectDir);
  const dir = path.dirname(file);
  // `down` where nothing ever ran leaves no .avsctl behind
  const madeDir = !existsSync(dir);
  const me: LockOwner = {
    pid: process.pid,
    startTime: processStartTime(process.pid),
    host: os.hostname(),
    command: opts.command,
    since: new Date().toISOString(),
  };
  const mine = `${JSON.stringify(me)}\n`;
  const deadline = Date.now() + (opts.timeoutMs ?? LOCK_TIMEOUT_MS);
  let told = false;
  let owner: LockOwner | undefined;
  for (;;) {
    if (createExclusive(file, mine)) return held(file, mine, madeDir ? dir : undefined);
    const text = readText(file);
    if (text !== undefined) {
      owner = parseOwner(text);
      const stale = owner ? !running(owner) : ageMs(file) > ABANDONED_MS;
      if (stale && breakStale(file, text, mine)) continue;
      if (!stale && owner && !told) {
        told = true;
        opts.onWait?.(owner);
      }
    }
    if (Date.now() >= deadline) throw gaveUp(file, owner, opts);
    // gone between the two reads: try again at once, nearly
    await sleep(text === undefined ? 10 : POLL_MS);
  }
}

function held(file: string, mine: string, madeDir: string | undefined): DevnetLock {
  const release = () => {
    process.off("exit", release);
    for (const signal of SIGNALS) process.off(signal, onSignal);
    // a lock taken over by mistake (its owner judged dead) is someone else's now: left alone
    if (readText(file) === mine) rmSync(file, { force: true });
    if (madeDir) {
      try {
        rmdirSync(madeDir);
      } catch {
        // the command wrote something there: the directory stays
      }
    }
  };
  // Ahead of every other listener, so it sees them all: a command that handles the signal
  // itself (`up` stops what it started) releases the lock when it ends, after its cleanup; one
  // that does not dies of the signal as it would have, the lock released first.
  const onSignal = (signal: NodeJS.Signals) => {
    if (process.listenerCount(signal) > 1) return;
    release();
    process.kill(process.pid, signal);
  };
  for (const signal of SIGNALS) process.prependListener(signal, onSignal);
  // process.exit() skips the caller's finally
  process.on("exit", release);
  return { release };
}

/** Whether the lock's owner still runs; one on another host (a shared directory) is assumed to. */
function running(owner: LockOwner): boolean {
  if (owner.host !== os.hostname()) return true;
  if (!isAlive(owner.pid)) return false;
  const now = processStartTime(owner.pid);
  return owner.startTime === undefined || now === undefined || now === owner.startTime;
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as LockOwner;
    return Number.isInteger(o.pid) && typeof o.host === "string" ? o : undefined;
  } catch {
    return undefined; // still being written
  }
}

function gaveUp(file: string, owner: LockOwner | undefined, opts: LockOptions): AvsctlError {
  const ms = opts.timeoutMs ?? LOCK_TIMEOUT_MS;
  const waited = ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;
  const who = owner ? `avsctl ${owner.command} (pid ${owner.pid}, since ${owner.since})` : "avsctl";
  const elsewhere = owner !== undefined && owner.host !== os.hostname();
  return new AvsctlError(
    "TIMEOUT",
    `another ${who}${elsewhere ? ` on ${owner.host}` : ""} was still changing this project's devnet after ${waited}; ${opts.command} changed nothing`,
    {
      hint: elsewhere
        ? `if no avsctl runs on ${owner.host} any more, remove its lock (\`rm ${shellQuote(file)}\`) and run the command again`
        : `wait until it ends${owner ? ` or stop it (\`kill ${owner.pid}\`)` : ""}, then run the command again; a lock whose process has ended is taken over at once`,
      details: { lockFile: file, owner },
    },
  );
}
