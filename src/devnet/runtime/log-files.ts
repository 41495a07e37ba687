import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { open, stat } from "node:fs/promises";
import path from "node:path";
import { sleep } from "../../util/sleep.js";

/** Where the components that run as processes log: `<projectDir>/.avsctl/logs`. */
export function logDirOf(projectDir: string): string {
  return path.join(projectDir, ".avsctl", "logs");
}

/**
 * A new devnet's components start with empty logs, as containers do under Docker: the last
 * devnet's `*.log` move to `previous/` (replacing what was there). Appended to instead, they
 * showed a devnet whose chains are gone as this one's: `devnet ui` listed its tasks as approved
 * on a fresh chain, `devnet logs` and `task trace` mixed the two. Returns the files moved.
 */
export function rotateLogs(projectDir: string): string[] {
  const dir = logDirOf(projectDir);
  if (!existsSync(dir)) return [];
  const logs = readdirSync(dir).filter((f) => f.endsWith(".log"));
  if (logs.length === 0) return [];
  const previous = path.join(dir, "previous");
  rmSync(previous, { recursive: true, force: true });
  mkdirSync(previous, { recursive: true });
  for (const f of logs) renameSync(path.join(dir, f), path.join(previous, f));
  return logs;
}

const FOLLOW_POLL_MS = 200;
const TAIL_READ_BYTES = 1 << 20;

/**
 * The last `lines` lines (0: all) of the bytes `[fromOffset, toOffset)` of a file, reading at
 * most 1 MB from the end.
 */
export async function tailFile(
  file: string,
  lines: number,
  fromOffset = 0,
  toOffset?: number,
): Promise<string[]> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, "r");
  } catch {
    return [];
  }
  try {
    const size = toOffset ?? (await handle.stat()).size;
    const start = Math.max(fromOffset, size - TAIL_READ_BYTES);
    const length = Math.max(0, size - start);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, start);
    const all = buffer.toString("utf8").split("\n");
    if (all.at(-1) === "") all.pop();
    if (start > fromOffset && all.length > 0) all.shift();
    return lines > 0 ? all.slice(-lines) : all;
  } finally {
    await handle.close();
  }
}

/** Yield chunks appended to `file` from `offset` on, until `signal` aborts (polling, bounded read size). */
export async function* followFile(file: string, offset: number, signal: AbortSignal): AsyncGenerator<Buffer> {
  let position = offset;
  while (!signal.aborted) {
    const size = await stat(file).then(
      (info) => info.size,
      () => -1,
    );
    if (size >= 0 && size < position) position = 0; // truncated: start over
    if (size > position) {
      const handle = await open(file, "r");
      try {
        const length = Math.min(size - position, TAIL_READ_BYTES);
        const buffer = Buffer.alloc(length);
        const { bytesRead } = await handle.read(buffer, 0, length, position);
        position += bytesRead;
        if (bytesRead > 0) yield buffer.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
      continue;
    }
    await sleep(FOLLOW_POLL_MS, signal);
  }
}
