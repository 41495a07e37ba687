/**
 * The dashboard's shell: routing, the page frame and the DOM patching that keeps unchanged parts
 * alone. Each view lives in views/, the live feed in feed.ts and the shared state in state.ts.
 */
import "./style.css";
import { h } from "./dom.js";
import { connect, loadSnapshot } from "./feed.js";
import { getJson, sameHash, schedule, setRenderer, state } from "./state.js";
import type { Task } from "./types.js";
import { taskDefinitions } from "./views/definitions.js";
import { internalTasks } from "./views/internal-tasks.js";
import { charts } from "./views/metrics.js";
import { taskPage } from "./views/task-page.js";
import { tasksView } from "./views/tasks.js";
import { topology } from "./views/topology.js";
import { workflows } from "./views/workflows.js";

const app = document.getElementById("app")!;

function route(): { page: "home" } | { page: "task"; hash: string } {
  const m = /^#\/task\/(0x[0-9a-fA-F]+)$/.exec(location.hash);
  return m ? { page: "task", hash: m[1]! } : { page: "home" };
}

async function openTask(hash: string): Promise<void> {
  const known = state.snapshot?.tasks.find((t) => sameHash(t.taskHash, hash));
  state.detail = known ?? null;
  state.detailError = null;
  schedule();
  try {
    state.detail = await getJson<Task>(`tasks/${hash}`);
  } catch (e) {
    if (!state.detail) state.detailError = (e as Error).message;
  }
  schedule();
}

window.addEventListener("hashchange", () => {
  const r = route();
  if (r.page === "task") void openTask(r.hash);
  else schedule();
});

/** Draws the page for the current route from `state`; `schedule` runs it once per frame. */
function render(): void {
  app.setAttribute("data-connected", String(state.connected));
  const snap = state.snapshot;
  const r = route();
  const header = h(
    "header",
    {},
    h("a", { href: "#/", class: "brand" }, "avsctl devnet"),
    snap ? h("span", { "data-testid": "devnet-name" }, `${snap.devnet.name} · ${snap.devnet.runtime}`) : null,
    h(
      "span",
      { class: `badge ${state.connected ? "up" : "down"}`, "data-testid": "connection" },
      state.connected ? "live" : "disconnected",
    ),
  );
  const body: Node[] = [];
  if (state.error) body.push(h("p", { class: "error", "data-testid": "error" }, state.error));
  if (!snap) body.push(h("p", {}, "Loading…"));
  else if (r.page === "task") body.push(taskPage(r.hash));
  else
    body.push(
      topology(snap),
      charts(snap),
      tasksView(snap),
      taskDefinitions(snap),
      internalTasks(snap),
      workflows(snap),
    );
  patch(app, [header, h("main", {}, body)]);
}

/**
 * Puts `next` in `parent`, keeping every child that did not change: a metrics tick redraws the
 * charts and leaves the task list (an open select, a selection, a hovered link) alone.
 */
function patch(parent: Element, next: Node[]): void {
  const old = [...parent.childNodes];
  if (old.length !== next.length) {
    parent.replaceChildren(...next);
    return;
  }
  next.forEach((node, i) => {
    const current = old[i]!;
    if (current.isEqualNode(node)) return;
    if (
      current instanceof Element &&
      node instanceof Element &&
      current.tagName === node.tagName &&
      current.tagName === "MAIN"
    )
      patch(current, [...node.childNodes]);
    else current.replaceWith(node);
  });
}

// Registered before anything can schedule a render, so no event's redraw is dropped.
setRenderer(render);
render();
void loadSnapshot().then(() => {
  const r = route();
  if (r.page === "task") void openTask(r.hash);
});
connect();
