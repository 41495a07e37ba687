/**
 * eth_sendRawTransaction in batches for the tx pipeline: transactions signed in the same
 * event-loop turn leave in one HTTP request (a node's cost is per request as much as per
 * transaction).
 */

import type { RpcClient } from "./rpc-client.js";
import type { SignedTx } from "./tx-sign.js";

/** Raw transactions per eth_sendRawTransaction batch request. */
const SEND_BATCH = 100;

interface Queued {
  tx: SignedTx;
  resolve(): void;
  reject(error: Error): void;
}

export class Broadcaster {
  private queue: Queued[] = [];
  /**
   * Whether the node is anvil, which (automining) mines a block whenever a transaction becomes
   * ready: a batch sent in nonce order lands in as many blocks as its miner wakes up while the
   * batch comes in, and each block costs anvil a state root over all its storage. Sent highest
   * nonce first, with the lowest alone after the rest (see post), the batch lands in one block.
   * Other nodes get nonce order: some refuse a transaction after a nonce gap.
   */
  highestNonceFirst = false;

  /** `settle` says what the node's answer (an error, or undefined) means; it throws for a refusal. */
  constructor(
    private readonly rpc: RpcClient,
    private readonly settle: (tx: SignedTx, error: unknown) => void,
  ) {}

  /** Reads whether the node is anvil (see highestNonceFirst). */
  async detectNode(): Promise<void> {
    const client = await this.rpc.call<string>("web3_clientVersion").catch(() => "");
    this.highestNonceFirst = typeof client === "string" && client.startsWith("anvil/");
  }

  /** Resolves once the node took the transaction (or may have); rejects with what `settle` threw. */
  send(tx: SignedTx): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.queue.length === 0) setImmediate(() => void this.flush());
      this.queue.push({ tx, resolve, reject });
    });
  }

  /** Nonces waiting for the next batch. */
  queuedNonces(): Set<number> {
    return new Set(this.queue.map((q) => q.tx.nonce));
  }

  private async flush(): Promise<void> {
    const queue = this.queue;
    this.queue = [];
    // Chunks leave one after the other.
    for (let i = 0; i < queue.length; i += SEND_BATCH) {
      const chunk = queue.slice(i, i + SEND_BATCH);
      let errors: unknown[];
      try {
        errors = await this.post(chunk);
      } catch (error) {
        errors = chunk.map(() => error);
      }
      chunk.forEach((q, j) => {
        try {
          this.settle(q.tx, errors[j]);
          q.resolve();
        } catch (error) {
          q.reject(error as Error);
        }
      });
    }
  }

  /** Each transaction's error (undefined when the node took it), in the chunk's order. */
  private async post(chunk: Queued[]): Promise<unknown[]> {
    if (chunk.length === 1) return [await this.postOne(chunk[0]!)];
    const order = chunk.map((_q, j) => j);
    if (!this.highestNonceFirst) return this.postInOrder(chunk, order);
    order.sort((a, b) => chunk[b]!.tx.nonce - chunk[a]!.tx.nonce);
    // The lowest nonce goes alone once the others sit in the pool: sent in the same request,
    // anvil wakes its miner while the batch comes in and mines empty blocks (about one per four
    // transactions), each a state root over all storage.
    const lowest = order.pop()!;
    const errors = await this.postInOrder(chunk, order);
    errors[lowest] = await this.postOne(chunk[lowest]!);
    return errors;
  }

  private postOne(q: Queued): Promise<unknown> {
    return this.rpc.call("eth_sendRawTransaction", [q.tx.rawTx]).then(
      () => undefined,
      (error: unknown) => error,
    );
  }

  private async postInOrder(chunk: Queued[], order: number[]): Promise<unknown[]> {
    const answers = await this.rpc.batch(
      order.map((j): [string, unknown[]] => ["eth_sendRawTransaction", [chunk[j]!.tx.rawTx]]),
    );
    const errors = new Array<unknown>(chunk.length);
    order.forEach((j, k) => {
      errors[j] = answers[k]?.error;
    });
    return errors;
  }
}
