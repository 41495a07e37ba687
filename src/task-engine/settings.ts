/** The engine's attestation and validation settings, read from a project service's environment. */

import { nodeOptionsFromEnv } from "../node/options.js";
import type { WorkflowChain } from "../workflow/index.js";
import type { AttestOptions } from "./attest.js";
import { keysByAddress } from "./election.js";
import type { ChainLookup } from "./tx-check.js";

/**
 * What the engine reads from a project service's environment (docs/protocol.md#service-environment)
 * to attest and validate: the aggregator, the performer key, the L2s, Pinata's API and
 * gateway, and TASK_DEFINITION_ID. Attesting needs all of them (else undefined); validating
 * only the gateway. The operators' keys (AVSCTL_ENGINE_WATCH_OPERATOR_KEYS) are added by
 * attestSettings.
 */
export function attestFromEnv(env: NodeJS.ProcessEnv): { attest?: AttestOptions; gatewayUrl?: string } {
  const pick = (name: string) => (env[name]?.trim() ? env[name]!.trim() : undefined);
  const gatewayUrl = pick("PINATA_GATEWAY");
  const aggregatorUrl = pick("OTHENTIC_CLIENT_RPC_ADDRESS");
  const performerKey = pick("PRIVATE_KEY_PERFORMER");
  const pinataUrl = pick("PINATA_API_URL");
  const taskDefinitionId = Number(pick("TASK_DEFINITION_ID"));
  const l2s = pick("L2_RPC") && pick("ATTESTATION_CENTER_ADDRESS") ? nodeOptionsFromEnv(env).l2 : [];
  if (
    !aggregatorUrl ||
    !performerKey ||
    !pinataUrl ||
    l2s.length === 0 ||
    !Number.isSafeInteger(taskDefinitionId)
  )
    return gatewayUrl ? { gatewayUrl } : {};
  return {
    attest: { aggregatorUrl, performerKey, pinataUrl, taskDefinitionId, l2s },
    ...(gatewayUrl ? { gatewayUrl } : {}),
  };
}

/**
 * attestFromEnv() as startTaskEngine() options, with the operators' keys the performer is
 * elected among, and the L2s validation checks sent transactions on.
 */
export async function attestSettings(
  env: NodeJS.ProcessEnv,
): Promise<{ attest?: AttestOptions; ipfsGatewayUrl?: string; validationChains?: ChainLookup }> {
  const { attest, gatewayUrl } = attestFromEnv(env);
  const operatorKeys = await keysByAddress(env.AVSCTL_ENGINE_WATCH_OPERATOR_KEYS);
  const l2s = env.L2_RPC && env.ATTESTATION_CENTER_ADDRESS ? nodeOptionsFromEnv(env).l2 : [];
  return {
    ...(attest ? { attest: operatorKeys.size > 0 ? { ...attest, operatorKeys } : attest } : {}),
    ...(gatewayUrl ? { ipfsGatewayUrl: gatewayUrl } : {}),
    ...(l2s.length > 0 ? { validationChains: chainLookup(l2s) } : {}),
  };
}

/** The RPC of each L2 by chain id, for checking recorded transactions. */
export function chainLookup(l2s: ReadonlyArray<{ chainId: number; rpcUrl: string }>): ChainLookup {
  const urls = new Map(l2s.map((l) => [String(l.chainId), l.rpcUrl]));
  return (chainId) => urls.get(String(chainId));
}

/**
 * The options of the devnet's engine (`avsctl devnet service task-engine`) from its environment:
 * attestation and validation (attestSettings), the L2s its chain nodes read (the first, or the
 * one a workflow names), and the chain id sign-in messages name (AVSCTL_ENGINE_CHAIN_ID,
 * default: the first L2's). `close` ends the chains.
 */
export async function engineServiceOptions(env: NodeJS.ProcessEnv) {
  const settings = await attestSettings(env);
  const l2s = env.L2_RPC && env.ATTESTATION_CENTER_ADDRESS ? nodeOptionsFromEnv(env).l2 : [];
  const { chainProvider } = await import("../chain/rpc.js");
  const chains = new Map<number, WorkflowChain>();
  for (const l2 of l2s) {
    if (l2.chainId > 0 && !chains.has(l2.chainId)) {
      const provider = await chainProvider(l2.rpcUrl, l2.chainId);
      chains.set(l2.chainId, { provider });
    }
  }
  const first = l2s[0] ? chains.get(l2s[0].chainId) : undefined;
  const chainId = Number(env.AVSCTL_ENGINE_CHAIN_ID || l2s[0]?.chainId || 31337);
  return {
    ...settings,
    chainId,
    ...(first ? { chain: first, chainsById: chains } : {}),
    close: () => {
      for (const c of chains.values()) c.provider.destroy();
    },
  };
}
