/**
 * The devnet's IPFS content store: UnixFS over a blockstore on disk, with Kubo's `ipfs add`
 * defaults so a CID computed here equals the one Kubo gives for the same bytes and options. The
 * UnixFS and blockstore packages load only when a store opens, so nothing else in avsctl pays for
 * them. No networking: blocks never leave this directory.
 */

import { appendFile, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { CID } from "multiformats/cid";
import { AvsctlError } from "../errors.js";

export interface AddOptions {
  /** 0 (Kubo's default) or 1. */
  cidVersion?: 0 | 1;
  /** Kubo's default: off for CIDv0, on when cid-version=1 asks for CIDv1. */
  rawLeaves?: boolean;
  pin?: boolean;
}

export interface AddResult {
  cid: string;
  /** Kubo's `Size`: the serialized DAG's cumulative size (every block counted once per link). */
  dagSize: number;
}

export interface IpfsStore {
  add(bytes: Uint8Array, options?: AddOptions): Promise<AddResult>;
  /** The file's bytes; NOT_FOUND when the CID is malformed, unknown or not a file. */
  cat(cid: string): Promise<Uint8Array>;
  pin(cid: string): Promise<void>;
  pins(): string[];
  close(): Promise<void>;
}

/** Kubo's chunker and layout (`size-262144`, balanced, 174 links a node): the 2015 profile. */
const KUBO_PROFILE = "unixfs-v0-2015";

export async function openIpfsStore(dir: string): Promise<IpfsStore> {
  const [{ importer }, { exporter }, { FsBlockstore }, { CID: CIDClass }] = await Promise.all([
    import("ipfs-unixfs-importer"),
    import("ipfs-unixfs-exporter"),
    import("blockstore-fs"),
    import("multiformats/cid"),
  ]);
  await mkdir(dir, { recursive: true });
  const blockstore = new FsBlockstore(path.join(dir, "blocks"));
  await blockstore.open();
  const pinLog = path.join(dir, "pins.log");
  const pinned = new Set<string>(await readPins(dir, pinLog));

  const parse = (text: string): CID => {
    try {
      return CIDClass.parse(text);
    } catch {
      throw new AvsctlError("NOT_FOUND", `"${text}" is not a CID`);
    }
  };
  // A new pin is appended as a line, never the whole list again: rewritten on every add, the
  // list made each pin cost as much as all before it (8,000 pins halved the pinning rate).
  // Pins of one turn share a write; each caller's promise resolves once its line is on disk.
  let unwritten: string[] = [];
  let nextWrite: Promise<void> | undefined;
  let writes: Promise<void> = Promise.resolve();
  const writing = new Map<string, Promise<void>>();
  const savePin = (cid: string): Promise<void> => {
    const inFlight = writing.get(cid);
    if (inFlight) return inFlight;
    if (pinned.has(cid)) return Promise.resolve();
    unwritten.push(cid);
    nextWrite ??= writes = writes
      .catch(() => undefined)
      .then(async () => {
        const batch = unwritten;
        unwritten = [];
        nextWrite = undefined;
        try {
          await appendFile(pinLog, batch.map((c) => `${c}\n`).join(""));
          for (const c of batch) pinned.add(c);
        } finally {
          for (const c of batch) writing.delete(c);
        }
      });
    writing.set(cid, nextWrite);
    return nextWrite;
  };

  return {
    async add(bytes, options = {}) {
      const cidVersion = options.cidVersion ?? 0;
      const rawLeaves = options.rawLeaves ?? cidVersion === 1;
      let dagSize = 0;
      // Counting every block written gives Kubo's cumulative size: a repeated chunk is written
      // (and linked) once per occurrence, as Tsize counts it.
      const counting = {
        put: async (cid: CID, block: Uint8Array) => {
          dagSize += block.byteLength;
          return blockstore.put(cid, block);
        },
      };
      let root: CID | undefined;
      for await (const entry of importer([{ content: bytes }], counting, {
        profile: KUBO_PROFILE,
        cidVersion,
        rawLeaves,
      })) {
        root = entry.cid;
      }
      if (root === undefined) throw new AvsctlError("INTERNAL", "the UnixFS importer returned no root");
      const cid = root.toString();
      if (options.pin !== false) await savePin(cid);
      return { cid, dagSize };
    },
    async cat(text) {
      const cid = parse(text);
      if (!(await blockstore.has(cid))) throw new AvsctlError("NOT_FOUND", `${text} is not in this node`);
      const entry = await exporter(cid, blockstore);
      if (entry.type !== "file" && entry.type !== "raw" && entry.type !== "identity") {
        throw new AvsctlError("NOT_FOUND", `${text} is a ${entry.type}, not a file`);
      }
      const parts: Uint8Array[] = [];
      for await (const chunk of entry.content()) parts.push(chunk);
      return Buffer.concat(parts);
    },
    async pin(text) {
      const cid = parse(text);
      if (!(await blockstore.has(cid))) throw new AvsctlError("NOT_FOUND", `${text} is not in this node`);
      await savePin(cid.toString());
    },
    pins: () => [...pinned].sort(),
    close: () => blockstore.close(),
  };
}

/**
 * The pins on record: complete lines of `pins.log`, and a list from before the log
 * (`pins.json`), which moves into it. A line a crash cut short is dropped, and the log
 * rewritten without it, so the next pin does not land on the same line.
 */
async function readPins(dir: string, pinLog: string): Promise<string[]> {
  const text = await readFile(pinLog, "utf8").catch(ignoreMissing(""));
  const lines = text.split("\n");
  const torn = lines.pop() !== "";
  const pins = lines.filter((line) => line !== "");
  const legacyFile = path.join(dir, "pins.json");
  const legacy: unknown = JSON.parse(await readFile(legacyFile, "utf8").catch(ignoreMissing("[]")));
  const carried = Array.isArray(legacy)
    ? legacy.filter((item): item is string => typeof item === "string")
    : [];
  if (torn || carried.length > 0) {
    const all = [...new Set([...carried, ...pins])];
    const tmp = `${pinLog}.tmp`;
    await writeFile(tmp, all.map((cid) => `${cid}\n`).join(""));
    await rename(tmp, pinLog);
    await rm(legacyFile, { force: true });
    return all;
  }
  return pins;
}

function ignoreMissing<T>(fallback: T): (err: unknown) => T {
  return (err) => {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return fallback;
    throw err;
  };
}
