/**
 * Two `avsctl init` projects of the same name, in two directories, run their Docker devnets
 * side by side on one engine: each devnet's name carries a hash of its project's root, and so
 * does every container, network and volume. `down` in one leaves the other running.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runCli } from "../../helpers/cli.js";
import { describeDocker } from "../../helpers/docker.js";
import {
  componentIdentities,
  devnetPorts,
  dockerResources,
  type State,
  type TempProject,
} from "./support.js";

const NAME = "my-avs";

/** `avsctl init my-avs` (ts, no install) in a directory of its own. */
async function initProject(): Promise<TempProject> {
  const parent = mkdtempSync(path.join(os.tmpdir(), "avsctl-e2e-side-"));
  const r = await runCli(["init", NAME, "--language", "ts", "--no-install", "--json"], { cwd: parent });
  if (r.code !== 0) throw new Error(`init failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  const dir = path.join(parent, NAME);
  return {
    dir,
    name: NAME,
    devnet: "", // known once `up` answers
    cli: (args, env, timeoutMs = 240_000) => runCli(args, { cwd: dir, env, timeoutMs }),
    remove: () => rmSync(parent, { recursive: true, force: true }),
  };
}

const NOTHING = { containers: [], networks: [], volumes: [] };

describeDocker("two projects' Docker devnets side by side", () => {
  const projects: TempProject[] = [];
  const states: State[] = [];

  beforeAll(async () => {
    projects.push(await initProject(), await initProject());
    // One after the other: the first may build the devnet image, which the second then reuses.
    for (const p of projects) {
      const up = await p.cli(["devnet", "up", "--runtime", "docker", "--no-services", "--json"]);
      if (up.code !== 0)
        throw new Error(`devnet up in ${p.dir} failed (${up.code}):\n${up.stdout}\n${up.stderr}`);
      const state: State = up.json();
      p.devnet = state.name;
      states.push(state);
    }
  }, 600_000);

  afterAll(async () => {
    for (const p of projects) {
      const r = await p.cli(["devnet", "down", "--volumes", "--json"], undefined, 120_000);
      if (r.code !== 0) console.error(`devnet down in ${p.dir} failed:\n${r.stdout}\n${r.stderr}`);
      p.remove();
    }
  }, 300_000);

  it("both are healthy at once, under names that keep the project's and tell the two apart", async () => {
    const [a, b] = [projects[0]!, projects[1]!];
    for (const s of states) {
      expect(s).toMatchObject({ runtime: "docker", healthy: true });
      expect(s.name).toMatch(new RegExp(`^${NAME}-[0-9a-f]{6}$`));
    }
    expect(a.devnet).not.toBe(b.devnet);
    for (const p of [a, b]) {
      const status = await p.cli(["devnet", "status", "--json"]);
      expect(status.code, status.stdout + status.stderr).toBe(0);
      expect(status.json()).toMatchObject({ name: p.devnet, healthy: true });
      // every resource is named after, and labelled with, this devnet
      const mine = await dockerResources(p.devnet);
      expect(mine.containers.length).toBeGreaterThan(0);
      expect(mine.networks).toEqual([`avsctl-${p.devnet}`]);
      for (const c of mine.containers) expect(c.startsWith(`avsctl-${p.devnet}-`), c).toBe(true);
    }
    const portsA = devnetPorts(states[0]!);
    for (const port of devnetPorts(states[1]!)) expect(portsA).not.toContain(port);
  });

  it("down in one project leaves the other's containers running and healthy", async () => {
    const [a, b] = [projects[0]!, projects[1]!];
    const beforeB = await componentIdentities(b, "docker");
    expect(Object.keys(beforeB).length).toBeGreaterThan(0);

    const down = await a.cli(["devnet", "down", "--volumes", "--json"], undefined, 120_000);
    expect(down.code, down.stdout + down.stderr).toBe(0);
    expect(down.json().removed.containers.length).toBeGreaterThan(0);
    expect(await dockerResources(a.devnet)).toEqual(NOTHING);

    expect(await componentIdentities(b, "docker")).toEqual(beforeB);
    const status = await b.cli(["devnet", "status", "--json"]);
    expect(status.code, status.stdout + status.stderr).toBe(0);
    expect(status.json().healthy).toBe(true);
  });

  it("down in the other leaves nothing of either", async () => {
    const [a, b] = [projects[0]!, projects[1]!];
    const down = await b.cli(["devnet", "down", "--volumes", "--json"], undefined, 120_000);
    expect(down.code, down.stdout + down.stderr).toBe(0);
    for (const p of [a, b]) expect(await dockerResources(p.devnet)).toEqual(NOTHING);
  });
});
