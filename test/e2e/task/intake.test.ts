/**
 * The aggregator's intake on a real devnet (process runtime), through the built CLI: a bound on
 * tasks in progress (devnet.maxPendingTasks) that `task send --count` honours by waiting and
 * re-sending the same tasks, each landing on-chain exactly once; and a task every attester
 * abstains on, which ends `unreachable` with who abstained and why instead of waiting out the
 * aggregator's deadline.
 */
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli.js";
import {
  ecdsaSendTaskParams,
  postRaw,
  startValidationService,
  type ValidationService,
  waitTaskFinal,
} from "../../helpers/node.js";
import { taskProject } from "./project.js";

// Two tasks in progress at most: a load of a few dozen is refused busy again and again.
const { dir, cli, verdictsByHash } = taskProject("intake", { devnet: { maxPendingTasks: 2 } });
let validation: ValidationService | undefined;
let state: any;

beforeAll(async () => {
  // Every attester validates through this service; a test turns it to HTTP 500 to make them abstain.
  validation = await startValidationService("approve");
  const up = await cli(["devnet", "up", "--runtime", "process", "--validation-url", validation.url], 180_000);
  expect(up.code, up.stderr + up.stdout).toBe(0);
  state = up.json();
}, 240_000);

afterAll(async () => {
  await runCli(["devnet", "down"], { cwd: dir });
  await validation?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("intake on the devnet (process runtime)", () => {
  it("beyond the bound, sendTask answers OVERLOADED at once with retryAfterMs, pending and limit", async () => {
    // One batch: its requests are taken in together, so all but two find the bound reached.
    const batch = Array.from({ length: 6 }, (_, i) => ({
      jsonrpc: "2.0",
      id: i,
      method: "sendTask",
      params: ecdsaSendTaskParams(state.performer.privateKey, {
        proofOfTask: `busy-${i}-${process.pid}`,
        data: "0x01",
        taskDefinitionId: 1,
      }),
    }));
    const r = await postRaw(state.aggregator.rpcUrl, JSON.stringify(batch));
    const answers = r.json as Array<{ result?: string; error?: any }>;
    const busy = answers.filter((a) => a.error);
    expect(busy.length).toBeGreaterThanOrEqual(4);
    for (const a of busy) {
      expect(a.error).toMatchObject({ code: -32003, data: { reason: "OVERLOADED", limit: 2 } });
      expect(a.error.data.retryAfterMs).toBeGreaterThan(0);
      expect(a.error.data.pending).toBeGreaterThanOrEqual(2);
      expect(a.error.message).toMatch(
        /^aggregator busy: \d+ tasks in progress \(limit 2\); retry after \d+ ms$/,
      );
    }
    // what was taken in is decided as usual
    for (const a of answers.filter((x) => x.result)) {
      expect((await waitTaskFinal(state.aggregator.rpcUrl, a.result!, 60_000)).status).toBe("approved");
    }
  });

  it("a busy aggregator refuses at once; task send --count waits, re-sends the same tasks, each lands once", async () => {
    const r = await cli(
      ["task", "send", "--via", "rpc", "--count", "24", "--concurrency", "8", "--wait", "--timeout", "150"],
      200_000,
    );
    expect(r.code, r.stderr).toBe(0);
    const s = r.json();
    expect(s).toMatchObject({
      sent: 24,
      distinct: 24,
      duplicates: 0,
      alreadyKnown: 0,
      approved: 24,
      rejected: 0,
      timedOut: 0,
      unreachable: 0,
      failed: 0,
    });
    // eight senders against a bound of two: some sends were refused busy and sent again
    expect(s.refusedBusy).toBeGreaterThan(0);
    expect(s.retried).toBeGreaterThanOrEqual(s.refusedBusy);
    const onChain = await verdictsByHash();
    const hashes = new Set(s.results.map((t: any) => t.taskHash));
    expect(hashes.size).toBe(24);
    for (const h of hashes) expect({ h, n: onChain.get(h as string) }).toEqual({ h, n: 1 });
    expect(new Set(s.results.map((t: any) => t.taskNumber)).size).toBe(24);
  }, 240_000);

  it("every attester abstaining: the task ends unreachable with who abstained and why, exit 1", async () => {
    validation!.mode = "error500";
    try {
      const before = await verdictsByHash();
      const r = await cli(["task", "send", "--via", "rpc", "--wait", "--timeout", "90"]);
      expect(r.code, r.stderr).toBe(1);
      const t = r.json();
      expect(t).toMatchObject({ status: "unreachable", txHash: null, taskNumber: null });
      expect(t.reason.message).toEqual(expect.any(String));
      expect(t.reason.connectedPower).toMatch(/^[1-9][0-9]*$/);
      expect(t.reason.requiredPower).toMatch(/^[1-9][0-9]*$/);
      expect(t.reason.abstained).toHaveLength(3);
      for (const a of t.reason.abstained) {
        expect(a).toMatchObject({
          attester: expect.stringMatching(/^0x[0-9a-fA-F]{40}$/),
          operatorId: expect.any(Number),
        });
        expect(a.reason).toMatch(/500/);
      }

      const status = await cli(["task", "status", t.taskHash]);
      expect(status.code, status.stderr).toBe(1);
      expect(status.json()).toMatchObject({ status: "unreachable", taskHash: t.taskHash, reason: t.reason });
      expect((await verdictsByHash()).size).toBe(before.size);
    } finally {
      validation!.mode = "approve";
    }
  }, 150_000);
});
