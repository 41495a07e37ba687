/** The store keys executions by task and trigger reason: a firing reported twice is one execution. */

import { afterEach, describe, expect, it } from "vitest";
import { firingKey, triggerDecision } from "../../../src/task-engine/lifecycle.js";
import { TaskStore } from "../../../src/task-engine/store.js";
import type { TriggerReason } from "../../../src/task-engine/types.js";
import { validateWorkflow } from "../../../src/workflow/index.js";
import { flow } from "./helpers.js";

const stores: TaskStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

async function storeWithTask(maxExecution = 0) {
  const store = new TaskStore(":memory:");
  stores.push(store);
  const workflow = (await validateWorkflow(flow({ maxExecution }))).workflow!;
  return { store, task: store.createTask({ owner: "0xowner", workflow, now: 1 }) };
}

describe("firing idempotency", () => {
  it("gives the same execution for the same reason, and new ones for other reasons and manual triggers", async () => {
    const { store, task } = await storeWithTask();
    const enqueue = (reason: TriggerReason) =>
      store.enqueue(task.id, 2, reason, null, (t) => triggerDecision(t, 2), firingKey(reason));
    const first = enqueue({ type: "block", blockNumber: 4 });
    const again = enqueue({ type: "block", blockNumber: 4 });
    expect(first.ok && again.ok).toBe(true);
    if (!first.ok || !again.ok) return;
    expect(again.execution.id).toBe(first.execution.id);
    expect(again.duplicate).toBe(true);
    const next = enqueue({ type: "block", blockNumber: 6 });
    expect(next.ok && next.execution.id !== first.execution.id).toBe(true);
    const m1 = enqueue({ type: "manual" });
    const m2 = enqueue({ type: "manual" });
    expect(m1.ok && m2.ok && m1.execution.id !== m2.execution.id).toBe(true);
    expect(store.getTask(task.id)!.triggered).toBe(4);
  });

  it("answers a repeat with its execution even once maxExecution is reached", async () => {
    const { store, task } = await storeWithTask(1);
    const reason: TriggerReason = { type: "cron", epoch: 1000 };
    const enqueue = (r: TriggerReason) =>
      store.enqueue(task.id, 2, r, null, (t) => triggerDecision(t, 2), firingKey(r));
    const first = enqueue(reason);
    expect(first.ok).toBe(true);
    const repeat = enqueue(reason);
    expect(repeat.ok && repeat.duplicate).toBe(true);
    const other = enqueue({ type: "cron", epoch: 2000 });
    expect(other.ok).toBe(false);
    if (!other.ok) expect(other.decision?.code).toBe("MAX_EXECUTION_REACHED");
  });
});
