/** A temporary project for the task e2e files: one process-runtime devnet each, driven by the built CLI. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "vitest";
import { runCli } from "../../helpers/cli.js";

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
