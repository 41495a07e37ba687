import { existsSync } from "node:fs";
import type Docker from "dockerode";
import type { AvsctlConfig } from "../config/schema.js";
import { AvsctlError, isAvsctlError } from "../errors.js";
import { devnetName } from "./plan.js";
import { removeContainerRecords } from "./runtime/docker-records.js";
import { statusCode } from "./runtime/docker-util.js";
import { sanitizeName } from "./runtime/labels.js";
import type { ComponentHealth, DevnetRuntime, RemovedResources, RuntimeKind } from "./runtime/types.js";
import {
  type DevnetState,
  readDevnetState,
  removeDevnetState,
  requireDevnetState,
  writeDevnetState,
} from "./state.js";

/** Opens the runtime an existing devnet runs in, without building anything. */
export async function runtimeFor(
  kind: RuntimeKind,
  project: string,
  projectDir: string,
): Promise<DevnetRuntime<any>> {
  if (kind === "process") {
    const { ProcessRuntime } = await import("./runtime/process.js");
    return new ProcessRuntime({ project, projectDir });
  }
  const { requireDocker, dockerClient } = await import("./docker-engine.js");
  await requireDocker(3000);
  const { DockerRuntime } = await import("./runtime/docker.js");
  return new DockerRuntime({ project, projectDir, docker: dockerClient() });
}

/**
 * The runtimes of an existing devnet. A Docker devnet may also run some components as host
 * processes (the project's services under `--services-runtime process`): each component is reached
 * through the runtime that started it.
 */
export interface DevnetRuntimes {
  primary: DevnetRuntime<any>;
  of(component: string): DevnetRuntime<any>;
  names(): Promise<string[]>;
}

export async function openRuntimes(state: DevnetState, projectDir: string): Promise<DevnetRuntimes> {
  const primary = await runtimeFor(state.runtime, state.name, projectDir);
  const host = state.runtime === "docker" ? await runtimeFor("process", state.name, projectDir) : undefined;
  const onHost = new Set(
    (state.internal?.components ?? []).filter((c) => c.runtime === "process").map((c) => c.name),
  );
  return {
    primary,
    of: (component) => (host && onHost.has(component) ? host : primary),
    async names() {
      const expected = state.internal?.components.map((c) => c.name) ?? [];
      const listed = (await primary.list()).map((c) => c.component);
      const hostListed = host ? (await host.list()).map((c) => c.component) : [];
      return [...new Set([...expected, ...listed, ...hostListed])];
    },
  };
}

export interface ComponentStatus {
  name: string;
  state: string;
  healthy: boolean;
  problems: string[];
  /** Times it was started again after it died (supervisor or Docker restart policy). */
  restarts: number;
}

export interface StatusResult {
  state: DevnetState | undefined;
  components: ComponentStatus[];
  problems: string[];
  /** The supervisor of a devnet that has one (its components run as processes). */
  supervisor?: import("./supervisor.js").SupervisorStatus;
  /** What is wrong without making the devnet unhealthy (a supervisor that is gone). */
  warnings: string[];
}

/**
 * Checks every component for real (its RPC or HTTP health answers now), not the state file,
 * services the user runs included, and reads the task definitions from the chain. A devnet
 * whose runtime is gone (Docker stopped) is reported unhealthy, not an error.
 */
export async function devnetStatus(projectDir: string): Promise<StatusResult> {
  const state = readDevnetState(projectDir);
  if (!state) return { state: undefined, components: [], problems: ["no devnet"], warnings: [] };
  let runtimes: DevnetRuntimes;
  try {
    runtimes = await openRuntimes(state, projectDir);
  } catch (error) {
    const problem = `${state.runtime} runtime unavailable: ${(error as Error).message}`;
    return { state: { ...state, healthy: false }, components: [], problems: [problem], warnings: [] };
  }
  const names = await runtimes.names();
  const { probeUserService, devnetTaskDefinitions, contractProblems } = await import("./status-checks.js");
  const { readSupervisor, isSupervised, supervisorStatus } = await import("./supervisor.js");
  // A service URL with no component of that name is one the user runs (`--validation-url`).
  const userRun = (["validation", "execution"] as const).flatMap((kind) => {
    const url = state.services[kind];
    return url && !names.includes(kind) ? [{ kind, url }] : [];
  });
  const [runtimeHealth, userHealth, taskDefinitions, contracts, supervisor] = await Promise.all([
    // The supervisor's counts are read after each component's health: one it restarted while
    // the probes ran is seen with its count (the supervisor counts before it starts anything).
    Promise.all(
      names.map(async (name) =>
        componentStatus(runtimes, name, () => readSupervisor(projectDir)?.restarts[name]),
      ),
    ),
    Promise.all(
      userRun.map(async ({ kind, url }): Promise<ComponentStatus> => {
        const probe = await probeUserService(url);
        return {
          name: kind,
          state: probe.state,
          healthy: probe.healthy,
          problems: probe.problems,
          restarts: 0,
        };
      }),
    ),
    // The chain's own list, so definitions made after `up` (task-def create) show; an L2 that
    // does not answer is reported as its component, and the list `up` read is given as such.
    devnetTaskDefinitions(state).then(
      (list) => ({ list }),
      () => {
        const read = state.internal?.taskDefinitionsRead;
        return {
          list: read?.list ?? state.taskDefinitions,
          taskDefinitionsSavedAt: read?.at ?? state.internal?.startedAt ?? null,
        };
      },
    ),
    contractProblems(expectedContracts(state)),
    isSupervised(state)
      ? supervisorStatus(projectDir, (state.internal?.supervisor as { pid?: number } | undefined)?.pid)
      : undefined,
  ]);
  const health = [...runtimeHealth, ...userHealth];
  // A chain that answers but lost the deployment is as broken as one that does not answer.
  for (const [name, found] of contracts) {
    const c = health.find((h) => h.name === name);
    if (c) Object.assign(c, { healthy: false, problems: [...c.problems, ...found] });
    else health.push({ name, state: "running", healthy: false, problems: found, restarts: 0 });
  }
  const problems = health
    .filter((h) => !h.healthy)
    .map((h) => `${h.name}: ${h.problems.join(", ") || h.state}`);
  const healthy = problems.length === 0 && health.length > 0;
  const { list, ...saved } = taskDefinitions;
  const warnings = supervisor && !supervisor.running ? [supervisorGone(supervisor, healthy)] : [];
  return {
    state: { ...state, healthy, taskDefinitions: list, ...saved },
    components: health,
    problems,
    ...(supervisor ? { supervisor } : {}),
    warnings,
  };
}

/**
 * A supervisor that is gone does not make a devnet unhealthy (docs/cli.md: an `up` on a healthy
 * devnet starts it again), but nothing starts a component that dies any more.
 */
function supervisorGone(supervisor: { pid: number | null }, healthy: boolean): string {
  const gone = `the supervisor is not running${supervisor.pid === null ? "" : ` (pid ${supervisor.pid} is gone)`}`;
  return healthy
    ? `${gone}: a component that dies stays down; \`avsctl devnet up\` starts the supervisor again and changes nothing else`
    : `${gone}: nothing starts a component that died again; \`avsctl devnet up\` starts the devnet again as it was started, its supervisor included`;
}

async function componentStatus(
  runtimes: DevnetRuntimes,
  name: string,
  supervised: () => number | undefined,
): Promise<ComponentStatus> {
  const h: ComponentHealth = await runtimes.of(name).health(name, { probeTimeoutMs: 2000 });
  // The runtimes name the component in some problems; the status lines name it once.
  const problems =
    h.state === "missing"
      ? ["missing"]
      : h.problems.map((p) => (p.startsWith(`${name}: `) ? p.slice(name.length + 2) : p));
  return { name, state: h.state, healthy: h.healthy, problems, restarts: h.restarts ?? supervised() ?? 0 };
}

/** How long `down` waits for the Docker engine to answer one request (a stop takes up to 5 s). */
const DOCKER_REQUEST_TIMEOUT_MS = 30_000;

export interface DownResult extends RemovedResources {
  runtimes: RuntimeKind[];
  kept: string[];
  /** What `down` could not look at (a Docker engine that stopped answering, for a process devnet). */
  warnings: string[];
}

/**
 * Removes this project's devnet (every devnet with `all`): every container, network and
 * process, and only those. Succeeds when nothing runs; without a state file it still looks for
 * labelled leftovers. Its saved state (chain state, journal, IPFS: Docker volumes or files under
 * `.avsctl`) stays for the next `up` and is listed in `kept`; `volumes` deletes it too.
 * Docker is asked only when it answers a ping, and each request is bounded: an engine that stops
 * answering is an error when the devnet runs in Docker, and a warning when it runs as processes
 * or is unknown (`up` sweeping leftovers), so a wedged engine never holds up a devnet that does
 * not use it.
 */
export async function devnetDown(
  projectDir: string,
  config?: AvsctlConfig,
  opts: { all?: boolean; volumes?: boolean } = {},
): Promise<DownResult> {
  const removed: DownResult = {
    containers: [],
    networks: [],
    volumes: [],
    processes: [],
    runtimes: [],
    kept: [],
    warnings: [],
  };
  const keepVolumes = opts.volumes !== true;
  const { removeSavedFiles, savedPaths } = await import("./persist.js");
  const files = async () => {
    if (keepVolumes) removed.kept.push(...savedPaths(projectDir).filter((p) => existsSync(p)));
    else removed.volumes.push(...removeSavedFiles(projectDir));
  };
  const merge = (r: RemovedResources, kind: RuntimeKind) => {
    removed.containers.push(...r.containers);
    removed.networks.push(...r.networks);
    removed.volumes.push(...r.volumes);
    removed.processes.push(...r.processes);
    if (r.containers.length + r.networks.length + r.volumes.length + r.processes.length > 0)
      removed.runtimes.push(kind);
  };
  // The supervisor first, so it starts nothing again while the rest stops.
  const { stopSupervisor } = await import("./supervisor.js");
  const supervisor = await stopSupervisor(projectDir);
  if (supervisor !== undefined) removed.processes.push(supervisor);
  const { pingDocker } = await import("./docker-engine.js");
  const dockerUp = (await pingDocker(2000)).ok;
  /** The Docker half of `down`, bounded; `required` when the devnet is known to run there. */
  const inDocker = async (required: boolean, work: (docker: Docker) => Promise<void>) => {
    if (!dockerUp) return;
    try {
      await work(await boundedDockerClient());
    } catch (error) {
      if (isAvsctlError(error) || statusCode(error) !== undefined) throw error;
      const reason = `the Docker engine answered a ping, then stopped answering (${(error as Error).message})`;
      if (required)
        throw new AvsctlError("DOCKER_UNAVAILABLE", reason, {
          hint: "restart the Docker engine (`sudo systemctl restart docker`), then run `avsctl devnet down` again",
          cause: error,
        });
      removed.warnings.push(`${reason}: containers of this devnet's name, if any, were not removed`);
    }
  };

  if (opts.all) {
    // The other projects whose devnets go too: each is left as its own `down` leaves it (no state
    // file, so its `status` says no devnet; its saved state kept, and listed, for its next `up`).
    const { canonicalDir, findLabelledProcesses, removeAllProcesses } = await import("./runtime/process.js");
    const others = new Set((await findLabelledProcesses()).map((p) => p.projectDir));
    await inDocker(true, async (docker) => {
      const { listProjectResources } = await import("./runtime/docker.js");
      for (const c of (await listProjectResources(docker)).containers) others.add(c.projectDir);
    });
    const here = canonicalDir(projectDir);
    for (const dir of others) if (dir === "" || canonicalDir(dir) === here) others.delete(dir);
    for (const dir of others) {
      const pid = await stopSupervisor(dir);
      if (pid !== undefined) removed.processes.push(pid);
    }
    merge({ containers: [], networks: [], volumes: [], processes: await removeAllProcesses() }, "process");
    await inDocker(true, async (docker) => {
      const { removeAllProjects, listProjectResources } = await import("./runtime/docker.js");
      merge(await removeAllProjects(docker, { keepVolumes }), "docker");
      if (keepVolumes) removed.kept.push(...(await listProjectResources(docker)).volumes.map((v) => v.name));
    });
    await files();
    removeContainerRecords(projectDir);
    removeDevnetState(projectDir);
    for (const dir of [...others].sort()) {
      // --volumes takes every Docker volume, but of the files only this project's
      removed.kept.push(...savedPaths(dir).filter((p) => existsSync(p)));
      removeContainerRecords(dir);
      removeDevnetState(dir);
    }
    return removed;
  }

  const state = readDevnetState(projectDir);
  const project = state?.name ?? (config ? devnetName(config, projectDir) : undefined);
  if (!project) return removed;
  const { ProcessRuntime } = await import("./runtime/process.js");
  merge(await new ProcessRuntime({ project, projectDir }).removeProject(), "process");
  if (!dockerUp && state?.runtime === "docker") {
    throw new AvsctlError("DOCKER_UNAVAILABLE", "the devnet runs in Docker, but no Docker engine answers", {
      hint: "start the Docker engine, then run `avsctl devnet down` again",
    });
  }
  await inDocker(state?.runtime === "docker", async (docker) => {
    const { removeProject, listProjectResources } = await import("./runtime/docker.js");
    merge(await removeProject(docker, project, { keepVolumes }), "docker");
    if (keepVolumes)
      removed.kept.push(
        ...(await listProjectResources(docker, sanitizeName(project))).volumes.map((v) => v.name),
      );
  });
  await files();
  removeContainerRecords(projectDir);
  removeDevnetState(projectDir);
  return removed;
}

/** A client whose requests give up after DOCKER_REQUEST_TIMEOUT_MS (DOCKER_CLIENT_TIMEOUT, in ms, wins). */
async function boundedDockerClient(): Promise<Docker> {
  const { dockerClient } = await import("./docker-engine.js");
  return dockerClient({ timeout: Number(process.env.DOCKER_CLIENT_TIMEOUT) || DOCKER_REQUEST_TIMEOUT_MS });
}

export async function devnetRestart(
  projectDir: string,
  component: string,
  progress: (step: string) => void = () => {},
): Promise<ComponentStatus & { warnings?: string[] }> {
  const state = requireDevnetState(projectDir);
  const runtimes = await openRuntimes(state, projectDir);
  const known = await runtimes.names();
  if (!known.includes(component)) {
    throw new AvsctlError("INVALID_ARGUMENT", `<node>: no component "${component}" in this devnet`, {
      hint: `components: ${known.join(", ")}`,
      details: { argument: "<node>" },
    });
  }
  const runtime = runtimes.of(component);
  if (runtime.kind === "docker" && (await runtime.inspect(component)).state === "missing") {
    const docker = runtime as import("./runtime/docker.js").DockerRuntime;
    const { containerRemoved } = await import("./runtime/docker-records.js");
    if (!docker.recorded(component))
      throw containerRemoved(component, false, ", and this devnet recorded nothing to create it again from");
    progress(`the ${component} container was removed: creating it again as \`devnet up\` started it`);
  } else progress(`restarting ${component}`);
  // A chain killed while saving its state starts from its last whole copy: the process runtime
  // sees to that once the old process is stopped, and says so here.
  const warnings: string[] = [];
  const warn = (message: string) => {
    warnings.push(message);
    progress(`warning: ${message}`);
  };
  const { readSupervisor } = await import("./supervisor.js");
  // A component the supervisor is starting again now (it died a moment ago) is waited for, then
  // restarted: said, as the CLI sits still meanwhile.
  const onWait = (name: string) => (pid: number) =>
    progress(
      `${readSupervisor(projectDir)?.pid === pid ? "the devnet's supervisor" : "another avsctl process"} (pid ${pid}) is starting or stopping ${name}: waiting for it`,
    );
  await runtime.restart(component, { onWait: onWait(component), warn }).catch(async (error: unknown) => {
    throw await portInUseAgain(error, projectDir, component);
  });
  // anvil started from its state file forgets its clock: it goes on from the saved head
  const chainUrls = new Map([
    ["l1", state.l1.rpcUrl],
    ...state.l2.map((l, i) => [`l2-${i + 1}`, l.rpcUrl] as const),
  ]);
  const chainUrl = chainUrls.get(component);
  if (chainUrl) await (await import("./chain-clock.js")).resumeClock(projectDir, component, chainUrl);
  // A chain whose state is gone (its Docker volume removed with its container, say) answers like
  // a healthy one: only its contracts tell, and an aggregator started against it would not start.
  const lost = /^(l1|l2-\d+)$/.test(component) ? await chainLost(state, component) : [];
  // An L2 back from its state file may have lost its last second, which the aggregator's journal
  // and nonces still count: its start-up recovery resyncs them (the supervisor does the same).
  const aggregatorRestarted = lost.length === 0 && /^l2-\d+$/.test(component) && known.includes("aggregator");
  if (aggregatorRestarted)
    await runtimes
      .of("aggregator")
      .restart("aggregator", { onWait: onWait("aggregator") })
      .catch(async (error: unknown) => {
        throw await portInUseAgain(error, projectDir, component);
      });
  // The attesters reconnect to a restarted aggregator by themselves; until they have, the devnet
  // is not what `restart` reports: a `status` right after would fail. Waited for, bounded.
  const waited =
    aggregatorRestarted || component === "aggregator"
      ? await attestersBack(
          runtimes,
          state.attesters.map((a) => a.name).filter((n) => known.includes(n)),
        )
      : [];
  const h = await runtime.health(component);
  writeDevnetState(projectDir, { ...state });
  const restarts = h.restarts ?? readSupervisor(projectDir)?.restarts[component] ?? 0;
  const problems = [...h.problems, ...lost, ...waited];
  return {
    name: component,
    state: h.state,
    healthy: h.healthy && lost.length === 0 && waited.length === 0,
    problems,
    restarts,
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

/**
 * A restart that found a port taken: the component stays down with its run record kept, so the
 * same `restart` works once the port is free (and the supervisor, while it runs, starts it then).
 */
async function portInUseAgain(error: unknown, projectDir: string, restarted: string): Promise<unknown> {
  if (!isAvsctlError(error) || error.code !== "PORT_IN_USE") return error;
  const { supervisorPid } = await import("./supervisor.js");
  const supervised = (await supervisorPid(projectDir)) !== undefined;
  return new AvsctlError(error.code, error.message, {
    hint: `${error.hint}, then run \`avsctl devnet restart ${restarted}\` again${supervised ? "; the supervisor also starts it by itself once the port is free" : ""}`,
    details: error.details,
    cause: error,
  });
}

/** How long `restart` waits for the attesters to be back with a restarted aggregator. */
const ATTESTERS_BACK_MS = 30_000;

/** Waits until each attester is healthy again; what is still wrong with those that are not. */
async function attestersBack(runtimes: Awaited<ReturnType<typeof openRuntimes>>, names: string[]) {
  const deadline = Date.now() + ATTESTERS_BACK_MS;
  let left = names;
  let last = new Map<string, string[]>();
  for (;;) {
    const checked = await Promise.all(left.map(async (n) => [n, await runtimes.of(n).health(n)] as const));
    last = new Map(checked.filter(([, h]) => !h.healthy).map(([n, h]) => [n, h.problems]));
    left = [...last.keys()];
    if (left.length === 0 || Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return left.map(
    (n) =>
      `${n} not healthy again ${ATTESTERS_BACK_MS / 1000} s after the restart: ${last.get(n)!.join("; ")}`,
  );
}

/** What a restarted chain lost of the deployment `up` made (empty when it is all there). */
async function chainLost(state: DevnetState, component: string): Promise<string[]> {
  const { contractProblems } = await import("./status-checks.js");
  return (await contractProblems(expectedContracts(state))).get(component) ?? [];
}

/** The deployment `up` made, as the state records it (the task engine's definition included). */
function expectedContracts(state: DevnetState): import("./status-checks.js").ExpectedContracts {
  const engine = state.engine ? [{ taskDefinitionId: state.engine.taskDefinitionId, name: "workflows" }] : [];
  return { l1: state.l1, l2: state.l2, taskDefinitions: [...state.taskDefinitions, ...engine] };
}

export async function* devnetLogs(
  projectDir: string,
  component: string | undefined,
  opts: { follow?: boolean; tail?: number; signal?: AbortSignal },
): AsyncGenerator<string> {
  const state = requireDevnetState(projectDir);
  const runtimes = await openRuntimes(state, projectDir);
  const known = await runtimes.names();
  const names = component ? [component] : known;
  if (component && !known.includes(component)) {
    throw new AvsctlError("INVALID_ARGUMENT", `<node>: no component "${component}" in this devnet`, {
      hint: `components: ${known.join(", ")}`,
      details: { argument: "<node>" },
    });
  }
  if (!opts.follow || names.length === 1) {
    for (const name of names) {
      for await (const line of runtimes.of(name).logs(name, opts))
        yield names.length > 1 ? `${name.padEnd(12)} | ${line}` : line;
    }
    return;
  }
  // Following several components: interleave as lines arrive.
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  let running = names.length;
  for (const name of names) {
    void (async () => {
      try {
        for await (const line of runtimes.of(name).logs(name, opts)) {
          queue.push(`${name.padEnd(12)} | ${line}`);
          wake?.();
        }
      } finally {
        running--;
        wake?.();
      }
    })();
  }
  while (running > 0 || queue.length > 0) {
    if (queue.length === 0) await new Promise<void>((r) => (wake = r));
    while (queue.length > 0) yield queue.shift()!;
  }
}
