/**
 * The chains' clocks across `devnet snapshot restore`, on two real anvil chains that a devnet
 * state file names (no nodes: nothing to stop or start). anvil_reset takes a chain's clock back
 * to its genesis and anvil_loadState leaves it there; a restore must carry on from the
 * snapshot's head, keep up with wall time, and keep what `devnet advance --time` added.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AnvilInstance } from "../../../src/chain/anvil.js";
import { startAnvil } from "../../../src/chain/anvil.js";
import { devnetAdvance } from "../../../src/devnet/advance.js";
import { restoreSnapshot, saveSnapshot } from "../../../src/devnet/snapshot.js";
import { type DevnetState, writeDevnetState } from "../../../src/devnet/state.js";
import { sleep } from "../../../src/util/sleep.js";
import { rpc } from "../../helpers/anvil.js";

const dir = mkdtempSync(path.join(tmpdir(), "avsctl-snapclock-"));
let chains: AnvilInstance[] = [];

interface Block {
  number: number;
  timestamp: number;
}

async function block(chain: AnvilInstance, tag = "latest"): Promise<Block> {
  const b = await rpc<{ number: string; timestamp: string }>(chain.rpcUrl, "eth_getBlockByNumber", [
    tag,
    false,
  ]);
  return { number: Number(BigInt(b.number)), timestamp: Number(BigInt(b.timestamp)) };
}

/** The block a transaction after the restore gets (the devnet automines). */
async function mined(chain: AnvilInstance): Promise<Block> {
  await rpc(chain.rpcUrl, "evm_mine");
  return block(chain);
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  chains = await Promise.all([startAnvil({ chainId: 31337 }), startAnvil({ chainId: 31338 })]);
  const [l1, l2] = chains as [AnvilInstance, AnvilInstance];
  writeDevnetState(dir, {
    name: `snapclock-${process.pid}`,
    runtime: "process",
    l1: { chainId: l1.chainId, rpcUrl: l1.rpcUrl },
    l2: [{ chainId: l2.chainId, rpcUrl: l2.rpcUrl }],
  } as unknown as DevnetState);
  // The chains' genesis is now in the past: a clock reset to it lags wall time.
  await sleep(3_000);
});

afterAll(async () => {
  await Promise.all(chains.map((c) => c.stop()));
  rmSync(dir, { recursive: true, force: true });
});

describe("devnet snapshot restore and the chains' clocks", () => {
  it("the first block after a restore is after the snapshot's head and not behind wall time", async () => {
    for (const c of chains) await mined(c);
    const heads = await Promise.all(chains.map((c) => block(c)));
    await saveSnapshot(dir, "plain");
    for (const c of chains) await mined(c);
    await sleep(2_000);

    const restoredAt = nowSeconds();
    await restoreSnapshot(dir, "plain");
    for (const [i, c] of chains.entries()) {
      expect((await block(c)).number, "the snapshot's head is back").toBe(heads[i]!.number);
      const next = await mined(c);
      expect(next.number).toBe(heads[i]!.number + 1);
      expect(next.timestamp).toBeGreaterThan(heads[i]!.timestamp);
      expect(next.timestamp).toBeGreaterThanOrEqual(restoredAt);
    }
    // and later blocks keep up with wall time
    await sleep(2_000);
    const later = nowSeconds();
    for (const c of chains) expect((await mined(c)).timestamp).toBeGreaterThanOrEqual(later);
  });

  it("a snapshot taken after `devnet advance --time 2h` keeps the chains 2 h ahead of wall time", async () => {
    const advanced = await devnetAdvance(dir, { timeMs: 2 * 3600_000 });
    await saveSnapshot(dir, "ahead");
    for (const c of chains) await mined(c);
    await sleep(2_000);

    const restoredAt = nowSeconds();
    await restoreSnapshot(dir, "ahead");
    for (const [i, c] of chains.entries()) {
      const next = await mined(c);
      expect(next.timestamp).toBeGreaterThan(advanced.chains[i]!.timestamp);
      // a second of slack: the offset is read in whole seconds
      expect(next.timestamp).toBeGreaterThanOrEqual(restoredAt + 7200 - 1);
    }
    await sleep(2_000);
    const later = nowSeconds();
    for (const c of chains) expect((await mined(c)).timestamp).toBeGreaterThanOrEqual(later + 7200 - 1);
  });
});
