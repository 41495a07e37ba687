/**
 * A task's life through the engine's API: triggers (blocking or not, with trigger data), the
 * execution record, maxExecution, startAt/expiredAt, cancel, delete, logs and metrics.
 */
import { describe, expect, it } from "vitest";
import { call, flow, until, useSession } from "./helpers.js";

const session = useSession();

const create = async (body: unknown) => {
  const r = await session.call("POST", "/workflows", body);
  expect(r.status, r.text).toBe(201);
  return r.body;
};
const trigger = (id: string, body: Record<string, unknown> = {}) =>
  session.call("POST", `/workflows/${id}:trigger`, body);

describe("triggers and executions", () => {
  it("a blocking trigger answers the recorded execution, run on the trigger data", async () => {
    const task = await create(flow());
    expect(task.status).toBe("active");
    expect(task.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    const r = await trigger(task.id, { isBlocking: true, triggerData: { n: 41 } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      workflowId: task.id,
      status: "success",
      index: 0,
      error: null,
      attempts: 1,
    });
    expect(r.body.executionId).toBe(r.body.id);
    expect(r.body.triggerReason).toEqual({ type: "manual" });
    expect(r.body.steps.map((s: { name: string }) => s.name)).toEqual(["trig", "c"]);
    expect(r.body.steps[1].output).toBe(42);
    expect(r.body.digest).toMatch(/^0x[0-9a-f]{64}$/);
    expect(r.body).toHaveProperty("taskNumber", null);
    expect(r.body).toHaveProperty("txHash", null);
    const got = await session.call("GET", `/workflows/${task.id}/executions/${r.body.id}`);
    expect(got.body.digest).toBe(r.body.digest);
    const status = await session.call("GET", `/workflows/${task.id}/executions/${r.body.id}/status`);
    expect(status.body).toMatchObject({ id: r.body.id, status: "success" });
    const after = await session.call("GET", `/workflows/${task.id}`);
    expect(after.body).toMatchObject({ status: "active", totalExecution: 1 });
    expect(after.body.lastRanAt).toBeGreaterThan(0);
  });

  it("a non-blocking trigger answers 202 with the execution id, recorded later", async () => {
    const task = await create(flow());
    const r = await trigger(task.id, {
      triggerData: { n: 1 },
      triggerReason: { type: "block", blockNumber: 12 },
    });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ status: "queued", workflowId: task.id });
    const done = await until(async () => {
      const e = await session.call("GET", `/workflows/${task.id}/executions/${r.body.executionId}`);
      return e.body.status === "success" && e.body;
    }, "the execution");
    expect(done.triggerReason).toEqual({ type: "block", blockNumber: 12 });
  });

  it("a failing step fails the execution, not the task", async () => {
    const task = await create(flow({}, "throw new Error('boom')"));
    const r = await trigger(task.id, { isBlocking: true });
    expect(r.body.status).toBe("failed");
    expect(r.body.error).toMatch(/boom/);
    expect((await session.call("GET", `/workflows/${task.id}`)).body.status).toBe("active");
  });

  it("maxExecution 3: Completed after 3 manual triggers, and a 4th is refused", async () => {
    const task = await create(flow({ maxExecution: 3 }));
    for (let i = 0; i < 3; i++)
      expect((await trigger(task.id, { isBlocking: true })).body.status).toBe("success");
    const after = await session.call("GET", `/workflows/${task.id}`);
    expect(after.body).toMatchObject({ status: "completed", totalExecution: 3, maxExecution: 3 });
    expect(after.body.completedAt).toBeGreaterThan(0);
    const fourth = await trigger(task.id, { isBlocking: true });
    expect([fourth.status, fourth.body.error.code]).toEqual([409, "MAX_EXECUTION_REACHED"]);
    expect((await session.call("GET", `/workflows/${task.id}/executions`)).body.items).toHaveLength(3);
  });

  it("startAt in the future refuses triggers; a past expiredAt is refused at create", async () => {
    const later = await create(flow({ startAt: Date.now() + 3_600_000 }));
    const r = await trigger(later.id);
    expect([r.status, r.body.error.code]).toEqual([409, "TASK_NOT_STARTED"]);
    const past = await session.call("POST", "/workflows", flow({ expiredAt: Date.now() - 1 }));
    expect(past.status).toBe(400);
    expect(past.body.error.details.errors).toContainEqual(expect.objectContaining({ path: "expiredAt" }));
  });

  it("a task whose expiredAt passes is completed and refuses triggers", async () => {
    const task = await create(flow({ expiredAt: Date.now() + 300 }));
    const completed = await until(async () => {
      const t = await session.call("GET", `/workflows/${task.id}`);
      return t.body.status === "completed" && t.body;
    }, "the task to expire");
    expect(completed.totalExecution).toBe(0);
    const r = await trigger(task.id);
    expect([r.status, r.body.error.code]).toEqual([409, "TASK_NOT_ACTIVE"]);
  });
});

describe("cancel and delete", () => {
  it("cancel stops future executions", async () => {
    const task = await create(flow());
    await trigger(task.id, { isBlocking: true });
    const canceled = await session.call("POST", `/workflows/${task.id}:cancel`);
    expect(canceled.body).toMatchObject({ status: "canceled", totalExecution: 1 });
    const r = await trigger(task.id, { isBlocking: true });
    expect([r.status, r.body.error.code]).toEqual([409, "TASK_NOT_ACTIVE"]);
    expect((await session.call("GET", `/workflows/${task.id}/executions`)).body.items).toHaveLength(1);
    expect((await session.call("GET", `/workflows/${task.id}`)).body.status).toBe("canceled");
  });

  it("delete removes the task and its executions", async () => {
    const task = await create(flow());
    const run = await trigger(task.id, { isBlocking: true });
    const r = await session.call("DELETE", `/workflows/${task.id}`);
    expect(r.body).toEqual({ id: task.id, deleted: true });
    expect((await session.call("GET", `/workflows/${task.id}`)).status).toBe(404);
    expect((await session.call("GET", `/workflows/${task.id}/executions`)).status).toBe(404);
    expect((await session.call("GET", `/workflows/${task.id}/executions/${run.body.id}`)).status).toBe(404);
    expect((await trigger(task.id)).status).toBe(404);
    const all = await session.call("GET", "/workflows?limit=200");
    expect(all.body.items.map((t: { id: string }) => t.id)).not.toContain(task.id);
  });
});

describe("observability", () => {
  it("log lines of an execution carry its task id and execution id", async () => {
    const task = await create(flow());
    const r = await trigger(task.id, { isBlocking: true });
    const lines = session.harness.logs.map((l) => JSON.parse(l));
    const recorded = lines.find((l) => l.msg === "execution recorded" && l.executionId === r.body.id);
    expect(recorded).toMatchObject({ taskId: task.id, status: "success", level: "info" });
    const request = lines.find((l) => l.msg === "request" && l.executionId === r.body.id);
    expect(request).toMatchObject({ taskId: task.id, status: 200 });
  });

  it("/metrics shows executions by status, the queue depth and step latency", async () => {
    const r = await call(session.url, "GET", "/metrics");
    expect(r.status).toBe(200);
    expect(r.text).toMatch(/^avsctl_engine_executions_total\{status="success"\} [1-9]\d*$/m);
    expect(r.text).toMatch(/^avsctl_engine_executions_total\{status="failed"\} [1-9]\d*$/m);
    expect(r.text).toMatch(/^avsctl_engine_queue_depth \d+$/m);
    expect(r.text).toMatch(/^avsctl_engine_step_duration_seconds_count [1-9]\d*$/m);
  });
});
