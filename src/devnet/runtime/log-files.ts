import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeSync,
} from "node:fs";
import { type FileHandle, open, stat } from "node:fs/promises";
import path from "node:path";
import { sleep } from "../../util/sleep.js";
import { splitLines } from "./lines.js";

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
  const logs = readdirSync(dir).filter((f) => f.endsWith(".log") || f.endsWith(`.log${ROTATED_SUFFIX}`));
  if (logs.length === 0) return [];
  const previous = path.join(dir, "previous");
  rmSync(previous, { recursive: true, force: true });
  mkdirSync(previous, { recursive: true });
  for (const f of logs) renameSync(path.join(dir, f), path.join(previous, f));
  return logs;
}

/**
 * A component's log past this size moves to `<name>.log.1`, replacing the one there, so each
 * component keeps at most twice this on disk (a devnet under load logs about 5 KB a task).
 */
export const LOG_ROTATE_BYTES = 32 * 1024 * 1024;
const ROTATED_SUFFIX = ".1";

/** Where `capLogFile` moves a log's older lines. */
export function rotatedLogOf(file: string): string {
  return `${file}${ROTATED_SUFFIX}`;
}

/**
 * Moves a log over `maxBytes` to `rotatedLogOf(file)` and empties it: copied, then truncated,
 * as the component keeps its descriptor (opened for appending, so it writes on at the new
 * start). What it appends while the copy runs is copied after; a line written between that and
 * the truncation, microseconds, is lost. Readers (`logHistory`, `followFile`) read across the
 * cut. Returns whether it rotated.
 */
export function capLogFile(file: string, maxBytes = LOG_ROTATE_BYTES): boolean {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return false;
  }
  if (size <= maxBytes) return false;
  const aside = `${rotatedLogOf(file)}.tmp`;
  copyFileSync(file, aside);
  const copied = statSync(aside).size;
  const now = statSync(file).size;
  if (now > copied) {
    const tail = Buffer.alloc(now - copied);
    const from = openSync(file, "r");
    const to = openSync(aside, "a");
    try {
      const read = readSync(from, tail, 0, tail.length, copied);
      writeSync(to, tail, 0, read);
    } finally {
      closeSync(from);
      closeSync(to);
    }
  }
  truncateSync(file, 0);
  renameSync(aside, rotatedLogOf(file));
  return true;
}

/**
 * A component's log history, oldest first: its rotated part, then the file up to `toOffset`;
 * all of it (`lines` 0) or the last `lines` lines across both.
 */
export async function* logHistory(file: string, lines: number, toOffset?: number): AsyncGenerator<string> {
  if (lines === 0) {
    yield* fileLines(rotatedLogOf(file), 0);
    yield* fileLines(file, 0, 0, toOffset);
    return;
  }
  const recent = await tailFile(file, lines, 0, toOffset);
  if (recent.length < lines) yield* fileLines(rotatedLogOf(file), lines - recent.length);
  yield* recent;
}

const FOLLOW_POLL_MS = 200;
const READ_CHUNK_BYTES = 1 << 20;

/**
 * The lines of the bytes `[fromOffset, toOffset)` of a file: all of them (`lines` 0) or the last
 * `lines`, read a chunk at a time, so a log of any size is read whole and never held whole.
 * Nothing when the file does not exist.
 */
export async function* fileLines(
  file: string,
  lines: number,
  fromOffset = 0,
  toOffset?: number,
): AsyncGenerator<string> {
  let handle: FileHandle;
  try {
    handle = await open(file, "r");
  } catch {
    return;
  }
  try {
    const to = toOffset ?? (await handle.stat()).size;
    const from = lines > 0 ? await startOfLastLines(handle, lines, fromOffset, to) : fromOffset;
    yield* splitLines(chunksOf(handle, from, to));
  } finally {
    await handle.close();
  }
}

/** fileLines as an array, for the few last lines of a component that did not come up. */
export async function tailFile(
  file: string,
  lines: number,
  fromOffset = 0,
  toOffset?: number,
): Promise<string[]> {
  const out: string[] = [];
  for await (const line of fileLines(file, lines, fromOffset, toOffset)) out.push(line);
  return out;
}

/** Where the last `lines` lines of the bytes `[from, to)` begin, reading backwards. */
async function startOfLastLines(
  handle: FileHandle,
  lines: number,
  from: number,
  to: number,
): Promise<number> {
  const buffer = Buffer.alloc(Math.min(READ_CHUNK_BYTES, Math.max(0, to - from)));
  let newlines = 0;
  for (let end = to; end > from; ) {
    const start = Math.max(from, end - buffer.length);
    const { bytesRead } = await handle.read(buffer, 0, end - start, start);
    for (let i = bytesRead - 1; i >= 0; i--) {
      // each newline ends a line; the one that ends the very last line begins none
      if (buffer[i] === 0x0a && start + i !== to - 1 && ++newlines === lines) return start + i + 1;
    }
    end = start;
  }
  return from;
}

async function* chunksOf(handle: FileHandle, from: number, to: number): AsyncGenerator<Buffer> {
  for (let position = from; position < to; ) {
    const buffer = Buffer.alloc(Math.min(READ_CHUNK_BYTES, to - position));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    yield buffer.subarray(0, bytesRead);
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
        const length = Math.min(size - position, READ_CHUNK_BYTES);
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
