/**
 * The devnet's IPFS content store: UnixFS over a blockstore on disk, with Kubo's `ipfs add`
 * defaults so a CID computed here equals the one Kubo gives for the same bytes and options. The
 * UnixFS and blockstore packages load only when a store opens, so nothing else in avsctl pays for
 * them. No networking: blocks never leave this directory.
 */

import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
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
  const pinsFile = path.join(dir, "pins.json");
  const pinned = new Set<string>(await readPins(pinsFile));

  const parse = (text: string): CID => {
    try {
      return CIDClass.parse(text);
    } catch {
      throw new AvsctlError("NOT_FOUND", `"${text}" is not a CID`);
    }
  };
  // Written whole then renamed, so a crash never leaves a half-written pin list; one write at a
  // time, so concurrent adds never rename the same temp file twice.
  let saving: Promise<void> = Promise.resolve();
  const savePins = (): Promise<void> => {
    saving = saving
      .catch(() => undefined)
      .then(async () => {
        const tmp = `${pinsFile}.tmp`;
        await writeFile(tmp, JSON.stringify([...pinned].sort()));
        await rename(tmp, pinsFile);
      });
    return saving;
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
      if (options.pin !== false) {
        pinned.add(cid);
        await savePins();
      }
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
      pinned.add(cid.toString());
      await savePins();
    },
    pins: () => [...pinned].sort(),
    close: () => blockstore.close(),
  };
}

async function readPins(file: string): Promise<string[]> {
  try {
    const parsed: unknown = JSON.parse(await readFile(file, "utf8"));
    return Array.isArray(parsed) ? parsed.filter((item): item is string => typeof item === "string") : [];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}
