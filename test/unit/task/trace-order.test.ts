/**
 * The order of `task trace`'s events when some are timed by a block (whole seconds) and others
 * by log lines (milliseconds): as after a `devnet down` + `up`, whose trace has the intake from
 * the aggregator's journal and the submission and verdict from the chain.
 */
import { describe, expect, it } from "vitest";
import { oneStepPerTransaction, sortEvents, type TraceEvent } from "../../../src/task/trace.js";

const event = (step: TraceEvent["step"], time: string | null, component: string): TraceEvent => ({
  step,
  time,
  component,
  summary: step,
});

describe("task trace event order", () => {
  it("a block-timed step sorts after the log steps of its second, and keeps its block time", () => {
    const submission = event("submission", "2026-01-01T15:53:38.000Z", "chain");
    const verdict = event("verdict", "2026-01-01T15:53:38.000Z", "chain");
    const received = event("received", "2026-01-01T15:53:38.909Z", "aggregator");
    const late = event("vote", "2026-01-01T15:53:39.004Z", "attester-3");
    const events = sortEvents([submission, verdict, late, received], new Set([submission, verdict]));
    expect(events.map((e) => e.step)).toEqual(["received", "submission", "verdict", "vote"]);
    expect(submission.time).toBe("2026-01-01T15:53:38.000Z");
    expect(verdict.time).toBe("2026-01-01T15:53:38.000Z");
  });

  it("log-timed steps sort by time, then by the order of a task's life; untimed steps last", () => {
    const at = "2026-01-01T15:53:38.500Z";
    const events = sortEvents(
      [
        event("verdict", null, "chain"),
        event("submission", at, "aggregator"),
        event("threshold", at, "aggregator"),
        event("received", "2026-01-01T15:53:38.100Z", "aggregator"),
      ],
      new Set(),
    );
    expect(events.map((e) => e.step)).toEqual(["received", "threshold", "submission", "verdict"]);
  });

  it("a transaction logged again (sent again as it was after its chain lost it) is one step, at its latest line", () => {
    const tx = (time: string, txHash: string): TraceEvent => ({
      ...event("submission", time, "aggregator"),
      txHash,
    });
    const first = tx("2026-01-01T15:53:38.100Z", "0xAA");
    const other = tx("2026-01-01T15:53:39.000Z", "0xbb");
    const again = tx("2026-01-01T15:53:41.250Z", "0xaa");
    const events = [event("threshold", "2026-01-01T15:53:38.000Z", "aggregator"), first, other, again];
    const sent = oneStepPerTransaction(events);
    expect([...sent.keys()]).toEqual(["0xaa", "0xbb"]);
    expect(events).toEqual([events[0], first, other]);
    expect(first.time).toBe("2026-01-01T15:53:41.250Z");
    expect(sortEvents(events, new Set()).map((e) => e.txHash ?? e.step)).toEqual([
      "threshold",
      "0xbb",
      "0xAA",
    ]);
  });
});
