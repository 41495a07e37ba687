/** Task definitions as the chain holds them, including fields this page does not know yet. */
import { h } from "../dom.js";
import type { Snapshot } from "../types.js";
import { section } from "./common.js";

// what a task definition without an expiry stores as its blockExpiry
const MAX_UINT256 = (2n ** 256n - 1n).toString();

export function taskDefinitions(snap: Snapshot): HTMLElement {
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
