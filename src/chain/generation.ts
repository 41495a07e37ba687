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
  if (code === "0x") throw noContractAt(address, "--attestation-center");
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

/** The error for an AttestationCenter address that holds no code; `origin` names what gave it. */
function noContractAt(address: string, origin: string): AvsctlError {
  return new AvsctlError("INVALID_ADDRESS", `${origin}: no contract at ${address} on this chain`, {
    hint: origin.startsWith("--") ? `check ${origin} and --rpc-url` : `check ${origin} and the RPC URL`,
    details: { argument: origin, address },
  });
}

/**
 * Contracts an AttestationCenter address is mistaken for, by a selector in their dispatcher:
 * said in the refusal so the user sees which address they gave.
 */
const LOOKALIKES: Array<{ name: string; selectors: string[] }> = [
  { name: "the OBLS (it has totalVotingPower())", selectors: ["671b3793"] },
  {
    name: "an InternalTaskHandler (it has processTask((string,bytes,address,uint16)))",
    selectors: ["9d002345"],
  },
  { name: "an AvsGovernance (it has isOperatorRegistered(address))", selectors: ["6b1906f8"] },
  {
    name: "an ERC-20 token (it has balanceOf(address) and transfer(address,uint256))",
    selectors: ["70a08231", "a9059cbb"],
  },
];

/**
 * Refuses (INVALID_ADDRESS) an address the user gave as the AttestationCenter that is none:
 * an account without code, or a contract that does not answer numOfTaskDefinitions(), which
 * both generations (Othentic's and ours) have and the OBLS, InternalTaskHandler, AvsGovernance
 * or a token do not. Without it a wrong address reads as an empty AttestationCenter and every
 * answer after is wrong. One eth_call when the address is right; `origin` names the flag,
 * variable or config key that gave it.
 */
export async function checkAttestationCenter(
  provider: Provider,
  address: string,
  origin: string,
  rpcUrl?: string,
): Promise<void> {
  let answer = "0x";
  try {
    answer = await provider.call({ to: address, data: `0x${SELECTORS.numOfTaskDefinitions}` });
  } catch (error) {
    // A revert (no such function, no fallback) is the answer; anything else is the node's problem.
    if ((error as { code?: unknown })?.code !== "CALL_EXCEPTION") {
      const { translateChainError } = await import("./rpc.js");
      throw await translateChainError(error, {
        action: `reading the AttestationCenter at ${address}`,
        rpcUrl,
      });
    }
  }
  // a uint16: one word whose value fits 16 bits
  if (/^0x0{60}[0-9a-f]{4}$/i.test(answer)) return;
  const code = (await provider.getCode(address)).toLowerCase();
  if (code === "0x") throw noContractAt(address, origin);
  const like = LOOKALIKES.find((l) => l.selectors.every((s) => hasSelector(code, s)));
  throw new AvsctlError(
    "INVALID_ADDRESS",
    `${origin}: ${address} is not an AttestationCenter: ${like ? `it looks like ${like.name}` : "it is another contract"}, and it does not answer numOfTaskDefinitions()`,
    {
      hint: `${origin.startsWith("--") ? `pass ${origin}` : `set ${origin} to`} the address of the AVS's AttestationCenter (not its OBLS, AvsGovernance or InternalTaskHandler)`,
      details: { argument: origin, address },
    },
  );
}
