/**
 * The devnet IPFS node over real HTTP on 127.0.0.1 with its blockstore in a temp directory. CIDs
 * are checked against values computed without our store: Kubo's published CID for `hello world\n`,
 * DAGs encoded by hand below (dag-pb/UnixFS protobuf, sha2-256, base58btc/base32) for one block
 * and for a CIDv0 file of three 262,144-byte chunks, and for the CIDv1 multi-chunk cases the
 * UnixFS importer driven directly with Kubo's parameters spelled out (fixed 262,144-byte chunks,
 * balanced layout with 174 links a node) rather than through our store.
 */

import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { importer } from "ipfs-unixfs-importer";
import { fixedSize } from "ipfs-unixfs-importer/chunker";
import { balanced } from "ipfs-unixfs-importer/layout";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IpfsServer, startIpfsServer } from "../../../src/ipfs/server.js";
import { openIpfsStore } from "../../../src/ipfs/store.js";

const HELLO = Buffer.from("hello world\n");
/** `echo "hello world" | ipfs add` (Kubo, default options). */
const HELLO_V0 = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o";

function varint(value: number): Buffer {
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Buffer.from(out);
}

/** A single-node UnixFS file as Kubo writes it: PBNode{Data: UnixFS{Type: File, Data, filesize}}. */
function dagPbFileBlock(bytes: Buffer): Buffer {
  const unixfs = Buffer.concat([
    Buffer.from([0x08, 0x02]),
    Buffer.from([0x12]),
    varint(bytes.length),
    bytes,
    Buffer.from([0x18]),
    varint(bytes.length),
  ]);
  return Buffer.concat([Buffer.from([0x0a]), varint(unixfs.length), unixfs]);
}

function sha256Multihash(block: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x12, 0x20]), createHash("sha256").update(block).digest()]);
}

function base58btc(bytes: Buffer): string {
  const alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  let value = BigInt(`0x${bytes.toString("hex")}`);
  let out = "";
  while (value > 0n) {
    out = alphabet[Number(value % 58n)] + out;
    value /= 58n;
  }
  for (const byte of bytes) {
    if (byte !== 0) break;
    out = `1${out}`;
  }
  return out;
}

function base32Multibase(bytes: Buffer): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  let bits = 0;
  let acc = 0;
  let out = "b";
  for (const byte of bytes) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(acc >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(acc << (5 - bits)) & 31];
  return out;
}

/**
 * A two-level balanced file as Kubo writes it with CIDv0 and no raw leaves: each chunk a
 * single-node file, and a root PBNode whose links (Hash, empty Name, Tsize) come before its
 * UnixFS data (Type: File, filesize, one blocksize per chunk).
 */
function dagPbChunkedV0(bytes: Buffer, chunkSize: number): string {
  const links: Buffer[] = [];
  const blocksizes: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += chunkSize) {
    const chunk = bytes.subarray(offset, offset + chunkSize);
    const leaf = dagPbFileBlock(chunk);
    const hash = sha256Multihash(leaf);
    const link = Buffer.concat([
      Buffer.from([0x0a]),
      varint(hash.length),
      hash,
      Buffer.from([0x12, 0x00]),
      Buffer.from([0x18]),
      varint(leaf.length),
    ]);
    links.push(Buffer.concat([Buffer.from([0x12]), varint(link.length), link]));
    blocksizes.push(Buffer.concat([Buffer.from([0x20]), varint(chunk.length)]));
  }
  const unixfs = Buffer.concat([Buffer.from([0x08, 0x02, 0x18]), varint(bytes.length), ...blocksizes]);
  return cidV0(Buffer.concat([...links, Buffer.from([0x0a]), varint(unixfs.length), unixfs]));
}

const cidV0 = (block: Buffer) => base58btc(sha256Multihash(block));
const cidV1 = (codec: number, block: Buffer) =>
  base32Multibase(Buffer.concat([Buffer.from([0x01, codec]), sha256Multihash(block)]));

/** The importer itself with Kubo's parameters spelled out, not through our store or its profile. */
async function kuboParamsCid(bytes: Uint8Array, cidVersion: 0 | 1, rawLeaves: boolean): Promise<string> {
  let root = "";
  for await (const entry of importer(
    [{ content: bytes }],
    { put: async (cid) => cid },
    {
      cidVersion,
      rawLeaves,
      leafType: "file",
      reduceSingleLeafToSelf: true,
      chunker: fixedSize({ chunkSize: 262_144 }),
      layout: balanced({ maxChildrenPerNode: 174 }),
    },
  )) {
    root = entry.cid.toString();
  }
  return root;
}

async function kuboAdd(
  server: IpfsServer,
  bytes: Uint8Array,
  query = "",
): Promise<{ Name: string; Hash: string; Size: string }> {
  const form = new FormData();
  form.append("file", new Blob([bytes]), "input.bin");
  const res = await fetch(`${server.apiUrl}/add${query}`, { method: "POST", body: form });
  expect(res.status).toBe(200);
  return (await res.json()) as { Name: string; Hash: string; Size: string };
}

describe("devnet IPFS node", () => {
  let dir: string;
  let server: IpfsServer | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "avsctl-ipfs-"));
    server = await startIpfsServer({ dataDir: dir, port: 0, maxBodyBytes: 2 * 1024 * 1024 });
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });
  const node = () => server as IpfsServer;

  it("the hand-encoded single block gives Kubo's published CID", () => {
    expect(cidV0(dagPbFileBlock(HELLO))).toBe(HELLO_V0);
  });

  it("adds hello world as `ipfs add` does: CIDv0, and CIDv1 with raw leaves on and off", async () => {
    const v0 = await kuboAdd(node(), HELLO);
    expect(v0).toEqual({ Name: "input.bin", Hash: HELLO_V0, Size: "20" });

    // cid-version=1 turns raw leaves on, as in Kubo: a one-chunk file is then the raw block itself.
    const v1 = await kuboAdd(node(), HELLO, "?cid-version=1");
    expect(v1.Hash).toBe(cidV1(0x55, HELLO));
    expect(v1.Size).toBe("12");
    const v1Explicit = await kuboAdd(node(), HELLO, "?cid-version=1&raw-leaves=true");
    expect(v1Explicit.Hash).toBe(v1.Hash);

    const v1Wrapped = await kuboAdd(node(), HELLO, "?cid-version=1&raw-leaves=false");
    expect(v1Wrapped.Hash).toBe(cidV1(0x70, dagPbFileBlock(HELLO)));

    const v0Raw = await kuboAdd(node(), HELLO, "?raw-leaves=true");
    // A raw leaf has no CIDv0 form, so Kubo answers the raw block's CIDv1 here too.
    expect(v0Raw.Hash).toBe(cidV1(0x55, HELLO));
  });

  it("chunks a file over 262,144 bytes as Kubo does, for CIDv0 and CIDv1 with raw leaves on and off", async () => {
    const big = Buffer.alloc(600_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 9)) & 0xff;
    const v0 = await kuboAdd(node(), big);
    expect(v0.Hash).toBe(dagPbChunkedV0(big, 262_144));
    const cases: Array<[string, 0 | 1, boolean]> = [
      ["", 0, false],
      ["?cid-version=1", 1, true],
      ["?cid-version=1&raw-leaves=false", 1, false],
    ];
    for (const [query, version, raw] of cases) {
      const added = await kuboAdd(node(), big, query);
      expect(added.Hash).toBe(await kuboParamsCid(big, version, raw));
      expect(Number(added.Size)).toBeGreaterThan(big.length);
      const cat = await fetch(`${node().apiUrl}/cat?arg=${added.Hash}`, { method: "POST" });
      expect(Buffer.from(await cat.arrayBuffer()).equals(big)).toBe(true);
    }
  });

  it("pins, reports its version and refuses what it does not serve", async () => {
    const added = await kuboAdd(node(), HELLO, "?pin=false");
    const pin = await fetch(`${node().apiUrl}/pin/add?arg=${added.Hash}`, { method: "POST" });
    expect(await pin.json()).toEqual({ Pins: [HELLO_V0] });
    const version = await fetch(`${node().apiUrl}/version`, { method: "POST" });
    expect(((await version.json()) as { Version: string }).Version).toBeTypeOf("string");

    const unknown = await fetch(
      `${node().apiUrl}/cat?arg=bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy`,
      {
        method: "POST",
      },
    );
    expect(unknown.status).toBe(404);
    const garbage = await fetch(`${node().url}/ipfs/not-a-cid`);
    expect(garbage.status).toBe(404);
    const tooBig = await fetch(`${node().url}/pinning/pinJSONToIPFS`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ pad: "x".repeat(3 * 1024 * 1024) }),
    });
    expect(tooBig.status).toBe(413);
  });

  it("round-trips a Pinata-style pinJSONToIPFS call through the gateway, and a pinned file", async () => {
    const auth = await fetch(`${node().pinataUrl}/data/testAuthentication`, {
      headers: { authorization: "Bearer any-jwt" },
    });
    expect(auth.status).toBe(200);

    const document = { price: "67123.45", symbol: "ETHUSDT", at: 1_700_000_000 };
    const res = await fetch(`${node().pinataUrl}/pinning/pinJSONToIPFS`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        pinata_api_key: "key",
        pinata_secret_api_key: "secret",
      },
      body: JSON.stringify({ pinataContent: document, pinataMetadata: { name: "price" }, pinataOptions: {} }),
    });
    expect(res.status).toBe(200);
    const pinned = (await res.json()) as { IpfsHash: string; PinSize: number; Timestamp: string };
    expect(pinned.IpfsHash).toMatch(/^Qm/);
    expect(pinned.PinSize).toBeGreaterThan(0);
    expect(Number.isNaN(Date.parse(pinned.Timestamp))).toBe(false);

    const back = await fetch(`${node().gatewayUrl}${pinned.IpfsHash}`);
    expect(back.headers.get("content-type")).toBe("application/json");
    expect(await back.json()).toEqual(document);

    const bare = await fetch(`${node().pinataUrl}/pinning/pinJSONToIPFS`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(document),
    });
    expect(((await bare.json()) as { IpfsHash: string }).IpfsHash).toBe(pinned.IpfsHash);

    const form = new FormData();
    form.append("file", new Blob([HELLO]), "hello.txt");
    const file = await fetch(`${node().pinataUrl}/pinning/pinFileToIPFS`, { method: "POST", body: form });
    expect(((await file.json()) as { IpfsHash: string }).IpfsHash).toBe(HELLO_V0);
    const gateway = await fetch(`${node().gatewayUrl}${HELLO_V0}`);
    expect(Buffer.from(await gateway.arrayBuffer()).equals(HELLO)).toBe(true);
  });

  it("takes concurrent adds and keeps every pin", async () => {
    const inputs = Array.from({ length: 8 }, (_, i) => Buffer.from(`concurrent ${i}\n`));
    const added = await Promise.all(inputs.map((bytes) => kuboAdd(node(), bytes)));
    for (const [i, result] of added.entries()) {
      const back = await fetch(`${node().gatewayUrl}${result.Hash}`);
      expect(Buffer.from(await back.arrayBuffer()).equals(inputs[i]!)).toBe(true);
    }
  });

  it("keeps its content across a restart on the same directory", async () => {
    const content = Buffer.from(`survives a restart ${dir}\n`);
    const added = await kuboAdd(node(), content);
    await node().close();
    server = undefined;
    server = await startIpfsServer({ dataDir: dir, port: 0 });
    const back = await fetch(`${node().gatewayUrl}${added.Hash}`);
    expect(back.status).toBe(200);
    expect(Buffer.from(await back.arrayBuffer()).equals(content)).toBe(true);
  });
});

describe("devnet IPFS node: the pin record", () => {
  const withDir = async (fn: (dir: string) => Promise<void>) => {
    const dir = await mkdtemp(path.join(tmpdir(), "avsctl-ipfs-pins-"));
    try {
      await fn(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
  const lines = async (dir: string) => (await readFile(path.join(dir, "pins.log"), "utf8")).split("\n");

  it("appends each new pin once, also when many come at once, and keeps them across a reopen", () =>
    withDir(async (dir) => {
      let store = await openIpfsStore(dir);
      const inputs = Array.from({ length: 20 }, (_, i) => Buffer.from(`pin ${i % 10}\n`));
      const added = await Promise.all(inputs.map((bytes) => store.add(bytes)));
      const cids = [...new Set(added.map((a) => a.cid))].sort();
      expect(cids).toHaveLength(10);
      // on disk when add resolves, before the store closes
      expect((await lines(dir)).sort()).toEqual(["", ...cids].sort());
      await store.close();
      store = await openIpfsStore(dir);
      expect(store.pins()).toEqual(cids);
      await store.add(inputs[0]!);
      expect(await lines(dir)).toHaveLength(11);
      await store.close();
    }));

  it("drops a line a crash cut short, and carries over the pins.json list written before the log", () =>
    withDir(async (dir) => {
      await writeFile(path.join(dir, "pins.json"), JSON.stringify([HELLO_V0]));
      await writeFile(path.join(dir, "pins.log"), "QmNotAPinYetBecauseTheCrashCutIt");
      let store = await openIpfsStore(dir);
      expect(store.pins()).toEqual([HELLO_V0]);
      const added = await store.add(Buffer.from("after the crash\n"));
      await store.close();
      expect(await lines(dir)).toEqual([HELLO_V0, added.cid, ""]);
      await expect(readFile(path.join(dir, "pins.json"))).rejects.toMatchObject({ code: "ENOENT" });
      store = await openIpfsStore(dir);
      expect(store.pins()).toEqual([HELLO_V0, added.cid].sort());
      await store.close();
    }));
});
