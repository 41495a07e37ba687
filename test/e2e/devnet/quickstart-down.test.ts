/**
 * `quickstart` keeps its devnet under `.avsctl/quickstart`, named after the checkout
 * (`quickstart-<hash>`); a plain `devnet down` where it was run stops it too, and `devnet
 * status` there points at it with a command that works when pasted.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli, runPasted } from "../../helpers/cli.js";
import { labelledProcesses } from "./support.js";

describe("devnet down at a checkout's root stops its quickstart devnet (process runtime)", () => {
  const root = mkdtempSync(path.join(os.tmpdir(), "avsctl-e2e-qs-down-"));
  const quickstartDir = path.join(root, ".avsctl", "quickstart");

  afterAll(async () => {
    await runCli(["devnet", "down"], { cwd: quickstartDir, timeoutMs: 60_000 });
    rmSync(root, { recursive: true, force: true });
  }, 120_000);

  it("runs, is found from the root, and a plain down there removes it", async () => {
    const qs = await runCli(["quickstart", "--runtime", "process", "--json"], {
      cwd: root,
      timeoutMs: 240_000,
    });
    expect(qs.code, qs.stdout + qs.stderr).toBe(0);
    const name: string = qs.json().devnet.name;
    expect(name).toMatch(/^quickstart-[0-9a-f]{6}$/);
    expect(labelledProcesses(name).length).toBeGreaterThan(0);

    // No project devnet at the root: the error's hint names the quickstart's, runnable as written.
    const status = await runCli(["devnet", "status", "--json"], { cwd: root });
    const error = status.json().error;
    expect(error.code).toBe("NO_DEVNET");
    const hinted = /`(avsctl --cwd [^`]+ devnet status)`/.exec(error.hint)?.[1];
    expect(hinted, error.hint).toBeDefined();
    const pasted = await runPasted(`${hinted} --json`, { cwd: root });
    expect(pasted.code, pasted.stdout + pasted.stderr).toBe(0);
    expect(pasted.json()).toMatchObject({ name, healthy: true });

    const down = await runCli(["devnet", "down", "--json"], { cwd: root, timeoutMs: 120_000 });
    expect(down.code, down.stdout + down.stderr).toBe(0);
    const body = down.json();
    expect(body.quickstart).toMatchObject({ name, projectDir: quickstartDir });
    expect(body.quickstart.removed.processes.length).toBeGreaterThan(0);
    // as any devnet's, its saved state stays for the next quickstart
    expect(body.quickstart.removed.volumes).toEqual([]);
    expect(body.quickstart.kept.length).toBeGreaterThan(0);
    for (const kept of body.quickstart.kept) expect(existsSync(kept), kept).toBe(true);
    expect(labelledProcesses(name)).toEqual([]);
    const after = await runCli(["devnet", "status", "--json"], { cwd: quickstartDir });
    expect(after.json().error.code).toBe("NO_DEVNET");

    // Nothing left: down again says so, without a quickstart entry.
    const again = await runCli(["devnet", "down"], { cwd: root });
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toBe("nothing was running");
    // --volumes deletes it
    const wiped = await runCli(["devnet", "down", "--volumes", "--json"], { cwd: quickstartDir });
    expect(wiped.code, wiped.stdout + wiped.stderr).toBe(0);
    for (const kept of body.quickstart.kept) expect(existsSync(kept), kept).toBe(false);
  }, 400_000);
});
