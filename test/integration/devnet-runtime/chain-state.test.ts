/**
 * A chain's state file is judged (and a cut-short one replaced by its last whole copy) by the
 * process runtime's start, once no process of the chain runs: with a real anvil saving its
 * state every second, held (SIGSTOP) at the moment its file looks cut short, as one caught
 * mid-write does. `devnet restart` end to end: test/e2e/devnet/restart-state.test.ts.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ANVIL_ENV, anvilBinaryPath } from "../../../src/chain/anvil-command.js";
import { goodCopyOf, keepGoodCopy } from "../../../src/devnet/chain-storage.js";
import { anvilArgs } from "../../../src/devnet/launcher.js";
import { findFreePort } from "../../../src/devnet/runtime/ports.js";
import { isAlive, ProcessRuntime } from "../../../src/devnet/runtime/process.js";
import { isHeld } from "../../../src/devnet/runtime/process-hold.js";
import type { ProcessComponentSpec } from "../../../src/devnet/runtime/types.js";
import { uniqueSuffix } from "./fixtures.js";

const MNEMONIC = "test test test test test test test test test test test junk";

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`still not so after ${ms / 1000} s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("a chain's state file is judged only once its process is stopped (process runtime, real anvil)", () => {
  const project = `chain-state-${uniqueSuffix()}`;
  let dir: string;
  let runtime: ProcessRuntime;
  let spec: ProcessComponentSpec;
  let stateFile: string;
  let url: string;
  const frozen: number[] = [];

  const rpc = async <T>(method: string, params: unknown[] = []): Promise<T> => {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json()) as { result: T };
    return body.result;
  };
  const head = async () => Number(BigInt(await rpc<string>("eth_blockNumber")));
  const mine = async (blocks: number) => {
    for (let i = 0; i < blocks; i++) await rpc("evm_mine");
    return head();
  };
  /** The block the state file holds, or undefined while it does not parse. */
  const saved = (): number | undefined => {
    try {
      return Number(JSON.parse(readFileSync(stateFile, "utf8")).best_block_number);
    } catch {
      return undefined;
    }
  };
  const savedUpTo = (block: number) => until(() => (saved() ?? -1) >= block, `state file at block ${block}`);
  /** The state file's text once it parses (anvil may be in the middle of a save). */
  const wholeText = async () => {
    let text = "";
    await until(() => {
      text = readFileSync(stateFile, "utf8");
      try {
        JSON.parse(text);
        return true;
      } catch {
        return false;
      }
    }, "a whole state file");
    return text;
  };
  const pid = async () => (await runtime.record("l2-1"))!.pid;
  /** anvil held where it is, its state file made to look cut short, as a save caught mid-way. */
  const freezeCut = async (): Promise<{ pid: number; cut: string }> => {
    const chain = await pid();
    process.kill(chain, "SIGSTOP");
    frozen.push(chain);
    const whole = readFileSync(stateFile, "utf8");
    const cut = whole.slice(0, Math.floor(whole.length / 2));
    writeFileSync(stateFile, cut);
    return { pid: chain, cut };
  };
  /** A whole copy of the chain at an older block, as the supervisor keeps one. */
  const olderCopy = (text: string) => {
    writeFileSync(`${goodCopyOf(stateFile)}.tmp`, text);
    renameSync(`${goodCopyOf(stateFile)}.tmp`, goodCopyOf(stateFile));
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "avsctl-chain-state-"));
    runtime = new ProcessRuntime({ project, projectDir: dir });
    stateFile = path.join(dir, ".avsctl", "chains", "l2-1.json");
    mkdirSync(path.dirname(stateFile), { recursive: true });
    const port = await findFreePort();
    url = `http://127.0.0.1:${port}`;
    spec = {
      name: "l2-1",
      command: anvilBinaryPath(),
      args: anvilArgs(
        { chainId: 31338, blockTime: 0, accounts: 2, mnemonic: MNEMONIC, stateFile },
        "127.0.0.1",
        port,
      ),
      env: { ...ANVIL_ENV },
      ports: [port],
      wait: [{ kind: "json-rpc", port, requireResult: true, timeoutMs: 30_000 }],
      // The stop's SIGTERM waits this long for a held anvil: the test, not the clock, decides
      // whether it saves on its way out (continued) or is killed (SIGKILL).
      stopGraceMs: 120_000,
    };
    await runtime.start(spec);
  }, 60_000);

  afterAll(async () => {
    for (const p of frozen) if (isAlive(p)) process.kill(p, "SIGCONT");
    await runtime?.removeProject();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("a file that looks cut short while the chain runs is left alone: the stop lets anvil save it whole, and the chain comes back with its last block", {
    timeout: 120_000,
  }, async () => {
    await savedUpTo(await mine(3));
    const older = await wholeText();
    const last = await mine(2);
    await savedUpTo(last);
    const { pid: chain, cut } = await freezeCut();
    olderCopy(older);
    const warnings: string[] = [];
    const restarting = runtime.restart("l2-1", { warn: (w) => warnings.push(w) });
    await until(() => isHeld(runtime.runDir, "l2-1"), "the restart holds l2-1");
    // Held, stopping the old process (its SIGTERM waits): nothing judged or swapped yet.
    expect(readFileSync(stateFile, "utf8")).toBe(cut);
    process.kill(chain, "SIGCONT");
    await restarting;
    expect(await pid()).not.toBe(chain);
    expect(await head()).toBe(last);
    expect(warnings).toEqual([]);
    expect(existsSync(`${stateFile}.cut`)).toBe(false);
  });

  it("a file the stop itself leaves cut short (anvil killed while saving) is replaced by its last whole copy before the start, which says so", {
    timeout: 120_000,
  }, async () => {
    await savedUpTo(await mine(1));
    await until(() => keepGoodCopy(stateFile), "a whole copy kept");
    const whole = Number(JSON.parse(readFileSync(goodCopyOf(stateFile), "utf8")).best_block_number);
    await savedUpTo(await mine(3));
    const chain = await pid();
    process.kill(chain, "SIGSTOP");
    frozen.push(chain);
    const warnings: string[] = [];
    const restarting = runtime.restart("l2-1", { warn: (w) => warnings.push(w) });
    await until(() => isHeld(runtime.runDir, "l2-1"), "the restart holds l2-1");
    // what a SIGKILL in the middle of anvil's save leaves
    writeFileSync(stateFile, readFileSync(stateFile, "utf8").slice(0, 200));
    process.kill(chain, "SIGKILL");
    await restarting;
    expect(await head()).toBe(whole);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      new RegExp(
        `^${stateFile.replace(/[.]/g, "\\.")} was cut short \\(killed while saving\\): started from its last whole copy \\(`,
      ),
    );
    expect(readFileSync(`${stateFile}.cut`, "utf8")).toHaveLength(200);
  });

  it("a chain started from a cut-short file (the supervisor's start, `up`'s) starts from its last whole copy", {
    timeout: 120_000,
  }, async () => {
    await savedUpTo(await mine(1));
    await until(() => keepGoodCopy(stateFile), "a whole copy kept");
    const whole = Number(JSON.parse(readFileSync(goodCopyOf(stateFile), "utf8")).best_block_number);
    await savedUpTo(await mine(2));
    await runtime.stop("l2-1");
    writeFileSync(stateFile, readFileSync(stateFile, "utf8").slice(0, 100));
    const warnings: string[] = [];
    await runtime.start(spec, { warn: (w) => warnings.push(w) });
    expect(await head()).toBe(whole);
    expect(warnings).toEqual([expect.stringContaining("started from its last whole copy")]);
  });
});
