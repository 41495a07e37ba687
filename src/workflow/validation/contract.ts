/** Configs of the nodes that touch the chain: contractRead, contractWrite and ethTransfer. */

import type { MethodCall } from "../types.ts";
import {
  ADDRESS,
  AMOUNT,
  checkTemplates,
  Fields,
  HEX,
  isObject,
  join,
  literal,
  type Problems,
} from "./fields.ts";

type AbiInterface = import("ethers").Interface;

export async function contractConfig(p: Problems, f: Fields, write: boolean) {
  const contractAddress = f.string("contractAddress", true);
  if (contractAddress !== undefined) {
    checkTemplates(p, contractAddress, f.at("contractAddress"));
    if (literal(contractAddress) && !ADDRESS.test(contractAddress.trim())) {
      p.add("WF_INVALID_CONFIG", f.at("contractAddress"), `"${contractAddress}" is not an address`);
    }
  }
  // Ava stores the ABI as a JSON string; the REST shape is an array
  let abi: unknown = f.raw("contractAbi");
  if (typeof abi === "string") {
    try {
      abi = JSON.parse(abi);
    } catch {
      p.add("WF_INVALID_CONFIG", f.at("contractAbi"), "contractAbi is a string but not JSON");
      abi = undefined;
    }
  }
  let iface: AbiInterface | undefined;
  if (abi === undefined || abi === null) {
    p.add("WF_INVALID_CONFIG", f.at("contractAbi"), "contractAbi is required");
  } else if (!Array.isArray(abi)) {
    p.add("WF_INVALID_CONFIG", f.at("contractAbi"), "contractAbi must be a JSON ABI array");
  } else {
    const { Interface } = await import("ethers");
    try {
      iface = new Interface(abi as never);
    } catch (error) {
      p.add(
        "WF_INVALID_CONFIG",
        f.at("contractAbi"),
        `not a valid ABI: ${(error as Error).message.split("\n")[0]}`,
      );
    }
  }
  const calls = f.array("methodCalls", true) ?? [];
  if (f.has("methodCalls") && calls.length === 0) {
    p.add("WF_INVALID_CONFIG", f.at("methodCalls"), "methodCalls needs at least one call");
  }
  const methodCalls: MethodCall[] = [];
  calls.forEach((c, i) => {
    const path = join(f.at("methodCalls"), i);
    if (!isObject(c)) {
      p.add("WF_INVALID_CONFIG", path, "a method call must be an object {methodName, methodParams}");
      return;
    }
    const cf = new Fields(p, c, path, "WF_INVALID_CONFIG");
    const methodName = cf.string("methodName", false);
    const callData = cf.string("callData", false);
    const params = cf.array("methodParams", false) ?? [];
    checkTemplates(p, params, cf.at("methodParams"));
    if (callData !== undefined) {
      checkTemplates(p, callData, cf.at("callData"));
      if (literal(callData) && !HEX.test(callData))
        p.add("WF_INVALID_CONFIG", cf.at("callData"), "callData must be 0x hex");
    }
    if (methodName === undefined && callData === undefined) {
      p.add("WF_INVALID_CONFIG", cf.at("methodName"), "methodName (or callData) is required");
    }
    if (methodName !== undefined && iface) {
      let fragment: import("ethers").FunctionFragment | null = null;
      try {
        fragment = iface.getFunction(methodName);
      } catch (error) {
        p.add(
          "WF_INVALID_CONFIG",
          cf.at("methodName"),
          `${methodName}: ${(error as Error).message.split("(")[0]!.trim()}`,
        );
      }
      if (!fragment && !p.list.some((x) => x.path === cf.at("methodName"))) {
        p.add("WF_INVALID_CONFIG", cf.at("methodName"), `the ABI has no function ${methodName}`);
      }
      if (fragment && fragment.inputs.length !== params.length && callData === undefined) {
        p.add(
          "WF_INVALID_CONFIG",
          cf.at("methodParams"),
          `${fragment.name} takes ${fragment.inputs.length} parameter(s), ${params.length} given`,
        );
      }
    }
    methodCalls.push({
      ...(methodName === undefined ? {} : { methodName }),
      methodParams: params,
      ...(callData === undefined ? {} : { callData }),
    });
  });
  const base = {
    contractAddress: contractAddress ?? "",
    contractAbi: (Array.isArray(abi) ? abi : []) as unknown[],
    methodCalls,
  };
  if (!write) return base;
  const value = amountField(p, f, "value", false);
  let gasLimit: string | undefined;
  const gl = f.raw("gasLimit");
  if (gl !== undefined && gl !== null && gl !== "") {
    gasLimit = String(gl);
    checkTemplates(p, gasLimit, f.at("gasLimit"));
    if (literal(gasLimit) && !/^\d+$/.test(gasLimit))
      p.add("WF_INVALID_CONFIG", f.at("gasLimit"), "gasLimit must be an integer");
  }
  return {
    ...base,
    ...(value === undefined ? {} : { value }),
    ...(gasLimit === undefined ? {} : { gasLimit }),
  };
}

function amountField(p: Problems, f: Fields, key: string, required: boolean): string | undefined {
  const raw = f.raw(key);
  if (raw === undefined || raw === null || raw === "") {
    if (required) p.add("WF_INVALID_CONFIG", f.at(key), `${key} is required`);
    return undefined;
  }
  if (typeof raw !== "string" && typeof raw !== "number") {
    p.add("WF_INVALID_CONFIG", f.at(key), `${key} must be an amount (wei, or e.g. "0.1eth")`);
    return undefined;
  }
  const text = typeof raw === "number" ? BigInt(Math.trunc(raw)).toString() : raw;
  checkTemplates(p, text, f.at(key));
  if (literal(text) && !AMOUNT.test(text)) {
    p.add("WF_INVALID_CONFIG", f.at(key), `"${text}" is not an amount (wei, or e.g. "0.1eth", "5gwei")`);
  }
  return text;
}

export function ethTransferConfig(p: Problems, f: Fields) {
  const destination = f.string("destination", true);
  if (destination !== undefined) {
    checkTemplates(p, destination, f.at("destination"));
    if (literal(destination) && !ADDRESS.test(destination.trim())) {
      p.add("WF_INVALID_CONFIG", f.at("destination"), `"${destination}" is not an address`);
    }
  }
  const amount = amountField(p, f, "amount", true);
  return { destination: destination ?? "", amount: amount ?? "0" };
}
