/**
 * A devnet chain's clock across restarts. anvil started from its state file gets its blocks back
 * but not its clock: its next block takes wall time, older than the saved head once `advance
 * --time` moved the chain ahead, and a block older than its parent breaks whatever reads
 * block.timestamp. So what avsctl sets the clock to (`advance --time`, `snapshot restore`) is kept
 * beside the state files, as seconds ahead of wall time, and a chain started again from its state
 * goes on from the later of its head and wall time plus that offset, as a restore does.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { jsonRpc } from "../chain/json-rpc.js";
import { offsetSeconds } from "../triggers/chain-time.js";
import { chainStateDir } from "./chain-storage.js";

/** `{"<chain>": seconds ahead of wall time}`; it goes with the state files (`down --volumes`, `--fresh`). */
function clockFile(projectDir: string): string {
  return path.join(chainStateDir(projectDir), "clock.json");
}

function readOffsets(projectDir: string): Record<string, number> {
  try {
    return JSON.parse(readFileSync(clockFile(projectDir), "utf8")) as Record<string, number>;
  } catch {
    return {};
  }
}

/** Records the chains' offsets from wall time (by chain name: `l1`, `l2-1`, ...). */
export function recordClockOffsets(projectDir: string, offsets: Record<string, number>): void {
  const file = clockFile(projectDir);
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ ...readOffsets(projectDir), ...offsets }, null, 2)}\n`);
  renameSync(tmp, file);
}

const call = <T>(rpcUrl: string, method: string, params: unknown[] = []) =>
  jsonRpc<T>(rpcUrl, method, params, { timeoutMs: 60_000 });

/** Seconds the chain's clock runs ahead of wall time, from its pending block (anvil's own now). */
export async function clockOffset(rpcUrl: string): Promise<number> {
  const before = Date.now();
  const pending = await call<{ timestamp: string }>(rpcUrl, "eth_getBlockByNumber", ["pending", false]);
  return offsetSeconds(Number(BigInt(pending.timestamp)), before, Date.now(), 0);
}

/**
 * Sets the chain's clock (`evm_setTime`) to the later of its head plus one second and wall time
 * plus `offset`: its next block is never older than its head, and as far ahead of wall time as
 * it was put.
 */
export async function setClock(rpcUrl: string, offset: number): Promise<void> {
  const head = await call<{ timestamp: string }>(rpcUrl, "eth_getBlockByNumber", ["latest", false]);
  const now = Math.floor(Date.now() / 1000) + Math.max(0, offset);
  await call(rpcUrl, "evm_setTime", [Math.max(Number(BigInt(head.timestamp)) + 1, now)]);
}

/**
 * After a chain started from its state file (`up`, `devnet restart`, the supervisor): its clock
 * goes on from there with the offset recorded for it. A chain with no block past genesis resumed
 * nothing and is left alone.
 */
export async function resumeClock(projectDir: string, chain: string, rpcUrl: string): Promise<void> {
  const head = Number(BigInt(await call<string>(rpcUrl, "eth_blockNumber")));
  if (head === 0) return;
  await setClock(rpcUrl, readOffsets(projectDir)[chain] ?? 0);
}
