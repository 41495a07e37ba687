/**
 * Reverts decoded by name: the custom errors of every ABI we ship (read from the artifacts, so
 * an error added to contracts/ is named without anyone listing it) plus Othentic's names for
 * contracts that are not ours; Error(string) and Panic too.
 */

import { AbiCoder, type ErrorFragment, Interface } from "ethers/abi";
import { dataSlice } from "ethers/utils";
import { PROTOCOL_ERRORS } from "./abi/attestation-center.js";
import { type AbiItem, CONTRACT_NAMES, loadAbi } from "./artifacts.js";

/** A revert decoded by name. */
export interface DecodedRevert {
  /** Custom error name, or "Error" (require message) / "Panic" (assert, overflow). */
  name: string;
  /** Canonical signature, e.g. "TaskDefinitionNotFound(uint16)". */
  signature: string;
  /** 4-byte selector, 0x-prefixed. */
  selector: string;
  /** Decoded arguments in order (uint as bigint). */
  args: unknown[];
  /** The same arguments by parameter name. */
  namedArgs: Record<string, unknown>;
}

let errorsInterface: Interface | undefined;

/**
 * One Interface holding every custom error we can name: those of each compiled contract we
 * ship (read from the artifacts' ABIs, so an error added to contracts/ is decoded without
 * anyone listing it), plus Othentic's names for contracts that are not ours
 * (PROTOCOL_ERRORS). Deduplicated by signature.
 */
function allErrors(): Interface {
  if (errorsInterface) return errorsInterface;
  const seen = new Set<string>();
  const fragments: string[] = [];
  const add = (item: AbiItem) => {
    const key = `${item.name}(${(item.inputs ?? []).map((i) => i.type).join(",")})`;
    if (seen.has(key)) return;
    seen.add(key);
    const types = (item.inputs ?? []).map((i) => `${i.type} ${i.name || ""}`.trim()).join(", ");
    fragments.push(`error ${item.name}(${types})`);
  };
  for (const name of CONTRACT_NAMES) {
    let abi: AbiItem[];
    try {
      abi = loadAbi(name);
    } catch {
      continue; // uncompiled contracts: decode by the protocol's names alone
    }
    for (const item of abi) if (item.type === "error") add(item);
  }
  for (const item of new Interface(PROTOCOL_ERRORS).fragments) {
    if (item.type !== "error") continue;
    const error = item as ErrorFragment;
    add({
      type: "error",
      name: error.name,
      inputs: error.inputs.map((i) => ({ name: i.name, type: i.type })),
    });
  }
  errorsInterface = new Interface(fragments);
  return errorsInterface;
}

const ERROR_STRING = "0x08c379a0";
const PANIC = "0x4e487b71";

/** Revert data found anywhere in an ethers / JSON-RPC error (it nests differently per path). */
export function revertDataOf(error: unknown): string | undefined {
  let e: any = error;
  for (let depth = 0; e && depth < 8; depth++) {
    if (typeof e === "string") return /^0x[0-9a-fA-F]*$/.test(e) && e.length >= 10 ? e : undefined;
    if (typeof e.data === "string" && /^0x[0-9a-fA-F]+$/.test(e.data) && e.data.length >= 10) return e.data;
    if (typeof e.data?.data === "string" && e.data.data.length >= 10) return e.data.data;
    if (typeof e.revert?.data === "string") return e.revert.data;
    e = e.info?.error ?? e.error ?? e.cause;
  }
  return undefined;
}

/**
 * Decode a revert (an ethers error, or raw 0x revert data) by the custom errors of all our
 * ABIs, plus Error(string) and Panic(uint256). Undefined when there is no revert data or it
 * matches nothing we know.
 */
export function decodeRevert(error: unknown): DecodedRevert | undefined {
  const data = typeof error === "string" ? error : revertDataOf(error);
  if (!data || data.length < 10) return undefined;
  const selector = data.slice(0, 10).toLowerCase();
  const coder = AbiCoder.defaultAbiCoder();
  try {
    if (selector === ERROR_STRING) {
      const [message] = coder.decode(["string"], dataSlice(data, 4));
      return { name: "Error", signature: "Error(string)", selector, args: [message], namedArgs: { message } };
    }
    if (selector === PANIC) {
      const [code] = coder.decode(["uint256"], dataSlice(data, 4));
      return { name: "Panic", signature: "Panic(uint256)", selector, args: [code], namedArgs: { code } };
    }
    const parsed = allErrors().parseError(data);
    if (!parsed) return undefined;
    const args = [...parsed.args];
    const namedArgs: Record<string, unknown> = {};
    parsed.fragment.inputs.forEach((input, i) => {
      namedArgs[input.name || String(i)] = args[i];
    });
    return { name: parsed.name, signature: parsed.signature, selector, args, namedArgs };
  } catch {
    return undefined;
  }
}

const OPERATOR_CHECK = new Interface(["function verifyOperatorValidForTaskDefinition(address, uint16) view"]);

/**
 * Why the AttestationCenter's own check (`verifyOperatorValidForTaskDefinition`, the one the
 * aggregator makes of a task's performer) refuses `operator` for the definition, decoded; undefined
 * when it lets it through. An error that is no revert (the node is down) is thrown.
 */
export async function operatorRefusal(
  provider: { call(tx: { to: string; data: string }): Promise<string> },
  attestationCenter: string,
  operator: string,
  taskDefinitionId: number,
): Promise<DecodedRevert | undefined> {
  try {
    await provider.call({
      to: attestationCenter,
      data: OPERATOR_CHECK.encodeFunctionData("verifyOperatorValidForTaskDefinition", [
        operator,
        taskDefinitionId,
      ]),
    });
    return undefined;
  } catch (error) {
    const revert = decodeRevert(error);
    if (!revert) throw error;
    return revert;
  }
}
