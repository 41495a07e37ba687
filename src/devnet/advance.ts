/**
 * `devnet advance`: time travel on every chain of the devnet, through anvil's own RPCs, so
 * whatever reads the chains (block expiries, dispute periods, triggers, cron schedules) sees the
 * change as if the time had passed.
 */
import { invalidArgument } from "../errors.js";
import { clockOffset, recordClockOffsets } from "./chain-clock.js";
import { requireDevnetState } from "./state.js";

export interface AdvanceOptions {
  /** Blocks to mine on every chain. */
  blocks?: number;
  /** Milliseconds to move every chain's clock forward (whole seconds on chain, at least 1). */
  timeMs?: number;
}

export interface AdvancedChain {
  chainId: number;
  block: number;
  timestamp: number;
}

export async function devnetAdvance(
  projectDir: string,
  opts: AdvanceOptions,
): Promise<{ chains: AdvancedChain[] }> {
  if (opts.blocks === undefined && opts.timeMs === undefined)
    throw invalidArgument("--blocks", "pass --blocks <n> or --time <duration> (or both)");
  if (opts.blocks !== undefined && opts.blocks < 1) throw invalidArgument("--blocks", "expected at least 1");
  const seconds = opts.timeMs === undefined ? undefined : Math.ceil(opts.timeMs / 1000);
  if (seconds !== undefined && seconds < 1) throw invalidArgument("--time", "expected at least 1s");
  const state = requireDevnetState(projectDir);
  const { jsonRpc } = await import("../chain/json-rpc.js");
  const chains = [{ name: "l1", ...state.l1 }, ...state.l2.map((l, i) => ({ name: `l2-${i + 1}`, ...l }))];
  const offsets: Record<string, number> = {};
  const advanced = await Promise.all(
    chains.map(async (c): Promise<AdvancedChain> => {
      const call = <T>(method: string, params: unknown[] = []) =>
        jsonRpc<T>(c.rpcUrl, method, params, { timeoutMs: 60_000 });
      // The clock moves first, so a block mined next carries the later time.
      if (seconds !== undefined) {
        await call("evm_increaseTime", [seconds]);
        if (opts.blocks === undefined) await call("evm_mine");
      }
      if (opts.blocks !== undefined) await call("anvil_mine", [`0x${opts.blocks.toString(16)}`]);
      const block = await call<{ number: string; timestamp: string }>("eth_getBlockByNumber", [
        "latest",
        false,
      ]);
      offsets[c.name] = await clockOffset(c.rpcUrl);
      return {
        chainId: c.chainId,
        block: Number(BigInt(block.number)),
        timestamp: Number(BigInt(block.timestamp)),
      };
    }),
  );
  // anvil forgets the offset when it starts again from its state file: kept for then
  recordClockOffsets(projectDir, offsets);
  return { chains: advanced };
}
