import type { Interface, ParamType, TransactionReceipt, Wallet } from "ethers";
import { AvsctlError } from "../errors.js";
import { translateChainError } from "./rpc.js";

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

/**
 * Estimates first (a revert is caught here, decoded, and nothing is sent), then sends, waits
 * for the receipt and reports hash and gas.
 */
export async function sendCall(signer: Wallet, call: PreparedCall, rpcUrl?: string): Promise<SentCall> {
  const action = call.method.split("(")[0]!;
  let gasLimit: bigint;
  try {
    gasLimit = await signer.estimateGas({ to: call.to, data: call.data });
  } catch (error) {
    throw await translateChainError(error, { action, rpcUrl });
  }
  let receipt: TransactionReceipt | null;
  try {
    const tx = await signer.sendTransaction({
      to: call.to,
      data: call.data,
      gasLimit: (gasLimit * 12n) / 10n,
    });
    receipt = await tx.wait(1, 120_000);
  } catch (error) {
    throw await translateChainError(error, { action, rpcUrl });
  }
  if (!receipt) throw new AvsctlError("TIMEOUT", `${action}: no receipt within 120 s`);
  if (receipt.status !== 1) {
    throw new AvsctlError("TX_REVERTED", `${action} reverted on-chain (tx ${receipt.hash})`, {
      details: { txHash: receipt.hash },
    });
  }
  return { method: call.method, txHash: receipt.hash, gasUsed: receipt.gasUsed.toString(), receipt };
}
