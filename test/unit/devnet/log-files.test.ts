/**
 * Reading a process-runtime log file: whole or its last lines, across the 1 MB chunks it is read
 * in. A log bigger than one chunk was cut to its last megabyte, so `task trace` missed the steps
 * of any task older than that without saying so.
 */
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  capLogFile,
  fileLines,
  logHistory,
  rotatedLogOf,
  rotateLogs,
  tailFile,
} from "../../../src/devnet/runtime/log-files.js";

const dir = mkdtempSync(path.join(tmpdir(), "avsctl-log-files-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 30,000 numbered lines of 100 bytes: 3 MB, three chunks. */
const LINES = Array.from(
  { length: 30_000 },
  (_, i) => `line ${String(i).padStart(6, "0")} ${"x".repeat(87)}`,
);
const big = path.join(dir, "big.log");
writeFileSync(big, `${LINES.join("\n")}\n`);

async function collect(gen: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of gen) out.push(line);
  return out;
}

describe("log files", () => {
  it("reads every line of a log bigger than a chunk", async () => {
    expect(await collect(fileLines(big, 0))).toEqual(LINES);
  });

  it("reads the last lines across chunks, from where they begin", async () => {
    expect(await tailFile(big, 20_000)).toEqual(LINES.slice(-20_000));
    expect(await tailFile(big, 1)).toEqual([LINES.at(-1)]);
    expect(await tailFile(big, 50_000)).toEqual(LINES);
  });

  it("keeps to the bytes it is given: a run's offset, and a size taken before", async () => {
    const from = 100 * 29_990;
    expect(await tailFile(big, 0, from)).toEqual(LINES.slice(29_990));
    expect(await tailFile(big, 5, from, from + 100 * 3)).toEqual(LINES.slice(29_990, 29_993));
  });

  it("reads a last line without newline, CRLF endings and empty lines; nothing for a missing file", async () => {
    const odd = path.join(dir, "odd.log");
    writeFileSync(odd, "first\r\n\r\nthird\nunterminated");
    expect(await tailFile(odd, 0)).toEqual(["first", "", "third", "unterminated"]);
    expect(await tailFile(odd, 2)).toEqual(["third", "unterminated"]);
    expect(await tailFile(path.join(dir, "missing.log"), 0)).toEqual([]);
  });

  it("caps a log: its lines move aside, the file starts empty, and history reads across the cut", async () => {
    const file = path.join(dir, "capped.log");
    const first = LINES.slice(0, 100);
    writeFileSync(file, `${first.join("\n")}\n`);
    expect(capLogFile(file, 1 << 20)).toBe(false);
    expect(capLogFile(file, 5_000)).toBe(true);
    expect(readFileSync(file, "utf8")).toBe("");
    expect(readFileSync(rotatedLogOf(file), "utf8")).toBe(`${first.join("\n")}\n`);

    const next = LINES.slice(100, 130);
    appendFileSync(file, `${next.join("\n")}\n`);
    expect(await collect(logHistory(file, 0))).toEqual([...first, ...next]);
    expect(await collect(logHistory(file, 10))).toEqual(next.slice(-10));
    expect(await collect(logHistory(file, 50))).toEqual([...first.slice(-20), ...next]);
    expect(await collect(logHistory(file, 1000))).toEqual([...first, ...next]);

    // a second cut replaces the first one's part: at most twice the cap on disk
    writeFileSync(file, `${LINES.slice(200, 300).join("\n")}\n`);
    expect(capLogFile(file, 5_000)).toBe(true);
    expect(await collect(logHistory(file, 0))).toEqual(LINES.slice(200, 300));
    expect(capLogFile(path.join(dir, "missing.log"), 1)).toBe(false);
  });

  it("moves a devnet's rotated parts to previous/ with its logs", () => {
    const project = mkdtempSync(path.join(dir, "project-"));
    const logs = path.join(project, ".avsctl", "logs");
    mkdirSync(logs, { recursive: true });
    writeFileSync(path.join(logs, "aggregator.log"), "new\n");
    writeFileSync(path.join(logs, "aggregator.log.1"), "old\n");
    expect(rotateLogs(project).sort()).toEqual(["aggregator.log", "aggregator.log.1"]);
    expect(existsSync(path.join(logs, "aggregator.log.1"))).toBe(false);
    expect(readFileSync(path.join(logs, "previous", "aggregator.log.1"), "utf8")).toBe("old\n");
  });
});
