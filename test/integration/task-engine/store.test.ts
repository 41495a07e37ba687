/**
 * The store on a real sqlite file: the queue's at-least-once delivery with an idempotent
 * record, cancel and delete, recovery after a crash, and secrets that leave only as configVars.
 */
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { triggerDecision } from "../../../src/task-engine/lifecycle.js";
import { type ExecutionResult, TaskStore } from "../../../src/task-engine/store.js";
import type { Workflow } from "../../../src/workflow/index.js";

const dir = mkdtempSync(path.join(tmpdir(), "avsctl-store-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const OWNER = "0x00000000000000000000000000000000000000A1";
const NOW = 1_800_000_000_000;
const workflow = (extra: Partial<Workflow> = {}): Workflow => ({
  name: "w",
  trigger: { id: "trigger", name: "trig", type: "manual", config: {} },
  nodes: [],
  edges: [],
  inputVariables: {},
  ...extra,
});
const result = (status: ExecutionResult["status"] = "success"): ExecutionResult => ({
  status,
  error: null,
  steps: [],
  startAt: NOW,
  endAt: NOW + 5,
  digest: `0x${"ab".repeat(32)}`,
});
const decide = (t: Parameters<typeof triggerDecision>[0]) => triggerDecision(t, NOW);
let n = 0;
const open = () => new TaskStore(path.join(dir, `s${n++}.sqlite`));

describe("task store", () => {
  it("a claimed execution is recorded once; a second delivery records nothing", () => {
    const store = open();
    const task = store.createTask({ owner: OWNER, workflow: workflow(), now: NOW });
    const q = store.enqueue(task.id, NOW, { type: "manual" }, { x: 1 }, decide);
    if (!q.ok) throw new Error("refused");
    expect(q.execution).toMatchObject({ status: "queued", index: 0, triggerData: { x: 1 } });
    expect(store.queueDepth()).toBe(1);
    const claimed = store.claim("w1", NOW, 60_000)!;
    expect(claimed.execution).toMatchObject({ id: q.execution.id, status: "running", attempts: 1 });
    expect(claimed.task.status).toBe("executing");
    expect(store.claim("w2", NOW + 1, 60_000)).toBeUndefined();
    // the lease ran out (its worker hung): another worker gets the same execution
    const again = store.claim("w2", NOW + 60_000, 60_000)!;
    expect(again.execution).toMatchObject({ id: q.execution.id, attempts: 2 });
    expect(store.record(q.execution.id, result(), NOW + 10)).toMatchObject({
      execution: { status: "success" },
      task: { status: "active", totalExecution: 1, lastRanAt: NOW + 5 },
    });
    expect(store.record(q.execution.id, result("failed"), NOW + 11)).toBeUndefined();
    expect(store.getExecution(q.execution.id)!.status).toBe("success");
    expect(store.getTask(task.id)!.totalExecution).toBe(1);
    expect(store.queueDepth()).toBe(0);
    store.close();
  });

  it("recover() gives back every lease and requeues running executions after a crash", () => {
    const file = path.join(dir, "crash.sqlite");
    const first = new TaskStore(file);
    const task = first.createTask({ owner: OWNER, workflow: workflow(), now: NOW });
    for (let i = 0; i < 3; i++) first.enqueue(task.id, NOW, { type: "manual" }, null, decide);
    const running = first.claim("w1", NOW, 600_000)!;
    first.close();
    const second = new TaskStore(file);
    expect(second.recover()).toBe(3);
    expect(second.getTask(task.id)!.status).toBe("active");
    const again = second.claim("w9", NOW + 1, 600_000)!;
    expect(again.execution).toMatchObject({ id: running.execution.id, attempts: 2 });
    second.close();
  });

  it("cancel drops queued executions; delete removes the task, its executions and scoped secrets", () => {
    const store = open();
    const task = store.createTask({ owner: OWNER, workflow: workflow(), now: NOW });
    const a = store.enqueue(task.id, NOW, { type: "manual" }, null, decide);
    const b = store.enqueue(task.id, NOW, { type: "manual" }, null, decide);
    if (!a.ok || !b.ok) throw new Error("refused");
    store.claim("w", NOW, 60_000);
    const canceled = store.cancelTask(task.id, NOW + 1)!;
    expect(canceled).toMatchObject({ status: "canceled", completedAt: NOW + 1 });
    expect(store.getExecution(b.execution.id)!.status).toBe("canceled");
    expect(store.queueDepth()).toBe(1);
    expect(store.enqueue(task.id, NOW, { type: "manual" }, null, decide)).toMatchObject({
      ok: false,
      decision: { code: "TASK_NOT_ACTIVE" },
    });
    // the running one finishes; the task stays canceled
    expect(store.record(a.execution.id, result(), NOW + 2)!.task.status).toBe("canceled");
    store.putSecret(OWNER, "scoped", "v", task.id, NOW, "create");
    store.putSecret(OWNER, "global", "g", null, NOW, "create");
    expect(store.deleteTask(task.id)).toBe(true);
    expect(store.getTask(task.id)).toBeUndefined();
    expect(store.getExecution(a.execution.id)).toBeUndefined();
    expect(store.listSecrets(OWNER).map((s) => s.name)).toEqual(["global"]);
    expect(store.deleteTask(task.id)).toBe(false);
    store.close();
  });

  it("maxExecution bounds the executions accepted; an expired task is completed", () => {
    const store = open();
    const capped = store.createTask({ owner: OWNER, workflow: workflow({ maxExecution: 2 }), now: NOW });
    expect(store.enqueue(capped.id, NOW, { type: "manual" }, null, decide).ok).toBe(true);
    expect(store.enqueue(capped.id, NOW, { type: "manual" }, null, decide).ok).toBe(true);
    expect(store.enqueue(capped.id, NOW, { type: "manual" }, null, decide)).toMatchObject({
      decision: { code: "MAX_EXECUTION_REACHED" },
    });
    const expiring = store.createTask({
      owner: OWNER,
      workflow: workflow({ expiredAt: NOW + 10 }),
      now: NOW,
    });
    expect(store.expireDue(NOW + 9)).toEqual([]);
    expect(store.expireDue(NOW + 10)).toEqual([expiring.id]);
    expect(store.getTask(expiring.id)!.status).toBe("completed");
    store.close();
  });

  it("secrets: names listed, values only as configVars (the owner's and the task's own)", () => {
    const store = open();
    const task = store.createTask({ owner: OWNER, workflow: workflow(), now: NOW });
    expect(store.putSecret(OWNER, "a", "1", null, NOW, "create")).toBe(true);
    expect(store.putSecret(OWNER, "a", "2", null, NOW, "create")).toBe(false);
    expect(store.putSecret(OWNER, "a", "3", null, NOW + 1, "update")).toBe(true);
    expect(store.putSecret(OWNER, "mine", "m", task.id, NOW, "create")).toBe(true);
    expect(store.putSecret(OWNER, "other", "o", "01J0000000000000000000000B", NOW, "create")).toBe(true);
    expect(store.listSecrets(OWNER)).toEqual([
      { name: "a", workflowId: null, createdAt: NOW, updatedAt: NOW + 1 },
      { name: "mine", workflowId: task.id, createdAt: NOW, updatedAt: NOW },
      { name: "other", workflowId: "01J0000000000000000000000B", createdAt: NOW, updatedAt: NOW },
    ]);
    expect(store.configVars(OWNER, task.id)).toEqual({ a: "3", mine: "m" });
    expect(store.configVars("0x00000000000000000000000000000000000000B2", task.id)).toEqual({});
    expect(store.deleteSecret(OWNER, "a")).toBe(true);
    expect(store.deleteSecret(OWNER, "a")).toBe(false);
    store.close();
  });

  it("the signing key is made once and kept", () => {
    const file = path.join(dir, "meta.sqlite");
    const a = new TaskStore(file);
    const key = a.meta("token-key", () => "k1");
    expect(a.meta("token-key", () => "k2")).toBe(key);
    a.close();
    const b = new TaskStore(file);
    expect(b.meta("token-key", () => "k3")).toBe("k1");
    b.close();
  });

  it("the file and its -wal and -shm, which hold secret values, are the owner's alone (0600)", () => {
    const mode = (f: string) => (statSync(f).mode & 0o777).toString(8);
    const file = path.join(dir, `modes-${n++}.sqlite`);
    const store = new TaskStore(file);
    store.putSecret(OWNER, "apiKey", "v", null, NOW, "create");
    const files = [file, `${file}-wal`, `${file}-shm`];
    expect(files.map(mode)).toEqual(["600", "600", "600"]);
    store.close();
    // a store made before, readable by all: opened again, it is the owner's alone
    const old = path.join(dir, `old-${n++}.sqlite`);
    new TaskStore(old).close();
    for (const f of [old, `${old}-wal`, `${old}-shm`]) {
      writeFileSync(f, "", { flag: "a" });
      chmodSync(f, 0o644);
    }
    const reopened = new TaskStore(old);
    expect([old, `${old}-wal`, `${old}-shm`].map(mode)).toEqual(["600", "600", "600"]);
    reopened.close();
  });
});
