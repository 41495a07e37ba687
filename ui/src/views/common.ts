/** Building blocks more than one view uses. */
import { h } from "../dom.js";
import type { Task } from "../types.js";

export function section(testid: string, title: string, ...children: (Node | null)[]): HTMLElement {
  return h("section", { "data-testid": testid }, h("h2", {}, title), children);
}

export const verdictOf = (t: Task) => t.verdict ?? "pending";

export function kv(rows: [string, Node | string | number | null | undefined][]): HTMLElement {
  return h(
    "table",
    { class: "kv" },
    rows.map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", { class: "mono wrap" }, v ?? "—"))),
  );
}
