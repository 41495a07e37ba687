import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/cli.js";

// `npm run chaos -- --json`, run as CI runs it (node directly: npm would print its own header on
// stdout). The suite starts and stops its own devnet; a row's verdict is its own, read from the
// chain and the process table, so this file only asks that every row passed.

interface ChaosRow {
  id: string;
  fault: string;
  sent: number;
  onChain: number;
  lost: number;
  duplicated: number;
  recoverMs: number | null;
  pass: boolean;
  notes: string[];
}

let child: ChildProcess | undefined;

function runChaos(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    child = spawn(process.execPath, [path.join(repoRoot, "scripts", "chaos.mjs"), "--json"], {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

afterAll(async () => {
  // An interrupted suite still stops its devnet: SIGINT is its Ctrl-C, and it is waited for.
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child!.once("close", r));
    child.kill("SIGINT");
    await exited;
  }
}, 120_000);

describe("npm run chaos (process runtime)", () => {
  it("passes every row: nothing lost, duplicated or forged on-chain, recovery without a manual step", async () => {
    const r = await runChaos();
    let report: { pass: boolean; rows: ChaosRow[]; ledger: { pass: boolean } | null };
    try {
      report = JSON.parse(r.stdout);
    } catch {
      throw new Error(`chaos printed no JSON report (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
    }
    const ids = report.rows.map((row) => row.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        "sigint-up",
        "validation-garbage",
        "validation-slow",
        "validation-500",
        "hostile-input",
        "attester-1-of-3",
        "attesters-2-of-3",
        "client-timeouts",
        "aggregator-kill",
        "l2-kill",
      ]),
    );
    const failed = report.rows.filter((row) => !row.pass).map((row) => ({ id: row.id, notes: row.notes }));
    expect(failed).toEqual([]);
    for (const row of report.rows) {
      expect(row.lost, row.id).toBe(0);
      expect(row.duplicated, row.id).toBe(0);
    }
    // the whole chain, beyond each row's blocks: only tasks the suite sent, none twice
    expect(report.ledger).toMatchObject({ pass: true });
    expect(r.code).toBe(0);
    expect(report.pass).toBe(true);
  }, 900_000);
});
