/** The task list: one row per task showing how far it got, filterable by task definition. */
import { h, short, time } from "../dom.js";
import { schedule, state } from "../state.js";
import type { Snapshot, Task } from "../types.js";
import { section, verdictOf } from "./common.js";

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

export function tasksView(snap: Snapshot): HTMLElement {
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
