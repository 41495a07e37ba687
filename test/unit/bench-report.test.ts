/**
 * The bench report writer (scripts/lib/bench-report.mjs): the JSON file `npm run bench` leaves,
 * the markdown table beside it, and the before/after table of --compare.
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  buildReport,
  defaultReportPath,
  flatten,
  lastBenchLine,
  machineInfo,
  readReport,
  speedProbe,
  toMarkdown,
  writeReport,
} from "../../scripts/lib/bench-report.mjs";

const dir = mkdtempSync(path.join(os.tmpdir(), "avsctl-bench-report-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const machine = {
  cpus: 2,
  cpuModel: "test cpu",
  node: "v24.0.0",
  platform: "linux-x64",
  loadavg: [1.5, 1, 0.5],
};

const nodeFigures = (throughput: number, aggregatorMs: number) => ({
  bench: "node",
  load: { offered: 600, throughputPerSec: throughput, p99Ms: 420.5 },
  cpuMsPerTask: { aggregator: aggregatorMs, anvil: 3, total: aggregatorMs + 3 },
  machine,
});

describe("bench report", () => {
  it("finds the last JSON line a bench printed, skipping other output", () => {
    const output = [
      "idle RSS: aggregator 100 MB",
      '{"bench":"node","load":{"throughputPerSec":1}}',
      "targets: ...",
      '{"bench":"node","load":{"throughputPerSec":2}}',
      '{"bench":"node","load":', // cut short: ignored
      "",
    ].join("\n");
    expect(lastBenchLine(output)).toEqual({ bench: "node", load: { throughputPerSec: 2 } });
    expect(lastBenchLine("no figures here\n")).toBeUndefined();
  });

  it("flattens numeric figures to dotted paths, leaving out names, the machine and non-numbers", () => {
    expect(flatten(nodeFigures(90, 5))).toEqual([
      ["load.offered", 600],
      ["load.throughputPerSec", 90],
      ["load.p99Ms", 420.5],
      ["cpuMsPerTask.aggregator", 5],
      ["cpuMsPerTask.anvil", 3],
      ["cpuMsPerTask.total", 8],
    ]);
    expect(flatten({ runs: [1200, 1300], note: "x", missing: null, nan: Number.NaN })).toEqual([
      ["runs.0", 1200],
      ["runs.1", 1300],
    ]);
  });

  it("writes the JSON report with the machine's cores and Node version, and a markdown table beside it", () => {
    const date = new Date("2026-12-06T14:00:00.123Z");
    const report = buildReport({ results: { node: nodeFigures(90, 5) }, machine, date, notes: ["a note"] });
    const file = path.join(dir, "run-1.json");
    const paths = writeReport(report, file);
    expect(paths).toEqual({ json: file, markdown: path.join(dir, "run-1.md") });

    const back = readReport(file);
    expect(back).toEqual(JSON.parse(JSON.stringify(report)));
    expect(back.machine).toMatchObject({ cpus: 2, node: "v24.0.0" });
    expect(back.date).toBe("2026-12-06T14:00:00.123Z");

    const md = readFileSync(paths.markdown, "utf8");
    expect(md).toContain("2 cores (test cpu), Node v24.0.0");
    expect(md).toContain("note: a note");
    expect(md).toContain("| figure | value |");
    expect(md).toContain("| node: load.throughputPerSec | 90 |");
    expect(md).toContain("| node: cpuMsPerTask.aggregator | 5 |");
    expect(md).not.toContain("machine.");
  });

  it("compares with an earlier report: before, after and the change, also for figures only one has", () => {
    const before = buildReport({
      results: { node: nodeFigures(80, 8), startup: { bench: "startup", ratio: 1.5 } },
      machine,
    });
    const after = buildReport({ results: { node: nodeFigures(100, 4) }, machine });
    const md = toMarkdown(after, before);
    expect(md).toContain("| figure | before | after | change |");
    expect(md).toContain("| node: load.throughputPerSec | 80 | 100 | +25.0% |");
    expect(md).toContain("| node: cpuMsPerTask.aggregator | 8 | 4 | -50.0% |");
    expect(md).toContain("| startup: ratio | 1.50 | - |  |");
    expect(md).toContain(`compared with ${before.date}`);
  });

  it("puts the throughput rows side by side above the figures, an earlier report's row before each", () => {
    const row = (offered: number, onChain: number, refused?: number) => ({
      offeredPerSec: offered,
      throughputPerSec: onChain,
      p99Ms: 450,
      ...(refused === undefined ? {} : { refused }),
    });
    const before = buildReport({ results: { node: { bench: "node", load: row(110, 80) } }, machine });
    const after = buildReport({
      results: { node: { bench: "node", load: row(100, 99), overload: row(400, 190, 210) } },
      machine,
    });
    const md = toMarkdown(after, before);
    expect(md).toContain("| row | offered/s | on-chain/s |");
    expect(md).toContain("| node load (before) | 110 | 80 | - | - | 450 | - | - |");
    expect(md).toContain("| node load | 100 | 99 | - | - | 450 | - | - |");
    expect(md).toContain("| node overload | 400 | 190 | - | - | 450 | - | 210 |");
    expect(md.indexOf("| node overload |")).toBeLessThan(md.indexOf("| figure |"));
    expect(
      toMarkdown(buildReport({ results: { startup: { bench: "startup", ratio: 1 } }, machine })),
    ).not.toContain("| row |");
  });

  it("names reports by UTC time under bench-results/ and describes this machine", () => {
    const file = defaultReportPath("/repo", new Date("2026-12-06T14:05:09.500Z"));
    expect(file).toBe(path.join("/repo", "bench-results", "2026-12-06T14-05-09Z.json"));
    const m = machineInfo();
    expect(m.cpus).toBe(os.cpus().length);
    expect(m.node).toBe(process.version);
    expect(m.loadavg).toHaveLength(3);
  });

  it("times the speed probe and prints it beside the machine, for this report and the earlier one", () => {
    const ms = speedProbe();
    expect(ms).toBeGreaterThan(0);
    expect(Number.isFinite(ms)).toBe(true);
    const before = buildReport({
      results: {},
      machine: { ...machine, speedProbeMs: { start: 80, end: 95.5 } },
    });
    const after = buildReport({ results: {}, machine: { ...machine, speedProbeMs: { start: 120 } } });
    const md = toMarkdown(after, before);
    expect(md).toContain(
      "load average at start 1.5 / 1 / 0.5; speed probe 120 ms at the start (lower is faster)",
    );
    expect(md).toContain("; speed probe 80 ms at the start, 95.5 ms at the end (lower is faster)");
    expect(toMarkdown(buildReport({ results: {}, machine }))).not.toContain("speed probe");
  });

  it("refuses a file that is not a report", () => {
    const bad = path.join(dir, "bad.json");
    writeFileSync(bad, '{"hello":1}');
    expect(() => readReport(bad)).toThrow(/not a bench report/);
  });
});
