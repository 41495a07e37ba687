/** Small helpers of the node runtime: key loading, a semaphore, a bounded cache. */

import { AvsctlError } from "../errors.js";
import { checkPrivateKey, type NodeCommonOptions } from "./options.js";
import { type Signer, signerOf } from "./signer.js";

/**
 * The operator wallet from `privateKey`, or from the `keystore` file (Web3 Secret Storage)
 * opened with `keystorePassword`. Errors never include the key.
 */
export async function loadOperatorWallet(
  opts: NodeCommonOptions,
  what: string,
): Promise<{ wallet: Signer; privateKey: string }> {
  if (opts.keystore) {
    if (opts.keystorePassword === undefined) {
      throw new AvsctlError("MISSING_ARGUMENT", "--keystore needs a password", {
        hint: "set AVSCTL_KEYSTORE_PASSWORD",
      });
    }
    const { readEcdsaKeystoreFile } = await import("../keys/formats.js");
    const { privateKey } = await readEcdsaKeystoreFile(opts.keystore, opts.keystorePassword, {
      argument: "--keystore",
    });
    return { wallet: signerOf(privateKey), privateKey: privateKey.toLowerCase() };
  }
  const privateKey = checkPrivateKey(opts.privateKey, what);
  return { wallet: signerOf(privateKey), privateKey };
}

/** Limits concurrent work; waiters queue in order. */
export class Semaphore {
  private active = 0;
  private readonly queue: Array<() => void> = [];
  constructor(private readonly limit: number) {}

  get waiting(): number {
    return this.queue.length;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.queue.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.queue.shift()?.();
    }
  }
}

/** A Map that forgets its oldest entries beyond `limit`. */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly limit: number) {
    super();
  }
  override set(key: K, value: V): this {
    if (!this.has(key) && this.size >= this.limit) this.delete(this.keys().next().value as K);
    return super.set(key, value);
  }
}

/** 0x-hex 32-byte word of a bigint. */
export function word(value: bigint): string {
  return `0x${value.toString(16).padStart(64, "0")}`;
}
