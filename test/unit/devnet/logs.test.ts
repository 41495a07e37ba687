import { describe, expect, it } from "vitest";
import { isAboutTask, parseLogLine, timeOfLine } from "../../../src/devnet/logs.js";
import { stepOf } from "../../../src/task/trace.js";

const HASH = `0x${"ab".repeat(32)}`;

describe("a log line as a record", () => {
  it("takes a node's JSON line apart: time, level, msg, taskHash and the rest", () => {
    const line = JSON.stringify({
      time: "2026-01-02T03:04:05.678Z",
      level: "info",
      role: "aggregator",
      msg: "task accepted",
      taskHash: HASH,
      chainId: 31338,
    });
    const { entry, timeMs } = parseLogLine("aggregator", line, undefined);
    expect(timeMs).toBe(Date.parse("2026-01-02T03:04:05.678Z"));
    expect(entry.record).toEqual({
      component: "aggregator",
      time: "2026-01-02T03:04:05.678Z",
      level: "info",
      msg: "task accepted",
      taskHash: HASH,
      role: "aggregator",
      chainId: 31338,
    });
    expect(entry.line).toBe(line);
  });

  it("reads pino's numeric level and epoch time, and Docker's capture time", () => {
    const pino = parseLogLine(
      "execution",
      JSON.stringify({ level: 40, time: 1767323045678, message: "slow" }),
      undefined,
    );
    expect(pino.entry.record).toMatchObject({ level: "warn", msg: "slow", time: "2026-01-02T03:04:05.678Z" });
    const docker = parseLogLine("l1", "2026-01-02T03:04:05.123456789Z eth_blockNumber", undefined);
    expect(docker.entry.line).toBe("eth_blockNumber");
    expect(docker.entry.record.time).toBe("2026-01-02T03:04:05.123Z");
  });

  it("gives a plain line the time of the line before it, or none", () => {
    expect(parseLogLine("l1", "eth_blockNumber", 1000).entry.record.time).toBe(new Date(1000).toISOString());
    expect(parseLogLine("l1", "eth_blockNumber", undefined).entry.record.time).toBeNull();
    const launch = parseLogLine("l1", "[avsctl] 2026-01-02T03:04:05.000Z starting l1: anvil", undefined);
    expect(launch.entry.record.time).toBe("2026-01-02T03:04:05.000Z");
  });

  it("is about a task by its taskHash or by the hash in its text, in any case", () => {
    const json = parseLogLine(
      "attester-1",
      JSON.stringify({ msg: "voted reject", taskHash: HASH.toUpperCase().replace("0X", "0x") }),
      0,
    );
    expect(isAboutTask(json.entry, HASH)).toBe(true);
    expect(isAboutTask(parseLogLine("execution", `task sent: taskHash=${HASH}`, 0).entry, HASH)).toBe(true);
    expect(isAboutTask(parseLogLine("execution", "listening", 0).entry, HASH)).toBe(false);
  });
});

describe("the time of a line skipped by a task filter", () => {
  it("is the time parsing the whole line gives, for every kind of line", () => {
    const earlier = Date.parse("2026-01-01T00:00:00Z");
    const lines = [
      JSON.stringify({
        time: "2026-01-02T03:04:05.678Z",
        level: "info",
        msg: "vote counted",
        taskHash: HASH,
      }),
      '{"time": "2026-01-02T03:04:05.678901+00:00", "level": "info", "msg": "task sent"}',
      '{"level":"info","time":"2026-01-02T03:04:06Z","msg":"time not first"}',
      '{"ts":1767323046.5,"msg":"epoch seconds"}',
      '{"time":"not a time","msg":"x"}',
      '{"time":"2026-01-02T03:04:07Z","msg":"cut short by a crash',
      '2026-01-02T03:04:08.000000001Z {"time":"2026-01-02T03:04:09Z","msg":"docker and its own"}',
      "2026-01-02T03:04:10Z plain text under Docker",
      "[avsctl] 2026-01-02T03:04:11.000Z starting aggregator: node ...",
      "Traceback (most recent call last):",
      "",
    ];
    for (const line of lines) {
      for (const inherited of [undefined, earlier]) {
        expect(timeOfLine("c", line, inherited), line).toBe(parseLogLine("c", line, inherited).timeMs);
      }
    }
  });
});

describe("trace steps from node log lines", () => {
  const step = (fields: Record<string, unknown>, component = "aggregator") =>
    stepOf(
      parseLogLine(
        component,
        JSON.stringify({ time: "2026-01-02T03:04:05.000Z", level: "info", taskHash: HASH, ...fields }),
        undefined,
      ).entry,
    );

  it("names each step of a task's life", () => {
    expect(step({ msg: "task accepted", taskDefinitionId: 1 })?.step).toBe("received");
    expect(step({ msg: "validation call", service: "http://v" }, "attester-1")?.step).toBe("validation-call");
    expect(step({ msg: "validation answer", result: false }, "attester-1")).toMatchObject({
      step: "validation-answer",
      result: false,
    });
    expect(step({ msg: "voted reject" }, "attester-1")).toMatchObject({ step: "vote", isApproved: false });
    expect(step({ msg: "vote counted", attester: "4", verdict: "reject" })).toMatchObject({
      step: "vote-counted",
      attester: 4,
    });
    expect(
      step({ msg: "threshold reached; submitting", verdict: "reject", attestersIds: [4] }),
    ).toMatchObject({ step: "threshold", attestersIds: [4] });
    expect(step({ msg: "task rejected on-chain", txHash: "0x1" })).toMatchObject({
      step: "submission",
      txHash: "0x1",
    });
    expect(
      step({ msg: "task submission failed", error: "submitTask reverted: X", txHash: "0x2" }),
    ).toMatchObject({ step: "submission", error: "submitTask reverted: X" });
    expect(step({ msg: "task timed out: no threshold reached" })?.step).toBe("timeout");
    expect(step({ msg: "aggregator ready" })).toBeUndefined();
  });

  it("claims nothing mined from a submission line: the chain is asked, and a line without a transaction has none", () => {
    expect(step({ msg: "task approved on-chain", txHash: "0x1" })?.summary).not.toMatch(/mined|in block/);
    expect(step({ msg: "task approved on-chain" })).toMatchObject({
      txHash: null,
      summary: 'the aggregator logged "task approved on-chain" naming no transaction',
    });
    expect(step({ msg: "task submission failed", error: "could not sign the submission: x" })).toMatchObject({
      txHash: null,
      summary: "submission failed: could not sign the submission: x (no transaction sent)",
    });
  });
});
