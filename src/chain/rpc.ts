import type { JsonRpcProvider } from "ethers";
import { AvsctlError, isAvsctlError } from "../errors.js";
import { redactUrl, rpcRequest } from "./json-rpc.js";

export { redactUrl } from "./json-rpc.js";

/**
 * Asks the endpoint for its chain id with a deadline. ethers' provider retries a dead
 * endpoint forever, so reachability is checked here first and reported as RPC_UNREACHABLE.
 */
export async function fetchChainId(rpcUrl: string, timeoutMs = 5000): Promise<number> {
  let result: unknown;
  try {
    result = (await rpcRequest<string>(rpcUrl, "eth_chainId", [], { timeoutMs })).result;
  } catch (error) {
    throw new AvsctlError("RPC_UNREACHABLE", `cannot reach the RPC endpoint ${redactUrl(rpcUrl)}`, {
      hint: "check --rpc-url (or AVSCTL_RPC_URL / L2_RPC): nothing answers JSON-RPC at that URL (a typo, or the node is down)",
      details: { rpcUrl: redactUrl(rpcUrl) },
      cause: error,
    });
  }
  if (typeof result !== "string") {
    throw new AvsctlError("RPC_UNREACHABLE", `${redactUrl(rpcUrl)} is not an Ethereum JSON-RPC endpoint`, {
      details: { rpcUrl: redactUrl(rpcUrl) },
    });
  }
  return Number(BigInt(result));
}

/**
 * A provider pinned to a known chain id, so ethers never polls for the network. Its response
 * cache is off: with it, a second transaction sent within 250 ms reused the first one's nonce
 * and views read right after a transaction returned the old values.
 */
export async function connectRpc(rpcUrl: string): Promise<{ provider: JsonRpcProvider; chainId: number }> {
  const chainId = await fetchChainId(rpcUrl);
  const { JsonRpcProvider, Network } = await import("ethers");
  const network = Network.from(chainId);
  const provider = new JsonRpcProvider(rpcUrl, network, {
    staticNetwork: network,
    pollingInterval: 250,
    cacheTimeout: -1,
    // Calls made in the same turn still share a batch, but a lone call leaves at once instead
    // of after ethers' 10 ms batching stall (a devnet start makes ~150 calls one after another).
    batchStallTime: 0,
  });
  return { provider, chainId };
}

/** Node's codes for a connection that could not be made, broke, or timed out. */
const UNANSWERED_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
]);

/**
 * Whether a read failed because the node did not answer at all (down, restarting, cut off or
 * silent), as ethers passes it on (Node's own error, or its TIMEOUT and NETWORK_ERROR), rather
 * than answering an error of its own. Such a read may succeed when asked again.
 */
export function chainDidNotAnswer(error: unknown): boolean {
  let e = error as { code?: unknown; message?: unknown; cause?: unknown; error?: unknown } | undefined;
  for (let depth = 0; e && typeof e === "object" && depth < 6; depth++) {
    if (isAvsctlError(e)) return e.code === "RPC_UNREACHABLE" || e.code === "TIMEOUT";
    const code = typeof e.code === "string" ? e.code : "";
    if (UNANSWERED_CODES.has(code) || code === "TIMEOUT" || code === "NETWORK_ERROR") return true;
    if (typeof e.message === "string" && /socket hang up|fetch failed/i.test(e.message)) return true;
    e = (e.cause ?? e.error) as typeof e;
  }
  return false;
}

export interface DecodedRevert {
  name: string;
  signature: string;
  args: Record<string, string>;
}

/**
 * Decodes revert data by name: every custom error of the contracts we ship (from their
 * compiled ABIs), Othentic's error names, Error(string) and Panic(uint256). The one decoder
 * behind CLI errors and node logs alike; undefined when the data matches nothing known.
 */
export async function decodeRevertData(data: string | undefined | null): Promise<DecodedRevert | undefined> {
  if (!data || data === "0x" || data.length < 10) return undefined;
  const { decodeRevert } = await import("./reverts.js");
  const decoded = decodeRevert(data);
  if (!decoded) return undefined;
  const args: Record<string, string> = {};
  for (const [name, value] of Object.entries(decoded.namedArgs)) args[name] = String(value);
  return { name: decoded.name, signature: decoded.signature, args };
}

/**
 * The one translation of ethers/anvil failures into avsctl errors: reverts become TX_REVERTED
 * with the custom error decoded by name, connection failures RPC_UNREACHABLE.
 */
export async function translateChainError(
  error: unknown,
  context: { action: string; rpcUrl?: string },
): Promise<AvsctlError> {
  if (isAvsctlError(error)) return error;
  const e = error as any;
  const { revertDataOf } = await import("./reverts.js");
  const data = revertDataOf(error);
  const decoded = await decodeRevertData(data);
  if (decoded || e?.code === "CALL_EXCEPTION") {
    const what = decoded
      ? `${decoded.name}(${Object.entries(decoded.args)
          .map(([k, v]) => `${k}=${v}`)
          .join(", ")})`
      : e?.reason
        ? `"${e.reason}"`
        : "without a reason";
    return new AvsctlError("TX_REVERTED", `${context.action} reverted: ${what}`, {
      hint: revertHint(decoded?.name),
      details: {
        error: decoded?.name ?? null,
        args: decoded?.args ?? null,
        revert: decoded ?? null,
        data: data ?? null,
      },
      cause: error,
    });
  }
  const text = String(e?.message ?? error);
  if (
    /ECONNREFUSED|ENOTFOUND|ECONNRESET|fetch failed|socket hang up|NETWORK_ERROR/i.test(text) ||
    e?.code === "NETWORK_ERROR"
  ) {
    return new AvsctlError("RPC_UNREACHABLE", `${context.action}: the RPC endpoint stopped answering`, {
      details: context.rpcUrl ? { rpcUrl: redactUrl(context.rpcUrl) } : undefined,
      cause: error,
    });
  }
  if (e?.code === "INSUFFICIENT_FUNDS") {
    return new AvsctlError("TX_FAILED", `${context.action}: the signer cannot pay for gas`, {
      hint: "fund the signer's account",
      cause: error,
    });
  }
  return new AvsctlError("TX_FAILED", `${context.action} failed: ${e?.shortMessage ?? text.split("\n")[0]}`, {
    cause: error,
  });
}

function revertHint(name: string | undefined): string | undefined {
  switch (name) {
    case "AccessControlUnauthorizedAccount":
    case "OwnableUnauthorizedAccount":
      return "the signer lacks the AVS governance role; use the governance multisig's key";
    case "InvalidBlockExpiry":
      return "--block-expiry must be a future block (or never)";
    case "InvalidRestrictedOperatorIndexes":
    case "InvalidRestrictedAttesterIds":
      return "restricted ids must be strictly ascending";
    case "InvalidMaximumNumberOfAttesters":
      return "--max-attesters may not exceed the number of restricted operators";
    default:
      return undefined;
  }
}
