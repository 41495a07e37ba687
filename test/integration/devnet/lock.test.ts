/**
 * The project's devnet lock (src/devnet/lock.ts) between real processes: processes started at
 * once take it one after the other, never two at a time, over a stale lock too; a lock left
 * half-written, or by another host, is judged as it should; the timeout names the holder.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { acquireDevnetLock, lockPath } from "../../../src/devnet/lock.js";
import { repoRoot } from "../../helpers/cli.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function project(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "avsctl-lock-"));
  dirs.push(dir);
  return dir;
}

/** A process that takes the lock (built module), notes when it held it, and releases it. */
function contender(dir: string, log: string): Promise<number | null> {
  const lock = path.join(repoRoot, "dist", "devnet", "lock.js");
  const script = `import { appendFileSync } from "node:fs";
const { withDevnetLock } = await import(${JSON.stringify(lock)});
await withDevnetLock(${JSON.stringify(dir)}, { command: "devnet up" }, async () => {
  appendFileSync(${JSON.stringify(log)}, "in " + process.pid + "\\n");
  await new Promise((r) => setTimeout(r, 150));
  appendFileSync(${JSON.stringify(log)}, "out " + process.pid + "\\n");
});`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: "inherit" });
  return new Promise((resolve) => child.on("exit", (code) => resolve(code)));
}

function writeLock(dir: string, owner: Record<string, unknown>): void {
  mkdirSync(path.dirname(lockPath(dir)), { recursive: true });
  writeFileSync(lockPath(dir), `${JSON.stringify(owner)}\n`);
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.on("exit", resolve));
  return child.pid!;
}

describe("the devnet lock", () => {
  it("six processes at once over a dead process's lock hold it one at a time, each once", async () => {
    const dir = project();
    const log = path.join(dir, "log");
    writeLock(dir, { pid: await deadPid(), startTime: "1", host: os.hostname(), command: "devnet up" });
    const codes = await Promise.all(Array.from({ length: 6 }, () => contender(dir, log)));
    expect(codes).toEqual([0, 0, 0, 0, 0, 0]);
    const lines = readFileSync(log, "utf8").trim().split("\n");
    expect(lines).toHaveLength(12);
    for (let i = 0; i < lines.length; i += 2) {
      const pid = lines[i]!.split(" ")[1];
      expect([lines[i], lines[i + 1]]).toEqual([`in ${pid}`, `out ${pid}`]);
    }
    expect(() => readFileSync(lockPath(dir))).toThrow(/ENOENT/);
  }, 60_000);

  it("takes over a lock left empty long ago (its writer died), and waits for a fresh one", async () => {
    const dir = project();
    writeLock(dir, {});
    writeFileSync(lockPath(dir), "");
    await expect(acquireDevnetLock(dir, { command: "devnet down", timeoutMs: 600 })).rejects.toMatchObject({
      code: "TIMEOUT",
    });
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockPath(dir), old, old);
    const lock = await acquireDevnetLock(dir, { command: "devnet down", timeoutMs: 600 });
    expect(JSON.parse(readFileSync(lockPath(dir), "utf8"))).toMatchObject({ pid: process.pid });
    lock.release();
  });

  it("waits for a live holder until its timeout, naming it; trusts another host's lock", async () => {
    const dir = project();
    // this very process, as it started: alive
    const { processStartTime } = await import("../../../src/devnet/runtime/process-groups.js");
    const me = { pid: process.pid, startTime: processStartTime(process.pid), host: os.hostname() };
    writeLock(dir, { ...me, command: "operator add", since: "2025-01-01T00:00:00.000Z" });
    const told: unknown[] = [];
    const error = await acquireDevnetLock(dir, {
      command: "devnet up",
      timeoutMs: 1000,
      onWait: (o) => told.push(o),
    }).catch((e) => e);
    expect(told).toEqual([expect.objectContaining({ pid: process.pid, command: "operator add" })]);
    expect(error).toMatchObject({ code: "TIMEOUT" });
    expect(error.message).toContain(`another avsctl operator add (pid ${process.pid}`);
    expect(error.message).toContain("devnet up changed nothing");
    expect(error.hint).toContain(`\`kill ${process.pid}\``);

    // a dead pid on another host is not ours to judge
    writeLock(dir, { pid: await deadPid(), host: `not-${os.hostname()}`, command: "devnet up", since: "x" });
    const elsewhere = await acquireDevnetLock(dir, { command: "devnet down", timeoutMs: 600 }).catch(
      (e) => e,
    );
    expect(elsewhere).toMatchObject({ code: "TIMEOUT" });
    expect(elsewhere.hint).toContain(`\`rm ${lockPath(dir)}\``);
  });
});
