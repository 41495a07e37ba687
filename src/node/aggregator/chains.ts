/**
 * The L2s an aggregator serves: each endpoint's chain id checked against the configuration,
 * its chain view read once, and its transaction pipeline prepared (recovery starts it).
 */

import { fetchChainId } from "../../chain/rpc.js";
import { AvsctlError } from "../../errors.js";
import { ChainView } from "../chain-view.js";
import type { L2Target } from "../options.js";
import { RpcClient } from "../rpc-client.js";
import { TxPipeline } from "../tx-pipeline.js";
import type { AggregatorContext, ChainCtx } from "./tasks.js";

export type Cleanup = Array<() => Promise<void> | void>;

export async function resolveChainIds(targets: L2Target[]): Promise<L2Target[]> {
  return Promise.all(
    targets.map(async (t) => {
      const actual = await fetchChainId(t.rpcUrl);
      if (t.chainId && t.chainId !== actual) {
        throw new AvsctlError(
          "CONFIG_INVALID",
          `L2 ${t.rpcUrl} has chain id ${actual}, configured as ${t.chainId}`,
        );
      }
      return { ...t, chainId: actual };
    }),
  );
}

/** Reads every served L2 and prepares its transaction pipeline (started by recovery). */
export async function openChains(
  targets: L2Target[],
  ctx: Pick<AggregatorContext, "wallet" | "log" | "metrics" | "signal">,
  refreshMs: number,
  cleanup: Cleanup,
): Promise<ChainCtx[]> {
  const { wallet, log, metrics, signal } = ctx;
  const chains: ChainCtx[] = [];
  for (const target of targets) {
    const rpc = new RpcClient(target.rpcUrl, {
      signal,
      onTransientError: (method) => metrics.rpcErrors.inc({ chainId: target.chainId, method }),
    });
    const view = new ChainView(target, rpc, log, refreshMs);
    await view.start();
    cleanup.push(() => view.stop());
    const pipeline = new TxPipeline(rpc, target.chainId, wallet, log);
    cleanup.push(() => pipeline.stop());
    chains.push({ target, view, rpc, pipeline, aggKeys: new Map() });
    if (!view.operatorByAddress(wallet.address)) {
      log.warn("the aggregator is not an active operator on this chain: submissions will revert", {
        chainId: target.chainId,
      });
    }
  }
  return chains;
}
