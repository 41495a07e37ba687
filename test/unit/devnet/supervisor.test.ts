import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { keepGoodCopy, repairStateFile, stateFileOf } from "../../../src/devnet/chain-storage.js";
import { hold, isHeld, tryHold, waitHold } from "../../../src/devnet/runtime/process-hold.js";
import { BACKOFF_CAP_MS, backoffMs } from "../../../src/devnet/supervisor.js";

describe("supervisor backoff", () => {
  it("restarts a first crash at once, then doubles from 0.5 s up to the cap", () => {
    expect([1, 2, 3, 4, 5].map(backoffMs)).toEqual([0, 500, 1000, 2000, 4000]);
    expect(backoffMs(50)).toBe(BACKOFF_CAP_MS);
  });
});

describe("hold markers", () => {
  const dirs: string[] = [];
  const runDir = () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "hold-"));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("a deliberate stop holds until the next start, which the supervisor never makes; a start holds while its process lives", async () => {
    const dir = runDir();
    expect(isHeld(dir, "attester-1")).toBe(false);
    const stopping = await waitHold(dir, "attester-1");
    expect(isHeld(dir, "attester-1")).toBe(true);
    stopping.markStopped();
    stopping.release();
    expect(isHeld(dir, "attester-1")).toBe(true);
    expect(tryHold(dir, "attester-1")).toBeUndefined();
    const starting = await waitHold(dir, "attester-1");
    starting.release();
    expect(isHeld(dir, "attester-1")).toBe(false);
    hold(dir, "l2-1", "starting");
    expect(isHeld(dir, "l2-1")).toBe(true);
  });

  it("a start whose process died holds nothing, and is taken over", () => {
    const dir = runDir();
    // pid 2^22 + 1 is above Linux's pid_max ceiling: never a live process
    writeFileSync(path.join(dir, "l2-1.hold"), JSON.stringify({ reason: "starting", pid: 4_194_305 }));
    expect(isHeld(dir, "l2-1")).toBe(false);
    const held = tryHold(dir, "l2-1");
    expect(held).toBeDefined();
    expect(isHeld(dir, "l2-1")).toBe(true);
    held!.release();
    expect(existsSync(path.join(dir, "l2-1.hold"))).toBe(false);
  });

  it("one process at a time: while another holds a component the supervisor leaves it alone and a CLI waits", async () => {
    const dir = runDir();
    const other = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
    try {
      const file = path.join(dir, "aggregator.hold");
      writeFileSync(file, JSON.stringify({ reason: "starting", pid: other.pid }));
      expect(tryHold(dir, "aggregator")).toBeUndefined();
      const waited: number[] = [];
      // the other process is done as soon as this one says it waits for it
      const held = await waitHold(dir, "aggregator", {
        onWait: (pid) => {
          waited.push(pid);
          rmSync(file);
        },
      });
      expect(waited).toEqual([other.pid]);
      expect(tryHold(dir, "aggregator")).toBeUndefined();
      held.release();
      tryHold(dir, "aggregator")!.release();

      writeFileSync(file, JSON.stringify({ reason: "starting", pid: other.pid }));
      const timedOut = await waitHold(dir, "aggregator", { timeoutMs: 0 }).catch((error: unknown) => error);
      expect(timedOut).toMatchObject({
        code: "TIMEOUT",
        details: { component: "aggregator", holder: other.pid },
      });
      expect((timedOut as Error).message).toBe(
        `process ${other.pid} was still starting or stopping aggregator after 0 s; aggregator was left as it is`,
      );
    } finally {
      other.kill("SIGKILL");
    }
  });
});

describe("chain state files cut short by a kill", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "chain-state-"));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("a chain starts from the last whole copy instead of a file anvil would refuse", () => {
    const file = path.join(dir, "l2-1.json");
    const whole = JSON.stringify({ best_block_number: 7, accounts: { a: 1 } });
    writeFileSync(file, whole);
    expect(repairStateFile(file)).toBeUndefined();
    expect(keepGoodCopy(file)).toBe(true);
    writeFileSync(file, whole.slice(0, 20));
    expect(keepGoodCopy(file)).toBe(false);
    expect(repairStateFile(file)).toMatch(/last whole copy/);
    expect(readFileSync(file, "utf8")).toBe(whole);
    expect(existsSync(`${file}.cut`)).toBe(true);
    expect(stateFileOf(["--port", "1", "--state", file, "--silent"])).toBe(file);
  });
});
