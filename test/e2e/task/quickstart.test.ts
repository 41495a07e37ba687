import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli.js";
import { describeDocker } from "../../helpers/docker.js";

const dirs: string[] = [];
function freshDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), "avsctl-quickstart-"));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) {
    // a quickstart that failed early made no project to take down
    const project = path.join(d, ".avsctl", "quickstart");
    if (existsSync(project)) await runCli(["devnet", "down"], { cwd: project });
    rmSync(d, { recursive: true, force: true });
  }
});

function expectLifeCycle(body: any) {
  expect(body.devnet.healthy).toBe(true);
  expect(body.taskDefinition.name).toBe("quickstart-demo");
  expect(body.tasks.map((t: any) => t.status)).toEqual(["approved", "approved", "rejected"]);
  for (const t of body.tasks) {
    expect(t.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(t.block).toBeGreaterThan(0);
    expect(t.attesters.length).toBeGreaterThan(0);
  }
  expect(body.next.length).toBeGreaterThan(0);
  // commands a script can run as they are: no padding, no comments
  for (const command of body.next) expect(command, command).toMatch(/^avsctl [^#]*[^\s#]$/);
}

/** No process of the quickstart devnet may survive `--down`. */
function quickstartProcesses(devnet: string): string {
  try {
    return execFileSync(
      "sh",
      ["-c", `grep -l 'AVSCTL_DEVNET_PROJECT=${devnet}' /proc/[0-9]*/environ 2>/dev/null || true`],
      {
        encoding: "utf8",
      },
    ).trim();
  } catch {
    return "";
  }
}

describe("quickstart", () => {
  it("runs the whole life cycle without Docker (process runtime) and tears down with --down", async () => {
    const cwd = freshDir();
    const r = await runCli(["quickstart", "--down", "--json"], {
      cwd,
      env: { DOCKER_HOST: "unix:///nonexistent/docker.sock" },
      timeoutMs: 240_000,
    });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const body = r.json();
    expect(body.devnet.runtime).toBe("process");
    expectLifeCycle(body);
    expect(body.tornDown).toBe(true);
    expect(body.devnet.name).toMatch(/^quickstart-[0-9a-f]{6}$/);
    expect(quickstartProcesses(body.devnet.name)).toBe("");
  }, 300_000);

  it("keeps the devnet up by default, and a second run reuses it", async () => {
    const cwd = freshDir();
    const first = await runCli(["quickstart", "--runtime", "process", "--json"], { cwd, timeoutMs: 240_000 });
    expect(first.code, first.stderr).toBe(0);
    expect(first.json().tornDown).toBe(false);
    const status = await runCli(["devnet", "status", "--json"], {
      cwd: path.join(cwd, ".avsctl", "quickstart"),
    });
    expect(status.code, status.stdout).toBe(0);
    const second = await runCli(["quickstart", "--runtime", "process", "--json"], {
      cwd,
      timeoutMs: 240_000,
    });
    expect(second.code, second.stderr).toBe(0);
    expect(second.json().devnet.l2[0].attestationCenter).toBe(first.json().devnet.l2[0].attestationCenter);
    expect(second.json().taskDefinition.taskDefinitionId).toBe(first.json().taskDefinition.taskDefinitionId);
  }, 400_000);
});

describeDocker("quickstart with Docker", () => {
  it("runs the whole life cycle in containers", async () => {
    const cwd = freshDir();
    const r = await runCli(["quickstart", "--runtime", "docker", "--down", "--json"], {
      cwd,
      timeoutMs: 400_000,
    });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const body = r.json();
    expect(body.devnet.runtime).toBe("docker");
    expectLifeCycle(body);
    const left = execFileSync(
      "docker",
      ["ps", "-a", "--filter", `label=dev.avsctl.project=${body.devnet.name}`, "-q"],
      {
        encoding: "utf8",
      },
    ).trim();
    expect(left).toBe("");
    // --down ends the demo: its saved chain state goes too.
    const volumes = execFileSync(
      "docker",
      ["volume", "ls", "--filter", `label=dev.avsctl.project=${body.devnet.name}`, "-q"],
      { encoding: "utf8" },
    ).trim();
    expect(volumes).toBe("");
  }, 450_000);
});
