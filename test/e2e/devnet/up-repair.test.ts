/**
 * `devnet up` on an unhealthy devnet (a component killed while nothing restarts it) starts it
 * again as it was started, from its state: a plain `up`, as a CI script runs it, keeps the
 * attesters, block time, runtime and no services it was started with, resuming its chains, and
 * says so. A flag that differs is not applied, as on a healthy devnet: it is named, with the
 * `--fresh` command that applies it, which works when pasted. Process runtime, built CLI.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runPasted } from "../../helpers/cli.js";
import {
  breakDevnet,
  labelledProcesses,
  minesOnItsOwn,
  recordedPlan,
  type State,
  tempProject,
} from "./support.js";

const APPLY = "to apply, removing the running devnet and its chain state: ";
const STARTED = ["--runtime", "process", "--attesters", "2", "--block-time", "1", "--no-services"];

describe("devnet up on an unhealthy devnet (process runtime)", () => {
  const p = tempProject("e2e-repair");
  let first: State;

  beforeAll(async () => {
    const up = await p.cli(["devnet", "up", ...STARTED, "--json"]);
    if (up.code !== 0) throw new Error(`devnet up failed (${up.code}):\n${up.stdout}\n${up.stderr}`);
    first = up.json();
  }, 300_000);

  afterAll(async () => {
    const r = await p.cli(["devnet", "down", "--volumes", "--json"], undefined, 60_000);
    if (r.code !== 0) console.error(`devnet down failed:\n${r.stdout}\n${r.stderr}`);
    expect(labelledProcesses(p.devnet)).toEqual([]);
    p.remove();
  }, 120_000);

  it("a plain up starts it again as it was started, says so, and keeps its chains", async () => {
    await breakDevnet(p, "attester-1");
    const r = await p.cli(["devnet", "up"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const status = await p.cli(["devnet", "status", "--json"]);
    expect(status.code, status.stdout).toBe(0);
    const s: State = status.json();
    expect(s).toMatchObject({ healthy: true, runtime: "process" });
    expect(s.attesters.map((a) => a.address)).toEqual(first.attesters.map((a) => a.address));
    expect(s.services).toEqual({ execution: null, validation: null });
    // resumed, not deployed again
    expect(s.l1.avsGovernance).toBe(first.l1.avsGovernance);
    expect(s.l2.map((l) => l.attestationCenter)).toEqual(first.l2.map((l) => l.attestationCenter));
    expect(recordedPlan(p)).toMatchObject({ attesters: 2, blockTime: 1 });
    expect(await minesOnItsOwn(s)).toBe(true);
    // and says so
    expect(r.stdout).toMatch(
      /^the devnet was unhealthy \(.*attester-1.*\); started it again as it was started: /m,
    );
    expect(r.stdout).toContain(
      "started it again as it was started: process runtime, 2 attesters, 1 L2 chain, block time 1 s, no services, no task engine\n",
    );
    expect(r.stdout).not.toContain("not applied");
    expect(r.stdout).not.toContain(APPLY);
  }, 300_000);

  it("a flag that differs is named and not applied; the --fresh command it prints applies it", async () => {
    await breakDevnet(p, "attester-2");
    const r = await p.cli(["devnet", "up", "--attesters", "3", "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const body = r.json();
    expect(body.attesters).toHaveLength(2);
    expect(body.services).toEqual({ execution: null, validation: null });
    expect(body.l1.avsGovernance).toBe(first.l1.avsGovernance);
    expect(recordedPlan(p)).toMatchObject({ attesters: 2, blockTime: 1 });
    expect(body.repaired.problems.join("\n")).toContain("attester-2");
    const command = `avsctl devnet up --fresh --runtime process --attesters 3 --block-time 1 --no-services`;
    expect(body.warnings).toEqual(
      expect.arrayContaining(["--attesters: running 2, asked 3; not applied", `${APPLY}${command}`]),
    );
    // only what was asked is named: not the services or block time a plain `up` would default
    expect(body.warnings.filter((w: string) => w.includes("not applied"))).toHaveLength(1);
    expect((await p.cli(["devnet", "status", "--json"])).code).toBe(0);

    const applied = await runPasted(`${command} --json`, { cwd: p.dir, timeoutMs: 300_000 });
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    const s: State = (await p.cli(["devnet", "status", "--json"])).json();
    expect(s).toMatchObject({ healthy: true, runtime: "process" });
    expect(s.attesters).toHaveLength(3);
    expect(s.services).toEqual({ execution: null, validation: null });
    expect(recordedPlan(p)).toMatchObject({ attesters: 3, blockTime: 1 });
  }, 600_000);
});
