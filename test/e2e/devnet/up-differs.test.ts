/**
 * `devnet up` on a healthy devnet started with other settings changes nothing (exit 0, the
 * same state), says what differs (flag: running vs asked) in human output and as `--json`
 * warnings, and prints the `--fresh` command that applies them, which works when pasted.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runPasted } from "../../helpers/cli.js";
import { type State, type TempProject, tempProject } from "./support.js";

const APPLY = "to apply, removing the running devnet and its chain state: ";

describe("devnet up with flags that differ from the running devnet (process runtime)", () => {
  let p: TempProject;
  let first: State;

  beforeAll(async () => {
    p = tempProject("e2e-differs");
    const up = await p.cli(["devnet", "up", "--runtime", "process", "--no-services", "--json"]);
    if (up.code !== 0) throw new Error(`devnet up failed (${up.code}):\n${up.stdout}\n${up.stderr}`);
    first = up.json();
  }, 240_000);

  afterAll(async () => {
    const r = await p.cli(["devnet", "down", "--volumes", "--json"], undefined, 60_000);
    if (r.code !== 0) console.error(`devnet down failed:\n${r.stdout}\n${r.stderr}`);
    p.remove();
  }, 120_000);

  const asked = ["--runtime", "process", "--attesters", "4", "--l2-chains", "2", "--block-time", "1"];

  it("--json: exit 0, the running state unchanged, one warning per difference and the command", async () => {
    const r = await p.cli(["devnet", "up", ...asked, "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const body = r.json();
    expect(body.attesters).toHaveLength(3);
    expect(body.l2).toHaveLength(1);
    expect(body.l2[0].attestationCenter).toBe(first.l2[0]!.attestationCenter);
    const warnings: string[] = body.warnings;
    expect(warnings).toEqual(
      expect.arrayContaining([
        "--attesters: running 3, asked 4; nothing changed",
        "--l2-chains: running 1, asked 2; nothing changed",
        "--block-time: running 0, asked 1; nothing changed",
        // started with --no-services, asked without it
        expect.stringMatching(/^--no-services: running no execution or validation service, asked .*sample/),
        `${APPLY}avsctl devnet up --fresh ${asked.join(" ")}`,
      ]),
    );
    expect(warnings.some((w) => w.startsWith("--runtime"))).toBe(false);
  });

  it("names another runtime; the same flags as the running devnet warn of nothing", async () => {
    const docker = await p.cli(["devnet", "up", "--runtime", "docker", "--no-services", "--json"]);
    expect(docker.code, docker.stdout + docker.stderr).toBe(0);
    expect(docker.json().runtime).toBe("process");
    expect(docker.json().warnings).toEqual(
      expect.arrayContaining([
        "--runtime: running process, asked docker; nothing changed",
        `${APPLY}avsctl devnet up --fresh --runtime docker --no-services`,
      ]),
    );
    const same = await p.cli(["devnet", "up", "--runtime", "process", "--no-services", "--json"]);
    expect(same.code).toBe(0);
    expect(
      same.json().warnings.some((w: string) => w.includes("nothing changed") || w.startsWith(APPLY)),
    ).toBe(false);
  });

  it("human output lists the differences and a command that applies them when pasted", async () => {
    // a block time would only slow the start the pasted command makes
    const asked = ["--runtime", "process", "--attesters", "4", "--l2-chains", "2"];
    const r = await p.cli(["devnet", "up", ...asked]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("nothing changed, but it differs from what was asked");
    expect(r.stdout).toContain("  --attesters: running 3, asked 4");
    expect(r.stdout).toContain(`devnet "${first.name}" (process) healthy`);
    const line = r.stdout.split("\n").find((l) => l.startsWith(APPLY));
    expect(line, r.stdout).toBeDefined();
    const command = line!.slice(APPLY.length);

    const applied = await runPasted(command, { cwd: p.dir, timeoutMs: 240_000 });
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    const status = await p.cli(["devnet", "status", "--json"]);
    expect(status.code, status.stdout).toBe(0);
    const s: State = status.json();
    expect(s.attesters).toHaveLength(4);
    expect(s.l2).toHaveLength(2);
    expect(s.services.validation).not.toBeNull();
    // applied: asking the same again changes nothing and warns of nothing
    const again = await p.cli(["devnet", "up", ...asked, "--json"]);
    expect(again.json().warnings.some((w: string) => w.startsWith(APPLY))).toBe(false);
  }, 300_000);

  it("left to their defaults, the devnet's own attesters and L2s stand: running, and saved by down", async () => {
    const before = (await p.cli(["devnet", "status", "--json"])).json() as State;
    expect(before.attesters).toHaveLength(4);
    const plain = await p.cli(["devnet", "up", "--runtime", "process", "--json"]);
    expect(plain.code, plain.stdout + plain.stderr).toBe(0);
    expect(plain.json().warnings.filter((w: string) => /attesters|l2-chains|default/.test(w))).toEqual([]);

    const down = await p.cli(["devnet", "down"]);
    expect(down.stdout).toContain("kept the saved state for the next `devnet up`");
    // what down promised: the next plain up resumes those chains, not fresh ones of the default
    // shape, nor in Docker (auto's choice where it answers) over a process devnet's state
    const up = await p.cli(["devnet", "up", "--json"], undefined, 240_000);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const resumed: State = up.json();
    expect(resumed.attesters).toHaveLength(4);
    expect(resumed.l2.map((l) => l.attestationCenter)).toEqual(before.l2.map((l) => l.attestationCenter));
    expect(up.json().warnings.some((w: string) => w.includes("does not fit"))).toBe(false);
    expect(resumed.runtime).toBe("process");
    // a flag still asks: the difference is named, labelled by where it came from
    const asked = await p.cli(["devnet", "up", "--attesters", "3", "--json"]);
    expect(asked.json().warnings).toContain("--attesters: running 4, asked 3; nothing changed");
    // the command that applies it changes only that: the runtime and the L2s stay the running ones
    expect(asked.json().warnings).toContain(
      `${APPLY}avsctl devnet up --fresh --runtime process --attesters 3 --l2-chains 2`,
    );
  }, 400_000);
});
