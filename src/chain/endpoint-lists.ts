/**
 * Othentic's per-chain settings: `L2_RPC` and `ATTESTATION_CENTER_ADDRESS` hold one value or
 * `chain@value` entries (`80002@http://..,84532@http://..`), and its flags name chains by
 * network name. The CLI and the nodes read them here, so a setting means the same to both.
 */
import { parseAddress } from "../crypto/address.js";
import { invalidArgument } from "../errors.js";

// Othentic's flags take network names; ours accept ids too.
const CHAIN_NAMES: Record<string, number> = {
  mainnet: 1,
  ethereum: 1,
  sepolia: 11155111,
  holesky: 17000,
  hoodi: 560048,
  amoy: 80002,
  polygon: 137,
  base: 8453,
  "base-sepolia": 84532,
  arbitrum: 42161,
  "arbitrum-sepolia": 421614,
  optimism: 10,
  "optimism-sepolia": 11155420,
  anvil: 31337,
};

/** A chain id from a number, a decimal string or a known network name. */
export function parseChainId(value: string | number, what = "chain"): number {
  if (typeof value === "number") {
    if (Number.isSafeInteger(value) && value > 0) return value;
    throw invalidArgument(what, `invalid chain id ${value}`);
  }
  const text = value.trim().toLowerCase();
  if (/^[0-9]{1,15}$/.test(text) && Number(text) > 0) return Number(text);
  const named = CHAIN_NAMES[text];
  if (named !== undefined) return named;
  throw invalidArgument(what, `unknown chain "${value}"`, "pass a numeric chain id");
}

/** The comma-separated entries of `value`, each split at a leading `chain@` when it has one. */
function entries(value: string, name: string): Array<{ entry: string; chainId?: number; value: string }> {
  const list = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length === 0) throw invalidArgument(name, "empty");
  return list.map((entry) => {
    // `http://user@host` has an @ too: a scheme first means no chain prefix
    const m = /^([0-9]+|[a-z][a-z0-9-]*)@(.+)$/i.exec(entry);
    if (!m || /^[a-z][a-z0-9+.-]*:\/\//i.test(entry)) return { entry, value: entry };
    if (/^[0-9]+$/.test(m[1]!) && !(Number(m[1]) > 0 && Number.isSafeInteger(Number(m[1]))))
      throw invalidArgument(name, `"${entry}" has a bad chain id`);
    return { entry, chainId: parseChainId(m[1]!, name), value: m[2]! };
  });
}

/**
 * `L2_RPC` or `--rpc-url`: one URL, a list aligned with the chains, or `chain@url` entries.
 *
 * @example parseRpcList("80002@https://a.example,base-sepolia@wss://b.example", "L2_RPC")
 */
export function parseRpcList(value: string, name: string): Array<{ chainId?: number; url: string }> {
  return entries(value, name).map(({ entry, chainId, value: url }) => {
    if (!/^(https?|wss?):\/\/.+/i.test(url))
      throw invalidArgument(name, `"${entry}" is not an http(s) or ws(s) URL`);
    return chainId === undefined ? { url } : { chainId, url };
  });
}

/**
 * `ATTESTATION_CENTER_ADDRESS` or `--attestation-center`: `0x..` or `chain@0x..` entries. A bare
 * address gets `defaultChainId`, when given.
 */
export function parseAttestationCenters(
  value: string,
  name: string,
  defaultChainId?: number,
): Array<{ chainId?: number; address: `0x${string}` }> {
  return entries(value, name).map(({ chainId, value: address }) => {
    const id = chainId ?? defaultChainId;
    return id === undefined
      ? { address: parseAddress(address, name) }
      : { chainId: id, address: parseAddress(address, name) };
  });
}

/**
 * The URL to use of a `parseRpcList` list: the one for `chainId` when asked (or the list's only
 * URL without a chain id), else the first whose chain `preferred` names, else the first.
 */
export function pickRpcUrl(
  list: Array<{ chainId?: number; url: string }>,
  chainId?: number,
  preferred: number[] = [],
): { chainId?: number; url: string } | undefined {
  if (list.length === 1 && list[0]!.chainId === undefined) return list[0];
  if (chainId !== undefined) return list.find((e) => e.chainId === chainId);
  return list.find((e) => e.chainId !== undefined && preferred.includes(e.chainId)) ?? list[0];
}
