/**
 * contractRead, contractWrite and ethTransfer nodes (ethers v6).
 *
 * Reads are eth_calls. Writes are only sent in "run" mode, by the signer the caller gives; in
 * "simulate" mode they are an eth_call (the would-be return value, or the revert) plus a gas
 * estimate, and nothing is sent. Every answer goes through the node's tape (replay.ts): a
 * replay rebuilds a read, a sent write (its receipt) or a simulated one from the record.
 *
 * Output of contractRead: one entry per method call, `{methodName, value}`, where `value` is
 * the single return value, or an object by output name (an array when unnamed) for several;
 * uint values are decimal strings.
 */

import type { FunctionFragment, Interface, ParamType, Result } from "ethers";
import { parseAmount } from "../../chain/units.ts";
import type { NodeContext, WorkflowChain } from "../context.ts";
import type { Sandbox } from "../sandbox.ts";
import { renderDeep, renderText } from "../template.ts";
import type { ContractReadConfig, ContractWriteConfig, EthTransferConfig, MethodCall } from "../types.ts";

const RECEIPT_TIMEOUT_MS = 120_000;

async function ethers() {
  return import("ethers");
}

async function addressOf(value: unknown, what: string): Promise<string> {
  const { getAddress } = await ethers();
  try {
    return getAddress(String(value ?? "").trim());
  } catch {
    throw new Error(`${what} "${String(value)}" is not an address`);
  }
}

function amountOf(value: unknown, what: string): bigint {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  try {
    return parseAmount(String(value ?? ""), what);
  } catch {
    throw new Error(`${what} "${String(value)}" is not an amount (wei, or e.g. 0.1eth)`);
  }
}

/** A JSON-safe copy of a decoded ABI value: bigint as decimal strings, structs by field name. */
export function plainAbiValue(param: ParamType | undefined, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) {
    if (param?.isTuple()) {
      const items = param.components.map((c, i) => plainAbiValue(c, value[i]));
      return param.components.every((c) => c.name)
        ? Object.fromEntries(param.components.map((c, i) => [c.name, items[i]]))
        : items;
    }
    return value.map((v) => plainAbiValue(param?.isArray() ? param.arrayChildren : undefined, v));
  }
  return value;
}

function decodedValue(fragment: FunctionFragment, result: Result): unknown {
  const outputs = fragment.outputs;
  if (outputs.length === 0) return null;
  if (outputs.length === 1) return plainAbiValue(outputs[0], result[0]);
  const values = outputs.map((o, i) => plainAbiValue(o, result[i]));
  return outputs.every((o) => o.name)
    ? Object.fromEntries(outputs.map((o, i) => [o.name, values[i]]))
    : values;
}

/** Template values arrive as text; give ethers what each ABI type expects. */
function coerceParam(param: ParamType, value: unknown): unknown {
  if (typeof value === "string") {
    const text = value.trim();
    if ((param.isArray() || param.isTuple()) && /^[[{]/.test(text)) {
      try {
        return coerceParam(param, JSON.parse(text));
      } catch {
        return value;
      }
    }
    if (param.baseType === "bool") {
      if (text === "true") return true;
      if (text === "false") return false;
    }
    return text;
  }
  if (param.isArray() && Array.isArray(value)) return value.map((v) => coerceParam(param.arrayChildren!, v));
  if (param.isTuple() && Array.isArray(value))
    return value.map((v, i) => coerceParam(param.components[i]!, v));
  if (param.isTuple() && value && typeof value === "object") {
    return param.components.map((c) => coerceParam(c, (value as Record<string, unknown>)[c.name]));
  }
  return value;
}

interface PreparedCall {
  methodName: string;
  fragment: FunctionFragment | undefined;
  data: string;
}

async function prepareCalls(
  iface: Interface,
  calls: MethodCall[],
  sandbox: Sandbox,
): Promise<PreparedCall[]> {
  return calls.map((call, i) => {
    if (call.callData !== undefined) {
      const data = String(renderText(call.callData, sandbox, `methodCalls[${i}].callData`) ?? "");
      if (!/^0x([0-9a-fA-F]{2})*$/.test(data)) throw new Error(`methodCalls[${i}].callData is not 0x hex`);
      let fragment: FunctionFragment | undefined;
      try {
        fragment = iface.parseTransaction({ data })?.fragment;
      } catch {}
      return { methodName: call.methodName ?? fragment?.name ?? data.slice(0, 10), fragment, data };
    }
    const fragment = iface.getFunction(call.methodName!);
    if (!fragment) throw new Error(`the ABI has no function ${call.methodName}`);
    const rendered = renderDeep(call.methodParams, sandbox, `methodCalls[${i}].methodParams`) as unknown[];
    const params = fragment.inputs.map((input, j) => coerceParam(input, rendered[j]));
    let data: string;
    try {
      data = iface.encodeFunctionData(fragment, params);
    } catch (error) {
      throw new Error(`${fragment.name}: bad parameters: ${(error as Error).message.split(" (")[0]}`);
    }
    return { methodName: fragment.name, fragment, data };
  });
}

/** A revert as `Name(arg, ...)` from the node's own ABI, else Error(string), else the RPC's words. */
async function revertText(iface: Interface, error: unknown): Promise<string> {
  let e: any = error;
  let data: string | undefined;
  for (let depth = 0; e && depth < 6 && !data; depth++) {
    if (typeof e.data === "string" && e.data.startsWith("0x")) data = e.data;
    else if (typeof e.data?.data === "string") data = e.data.data;
    e = e.info?.error ?? e.error ?? e.cause;
  }
  if (data && data.length >= 10) {
    try {
      const parsed = iface.parseError(data);
      if (parsed) return `reverted: ${parsed.name}(${parsed.args.map((a) => String(a)).join(", ")})`;
    } catch {}
    const { Interface } = await ethers();
    try {
      const std = new Interface(["error Error(string message)", "error Panic(uint256 code)"]).parseError(
        data,
      );
      if (std) return `reverted: ${std.name}(${std.args.map((a) => String(a)).join(", ")})`;
    } catch {}
    return `reverted with data ${data.slice(0, 74)}`;
  }
  const any = error as any;
  if (any?.code === "CALL_EXCEPTION") return `reverted${any.reason ? `: ${any.reason}` : ""}`;
  const text = String(any?.shortMessage ?? any?.message ?? error).split("\n")[0]!;
  if (/ECONNREFUSED|fetch failed|NETWORK_ERROR|socket hang up/i.test(text))
    return `the RPC endpoint stopped answering (${text})`;
  return text;
}

async function interfaceOf(abi: unknown[]): Promise<Interface> {
  const { Interface } = await ethers();
  return new Interface(abi as never);
}

async function senderOf(chain: WorkflowChain): Promise<string | undefined> {
  if (chain.from) return chain.from;
  return chain.signer ? chain.signer.getAddress() : undefined;
}

/** What contractRead and contractWrite both start from: the chain, the contract and its calls. */
async function contractCalls(config: ContractReadConfig, ctx: NodeContext, needChain = true) {
  // a replayed read answers from the record: it needs no chain
  const chain = needChain ? ctx.requireChain() : (undefined as unknown as WorkflowChain);
  const sandbox = ctx.sandbox();
  const to = await addressOf(
    renderText(config.contractAddress, sandbox, "contractAddress"),
    "contractAddress",
  );
  const iface = await interfaceOf(config.contractAbi);
  const calls = await prepareCalls(iface, config.methodCalls, sandbox);
  return { chain, sandbox, to, iface, calls };
}

/** Runs a contractRead node. */
export async function runContractRead(config: ContractReadConfig, ctx: NodeContext): Promise<unknown> {
  const { to, iface, calls } = await contractCalls(config, ctx, !ctx.replaying);
  const results: unknown[] = [];
  for (const call of calls) {
    const returned = await ctx.answer("call", { to, data: call.data }, async () => {
      try {
        return await ctx.requireChain().provider.call({ to, data: call.data });
      } catch (error) {
        throw new Error(`${call.methodName} on ${to}: ${await revertText(iface, error)}`);
      }
    });
    ctx.log(`eth_call ${call.methodName} on ${to}`);
    results.push({ methodName: call.methodName, value: decode(iface, call, returned) });
  }
  return results;
}

function decode(iface: Interface, call: PreparedCall, returned: string): unknown {
  if (!call.fragment) return returned;
  if (returned === "0x" && call.fragment.outputs.length > 0) {
    throw new Error(`${call.methodName}: the call returned no data (is there a contract at this address?)`);
  }
  try {
    return decodedValue(call.fragment, iface.decodeFunctionResult(call.fragment, returned));
  } catch (error) {
    throw new Error(
      `${call.methodName}: cannot decode the result: ${(error as Error).message.split(" (")[0]}`,
    );
  }
}

/** Runs a contractWrite node: simulated (eth_call + estimate) or sent, call by call. */
export async function runContractWrite(config: ContractWriteConfig, ctx: NodeContext): Promise<unknown> {
  const { sandbox, to, iface, calls } = await contractCalls(config, ctx, !ctx.replaying);
  const value =
    config.value === undefined ? 0n : amountOf(renderText(config.value, sandbox, "value"), "value");
  const gasLimit =
    config.gasLimit === undefined
      ? undefined
      : amountOf(renderText(config.gasLimit, sandbox, "gasLimit"), "gasLimit");
  const results: unknown[] = [];
  for (const call of calls) {
    const tx = { to, data: call.data, value, ...(gasLimit === undefined ? {} : { gasLimit }) };
    const answer = await answerTx(ctx, iface, tx, call);
    if ("simulated" in answer) {
      results.push({
        methodName: call.methodName,
        simulated: true,
        value: decode(iface, call, answer.returned ?? "0x"),
        gasEstimate: answer.gasEstimate,
      });
      ctx.log(`simulated ${call.methodName} on ${to} (nothing sent)`);
      continue;
    }
    ctx.log(`sent ${call.methodName} on ${to}: tx ${answer.txHash}, gas ${answer.gasUsed}`);
    results.push({ methodName: call.methodName, ...answer });
  }
  return results;
}

interface WriteTx {
  to: string;
  data?: string;
  value: bigint;
  gasLimit?: bigint;
}

/**
 * What the chain made of one write or transfer, as the tape keeps it. A replay rebuilds the
 * node's output from it alone, so the output (sent or simulated) follows the performer's mode
 * whatever mode the replay runs in, and nothing is sent.
 */
type TxAnswer =
  | { simulated: true; returned: string | null; gasEstimate: string }
  | Awaited<ReturnType<typeof send>>;

/** The write's answer: performed in `ctx.mode` and recorded, or taken from the record. */
async function answerTx(
  ctx: NodeContext,
  iface: Interface,
  tx: WriteTx,
  call: PreparedCall | undefined,
): Promise<TxAnswer> {
  // the request is what the workflow decided; the chain it went to is part of the answer
  // (chainId), since a replay has no chain to ask
  const request = {
    to: tx.to,
    ...(tx.data === undefined ? {} : { data: tx.data }),
    value: tx.value.toString(),
    ...(tx.gasLimit === undefined ? {} : { gasLimit: tx.gasLimit.toString() }),
  };
  const answer = await ctx.answer<TxAnswer>("tx", request, async () => {
    const chain = ctx.requireChain();
    if (ctx.mode === "simulate") {
      const { returned, gasEstimate } = await simulate(chain, iface, tx, call);
      return { simulated: true, returned: call ? returned : null, gasEstimate };
    }
    return send(chain, iface, tx, call?.methodName ?? "transfer", ctx.signal);
  });
  return checkTxAnswer(answer);
}

/** A recorded answer is outside data: refuse one that is not shaped like an answer. */
function checkTxAnswer(answer: unknown): TxAnswer {
  const a = answer as Record<string, unknown> | null;
  const text = (v: unknown) => typeof v === "string";
  if (a && typeof a === "object") {
    if (a.simulated === true && (a.returned === null || text(a.returned)) && text(a.gasEstimate))
      return a as TxAnswer;
    if (
      text(a.chainId) &&
      text(a.txHash) &&
      Number.isSafeInteger(a.blockNumber) &&
      text(a.gasUsed) &&
      a.status === "success"
    )
      return a as TxAnswer;
  }
  throw new Error("the recorded answer of this transaction is not one (a receipt or a simulation)");
}

async function simulate(
  chain: WorkflowChain,
  iface: Interface,
  tx: WriteTx,
  call: PreparedCall | undefined,
): Promise<{ returned: string; gasEstimate: string }> {
  const from = await senderOf(chain);
  const request = { ...tx, ...(from ? { from } : {}) };
  let returned: string;
  let gas: bigint;
  try {
    returned = await chain.provider.call(request);
    gas = await chain.provider.estimateGas(request);
  } catch (error) {
    throw new Error(`${call?.methodName ?? "transfer"} to ${tx.to}: ${await revertText(iface, error)}`);
  }
  return { returned, gasEstimate: gas.toString() };
}

async function send(
  chain: WorkflowChain,
  iface: Interface,
  tx: WriteTx,
  what: string,
  signal: AbortSignal,
): Promise<{
  chainId: string;
  txHash: string;
  blockNumber: number;
  gasUsed: string;
  status: "success";
}> {
  if (!chain.signer) throw new Error(`${what}: no signer to send with (pass --private-key)`);
  if (signal.aborted) throw new Error(`${what}: aborted before sending`);
  let gasLimit = tx.gasLimit;
  let chainId: bigint;
  try {
    chainId = (await chain.provider.getNetwork()).chainId;
    // estimate first: a revert is caught and decoded here, and nothing is sent
    gasLimit ??= ((await chain.signer.estimateGas(tx)) * 12n) / 10n;
  } catch (error) {
    throw new Error(`${what} to ${tx.to}: ${await revertText(iface, error)}`);
  }
  try {
    const response = await chain.signer.sendTransaction({ ...tx, gasLimit });
    const receipt = await response.wait(1, RECEIPT_TIMEOUT_MS);
    if (!receipt) throw new Error(`no receipt within ${RECEIPT_TIMEOUT_MS / 1000} s (tx ${response.hash})`);
    if (receipt.status !== 1) throw new Error(`reverted on-chain (tx ${receipt.hash})`);
    return {
      chainId: chainId.toString(),
      txHash: receipt.hash,
      blockNumber: receipt.blockNumber,
      gasUsed: receipt.gasUsed.toString(),
      status: "success",
    };
  } catch (error) {
    throw new Error(`${what} to ${tx.to}: ${await revertText(iface, error)}`);
  }
}

/** Runs an ethTransfer node: simulated (estimate) or sent. */
export async function runEthTransfer(config: EthTransferConfig, ctx: NodeContext): Promise<unknown> {
  if (!ctx.replaying) ctx.requireChain();
  const sandbox = ctx.sandbox();
  const destination = await addressOf(renderText(config.destination, sandbox, "destination"), "destination");
  const amount = amountOf(renderText(config.amount, sandbox, "amount"), "amount");
  const iface = await interfaceOf([]);
  const answer = await answerTx(ctx, iface, { to: destination, value: amount }, undefined);
  if ("simulated" in answer) {
    ctx.log(`simulated a transfer of ${amount} wei to ${destination} (nothing sent)`);
    return { destination, amount: amount.toString(), simulated: true, gasEstimate: answer.gasEstimate };
  }
  ctx.log(`sent ${amount} wei to ${destination}: tx ${answer.txHash}`);
  return { destination, amount: amount.toString(), ...answer };
}
