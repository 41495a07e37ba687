/** A temporary project for the task e2e files: one process-runtime devnet each, driven by the built CLI. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "vitest";
import { type CliResult, runCli } from "../../helpers/cli.js";

export function taskProject(prefix: string, config: Record<string, unknown> = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), `avsctl-${prefix}-`));
  writeFileSync(
    path.join(dir, "avsctl.config.json"),
    JSON.stringify({ name: `e2e-${prefix}-${process.pid}`, ...config }),
  );
  /** The CLI in the project, with --json. */
  const cli = (args: string[], timeoutMs = 120_000) => runCli([...args, "--json"], { cwd: dir, timeoutMs });
  /** How often each task hash has a verdict on the devnet's L2 (a task may never land twice). */
  async function verdictsByHash(): Promise<Map<string, number>> {
    const r = await cli(["task", "list"]);
    expect(r.code, r.stderr).toBe(0);
    const counts = new Map<string, number>();
    for (const t of r.json().tasks) counts.set(t.taskHash, (counts.get(t.taskHash) ?? 0) + 1);
    return counts;
  }
  return { dir, cli, verdictsByHash };
}

/**
 * What `task send --wait --timeout 8` of one task prints when the L2 stops answering (killed or
 * frozen) before its verdict and does not answer again in time: RPC_UNREACHABLE naming the task.
 */
export function expectOneTaskL2Unanswered(r: CliResult): void {
  expect(r.code, r.stdout).toBe(4);
  const e = r.json().error;
  const [hash] = e.details.taskHashes;
  expect(e).toMatchObject({
    code: "RPC_UNREACHABLE",
    details: { sent: 1, decided: 0, undecided: 1, taskHashes: [expect.stringMatching(/^0x[0-9a-f]{64}$/)] },
  });
  expect(e.message).toBe(
    `the L2 stopped answering while task ${hash} waited for its verdict, and did not answer again within --timeout (8 s); the aggregator took the task and may have decided it`,
  );
  expect(e.hint).toBe(
    `\`avsctl devnet status\` shows whether the L2 runs; once it answers, \`avsctl task status ${hash}\` shows the task's verdict`,
  );
}

/**
 * The same for a load run (`--count`, `--timeout 8`): RPC_UNREACHABLE with what was sent and
 * decided, consistent with each other; returns the counts for a caller's own checks.
 */
export function expectLoadL2Unanswered(r: CliResult): { sent: number; decided: number; undecided: number } {
  expect(r.code, r.stdout).toBe(4);
  const e = r.json().error;
  expect(e.code).toBe("RPC_UNREACHABLE");
  const { sent, decided, undecided, taskHashes } = e.details;
  expect(undecided).toBeGreaterThanOrEqual(1);
  expect(decided + undecided).toBeLessThanOrEqual(sent);
  expect(taskHashes).toHaveLength(undecided);
  expect(e.message).toBe(
    `the L2 stopped answering while task send waited for verdicts, and did not answer again within --timeout (8 s): ${decided} of the ${sent} task(s) sent have their verdict, ${undecided} are undecided and may still be decided on-chain`,
  );
  return { sent, decided, undecided };
}
