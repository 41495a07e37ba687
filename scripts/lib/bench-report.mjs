// The figures of one `npm run bench` as a file: a JSON report (every bench's own JSON line, the
// machine's core count and Node version, the load when it ran) and a short markdown table
// beside it, optionally against an earlier report, so each change can be compared with the
// last. Figures only: nothing here judges them.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export const REPORT_VERSION = 1;

/** What the figures depend on besides the code: cores, CPU model, Node, the load at the start. */
export function machineInfo() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model?.trim() ?? "unknown",
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/**
 * Milliseconds that a fixed single-threaded workload takes, best of three: SHA3 over 16 MB and
 * 200,000 modular multiplications of 254-bit bigints, the kinds of work the nodes and anvil do.
 * Lower is faster. A shared virtual machine's speed moves by 20-40% within an hour, so figures
 * of two runs compare only beside their probes; nothing scales the figures by it.
 */
export function speedProbe() {
  const p = (1n << 254n) - 127n;
  const chunk = Buffer.alloc(1 << 20, 7);
  let best = Number.POSITIVE_INFINITY;
  for (let run = 0; run < 3; run++) {
    const start = performance.now();
    const hash = createHash("sha3-256");
    for (let i = 0; i < 16; i++) hash.update(chunk);
    hash.digest();
    let x = 0x1234567890abcdefn;
    for (let i = 0; i < 200_000; i++) x = (x * x + 3n) % p;
    if (x === 0n) throw new Error("unreachable: the probe's arithmetic went to zero");
    best = Math.min(best, performance.now() - start);
  }
  return Math.round(best * 10) / 10;
}

/** The last `{"bench": ...}` JSON line a bench printed, or undefined. */
export function lastBenchLine(output) {
  let found;
  for (const line of String(output).split("\n")) {
    const t = line.trim();
    if (!t.startsWith('{"bench"')) continue;
    try {
      found = JSON.parse(t);
    } catch {
      // a truncated line: keep the previous one
    }
  }
  return found;
}

/** A report of `results` ({name: the bench's JSON}) taken at `date` on `machine`. */
export function buildReport({ results, machine = machineInfo(), date = new Date(), notes = [] }) {
  return { version: REPORT_VERSION, date: date.toISOString(), machine, results, notes };
}

/** Default file name of a report: bench-results/<UTC date and time>.json under `root`. */
export function defaultReportPath(root, date = new Date()) {
  const stamp = date
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replace(/:/g, "-");
  return path.join(root, "bench-results", `${stamp}.json`);
}

/** Every numeric leaf of a bench's JSON as [dotted path, value], in document order. */
export function flatten(value, prefix = "") {
  const out = [];
  if (typeof value === "number") {
    if (Number.isFinite(value)) out.push([prefix, value]);
    return out;
  }
  if (value === null || typeof value !== "object") return out;
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  for (const [k, v] of entries) {
    // the bench's name, and the machine (shown above the table)
    if (k === "bench" || k === "machine") continue;
    out.push(...flatten(v, prefix ? `${prefix}.${k}` : k));
  }
  return out;
}

function fmt(v) {
  if (v === undefined) return "-";
  const a = Math.abs(v);
  if (a !== 0 && a < 0.01) return v.toExponential(2);
  return a >= 1000 || Number.isInteger(v) ? String(Math.round(v)) : v.toFixed(a >= 100 ? 1 : 2);
}

function change(before, after) {
  if (before === undefined || after === undefined) return "";
  if (before === 0) return after === 0 ? "0%" : "";
  const pct = ((after - before) / Math.abs(before)) * 100;
  return `${pct > 0 ? "+" : ""}${pct.toFixed(1)}%`;
}

/** Columns of the throughput rows' table: a bench's figures at one offered rate. */
const ROW_COLUMNS = [
  ["offered/s", "offeredPerSec"],
  ["on-chain/s", "throughputPerSec"],
  ["slowest/s", "slowestSlicePerSec"],
  ["p50 ms", "p50Ms"],
  ["p99 ms", "p99Ms"],
  ["accepted", "accepted"],
  ["refused", "refused"],
  ["refusal p99 ms", "refusalRttP99Ms"],
  ["refused on-chain", "refusedOnChain"],
  ["other cores", "otherCores"],
];

/** The throughput rows of a bench's figures: its objects with an offered rate and a throughput. */
function throughputRows(figures) {
  if (!figures || typeof figures !== "object") return [];
  return Object.entries(figures).filter(
    ([, v]) =>
      v &&
      typeof v === "object" &&
      typeof v.offeredPerSec === "number" &&
      typeof v.throughputPerSec === "number",
  );
}

/** The throughput rows side by side (each after its earlier figures when `previous` is given). */
function rowsTable(report, previous) {
  const lines = [];
  for (const [name, figures] of Object.entries(report.results ?? {})) {
    const rows = throughputRows(figures);
    if (rows.length === 0) continue;
    const before = new Map(throughputRows(previous?.results?.[name]));
    const header = ["row", ...ROW_COLUMNS.map(([h]) => h)];
    lines.push(`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`);
    const cells = (label, row) =>
      `| ${[label, ...ROW_COLUMNS.map(([, k]) => fmt(finite(row[k])))].join(" | ")} |`;
    for (const [row, f] of rows) {
      if (before.has(row)) lines.push(cells(`${name} ${row} (before)`, before.get(row)));
      lines.push(cells(`${name} ${row}`, f));
    }
    lines.push("");
  }
  return lines;
}

function finite(v) {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

function probeText(machine) {
  const probe = machine.speedProbeMs;
  if (!probe) return "";
  const end = probe.end === undefined ? "" : `, ${probe.end} ms at the end`;
  return `; speed probe ${probe.start} ms at the start${end} (lower is faster)`;
}

/**
 * A short markdown table of a report's figures (one row per numeric figure), with the earlier
 * report's figures and the relative change beside them when `previous` is given.
 */
export function toMarkdown(report, previous) {
  const m = report.machine ?? {};
  const lines = [
    `# Bench ${report.date}`,
    "",
    `${m.cpus} cores (${m.cpuModel}), Node ${m.node}, ${m.platform}, load average at start ${(m.loadavg ?? []).join(" / ")}${probeText(m)}`,
  ];
  if (previous) {
    const p = previous.machine ?? {};
    lines.push(
      `compared with ${previous.date}: ${p.cpus} cores, Node ${p.node}, load average ${(p.loadavg ?? []).join(" / ")}${probeText(p)}`,
    );
  }
  for (const note of report.notes ?? []) lines.push(`note: ${note}`);
  lines.push("");
  lines.push(...rowsTable(report, previous));
  const header = previous ? ["figure", "before", "after", "change"] : ["figure", "value"];
  const rows = [];
  const names = new Set([
    ...Object.keys(report.results ?? {}),
    ...(previous ? Object.keys(previous.results ?? {}) : []),
  ]);
  for (const name of names) {
    const now = new Map(flatten(report.results?.[name]));
    const then = previous ? new Map(flatten(previous.results?.[name])) : new Map();
    const keys = [...now.keys(), ...[...then.keys()].filter((k) => !now.has(k))];
    for (const k of keys) {
      const label = `${name}: ${k}`;
      rows.push(
        previous
          ? [label, fmt(then.get(k)), fmt(now.get(k)), change(then.get(k), now.get(k))]
          : [label, fmt(now.get(k))],
      );
    }
  }
  lines.push(`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`);
  for (const r of rows) lines.push(`| ${r.join(" | ")} |`);
  return `${lines.join("\n")}\n`;
}

/** Writes `report` to `file` (JSON) and its table next to it (same name, .md); returns both paths. */
export function writeReport(report, file, previous) {
  mkdirSync(path.dirname(file), { recursive: true });
  const md = file.replace(/\.json$/i, "") + ".md";
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(md, toMarkdown(report, previous));
  return { json: file, markdown: md };
}

/** A report written earlier (for --compare). */
export function readReport(file) {
  const report = JSON.parse(readFileSync(file, "utf8"));
  if (!report || typeof report !== "object" || typeof report.results !== "object")
    throw new Error(`${file} is not a bench report`);
  return report;
}
