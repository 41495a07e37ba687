import http from "node:http";
import { type ListeningServer, listen, sendJson } from "./http.js";

/**
 * A tiny Prometheus registry (text exposition format 0.0.4): counters, gauges and one kind of
 * histogram, enough for the node's metrics without a dependency.
 */

type Labels = Record<string, string | number>;

function labelKey(labels: Labels | undefined): string {
  if (!labels) return "";
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return "";
  return `{${keys.map((k) => `${k}="${String(labels[k]).replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`))}"`).join(",")}}`;
}

interface Metric {
  render(): string;
}

export class Counter implements Metric {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels?: Labels, by = 1): void {
    const key = labelKey(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }
  get(labels?: Labels): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (this.values.size === 0) lines.push(`${this.name} 0`);
    for (const [k, v] of this.values) lines.push(`${this.name}${k} ${v}`);
    return lines.join("\n");
  }
}

export class Gauge implements Metric {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly collect?: () => number,
  ) {}
  set(value: number, labels?: Labels): void {
    this.values.set(labelKey(labels), value);
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`];
    if (this.collect) lines.push(`${this.name} ${this.collect()}`);
    for (const [k, v] of this.values) lines.push(`${this.name}${k} ${v}`);
    return lines.join("\n");
  }
}

export class Histogram implements Metric {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: number[],
  ) {
    this.counts = buckets.map(() => 0);
  }
  observe(value: number): void {
    this.sum += value;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) this.counts[i]!++;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    this.buckets.forEach((b, i) => {
      lines.push(`${this.name}_bucket{le="${b}"} ${this.counts[i]}`);
    });
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.count}`);
    lines.push(`${this.name}_sum ${this.sum}`);
    lines.push(`${this.name}_count ${this.count}`);
    return lines.join("\n");
  }
}

/** The node's metrics. Names are part of the node's surface: dashboards rely on them. */
export class NodeMetrics {
  readonly metrics: Metric[] = [];
  readonly tasksReceived = this.add(new Counter("avsctl_tasks_received_total", "sendTask requests accepted"));
  readonly tasksDuplicate = this.add(
    new Counter("avsctl_tasks_duplicate_total", "sendTask requests for a task already known"),
  );
  readonly tasksInvalid = this.add(
    new Counter("avsctl_tasks_invalid_total", "sendTask requests refused, by error code"),
  );
  readonly tasksApproved = this.add(
    new Counter("avsctl_tasks_approved_total", "tasks submitted as approved"),
  );
  readonly tasksRejected = this.add(
    new Counter("avsctl_tasks_rejected_total", "tasks submitted as rejected"),
  );
  readonly tasksTimedOut = this.add(
    new Counter("avsctl_tasks_timed_out_total", "tasks that reached no threshold in time"),
  );
  readonly tasksFailed = this.add(
    new Counter("avsctl_tasks_failed_total", "submissions that reverted or could not be sent"),
  );
  readonly votes = this.add(new Counter("avsctl_votes_total", "votes received, by attester and verdict"));
  readonly badVotes = this.add(
    new Counter("avsctl_votes_invalid_total", "votes whose BLS signature did not verify"),
  );
  readonly validations = this.add(
    new Counter("avsctl_validations_total", "validation service answers, by outcome"),
  );
  readonly rpcErrors = this.add(new Counter("avsctl_rpc_errors_total", "chain RPC errors, by operation"));
  readonly jsonRpcRequests = this.add(
    new Counter("avsctl_jsonrpc_requests_total", "JSON-RPC calls, by method and outcome"),
  );
  readonly latency = this.add(
    new Histogram(
      "avsctl_task_submission_latency_seconds",
      "sendTask accepted to submission transaction mined",
      [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    ),
  );
  readonly pendingTasks = this.add(new Gauge("avsctl_tasks_pending", "tasks accepted and not yet decided"));
  readonly peers = this.add(new Gauge("avsctl_peers_connected", "attesters connected to the aggregator"));
  readonly rss = this.add(
    new Gauge("avsctl_process_resident_memory_bytes", "resident memory", () => process.memoryUsage.rss()),
  );

  private add<T extends Metric>(m: T): T {
    this.metrics.push(m);
    return m;
  }

  /** The Prometheus text exposition of every metric. */
  render(): string {
    return `${this.metrics.map((m) => m.render()).join("\n")}\n`;
  }
}

/** GET /metrics (Prometheus text) and GET /health on their own port. */
export async function startMetricsServer(
  host: string,
  port: number,
  metrics: NodeMetrics,
  health: () => Record<string, unknown>,
): Promise<ListeningServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === "/metrics") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(metrics.render());
    } else if (req.method === "GET" && (path === "/health" || path === "/healthz")) {
      // 503 until the node takes part (an attester not yet joined to its aggregator), so a
      // readiness probe (devnet up, status, restart, Kubernetes) waits for the real thing.
      const body = health();
      sendJson(res, body.status === "ok" ? 200 : 503, body);
    } else sendJson(res, 404, { error: "not found" });
  });
  return listen(server, host, port);
}
