/**
 * `devnet restart <chain>` of a process devnet judges the chain's state file only once the
 * running chain is stopped (the process runtime's start, after the stop, under the component's
 * hold). anvil rewrites that file in place every second; the test holds the L2's anvil (SIGSTOP)
 * with its file cut in half, as a save caught mid-way leaves it, and a whole older copy beside
 * it, and looks at the file once the restart holds the chain: before, the restart had already
 * judged it cut short and put the older copy in its place. And a file the restart's own stop
 * leaves cut short (anvil killed while it saved) is replaced by that copy before the start,
 * which the restart says, rather than the chain refusing to start. Built CLI, real processes;
 * afterAll removes the devnet with `down --volumes`.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAlive } from "../../../src/devnet/runtime/process.js";
import type { CliResult } from "../../helpers/cli.js";
import { until } from "../../helpers/until.js";
import { eventually, provider, type State, type TempProject, tempProject } from "./support.js";

describe("devnet restart of a chain whose state file anvil is saving, process runtime (built CLI)", () => {
  const p: TempProject = tempProject("e2e-restart-state");
  let state: State;
  const held: number[] = [];
  const ok = async (args: string[]) => {
    const r = await p.cli([...args, "--json"]);
    if (r.code !== 0) throw new Error(`avsctl ${args.join(" ")} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
    return r.json();
  };
  const stateFile = () => path.join(p.dir, ".avsctl", "chains", "l2-1.json");
  const recordFile = () => path.join(p.dir, ".avsctl", "run", "l2-1.json");
  const holdFile = () => path.join(p.dir, ".avsctl", "run", "l2-1.hold");
  const l2Head = async () => {
    const l2 = provider(state.l2[0]!.rpcUrl);
    return l2.getBlockNumber().finally(() => l2.destroy());
  };
  /** Waits until the L2's state file holds its head (anvil saves it every second); its text. */
  const saved = async (): Promise<string> => {
    const head = await l2Head();
    let text = "";
    const holds = async () => {
      text = readFileSync(stateFile(), "utf8");
      return Number(JSON.parse(text).best_block_number) >= head;
    };
    expect(await eventually(() => holds().catch(() => false), 60, 250)).toBe(true);
    return text;
  };
  /** A whole copy of the chain from before, as the supervisor keeps one beside the file. */
  const olderCopy = (text: string) => {
    writeFileSync(`${stateFile()}.good.tmp`, text);
    renameSync(`${stateFile()}.good.tmp`, `${stateFile()}.good`);
  };
  /**
   * The L2's anvil held where it is. Its SIGTERM from the restart's stop then waits (its grace
   * raised in the run record the restart reads), so the test, not the clock, decides whether it
   * saves on its way out (continued) or dies while saving (SIGKILL).
   */
  const holdChain = (): number => {
    const record = JSON.parse(readFileSync(recordFile(), "utf8"));
    writeFileSync(`${recordFile()}.test`, JSON.stringify({ ...record, stopGraceMs: 120_000 }), {
      mode: 0o600,
    });
    renameSync(`${recordFile()}.test`, recordFile());
    process.kill(record.pid, "SIGSTOP");
    held.push(record.pid);
    return record.pid;
  };
  /** `devnet restart l2-1` under way; resolves once it holds the chain, with its result to come. */
  const restartHolding = async (): Promise<{ done: Promise<CliResult> }> => {
    const done = p.cli(["devnet", "restart", "l2-1", "--json"]);
    await until(async () => existsSync(holdFile()), "devnet restart holding l2-1", 120_000);
    return { done };
  };

  beforeAll(async () => {
    state = await ok(["devnet", "up", "--runtime", "process"]);
  }, 360_000);

  afterAll(async () => {
    for (const pid of held) if (isAlive(pid)) process.kill(pid, "SIGCONT");
    const r = await p.cli(["devnet", "down", "--volumes", "--json"], undefined, 180_000);
    if (r.code !== 0) console.error(`devnet down --volumes failed:\n${r.stdout}\n${r.stderr}`);
    p.remove();
  }, 240_000);

  it("a file caught mid-save is not swapped for the older copy: the restarted L2 still holds the verdict task send --wait reported", {
    timeout: 300_000,
  }, async () => {
    const older = await saved();
    const sent = await ok(["task", "send", "--wait"]);
    expect(sent.status).toBe("approved");
    await saved();
    const head = await l2Head();

    const chain = holdChain();
    const whole = readFileSync(stateFile(), "utf8");
    const cut = whole.slice(0, Math.floor(whole.length / 2));
    writeFileSync(stateFile(), cut);
    olderCopy(older);
    const restart = await restartHolding();
    // The restart holds the chain and is stopping it: nothing may be judged or replaced yet.
    const atHold = {
      unchanged: readFileSync(stateFile(), "utf8") === cut,
      cutAside: existsSync(`${stateFile()}.cut`),
    };
    process.kill(chain, "SIGCONT");
    const r = await restart.done;
    expect(atHold).toEqual({ unchanged: true, cutAside: false });
    expect(r.code, r.stderr).toBe(0);
    const status = r.json();
    expect(status).toMatchObject({ name: "l2-1", healthy: true });
    expect(status).not.toHaveProperty("warnings");
    expect(existsSync(`${stateFile()}.cut`)).toBe(false);
    expect(await l2Head()).toBeGreaterThanOrEqual(head);
    const l2 = provider(state.l2[0]!.rpcUrl);
    const receipt = await l2.getTransactionReceipt(sent.txHash).finally(() => l2.destroy());
    expect(receipt?.status).toBe(1);
  });

  it("a file the restart's own stop leaves cut short (anvil killed while saving) is replaced by the whole copy before the start, and the restart says so", {
    timeout: 300_000,
  }, async () => {
    const older = await saved();
    const olderHead = Number(JSON.parse(older).best_block_number);
    const block = async (n: number) => {
      const l2 = provider(state.l2[0]!.rpcUrl);
      return (await l2.getBlock(n).finally(() => l2.destroy()))?.hash;
    };
    const olderHash = await block(olderHead);
    await ok(["task", "send", "--wait"]);
    await saved();

    const chain = holdChain();
    const restart = await restartHolding();
    olderCopy(older);
    // what a SIGKILL in the middle of anvil's save leaves
    writeFileSync(stateFile(), readFileSync(stateFile(), "utf8").slice(0, 200));
    process.kill(chain, "SIGKILL");

    const r = await restart.done;
    expect(r.code, r.stderr).toBe(0);
    const status = r.json();
    expect(status).toMatchObject({ name: "l2-1", healthy: true });
    expect(status.warnings).toEqual([
      expect.stringMatching(
        /l2-1\.json was cut short \(killed while saving\): started from its last whole copy \(\d{4}-\d\d-\d\dT/,
      ),
    ]);
    expect(readFileSync(`${stateFile()}.cut`, "utf8")).toHaveLength(200);
    // back with the history the whole copy holds
    expect(await block(olderHead)).toBe(olderHash);
  });
});
