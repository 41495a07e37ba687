/** The task engine's Prometheus metrics, on the node's small registry (src/node/metrics.ts). */

import { Counter, Gauge, Histogram } from "../node/metrics.js";

export class EngineMetrics {
  readonly executions = new Counter(
    "avsctl_engine_executions_total",
    "executions recorded, by status (success, failed, error)",
  );
  readonly triggers = new Counter(
    "avsctl_engine_triggers_total",
    "triggers received, by outcome (queued or the refusal code)",
  );
  readonly stepLatency = new Histogram(
    "avsctl_engine_step_duration_seconds",
    "time of one workflow step (node) of a recorded execution",
    [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  );
  readonly executionLatency = new Histogram(
    "avsctl_engine_trigger_to_record_seconds",
    "from trigger accepted to execution recorded",
    [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  );
  readonly queueDepth: Gauge;
  readonly requests = new Counter("avsctl_engine_http_requests_total", "HTTP requests, by route and status");

  constructor(queueDepth: () => number) {
    this.queueDepth = new Gauge("avsctl_engine_queue_depth", "executions queued or running", queueDepth);
  }

  /** The Prometheus text exposition of every metric. */
  render(): string {
    const all = [
      this.executions,
      this.triggers,
      this.stepLatency,
      this.executionLatency,
      this.queueDepth,
      this.requests,
    ];
    return `${all.map((m) => m.render()).join("\n")}\n`;
  }
}
