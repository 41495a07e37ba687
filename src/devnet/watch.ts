/**
 * `devnet watch` / `devnet up --watch`: watches the project's own services' directories and
 * reloads only the service whose files changed (src/devnet/reload.ts). Chains, nodes and the
 * other service keep running untouched. The core reports events and never prints.
 */
import { type FSWatcher, readFileSync, watch } from "node:fs";
import path from "node:path";
import type { AvsctlConfig } from "../config/schema.js";
import { AvsctlError } from "../errors.js";
import { type DevnetPlan, planDevnet } from "./plan.js";
import type { ProjectService } from "./project-services.js";
import { type ReloadTarget, reloadService } from "./reload.js";
import { isIgnored, parseDockerignore } from "./runtime/context.js";
import type { ServiceKind } from "./service-env.js";
import { requireDevnetState } from "./state.js";

/** Quiet time after the last change before a reload: an editor's burst of saves is one reload. */
export const DEBOUNCE_MS = 300;

/**
 * Directories whose changes never need a reload: dependencies, virtualenvs, caches, VCS and
 * build outputs (which a reload itself may write).
 */
const IGNORED_DIRS = new Set([
  "node_modules",
  ".venv",
  "venv",
  "__pycache__",
  ".pytest_cache",
  ".mypy_cache",
  ".ruff_cache",
  ".git",
  "dist",
  "build",
  "out",
  "target",
  "coverage",
  ".avsctl",
]);

/** Editors' swap and backup files. */
const IGNORED_FILE = /(?:~|\.swp|\.swx|\.tmp|^4913)$/;

export function ignoredChange(relative: string): boolean {
  const parts = relative.split(/[\\/]/);
  if (parts.slice(0, -1).some((p) => IGNORED_DIRS.has(p))) return true;
  const base = parts[parts.length - 1] ?? "";
  return IGNORED_DIRS.has(base) || IGNORED_FILE.test(base) || base.startsWith(".#");
}

/**
 * For a service built into an image: whether a changed file (relative to the service's folder)
 * is one its `.dockerignore` keeps out of the build context, so it cannot change the image
 * (the templates leave out Go's `*_test.go` and Python's `tests/`). The Dockerfile and the
 * `.dockerignore` always count; the latter is read at each change, so editing it counts at once.
 */
export function outsideBuildContext(
  service: Pick<ProjectService, "dir" | "dockerfile">,
  relative: string,
): boolean {
  const rel = relative.split(path.sep).join("/");
  if (rel === ".dockerignore" || rel === path.posix.normalize(service.dockerfile.replace(/\\/g, "/")))
    return false;
  let text: string;
  try {
    text = readFileSync(path.join(service.dir, ".dockerignore"), "utf8");
  } catch {
    return false;
  }
  return isIgnored(rel, parseDockerignore(text));
}

export type WatchEvent =
  | {
      action: "watching";
      services: Array<{ service: ServiceKind; dir: string; runtime: "process" | "docker" }>;
    }
  | { action: "reloading"; service: ServiceKind; trigger: string }
  | { action: "restarted"; service: ServiceKind; trigger: string; ms: number }
  | {
      action: "failed";
      service: ServiceKind;
      trigger: string;
      ms: number;
      error: string;
      /** True when the previous version still runs (a Docker build failed). */
      previousKept: boolean;
      /** What the new version printed last before it stopped (its container is gone), or its build. */
      logTail?: string[];
      /** What to do, when the failure says more than "fix it" (a build that did not trust a TLS certificate). */
      hint?: string;
    }
  | { action: "stopped"; devnetRunning: true };

export interface WatchOptions {
  config: AvsctlConfig;
  projectDir: string;
  /** `--ca-certs`, absolute: the certificates a Docker rebuild trusts (as `devnet up` takes them). */
  caCerts?: string;
  env?: NodeJS.ProcessEnv;
  signal: AbortSignal;
  onEvent(event: WatchEvent): void;
}

/** The project's own services of the running devnet, where they run, and how to rebuild them. */
export async function watchTargets(
  opts: Omit<WatchOptions, "signal" | "onEvent">,
): Promise<{ plan: DevnetPlan; project: string; targets: ReloadTarget[] }> {
  const state = requireDevnetState(opts.projectDir);
  const plan = planDevnet(opts.config, opts.projectDir, { runtime: state.runtime });
  const onHost = new Set(
    (state.internal?.components ?? []).filter((c) => c.runtime === "process").map((c) => c.name),
  );
  const targets: ReloadTarget[] = [];
  for (const kind of ["validation", "execution"] as const) {
    const service = plan.services[kind];
    const where = state.serviceRuntimes?.[kind];
    // A service the user runs (a URL) or avsctl's sample has no files of the project to watch.
    if (service?.kind !== "project" || !state.services[kind] || where === "external") continue;
    const runtime =
      state.runtime === "process" || where === "process" || onHost.has(kind) ? "process" : "docker";
    targets.push({ kind, service: service as ProjectService, runtime });
  }
  if (targets.length === 0) {
    throw new AvsctlError("CONFIG_INVALID", "this devnet runs none of the project's own services", {
      hint: "set services.validation.dir / services.execution.dir in the avsctl config, then `avsctl devnet up --fresh`",
    });
  }
  if (targets.some((t) => t.runtime === "docker")) {
    const { caCertsChoice, readServiceCa } = await import("./service-ca.js");
    const choice = caCertsChoice(
      opts.caCerts,
      opts.config.devnet.caCerts,
      opts.projectDir,
      opts.env ?? process.env,
    );
    if (choice) plan.ca = readServiceCa(choice);
  }
  return { plan, project: state.name, targets };
}

/**
 * Watches until `signal` aborts, then waits for a reload under way and reports `stopped`; the
 * devnet keeps running. A reload that fails is reported and watching goes on.
 */
export async function watchServices(opts: WatchOptions): Promise<void> {
  const { plan, project, targets } = await watchTargets(opts);
  const watchers: FSWatcher[] = [];
  const running: Promise<void>[] = [];
  const loops = targets.map((target) => reloadLoop(target, plan, project, opts.onEvent));
  try {
    for (const [i, target] of targets.entries()) {
      const loop = loops[i]!;
      const watcher = watch(target.service.dir, { recursive: true }, (_event, filename) => {
        if (!filename || ignoredChange(filename.toString())) return;
        if (target.runtime === "docker" && outsideBuildContext(target.service, filename.toString())) return;
        // relative to the project, as a user names the file
        loop.changed(path.relative(plan.projectDir, path.join(target.service.dir, filename.toString())));
      });
      watcher.on("error", () => undefined);
      watchers.push(watcher);
    }
    opts.onEvent({
      action: "watching",
      services: targets.map((t) => ({ service: t.kind, dir: t.service.dir, runtime: t.runtime })),
    });
    await new Promise<void>((resolve) => {
      if (opts.signal.aborted) resolve();
      opts.signal.addEventListener("abort", () => resolve(), { once: true });
    });
  } finally {
    for (const watcher of watchers) watcher.close();
    for (const loop of loops) running.push(loop.stop());
    await Promise.all(running);
  }
  opts.onEvent({ action: "stopped", devnetRunning: true });
}

/** One service's debounced reloads, one at a time: changes during a reload give one more after it. */
function reloadLoop(
  target: ReloadTarget,
  plan: DevnetPlan,
  project: string,
  onEvent: (event: WatchEvent) => void,
) {
  let timer: NodeJS.Timeout | undefined;
  let trigger: string | undefined;
  let busy: Promise<void> | undefined;
  let stopped = false;

  const run = async (file: string) => {
    const started = Date.now();
    onEvent({ action: "reloading", service: target.kind, trigger: file });
    try {
      await reloadService(target, plan, project);
      onEvent({ action: "restarted", service: target.kind, trigger: file, ms: Date.now() - started });
    } catch (error) {
      onEvent({
        action: "failed",
        service: target.kind,
        trigger: file,
        ms: Date.now() - started,
        error: error instanceof Error ? error.message : String(error),
        previousKept: (error as { previousKept?: boolean }).previousKept === true,
        ...((error as { logTail?: string[] }).logTail?.length
          ? { logTail: (error as { logTail: string[] }).logTail }
          : {}),
        ...((error as { hint?: string }).hint ? { hint: (error as { hint: string }).hint } : {}),
      });
    }
  };

  const fire = () => {
    timer = undefined;
    if (busy || stopped || !trigger) return;
    const file = trigger;
    trigger = undefined;
    busy = run(file).finally(() => {
      busy = undefined;
      // changed again while reloading: once more, after the same quiet time
      if (trigger && !stopped) timer = setTimeout(fire, DEBOUNCE_MS);
    });
  };

  return {
    changed(file: string) {
      if (stopped) return;
      trigger = file;
      if (busy) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(fire, DEBOUNCE_MS);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await busy;
    },
  };
}
