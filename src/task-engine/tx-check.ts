/**
 * A replay rebuilds a sent contractWrite or ethTransfer from its recorded receipt and sends
 * nothing, so the digest alone cannot tell a real transaction from a made-up one: a performer
 * could record a receipt the chain never saw, with a digest to match. Attesters therefore look
 * each recorded transaction up on the chain its answer names and refuse the record unless the
 * chain has it, as recorded: the same target, calldata and value, mined in the recorded block
 * with the recorded gas, and successful.
 */

import { jsonRpc } from "../chain/json-rpc.js";
import type { RecordedInput } from "../workflow/index.js";

/** The RPC URL of a chain by its id (decimal text, as a receipt answer records it). */
export type ChainLookup = (chainId: string) => string | undefined;

interface SentAnswer {
  chainId: string;
  txHash: string;
  blockNumber: number;
  gasUsed: string;
  status: string;
}

interface TxRequest {
  to: string;
  data?: string;
  value: string;
}

const isSent = (v: unknown): v is SentAnswer =>
  !!v && typeof v === "object" && typeof (v as SentAnswer).txHash === "string";

/** The recorded transactions that were sent (not simulated), with what was asked of each. */
export function sentTransactions(
  inputs: readonly RecordedInput[],
): Array<{ request: TxRequest; answer: SentAnswer }> {
  return inputs
    .filter((i) => i.kind === "tx" && i.error === undefined && isSent(i.value))
    .map((i) => ({ request: i.request as TxRequest, answer: i.value as SentAnswer }));
}

const big = (v: unknown): bigint | undefined => {
  try {
    return BigInt(v as string);
  } catch {
    return undefined;
  }
};

/**
 * Why the recorded transactions do not match the chain, or undefined when each does. A chain
 * this engine cannot reach is a failure too: a write nobody can check is not attested.
 */
export async function checkSentTransactions(
  inputs: readonly RecordedInput[],
  chains: ChainLookup | undefined,
  signal?: AbortSignal,
): Promise<string | undefined> {
  for (const { request, answer } of sentTransactions(inputs)) {
    const what = `the recorded transaction ${answer.txHash}`;
    const rpcUrl = chains?.(String(answer.chainId));
    if (!rpcUrl) return `${what} is on chain ${answer.chainId}, which this validator cannot read`;
    if (!/^0x[0-9a-fA-F]{64}$/.test(answer.txHash)) return `${what} is not a transaction hash`;
    let tx: Record<string, string> | null;
    let receipt: Record<string, string> | null;
    try {
      [tx, receipt] = await Promise.all([
        jsonRpc<Record<string, string> | null>(rpcUrl, "eth_getTransactionByHash", [answer.txHash], {
          signal,
        }),
        jsonRpc<Record<string, string> | null>(rpcUrl, "eth_getTransactionReceipt", [answer.txHash], {
          signal,
        }),
      ]);
    } catch (error) {
      return `${what} could not be looked up on chain ${answer.chainId}: ${(error as Error).message}`;
    }
    if (!tx || !receipt) return `${what} is not on chain ${answer.chainId}`;
    const mismatches: string[] = [];
    if (receipt.status !== "0x1") mismatches.push(`status ${receipt.status}, not success`);
    if (Number(big(receipt.blockNumber)) !== answer.blockNumber)
      mismatches.push(`block ${Number(big(receipt.blockNumber))}, not ${answer.blockNumber}`);
    if (big(receipt.gasUsed) !== big(answer.gasUsed))
      mismatches.push(`gas used ${big(receipt.gasUsed)}, not ${answer.gasUsed}`);
    if (String(tx.to ?? "").toLowerCase() !== String(request.to ?? "").toLowerCase())
      mismatches.push(`sent to ${tx.to}, not ${request.to}`);
    if (String(tx.input ?? "0x").toLowerCase() !== String(request.data ?? "0x").toLowerCase())
      mismatches.push("other calldata");
    if (big(tx.value) !== big(request.value)) mismatches.push(`value ${big(tx.value)}, not ${request.value}`);
    if (mismatches.length > 0) return `${what} on chain ${answer.chainId} differs: ${mismatches.join("; ")}`;
  }
  return undefined;
}
