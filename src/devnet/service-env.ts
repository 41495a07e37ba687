/**
 * The environment of a project service (docs/protocol.md#service-environment), from what the
 * devnet knows about itself. `devnet up` builds its services' environment here and
 * `devnet env` prints it from the state through the same function, so a service run by hand
 * sees exactly what one the devnet starts sees.
 */

export type ServiceKind = "execution" | "validation";

export interface EnvChains {
  l1: { chainId: number; rpcUrl: string; avsGovernance: string };
  l2: Array<{ chainId: number; rpcUrl: string; attestationCenter: string }>;
}

export interface IpfsUrls {
  apiUrl: string;
  gatewayUrl: string;
  pinataUrl: string;
}

/** Each part is optional: a name is set only when its value is known where the env is built. */
export interface ServiceEnvSource {
  chains?: EnvChains;
  aggregatorUrl?: string;
  performer?: { address: string; privateKey: string };
  taskDefinitionId?: number;
  priceSourceUrl?: string;
  ipfs?: IpfsUrls;
  /**
   * LOG_FORMAT: `json` asks the service for JSON log lines with `time`, `level`, `msg` and a
   * `taskHash` on each line about a task, which `devnet logs --task` and `task trace` read.
   */
  logFormat?: "json";
  /** Where the service listens. */
  host?: string;
  port?: number;
}

/** The chain names every Othentic component reads; L2 values are `chainId@value` lists. */
export function chainEnv(chains: EnvChains): Record<string, string> {
  return {
    L2_RPC: chains.l2.map((l) => `${l.chainId}@${l.rpcUrl}`).join(","),
    L2_CHAIN: chains.l2.map((l) => l.chainId).join(","),
    ATTESTATION_CENTER_ADDRESS: chains.l2.map((l) => `${l.chainId}@${l.attestationCenter}`).join(","),
    L1_RPC: chains.l1.rpcUrl,
    L1_CHAIN: String(chains.l1.chainId),
    AVS_GOVERNANCE_ADDRESS: chains.l1.avsGovernance,
  };
}

/**
 * The environment of one kind of service, or of both (`undefined`: every name either needs,
 * without the listening port, which differs between them). A validation service gets no chain,
 * aggregator or performer names: it only answers the attesters.
 */
export function serviceEnv(kind: ServiceKind | undefined, s: ServiceEnvSource): Record<string, string> {
  const env: Record<string, string> = {};
  const execution = kind !== "validation";
  if (execution && s.aggregatorUrl !== undefined) env.OTHENTIC_CLIENT_RPC_ADDRESS = s.aggregatorUrl;
  if (execution && s.performer) {
    env.PERFORMER_ADDRESS = s.performer.address;
    env.PRIVATE_KEY_PERFORMER = s.performer.privateKey;
  }
  if (execution && s.chains) Object.assign(env, chainEnv(s.chains));
  if (s.taskDefinitionId !== undefined) env.TASK_DEFINITION_ID = String(s.taskDefinitionId);
  if (s.priceSourceUrl !== undefined) env.PRICE_SOURCE_URL = s.priceSourceUrl;
  if (s.ipfs) {
    env.IPFS_API_URL = s.ipfs.apiUrl;
    env.PINATA_API_URL = s.ipfs.pinataUrl;
    env.PINATA_GATEWAY = s.ipfs.gatewayUrl;
  }
  if (s.logFormat !== undefined) env.LOG_FORMAT = s.logFormat;
  if (s.host !== undefined) env.HOST = s.host;
  if (kind && s.port !== undefined) {
    env.PORT = String(s.port);
    env[`${kind.toUpperCase()}_PORT`] = String(s.port);
  }
  return env;
}
