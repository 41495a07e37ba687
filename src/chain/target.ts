import type { JsonRpcProvider } from "ethers";
import type { AvsctlConfig } from "../config/schema.js";
import { AvsctlError, invalidArgument, isAvsctlError, missingArgument } from "../errors.js";
import { parseAttestationCenters, parseRpcList, pickRpcUrl } from "./endpoint-lists.js";
import { checkAttestationCenter } from "./generation.js";
import { type ChainRequestOptions, connectRpc } from "./rpc.js";
import { parseAddress } from "./units.js";

/**
 * What a target needs of a running devnet: its chains and the deployer. The caller reads the
 * devnet (src/devnet/target.ts), so this layer knows nothing of where a devnet keeps its state.
 */
export interface DevnetEndpoints {
  l1: { chainId: number; rpcUrl: string };
  l2: Array<{ chainId: number; rpcUrl: string; attestationCenter: string }>;
  deployer: { address: string; privateKey: string };
}

export interface TargetInput {
  /** The project's running devnet, if any: the target when no flag, environment or config names one. */
  devnet: DevnetEndpoints | undefined;
  config: AvsctlConfig;
  /** Flags win over config and environment (already merged into `config.network`). */
  rpcUrl?: string;
  attestationCenter?: string;
  chainId?: number;
  /** The flag that gave `chainId`, named in errors (default --chain-id). */
  chainFlag?: string;
  /** Whether the command takes --rpc-url and --attestation-center, so a hint may suggest them. */
  targetFlags?: boolean;
  /** Where each config value came from (LoadedConfig.sources), so an error names what gave it. */
  sources?: Readonly<Record<string, string>>;
  /** How long one request to the chain may take (default CHAIN_REQUEST_TIMEOUT_MS): a command's --timeout. */
  requestTimeoutMs?: number;
}

export interface ChainTarget {
  rpcUrl: string;
  chainId: number;
  attestationCenter: `0x${string}`;
  provider: JsonRpcProvider;
  /** The project's running devnet, when there is one. */
  devnet: DevnetEndpoints | undefined;
  /** Chain ids on which the anvil test keys are acceptable. */
  devnetChainIds: number[];
  /**
   * What gave `rpcUrl` as an error names it (`--rpc-url`, `L2_RPC (in .env)`, ...); absent when
   * it is the devnet's L2.
   */
  rpcFrom?: string;
}

/**
 * What errors call the RPC URL and the AttestationCenter: the flags of a command that has them,
 * else the environment variables, so that what an error names is something the command takes.
 */
function targetNames(input: Pick<TargetInput, "targetFlags">): { rpc: string; ac: string } {
  return input.targetFlags
    ? { rpc: "--rpc-url", ac: "--attestation-center" }
    : { rpc: "AVSCTL_RPC_URL", ac: "AVSCTL_ATTESTATION_CENTER" };
}

type TargetKey = "rpcUrl" | "attestationCenter";

/**
 * What gave the RPC URL or the AttestationCenter, as an error names it: the flag, the variable
 * (`L2_RPC (in .env)` when the project's `.env` set it), or the config file's key. `fix` says
 * what to change when it is not a flag (a flag's error points at the command's help).
 */
function originOf(input: TargetInput, key: TargetKey): { name: string; fix?: string } {
  const names = targetNames(input);
  if ((key === "rpcUrl" ? input.rpcUrl : input.attestationCenter) !== undefined)
    return { name: key === "rpcUrl" ? names.rpc : names.ac };
  const source = input.sources?.[`network.${key}`];
  const env = source && /^(\.env|env) (\S+)$/.exec(source);
  if (env) {
    return env[1] === ".env"
      ? { name: `${env[2]} (in .env)`, fix: `fix ${env[2]} in the project's .env` }
      : { name: env[2]!, fix: `fix the environment variable ${env[2]}` };
  }
  const file = input.sources?.file;
  if (file) return { name: `network.${key} (in ${file})`, fix: `fix network.${key} in ${file}` };
  return { name: key === "rpcUrl" ? names.rpc : names.ac };
}

/** Parses a target value as `parse` does, its errors naming what gave it and what to fix. */
function parseOrigin<T>(
  input: TargetInput,
  key: TargetKey,
  value: string,
  parse: (v: string, name: string) => T,
): T {
  const origin = originOf(input, key);
  try {
    return parse(value, origin.name);
  } catch (error) {
    if (!isAvsctlError(error) || error.hint || !origin.fix) throw error;
    throw new AvsctlError(error.code, error.message, {
      hint: origin.fix,
      details: error.details,
      cause: error,
    });
  }
}

/** Validates the flags that name a chain before anything connects (exit 2 on bad input). */
export function checkTargetFlags(
  input: Pick<TargetInput, "config" | "rpcUrl" | "attestationCenter" | "targetFlags" | "sources">,
): void {
  const rpcUrl = input.rpcUrl ?? input.config.network.rpcUrl;
  if (rpcUrl !== undefined) parseOrigin(input as TargetInput, "rpcUrl", rpcUrl, parseRpcList);
  const ac = input.attestationCenter ?? input.config.network.attestationCenter;
  if (ac !== undefined)
    parseOrigin(input as TargetInput, "attestationCenter", ac, (v, name) => parseAttestationCenters(v, name));
}

/**
 * The AttestationCenter checks of one command, by RPC URL and address: a command that connects
 * to the same target twice (a lookup, then its trace) asks once. Keyed by the command's config,
 * which each command loads once.
 */
const checked = new WeakMap<AvsctlConfig, Map<string, Promise<void>>>();

function checkOnce(
  input: TargetInput,
  provider: JsonRpcProvider,
  rpcUrl: string,
  address: string,
): Promise<void> {
  let byTarget = checked.get(input.config);
  if (!byTarget) {
    byTarget = new Map();
    checked.set(input.config, byTarget);
  }
  const key = `${rpcUrl} ${address.toLowerCase()}`;
  let check = byTarget.get(key);
  if (!check) {
    check = checkAttestationCenter(provider, address, originOf(input, "attestationCenter").name, rpcUrl);
    byTarget.set(key, check);
  }
  return check;
}

export function devnetChainIdsOf(config: AvsctlConfig, devnet: DevnetEndpoints | undefined): number[] {
  if (devnet) return [devnet.l1.chainId, ...devnet.l2.map((l) => l.chainId)];
  const d = config.devnet;
  return [d.l1ChainId, ...Array.from({ length: d.l2Chains }, (_, i) => d.l2ChainId + i)];
}

/**
 * Connects to one of the devnet's chains. When it does not answer the devnet is down, not the
 * user's URL wrong, and the commands that read the devnet take no --rpc-url: say what to run.
 */
export async function connectDevnetRpc(
  rpcUrl: string,
  opts: Pick<ChainRequestOptions, "requestTimeoutMs"> = {},
): ReturnType<typeof connectRpc> {
  try {
    // one that stops answering later (frozen, or being started again) is the devnet's too
    return await connectRpc(rpcUrl, { ...opts, unansweredHint: "`avsctl devnet status` shows what is down" });
  } catch (error) {
    if (!isAvsctlError(error) || error.code !== "RPC_UNREACHABLE") throw error;
    throw new AvsctlError("RPC_UNREACHABLE", `${error.message} (a chain of this project's devnet)`, {
      hint: "`avsctl devnet status` shows what is down; `avsctl devnet up` starts it again",
      details: error.details,
      cause: error,
    });
  }
}

/**
 * Picks the L2 and AttestationCenter to talk to: flags, then environment and config, then the
 * running devnet. Connects (RPC_UNREACHABLE when the endpoint does not answer).
 */
export async function resolveTarget(input: TargetInput): Promise<ChainTarget> {
  checkTargetFlags(input);
  const rpcValue = input.rpcUrl ?? input.config.network.rpcUrl;
  const acValue = input.attestationCenter ?? input.config.network.attestationCenter;
  const wantedChain = input.chainId ?? input.config.network.chainId;
  const { devnet } = input;
  const devnetChainIds = devnetChainIdsOf(input.config, devnet);
  const names = targetNames(input);
  const limits = { requestTimeoutMs: input.requestTimeoutMs };

  if (rpcValue === undefined && acValue === undefined) {
    if (!devnet) {
      throw new AvsctlError(
        "NO_DEVNET",
        input.targetFlags
          ? "no target: no devnet is running and no --rpc-url/--attestation-center given"
          : "no target: no devnet is running and AVSCTL_RPC_URL/AVSCTL_ATTESTATION_CENTER are not set",
        {
          hint: input.targetFlags
            ? "start one with `avsctl devnet up`, or pass --rpc-url and --attestation-center"
            : "start one with `avsctl devnet up`, or set AVSCTL_RPC_URL and AVSCTL_ATTESTATION_CENTER",
        },
      );
    }
    const l2 = wantedChain === undefined ? devnet.l2[0] : devnet.l2.find((l) => l.chainId === wantedChain);
    if (!l2) {
      throw invalidArgument(
        input.chainId === undefined ? "network.chainId" : (input.chainFlag ?? "--chain-id"),
        `the devnet has no L2 with chain id ${wantedChain} (it has ${devnet.l2.map((l) => l.chainId).join(", ")})`,
      );
    }
    const { provider, chainId } = await connectDevnetRpc(l2.rpcUrl, limits);
    return {
      rpcUrl: l2.rpcUrl,
      chainId,
      attestationCenter: parseAddress(l2.attestationCenter, "devnet attestationCenter"),
      provider,
      devnet,
      devnetChainIds,
    };
  }
  // a value that is missing, not wrong: MISSING_ARGUMENT (docs/cli.md), naming what to give
  if (rpcValue === undefined) {
    throw missingArgument(
      names.rpc,
      `required with ${originOf(input, "attestationCenter").name} (or set ${input.targetFlags ? "AVSCTL_RPC_URL / " : ""}L2_RPC)`,
    );
  }
  if (acValue === undefined) {
    throw missingArgument(
      names.ac,
      `required with ${originOf(input, "rpcUrl").name} (or set ${input.targetFlags ? "AVSCTL_ATTESTATION_CENTER / " : ""}ATTESTATION_CENTER_ADDRESS)`,
    );
  }
  const entries = parseOrigin(input, "attestationCenter", acValue, (v, name) =>
    parseAttestationCenters(v, name),
  );
  const acChains = entries.flatMap((e) => (e.chainId === undefined ? [] : [e.chainId]));
  const picked = pickRpcUrl(parseOrigin(input, "rpcUrl", rpcValue, parseRpcList), wantedChain, acChains);
  if (!picked) {
    const origin = originOf(input, "rpcUrl");
    throw invalidArgument(origin.name, `no entry for chain ${wantedChain} in "${rpcValue}"`, origin.fix);
  }
  const rpcUrl = picked.url;
  const { provider, chainId } = await connectRpc(rpcUrl, limits).catch((error) => {
    // connectRpc's "nothing answers" hint (the only one it gives) lists every place a URL may
    // come from, --rpc-url among them, which only a command with the flag takes: name the one
    // that gave this URL. A URL the user gave: a devnet started now would not be at it.
    if (!isAvsctlError(error) || error.code !== "RPC_UNREACHABLE" || !error.hint) throw error;
    throw new AvsctlError("RPC_UNREACHABLE", error.message, {
      hint: `check ${originOf(input, "rpcUrl").name}: nothing answers JSON-RPC at that URL (a typo, or the node is down)`,
      details: error.details,
      cause: error,
    });
  });
  const expected = wantedChain ?? picked.chainId;
  if (expected !== undefined && expected !== chainId) {
    provider.destroy();
    throw invalidArgument(
      input.chainId !== undefined
        ? (input.chainFlag ?? "--chain-id")
        : wantedChain !== undefined
          ? "network.chainId"
          : originOf(input, "rpcUrl").name,
      `${expected} does not match the RPC endpoint's chain id ${chainId}`,
    );
  }
  const entry =
    entries.length === 1 && entries[0]!.chainId === undefined
      ? entries[0]
      : entries.find((e) => e.chainId === chainId);
  if (!entry) {
    provider.destroy();
    const origin = originOf(input, "attestationCenter");
    throw invalidArgument(origin.name, `no entry for chain ${chainId} in "${acValue}"`, origin.fix);
  }
  // The devnet's own AttestationCenter is one by its state; any other address may be anything.
  const ours = devnet?.l2.some(
    (l) =>
      l.rpcUrl === rpcUrl &&
      l.chainId === chainId &&
      l.attestationCenter.toLowerCase() === entry.address.toLowerCase(),
  );
  if (!ours) {
    try {
      await checkOnce(input, provider, rpcUrl, entry.address);
    } catch (error) {
      provider.destroy();
      throw error;
    }
  }
  return {
    rpcUrl,
    chainId,
    attestationCenter: entry.address,
    provider,
    devnet,
    devnetChainIds,
    rpcFrom: originOf(input, "rpcUrl").name,
  };
}
