/**
 * A process devnet resumed from its saved state, end to end with the built CLI: after a SIGKILL
 * of every devnet process and `up`, after `down` and `up`, after the supervisor or `devnet
 * restart` started a chain again, the chain's clock goes on from its saved head, as far ahead
 * of wall time as `advance --time` put it (anvil started from its state file forgets that
 * offset, and its next block would be older than its parent); and `up` lists the task
 * definitions the resumed chain holds, which `status` gives as saved while the chains are down.
 */
import { readFileSync, realpathSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findLabelledProcesses } from "../../../src/devnet/runtime/process.js";
import {
  eventually,
  labelledProcesses,
  provider,
  type State,
  type TempProject,
  tempProject,
} from "./support.js";

const HOUR = 3600;
const nowSeconds = () => Math.floor(Date.now() / 1000);

interface Block {
  number: number;
  timestamp: number;
}

async function block(rpcUrl: string, tag: string | number): Promise<Block> {
  const p = provider(rpcUrl);
  try {
    const b = (await p.send("eth_getBlockByNumber", [
      typeof tag === "number" ? `0x${tag.toString(16)}` : tag,
      false,
    ])) as { number: string; timestamp: string };
    return { number: Number(BigInt(b.number)), timestamp: Number(BigInt(b.timestamp)) };
  } finally {
    p.destroy();
  }
}

describe("devnet resumed from its state keeps its chains' clocks, process runtime (built CLI)", () => {
  const p: TempProject = tempProject("e2e-resume");
  const ok = async (args: string[]) => {
    const r = await p.cli([...args, "--json"]);
    if (r.code !== 0) throw new Error(`avsctl ${args.join(" ")} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
    return r.json();
  };
  const up = () => ok(["devnet", "up", "--runtime", "process"]) as Promise<State>;
  let state: State;
  const chains = () => [
    { name: "l1", rpcUrl: state.l1.rpcUrl },
    ...state.l2.map((l, i) => ({ name: `l2-${i + 1}`, rpcUrl: l.rpcUrl })),
  ];

  /** A task, approved; the L2 block its transaction landed in. */
  const sendTask = async (): Promise<Block> => {
    const sent = await ok(["task", "send", "--wait"]);
    expect(sent.status).toBe("approved");
    const l2 = provider(state.l2[0]!.rpcUrl);
    const receipt = await l2.getTransactionReceipt(sent.txHash).finally(() => l2.destroy());
    return block(state.l2[0]!.rpcUrl, receipt!.blockNumber);
  };

  /** Waits until every chain's state file holds its head (anvil saves it every second). */
  const saved = async () => {
    for (const c of chains()) {
      const head = (await block(c.rpcUrl, "latest")).number;
      const file = path.join(p.dir, ".avsctl", "chains", `${c.name}.json`);
      const holds = async () => Number(JSON.parse(readFileSync(file, "utf8")).best_block_number) >= head;
      expect(await eventually(() => holds().catch(() => false), 60, 250)).toBe(true);
    }
  };

  /**
   * On every chain, the next block (the pending one) is after the head, and the clock runs about
   * `ahead` seconds ahead of wall time; an L2 task lands in a block after `last`.
   */
  const clockKept = async (ahead: number, last: Block) => {
    for (const c of chains()) {
      const head = await block(c.rpcUrl, "latest");
      const pending = await block(c.rpcUrl, "pending");
      expect(pending.timestamp, `${c.name}'s next block after its head`).toBeGreaterThan(head.timestamp);
      expect(pending.timestamp - nowSeconds(), `${c.name}'s clock ahead of wall time`).toBeGreaterThanOrEqual(
        ahead - 5,
      );
    }
    const next = await sendTask();
    expect(next.number).toBeGreaterThan(last.number);
    expect(next.timestamp).toBeGreaterThan(last.timestamp);
    const parent = await block(state.l2[0]!.rpcUrl, next.number - 1);
    expect(next.timestamp).toBeGreaterThanOrEqual(parent.timestamp);
    return next;
  };

  /** SIGKILL of every process of the devnet, its supervisor included. */
  const killAll = async () => {
    const projectDir = realpathSync(p.dir);
    for (const { pid } of await findLabelledProcesses({ project: p.devnet, projectDir }))
      process.kill(pid, "SIGKILL");
    expect(await eventually(async () => labelledProcesses(p.devnet).length === 0)).toBe(true);
  };

  beforeAll(async () => {
    state = await up();
  }, 360_000);

  afterAll(async () => {
    const r = await p.cli(["devnet", "down", "--volumes", "--json"], undefined, 120_000);
    if (r.code !== 0) console.error(`devnet down --volumes failed:\n${r.stdout}\n${r.stderr}`);
    p.remove();
  }, 180_000);

  it("after advance --time 2h and a SIGKILL of every process, up goes on 2 h ahead, never before the saved head", {
    timeout: 360_000,
  }, async () => {
    await ok(["devnet", "advance", "--time", "2h"]);
    const before = await sendTask();
    expect(before.timestamp).toBeGreaterThanOrEqual(nowSeconds() + 2 * HOUR - 5);
    await saved();

    await killAll();
    state = await up();
    await clockKept(2 * HOUR, before);
  });

  it("after advance --time 1h, down and up go on 3 h ahead", { timeout: 360_000 }, async () => {
    await ok(["devnet", "advance", "--time", "1h"]);
    const before = await sendTask();
    await ok(["devnet", "down"]);
    state = await up();
    await clockKept(3 * HOUR, before);
  });

  it("a chain the supervisor or `devnet restart` starts again keeps its clock", {
    timeout: 240_000,
  }, async () => {
    let before = await sendTask();
    await saved();
    const l2 = JSON.parse(readFileSync(path.join(p.dir, ".avsctl", "run", "l2-1.json"), "utf8")) as {
      pid: number;
    };
    process.kill(l2.pid, "SIGKILL");
    const restarted = async () => {
      const record = JSON.parse(readFileSync(path.join(p.dir, ".avsctl", "run", "l2-1.json"), "utf8"));
      return (
        record.pid !== l2.pid && (await ok(["devnet", "status"]).catch(() => ({ healthy: false }))).healthy
      );
    };
    expect(await eventually(() => restarted().catch(() => false), 120, 500)).toBe(true);
    before = await clockKept(3 * HOUR, before);

    await saved();
    await ok(["devnet", "restart", "l1"]);
    await ok(["devnet", "restart", "l2-1"]);
    await clockKept(3 * HOUR, before);
  });

  it("up after a kill lists the definitions the chain holds; status with the chains down says its list is what up read, and when", {
    timeout: 360_000,
  }, async () => {
    const names = (s: State) => s.taskDefinitions.map((d) => d.name);
    const first = names(state);
    await ok(["task-def", "create", "--name", "soon"]);
    await ok(["task-def", "create", "--name", "keeper"]);
    await saved();
    await killAll();
    const upAt = new Date().toISOString();
    state = await up();
    expect(names(state)).toEqual([...first, "soon", "keeper"]);
    const running = await ok(["devnet", "status"]);
    expect(names(running)).toEqual(names(state));
    expect(running).not.toHaveProperty("taskDefinitionsSavedAt");

    await killAll();
    const down = await p.cli(["devnet", "status", "--json"]);
    expect(down.code).toBe(1);
    const json = down.json();
    expect(names(json)).toEqual([...first, "soon", "keeper"]);
    expect(
      json.taskDefinitionsSavedAt >= upAt && json.taskDefinitionsSavedAt <= new Date().toISOString(),
    ).toBe(true);
    const human = await p.cli(["devnet", "status"]);
    expect(human.stdout).toContain(
      `task definitions: ${json.taskDefinitions.map((d: { taskDefinitionId: number; name: string }) => `${d.taskDefinitionId} ${d.name}`).join(", ")} (not read now, the first L2 does not answer: as devnet up read them at ${json.taskDefinitionsSavedAt})`,
    );
  });
});
