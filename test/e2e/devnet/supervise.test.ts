/**
 * A devnet that survives its parts (issue 18), process runtime, built CLI: the supervisor starts
 * a SIGKILLed attester and a SIGKILLed L2 anvil again without a manual step (the chain with its
 * contracts, and the verdict reported just before the kill), `status` counts the restarts and exits 1 naming a chain whose contract code is
 * gone, and Ctrl-C during `devnet up` stops everything it started. Each test waits on the event
 * with a bound; afterAll removes both devnets with `down --volumes`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { binPath } from "../../helpers/cli.js";
import { until } from "../../helpers/until.js";
import {
  labelledProcesses,
  listening,
  provider,
  type State,
  type TempProject,
  tempProject,
} from "./support.js";

interface Component {
  name: string;
  healthy: boolean;
  restarts: number;
  problems: string[];
}

function record(p: TempProject, component: string): { pid: number; ports: number[] } {
  return JSON.parse(readFileSync(path.join(p.dir, ".avsctl", "run", `${component}.json`), "utf8"));
}

async function status(p: TempProject): Promise<{ code: number; healthy: boolean; components: Component[] }> {
  const r = await p.cli(["devnet", "status", "--json"]);
  const body = JSON.parse(r.stdout);
  return { code: r.code, healthy: body.healthy, components: body.components };
}

/** Waits until `component` was restarted by the supervisor and the whole devnet is healthy again. */
async function backHealthy(p: TempProject, component: string): Promise<Component> {
  return until(
    async () => {
      const s = await status(p);
      const c = s.components.find((x) => x.name === component);
      return s.code === 0 && c && c.restarts >= 1 && c.healthy ? c : undefined;
    },
    `${component} restarted and healthy`,
    90_000,
  );
}

describe("devnet supervision (process runtime)", () => {
  const p = tempProject("e2e-supervise");
  let state: State;

  beforeAll(async () => {
    const up = await p.cli(["devnet", "up", "--runtime", "process", "--json"]);
    if (up.code !== 0) throw new Error(`devnet up failed (${up.code}):\n${up.stdout}\n${up.stderr}`);
    state = JSON.parse(up.stdout);
  }, 240_000);

  afterAll(async () => {
    await p.cli(["devnet", "down", "--volumes"]);
    expect(labelledProcesses(p.devnet)).toEqual([]);
    p.remove();
  }, 120_000);

  it("starts a SIGKILLed attester again: status counts the restart and it is healthy without a manual step", async () => {
    const before = record(p, "attester-2").pid;
    process.kill(before, "SIGKILL");
    // The count is published before the new process starts: whoever sees the new process
    // (status included) sees it counted.
    const restarted = await until(
      async () => {
        const now = (() => {
          try {
            return record(p, "attester-2").pid;
          } catch {
            return before; // the run record is being rewritten
          }
        })();
        return now !== before ? now : undefined;
      },
      "attester-2 started again",
      60_000,
    );
    expect(restarted).not.toBe(before);
    const counts = JSON.parse(readFileSync(path.join(p.dir, ".avsctl", "supervisor.json"), "utf8"));
    expect(counts.restarts["attester-2"]).toBeGreaterThanOrEqual(1);
    const c = await backHealthy(p, "attester-2");
    expect(c.restarts).toBeGreaterThanOrEqual(1);
    expect(record(p, "attester-2").pid).not.toBe(before);
    const human = await p.cli(["devnet", "status"]);
    expect(human.stdout).toMatch(/RESTARTS/);
  }, 120_000);

  it("`devnet restart` is not fought: the supervisor counts no restart of its own", async () => {
    const r = await p.cli(["devnet", "restart", "attester-3", "--json"]);
    expect(r.code).toBe(0);
    const s = await status(p);
    expect(s.code).toBe(0);
    expect(s.components.find((c) => c.name === "attester-3")?.restarts).toBe(0);
  }, 120_000);

  it("starts a SIGKILLed L2 anvil again with its contracts, with the verdict task send reported, and a task is approved afterwards", async () => {
    const sent = await p.cli(["task", "send", "--wait", "--json"]);
    expect(sent.code).toBe(0);
    const told = JSON.parse(sent.stdout);
    expect(told).toMatchObject({ status: "approved", txHash: expect.any(String) });
    process.kill(record(p, "l2-1").pid, "SIGKILL");
    await backHealthy(p, "l2-1");
    // the aggregator was started again after it, to resync with what the chain kept
    expect((await backHealthy(p, "aggregator")).restarts).toBeGreaterThanOrEqual(1);
    const l2 = provider(state.l2[0]!.rpcUrl);
    try {
      expect(await l2.getCode(state.l2[0]!.attestationCenter)).not.toBe("0x");
    } finally {
      l2.destroy();
    }
    // The kill may have come before anvil saved the verdict's block: the aggregator sends the
    // transaction again as it was, so the verdict comes back by the same transaction.
    const verdict = await until(
      async () => {
        const r = await p.cli(["task", "status", told.taskHash, "--json"]);
        const body = r.code === 0 ? JSON.parse(r.stdout) : undefined;
        return body?.status === "approved" && body;
      },
      `task ${told.taskHash} approved on-chain again`,
      30_000,
    );
    expect(verdict).toMatchObject({ txHash: told.txHash, taskNumber: told.taskNumber });
    const after = await p.cli(["task", "send", "--wait", "--json"]);
    expect(after.code, after.stdout + after.stderr).toBe(0);
    expect(JSON.parse(after.stdout).status).toBe("approved");
  }, 180_000);

  it("status exits 1 naming the chain whose contract code is gone", async () => {
    const l2 = provider(state.l2[0]!.rpcUrl);
    try {
      await l2.send("anvil_setCode", [state.l2[0]!.obls, "0x"]);
    } finally {
      l2.destroy();
    }
    const r = await p.cli(["devnet", "status", "--json"]);
    expect(r.code).toBe(1);
    const body = JSON.parse(r.stdout);
    expect(body.healthy).toBe(false);
    expect(body.components.find((c: Component) => c.name === "l2-1")).toMatchObject({ healthy: false });
    expect(body.problems.join("\n")).toContain("l2-1");
    expect(body.problems.join("\n")).toContain(state.l2[0]!.obls);
  }, 60_000);
});

describe("Ctrl-C during devnet up", () => {
  const p = tempProject("e2e-sigint");
  let child: ChildProcess | undefined;

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    await p.cli(["devnet", "down", "--volumes"]);
    p.remove();
  }, 120_000);

  it("stops everything it started, says so, exits 130 and leaves no devnet behind", async () => {
    child = spawn(process.execPath, [binPath, "devnet", "up", "--runtime", "process"], {
      cwd: p.dir,
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child!.once("exit", (code) => r(code)));
    // Interrupted once the nodes are starting: the chains and the IPFS node run by then.
    await until(async () => /starting the validation service/.test(stderr), "the nodes phase", 120_000);
    const runDir = path.join(p.dir, ".avsctl", "run");
    const ports = readdirSync(runDir)
      .filter((f) => f.endsWith(".json"))
      .flatMap((f) => JSON.parse(readFileSync(path.join(runDir, f), "utf8")).ports as number[]);
    expect(ports.length).toBeGreaterThan(0);
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(stderr).toContain("INTERRUPTED");
    expect(labelledProcesses(p.devnet)).toEqual([]);
    for (const port of ports) expect(await listening(port), `port ${port}`).toBe(false);
    const s = await p.cli(["devnet", "status", "--json"]);
    expect(s.code, s.stdout + s.stderr).toBe(4);
    expect(JSON.parse(s.stdout).error.code).toBe("NO_DEVNET");
  }, 180_000);
});
