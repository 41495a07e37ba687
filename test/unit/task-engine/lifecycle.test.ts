import { describe, expect, it } from "vitest";
import {
  canTransition,
  checkCreate,
  isExpired,
  isFinal,
  statusAfterRecord,
  TRANSITIONS,
  triggerDecision,
} from "../../../src/task-engine/lifecycle.js";
import { TASK_STATUSES, type Task } from "../../../src/task-engine/types.js";

const NOW = 1_800_000_000_000;

function task(over: Partial<Task> = {}): Task {
  return {
    id: "01J0000000000000000000000A",
    owner: "0x0000000000000000000000000000000000000001",
    name: "t",
    workflow: {} as Task["workflow"],
    status: "active",
    startAt: 0,
    expiredAt: 0,
    maxExecution: 0,
    totalExecution: 0,
    triggered: 0,
    lastRanAt: null,
    createdAt: NOW - 1000,
    completedAt: null,
    ...over,
  };
}

const flow = (extra: Record<string, unknown> = {}) => ({
  name: "f",
  trigger: { id: "trigger", name: "trig", type: "manual", config: {} },
  nodes: [{ id: "a", name: "a", type: "customCode", config: { lang: "javascript", source: "return 1" } }],
  edges: [{ id: "e1", source: "trigger", target: "a" }],
  ...extra,
});

describe("task lifecycle", () => {
  it("the transition table: active and executing move on; completed, failed, canceled are final", () => {
    expect(TASK_STATUSES.filter(isFinal)).toEqual(["completed", "failed", "canceled"]);
    expect(canTransition("active", "executing")).toBe(true);
    expect(canTransition("executing", "active")).toBe(true);
    expect(canTransition("executing", "completed")).toBe(true);
    for (const final of ["completed", "failed", "canceled"] as const) {
      for (const to of TASK_STATUSES) expect(canTransition(final, to)).toBe(to === final);
    }
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...TASK_STATUSES].sort());
  });

  it("a trigger is refused before startAt, at or after expiredAt, past maxExecution, and on a final task", () => {
    expect(triggerDecision(task(), NOW)).toEqual({ ok: true });
    expect(triggerDecision(task({ startAt: NOW + 1 }), NOW)).toMatchObject({
      ok: false,
      code: "TASK_NOT_STARTED",
    });
    expect(triggerDecision(task({ startAt: NOW }), NOW)).toEqual({ ok: true });
    expect(triggerDecision(task({ expiredAt: NOW }), NOW)).toMatchObject({
      ok: false,
      code: "TASK_EXPIRED",
      expire: true,
    });
    expect(triggerDecision(task({ maxExecution: 3, triggered: 2 }), NOW)).toEqual({ ok: true });
    expect(triggerDecision(task({ maxExecution: 3, triggered: 3 }), NOW)).toMatchObject({
      code: "MAX_EXECUTION_REACHED",
    });
    expect(triggerDecision(task({ maxExecution: 3, triggered: 3, status: "completed" }), NOW)).toMatchObject({
      code: "MAX_EXECUTION_REACHED",
    });
    for (const status of ["completed", "failed", "canceled"] as const) {
      expect(triggerDecision(task({ status }), NOW)).toMatchObject({ ok: false, code: "TASK_NOT_ACTIVE" });
    }
    expect(triggerDecision(task({ status: "executing" }), NOW)).toEqual({ ok: true });
  });

  it("after a record: completed at maxExecution or expiry, failed on an error, else active or executing", () => {
    expect(statusAfterRecord(task({ status: "executing", totalExecution: 1 }), "success", 0, NOW)).toBe(
      "active",
    );
    expect(statusAfterRecord(task({ status: "executing", totalExecution: 1 }), "failed", 1, NOW)).toBe(
      "executing",
    );
    expect(
      statusAfterRecord(task({ status: "executing", maxExecution: 3, totalExecution: 3 }), "success", 0, NOW),
    ).toBe("completed");
    expect(statusAfterRecord(task({ status: "executing", expiredAt: NOW }), "success", 0, NOW)).toBe(
      "completed",
    );
    expect(statusAfterRecord(task({ status: "executing" }), "error", 0, NOW)).toBe("failed");
    expect(statusAfterRecord(task({ status: "canceled" }), "success", 0, NOW)).toBe("canceled");
    expect(isExpired(task({ expiredAt: NOW }), NOW)).toBe(true);
    expect(isExpired(task({ expiredAt: NOW, status: "canceled" }), NOW)).toBe(false);
  });
});

describe("create checks", () => {
  const refusal = async (body: unknown) => (await checkCreate(body, NOW)).errors.map((e) => [e.code, e.path]);

  it("accepts a valid workflow and returns it normalised", async () => {
    const checked = await checkCreate(flow({ maxExecution: 2 }), NOW);
    expect(checked.errors).toEqual([]);
    expect(checked.workflow).toMatchObject({ name: "f", maxExecution: 2 });
  });

  it("names the field path of each refusal", async () => {
    expect(await refusal(flow({ edges: [] }))).toContainEqual(["WF_INVALID_SHAPE", "edges"]);
    expect(await refusal(flow({ edges: undefined }))).toContainEqual(["WF_INVALID_SHAPE", "edges"]);
    expect(await refusal(flow({ trigger: undefined }))).toContainEqual(["WF_INVALID_SHAPE", "trigger"]);
    expect(await refusal(flow({ expiredAt: NOW - 1 }))).toContainEqual(["WF_INVALID_SCHEDULE", "expiredAt"]);
    expect(
      await refusal(
        flow({ nodes: [{ id: "a", name: "1st", type: "customCode", config: { source: "return 1" } }] }),
      ),
    ).toContainEqual(["WF_INVALID_NAME", "nodes[0].name"]);
    expect(await refusal(flow({ nodes: [{ id: "a", name: "a", type: "warp", config: {} }] }))).toContainEqual(
      ["WF_UNKNOWN_NODE_TYPE", "nodes[0].type"],
    );
    expect(await refusal("not an object")).toContainEqual(["WF_INVALID_SHAPE", ""]);
  });
});
