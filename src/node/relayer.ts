/**
 * The registration relayer: the devnet's stand-in for Othentic's L1 -> L2 message bridge.
 * It follows AvsGovernance's OperatorRegistered / OperatorUnregistered events on L1 and
 * mirrors each one to every L2 AttestationCenter (`registerToNetwork` /
 * `unRegisterOperatorFromNetwork`, callable by the message handler only). Replaying history is
 * harmless: a registration that is already mirrored is skipped after a dry run.
 */

import { Interface } from "ethers/abi";
import { fetchChainId } from "../chain/rpc.js";
import { AvsctlError } from "../errors.js";
import { sleep } from "../util/sleep.js";
import { revertOf } from "./chain-errors.js";
import { createLogger, type LogSink } from "./log.js";
import type { L2Target } from "./options.js";
import { RpcClient } from "./rpc-client.js";
import { signerOf } from "./signer.js";
import { TxPipeline } from "./tx-pipeline.js";

export interface RelayerOptions {
  l1: { rpcUrl: string; avsGovernance: string };
  l2: L2Target[];
  /** A key holding the MESSAGE_HANDLER role on every L2 AttestationCenter. */
  privateKey: string;
  /** L1 polling period (default 1 s). */
  pollMs?: number;
  /** First L1 block to read (default 0: the whole history). */
  fromBlock?: bigint;
  log?: LogSink;
  signal?: AbortSignal;
}

export interface RelayerHandle {
  /** Mirrors everything up to the current L1 head now (also what each poll does). */
  syncNow(): Promise<void>;
  stop(): Promise<void>;
}

const l1Iface = new Interface([
  "event OperatorRegistered(address indexed operator, uint256 votingPower, uint256[4] blsKey, address rewardsReceiver)",
  "event OperatorUnregistered(address indexed operator)",
]);
const l2Iface = new Interface([
  "function registerToNetwork(address _operator, uint256 _votingPower, uint256[4] _blsKey, address _rewardsReceiver)",
  "function unRegisterOperatorFromNetwork(address _operator)",
]);
const TOPICS = [
  l1Iface.getEvent("OperatorRegistered")!.topicHash,
  l1Iface.getEvent("OperatorUnregistered")!.topicHash,
];
const SKIPPABLE = new Set(["OperatorAlreadyRegistered", "OperatorNotRegistered"]);
const MAX_RANGE = 5_000n;

interface RawLogEntry {
  topics: string[];
  data: string;
  blockNumber: string;
  logIndex: string;
}

/** Starts the relayer; it mirrors the L1 history first, then polls. */
export async function startRelayer(opts: RelayerOptions): Promise<RelayerHandle> {
  const log = createLogger(opts.log, { role: "relayer" });
  const abort = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, abort.signal]) : abort.signal;
  const wallet = signerOf(opts.privateKey);
  const l1 = new RpcClient(opts.l1.rpcUrl, { signal });
  const chains = await Promise.all(
    opts.l2.map(async (t) => {
      const chainId = t.chainId || (await fetchChainId(t.rpcUrl));
      const rpc = new RpcClient(t.rpcUrl, { signal });
      const pipeline = new TxPipeline(rpc, chainId, wallet, log);
      await pipeline.start();
      return { target: { ...t, chainId }, rpc, pipeline };
    }),
  );
  let next = opts.fromBlock ?? 0n;

  async function mirror(call: string, what: Record<string, unknown>): Promise<void> {
    for (const chain of chains) {
      const ac = chain.target.attestationCenter;
      try {
        await chain.rpc.call("eth_call", [{ from: wallet.address, to: ac, data: call }, "latest"]);
      } catch (error) {
        const decoded = revertOf(error);
        const revert = decoded?.label ?? (error as Error).message;
        // replaying L1 history meets registrations the L2 already has: expected, not an error
        if (decoded && SKIPPABLE.has(decoded.name)) {
          log.info("already mirrored; skipped", { chainId: chain.target.chainId, ...what, revert });
          continue;
        }
        log.error("relay would revert; skipped", { chainId: chain.target.chainId, ...what, revert });
        continue;
      }
      // An L2 started again from an older state may have lost our last transactions: their
      // nonces are taken again rather than left as a gap (one read per relayed transaction).
      await chain.pipeline.reconcile().catch(() => undefined);
      const tx = chain.pipeline.sign(ac, call, 1_500_000n);
      const receipt = await chain.pipeline.send(tx);
      if (receipt.status !== "0x1") {
        throw new AvsctlError(
          "TX_REVERTED",
          `relay transaction ${tx.txHash} reverted on chain ${chain.target.chainId}`,
        );
      }
      log.info("registration mirrored", { chainId: chain.target.chainId, txHash: tx.txHash, ...what });
    }
  }

  let running: Promise<void> | undefined;
  async function sync(): Promise<void> {
    const head = BigInt(await l1.call<string>("eth_blockNumber"));
    while (next <= head && !signal.aborted) {
      const to = next + MAX_RANGE - 1n < head ? next + MAX_RANGE - 1n : head;
      const logs = await l1.call<RawLogEntry[]>("eth_getLogs", [
        {
          address: opts.l1.avsGovernance,
          topics: [TOPICS],
          fromBlock: `0x${next.toString(16)}`,
          toBlock: `0x${to.toString(16)}`,
        },
      ]);
      logs.sort(
        (a, b) =>
          Number(BigInt(a.blockNumber) - BigInt(b.blockNumber)) ||
          Number(BigInt(a.logIndex) - BigInt(b.logIndex)),
      );
      for (const entry of logs) {
        const parsed = l1Iface.parseLog(entry);
        if (!parsed) continue;
        if (parsed.name === "OperatorRegistered") {
          const { operator, votingPower, blsKey, rewardsReceiver } = parsed.args;
          await mirror(
            l2Iface.encodeFunctionData("registerToNetwork", [
              operator,
              votingPower,
              [...blsKey],
              rewardsReceiver,
            ]),
            {
              event: "OperatorRegistered",
              operator,
            },
          );
        } else {
          await mirror(l2Iface.encodeFunctionData("unRegisterOperatorFromNetwork", [parsed.args.operator]), {
            event: "OperatorUnregistered",
            operator: parsed.args.operator,
          });
        }
      }
      next = to + 1n;
    }
  }
  const syncNow = (): Promise<void> => {
    running ??= sync().finally(() => {
      running = undefined;
    });
    return running;
  };

  await syncNow();
  const loop = (async () => {
    while (!signal.aborted) {
      await sleep(opts.pollMs ?? 1_000, signal);
      if (signal.aborted) break;
      await syncNow().catch((error: Error) => log.warn("relayer poll failed", { error: error.message }));
    }
  })();
  log.info("relayer running", {
    avsGovernance: opts.l1.avsGovernance,
    chains: chains.map((c) => c.target.chainId),
  });

  return {
    syncNow,
    stop: async () => {
      abort.abort();
      await loop;
      await running?.catch(() => undefined);
      for (const c of chains) c.pipeline.stop();
    },
  };
}
