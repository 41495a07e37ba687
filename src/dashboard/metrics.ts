/**
 * The charts' numbers, computed from the tasks the feed has seen: tasks decided per second over
 * the last 10 s, latency percentiles and mean gas over the tasks decided in the last minute.
 * One point every 2 s, the last 10 minutes kept.
 */

import type { MetricsPoint, Task } from "./types.js";

export const METRICS_INTERVAL_MS = 2_000;
const HISTORY_POINTS = (10 * 60_000) / METRICS_INTERVAL_MS;
const RATE_WINDOW_MS = 10_000;
const LATENCY_WINDOW_MS = 60_000;

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function metricsPoint(decided: readonly Task[], now: number): MetricsPoint {
  const doneAt = (t: Task) => t.submission?.at ?? 0;
  const recent = decided.filter((t) => now - doneAt(t) <= RATE_WINDOW_MS);
  const window = decided.filter((t) => now - doneAt(t) <= LATENCY_WINDOW_MS);
  const latencies = window
    .map((t) => t.latencyMs)
    .filter((l): l is number => typeof l === "number")
    .sort((a, b) => a - b);
  const gas = window.map((t) => t.submission?.gasUsed).filter((g): g is string => typeof g === "string");
  const gasPerTask =
    gas.length === 0 ? null : (gas.reduce((sum, g) => sum + BigInt(g), 0n) / BigInt(gas.length)).toString();
  return {
    at: now,
    tasksPerSecond: recent.length / (RATE_WINDOW_MS / 1000),
    latencyMs: {
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
    },
    gasPerTask,
  };
}

export class MetricsHistory {
  private readonly points: MetricsPoint[] = [];

  push(point: MetricsPoint): void {
    this.points.push(point);
    if (this.points.length > HISTORY_POINTS) this.points.shift();
  }

  history(): MetricsPoint[] {
    return [...this.points];
  }
}
