/**
 * Commands that change a project's devnet take turns (process runtime, built CLI): two
 * `devnet up` started at the same moment (a retry wrapper, two CI jobs, `make -j`) give one
 * devnet, both exit 0 with the same state, the second having waited and said so once on stderr.
 * A lock whose process is gone (killed, or its pid handed to another process) is taken over at
 * once, SIGTERM releases it, and a read-only command never waits. One devnet start; afterAll brings it down.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ProcessRuntime } from "../../../src/devnet/runtime/process.js";
import { findLabelledProcesses } from "../../../src/devnet/runtime/process-groups.js";
import { binPath, repoRoot } from "../../helpers/cli.js";
import { until } from "../../helpers/until.js";
import { labelledProcesses, type State, stateUrls, tempProject } from "./support.js";

const waitingLine = (command: string, pid: number) =>
  `another avsctl ${command} is running for this project (pid ${pid}); waiting`;

interface Running {
  child: ChildProcess;
  stderr: () => string;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** The built CLI in `cwd`, its stderr readable while it runs. */
function start(args: string[], cwd: string): Running {
  const child = spawn(process.execPath, [binPath, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: "1", DEBUG: undefined },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, stdout, stderr })),
  );
  return { child, stderr: () => stderr, done };
}

/** A process of the test's that takes the project's devnet lock as `devnet up` does, and holds it. */
async function holdLock(dir: string): Promise<ChildProcess> {
  const lock = path.join(repoRoot, "dist", "devnet", "lock.js");
  const script = `const { acquireDevnetLock } = await import(${JSON.stringify(lock)});
await acquireDevnetLock(${JSON.stringify(dir)}, { command: "devnet up" });
process.stdout.write("held\\n");
setInterval(() => {}, 60_000);`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (d) => String(d).includes("held") && resolve());
    child.on("exit", (code) => reject(new Error(`lock holder exited ${code}`)));
  });
  return child;
}

/** A pid that ran and ended. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.on("exit", resolve));
  return child.pid!;
}

function writeLock(dir: string, owner: { pid: number; startTime: string }): void {
  mkdirSync(path.join(dir, ".avsctl"), { recursive: true });
  const since = new Date().toISOString();
  writeFileSync(
    path.join(dir, ".avsctl", "devnet.lock"),
    `${JSON.stringify({ ...owner, host: os.hostname(), command: "devnet up", since })}\n`,
  );
}

describe("one devnet command at a time per project (process runtime)", () => {
  const p = tempProject("e2e-lock");

  afterAll(async () => {
    const r = await p.cli(["devnet", "down", "--volumes", "--json"], undefined, 60_000);
    if (r.code !== 0) console.error(`devnet down failed:\n${r.stdout}\n${r.stderr}`);
    expect(labelledProcesses(p.devnet)).toEqual([]);
    p.remove();
  }, 120_000);

  it("waits for a live holder (saying so once), not status; a SIGKILLed holder's lock is taken at once", async () => {
    const holder = await holdLock(p.dir);
    try {
      const down = start(["devnet", "down", "--json"], p.dir);
      await until(async () => down.stderr().includes("waiting"), "down to wait for the lock", 30_000);
      // a command that only reads does not queue behind it
      const status = await p.cli(["devnet", "status", "--json"], undefined, 20_000);
      expect(status.code, status.stderr).toBe(4);
      expect(status.stderr).not.toContain("waiting");
      await new Promise((r) => setTimeout(r, 1000));
      expect(down.child.exitCode).toBeNull();

      const killed = Date.now();
      holder.kill("SIGKILL");
      const r = await down.done;
      expect(r.code, r.stderr).toBe(0);
      expect(Date.now() - killed).toBeLessThan(10_000);
      expect(r.stderr.split(waitingLine("devnet up", holder.pid!)).length - 1, r.stderr).toBe(1);
      expect(JSON.parse(r.stdout).removed.processes).toEqual([]);
      expect(existsSync(path.join(p.dir, ".avsctl", "devnet.lock"))).toBe(false);
    } finally {
      holder.kill("SIGKILL");
    }

    // SIGTERM (or Ctrl-C) to a holder that does not handle it: it dies of it, the lock released
    const terminated = await holdLock(p.dir);
    const ended = new Promise((resolve) => terminated.on("exit", (_code, signal) => resolve(signal)));
    terminated.kill("SIGTERM");
    expect(await ended).toBe("SIGTERM");
    expect(existsSync(path.join(p.dir, ".avsctl", "devnet.lock"))).toBe(false);

    // a live pid that is not the process that took the lock (the system handed the pid on)
    writeLock(p.dir, { pid: process.pid, startTime: "1" });
    const reused = await p.cli(["devnet", "down", "--json"], undefined, 20_000);
    expect(reused.code, reused.stderr).toBe(0);
    expect(reused.stderr).not.toContain("waiting");
  }, 120_000);

  it("two `devnet up` at once over a dead process's lock: one devnet, both exit 0 with the same state", async () => {
    const dead = await deadPid();
    writeLock(p.dir, { pid: dead, startTime: "1" });
    const args = ["devnet", "up", "--runtime", "process", "--json"];
    const [a, b] = await Promise.all([start(args, p.dir).done, start(args, p.dir).done]);
    for (const r of [a, b]) expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const [first, second] = [JSON.parse(a.stdout) as State, JSON.parse(b.stdout) as State];
    expect(second).toEqual(first);
    expect(first.healthy).toBe(true);
    // the second waited for the first, said once; the dead holder was nobody's to wait for
    const said = `${a.stderr}\n${b.stderr}`;
    expect(
      said.match(/another avsctl devnet up is running for this project \(pid \d+\); waiting/g),
    ).toHaveLength(1);
    expect(said).not.toContain(`(pid ${dead})`);

    // exactly one set of processes: one process group per component, the one its run record names
    const runtime = new ProcessRuntime({ project: first.name, projectDir: p.dir });
    const components = await runtime.list();
    const groups = new Map<string, Set<number>>();
    for (const l of await findLabelledProcesses({ project: first.name })) {
      if (!groups.has(l.component)) groups.set(l.component, new Set());
      groups.get(l.component)!.add(l.pgrp);
    }
    expect(components.length).toBeGreaterThan(5);
    for (const c of components) {
      expect([...(groups.get(c.component) ?? [])], c.component).toEqual([c.pid]);
    }
    expect(groups.get("")?.size, "supervisors").toBe(1);
    expect([...groups.keys()].filter((k) => k !== "").sort()).toEqual(
      components.map((c) => c.component).sort(),
    );

    const status = await p.cli(["devnet", "status", "--json"]);
    expect(status.code, status.stdout + status.stderr).toBe(0);
    const now: State = status.json();
    expect(now.healthy).toBe(true);
    expect(stateUrls(now)).toEqual(stateUrls(first));
  }, 300_000);
});
