/**
 * A minimal streaming tar (ustar + pax long names) writer: enough for Docker build contexts and
 * `docker import` root filesystems, without depending on a tar package avsctl does not declare.
 */
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";

export interface TarEntry {
  /** Path inside the archive, `/`-separated, no leading `/`. Directories without trailing `/`. */
  path: string;
  type: "file" | "dir" | "symlink";
  /** Permission bits (e.g. 0o755). */
  mode: number;
  /** File contents from the host... */
  source?: string;
  /** ...or in memory. */
  content?: Buffer;
  /** Byte size of `source` (checked while streaming, so a file changing under us fails loudly). */
  size?: number;
  linkname?: string;
  /** Owner (default root). */
  uid?: number;
  gid?: number;
  /** Seconds since the epoch; fixed by default so identical inputs give identical layers. */
  mtime?: number;
}

const BLOCK = 512;
const FIXED_MTIME = 946_684_800; // 2000-01-01: stable layer digests across rebuilds

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, "0") + "\0";
}

function header(name: string, entry: TarEntry, size: number, type: string, linkname = ""): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 100, "utf8");
  block.write(octal(entry.mode & 0o7777, 8), 100, "ascii");
  block.write(octal(entry.uid ?? 0, 8), 108, "ascii");
  block.write(octal(entry.gid ?? 0, 8), 116, "ascii");
  block.write(octal(size, 12), 124, "ascii");
  block.write(octal(entry.mtime ?? FIXED_MTIME, 12), 136, "ascii");
  block.write("        ", 148, "ascii");
  block.write(type, 156, "ascii");
  block.write(linkname, 157, 100, "utf8");
  block.write("ustar\u000000", 257, "ascii");
  block.write("root", 265, "ascii");
  block.write("root", 297, "ascii");
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(octal(sum, 7) + " ", 148, "ascii");
  return block;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLength = Buffer.byteLength(body);
  // The length prefix counts its own digits, which can push it to one more digit.
  let length = bodyLength + String(bodyLength).length;
  if (String(length).length > String(bodyLength).length) length += 1;
  return `${length}${body}`;
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return rest === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - rest);
}

async function* entryChunks(entry: TarEntry): AsyncGenerator<Buffer> {
  const name = entry.type === "dir" ? `${entry.path.replace(/\/$/, "")}/` : entry.path;
  const linkname = entry.linkname ?? "";
  const needsPax = Buffer.byteLength(name) > 100 || Buffer.byteLength(linkname) > 100;
  if (needsPax) {
    let records = paxRecord("path", name);
    if (Buffer.byteLength(linkname) > 100) records += paxRecord("linkpath", linkname);
    const body = Buffer.from(records, "utf8");
    yield header("PaxHeader", { ...entry, mode: 0o644 }, body.length, "x");
    yield body;
    yield padding(body.length);
  }
  const shortName = needsPax ? name.slice(-99) : name;
  const shortLink = needsPax ? linkname.slice(0, 99) : linkname;
  if (entry.type === "dir") {
    yield header(shortName, entry, 0, "5");
    return;
  }
  if (entry.type === "symlink") {
    yield header(shortName, entry, 0, "2", shortLink);
    return;
  }
  if (entry.content !== undefined) {
    yield header(shortName, entry, entry.content.length, "0");
    yield entry.content;
    yield padding(entry.content.length);
    return;
  }
  if (entry.source === undefined || entry.size === undefined) {
    throw new Error(`tar entry ${entry.path} has neither content nor source+size`);
  }
  yield header(shortName, entry, entry.size, "0");
  let written = 0;
  for await (const chunk of createReadStream(entry.source, {
    highWaterMark: 1 << 20,
  }) as AsyncIterable<Buffer>) {
    written += chunk.length;
    if (written > entry.size) break;
    yield chunk;
  }
  if (written !== entry.size) throw new Error(`${entry.source} changed size while it was being archived`);
  yield padding(entry.size);
}

async function* archiveChunks(entries: Iterable<TarEntry>): AsyncGenerator<Buffer> {
  for (const entry of entries) yield* entryChunks(entry);
  yield Buffer.alloc(BLOCK * 2);
}

/** A readable tar stream of `entries`, in the given order (parents before children). */
export function tarStream(entries: Iterable<TarEntry>): Readable {
  return Readable.from(archiveChunks(entries), { objectMode: false });
}
