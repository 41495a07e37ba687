/** Chains with their contracts, operators with power and health, and component health. */
import { ether, h, short } from "../dom.js";
import type { Operator, Snapshot } from "../types.js";
import { section } from "./common.js";

export function topology(snap: Snapshot): HTMLElement {
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
