// The suite's devnet: a process-runtime devnet in a temporary project, validated by the suite's
// own service; the bookkeeping every row shares (hashes it sent, blocks it used); bringing a
// component back by hand when the devnet did not, so one failed row does not fail the next.
import { setTimeout as sleep } from "node:timers/promises";
import {
  avsctl,
  blockNumber,
  countByHash,
  isAlive,
  killProjectProcesses,
  projectProcesses,
  runRecord,
  tempProject,
  verdictEvents,
  waitFor,
} from "./chaos-env.mjs";
import { startValidationService } from "./chaos-servers.mjs";

/** Components a healthy devnet of the suite runs (the validation service is the suite's own). */
export const COMPONENTS = ["l1", "l2-1", "aggregator", "attester-1", "attester-2", "attester-3"];

/** How long a row waits for the devnet to bring a killed component back by itself. */
export const AUTO_RECOVERY_MS = 30_000;

export async function startSuiteDevnet() {
  const project = tempProject("avsctl-chaos");
  const validation = await startValidationService();
  const upArgs = ["devnet", "up", "--runtime", "process", "--validation-url", validation.url, "--json"];
  const up = await avsctl(project.dir, upArgs, { timeoutMs: 240_000 });
  const ctx = {
    project,
    validation,
    upArgs,
    state: up.json,
    /** Every task hash the suite knows it sent (any row); an on-chain task outside it was never asked for. */
    known: new Set(),
  };
  if (up.code !== 0 || !up.json?.healthy) {
    ctx.startError = `devnet up exited ${up.code}: ${(up.json?.error?.message ?? up.stderr).slice(0, 400)}`;
  }
  return ctx;
}

export async function stopSuiteDevnet(ctx) {
  if (!ctx) return { left: [] };
  const down = await avsctl(ctx.project.dir, ["devnet", "down", "--volumes", "--json"], {
    timeoutMs: 60_000,
  });
  const left = await waitFor(
    () => (projectProcesses(ctx.project.dir).length === 0 ? [] : undefined),
    10_000,
    200,
  );
  // `down` is what a user runs; whatever it missed is a finding, and still must not outlive the suite
  const killed = left ? [] : killProjectProcesses(ctx.project.dir);
  await ctx.validation.stop();
  ctx.project.remove();
  const said =
    down.code === 0
      ? ""
      : `down exited ${down.code}: ${(down.json?.error?.message ?? down.stderr).slice(0, 300)}`;
  return { left: killed, down: said };
}

/** `devnet status --json`: `{code, components: Map name -> component}`. */
export async function devnetStatus(ctx) {
  const r = await avsctl(ctx.project.dir, ["devnet", "status", "--json"], { timeoutMs: 60_000 });
  const components = new Map((r.json?.components ?? []).map((c) => [c.name, c]));
  return { code: r.code, healthy: r.json?.healthy === true, components, json: r.json };
}

/** Restart counts `devnet status` reports (`restarts` per component), when it reports them. */
export function restartsOf(status, names) {
  const out = {};
  for (const n of names) {
    const c = status.components.get(n);
    if (c && typeof c.restarts === "number") out[n] = c.restarts;
  }
  return out;
}

/** The restart counts `devnet status` shows now for `names`, to tell a later restart from an earlier one. */
export async function restartBaseline(ctx, names) {
  return restartsOf(await devnetStatus(ctx), names);
}

/**
 * Waits (bounded) until each named component runs again as a new process (its run record names a
 * live pid other than the killed one), `devnet status` says it is healthy and counts the restart
 * (`restarts` above `baseline`). Returns the time from `since` or null, and what was last seen.
 */
export async function waitForAutoRestart(ctx, killed, since, baseline = {}, ms = AUTO_RECOVERY_MS) {
  let seen = {};
  const back = await waitFor(
    async () => {
      seen = {};
      for (const [name, oldPid] of Object.entries(killed)) {
        const pid = runRecord(ctx.project.dir, name)?.pid;
        seen[name] = isAlive(pid) && pid !== oldPid ? `running as pid ${pid}` : "down";
      }
      if (Object.values(seen).some((s) => s === "down")) return false;
      const status = await devnetStatus(ctx);
      const restarts = restartsOf(status, Object.keys(killed));
      let ok = true;
      for (const n of Object.keys(killed)) {
        if (status.components.get(n)?.healthy !== true) {
          seen[n] += ", not healthy in status";
          ok = false;
        } else if (!(restarts[n] > (baseline[n] ?? 0))) {
          seen[n] += `, status restarts ${restarts[n] ?? "missing"} (was ${baseline[n] ?? "missing"})`;
          ok = false;
        }
      }
      return ok && { ms: Date.now() - since, restarts };
    },
    ms,
    250,
  );
  return back ?? { ms: null, seen };
}

/**
 * Brings the devnet back to healthy when a row left it otherwise: `devnet restart` of each
 * component that is down, then `devnet up` (which resumes from the saved state). Returns the
 * manual steps it took (empty when the devnet was healthy).
 */
export async function heal(ctx) {
  const steps = [];
  let status = await devnetStatus(ctx);
  if (status.code === 0 && status.healthy) return steps;
  for (const name of COMPONENTS) {
    const c = status.components.get(name);
    if (c && c.healthy !== true) {
      const r = await avsctl(ctx.project.dir, ["devnet", "restart", name, "--json"], { timeoutMs: 90_000 });
      steps.push(`devnet restart ${name} (exit ${r.code})`);
    }
  }
  status = await devnetStatus(ctx);
  if (status.code === 0 && status.healthy) return steps;
  const up = await avsctl(ctx.project.dir, ctx.upArgs, { timeoutMs: 240_000 });
  steps.push(`devnet up (exit ${up.code})`);
  if (up.json?.healthy) ctx.state = up.json;
  return steps;
}

/** Block to count a row's events from (the next block), waiting out a chain that is not answering. */
export async function rowStartBlock(ctx) {
  const n = await waitFor(() => blockNumber(ctx.state), 10_000, 200);
  return n === undefined ? 0 : n + 1;
}

/**
 * What the chain holds for a row: of the `expected` hashes (tasks that must land once), how many
 * landed, were lost or landed more than once; of `forbidden` ones (must not land), which did;
 * and any task in the row's blocks the suite never sent (a task rebuilt by a retry, or forged).
 */
export async function chainFacts(ctx, fromBlock, { expected = [], forbidden = [] } = {}) {
  const events = await verdictEvents(ctx.state, fromBlock);
  const counts = countByHash(events);
  const exp = new Set(expected.map((h) => h.toLowerCase()));
  let onChain = 0;
  let duplicated = 0;
  const approvedSet = new Set();
  for (const h of exp) {
    const n = counts.get(h) ?? 0;
    if (n > 0) onChain++;
    if (n > 1) duplicated += n - 1;
  }
  for (const e of events) if (exp.has(e.taskHash) && e.status === "approved") approvedSet.add(e.taskHash);
  const landedForbidden = forbidden.filter((h) => counts.has(h.toLowerCase()));
  const unknown = events.filter((e) => !ctx.known.has(e.taskHash));
  return {
    events,
    onChain,
    approved: approvedSet.size,
    lost: exp.size - onChain,
    duplicated: duplicated + unknown.length,
    landedForbidden,
    unknown,
  };
}

/** Lets a chain's state file catch up (anvil saves it every second) before a kill. */
export const settle = () => sleep(1_500);
