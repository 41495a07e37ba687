/**
 * The live feed: the initial snapshot over HTTP and the server-sent events that keep it current.
 * Every event edits `state.snapshot` in place and asks for one render.
 */
import { api, getJson, HISTORY, sameHash, schedule, sortTasks, state } from "./state.js";
import type {
  Component,
  InternalTask,
  Metrics,
  Operator,
  Snapshot,
  Task,
  Workflow,
  WorkflowExecution,
} from "./types.js";

export async function loadSnapshot(): Promise<void> {
  try {
    const snap = await getJson<Snapshot>("snapshot");
    snap.tasks = sortTasks(snap.tasks ?? []);
    state.snapshot = snap;
    state.error = null;
  } catch (e) {
    state.error = (e as Error).message;
  }
  schedule();
}

function upsertTask(task: Task): void {
  const snap = state.snapshot;
  if (!snap) return;
  const i = snap.tasks.findIndex((t) => sameHash(t.taskHash, task.taskHash));
  if (i >= 0) snap.tasks[i] = task;
  else snap.tasks.push(task);
  snap.tasks = sortTasks(snap.tasks);
  if (state.detail && sameHash(state.detail.taskHash, task.taskHash)) state.detail = task;
}

/** Parses an SSE payload; the server's events carry either the bare value or `{<key>: value}`. */
function payload<T>(ev: MessageEvent, key: string): T {
  const data = JSON.parse(ev.data);
  return data && typeof data === "object" && !Array.isArray(data) && key in data ? data[key] : data;
}

export function connect(): void {
  const es = new EventSource(api("events"));
  es.addEventListener("open", () => {
    state.connected = true;
    // a reconnect may have missed events: start again from a fresh snapshot
    void loadSnapshot();
  });
  es.addEventListener("error", () => {
    state.connected = false;
    schedule();
  });
  const on = (name: string, apply: (ev: MessageEvent) => void) =>
    es.addEventListener(name, (ev) => {
      if (!state.snapshot) return;
      try {
        apply(ev as MessageEvent);
      } catch (e) {
        console.warn(`bad ${name} event`, e);
      }
      schedule();
    });
  on("task", (ev) => upsertTask(payload<Task>(ev, "task")));
  on("components", (ev) => {
    state.snapshot!.components = payload<Component[]>(ev, "components");
  });
  on("operators", (ev) => {
    const data = JSON.parse(ev.data);
    if (Array.isArray(data)) state.snapshot!.operators = data as Operator[];
    else {
      if (data.operators) state.snapshot!.operators = data.operators;
      if ("performer" in data) state.snapshot!.performer = data.performer;
    }
  });
  on("internal-task", (ev) => {
    const snap = state.snapshot!;
    snap.internalTasks = [payload<InternalTask>(ev, "internalTask"), ...snap.internalTasks].slice(0, HISTORY);
  });
  on("metrics", (ev) => {
    const snap = state.snapshot!;
    const m = payload<Metrics>(ev, "metrics");
    const history = [...(snap.metrics?.history ?? []), m].slice(-HISTORY);
    snap.metrics = { ...m, history };
  });
  on("workflow", (ev) => {
    const snap = state.snapshot!;
    const { workflowId, execution } = JSON.parse(ev.data) as {
      workflowId: string;
      execution: WorkflowExecution;
    };
    let wf: Workflow | undefined = snap.workflows.find((w) => w.id === workflowId);
    if (!wf) {
      wf = { id: workflowId, name: workflowId, status: "", totalExecution: 0, executions: [] };
      snap.workflows.push(wf);
    }
    const i = wf.executions.findIndex((e) => e.id === execution.id);
    if (i >= 0) wf.executions[i] = execution;
    else {
      wf.executions.unshift(execution);
      wf.totalExecution += 1;
    }
  });
}
