import type { Provider } from "ethers";
import { AvsctlError } from "../errors.js";
import { SELECTORS } from "./abi/attestation-center.js";

export type Generation = "gen1" | "gen2";

export interface GenerationReport {
  generation: Generation;
  /** How it was told: from the bytecode's dispatcher, a probe call, or the user's --abi. */
  method: "bytecode" | "probe" | "flag";
  /** The address whose code was read (the implementation behind a proxy). */
  implementation: string;
}

// EIP-1967 implementation slot: keccak256("eip1967.proxy.implementation") - 1.
const EIP1967_IMPLEMENTATION = "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc";

/** Solidity dispatchers compare the selector with a PUSH4 (0x63) of each public function's selector. */
function hasSelector(code: string, selector: string): boolean {
  return code.includes(`63${selector}`);
}

/**
 * Tells a generation-1 from a generation-2 AttestationCenter without sending a transaction:
 * first by the selectors in its dispatcher (following an EIP-1967 proxy), then by probing a
 * gen-2-only view.
 */
export async function detectGeneration(provider: Provider, address: string): Promise<GenerationReport> {
  let implementation = address;
  let code = (await provider.getCode(address)).toLowerCase();
  if (code === "0x") {
    throw new AvsctlError("INVALID_ADDRESS", `no contract at ${address} on this chain`, {
      hint: "check --attestation-center and --rpc-url",
      details: { argument: "--attestation-center" },
    });
  }
  const slot = await provider.getStorage(address, EIP1967_IMPLEMENTATION);
  if (BigInt(slot) !== 0n) {
    implementation = `0x${slot.slice(-40)}`;
    code = (await provider.getCode(implementation)).toLowerCase();
  }
  // Generation 2 contracts usually keep the gen-1 overload too; the gen-2 one decides.
  if (hasSelector(code, SELECTORS.createGen2))
    return { generation: "gen2", method: "bytecode", implementation };
  if (hasSelector(code, SELECTORS.createGen1))
    return { generation: "gen1", method: "bytecode", implementation };

  // Neither found (an unusual dispatcher): ask a gen-2-only view.
  const { Interface } = await import("ethers");
  const iface = new Interface([
    "function getTaskDefinitionMaximumNumberOfAttesters(uint16) view returns (uint256)",
  ]);
  try {
    const data = iface.encodeFunctionData("getTaskDefinitionMaximumNumberOfAttesters", [1]);
    const result = await provider.call({ to: address, data });
    if (result !== "0x") return { generation: "gen2", method: "probe", implementation };
  } catch {
    // a revert here says nothing: fall through to gen 1
  }
  return { generation: "gen1", method: "probe", implementation };
}
