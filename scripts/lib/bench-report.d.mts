// Types of bench-report.mjs for the TypeScript tests that import it.
export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  node: string;
  platform: string;
  loadavg: number[];
  /** speedProbe() at the start and the end of the run (ms, lower is faster). */
  speedProbeMs?: { start: number; end?: number };
}
export interface BenchReport {
  version: number;
  date: string;
  machine: MachineInfo;
  results: Record<string, unknown>;
  notes: string[];
}
export const REPORT_VERSION: number;
export function machineInfo(): MachineInfo;
export function speedProbe(): number;
export function lastBenchLine(output: string): Record<string, unknown> | undefined;
export function buildReport(input: {
  results: Record<string, unknown>;
  machine?: MachineInfo;
  date?: Date;
  notes?: string[];
}): BenchReport;
export function defaultReportPath(root: string, date?: Date): string;
export function flatten(value: unknown, prefix?: string): Array<[string, number]>;
export function toMarkdown(report: BenchReport, previous?: BenchReport): string;
export function writeReport(
  report: BenchReport,
  file: string,
  previous?: BenchReport,
): { json: string; markdown: string };
export function readReport(file: string): BenchReport;
