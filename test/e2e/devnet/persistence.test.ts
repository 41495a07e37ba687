/**
 * The devnet that keeps its state (issue 17), end to end with the built CLI: a SIGKILL of every
 * devnet process (or `docker kill` of every container) and a plain `down` lose nothing, a
 * snapshot brings the whole network back, and `devnet advance` moves every chain so a block
 * expiry refuses new tasks, decoded by name. Each devnet uses avsctl's sample services (the
 * fastest to start) and is removed with `down --volumes` in afterAll.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findLabelledProcesses } from "../../../src/devnet/runtime/process.js";
import { runPasted } from "../../helpers/cli.js";
import { describeDocker } from "../../helpers/docker.js";
import {
  docker,
  dockerResources,
  eventually,
  labelledProcesses,
  provider,
  type State,
  type TempProject,
  tempProject,
} from "./support.js";

type Runtime = "docker" | "process";

interface Sent {
  status: string;
  taskNumber: number;
  txHash: string;
  taskDefinitionId: number;
  taskHash: string;
}

/** What `up` deployed, which a restart must keep as it is. */
const deployment = (s: State) => ({
  l1: s.l1.avsGovernance,
  l2: s.l2.map((l) => [l.attestationCenter, l.obls, l.internalTaskHandler]),
  operators: [s.aggregator.operatorId, ...s.attesters.map((a) => a.operatorId)],
});

function devnet(p: TempProject) {
  const ok = async (args: string[]) => {
    const r = await p.cli([...args, "--json"]);
    if (r.code !== 0) throw new Error(`avsctl ${args.join(" ")} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
    return r.json();
  };
  return {
    ok,
    up: (runtime: Runtime) => ok(["devnet", "up", "--runtime", runtime]) as Promise<State>,
    send: async (args: string[] = []) => (await ok(["task", "send", "--wait", ...args])) as Sent,
    taskDefNames: async () =>
      ((await ok(["task-def", "list"])).taskDefinitions as Array<{ name: string }>).map((d) => d.name),
    verdicts: async () =>
      ((await ok(["task", "list"])).tasks as Array<{ taskNumber: number; status: string }>).map((t) => [
        t.taskNumber,
        t.status,
      ]),
  };
}

/**
 * anvil saves a chain's state every second: a kill right after a task could lose it (the
 * aggregator then sends it again). The test waits until the saved state holds `block`.
 */
async function savedUpTo(p: TempProject, runtime: Runtime, chain: string, block: number): Promise<boolean> {
  const read = async (): Promise<number> => {
    if (runtime === "process") {
      const text = readFileSync(path.join(p.dir, ".avsctl", "chains", `${chain}.json`), "utf8");
      return Number(JSON.parse(text).best_block_number ?? -1);
    }
    const container = docker().getContainer(`avsctl-${p.devnet}-${chain}`);
    const exec = await container.exec({
      Cmd: [
        "node",
        "-e",
        "process.stdout.write(String(JSON.parse(require('fs').readFileSync('/state/state.json','utf8')).best_block_number))",
      ],
      AttachStdout: true,
    });
    const stream = await exec.start({});
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    // the multiplexed stream: 8-byte frame headers before each payload
    const raw = Buffer.concat(chunks);
    let out = "";
    for (let i = 0; i + 8 <= raw.length; ) {
      const size = raw.readUInt32BE(i + 4);
      out += raw.subarray(i + 8, i + 8 + size).toString();
      i += 8 + size;
    }
    return Number(out);
  };
  return eventually(async () => (await read().catch(() => -1)) >= block, 60, 250);
}

async function blockOf(state: State, txHash: string): Promise<number> {
  const l2 = provider(state.l2[0]!.rpcUrl);
  try {
    return (await l2.getTransactionReceipt(txHash))!.blockNumber;
  } finally {
    l2.destroy();
  }
}

/** SIGKILL every process of the devnet (runtime "process"), or `docker kill` every container. */
async function killEverything(p: TempProject, runtime: Runtime): Promise<number> {
  if (runtime === "docker") {
    const { containers } = await dockerResources(p.devnet);
    for (const name of containers) await docker().getContainer(name).kill();
    return containers.length;
  }
  const projectDir = (await import("node:fs")).realpathSync(p.dir);
  const processes = await findLabelledProcesses({ project: p.devnet, projectDir });
  for (const { pid } of processes) process.kill(pid, "SIGKILL");
  expect(await eventually(async () => labelledProcesses(p.devnet).length === 0)).toBe(true);
  return processes.length;
}

function persistenceSuite(runtime: Runtime): void {
  const p = tempProject(`e2e-keep-${runtime === "process" ? "proc" : "dock"}`);
  const d = devnet(p);
  let state: State;

  beforeAll(async () => {
    state = await d.up(runtime);
  });

  afterAll(async () => {
    const r = await p.cli(["devnet", "down", "--volumes", "--json"], undefined, 60_000);
    if (r.code !== 0) console.error(`devnet down --volumes failed:\n${r.stdout}\n${r.stderr}`);
    if (runtime === "docker")
      expect(await dockerResources(p.devnet)).toEqual({ containers: [], networks: [], volumes: [] });
    p.remove();
  });

  it("a kill of every component loses nothing: same contracts, the definition, the verdicts; a 4th task is approved", async () => {
    const created = await d.ok(["task-def", "create", "--name", "kept"]);
    const sent: Sent[] = [];
    for (let i = 0; i < 3; i++) sent.push(await d.send());
    expect(sent.map((s) => s.status)).toEqual(["approved", "approved", "approved"]);
    expect(await savedUpTo(p, runtime, "l2-1", await blockOf(state, sent[2]!.txHash))).toBe(true);

    expect(await killEverything(p, runtime)).toBeGreaterThan(0);
    const again = await d.up(runtime);

    expect(deployment(again)).toEqual(deployment(state));
    expect(await d.taskDefNames()).toContain("kept");
    expect(created.taskDefinitionId).toBeGreaterThan(0);
    const verdicts = await d.verdicts();
    for (const s of sent) expect(verdicts).toContainEqual([s.taskNumber, "approved"]);
    const fourth = await d.send();
    expect(fourth.status).toBe("approved");
    expect(fourth.taskNumber).toBe(sent[2]!.taskNumber + 1);
    state = again;
  });

  it("a plain down keeps the state and says so; the next up resumes it, with logs of its own", async () => {
    const earlier = await d.send();
    const aggregatorLog = async () =>
      ((await d.ok(["devnet", "logs", "aggregator"])).lines as string[]).join("\n");
    expect(await aggregatorLog()).toContain(earlier.taskHash);
    // no wait for the chain's periodic save, unlike the kill above: a plain down lets anvil save
    const down = await d.ok(["devnet", "down"]);
    expect(down.kept.length).toBeGreaterThan(0);
    const again = await d.up(runtime);
    expect(deployment(again)).toEqual(deployment(state));
    expect(await d.taskDefNames()).toContain("kept");
    // the chain keeps the task; the new devnet's logs start empty, as new containers' do, and
    // the process runtime keeps the last devnet's in .avsctl/logs/previous
    expect(await d.verdicts()).toContainEqual([earlier.taskNumber, "approved"]);
    expect(await aggregatorLog()).not.toContain(earlier.taskHash);
    if (runtime === "process") {
      const previous = readFileSync(
        path.join(p.dir, ".avsctl", "logs", "previous", "aggregator.log"),
        "utf8",
      );
      expect(previous).toContain(earlier.taskHash);
    }
    state = again;
  });

  it("a snapshot restore removes what came after it, and task numbers continue from it", async () => {
    const saved = await d.ok(["devnet", "snapshot", "save", "before"]);
    expect(Object.keys(saved.blocks).sort()).toEqual(
      [state.l1.chainId, state.l2[0]!.chainId].map(String).sort(),
    );
    const after = await d.send();
    await d.ok(["task-def", "create", "--name", "snap-a"]);
    await d.ok(["task-def", "create", "--name", "snap-b"]);
    expect(await d.taskDefNames()).toEqual(expect.arrayContaining(["snap-a", "snap-b"]));

    const listed = await d.ok(["devnet", "snapshot", "list"]);
    expect(listed.snapshots.map((s: { name: string }) => s.name)).toEqual(["before"]);
    const restored = await d.ok(["devnet", "snapshot", "restore", "before"]);
    expect(restored.restarted).toContain("aggregator");

    const names = await d.taskDefNames();
    expect(names).toContain("kept");
    expect(names).not.toContain("snap-a");
    expect(names).not.toContain("snap-b");
    const next = await d.send();
    expect(next.status).toBe("approved");
    expect(next.taskNumber).toBe(after.taskNumber);
  });

  it("snapshot refusals name the argument: unknown snapshot, bad name (exit 2)", async () => {
    for (const args of [
      ["devnet", "snapshot", "restore", "no-such"],
      ["devnet", "snapshot", "delete", "no-such"],
      ["devnet", "snapshot", "save", "bad/name"],
    ]) {
      const r = await p.cli([...args, "--json"]);
      expect(r.code).toBe(2);
      expect(r.json().error).toMatchObject({ code: "INVALID_ARGUMENT", details: { argument: "<name>" } });
    }
    expect((await d.ok(["devnet", "snapshot", "delete", "before"])).deleted).toBe("before");
    expect((await d.ok(["devnet", "snapshot", "list"])).snapshots).toEqual([]);
  });

  it("advance --blocks 100 lets a --block-expiry <current+50> definition refuse tasks, by its revert name", async () => {
    const l2 = provider(state.l2[0]!.rpcUrl);
    const current = await l2.getBlockNumber().finally(() => l2.destroy());
    const def = await d.ok([
      "task-def",
      "create",
      "--name",
      "expiring",
      "--block-expiry",
      String(current + 50),
    ]);
    expect(BigInt(def.params.blockExpiry)).toBe(BigInt(current + 50));

    const advanced = await d.ok(["devnet", "advance", "--blocks", "100"]);
    const l2Chain = advanced.chains.find((c: { chainId: number }) => c.chainId === state.l2[0]!.chainId);
    expect(l2Chain.block).toBeGreaterThanOrEqual(current + 100);
    expect(advanced.chains).toHaveLength(2);

    const refused = await p.cli([
      "task",
      "send",
      "--task-def",
      String(def.taskDefinitionId),
      "--via",
      "rpc",
      "--json",
    ]);
    expect(refused.code).toBe(1);
    const error = refused.json().error;
    expect(error.message).toContain("InvalidTaskDefinition");
    expect(error.details.rpcError.data).toMatchObject({
      reason: "TASK_DEFINITION_EXPIRED",
      revert: "InvalidTaskDefinition",
    });
    // the hint's task-def create names the expired definition itself, and works when pasted
    const create = /`(avsctl task-def create [^`]*)`/.exec(error.hint)?.[1];
    expect(create, error.hint).toBe("avsctl task-def create --name 'expiring'");
    const pasted = await runPasted(`${create} --json`, { cwd: p.dir });
    expect(pasted.code, pasted.stdout + pasted.stderr).toBe(0);
    expect(JSON.parse(pasted.stdout)).toMatchObject({ name: "expiring" });
    expect(JSON.parse(pasted.stdout).taskDefinitionId).toBeGreaterThan(def.taskDefinitionId);
  });

  it("advance --time moves every chain's clock", async () => {
    const before = await d.ok(["devnet", "advance", "--blocks", "1"]);
    const after = await d.ok(["devnet", "advance", "--time", "2h"]);
    for (const [i, c] of after.chains.entries())
      expect(c.timestamp - before.chains[i].timestamp).toBeGreaterThanOrEqual(7200);
    const bad = await p.cli(["devnet", "advance", "--time", "soon", "--json"]);
    expect(bad.code).toBe(2);
    expect(bad.json().error.details.argument).toBe("--time");
  });
}

describe("devnet state, process runtime (built CLI)", () => {
  persistenceSuite("process");
});

describeDocker("devnet state, Docker runtime (built CLI, real engine)", () => {
  persistenceSuite("docker");
});
