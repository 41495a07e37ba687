/**
 * `devnet up` after a start that did not finish starts the devnet as that start was asked, not
 * with the defaults: Ctrl-C during a first `up --attesters 2 --block-time 1 --no-services` once
 * its chains are saved, then a plain `up` (what the INTERRUPTED hint says to run), gives that
 * devnet, its chains resumed, and says so; so does a plain `up` after a repairing start that
 * failed (its anvil missing) after removing the unhealthy devnet. `down --volumes` deletes what
 * was kept with the chains. Process runtime, built CLI; afterAll brings it down with --volumes.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { binPath } from "../../helpers/cli.js";
import { until } from "../../helpers/until.js";
import {
  breakDevnet,
  labelledProcesses,
  minesOnItsOwn,
  recordedPlan,
  type State,
  type TempProject,
  tempProject,
} from "./support.js";

const FLAGS = ["--runtime", "process", "--attesters", "2", "--block-time", "1", "--no-services"];
const ASKED = "process runtime, 2 attesters, 1 L2 chain, block time 1 s, no services, no task engine";

/** A repairing `up` that fails once it has removed the unhealthy devnet: no anvil to start its chains. */
async function failedRepair(p: TempProject): Promise<void> {
  await breakDevnet(p, "attester-1");
  const r = await p.cli(["devnet", "up", "--json"], { AVSCTL_ANVIL_BIN: path.join(p.dir, "no-anvil") });
  expect(r.code, r.stdout + r.stderr).toBe(4);
  expect(JSON.parse(r.stdout.trim().split("\n").pop()!).error.code).toBe("TOOLCHAIN_MISSING");
  expect(labelledProcesses(p.devnet)).toEqual([]);
  expect((await p.cli(["devnet", "status", "--json"])).code).toBe(4);
}

describe("devnet up after a start that did not finish (process runtime)", () => {
  const p = tempProject("e2e-unfinished");
  let child: ChildProcess | undefined;
  let first: State;

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    const r = await p.cli(["devnet", "down", "--volumes", "--json"], undefined, 60_000);
    if (r.code !== 0) console.error(`devnet down failed:\n${r.stdout}\n${r.stderr}`);
    expect(labelledProcesses(p.devnet)).toEqual([]);
    p.remove();
  }, 120_000);

  it("Ctrl-C once the chains are saved: a plain up starts the devnet as that up was asked, and says so", async () => {
    child = spawn(process.execPath, [binPath, "devnet", "up", ...FLAGS], {
      cwd: p.dir,
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child!.once("exit", (code) => r(code)));
    // the nodes start after the deployment is recorded with the chains
    await until(async () => /starting the validation service/.test(stderr), "the nodes phase", 180_000);
    const deployment = path.join(p.dir, ".avsctl", "chains", "deployment.json");
    expect(existsSync(deployment)).toBe(true);
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(stderr).toContain("INTERRUPTED");
    expect(labelledProcesses(p.devnet)).toEqual([]);
    expect((await p.cli(["devnet", "status", "--json"])).code).toBe(4);
    const saved = JSON.parse(readFileSync(deployment, "utf8")).registration.deployment;

    const r = await p.cli(["devnet", "up"], undefined, 300_000);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const status = await p.cli(["devnet", "status", "--json"]);
    expect(status.code, status.stdout).toBe(0);
    first = status.json();
    expect(first).toMatchObject({ healthy: true, runtime: "process" });
    expect(first.attesters).toHaveLength(2);
    expect(first.services).toEqual({ execution: null, validation: null });
    expect(first.engine).toBeUndefined();
    expect(first.l1.avsGovernance).toBe(saved.avsGovernance);
    expect(recordedPlan(p)).toMatchObject({ attesters: 2, blockTime: 1 });
    expect(await minesOnItsOwn(first)).toBe(true);
    // and says so
    expect(r.stdout).toContain(
      `the last \`devnet up\` was interrupted; started the devnet as that \`up\` was to start it: ${ASKED}\n`,
    );
    expect(r.stderr).toContain("resuming the saved chain state");
    expect(stderr).toContain("run `avsctl devnet up` again: it starts the devnet as this one was to");
  }, 480_000);

  it("a repairing start that fails: a plain up still starts the devnet as it was started", async () => {
    const started = await p.cli(["devnet", "up", "--fresh", ...FLAGS, "--json"], undefined, 300_000);
    expect(started.code, started.stdout + started.stderr).toBe(0);
    first = started.json();
    await failedRepair(p);
    const r = await p.cli(["devnet", "up", "--json"], undefined, 300_000);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const body = r.json();
    expect(body).toMatchObject({ healthy: true, runtime: "process" });
    expect(body.attesters.map((a: { address: string }) => a.address)).toEqual(
      first.attesters.map((a) => a.address),
    );
    expect(body.services).toEqual({ execution: null, validation: null });
    expect(body.l1.avsGovernance).toBe(first.l1.avsGovernance);
    expect(recordedPlan(p)).toMatchObject({ attesters: 2, blockTime: 1 });
    expect(await minesOnItsOwn(body)).toBe(true);
    expect(body.repaired.problems).toEqual([
      expect.stringMatching(/^the last `devnet up` failed \(AVSCTL_ANVIL_BIN points to a missing file: /),
    ]);
    expect(existsSync(path.join(p.dir, ".avsctl", "unfinished-start.json"))).toBe(false);
  }, 420_000);

  it("down --volumes deletes it with the chains: the next up is what it asks for", async () => {
    await failedRepair(p);
    const down = await p.cli(["devnet", "down", "--volumes", "--json"], undefined, 60_000);
    expect(down.code, down.stdout + down.stderr).toBe(0);
    const deleted: string[] = down.json().removed.volumes;
    expect(deleted.filter((f) => f.endsWith(path.join(".avsctl", "unfinished-start.json")))).toHaveLength(1);
    const r = await p.cli(
      ["devnet", "up", "--runtime", "process", "--no-services", "--json"],
      undefined,
      300_000,
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const body = r.json();
    expect(body.repaired).toBeUndefined();
    expect(body.attesters).toHaveLength(3);
    expect(recordedPlan(p)).toMatchObject({ attesters: 3, blockTime: 0 });
  }, 420_000);
});
