/** One task in full (`#/task/<hash>`): every field, validation answers and signatures. */
import { h, time } from "../dom.js";
import { sameHash, state } from "../state.js";
import { kv, section, verdictOf } from "./common.js";

export function taskPage(hash: string): HTMLElement {
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
