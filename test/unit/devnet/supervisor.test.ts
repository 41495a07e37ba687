import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { keepGoodCopy, repairStateFile, stateFileOf } from "../../../src/devnet/chain-storage.js";
import { hold, isHeld, release } from "../../../src/devnet/runtime/process-hold.js";
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

  it("a deliberate stop holds until released; a start holds while its process lives", () => {
    const dir = runDir();
    expect(isHeld(dir, "attester-1")).toBe(false);
    hold(dir, "attester-1", "stopped");
    expect(isHeld(dir, "attester-1")).toBe(true);
    release(dir, "attester-1");
    expect(isHeld(dir, "attester-1")).toBe(false);
    hold(dir, "l2-1", "starting");
    expect(isHeld(dir, "l2-1")).toBe(true);
  });

  it("a start whose process died holds nothing", () => {
    const dir = runDir();
    // pid 2^22 + 1 is above Linux's pid_max ceiling: never a live process
    writeFileSync(path.join(dir, "l2-1.hold"), JSON.stringify({ reason: "starting", pid: 4_194_305 }));
    expect(isHeld(dir, "l2-1")).toBe(false);
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
