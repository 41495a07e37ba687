import {
  type Interface,
  type JsonRpcProvider,
  keccak256,
  type ParamType,
  type TransactionReceipt,
  type Wallet,
} from "ethers";
import { AvsctlError, isAvsctlError } from "../errors.js";
import { sleep } from "../util/sleep.js";
import { chainDidNotAnswer, redactUrl, translateChainError } from "./rpc.js";

export interface PreparedCall {
  /** The function signature, e.g. `setTaskDefinitionMinVotingPower(uint16,uint256)`. */
  method: string;
  args: Record<string, unknown>;
  to: string;
  data: string;
}

export interface SentCall {
  method: string;
  txHash: string;
  gasUsed: string;
  receipt: TransactionReceipt;
}

/** Encodes a call and names its arguments, for --dry-run and for the report. */
export function prepareCall(
  iface: Interface,
  to: string,
  signature: string,
  values: readonly unknown[],
): PreparedCall {
  const fragment = iface.getFunction(signature);
  if (!fragment) throw new Error(`ABI has no ${signature}`);
  const args: Record<string, unknown> = {};
  fragment.inputs.forEach((input, i) => {
    args[input.name || String(i)] = toPlain(input, values[i]);
  });
  return { method: fragment.format("sighash"), args, to, data: iface.encodeFunctionData(fragment, values) };
}

/** A value as JSON can show it; struct fields by their ABI names, so a reader need not count positions. */
function toPlain(param: ParamType | undefined, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) {
    if (param?.isTuple()) {
      const items = param.components.map((c, i) => toPlain(c, value[i]));
      return param.components.every((c) => c.name)
        ? Object.fromEntries(param.components.map((c, i) => [c.name, items[i]]))
        : items;
    }
    return value.map((v) => toPlain(param?.isArray() ? param.arrayChildren : undefined, v));
  }
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toPlain(undefined, v)]));
  return value;
}

/** What sendCall needs besides the call: the chain's URL, for errors, and what to do about a write it cannot settle. */
export interface SendOptions {
  rpcUrl?: string;
  /**
   * The hint of an error that leaves a transaction's fate open (sent, or maybe sent, and no
   * receipt seen): how to find out whether it took effect, and what running the command again
   * would do.
   */
  unsettledHint?: string;
  /** Facts such an error's details carry besides the transaction's (the definition a create made). */
  unsettledDetails?: Record<string, unknown>;
}

/** A transaction signed once: its hash is known before it is sent, and what is sent is these bytes. */
interface SignedTx {
  raw: string;
  hash: string;
  nonce: number;
}

const RECEIPT_POLL_MS = 100;
const RECEIPT_TIMEOUT_MS = 120_000;

/**
 * Estimates first (a revert is caught here, decoded, and nothing is sent), then signs, sends,
 * waits for the receipt and reports hash and gas. The transaction is signed once, so its hash is
 * known before it goes out: a send or a receipt read the chain does not answer ends with an
 * error naming it, since the transaction may be on its way (`details.txHash`, and
 * `details.rawTransaction`, the signed bytes: sending them again can only land that same
 * transaction, where signing again would make a second one with the next nonce).
 */
export async function sendCall(
  signer: Wallet,
  call: PreparedCall,
  opts: SendOptions = {},
): Promise<SentCall> {
  const action = call.method.split("(")[0]!;
  const { rpcUrl } = opts;
  const provider = signer.provider as JsonRpcProvider | null;
  if (!provider) throw new AvsctlError("INTERNAL", `${action}: the signer is not connected to a chain`);
  let gasLimit: bigint;
  try {
    gasLimit = await signer.estimateGas({ to: call.to, data: call.data });
  } catch (error) {
    throw await translateChainError(error, { action, rpcUrl });
  }
  let tx: SignedTx;
  try {
    const populated = await signer.populateTransaction({
      to: call.to,
      data: call.data,
      gasLimit: (gasLimit * 12n) / 10n,
    });
    const raw = await signer.signTransaction(populated);
    tx = { raw, hash: keccak256(raw), nonce: Number(populated.nonce) };
  } catch (error) {
    // nothing was sent
    throw await translateChainError(error, { action, rpcUrl });
  }
  try {
    await provider.send("eth_sendRawTransaction", [tx.raw]);
  } catch (error) {
    if (chainDidNotAnswer(error)) throw unsettled(call, tx, "unknown", error, opts);
    throw await translateChainError(error, { action, rpcUrl });
  }
  const receipt = await receiptOf(provider, call, tx, opts);
  if (receipt.status !== 1) {
    throw new AvsctlError("TX_REVERTED", `${action} reverted on-chain (tx ${receipt.hash})`, {
      details: { txHash: receipt.hash },
    });
  }
  return { method: call.method, txHash: receipt.hash, gasUsed: receipt.gasUsed.toString(), receipt };
}

/** Polls for the receipt of a sent transaction; a chain that stops answering meanwhile leaves it unsettled. */
async function receiptOf(
  provider: JsonRpcProvider,
  call: PreparedCall,
  tx: SignedTx,
  opts: SendOptions,
): Promise<TransactionReceipt> {
  const deadline = Date.now() + RECEIPT_TIMEOUT_MS;
  for (;;) {
    let receipt: TransactionReceipt | null;
    try {
      receipt = await provider.getTransactionReceipt(tx.hash);
    } catch (error) {
      if (chainDidNotAnswer(error)) throw unsettled(call, tx, "yes", error, opts);
      throw await translateChainError(error, { action: call.method.split("(")[0]!, rpcUrl: opts.rpcUrl });
    }
    if (receipt) return receipt;
    if (Date.now() >= deadline) throw unsettled(call, tx, "yes", undefined, opts);
    await sleep(RECEIPT_POLL_MS);
  }
}

/**
 * The error of a transaction whose fate avsctl could not learn: `sent` "unknown" when its send
 * got no answer (it may have reached the chain), "yes" when the chain took it and then gave no
 * receipt (it stopped answering, or none came within RECEIPT_TIMEOUT_MS: TIMEOUT).
 */
function unsettled(
  call: PreparedCall,
  tx: SignedTx,
  sent: "unknown" | "yes",
  cause: unknown,
  opts: SendOptions,
): AvsctlError {
  const action = call.method.split("(")[0]!;
  const what = `transaction ${tx.hash} (${action}, nonce ${tx.nonce})`;
  const timeoutMs = requestBound(cause);
  const url = opts.rpcUrl === undefined ? "the chain" : `the chain at ${redactUrl(opts.rpcUrl)}`;
  const silence =
    timeoutMs === undefined
      ? `${url} stopped answering`
      : `${url} did not answer within ${Math.round(timeoutMs / 100) / 10} s`;
  const details = {
    ...opts.unsettledDetails,
    ...(opts.rpcUrl === undefined ? {} : { rpcUrl: redactUrl(opts.rpcUrl) }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    method: call.method,
    txHash: tx.hash,
    nonce: tx.nonce,
    sent,
    rawTransaction: tx.raw,
  };
  const hint = opts.unsettledHint;
  if (cause === undefined) {
    return new AvsctlError(
      "TIMEOUT",
      `${what} was sent, and no receipt came within ${RECEIPT_TIMEOUT_MS / 1000} s: it may still be mined`,
      { hint, details },
    );
  }
  return new AvsctlError(
    "RPC_UNREACHABLE",
    sent === "unknown"
      ? `${silence} when avsctl sent ${what}: it may have reached the chain and be mined`
      : `${what} was sent, then ${silence} while avsctl waited for its receipt: it may be mined`,
    { hint, details, cause },
  );
}

/** How long the unanswered request waited, when it was cut for its bound (chainProvider's RPC_UNREACHABLE). */
function requestBound(error: unknown): number | undefined {
  let e = error as { cause?: unknown; error?: unknown } | undefined;
  for (let depth = 0; e && typeof e === "object" && depth < 6; depth++) {
    if (isAvsctlError(e)) return typeof e.details?.timeoutMs === "number" ? e.details.timeoutMs : undefined;
    e = (e.cause ?? e.error) as typeof e;
  }
  return undefined;
}
