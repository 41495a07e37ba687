import { PORTS } from "./launcher.js";
import { openRuntimes } from "./manage.js";
import { PRICE_PATH } from "./project-services.js";
import { type IpfsUrls, type ServiceKind, serviceEnv } from "./service-env.js";
import { type DevnetState, requireDevnetState } from "./state.js";

export interface DevnetEnv {
  /** The service it is for; undefined: every name either service needs. */
  service: ServiceKind | undefined;
  env: Record<string, string>;
}

/**
 * `devnet env`: the environment the running devnet gives a project service, as a process on
 * this machine sees it, so a service run by hand (or under a debugger) gets the same.
 */
export async function devnetEnv(projectDir: string, service?: ServiceKind): Promise<DevnetEnv> {
  const state = requireDevnetState(projectDir);
  const port = service ? listeningPort(state.services[service]) : undefined;
  const env = serviceEnv(service, {
    chains: state,
    aggregatorUrl: state.aggregator.rpcUrl,
    performer: state.performer,
    taskDefinitionId: state.taskDefinitions[0]?.taskDefinitionId ?? 1,
    priceSourceUrl: await priceSourceUrl(state, projectDir),
    ipfs: ipfsOf(state),
    logFormat: "json",
    host: "127.0.0.1",
    port,
  });
  // a service that creates or triggers workflows reaches the devnet's task engine here
  if (state.engine?.url && service !== "validation") env.AVSCTL_ENGINE_URL = state.engine.url;
  return { service, env };
}

/** The port of a service URL on this machine: where a service run by hand must listen. */
function listeningPort(url: string | null): number | undefined {
  if (!url) return undefined;
  const u = new URL(url);
  if (!["127.0.0.1", "localhost", "[::1]"].includes(u.hostname)) return undefined;
  return Number(u.port || (u.protocol === "https:" ? 443 : 80));
}

/** The devnet's price feed, when one runs (it starts with the first project service). */
async function priceSourceUrl(state: DevnetState, projectDir: string): Promise<string | undefined> {
  let runtimes: Awaited<ReturnType<typeof openRuntimes>>;
  try {
    runtimes = await openRuntimes(state, projectDir);
  } catch {
    return undefined; // its runtime is gone: `devnet status` says so
  }
  const feed = await runtimes.of("price-feed").inspect("price-feed");
  if (!feed.running) return undefined;
  const hostPort = feed.ports[String(PORTS.feed)] ?? Object.values(feed.ports)[0];
  return hostPort === undefined ? undefined : `http://127.0.0.1:${hostPort}${PRICE_PATH}`;
}

/** The devnet's IPFS node, when the state records one. */
function ipfsOf(state: DevnetState): IpfsUrls | undefined {
  const ipfs = (state as { ipfs?: Partial<IpfsUrls> | null }).ipfs;
  if (!ipfs?.apiUrl || !ipfs.gatewayUrl || !ipfs.pinataUrl) return undefined;
  return { apiUrl: ipfs.apiUrl, gatewayUrl: ipfs.gatewayUrl, pinataUrl: ipfs.pinataUrl };
}
