/**
 * One account sending transactions: locally tracked nonces (several can be in flight),
 * receipts polled every 50 ms, reverts decoded by name (the one translator in ./rpc.ts).
 */

import createDebug from "debug";
import {
  type AbstractSigner,
  ContractFactory,
  type InterfaceAbi,
  type JsonRpcProvider,
  type Provider,
  type TransactionReceipt,
  type TransactionRequest,
  Wallet,
} from "ethers";
import { AvsctlError } from "../errors.js";
import { sleep } from "../util/sleep.js";
import { type ContractName, loadArtifact } from "./artifacts.js";
import { chainProvider, fetchChainId, translateChainError } from "./rpc.js";
import { checksumAddress } from "./units.js";

const debug = createDebug("avsctl:chain:sender");

export type ChainSigner = { rpcUrl: string; privateKey: string } | { signer: AbstractSigner };

const RECEIPT_POLL_MS = 50;
const RECEIPT_TIMEOUT_MS = 120_000;

/**
 * Sends transactions from one account with locally tracked nonces (so several can be in
 * flight) and waits for receipts by polling. Reverts come back as TX_REVERTED with the custom
 * error decoded by name.
 */
export class Sender {
  private nonce: number | undefined;

  private constructor(
    readonly signer: AbstractSigner,
    readonly provider: Provider,
    readonly address: string,
    readonly chainId: number,
    private readonly owned: JsonRpcProvider | undefined,
  ) {}

  static async open(input: ChainSigner): Promise<Sender> {
    if ("signer" in input) {
      const provider = input.signer.provider;
      if (!provider) throw new AvsctlError("INVALID_ARGUMENT", "signer: not connected to a provider");
      const network = await provider.getNetwork();
      return new Sender(
        input.signer,
        provider,
        await input.signer.getAddress(),
        Number(network.chainId),
        undefined,
      );
    }
    const chainId = await fetchChainId(input.rpcUrl);
    // no response cache: nonces and receipts must be fresh on every call
    const provider = await chainProvider(input.rpcUrl, chainId, {
      cacheTimeout: -1,
      pollingInterval: RECEIPT_POLL_MS,
      // no 10 ms batching stall per call (see connectRpc)
      batchStallTime: 0,
    });
    let wallet: Wallet;
    try {
      wallet = new Wallet(input.privateKey, provider);
    } catch (error) {
      provider.destroy();
      throw new AvsctlError("INVALID_KEY", "not a valid secp256k1 private key", { cause: error });
    }
    return new Sender(wallet, provider, wallet.address, chainId, provider);
  }

  close(): void {
    this.owned?.destroy();
  }

  async nextNonce(): Promise<number> {
    this.nonce ??= await this.provider.getTransactionCount(this.address, "pending");
    return this.nonce++;
  }

  /**
   * Estimate (a revert is decoded here and nothing is sent), then send with the next nonce or
   * the one the request fixes.
   */
  async send(tx: TransactionRequest, action: string): Promise<string> {
    let gasLimit: bigint;
    try {
      gasLimit = await this.provider.estimateGas({ ...tx, from: this.address });
    } catch (error) {
      throw await translateChainError(error, { action });
    }
    const nonce = tx.nonce ?? (await this.nextNonce());
    try {
      const response = await this.signer.sendTransaction({ ...tx, nonce, gasLimit: (gasLimit * 12n) / 10n });
      debug("%s: sent %s (nonce %d)", action, response.hash, nonce);
      return response.hash;
    } catch (error) {
      // the nonce may or may not have been used: ask the node next time
      this.nonce = undefined;
      throw await translateChainError(error, { action });
    }
  }

  async wait(hash: string, action: string): Promise<TransactionReceipt> {
    const deadline = Date.now() + RECEIPT_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const receipt = await this.provider.getTransactionReceipt(hash);
      if (receipt) {
        if (receipt.status !== 1) {
          throw new AvsctlError("TX_REVERTED", `${action} reverted on-chain (tx ${hash})`, {
            details: { txHash: hash },
          });
        }
        return receipt;
      }
      await sleep(RECEIPT_POLL_MS);
    }
    throw new AvsctlError(
      "TIMEOUT",
      `${action}: no receipt for ${hash} within ${RECEIPT_TIMEOUT_MS / 1000} s`,
    );
  }

  async run(tx: TransactionRequest, action: string): Promise<TransactionReceipt> {
    return this.wait(await this.send(tx, action), action);
  }

  async deployTx(name: ContractName, args: unknown[]): Promise<TransactionRequest> {
    const artifact = loadArtifact(name);
    const factory = new ContractFactory(artifact.abi as InterfaceAbi, artifact.bytecode);
    return factory.getDeployTransaction(...args);
  }
}

export async function withSender<T>(input: ChainSigner, fn: (sender: Sender) => Promise<T>): Promise<T> {
  const sender = await Sender.open(input);
  try {
    return await fn(sender);
  } finally {
    sender.close();
  }
}

export function optionalAddress(value: string | undefined, name: string, fallback: string): string {
  return value === undefined ? fallback : requireAddress(value, name);
}

export const requireAddress = checksumAddress;
