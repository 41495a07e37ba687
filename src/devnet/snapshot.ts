/**
 * `devnet snapshot save|list|restore|delete`: the whole network at one moment, under
 * `.avsctl/snapshots/<name>/`. Each chain's state comes from anvil_dumpState, taken while every
 * chain has stopped mining, so the chains agree with each other; the node stores (the
 * aggregator's journal, the task engine's store) are copied in that same pause, so they claim
 * nothing the chains lack (Docker: snapshot-docker.ts copies them out of their volumes). A restore stops the nodes, puts every chain back (anvil_reset, then
 * anvil_loadState, then the clock), puts the stores back and starts the nodes again, so nothing in memory is
 * newer than the chains.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { AvsctlError, invalidArgument } from "../errors.js";
import { clockOffset, recordClockOffsets, setClock } from "./chain-clock.js";
import { journalFile } from "./persist.js";
import { type DevnetState, requireDevnetState, stateDir } from "./state.js";

export interface SnapshotInfo {
  name: string;
  createdAt: string;
  /** Block number per chain id at the moment of the snapshot. */
  blocks: Record<string, number>;
}

interface SnapshotMeta extends SnapshotInfo {
  /**
   * `clockOffset`: seconds the chain's clock ran ahead of wall time (`devnet advance --time`);
   * absent in snapshots saved before it was recorded.
   */
  chains: Array<{ name: string; chainId: number; file: string; clockOffset?: number }>;
  /** Node stores copied with it, by file name under `.avsctl`. */
  stores: string[];
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function snapshotsDir(projectDir: string): string {
  return path.join(stateDir(projectDir), "snapshots");
}

function snapshotDir(projectDir: string, name: string): string {
  if (!NAME.test(name))
    throw invalidArgument(
      "<name>",
      `"${name}" is not a snapshot name (letters, digits, ".", "_", "-", starting with a letter or digit; at most 64)`,
    );
  return path.join(snapshotsDir(projectDir), name);
}

function readMeta(dir: string): SnapshotMeta | undefined {
  try {
    return JSON.parse(readFileSync(path.join(dir, "snapshot.json"), "utf8")) as SnapshotMeta;
  } catch {
    return undefined;
  }
}

function requireSnapshot(projectDir: string, name: string): { dir: string; meta: SnapshotMeta } {
  const dir = snapshotDir(projectDir, name);
  const meta = readMeta(dir);
  if (!meta) {
    const known = listSnapshots(projectDir).map((s) => s.name);
    throw invalidArgument(
      "<name>",
      `no snapshot "${name}"`,
      known.length > 0
        ? `snapshots: ${known.join(", ")}`
        : "save one with `avsctl devnet snapshot save <name>`",
    );
  }
  return { dir, meta };
}

/** The node stores a snapshot carries: files of `.avsctl` that the nodes write. */
function storeFiles(projectDir: string): string[] {
  return [path.basename(journalFile(projectDir)), "engine.sqlite"];
}

interface ChainRef {
  name: string;
  chainId: number;
  rpcUrl: string;
}

function chainsOf(state: DevnetState): ChainRef[] {
  return [
    { name: "l1", chainId: state.l1.chainId, rpcUrl: state.l1.rpcUrl },
    ...state.l2.map((l, i) => ({ name: `l2-${i + 1}`, chainId: l.chainId, rpcUrl: l.rpcUrl })),
  ];
}

async function rpc<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const { jsonRpc } = await import("../chain/json-rpc.js");
  return jsonRpc<T>(url, method, params, { timeoutMs: 60_000 });
}

/** Every chain stops mining while `body` runs, then mines as before (automine or interval). */
async function paused<T>(state: DevnetState, body: () => Promise<T>): Promise<T> {
  const chains = chainsOf(state);
  const blockTime = Number((state.internal?.plan as { blockTime?: number } | undefined)?.blockTime ?? 0);
  await Promise.all(chains.map((c) => rpc(c.rpcUrl, "evm_setAutomine", [false])));
  if (blockTime > 0) await Promise.all(chains.map((c) => rpc(c.rpcUrl, "evm_setIntervalMining", [0])));
  try {
    return await body();
  } finally {
    await Promise.all(
      chains.map((c) =>
        blockTime > 0
          ? rpc(c.rpcUrl, "evm_setIntervalMining", [blockTime])
          : rpc(c.rpcUrl, "evm_setAutomine", [true]),
      ),
    );
  }
}

/** A consistent copy of a SQLite store that its writer may hold open (WAL). */
async function copyStore(from: string, to: string): Promise<void> {
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(from, { readOnly: true });
  try {
    db.exec(`VACUUM INTO '${to.replaceAll("'", "''")}'`);
  } finally {
    db.close();
  }
}

export async function saveSnapshot(projectDir: string, name: string): Promise<SnapshotInfo> {
  const dir = snapshotDir(projectDir, name);
  const state = requireDevnetState(projectDir);
  if (readMeta(dir)) {
    throw invalidArgument(
      "<name>",
      `a snapshot "${name}" exists`,
      `delete it first: avsctl devnet snapshot delete ${name}`,
    );
  }
  const tmp = `${dir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    const meta = await paused(state, async () => {
      const chains: SnapshotMeta["chains"] = [];
      const blocks: Record<string, number> = {};
      for (const c of chainsOf(state)) {
        const dump = await rpc<string>(c.rpcUrl, "anvil_dumpState");
        const file = `${c.name}.state`;
        writeFileSync(path.join(tmp, file), dump);
        chains.push({ name: c.name, chainId: c.chainId, file, clockOffset: await clockOffset(c.rpcUrl) });
        blocks[String(c.chainId)] = Number(BigInt(await rpc<string>(c.rpcUrl, "eth_blockNumber")));
      }
      let stores: string[] = [];
      if (state.runtime === "docker") {
        const { saveDockerStores } = await import("./snapshot-docker.js");
        stores = await saveDockerStores(state.name, tmp);
      } else {
        for (const store of storeFiles(projectDir)) {
          const from = path.join(stateDir(projectDir), store);
          if (!existsSync(from)) continue;
          await copyStore(from, path.join(tmp, store));
          stores.push(store);
        }
      }
      return { name, createdAt: new Date().toISOString(), blocks, chains, stores } satisfies SnapshotMeta;
    });
    writeFileSync(path.join(tmp, "snapshot.json"), `${JSON.stringify(meta, null, 2)}\n`);
    renameSync(tmp, dir);
    return { name: meta.name, createdAt: meta.createdAt, blocks: meta.blocks };
  } catch (error) {
    rmSync(tmp, { recursive: true, force: true });
    throw error;
  }
}

export function listSnapshots(projectDir: string): SnapshotInfo[] {
  const root = snapshotsDir(projectDir);
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((n) => NAME.test(n))
    .flatMap((n) => {
      const meta = readMeta(path.join(root, n));
      return meta ? [{ name: meta.name, createdAt: meta.createdAt, blocks: meta.blocks }] : [];
    })
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

export function deleteSnapshot(projectDir: string, name: string): SnapshotInfo {
  const { dir, meta } = requireSnapshot(projectDir, name);
  rmSync(dir, { recursive: true, force: true });
  return { name: meta.name, createdAt: meta.createdAt, blocks: meta.blocks };
}

/** Components that hold state in memory or write the stores: stopped during a restore, started after. */
function writers(names: string[]): string[] {
  return names.filter(
    (n) => n === "aggregator" || n.startsWith("attester-") || n === "triggers" || n === "task-engine",
  );
}

export async function restoreSnapshot(
  projectDir: string,
  name: string,
  progress: (step: string) => void = () => {},
): Promise<SnapshotInfo & { restarted: string[] }> {
  const { dir, meta } = requireSnapshot(projectDir, name);
  const state = requireDevnetState(projectDir);
  const chains = chainsOf(state);
  const ids = (list: Array<{ chainId: number }>) => list.map((c) => c.chainId).join(", ");
  if (ids(chains) !== ids(meta.chains)) {
    throw invalidArgument(
      "<name>",
      `snapshot "${name}" holds chains ${ids(meta.chains)}; this devnet runs ${ids(chains)}`,
      "restore it in a devnet with the same chains, or delete it",
    );
  }
  const { openRuntimes } = await import("./manage.js");
  const runtimes = await openRuntimes(state, projectDir);
  const stopped = writers(await runtimes.names());
  progress(`stopping ${stopped.join(", ")}`);
  for (const c of stopped) await runtimes.of(c).stop(c);
  try {
    progress(`restoring ${chains.length} chain(s)`);
    // Paused: a block mined between anvil_loadState and evm_setTime would carry the reset clock.
    await paused(state, async () => {
      for (const [i, c] of chains.entries()) {
        const saved = meta.chains[i]!;
        const dump = readFileSync(path.join(dir, saved.file), "utf8");
        await rpc(c.rpcUrl, "anvil_reset");
        const loaded = await rpc<boolean>(c.rpcUrl, "anvil_loadState", [dump]);
        if (!loaded)
          throw new AvsctlError("COMMAND_FAILED", `anvil_loadState on ${c.name} refused snapshot "${name}"`);
        // anvil_reset sets the clock back to the chain's genesis and anvil_loadState leaves it
        // there, so the next block would predate the snapshot's head. The clock goes on from the
        // head or wall time, whichever is later, ahead of wall time as far as it was when saved.
        await setClock(c.rpcUrl, saved.clockOffset ?? 0);
      }
    });
    // what a chain started again from its state file goes on with (chain-clock.ts)
    recordClockOffsets(
      projectDir,
      Object.fromEntries(meta.chains.map((c) => [c.name, Math.max(0, c.clockOffset ?? 0)])),
    );
    if (state.runtime === "docker") {
      const { restoreDockerStores } = await import("./snapshot-docker.js");
      await restoreDockerStores(state.name, dir, meta.stores);
    } else {
      for (const store of storeFiles(projectDir)) {
        const to = path.join(stateDir(projectDir), store);
        for (const f of [to, `${to}-wal`, `${to}-shm`]) rmSync(f, { force: true });
        if (meta.stores.includes(store)) writeFileSync(to, readFileSync(path.join(dir, store)));
      }
    }
  } finally {
    progress(`starting ${stopped.join(", ")}`);
    for (const c of stopped) await runtimes.of(c).restart(c);
  }
  return { name: meta.name, createdAt: meta.createdAt, blocks: meta.blocks, restarted: stopped };
}
