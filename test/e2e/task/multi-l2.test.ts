/**
 * `task status` and `task trace` on a devnet with two L2s (process runtime, built CLI), without
 * --target-chain: a task hash is found on the L2 the aggregator's journal has it on (or, when the
 * aggregator does not answer, the L2 whose verdicts or logs have it); a task number both L2s
 * have is refused naming them and --target-chain; NOT_FOUND names every chain searched. And
 * `task send` of a definition only the second L2 has says how to reach it.
 */
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, runPasted } from "../../helpers/cli.js";
import { startValidationService, type ValidationService } from "../../helpers/node.js";
import { taskProject } from "./project.js";

const { dir, cli } = taskProject("multi-l2");
const human = (args: string[]) => runCli(args, { cwd: dir, timeoutMs: 120_000 });
let validation: ValidationService | undefined;
let first: number;
let second: number;
/** On the second L2: approved, rejected, unreachable (no verdict). On the first: approved. */
let approved: any;
let rejected: any;
let unreachable: any;
let firstApproved: any;

async function send(args: string[], exit: number): Promise<any> {
  const r = await cli(["task", "send", "--via", "rpc", "--wait", "--timeout", "90", ...args]);
  expect(r.code, r.stderr + r.stdout).toBe(exit);
  return r.json();
}

beforeAll(async () => {
  // Every attester validates through this service: it rejects the rejected task, and answers
  // HTTP 500 to the unreachable one.
  validation = await startValidationService("approve");
  const up = await cli(
    ["devnet", "up", "--runtime", "process", "--l2-chains", "2", "--validation-url", validation.url],
    180_000,
  );
  expect(up.code, up.stderr + up.stdout).toBe(0);
  [first, second] = up.json().l2.map((l: any) => l.chainId);
  approved = await send(["--target-chain", String(second), "--data", "second-ok"], 0);
  firstApproved = await send(["--data", "first-ok"], 0);
  try {
    validation.mode = "reject";
    rejected = await send(["--target-chain", String(second), "--proof", "0xbad"], 1);
    validation.mode = "error500";
    unreachable = await send(["--target-chain", String(second), "--data", "second-none"], 1);
  } finally {
    validation.mode = "approve";
  }
  expect([approved.chainId, rejected.chainId, unreachable.chainId, firstApproved.chainId]).toEqual([
    second,
    second,
    second,
    first,
  ]);
  expect(unreachable.status).toBe("unreachable");
}, 300_000);

afterAll(async () => {
  await runCli(["devnet", "down"], { cwd: dir });
  await validation?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("task lookups on a devnet with two L2s", () => {
  it("by hash: status and trace find the second L2's task from the journal; --target-chain still looks on one", async () => {
    const status = await cli(["task", "status", approved.taskHash]);
    expect(status.code, status.stderr + status.stdout).toBe(0);
    expect(status.json()).toMatchObject({
      status: "approved",
      chainId: second,
      taskNumber: approved.taskNumber,
      txHash: approved.txHash,
    });
    const none = await cli(["task", "status", unreachable.taskHash]);
    expect(none.code, none.stdout).toBe(1);
    expect(none.json()).toMatchObject({
      status: "unreachable",
      chainId: second,
      taskHash: unreachable.taskHash,
    });

    const trace = await cli(["task", "trace", rejected.taskHash]);
    expect(trace.code, trace.stderr + trace.stdout).toBe(0);
    const t = trace.json();
    expect(t).toMatchObject({ chainId: second, status: "rejected", taskNumber: rejected.taskNumber });
    expect(t.submission).toMatchObject({ txHash: rejected.txHash, status: "success" });
    expect(t.submission.blockNumber).toEqual(expect.any(Number));
    const text = await human(["task", "trace", rejected.taskHash]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`on chain ${second}: rejected (task ${rejected.taskNumber})`);
    expect(text.stdout).not.toMatch(/is not on chain/);

    // --target-chain is obeyed as before: the first L2 has no such task
    const elsewhere = await cli(["task", "status", approved.taskHash, "--target-chain", String(first)]);
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.json().error.message).toBe(`no verdict on chain ${first} for task ${approved.taskHash}`);
  }, 120_000);

  it("by number: one both L2s have is refused naming them and --target-chain; one only the second has is found there", async () => {
    expect(firstApproved.taskNumber).toBe(approved.taskNumber);
    for (const command of ["status", "trace"]) {
      const r = await cli(["task", command, String(approved.taskNumber)]);
      expect(r.code, r.stdout).toBe(2);
      const { error } = r.json();
      expect(error.code).toBe("MISSING_ARGUMENT");
      expect(error.message).toContain(`chains ${first} and ${second}`);
      expect(error.message).toContain("--target-chain");
      expect(error.details).toMatchObject({ argument: "--target-chain", chains: [first, second] });
      // the hint's commands work when pasted
      const pasted = [...error.hint.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
      expect(pasted).toHaveLength(2);
      const r2 = await runPasted(`${pasted[1]} --json`, { cwd: dir, timeoutMs: 120_000 });
      expect(r2.code, r2.stderr + r2.stdout).toBe(0);
      expect(JSON.parse(r2.stdout)).toMatchObject({
        chainId: second,
        taskHash: approved.taskHash.toLowerCase(),
      });
    }

    const only = await cli(["task", "status", String(rejected.taskNumber)]);
    expect(only.code, only.stderr + only.stdout).toBe(0);
    expect(only.json()).toMatchObject({ chainId: second, taskHash: rejected.taskHash, status: "rejected" });
    const traced = await cli(["task", "trace", String(rejected.taskNumber)]);
    expect(traced.code, traced.stderr + traced.stdout).toBe(0);
    expect(traced.json()).toMatchObject({ chainId: second, taskHash: rejected.taskHash.toLowerCase() });
  }, 120_000);

  it("NOT_FOUND names every chain searched, and its hint --target-chain", async () => {
    const unknownHash = `0x${"ab".repeat(32)}`;
    for (const [command, ref] of [
      ["status", "99"],
      ["trace", "99"],
      ["status", unknownHash],
      ["trace", unknownHash],
    ]) {
      const r = await human(["task", command!, ref!]);
      expect(r.code, r.stdout).toBe(1);
      expect(r.stderr).toContain("NOT_FOUND");
      expect(r.stderr).toContain(`chains ${first}, ${second}`);
      expect(r.stderr).toContain("--target-chain <id>");
    }
  }, 120_000);

  it("task send of a definition only the second L2 has: the hint names task-def list --chain-id and --target-chain", async () => {
    const created = await cli(["task-def", "create", "--name", "only-second", "--chain-id", String(second)]);
    expect(created.code, created.stderr + created.stdout).toBe(0);
    const id = String(created.json().taskDefinitionId);
    for (const via of ["rpc", "execution"]) {
      const r = await cli(["task", "send", "--task-def", id, "--via", via]);
      expect(r.code, r.stdout).toBe(2);
      const { error } = r.json();
      expect(error.code).toBe("TASK_DEF_NOT_FOUND");
      expect(error.hint).toContain(`--target-chain ${second}`);
      const list = error.hint.match(/`(avsctl task-def list [^`]+)`/)?.[1];
      expect(list).toBe(`avsctl task-def list --chain-id ${second}`);
      const listed = await runPasted(`${list} --json`, { cwd: dir, timeoutMs: 120_000 });
      expect(listed.code, listed.stderr).toBe(0);
      expect(JSON.parse(listed.stdout).taskDefinitions.map((d: any) => String(d.taskDefinitionId))).toContain(
        id,
      );
    }
    const there = await send(["--task-def", id, "--target-chain", String(second)], 0);
    expect(there).toMatchObject({ status: "approved", chainId: second });
  }, 180_000);

  it("with the aggregator not answering: a hash is found by the L2s' verdicts, a verdictless task's trace by the logs", async () => {
    const run = JSON.parse(readFileSync(path.join(dir, ".avsctl", "run", "aggregator.json"), "utf8"));
    process.kill(run.pid, "SIGSTOP");
    try {
      const status = await cli(["task", "status", approved.taskHash]);
      expect(status.code, status.stderr + status.stdout).toBe(0);
      expect(status.json()).toMatchObject({ chainId: second, txHash: approved.txHash });
      const trace = await cli(["task", "trace", unreachable.taskHash]);
      expect(trace.code, trace.stderr + trace.stdout).toBe(0);
      const t = trace.json();
      expect(t).toMatchObject({ chainId: second, status: "unknown", submission: null, verdict: null });
      expect(t.events.map((e: any) => e.step)).toContain("received");
    } finally {
      process.kill(run.pid, "SIGCONT");
    }
  }, 120_000);
});
