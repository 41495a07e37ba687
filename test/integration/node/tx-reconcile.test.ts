/**
 * The aggregator's transaction pipeline after its L2 was started again from an older state
 * (issue 18): evm_revert plays the chain that lost its last second. reconcile() sees the nonces
 * the chain no longer counts, sends the journaled transactions the chain had mined again as
 * they were, fills the other gaps below a transaction still waiting with no-op transfers, and
 * hands the rest out again, so what follows is mined instead of waiting for ever.
 */

import { JsonRpcProvider, NonceManager, Wallet } from "ethers";
import { expect, it } from "vitest";
import { createLogger } from "../../../src/node/log.js";
import { RpcClient } from "../../../src/node/rpc-client.js";
import { TxPipeline } from "../../../src/node/tx-pipeline.js";
import { ANVIL_DEV_PRIVATE_KEYS, rpc, useAnvil } from "../../helpers/anvil.js";

const chain = useAnvil({ chainId: 31338 });

/** A started pipeline of dev key `keyIndex` on the chain, given to `use` and stopped after. */
async function withPipeline(keyIndex: number, use: (pipeline: TxPipeline, rpcUrl: string) => Promise<void>) {
  const { rpcUrl } = chain();
  const wallet = new Wallet(ANVIL_DEV_PRIVATE_KEYS[keyIndex]!);
  const pipeline = new TxPipeline(new RpcClient(rpcUrl), 31338, wallet, createLogger(undefined));
  try {
    await pipeline.start();
    await use(pipeline, rpcUrl);
  } finally {
    pipeline.stop();
  }
}

it("resyncs its nonces with a chain that lost its newest transactions", () =>
  withPipeline(5, async (pipeline, rpcUrl) => {
    const to = "0x00000000000000000000000000000000000000aa";
    const first = await pipeline.chainNonce();
    expect(await pipeline.reconcile()).toBeUndefined();

    const snapshot = await rpc<string>(rpcUrl, "evm_snapshot");
    for (let i = 0; i < 2; i++) {
      const receipt = await pipeline.send(pipeline.sign(to, "0x", 30_000n));
      expect(receipt.status).toBe("0x1");
    }
    // the chain forgets both (its state file was a second old); the next transaction is signed
    // before anyone noticed, with a nonce the chain cannot mine yet
    expect(await rpc(rpcUrl, "evm_revert", [snapshot])).toBe(true);
    expect(await pipeline.chainNonce()).toBe(first);
    const stuck = pipeline.sign(to, "0x", 30_000n);
    expect(stuck.nonce).toBe(first + 2);
    const mined = pipeline.send(stuck);

    const repaired = await pipeline.reconcile();
    expect(repaired).toMatchObject({ chainNonce: first, lost: [first, first + 1] });
    expect((await mined).status).toBe("0x1");
    // and what comes next follows it
    const next = pipeline.sign(to, "0x", 30_000n);
    expect(next.nonce).toBe(first + 3);
    expect((await pipeline.send(next)).status).toBe("0x1");
    expect(await pipeline.chainNonce()).toBe(first + 4);
    expect(await pipeline.reconcile()).toBeUndefined();
  }));

it("sends the mined transactions a chain lost again as they were, in nonce order, and fills only the other gaps", () =>
  withPipeline(8, async (pipeline, rpcUrl) => {
    const to = "0x00000000000000000000000000000000000000dd";
    const first = await pipeline.chainNonce();
    const snapshot = await rpc<string>(rpcUrl, "evm_snapshot");
    const mined = [];
    for (let i = 0; i < 3; i++) {
      const tx = pipeline.sign(to, `0x0${i}`, 30_000n);
      expect((await pipeline.send(tx)).status).toBe("0x1");
      mined.push(tx);
    }
    expect(await rpc(rpcUrl, "evm_revert", [snapshot])).toBe(true);
    // the journal holds the first and the last (the middle one's was let go)
    const journaled = [mined[2]!, mined[0]!];
    const asked: number[] = [];
    const repaired = await pipeline.reconcile((from) => {
      asked.push(from);
      return journaled;
    });
    expect(asked).toEqual([first]);
    expect(repaired).toMatchObject({ chainNonce: first, lost: [first, first + 1, first + 2], resent: 0 });
    expect(repaired!.sentAgain.map((s) => s.tx.txHash)).toEqual([mined[0]!.txHash, mined[2]!.txHash]);
    const receipts = await Promise.all(repaired!.sentAgain.map((s) => s.receipt));
    expect(receipts.map((r) => [r.transactionHash, r.status])).toEqual([
      [mined[0]!.txHash, "0x1"],
      [mined[2]!.txHash, "0x1"],
    ]);
    // the middle nonce went to a no-op transfer to ourselves (the last one is mined after it)
    expect(await rpc(rpcUrl, "eth_getTransactionReceipt", [mined[1]!.txHash])).toBeNull();
    expect(await pipeline.chainNonce()).toBe(first + 3);
    const next = pipeline.sign(to, "0x", 30_000n);
    expect(next.nonce).toBe(first + 3);
    expect((await pipeline.send(next)).status).toBe("0x1");
    expect(await pipeline.reconcile()).toBeUndefined();
  }));

it("moves its next nonce past transactions another sender of the same key made", () =>
  withPipeline(7, async (pipeline, rpcUrl) => {
    const to = "0x00000000000000000000000000000000000000cc";
    expect((await pipeline.send(pipeline.sign(to, "0x", 30_000n))).status).toBe("0x1");
    // the devnet's task-def commands sign with the governance key the relayer sends with
    const provider = new JsonRpcProvider(rpcUrl);
    const other = new NonceManager(new Wallet(ANVIL_DEV_PRIVATE_KEYS[7]!, provider));
    for (let i = 0; i < 3; i++) await (await other.sendTransaction({ to, value: 1n })).wait();
    const chainNonce = await pipeline.chainNonce();
    expect(await pipeline.reconcile()).toEqual({
      chainNonce,
      lost: [],
      resent: 0,
      skipped: 3,
      sentAgain: [],
    });
    const next = pipeline.sign(to, "0x", 30_000n);
    expect(next.nonce).toBe(chainNonce);
    expect((await pipeline.send(next)).status).toBe("0x1");
    expect(await pipeline.reconcile()).toBeUndefined();
    provider.destroy();
  }));

it("sends a turn's transactions to anvil so that they land in one block, with no empty block, and reads each answer right", () =>
  withPipeline(6, async (pipeline, rpcUrl) => {
    const to = "0x00000000000000000000000000000000000000bb";
    const before = Number(await rpc<string>(rpcUrl, "eth_blockNumber"));
    const signed = Array.from({ length: 20 }, () => pipeline.sign(to, "0x", 30_000n));
    // one of them below the intrinsic gas: anvil refuses that one alone
    const refused = pipeline.sign(to, "0x", 20_000n);
    const sent = signed.map((tx) => pipeline.send(tx));
    const refusal = pipeline.send(refused).then(
      () => "sent",
      (error: Error) => error.message,
    );
    const receipts = await Promise.all(sent);
    expect(await refusal).toMatch(/gas/i);
    expect(receipts.every((r) => r.status === "0x1")).toBe(true);
    // in nonce order, anvil's automine takes each as it comes: often a block each; and a miner
    // racing the request mines empty blocks
    const blocks = new Set(receipts.map((r) => r.blockNumber));
    expect(blocks.size).toBe(1);
    expect(Number(await rpc<string>(rpcUrl, "eth_blockNumber")) - before).toBe(1);
  }));
