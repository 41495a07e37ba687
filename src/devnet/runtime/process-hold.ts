/**
 * Hold markers of the process runtime: `<runDir>/<component>.hold` says someone acts on the
 * component on purpose, so the devnet's supervisor (../supervisor.ts) must not start it again.
 * `starting` is held by a live CLI or supervisor while it stops and starts the component (a
 * `devnet restart`, a reload): it lapses when that process dies. `stopped` is a deliberate stop
 * (`snapshot restore` stops the chains while it loads them) and lasts until the next start.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { sanitizeName } from "./labels.js";
import { isAlive } from "./process-groups.js";

export type HoldReason = "starting" | "stopped";

interface Hold {
  reason: HoldReason;
  pid: number;
}

function holdFile(runDir: string, component: string): string {
  return path.join(runDir, `${sanitizeName(component)}.hold`);
}

export function hold(runDir: string, component: string, reason: HoldReason): void {
  const marker: Hold = { reason, pid: process.pid };
  writeFileSync(holdFile(runDir, component), `${JSON.stringify(marker)}\n`);
}

export function release(runDir: string, component: string): void {
  rmSync(holdFile(runDir, component), { force: true });
}

/** Whether the supervisor must leave the component alone now. */
export function isHeld(runDir: string, component: string): boolean {
  let marker: Hold;
  try {
    marker = JSON.parse(readFileSync(holdFile(runDir, component), "utf8")) as Hold;
  } catch {
    return false;
  }
  if (marker.reason === "stopped") return true;
  // A start whose process died (Ctrl-C during `devnet restart`) holds nothing any more.
  return marker.pid === process.pid || isAlive(marker.pid);
}
