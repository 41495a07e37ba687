/**
 * The L2s an aggregator serves: each endpoint's chain id checked against the configuration,
 * its chain view read once, and its transaction pipeline prepared (recovery starts it).
 */

import { fetchChainId, redactUrl } from "../../chain/rpc.js";
import { AvsctlError } from "../../errors.js";
import { ChainView } from "../chain-view.js";
import type { Logger } from "../log.js";
import type { L2Target } from "../options.js";
import { untilReachable } from "../reachable.js";
import { RpcClient } from "../rpc-client.js";
import { TxPipeline } from "../tx-pipeline.js";
import type { AggregatorContext, ChainCtx } from "./tasks.js";

export type Cleanup = Array<() => Promise<void> | void>;

/** Each L2's chain id, waiting for a chain that does not answer yet (`log` says so once). */
export async function resolveChainIds(
  targets: L2Target[],
  wait?: { log: Logger; signal?: AbortSignal },
): Promise<L2Target[]> {
  return Promise.all(
    targets.map(async (t) => {
      const actual = wait
        ? await untilReachable(() => fetchChainId(t.rpcUrl), { ...wait, what: "L2", fields: reachFields(t) })
        : await fetchChainId(t.rpcUrl);
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
    await untilReachable(() => view.start(), { log, signal, what: "L2", fields: reachFields(target) });
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

function reachFields(t: L2Target): Record<string, unknown> {
  return { rpcUrl: redactUrl(t.rpcUrl), ...(t.chainId ? { chainId: t.chainId } : {}) };
}
