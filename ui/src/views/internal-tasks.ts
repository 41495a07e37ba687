/** Internal tasks (rewards, slashing, …) the devnet has run, newest first. */
import { h, short, time } from "../dom.js";
import type { Snapshot } from "../types.js";
import { section } from "./common.js";

export function internalTasks(snap: Snapshot): HTMLElement {
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
