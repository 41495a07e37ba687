import "./style.css";
import { lineChart } from "./charts.js";
import { ether, h, short, time } from "./dom.js";
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

const HISTORY = 300;
// what a task definition without an expiry stores as its blockExpiry
const MAX_UINT256 = (2n ** 256n - 1n).toString();

const state: {
  snapshot: Snapshot | null;
  connected: boolean;
  error: string | null;
  filter: string;
  detail: Task | null;
  detailError: string | null;
} = { snapshot: null, connected: false, error: null, filter: "all", detail: null, detailError: null };

const app = document.getElementById("app")!;

// Relative URLs: the page works wherever the CLI mounts it.
const api = (path: string) => new URL(`api/${path}`, document.baseURI).toString();

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(api(path), { headers: { accept: "application/json" } });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

async function loadSnapshot(): Promise<void> {
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

const sameHash = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const sortTasks = (tasks: Task[]) => [...tasks].sort((a, b) => (b.sentAt ?? 0) - (a.sentAt ?? 0));

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

function connect(): void {
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

let pending = false;
function schedule(): void {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    render();
  });
}

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

// ---------- views ----------

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

function section(testid: string, title: string, ...children: (Node | null)[]): HTMLElement {
  return h("section", { "data-testid": testid }, h("h2", {}, title), children);
}

function topology(snap: Snapshot): HTMLElement {
  const performer = snap.performer;
  const isPerformer = (o: Operator) =>
    !!performer &&
    (o.address.toLowerCase() === performer.address?.toLowerCase() || o.operatorId === performer.operatorId);
  const chains = h(
    "div",
    { class: "cards" },
    snap.chains.map((c) =>
      h(
        "div",
        { class: "card", "data-testid": "chain", "data-role": c.role, "data-chain-id": c.chainId },
        h("h3", {}, `${c.role.toUpperCase()} · chain ${c.chainId}`),
        h("div", { class: "muted" }, `${c.rpcUrl} · block ${c.blockNumber ?? "—"}`),
        h(
          "table",
          {},
          Object.entries(c.contracts ?? {}).map(([name, addr]) =>
            h(
              "tr",
              { "data-testid": "contract", "data-name": name },
              h("td", {}, name),
              h("td", { class: "mono" }, addr),
            ),
          ),
        ),
      ),
    ),
  );
  const operators = h(
    "table",
    { "data-testid": "operators" },
    h(
      "tr",
      {},
      ["operator", "role", "id", "address", "power L1", "power L2", "health", ""].map((t) => h("th", {}, t)),
    ),
    snap.operators.map((o) =>
      h(
        "tr",
        { "data-testid": "operator", "data-operator": o.name, "data-role": o.role },
        h("td", {}, o.name),
        h("td", {}, o.role),
        h("td", {}, o.operatorId ?? "—"),
        h("td", { class: "mono", title: o.address }, short(o.address)),
        h("td", { "data-testid": "voting-power-l1" }, ether(o.votingPowerL1)),
        h("td", { "data-testid": "voting-power-l2" }, ether(o.votingPowerL2)),
        h(
          "td",
          {},
          h(
            "span",
            {
              class: `badge ${o.health}`,
              "data-testid": "operator-health",
              "data-operator": o.name,
              "data-health": o.health,
            },
            o.health,
          ),
        ),
        h(
          "td",
          {},
          isPerformer(o)
            ? h("span", { class: "badge perf", "data-testid": "performer" }, "performs now")
            : null,
        ),
      ),
    ),
  );
  const components = h(
    "div",
    { class: "chips" },
    snap.components.map((c) =>
      h(
        "span",
        {
          class: `badge ${c.healthy ? "up" : "down"}`,
          title: c.detail ?? "",
          "data-testid": "component-health",
          "data-component": c.name,
          "data-healthy": String(c.healthy),
        },
        c.name,
      ),
    ),
  );
  return section(
    "topology",
    "Topology",
    chains,
    h("h3", {}, "Operators"),
    operators,
    h(
      "div",
      { class: "muted", "data-testid": "performer-now" },
      `performer: ${performer ? short(performer.address) : "—"}`,
    ),
    h("h3", {}, "Components"),
    components,
  );
}

function charts(snap: Snapshot): HTMLElement {
  const history = snap.metrics?.history ?? [];
  const pts = (f: (m: Metrics) => number | null) => history.map((m) => ({ x: m.at, y: f(m) }));
  const num = (v: string | null) => (v === null || v === undefined ? null : Number(v));
  return section(
    "charts",
    "Metrics",
    h(
      "div",
      { class: "cards" },
      lineChart("chart-tps", "Tasks per second", "/s", [
        { label: "tasks/s", color: "#4aa3ff", points: pts((m) => m.tasksPerSecond) },
      ]),
      lineChart("chart-latency", "Latency", " ms", [
        { label: "p50", color: "#4ade80", points: pts((m) => m.latencyMs?.p50 ?? null) },
        { label: "p95", color: "#facc15", points: pts((m) => m.latencyMs?.p95 ?? null) },
        { label: "p99", color: "#f87171", points: pts((m) => m.latencyMs?.p99 ?? null) },
      ]),
      lineChart("chart-gas", "Gas per task", "", [
        { label: "gas", color: "#c084fc", points: pts((m) => num(m.gasPerTask)) },
      ]),
    ),
  );
}

const verdictOf = (t: Task) => t.verdict ?? "pending";

function stage(name: string, done: boolean, ...content: (Node | string | null)[]): HTMLElement {
  return h("div", { class: `stage ${done ? "done" : ""}`, "data-stage": name }, h("b", {}, name), content);
}

function votesOf(t: Task): HTMLElement {
  return h(
    "div",
    { class: "votes" },
    t.votes.map((v) =>
      h(
        "span",
        {
          class: `vote ${v.verdict}`,
          title: v.reason ?? "",
          "data-testid": "task-vote",
          "data-attester": v.attester,
          "data-verdict": v.verdict,
        },
        `${v.attester}: ${v.verdict}${v.reason ? ` (${v.reason})` : ""}`,
      ),
    ),
  );
}

function tasksView(snap: Snapshot): HTMLElement {
  const select = h(
    "select",
    {
      "data-testid": "task-filter",
      onchange: (ev: Event) => {
        state.filter = (ev.target as HTMLSelectElement).value;
        schedule();
      },
    },
    h("option", { value: "all" }, "all task definitions"),
    snap.taskDefinitions.map((d) =>
      h("option", { value: String(d.taskDefinitionId) }, `${d.taskDefinitionId} · ${d.name}`),
    ),
  ) as HTMLSelectElement;
  select.value = state.filter;
  const shown = snap.tasks.filter(
    (t) => state.filter === "all" || String(t.taskDefinitionId) === state.filter,
  );
  const rows = shown.map((t) =>
    h(
      "div",
      {
        class: `task-row ${verdictOf(t)}`,
        "data-testid": "task-row",
        "data-task-hash": t.taskHash.toLowerCase(),
        "data-task-number": t.taskNumber ?? "",
        "data-task-definition": t.taskDefinitionId ?? "",
        "data-verdict": verdictOf(t),
      },
      h(
        "a",
        { href: `#/task/${t.taskHash}`, class: "mono", "data-testid": "task-link" },
        t.taskNumber !== undefined ? `#${t.taskNumber} ` : "",
        short(t.taskHash),
      ),
      stage("sent", true, time(t.sentAt), h("div", { class: "muted" }, `def ${t.taskDefinitionId ?? "—"}`)),
      stage("votes", t.votes.length > 0, votesOf(t)),
      stage("threshold", !!t.threshold, t.threshold ? `${t.threshold.verdict} ${time(t.threshold.at)}` : "—"),
      stage(
        "submitted",
        !!t.submission,
        t.submission
          ? h(
              "span",
              {},
              h(
                "span",
                { class: "mono", "data-testid": "task-tx", title: t.submission.txHash },
                short(t.submission.txHash),
              ),
              h("div", { class: "muted", "data-testid": "task-gas" }, `gas ${t.submission.gasUsed ?? "—"}`),
            )
          : "—",
      ),
      stage(
        "verdict",
        !!t.verdict,
        h("span", { class: `badge ${verdictOf(t)}`, "data-testid": "task-verdict" }, verdictOf(t)),
        h(
          "div",
          { class: "muted", "data-testid": "task-latency" },
          t.latencyMs !== undefined ? `${t.latencyMs} ms` : "",
        ),
        t.error ? h("div", { class: "error", "data-testid": "task-error" }, t.error) : null,
      ),
    ),
  );
  return section(
    "tasks",
    "Tasks",
    h(
      "div",
      { class: "toolbar" },
      select,
      h("span", { class: "muted" }, `${shown.length} of ${snap.tasks.length}`),
    ),
    h("div", { class: "task-list" }, rows.length ? rows : h("p", { class: "muted" }, "No tasks yet.")),
  );
}

function kv(rows: [string, Node | string | number | null | undefined][]): HTMLElement {
  return h(
    "table",
    { class: "kv" },
    rows.map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", { class: "mono wrap" }, v ?? "—"))),
  );
}

function taskPage(hash: string): HTMLElement {
  const t = state.detail && sameHash(state.detail.taskHash, hash) ? state.detail : null;
  if (!t) return section("task-page", "Task", h("p", { class: "muted" }, state.detailError ?? "Loading…"));
  const extra = Object.entries(t).filter(
    ([k]) =>
      ![
        "taskHash",
        "taskNumber",
        "taskDefinitionId",
        "proofOfTask",
        "data",
        "performer",
        "signatureType",
        "sentAt",
        "validations",
        "votes",
        "threshold",
        "submission",
        "verdict",
        "latencyMs",
        "error",
      ].includes(k),
  );
  return section(
    "task-page",
    `Task ${t.taskNumber ?? ""}`,
    h("a", { href: "#/" }, "← all tasks"),
    kv([
      ["hash", t.taskHash],
      [
        "verdict",
        h("span", { class: `badge ${verdictOf(t)}`, "data-testid": "task-page-verdict" }, verdictOf(t)),
      ],
      ["task definition", t.taskDefinitionId],
      ["proof of task", h("span", { "data-testid": "task-proof" }, t.proofOfTask)],
      ["data", h("span", { "data-testid": "task-data" }, t.data)],
      ["performer", t.performer],
      ["signature type", t.signatureType],
      ["sent", time(t.sentAt)],
      ["threshold", t.threshold ? `${t.threshold.verdict} at ${time(t.threshold.at)}` : null],
      ["tx", t.submission?.txHash],
      ["gas", t.submission?.gasUsed],
      ["latency", t.latencyMs !== undefined ? `${t.latencyMs} ms` : null],
      ["error", t.error],
      ...extra.map(([k, v]): [string, string] => [k, typeof v === "string" ? v : JSON.stringify(v)]),
    ]),
    h("h3", {}, "Validation answers"),
    h(
      "table",
      {},
      h(
        "tr",
        {},
        ["attester", "operator id", "answer", "reason", "at"].map((x) => h("th", {}, x)),
      ),
      t.validations.map((v) =>
        h(
          "tr",
          {
            "data-testid": "validation",
            "data-attester": v.attester,
            "data-answer": String(v.answer),
          },
          h("td", {}, v.attester),
          h("td", {}, v.operatorId ?? "—"),
          h("td", {}, v.answer === null ? "no answer" : String(v.answer)),
          h("td", {}, v.reason ?? ""),
          h("td", {}, time(v.at)),
        ),
      ),
    ),
    h("h3", {}, "Signatures (votes)"),
    h(
      "table",
      {},
      h(
        "tr",
        {},
        ["attester", "operator id", "verdict", "reason", "at"].map((x) => h("th", {}, x)),
      ),
      t.votes.map((v) =>
        h(
          "tr",
          { "data-testid": "signature", "data-attester": v.attester, "data-verdict": v.verdict },
          h("td", {}, v.attester),
          h("td", {}, v.operatorId ?? "—"),
          h("td", {}, h("span", { class: `vote ${v.verdict}` }, v.verdict)),
          h("td", {}, v.reason ?? ""),
          h("td", {}, time(v.at)),
        ),
      ),
    ),
  );
}

function taskDefinitions(snap: Snapshot): HTMLElement {
  const keys = [
    "taskDefinitionId",
    "name",
    "minimumVotingPower",
    "restrictedOperators",
    "maxAttesters",
    "blockExpiry",
  ];
  const extra = [...new Set(snap.taskDefinitions.flatMap((d) => Object.keys(d)))].filter(
    (k) => !keys.includes(k),
  );
  const field = (d: object, k: string) => (d as Record<string, unknown>)[k];
  const cell = (v: unknown) =>
    v === MAX_UINT256
      ? "never"
      : typeof v === "string" || typeof v === "number"
        ? String(v)
        : JSON.stringify(v);
  return section(
    "task-definitions",
    "Task definitions",
    h(
      "table",
      { class: "scroll" },
      h(
        "tr",
        {},
        [...keys, ...extra].map((k) => h("th", {}, k)),
      ),
      snap.taskDefinitions.map((d) =>
        h(
          "tr",
          { "data-testid": "task-definition", "data-task-definition": d.taskDefinitionId },
          [...keys, ...extra].map((k) => h("td", {}, cell(field(d, k)))),
        ),
      ),
    ),
  );
}

function internalTasks(snap: Snapshot): HTMLElement {
  return section(
    "internal-tasks",
    "Internal tasks",
    snap.internalTasks.length
      ? h(
          "table",
          {},
          h(
            "tr",
            {},
            ["at", "kind", "task", "tx", "detail"].map((k) => h("th", {}, k)),
          ),
          snap.internalTasks.map((t) =>
            h(
              "tr",
              { "data-testid": "internal-task", "data-kind": t.kind },
              h("td", {}, time(t.at)),
              h("td", {}, t.kind),
              h("td", {}, t.taskNumber ?? "—"),
              h("td", { class: "mono", title: t.txHash ?? "" }, short(t.txHash)),
              h("td", {}, t.detail),
            ),
          ),
        )
      : h("p", { class: "muted" }, "None yet."),
  );
}

function workflows(snap: Snapshot): HTMLElement {
  return section(
    "workflows",
    "Workflows",
    snap.workflows.length
      ? h(
          "div",
          {},
          snap.workflows.map((w) =>
            h(
              "div",
              { class: "card", "data-testid": "workflow", "data-workflow": w.id, "data-status": w.status },
              h(
                "h3",
                {},
                `${w.name} `,
                h("span", { class: "badge" }, w.status),
                ` · ${w.totalExecution} executions`,
              ),
              h(
                "table",
                {},
                h(
                  "tr",
                  {},
                  ["execution", "status", "task", "tx", "verdict", "steps"].map((k) => h("th", {}, k)),
                ),
                w.executions.map((e) =>
                  h(
                    "tr",
                    { "data-testid": "workflow-execution", "data-execution": e.id, "data-status": e.status },
                    h("td", { class: "mono" }, short(e.id, 4)),
                    h("td", {}, e.status),
                    h("td", {}, e.taskNumber ?? "—"),
                    h("td", { class: "mono" }, short(e.txHash)),
                    h("td", {}, e.verdict ?? "—"),
                    h(
                      "td",
                      {},
                      h(
                        "ol",
                        { class: "steps" },
                        e.steps.map((st) =>
                          h(
                            "li",
                            { class: st.success === null ? "" : st.success ? "ok" : "fail" },
                            `${st.name} ${st.success === null ? "…" : st.success ? "✓" : "✗"}`,
                          ),
                        ),
                      ),
                    ),
                  ),
                ),
              ),
            ),
          ),
        )
      : h("p", { class: "muted" }, "No workflows."),
  );
}

render();
void loadSnapshot().then(() => {
  const r = route();
  if (r.page === "task") void openTask(r.hash);
});
connect();
