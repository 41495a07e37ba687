/**
 * The devnet acceptance suite of issue 6, run once per runtime against the built CLI. One devnet
 * (project A, attesters validating through the test's own service on 127.0.0.1) is shared by
 * the tests in order; a second project (B, avsctl's sample services) is started beside it.
 */
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import YAML from "yaml";
import {
  componentIdentities,
  devnetPorts,
  docker,
  dockerResources,
  eventually,
  labelledProcesses,
  listening,
  readChains,
  STATE_KEYS,
  type State,
  sendOthenticTask,
  startValidationServer,
  stateUrls,
  stopSupervision,
  type TempProject,
  tempProject,
  type ValidationServer,
  waitForVerdict,
} from "./support.js";

type Runtime = "docker" | "process";

const NO_ENGINE = "unix:///nonexistent.sock";

/** Leftovers of a project: containers, networks, volumes (Docker) and labelled processes. */
async function leftovers(project: string, runtime: Runtime) {
  const processes = labelledProcesses(project);
  if (runtime === "process") return { containers: [], networks: [], volumes: [], processes };
  return { ...(await dockerResources(project)), processes };
}

const NOTHING = { containers: [], networks: [], volumes: [], processes: [] };

async function killAttester(p: TempProject, runtime: Runtime): Promise<void> {
  if (runtime === "docker") {
    await docker().getContainer(`avsctl-${p.devnet}-attester-1`).kill();
    return;
  }
  // this test is about status seeing it down: the supervisor would start it again
  await stopSupervision(p);
  process.kill(pidOf(p, "attester-1"), "SIGKILL");
}

/** The pid of a process-runtime component, from its run record. */
function pidOf(p: TempProject, component: string): number {
  return JSON.parse(readFileSync(path.join(p.dir, ".avsctl", "run", `${component}.json`), "utf8")).pid;
}

/**
 * Every process but the container's init dies from inside, so the container exits 137 on its
 * own (a `docker kill` is deliberate and disables the restart policy).
 */
async function dieInside(container: string): Promise<void> {
  const exec = await docker()
    .getContainer(container)
    .exec({ Cmd: ["sh", "-c", "kill -9 -1"], AttachStdout: true, AttachStderr: true });
  await new Promise<void>((resolve) => {
    void exec.start({}).then((stream) => {
      stream.on("end", resolve);
      stream.on("close", resolve);
      stream.on("error", () => resolve());
      stream.resume();
    }, resolve);
  });
}

export function devnetSuite(runtime: Runtime): void {
  const a = tempProject(`e2e-${runtime === "process" ? "proc" : "dock"}`);
  let b: TempProject | undefined;
  let validation: ValidationServer;
  let up: { code: number; stdout: string; stderr: string };
  let state: State;

  beforeAll(async () => {
    validation = await startValidationServer();
    up = await a.cli(["devnet", "up", "--runtime", runtime, "--validation-url", validation.url, "--json"]);
    if (up.code !== 0) throw new Error(`devnet up failed (${up.code}):\n${up.stdout}\n${up.stderr}`);
    state = JSON.parse(up.stdout);
  });

  afterAll(async () => {
    for (const p of [a, b]) {
      if (!p) continue;
      const r = await p.cli(["devnet", "down", "--volumes", "--json"], undefined, 60_000);
      if (r.code !== 0) console.error(`devnet down of ${p.name} failed:\n${r.stdout}\n${r.stderr}`);
      p.remove();
    }
    await validation?.stop();
  });

  it("up --json returns the devnet state of docs/cli.md", () => {
    // docs/cli.md's keys, plus the two `up` adds (runtimeReason, warnings) and nothing else
    expect(Object.keys(state).sort()).toEqual([...STATE_KEYS, "runtimeReason", "warnings"].sort());
    // not a workflow project: no task engine, so the config's definitions keep their ids
    expect(state.engine).toBeUndefined();
    expect(Array.isArray((state as unknown as { warnings: unknown }).warnings)).toBe(true);
    expect(state).toMatchObject({ name: a.devnet, runtime, healthy: true });
    expect(state.l1).toEqual({
      chainId: 31337,
      rpcUrl: expect.any(String),
      avsGovernance: expect.stringMatching(/^0x[0-9a-fA-F]{40}$/),
    });
    expect(state.l2).toHaveLength(1);
    expect(Object.keys(state.l2[0]!).sort()).toEqual(
      ["attestationCenter", "chainId", "internalTaskHandler", "obls", "rpcUrl"].sort(),
    );
    expect(state.l2[0]!.chainId).toBe(31338);
    expect(state.aggregator).toEqual({
      rpcUrl: expect.any(String),
      address: expect.stringMatching(/^0x[0-9a-fA-F]{40}$/),
      operatorId: expect.any(Number),
      metricsUrl: expect.stringMatching(/\/metrics$/),
    });
    expect(state.attesters.map((x) => x.name)).toEqual(["attester-1", "attester-2", "attester-3"]);
    for (const att of state.attesters) {
      expect(Object.keys(att).sort()).toEqual(["address", "name", "operatorId", "votingPower"]);
      expect(att.votingPower).toMatch(/^[1-9]\d*$/);
    }
    for (const k of [state.performer, state.deployer]) {
      expect(k.address).toMatch(/^0x[0-9a-fA-F]{40}$/);
      expect(k.privateKey).toMatch(/^0x[0-9a-f]{64}$/);
    }
    expect(state.services.validation).toBe(validation.url);
    expect(state.services.execution).toEqual(expect.any(String));
    // the sample execution service runs where the devnet runs; the validation service is the test's
    expect(state.serviceRuntimes).toEqual({ execution: runtime, validation: "external" });
    expect(state.taskDefinitions[0]).toEqual({ taskDefinitionId: 1, name: expect.any(String) });
    expect(state.startupMs).toBeGreaterThan(0);
    for (const url of stateUrls(state)) expect(new URL(url).hostname).toBe("127.0.0.1");
    expect(new Set(devnetPorts(state, [validation.url])).size).toBe(
      devnetPorts(state, [validation.url]).length,
    );
  });

  it("chains, contracts, operators and task definition 1 check out when read with ethers", async () => {
    const chain = await readChains(state);
    expect(chain.l1ChainId).toBe(state.l1.chainId);
    expect(chain.l2ChainId).toBe(state.l2[0]!.chainId);
    for (const [name, code] of Object.entries(chain.code)) expect(code.length, name).toBeGreaterThan(2);
    expect(chain.l1Registered).toEqual(chain.l1Registered.map(() => true));
    expect(chain.l1VotingPower).toEqual(state.attesters.map((x) => x.votingPower));
    expect(chain.l2Ids).toEqual([state.aggregator.operatorId, ...state.attesters.map((x) => x.operatorId)]);
    expect(chain.l2PerformerId).toBeGreaterThan(0);
    expect(new Set([...chain.l2Ids, chain.l2PerformerId]).size).toBe(chain.l2Ids.length + 1);
    expect(chain.l2VotingPower).toEqual(state.attesters.map((x) => x.votingPower));
    expect(chain.numOfTaskDefinitions).toBeGreaterThanOrEqual(1);
    expect(chain.taskDefinitionsCreated).toContainEqual({
      taskDefinitionId: 1,
      name: state.taskDefinitions[0]!.name,
    });
  });

  it("a task from an Othentic-style client ends TaskSubmitted, validated by the user's service", async () => {
    validation.answer = true;
    const proof = `e2e-approve-${randomUUID()}`;
    const sent = await sendOthenticTask(state.aggregator.rpcUrl, state.performer.privateKey, proof);
    expect(sent.chainIdResult).toBe(`0x${state.l2[0]!.chainId.toString(16)}`);
    expect(sent.sendTask.error).toBeUndefined();
    expect(sent.sendTask.result).toBeDefined();
    const verdict = await waitForVerdict(state, proof);
    expect(verdict.event).toBe("TaskSubmitted");
    const attesterIds = state.attesters.map((x) => x.operatorId);
    expect(verdict.attestersIds.length).toBeGreaterThanOrEqual(2);
    for (const id of verdict.attestersIds) expect(attesterIds).toContain(id);
    const seen = () => validation.requests.filter((r) => r.proofOfTask === proof);
    expect(seen().length).toBeGreaterThanOrEqual(verdict.attestersIds.length);
    expect(await eventually(async () => seen().length >= state.attesters.length)).toBe(true);
    expect(seen()[0]).toMatchObject({ taskDefinitionId: 1, performer: state.performer.address });
  });

  it("a task the user's validation service refuses ends TaskRejected", async () => {
    validation.answer = false;
    try {
      const proof = `e2e-reject-${randomUUID()}`;
      const sent = await sendOthenticTask(state.aggregator.rpcUrl, state.performer.privateKey, proof);
      expect(sent.sendTask.error).toBeUndefined();
      expect((await waitForVerdict(state, proof)).event).toBe("TaskRejected");
      expect(validation.requests.some((r) => r.proofOfTask === proof)).toBe(true);
    } finally {
      validation.answer = true;
    }
  });

  it("up on a healthy devnet is a no-op: same state, nothing restarted", async () => {
    const before = await componentIdentities(a, runtime);
    expect(Object.keys(before).length).toBeGreaterThanOrEqual(6);
    const again = await a.cli([
      "devnet",
      "up",
      "--runtime",
      runtime,
      "--validation-url",
      validation.url,
      "--json",
    ]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual(state);
    expect(await componentIdentities(a, runtime)).toEqual(before);
  });

  it("export writes the running topology for Compose and Kubernetes", async () => {
    const compose = await a.cli(["devnet", "export", "--format", "compose", "--json"]);
    expect(compose.code).toBe(0);
    const out = JSON.parse(compose.stdout);
    expect(out).toMatchObject({ format: "compose", path: null });
    const doc = YAML.parse(out.content);
    const services = Object.keys(doc.services);
    for (const c of ["l1", "l2-1", "aggregator", "attester-1", "attester-2", "attester-3", "execution"])
      expect(services).toContain(c);
    // The user's own validation service stays outside; the attesters are pointed at the host.
    expect(services).not.toContain("validation");
    const agg = doc.services.aggregator;
    expect(agg.environment.ATTESTATION_CENTER_ADDRESS).toBe(`31338@${state.l2[0]!.attestationCenter}`);
    expect(agg.environment.AVS_GOVERNANCE_ADDRESS).toBe(state.l1.avsGovernance);
    expect(doc.services["attester-1"].command.join(" ")).toContain(`host.docker.internal:${validation.port}`);

    const file = path.join(a.dir, "devnet.k8s.yaml");
    const k8s = await a.cli(["devnet", "export", "--format", "k8s", "-o", file, "--json"]);
    expect(k8s.code).toBe(0);
    expect(JSON.parse(k8s.stdout)).toMatchObject({ format: "k8s", path: file });
    expect(existsSync(file)).toBe(true);
    const kinds = YAML.parseAllDocuments(JSON.parse(k8s.stdout).content).map((d) => d.toJS());
    const deployments = kinds.filter((d) => d.kind === "Deployment").map((d) => d.metadata.name);
    for (const c of ["l1", "l2-1", "aggregator", "attester-1", "execution"]) expect(deployments).toContain(c);
  });

  it("an attester that dies is started again (by the supervisor, or Docker's restart policy), and status counts it", async () => {
    if (runtime === "process") {
      process.kill(pidOf(a, "attester-2"), "SIGKILL");
    } else {
      await dieInside(`avsctl-${a.devnet}-attester-2`);
    }
    let last = "";
    const back = await eventually(
      async () => {
        const r = await a.cli(["devnet", "status", "--json"]);
        last = r.stdout;
        const c = JSON.parse(r.stdout).components?.find((x: { name: string }) => x.name === "attester-2");
        return r.code === 0 && c?.healthy === true && c.restarts >= 1;
      },
      120,
      500,
    );
    expect(back, last).toBe(true);
  }, 120_000);

  it("an L2 anvil that dies is started again with its state, and a task after it is approved", async () => {
    validation.answer = true;
    // A task just before: the chain likely dies before its state file (saved each second) holds
    // it, so the aggregator's nonces are ahead of the chain that comes back.
    const before = `e2e-before-l2-dies-${randomUUID()}`;
    expect(
      (await sendOthenticTask(state.aggregator.rpcUrl, state.performer.privateKey, before)).sendTask.error,
    ).toBeUndefined();
    expect((await waitForVerdict(state, before)).event).toBe("TaskSubmitted");
    if (runtime === "process") process.kill(pidOf(a, "l2-1"), "SIGKILL");
    else await dieInside(`avsctl-${a.devnet}-l2-1`);
    // healthy again means its contracts and task definitions are there (status checks them);
    // in the process runtime the supervisor also starts the aggregator again after an L2
    let last = "";
    const back = await eventually(
      async () => {
        const r = await a.cli(["devnet", "status", "--json"]);
        last = r.stdout;
        const components: Array<{ name: string; healthy: boolean; restarts: number }> =
          JSON.parse(r.stdout).components ?? [];
        const l2 = components.find((x) => x.name === "l2-1");
        const aggregator = components.find((x) => x.name === "aggregator");
        return (
          r.code === 0 &&
          l2?.healthy === true &&
          l2.restarts >= 1 &&
          (runtime === "docker" || (aggregator?.restarts ?? 0) >= 1)
        );
      },
      120,
      500,
    );
    expect(back, last).toBe(true);
    // Sent until the aggregator takes it (a restarted one refuses tasks until its attesters are back).
    const after = `e2e-after-l2-dies-${randomUUID()}`;
    let refused: unknown;
    const taken = await eventually(
      async () => {
        const sent = await sendOthenticTask(state.aggregator.rpcUrl, state.performer.privateKey, after).catch(
          (error: Error) => ({ sendTask: { error: error.message } }),
        );
        refused = sent.sendTask.error;
        return refused === undefined;
      },
      60,
      500,
    );
    expect(taken, JSON.stringify(refused)).toBe(true);
    expect((await waitForVerdict(state, after)).event).toBe("TaskSubmitted");
  }, 240_000);

  it("status notices a killed attester (exit 1, names it) and restart brings it back", async () => {
    const healthy = await a.cli(["devnet", "status", "--json"]);
    expect(healthy.code).toBe(0);
    expect(JSON.parse(healthy.stdout).healthy).toBe(true);

    await killAttester(a, runtime);
    let down: Awaited<ReturnType<TempProject["cli"]>> | undefined;
    // The kill is asynchronous (a container's state flips a moment later): ask a few times.
    await eventually(async () => {
      down = await a.cli(["devnet", "status", "--json"]);
      return down.code !== 0;
    }, 20);
    expect(down!.code).toBe(1);
    const body = JSON.parse(down!.stdout);
    expect(body.healthy).toBe(false);
    expect(body.components.find((c: { name: string }) => c.name === "attester-1")).toMatchObject({
      healthy: false,
    });
    expect(body.components.filter((c: { healthy: boolean }) => !c.healthy)).toHaveLength(1);
    expect(body.problems.join("\n")).toContain("attester-1");

    // an unknown component is refused before anything says it is restarting
    const unknown = await a.cli(["devnet", "restart", "nosuch"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no component "nosuch"');
    expect(unknown.stdout + unknown.stderr).not.toMatch(/restarting/);
    const restart = await a.cli(["devnet", "restart", "attester-1", "--json"]);
    expect(restart.code).toBe(0);
    expect(JSON.parse(restart.stdout)).toMatchObject({ name: "attester-1", healthy: true });
    const again = await a.cli(["devnet", "status", "--json"]);
    expect(again.code).toBe(0);
    // the attesters are back with a restarted aggregator before restart returns: a status right
    // after it is healthy
    const aggregator = await a.cli(["devnet", "restart", "aggregator", "--json"]);
    expect(aggregator.code, aggregator.stdout).toBe(0);
    expect(JSON.parse(aggregator.stdout)).toMatchObject({ name: "aggregator", healthy: true, problems: [] });
    const afterAggregator = await a.cli(["devnet", "status", "--json"]);
    expect(afterAggregator.code, afterAggregator.stdout).toBe(0);

    // The restarted attester takes part again: all three validate a task. Its /health answers
    // before it has reconnected to the aggregator, so a first task may still miss it.
    let allThree = false;
    for (let i = 0; i < 5 && !allThree; i++) {
      const proof = `e2e-after-restart-${randomUUID()}`;
      await sendOthenticTask(state.aggregator.rpcUrl, state.performer.privateKey, proof);
      expect((await waitForVerdict(state, proof)).event).toBe("TaskSubmitted");
      allThree = await eventually(
        async () =>
          validation.requests.filter((r) => r.proofOfTask === proof).length >= state.attesters.length,
        8,
      );
    }
    expect(allThree).toBe(true);
  });

  it("a second project runs beside it without colliding, and its down removes only its own", async () => {
    b = tempProject(`e2e-${runtime === "process" ? "proc" : "dock"}-b`);
    // Process suite: `auto` without an engine falls back to processes and says why.
    const upB =
      runtime === "process"
        ? await b.cli(["devnet", "up", "--runtime", "auto"], { DOCKER_HOST: NO_ENGINE })
        : await b.cli(["devnet", "up", "--runtime", "docker"]);
    expect(upB.code, upB.stderr).toBe(0);
    if (runtime === "process") {
      expect(upB.stderr).toMatch(/auto: no Docker engine/);
      expect(upB.stderr).toContain(NO_ENGINE);
    }
    const statusB = await b.cli(["devnet", "status", "--json"]);
    expect(statusB.code).toBe(0);
    const sB: State = JSON.parse(statusB.stdout);
    expect(sB.runtime).toBe(runtime);
    expect(sB.name).toBe(b.devnet);
    // avsctl's own sample services in project B
    expect(sB.services.validation).not.toBeNull();
    expect(sB.services.execution).not.toBeNull();
    const portsA = devnetPorts(state, [validation.url]);
    for (const port of devnetPorts(sB)) expect(portsA).not.toContain(port);
    expect((await a.cli(["devnet", "status", "--json"])).code).toBe(0);

    const task = await b.cli(["task", "send", "--wait", "--json"]);
    expect(task.code, task.stdout + task.stderr).toBe(0);
    expect(JSON.parse(task.stdout)).toMatchObject({ status: "approved", chainId: sB.l2[0]!.chainId });

    const beforeA = await componentIdentities(a, runtime);
    const downB = await b.cli(
      ["devnet", "down", "--volumes", "--json"],
      runtime === "process" ? { DOCKER_HOST: NO_ENGINE } : {},
    );
    expect(downB.code).toBe(0);
    expect(await leftovers(b.devnet, runtime)).toEqual(NOTHING);
    expect(await componentIdentities(a, runtime)).toEqual(beforeA);
    expect((await a.cli(["devnet", "status", "--json"])).code).toBe(0);
  }, 240_000); // a Docker image rebuild (a changed dist/) may fall into this start

  it("down leaves no container, network or process and keeps the state (`kept`); down --volumes leaves nothing", async () => {
    expect(
      (await leftovers(a.devnet, runtime)).processes.length +
        (await leftovers(a.devnet, runtime)).containers.length,
    ).toBeGreaterThan(0);
    const down = await a.cli(["devnet", "down", "--json"]);
    expect(down.code).toBe(0);
    const left = await leftovers(a.devnet, runtime);
    expect({ ...left, volumes: [] }).toEqual(NOTHING);
    expect(down.json().kept).toEqual(expect.arrayContaining(left.volumes));
    expect(down.json().kept.length).toBeGreaterThan(0);
    for (const port of devnetPorts(state, [validation.url]))
      expect(await listening(port), `port ${port}`).toBe(false);
    expect(existsSync(path.join(a.dir, ".avsctl", "devnet.json"))).toBe(false);

    const again = await a.cli(["devnet", "down", "--volumes", "--json"]);
    expect(again.code).toBe(0);
    expect(again.json().kept).toEqual([]);
    expect(await leftovers(a.devnet, runtime)).toEqual(NOTHING);
    expect(existsSync(path.join(a.dir, ".avsctl", "chains"))).toBe(false);
    const status = await a.cli(["devnet", "status", "--json"]);
    expect(status.code).toBe(4);
    expect(JSON.parse(status.stdout).error.code).toBe("NO_DEVNET");
  });
}
