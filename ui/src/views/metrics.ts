/** Throughput, latency and gas charts over the metrics history the feed keeps. */
import { lineChart } from "../charts.js";
import { h } from "../dom.js";
import type { Metrics, Snapshot } from "../types.js";
import { section } from "./common.js";

export function charts(snap: Snapshot): HTMLElement {
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
