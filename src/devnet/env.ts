import { AvsctlError } from "../errors.js";
import { PORTS } from "./launcher.js";
import { type DevnetRuntimes, openRuntimes } from "./manage.js";
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
  const runtimes = await openRuntimes(state, projectDir).catch(() => undefined);
  const port = service ? listeningPort(state.services[service]) : undefined;
  const env = serviceEnv(service, {
    chains: state,
    aggregatorUrl: state.aggregator.rpcUrl,
    performer: state.performer,
    taskDefinitionId: state.taskDefinitions[0]?.taskDefinitionId ?? 1,
    priceSourceUrl: runtimes && (await priceSourceUrl(runtimes)),
    ipfs: ipfsOf(state),
    logFormat: "json",
    host: "127.0.0.1",
    port,
  });
  // a service that creates or triggers workflows reaches the devnet's task engine here
  if (state.engine?.url && service !== "validation") env.AVSCTL_ENGINE_URL = state.engine.url;
  // its runtime gone (a Docker engine that does not answer), `devnet status` says so
  if (runtimes) await refuseDeadUrls(state, env, runtimes);
  return { service, env };
}

/**
 * A devnet whose processes or containers died keeps its state file, and with it the URLs: printed,
 * they would not answer. DEVNET_UNHEALTHY names the components behind the URLs that are down.
 */
async function refuseDeadUrls(state: DevnetState, env: Record<string, string>, runtimes: DevnetRuntimes) {
  const owners: Array<[string, string | undefined]> = [
    ["l1", state.l1.rpcUrl],
    ...state.l2.map((l, i): [string, string] => [`l2-${i + 1}`, l.rpcUrl]),
    ["aggregator", state.aggregator.rpcUrl],
    ["ipfs", state.ipfs?.apiUrl],
    ["task-engine", state.engine?.url],
  ];
  const printed = Object.values(env);
  const behind = owners.flatMap(([name, url]) =>
    url && printed.some((value) => value.includes(url)) ? [name] : [],
  );
  const running = await Promise.all(
    behind.map(async (name) => (await runtimes.of(name).inspect(name)).running),
  );
  const down = behind.filter((_, i) => !running[i]);
  if (down.length === 0) return;
  const all = down.length === behind.length;
  throw new AvsctlError(
    "DEVNET_UNHEALTHY",
    `the ${state.name} devnet is ${all ? "down" : "unhealthy"}: ${down.join(", ")} ${down.length === 1 ? "is" : "are"} not running, so the URLs devnet env would print for ${down.length === 1 ? "it" : "them"} do not answer`,
    {
      hint: "`avsctl devnet up` starts it again as it was started (a process devnet's components on the ports they had), then devnet env prints its environment; `avsctl devnet status` shows what is down",
      details: { components: down },
    },
  );
}

/** The port of a service URL on this machine: where a service run by hand must listen. */
function listeningPort(url: string | null): number | undefined {
  if (!url) return undefined;
  const u = new URL(url);
  if (!["127.0.0.1", "localhost", "[::1]"].includes(u.hostname)) return undefined;
  return Number(u.port || (u.protocol === "https:" ? 443 : 80));
}

/** The devnet's price feed, when one runs (it starts with the first project service). */
async function priceSourceUrl(runtimes: DevnetRuntimes): Promise<string | undefined> {
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
