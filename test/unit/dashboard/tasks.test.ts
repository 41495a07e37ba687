/**
 * The dashboard's tasks built line by line from the nodes' JSON log lines (as `devnet logs`
 * parses them), then completed by the chain's verdict: a task's flow, an abstention, a timeout,
 * and a voting-power sync kept apart as an internal task.
 */
import { describe, expect, it } from "vitest";
import type { TaskVerdict } from "../../../src/client/verdicts.js";
import { percentile } from "../../../src/dashboard/metrics.js";
import { TaskBook } from "../../../src/dashboard/tasks.js";
import { parseLogLine } from "../../../src/devnet/logs.js";

const HASH = `0x${"a1".repeat(32)}`;
const SYNC = `0x${"b2".repeat(32)}`;
const T0 = Date.parse("2026-01-02T03:04:05.000Z");
const at = (ms: number) => new Date(T0 + ms).toISOString();
const line = (component: string, ms: number, msg: string, fields: Record<string, unknown> = {}) =>
  parseLogLine(component, JSON.stringify({ time: at(ms), level: "info", msg, ...fields }), undefined).entry;

const book = () =>
  new TaskBook(
    new Map([
      ["attester-1", 3],
      ["attester-2", 4],
    ]),
  );

describe("TaskBook", () => {
  it("follows a task from sendTask to its verdict, one step per line", () => {
    const b = book();
    const lines = [
      line("aggregator", 0, "task accepted", {
        taskHash: HASH,
        taskDefinitionId: 1,
        performer: "0xP",
        signatureType: "ecdsa",
        proofOfTask: "0xproof",
        data: "0xdata",
      }),
      line("attester-1", 5, "validation call", { taskHash: HASH, service: "http://v" }),
      line("attester-2", 6, "validation call", { taskHash: HASH, service: "http://v" }),
      line("attester-1", 9, "validation answer", { taskHash: HASH, result: true }),
      line("attester-2", 10, "validation answer", { taskHash: HASH, result: null, reason: "timeout" }),
      line("attester-2", 10, "abstaining", { taskHash: HASH, reason: "timeout" }),
      line("attester-1", 11, "voted approve", { taskHash: HASH }),
      line("aggregator", 12, "vote counted", { taskHash: HASH, attester: 3, verdict: "approve" }),
      line("aggregator", 13, "threshold reached; submitting", {
        taskHash: HASH,
        verdict: "approve",
        attestersIds: [3],
      }),
      line("aggregator", 40, "task approved on-chain", { taskHash: HASH, taskNumber: 7, txHash: "0xtx" }),
    ];
    const changes = lines.map((l) => b.apply(l));
    expect(changes.filter((c) => c?.kind === "task").length).toBe(9);
    // the aggregator's word is not the verdict: the chain's is
    expect(b.get(HASH)?.verdict).toBeUndefined();
    expect(b.get(HASH)?.latencyMs).toBeUndefined();
    const verdict = { status: "approved", taskHash: HASH, taskNumber: 7, taskDefinitionId: 1 } as TaskVerdict;
    b.applyVerdict(
      { ...verdict, proofOfTask: "0xproof", data: "0xdata", performer: "0xP", txHash: "0xtx" },
      "250000",
      T0 + 99,
    );
    const t = b.get(HASH)!;
    expect(t).toMatchObject({
      taskHash: HASH,
      taskDefinitionId: 1,
      performer: "0xP",
      proofOfTask: "0xproof",
      data: "0xdata",
      signatureType: "ecdsa",
      sentAt: T0,
      threshold: { verdict: "approve", at: T0 + 13 },
      submission: { txHash: "0xtx", gasUsed: "250000", at: T0 + 40 },
      taskNumber: 7,
      verdict: "approved",
      latencyMs: 40,
    });
    expect(t.validations).toEqual([
      { attester: "attester-1", operatorId: 3, answer: true, at: T0 + 9 },
      { attester: "attester-2", operatorId: 4, answer: null, reason: "timeout", at: T0 + 10 },
    ]);
    expect(t.votes).toEqual([
      { attester: "attester-2", operatorId: 4, verdict: "abstain", reason: "timeout", at: T0 + 10 },
      { attester: "attester-1", operatorId: 3, verdict: "approve", at: T0 + 11 },
    ]);

    expect(b.decided().map((x) => x.taskHash)).toEqual([HASH]);
  });

  it("measures latency to the block's time when the chain's verdict arrives before the aggregator's lines", () => {
    const b = book();
    const verdict = { status: "approved", taskHash: HASH, taskNumber: 7, taskDefinitionId: 1 } as TaskVerdict;
    b.applyVerdict(
      { ...verdict, proofOfTask: "0xp", data: "0xd", performer: "0xP", txHash: "0xtx" },
      "1",
      T0 + 50,
    );
    expect(b.get(HASH)?.latencyMs).toBeUndefined();
    b.apply(
      line("aggregator", 0, "task accepted", { taskHash: HASH, taskDefinitionId: 1, performer: "0xP" }),
    );
    expect(b.get(HASH)?.latencyMs).toBe(50);
  });

  it("takes the latency from the submission line read after the verdict, not from the block's time", () => {
    // a view started after the task: the chain's verdict is read before the aggregator's lines
    const b = book();
    const verdict = {
      status: "approved",
      taskHash: HASH,
      taskNumber: 10,
      taskDefinitionId: 1,
      proofOfTask: "0xp",
      data: "0xd",
      performer: "0xP",
      txHash: "0xtx",
    } as TaskVerdict;
    b.applyVerdict(verdict, "1", T0 + 1_000);
    b.apply(
      line("aggregator", 0, "task accepted", { taskHash: HASH, taskDefinitionId: 1, performer: "0xP" }),
    );
    // the block's time (whole seconds) stands in until the aggregator's line is read
    expect(b.get(HASH)?.latencyMs).toBe(1_000);
    b.apply(
      line("aggregator", 132, "task approved on-chain", { taskHash: HASH, taskNumber: 10, txHash: "0xtx" }),
    );
    expect(b.get(HASH)).toMatchObject({ submission: { at: T0 + 132, gasUsed: "1" }, latencyMs: 132 });
    // the verdict read again (the chain followed again after a failed round) keeps the line's time
    b.applyVerdict(verdict, "1", T0 + 1_000);
    expect(b.get(HASH)).toMatchObject({ submission: { at: T0 + 132 }, latencyMs: 132 });
  });

  it("marks a task the aggregator gave up on", () => {
    const b = book();
    b.apply(
      line("aggregator", 0, "task accepted", { taskHash: HASH, taskDefinitionId: 1, performer: "0xP" }),
    );
    b.apply(line("aggregator", 30_000, "task timed out: no threshold reached", { taskHash: HASH }));
    // ended, not pending: no verdict will come
    expect(b.get(HASH)).toMatchObject({ error: "timed out: no threshold reached", verdict: "timeout" });
    expect(b.decided()).toEqual([]);
    const other = `0x${"cd".repeat(32)}`;
    b.apply(
      line("aggregator", 0, "task accepted", { taskHash: other, taskDefinitionId: 1, performer: "0xP" }),
    );
    b.apply(
      line("aggregator", 20, "task unreachable: no verdict can be reached", {
        taskHash: other,
        reason: "2 of 3 attesters abstained",
      }),
    );
    expect(b.get(other)).toMatchObject({
      verdict: "unreachable",
      error: "unreachable: 2 of 3 attesters abstained",
    });
    // a verdict the chain holds after all replaces it
    b.applyVerdict(
      {
        status: "rejected",
        taskHash: HASH,
        taskNumber: 9,
        taskDefinitionId: 1,
        txHash: "0xtx",
      } as TaskVerdict,
      "1",
      T0 + 31_000,
    );
    expect(b.get(HASH)).toMatchObject({ verdict: "rejected" });
    expect(b.get(HASH)?.error).toBeUndefined();
  });

  it("shows a task whose submission failed as failed, with its transaction and then its gas", () => {
    const b = book();
    b.apply(
      line("aggregator", 0, "task accepted", { taskHash: HASH, taskDefinitionId: 1, performer: "0xP" }),
    );
    b.apply(line("aggregator", 13, "threshold reached; submitting", { taskHash: HASH, verdict: "approve" }));
    const change = b.apply(
      line("aggregator", 40, "task submission failed", {
        taskHash: HASH,
        error: "submitTask 0xtx reverted: InvalidTaskDefinition",
        txHash: "0xtx",
      }),
    );
    expect(change).toMatchObject({ kind: "task", task: { verdict: "failed" } });
    expect(b.get(HASH)).toMatchObject({
      verdict: "failed",
      error: "submission failed: submitTask 0xtx reverted: InvalidTaskDefinition",
      submission: { txHash: "0xtx", gasUsed: null, at: T0 + 40 },
    });
    // the receipt is what tells its gas; a failed task is no decided one for the charts
    expect(b.gasWanted(HASH)).toBe("0xtx");
    expect(b.applyGas(HASH, "0xtx", "57800")).toMatchObject({ kind: "task" });
    expect(b.get(HASH)?.submission?.gasUsed).toBe("57800");
    expect(b.gasWanted(HASH)).toBeUndefined();
    expect(b.get(HASH)?.latencyMs).toBeUndefined();
    expect(b.decided()).toEqual([]);

    // a verdict the chain holds after all is the task's word
    b.applyVerdict(
      {
        status: "approved",
        taskHash: HASH,
        taskNumber: 3,
        taskDefinitionId: 1,
        txHash: "0xtx2",
      } as TaskVerdict,
      "250000",
      T0 + 1_000,
    );
    expect(b.get(HASH)).toMatchObject({ verdict: "approved", submission: { txHash: "0xtx2" } });
    expect(b.get(HASH)?.error).toBeUndefined();
  });

  it("keeps a voting-power sync apart, as an internal task with its transaction and number", () => {
    const b = book();
    expect(
      b.apply(
        line("aggregator", 0, "internal task started", {
          taskHash: SYNC,
          chainId: 31338,
          taskDefinitionId: 10001,
        }),
      ),
    ).toMatchObject({ kind: "internal" });
    b.apply(
      line("aggregator", 1, "VOTING_POWER_SYNC proposed", {
        taskHash: SYNC,
        chainId: 31338,
        toBlockL1: "40",
        toBlockL2: "52",
        increases: 1,
        decreases: 0,
      }),
    );
    b.apply(line("attester-1", 2, "voted approve", { taskHash: SYNC }));
    b.apply(
      line("aggregator", 9, "task approved on-chain", { taskHash: SYNC, taskNumber: 9, txHash: "0xsync" }),
    );
    expect(b.list()).toEqual([]);
    const [sync] = b.internalTasks();
    expect(sync).toMatchObject({
      kind: "voting-power-sync",
      taskHash: SYNC,
      txHash: "0xsync",
      taskNumber: 9,
      at: T0,
    });
    expect(sync!.detail).toContain("1 increase(s)");
  });

  it("files a verdict of an internal task definition it never saw in the logs as internal", () => {
    const b = book();
    const change = b.applyVerdict(
      {
        status: "approved",
        taskHash: SYNC,
        taskNumber: 2,
        taskDefinitionId: 10001,
        txHash: "0xs",
      } as TaskVerdict,
      "1",
      T0,
    );
    expect(change.kind).toBe("internal");
    expect(b.list()).toEqual([]);
  });
});

describe("percentile", () => {
  it("takes the nearest rank, null without values", () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([10, 20, 30, 40], 50)).toBe(20);
    expect(percentile([10, 20, 30, 40], 99)).toBe(40);
    expect(percentile([5], 95)).toBe(5);
  });
});
