/**
 * A log wait whose component's output ends: the component exited, even when its runtime says so
 * a moment after the output ends (Docker closes the log stream before the container's state
 * says exited). The targets here are plain objects: what is tested is the wait's reasoning.
 */
import { describe, expect, it } from "vitest";
import { type WaitTarget, waitForReady } from "../../../src/devnet/runtime/wait.js";

/** A component that printed `lines` and stopped; its exit is reported from the `reportedAfter`-th look on. */
function endedTarget(lines: string[], reportedAfter: number): WaitTarget & { looks: () => number } {
  let looks = 0;
  return {
    component: "crash",
    host: "127.0.0.1",
    hostPort: (port) => port,
    async *logLines() {
      yield* lines;
    },
    exitReason: async () => (++looks >= reportedAfter ? "exited with code 3" : null),
    logTail: async () => lines,
    looks: () => looks,
  };
}

const waitForListening = { kind: "log", pattern: "^listening", timeoutMs: 10_000 } as const;

describe("waiting for a log line", () => {
  it("a component whose output ended is reported exited once its runtime says so, not timed out", async () => {
    const target = endedTarget(["boom before ready"], 3);
    const error = await waitForReady([waitForListening], target).catch((e) => e);
    expect(error).toMatchObject({ code: "DEVNET_START_FAILED", details: { logTail: ["boom before ready"] } });
    expect(error.message).toContain("exited with code 3");
    expect(target.looks()).toBeGreaterThanOrEqual(3);
  });

  it("output that ends while the component still runs is a timeout at the deadline", async () => {
    const target = endedTarget(["quiet"], Number.POSITIVE_INFINITY);
    const started = Date.now();
    const error = await waitForReady([{ ...waitForListening, timeoutMs: 700 }], target).catch((e) => e);
    expect(error).toMatchObject({ code: "TIMEOUT" });
    // it waited for the deadline, not just for the output's end
    expect(target.looks()).toBeGreaterThanOrEqual(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(650);
  });

  it("a matching line is ready", async () => {
    await expect(
      waitForReady([waitForListening], endedTarget(["listening on 8080"], Number.POSITIVE_INFINITY)),
    ).resolves.toBe(undefined);
  });
});
