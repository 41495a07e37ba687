/**
 * Pipelined transaction submission for one chain and one key: nonces are assigned locally and
 * transactions signed synchronously (so the caller can journal the exact raw transaction before
 * it leaves), sent without waiting for earlier ones to be mined, and their receipts collected
 * by one batched poller. A transaction without a receipt is re-broadcast (idempotent: same
 * bytes); a nonce the node refused outright is reused by the next transaction.
 */

import { sleep } from "../util/sleep.js";
import type { Logger } from "./log.js";
import { RpcCallError, type RpcClient } from "./rpc-client.js";
import type { Signer } from "./signer.js";
import { Broadcaster } from "./tx-broadcast.js";
import { type SignedTx, signEip1559, signLegacy } from "./tx-sign.js";

export type { SignedTx } from "./tx-sign.js";
export { signEip1559 } from "./tx-sign.js";

export interface RawLog {
  address: string;
  topics: string[];
  data: string;
}

export interface RawReceipt {
  transactionHash: string;
  status: string;
  blockNumber: string;
  gasUsed: string;
  logs: RawLog[];
}

/** What TxPipeline.reconcile repaired. */
export interface Reconciled<T extends SignedTx = SignedTx> {
  /** The account's pending nonce on the chain. */
  chainNonce: number;
  /** Nonces of ours the chain no longer holds. */
  lost: number[];
  /** Transactions still waiting that the chain's pool had lost, broadcast again. */
  resent: number;
  /** Nonces another sender of this key used: ours go after them. */
  skipped?: number;
  /** Journaled transactions the chain had mined and lost, sent again as they were. */
  sentAgain: Array<{ tx: T; receipt: Promise<RawReceipt> }>;
}

/** The nonce went to another transaction of this key: sign the call again. */
export class NonceConflictError extends Error {}

/** The node refused the transaction for good (e.g. funds); its nonce has been released. */
export class TxRefusedError extends Error {}

interface Waiter {
  tx: SignedTx;
  resolve(receipt: RawReceipt): void;
  reject(error: Error): void;
  lastBroadcast: number;
  startedAt: number;
  /** When the node first said "nonce too low" without a receipt for this transaction. */
  nonceTooLowSince?: number;
}

const POLL_MS = 40;
const RECEIPT_BATCH = 100;
/** A transaction without a receipt this long is sent again (same bytes), in case the node lost it. */
const REBROADCAST_MS = 10_000;
const RECEIPT_TIMEOUT_MS = 180_000;
const FEE_REFRESH_MS = 5_000;
/** How long a "nonce too low" transaction may take to show its receipt before it counts as displaced. */
const NONCE_CONFLICT_GRACE_MS = 15_000;
/** A waiting transaction sent this long ago that the chain does not count was lost with its pool. */
const RECONCILE_STALE_MS = 1_000;
/** How nodes word a broadcast of a transaction they hold already, and of a nonce mined already. */
const ALREADY_KNOWN = /already known|known transaction|already imported/;
const NONCE_USED = /nonce too low|nonce has already been used/;

export class TxPipeline {
  private nextNonce = 0;
  private readonly freeNonces: number[] = [];
  private readonly waiting = new Map<string, Waiter>();
  private maxFeePerGas = 0n;
  private maxPriorityFeePerGas = 0n;
  private legacyGasPrice: bigint | undefined;
  private feesAt = 0;
  private polling = false;
  private lastHead: string | undefined;
  /** Whether the last poll saw a new block. */
  private chainMoving = false;
  private stopped = false;
  private pollTimer: NodeJS.Timeout | undefined;
  /** Sends in batches, each with its answer read by settleBroadcast. */
  private readonly broadcaster: Broadcaster;

  constructor(
    private readonly rpc: RpcClient,
    readonly chainId: number,
    private readonly wallet: Signer,
    private readonly log: Logger,
  ) {
    this.broadcaster = new Broadcaster(rpc, (tx, error) => this.settleBroadcast(tx, error));
  }

  get address(): string {
    return this.wallet.address;
  }

  /**
   * Reads the account's pending nonce and current fees. `held`: nonces of journaled
   * transactions about to be sent again; the next nonce goes past them, and the unheld ones
   * between the chain's nonce and them are handed out first.
   */
  async start(chainNonce?: number, held: number[] = []): Promise<void> {
    const pending = chainNonce ?? (await this.chainNonce());
    const top = held.reduce((n, h) => Math.max(n, h + 1), pending);
    this.freeNonces.length = 0;
    const taken = new Set(held);
    for (let n = pending; n < top; n++) if (!taken.has(n)) this.freeNonces.push(n);
    this.nextNonce = top;
    await this.refreshFees();
    await this.broadcaster.detectNode();
  }

  /** Moves the next nonce up to the chain's pending nonce (never down: our own transactions may be in flight). */
  async resync(): Promise<void> {
    this.nextNonce = Math.max(this.nextNonce, await this.chainNonce());
  }

  /** The chain's pending nonce of this account. */
  async chainNonce(): Promise<number> {
    return Number(
      BigInt(await this.rpc.call<string>("eth_getTransactionCount", [this.wallet.address, "pending"])),
    );
  }

  private async refreshFees(): Promise<void> {
    const block = await this.rpc.call<{ baseFeePerGas?: string } | null>("eth_getBlockByNumber", [
      "latest",
      false,
    ]);
    if (block?.baseFeePerGas !== undefined) {
      const base = BigInt(block.baseFeePerGas);
      let tip = 1_000_000_000n;
      try {
        tip = BigInt(await this.rpc.call<string>("eth_maxPriorityFeePerGas"));
      } catch {
        // not every node has it; 1 gwei is a fine tip
      }
      this.maxPriorityFeePerGas = tip;
      // Room for the base fee to double twice before a signed transaction goes stale.
      this.maxFeePerGas = base * 4n + tip;
      this.legacyGasPrice = undefined;
    } else {
      this.legacyGasPrice = (BigInt(await this.rpc.call<string>("eth_gasPrice")) * 12n) / 10n;
    }
    this.feesAt = Date.now();
  }

  /** Signs a call with the next nonce. Synchronous: journal the result, then broadcast it. */
  sign(to: string, data: string, gasLimit: bigint): SignedTx {
    this.freeNonces.sort((a, b) => a - b);
    const nonce = this.freeNonces.length > 0 ? this.freeNonces.shift()! : this.nextNonce++;
    if (this.legacyGasPrice === undefined) {
      return signEip1559(this.wallet.signingKey, {
        chainId: BigInt(this.chainId),
        nonce: BigInt(nonce),
        maxPriorityFeePerGas: this.maxPriorityFeePerGas,
        maxFeePerGas: this.maxFeePerGas,
        gasLimit,
        to,
        data,
      });
    }
    return signLegacy(this.wallet.signingKey, {
      chainId: BigInt(this.chainId),
      nonce,
      gasPrice: this.legacyGasPrice,
      gasLimit,
      to,
      data,
    });
  }

  /** Gives back the nonce of a signed transaction that will never be sent. */
  release(tx: SignedTx): void {
    if (!this.freeNonces.includes(tx.nonce)) this.freeNonces.push(tx.nonce);
  }

  /**
   * Sends a signed transaction and resolves with its receipt. Rejects with NonceConflictError
   * or TxRefusedError (nonce released) when it can never be mined.
   */
  async send(tx: SignedTx): Promise<RawReceipt> {
    const receipt = new Promise<RawReceipt>((resolve, reject) => {
      this.waiting.set(tx.txHash, { tx, resolve, reject, lastBroadcast: Date.now(), startedAt: Date.now() });
    });
    try {
      await this.broadcaster.send(tx);
    } catch (error) {
      const waiter = this.waiting.get(tx.txHash);
      this.waiting.delete(tx.txHash);
      waiter?.reject(error as Error);
    }
    this.schedulePoll();
    return receipt;
  }

  /** Re-sends a journaled raw transaction (after a restart) and resolves with its receipt. */
  resume(tx: SignedTx): Promise<RawReceipt> {
    return this.send(tx);
  }

  /** What a broadcast's answer means; throws TxRefusedError (nonce released) for a refusal. */
  private settleBroadcast(tx: SignedTx, error: unknown): void {
    if (error === undefined) return;
    if (!(error instanceof RpcCallError)) {
      // Unknown whether it arrived: the poller re-broadcasts until a receipt shows up.
      this.log.warn("transaction broadcast failed; will retry", {
        txHash: tx.txHash,
        error: (error as Error).message,
      });
      return;
    }
    const text = error.message.toLowerCase();
    if (ALREADY_KNOWN.test(text)) return;
    if (NONCE_USED.test(text)) {
      // Usually this transaction itself was mined and its receipt is on the way: the poller
      // decides, and only a receipt that never comes makes it a nonce conflict.
      const waiter = this.waiting.get(tx.txHash);
      if (waiter) waiter.nonceTooLowSince ??= Date.now();
      return;
    }
    this.release(tx);
    throw new TxRefusedError(error.message);
  }

  private schedulePoll(): void {
    if (this.polling || this.stopped || this.waiting.size === 0) return;
    this.polling = true;
    this.pollTimer = setTimeout(() => {
      void this.poll().finally(() => {
        this.polling = false;
        this.schedulePoll();
      });
    }, POLL_MS);
  }

  private async poll(): Promise<void> {
    if (Date.now() - this.feesAt > FEE_REFRESH_MS) await this.refreshFees().catch(() => undefined);
    // Receipts are only asked for when a block was added since the last look, and only for the
    // oldest transactions (they are mined in nonce order): a busy chain is not polled harder.
    const now0 = Date.now();
    const waiters: Waiter[] = [];
    for (const w of this.waiting.values()) {
      if (waiters.length >= RECEIPT_BATCH) break;
      waiters.push(w);
    }
    let answers: Awaited<ReturnType<RpcClient["batch"]>>;
    try {
      const due = waiters.some(
        (w) => now0 - w.lastBroadcast > REBROADCAST_MS || w.nonceTooLowSince !== undefined,
      );
      const receipts = waiters.map((w): [string, unknown[]] => ["eth_getTransactionReceipt", [w.tx.txHash]]);
      if (this.chainMoving || due) {
        // The chain moved at the last look (a busy pipeline): the head and the receipts in one
        // request instead of two.
        const all = await this.rpc.batch([["eth_blockNumber", []], ...receipts]);
        if (all[0]?.error) throw all[0].error;
        const head = all[0]?.result as string | undefined;
        this.chainMoving = head !== this.lastHead;
        this.lastHead = head;
        answers = all.slice(1);
      } else {
        const head = await this.rpc.call<string>("eth_blockNumber");
        if (head === this.lastHead) return;
        this.chainMoving = true;
        this.lastHead = head;
        answers = await this.rpc.batch(receipts);
      }
    } catch (error) {
      this.log.warn("receipt poll failed", { error: (error as Error).message });
      await sleep(500);
      return;
    }
    const now = Date.now();
    for (let i = 0; i < waiters.length; i++) {
      const w = waiters[i]!;
      const receipt = answers[i]?.result as RawReceipt | null | undefined;
      if (receipt) {
        this.waiting.delete(w.tx.txHash);
        w.resolve(receipt);
      } else if (w.nonceTooLowSince !== undefined) {
        if (now - w.nonceTooLowSince > NONCE_CONFLICT_GRACE_MS) {
          this.waiting.delete(w.tx.txHash);
          w.reject(
            new NonceConflictError(
              `nonce ${w.tx.nonce} was used by another transaction of ${this.wallet.address}`,
            ),
          );
        }
      } else if (now - w.startedAt > RECEIPT_TIMEOUT_MS) {
        this.waiting.delete(w.tx.txHash);
        w.reject(new Error(`no receipt for ${w.tx.txHash} within ${RECEIPT_TIMEOUT_MS / 1000} s`));
      } else if (now - w.lastBroadcast > REBROADCAST_MS) {
        w.lastBroadcast = now;
        this.broadcaster.send(w.tx).catch((error: Error) => {
          this.waiting.delete(w.tx.txHash);
          w.reject(error);
        });
      }
    }
  }

  /**
   * Checks this key's nonces against the chain's and repairs what a chain restarted from an
   * older state broke (the L2 anvil killed and started again from its state file, by a
   * supervisor or Docker's restart policy). `journaled` names the signed transactions of ours
   * at or above a nonce that were mined before (the journal's verdicts): those the chain lost
   * are sent again as they were, in nonce order (same nonce, same hash: `sentAgain`, each with
   * its receipt). The other nonces it no longer holds are taken again, by no-op transfers to
   * ourselves below a transaction still waiting (a gap would hold that one back for ever) and by
   * the next transactions above; what waits for a receipt but is not in the chain's pool any
   * more is sent again now (`resent`). When the chain counts more than this pipeline sent
   * (another sender of the same key), the next nonce moves up to the chain's (`skipped`).
   * Undefined when nothing was amiss.
   */
  async reconcile<T extends SignedTx = SignedTx>(
    journaled?: (fromNonce: number) => T[],
  ): Promise<Reconciled<T> | undefined> {
    if (this.stopped) return undefined;
    const before = [...this.waiting.keys()];
    const chain = await this.chainNonce();
    // A transaction settled meanwhile may be one the chain counted after our read: next round.
    if (this.stopped || before.some((h) => !this.waiting.has(h))) return undefined;
    if (chain > this.nextNonce) {
      // Someone else sent with this key (the devnet's relayer shares the governance key that
      // task-def commands sign with): ours go after theirs, not one conflict at a time.
      const skipped = chain - this.nextNonce;
      this.nextNonce = chain;
      this.freeNonces.length = 0;
      return { chainNonce: chain, lost: [], resent: 0, skipped, sentAgain: [] };
    }
    const now = Date.now();
    const byNonce = new Map<number, Waiter>();
    for (const w of this.waiting.values()) byNonce.set(w.tx.nonce, w);
    const queued = this.broadcaster.queuedNonces();
    const lost: number[] = [];
    const stale: Waiter[] = [];
    for (let n = chain; n < this.nextNonce; n++) {
      const w = byNonce.get(n);
      if (w) {
        if (!queued.has(n) && now - w.lastBroadcast > RECONCILE_STALE_MS) stale.push(w);
      } else if (!queued.has(n) && !this.freeNonces.includes(n)) lost.push(n);
    }
    if (lost.length === 0 && stale.length === 0) return undefined;
    // The first transaction the journal names for a lost nonce is the one the chain had mined.
    const again = new Map<number, T>();
    const lostSet = new Set(lost);
    if (lost.length > 0 && journaled)
      for (const tx of journaled(chain))
        if (lostSet.has(tx.nonce) && !again.has(tx.nonce)) again.set(tx.nonce, tx);
    let top = chain;
    for (const n of [...byNonce.keys(), ...again.keys()]) if (n >= chain) top = Math.max(top, n + 1);
    for (const w of stale) {
      w.lastBroadcast = now;
      w.nonceTooLowSince = undefined;
      this.broadcaster.send(w.tx).catch((error: Error) => {
        this.waiting.delete(w.tx.txHash);
        w.reject(error);
      });
    }
    const sentAgain = [...again.values()]
      .sort((a, b) => a.nonce - b.nonce)
      .map((tx) => {
        const receipt = this.send(tx);
        // the caller takes the outcome after awaiting this call: not an unhandled rejection meanwhile
        receipt.catch(() => undefined);
        return { tx, receipt };
      });
    // Every other nonce below `top` that nothing holds is a gap: filled now, by sign() taking the free ones.
    const gaps = [...this.freeNonces, ...lost].filter((n) => n >= chain && n < top && !again.has(n));
    this.freeNonces.length = 0;
    this.freeNonces.push(...gaps);
    this.nextNonce = top;
    for (let i = 0; i < gaps.length; i++)
      this.send(this.sign(this.wallet.address, "0x", 21_000n)).catch(() => undefined);
    return { chainNonce: chain, lost, resent: stale.length, sentAgain };
  }

  /** How many transactions wait for a receipt. */
  get inFlight(): number {
    return this.waiting.size;
  }

  stop(): void {
    this.stopped = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    for (const w of this.waiting.values()) w.reject(new Error("node stopping"));
    this.waiting.clear();
  }
}
