import { expect } from "vitest";
import type { CliResult } from "../../helpers/cli.js";

const why = (r: CliResult) =>
  `exit ${r.code}\nstdout: ${r.stdout.slice(-3000)}\nstderr: ${r.stderr.slice(-3000)}`;

/**
 * A load test through the project's own services: every send is its own task, approved, and
 * `task list` shows each exactly once.
 */
export async function loadIsDistinct(
  cli: (args: string[]) => Promise<CliResult>,
  count: number,
  concurrency: number,
): Promise<void> {
  const r = await cli([
    "task",
    "send",
    "--count",
    String(count),
    "--concurrency",
    String(concurrency),
    "--wait",
    "--timeout",
    "150",
    "--json",
  ]);
  expect(r.code, why(r)).toBe(0);
  const load = r.json();
  expect(load).toMatchObject({ sent: count, distinct: count, duplicates: 0, approved: count, rejected: 0 });
  const list = await cli(["task", "list", "--status", "approved", "--json"]);
  expect(list.code, why(list)).toBe(0);
  const onChain = new Map<string, number>();
  for (const t of list.json().tasks) onChain.set(t.taskHash, (onChain.get(t.taskHash) ?? 0) + 1);
  const numbers = new Set<number>();
  for (const t of load.results) {
    expect(t.status, t.taskHash).toBe("approved");
    expect(onChain.get(t.taskHash), t.taskHash).toBe(1);
    numbers.add(t.taskNumber);
  }
  expect(numbers.size).toBe(count);
}
