/** Workflows with their executions and each execution's steps. */
import { h, short } from "../dom.js";
import type { Snapshot } from "../types.js";
import { section } from "./common.js";

export function workflows(snap: Snapshot): HTMLElement {
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
