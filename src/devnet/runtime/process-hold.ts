/**
 * Hold markers of the process runtime: `<runDir>/<component>.hold` says someone acts on the
 * component on purpose, so nobody else starts or stops it meanwhile.
 *
 * `starting` is held by the one live process that starts or stops the component (a `devnet
 * restart`, a reload, the devnet's supervisor, ../supervisor.ts): it is created with O_EXCL, so
 * two of them never act at once (each would stop the other's new process, or find its port
 * taken by it and call it another program's). A CLI waits for the hold (`waitHold`); the
 * supervisor takes it only when it is free (`tryHold`) and leaves the component alone
 * otherwise. It lapses when its process dies. `stopped` is a deliberate stop (`snapshot restore`
 * stops the nodes while it loads the chains, `operator remove`): it lasts until the next start, and
 * the supervisor never replaces it.
 */
import { linkSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { AvsctlError } from "../../errors.js";
import { sleep } from "../../util/sleep.js";
import { breakStale, readText } from "./exclusive-file.js";
import { sanitizeName } from "./labels.js";
import { isAlive, processStartTime } from "./process-groups.js";

export type HoldReason = "starting" | "stopped";

interface Marker {
  reason: HoldReason;
  pid: number;
  /** processStartTime(pid) when it took the hold: a pid handed to a later process is not the holder. */
  startTime?: string;
}

/** A hold this process took. */
export interface Held {
  release(): void;
  /** Turns the hold into a deliberate stop, which outlives this process (`release` leaves it). */
  markStopped(): void;
}

export interface WaitHoldOptions {
  signal?: AbortSignal;
  /** Called once, with the holder's pid, when another process holds it and this one waits. */
  onWait?: (holder: number) => void;
  timeoutMs?: number;
}

/** Far longer than a holder holds (the supervisor: an L2, then the aggregator, each ready within a minute or failed). */
export const HOLD_WAIT_MS = 5 * 60_000;
const POLL_MS = 100;

function holdFile(runDir: string, component: string): string {
  return path.join(runDir, `${sanitizeName(component)}.hold`);
}

let myStartTime: string | undefined;

function markerText(reason: HoldReason): string {
  myStartTime ??= processStartTime(process.pid);
  return `${JSON.stringify({ reason, pid: process.pid, startTime: myStartTime } satisfies Marker)}\n`;
}

/** Whether the process that wrote the marker still runs (this one does). */
function running(marker: Marker): boolean {
  if (marker.pid === process.pid) return true;
  if (!isAlive(marker.pid)) return false;
  const now = processStartTime(marker.pid);
  return marker.startTime === undefined || now === undefined || now === marker.startTime;
}

/** Writes the marker whatever is there (tests; a deliberate stop); renamed in, never read half-written. */
export function hold(runDir: string, component: string, reason: HoldReason): void {
  const file = holdFile(runDir, component);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, markerText(reason));
  renameSync(tmp, file);
}

/** Whether the supervisor must leave the component alone now. */
export function isHeld(runDir: string, component: string): boolean {
  const text = readText(holdFile(runDir, component));
  if (text === undefined) return false;
  const marker = parse(text);
  if (!marker) return false;
  if (marker.reason === "stopped") return true;
  // A start whose process died (Ctrl-C during `devnet restart`) holds nothing any more.
  return running(marker);
}

/** The supervisor's way: the hold when the component is free; undefined while another process holds it or it is stopped on purpose. */
export function tryHold(runDir: string, component: string): Held | undefined {
  return attempt(runDir, component, false) === true ? held(runDir, component) : undefined;
}

/**
 * A CLI's way: the hold, replacing a deliberate stop, once the process that starts or stops the
 * component now (the supervisor, say) is done. TIMEOUT after `timeoutMs` (HOLD_WAIT_MS).
 */
export async function waitHold(
  runDir: string,
  component: string,
  options: WaitHoldOptions = {},
): Promise<Held> {
  const timeoutMs = options.timeoutMs ?? HOLD_WAIT_MS;
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    options.signal?.throwIfAborted();
    const taken = attempt(runDir, component, true);
    if (taken === true) return held(runDir, component);
    if (taken !== undefined && taken.reason === "starting" && !told) {
      told = true;
      options.onWait?.(taken.pid);
    }
    if (Date.now() >= deadline) throw stillHeld(runDir, component, taken, timeoutMs);
    await sleep(POLL_MS, options.signal);
  }
}

/**
 * One try: true when the hold is ours now, else who holds it. A marker whose process is gone (and
 * with `replaceStopped` a deliberate stop) is replaced, as is one that does not parse (markers
 * are written whole: it is no one's).
 */
function attempt(runDir: string, component: string, replaceStopped: boolean): true | Marker | undefined {
  const file = holdFile(runDir, component);
  let marker: Marker | undefined;
  // A few rounds: the marker may go or be replaced between the create and the read.
  for (let round = 0; round < 5; round++) {
    if (create(file, markerText("starting"))) return true;
    const text = readText(file);
    if (text === undefined) continue;
    marker = parse(text);
    const stale = marker === undefined || (marker.reason === "stopped" ? replaceStopped : !running(marker));
    if (!stale || !breakStale(file, text, markerText("starting"))) return marker;
  }
  return marker;
}

function held(runDir: string, component: string): Held {
  const file = holdFile(runDir, component);
  const mine = markerText("starting");
  let stopped = false;
  return {
    release() {
      // a hold taken over by mistake (this process judged dead) is someone else's now: left alone
      if (!stopped && readText(file) === mine) rmSync(file, { force: true });
    },
    markStopped() {
      stopped = true;
      hold(runDir, component, "stopped");
    },
  };
}

/** Exactly one of the processes creating `file` at once gets it; linked in whole, never read half-written. */
function create(file: string, content: string): boolean {
  const tmp = `${file}.${process.pid}.new`;
  writeFileSync(tmp, content);
  try {
    linkSync(tmp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    rmSync(tmp, { force: true });
  }
}

function stillHeld(runDir: string, component: string, holder: Marker | undefined, timeoutMs: number) {
  const by = holder ? `process ${holder.pid}` : "another process";
  return new AvsctlError(
    "TIMEOUT",
    `${by} was still starting or stopping ${component} after ${Math.round(timeoutMs / 1000)} s; ${component} was left as it is`,
    {
      hint: `wait until it is done${holder ? ` or stop it (\`kill ${holder.pid}\`)` : ""}, then run the command again; a hold whose process has ended is taken over at once`,
      details: { component, holdFile: holdFile(runDir, component), holder: holder?.pid },
    },
  );
}

function parse(text: string): Marker | undefined {
  try {
    const marker = JSON.parse(text) as Marker;
    return Number.isInteger(marker.pid) ? marker : undefined;
  } catch {
    return undefined;
  }
}
