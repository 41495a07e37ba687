/**
 * The load runner's counting, with sends that answer as the aggregator would: a task the
 * network takes as new, or TASK_KNOWN (`known`). No network here: `sendOne` is the seam the
 * runner sends through, so the race between identical concurrent sends can be laid out exactly.
 */
import { describe, expect, it } from "vitest";
import type { SentTask } from "../../../src/client/send.js";
import { AvsctlError } from "../../../src/errors.js";
import { runTasks } from "../../../src/task/run.js";

const task = (hash: string, known: boolean): SentTask => ({
  proofOfTask: "0xp",
  data: "0xd",
  taskDefinitionId: 1,
  performer: "0x0000000000000000000000000000000000000001",
  taskHash: hash,
  sentAt: Date.now(),
  ...(known ? { known } : {}),
});

const run = (answers: SentTask[]) =>
  runTasks({
    count: answers.length,
    concurrency: 1,
    wait: false,
    timeoutMs: 5_000,
    chainId: 31338,
    sendOne: async (i) => answers[i]!,
  });

describe("load mode counts tasks, not sends", () => {
  it("when a later identical send won the race, the earlier one is the duplicate", async () => {
    const s = await run([task("0xaa", true), task("0xaa", false), task("0xaa", true)]);
    expect(s).toMatchObject({ sent: 3, distinct: 1, duplicates: 2, alreadyKnown: 0 });
    expect(s.results.map((r) => r.duplicate === true)).toEqual([true, false, true]);
    expect(s.warnings.join("\n")).toMatch(
      /2 of 3 sends repeated a task of this run .*: the tasks were identical/,
    );
  });

  it("a task every send found known was there before the run", async () => {
    const s = await run([task("0xbb", true), task("0xbb", true)]);
    expect(s).toMatchObject({ sent: 2, distinct: 1, duplicates: 1, alreadyKnown: 1 });
    expect(s.results.every((r) => r.duplicate === true)).toBe(true);
    expect(s.warnings.join("\n")).toMatch(/already known/);
  });

  it("distinct tasks are neither duplicates nor known", async () => {
    const s = await run([task("0x01", false), task("0x02", false), task("0x03", false)]);
    expect(s).toMatchObject({ sent: 3, distinct: 3, duplicates: 0, alreadyKnown: 0, failed: 0 });
    expect(s.results.some((r) => r.duplicate)).toBe(false);
    expect(s.warnings).toEqual([]);
  });
});

describe("load mode with retries", () => {
  const busy = () =>
    new AvsctlError("COMMAND_FAILED", "sendTask refused by the aggregator: aggregator busy", {
      details: {
        rpcError: { code: -32003, message: "busy", data: { reason: "OVERLOADED", retryAfterMs: 1 } },
      },
    });

  it("counts busy refusals and re-sends, and a re-send found known is this run's task", async () => {
    const attempts = new Map<number, number>();
    const s = await runTasks({
      count: 2,
      concurrency: 2,
      wait: false,
      timeoutMs: 10_000,
      chainId: 31338,
      idempotent: true,
      sendOne: async (i) => {
        const n = (attempts.get(i) ?? 0) + 1;
        attempts.set(i, n);
        if (i === 0 && n <= 2) throw busy();
        if (i === 1 && n === 1) throw new AvsctlError("TIMEOUT", "no answer in time");
        return task(`0x0${i}`, i === 1);
      },
    });
    expect(s).toMatchObject({ sent: 2, distinct: 2, alreadyKnown: 0, refusedBusy: 2, retried: 3, failed: 0 });
    expect(s.results.some((r) => r.duplicate)).toBe(false);
  });

  it("a send refused for too little connected power is unreachable, with the reason", async () => {
    const s = await runTasks({
      count: 1,
      concurrency: 1,
      wait: true,
      timeoutMs: 5_000,
      chainId: 31338,
      sendOne: async () => {
        throw new AvsctlError("COMMAND_FAILED", "refused", {
          details: {
            taskHash: "0xcc",
            rpcError: {
              code: -32023,
              message: "too little",
              data: { reason: "INSUFFICIENT_CONNECTED_POWER", connectedPower: "1", requiredPower: "2" },
            },
          },
        });
      },
    });
    expect(s).toMatchObject({ unreachable: 1, failed: 0, timedOut: 0 });
    expect(s.results[0]).toMatchObject({
      status: "unreachable",
      taskHash: "0xcc",
      reason: { connectedPower: "1", requiredPower: "2", abstained: [] },
    });
  });

  it("with --wait, a task the aggregator never took times out with reason null, as a sent one does", async () => {
    const s = await runTasks({
      count: 1,
      concurrency: 1,
      wait: true,
      timeoutMs: 300,
      chainId: 31338,
      sendOne: async () => {
        throw new AvsctlError("RPC_UNREACHABLE", "the aggregator at http://127.0.0.1:1 is unreachable");
      },
    });
    expect(s).toMatchObject({ timedOut: 1, failed: 0 });
    // no task got a verdict: no latency, rather than 0 ms
    expect(s.latencyMs).toEqual({ p50: null, p95: null, p99: null, max: null });
    expect(s.results[0]).toHaveProperty("reason", null);
    expect(s.results[0]).toMatchObject({ status: "timeout", error: expect.stringContaining("unreachable") });
  });
});

describe("a send whose fate is unknown", () => {
  const cut = () =>
    new AvsctlError(
      "RPC_UNREACHABLE",
      "the aggregator at http://127.0.0.1:1 is unreachable: read ECONNRESET",
      {
        details: { taskHash: "0xdd" },
        cause: Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }),
      },
    );

  for (const wait of [false, true]) {
    it(`is no failure but a timeout naming its task, which the aggregator may have taken${wait ? " (--wait)" : ""}`, async () => {
      const s = await runTasks({
        count: 1,
        concurrency: 1,
        wait,
        timeoutMs: 300,
        chainId: 31338,
        idempotent: true,
        sendOne: async () => {
          throw cut();
        },
      });
      expect(s).toMatchObject({ sent: 0, failed: 0, timedOut: 1 });
      expect(s.results[0]).toMatchObject({ status: "timeout", taskHash: "0xdd" });
      // one task's JSON shows its reason, not its error: both say so
      expect(s.results[0]!.reason).toEqual({ message: s.results[0]!.error, abstained: [] });
      expect(s.results[0]!.error).toMatch(
        /^fate unknown: the aggregator may have taken this task \(a send of it got no answer\), and it did not answer again within --timeout \(the aggregator at .* is unreachable: read ECONNRESET\)$/,
      );
    });
  }
});
