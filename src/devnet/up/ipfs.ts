import path from "node:path";
import { type Launched, type Launcher, PORTS } from "../launcher.js";
import { type IpfsUrls, serviceEnv } from "../service-env.js";
import { httpWait, type PhaseContext } from "./launch.js";
import type { StartPlan } from "./start-plan.js";

/** Where the node keeps its blocks inside its container: a named volume, so a restart keeps them. */
const CONTAINER_DATA = "/data/ipfs";

/**
 * The devnet's IPFS node (`avsctl devnet service ipfs`). Its blocks live under the project's
 * `.avsctl/ipfs` (process) or in the project's `ipfs` volume (Docker), so `devnet restart ipfs`
 * and a later `devnet up` of the same project find what was pinned before.
 */
export async function startIpfs(plan: StartPlan, launcher: Launcher, ctx: PhaseContext): Promise<Launched> {
  ctx.progress("starting the IPFS node");
  const ports = await launcher.allocate({ http: PORTS.ipfs }, "ipfs");
  const dataDir =
    launcher.kind === "process" ? path.join(plan.topology.projectDir, ".avsctl", "ipfs") : CONTAINER_DATA;
  return launcher.launch(
    {
      name: "ipfs",
      what: {
        avsctl: ["devnet", "service", "ipfs", "--port", String(ports.http), "--host", launcher.bindHost],
      },
      env: { AVSCTL_IPFS_DIR: dataDir },
      volumes: [{ name: "ipfs", target: CONTAINER_DATA }],
      ports,
      wait: (p) => httpWait(p.http!),
    },
    ctx.signal,
  );
}

/** The URLs of the state's `ipfs` entry, as the host (the default) or the components see them. */
export function ipfsUrls(ipfs: Launched, view: "internal" | "host" = "host"): IpfsUrls {
  const url = (p: string) => (view === "internal" ? ipfs.internalUrl("http", p) : ipfs.hostUrl("http", p));
  return { apiUrl: url("/api/v0"), gatewayUrl: url("/ipfs/"), pinataUrl: url("") };
}

/** What a project service reads to reach the node (Kubo's RPC, Pinata's API and a gateway). */
export function ipfsEnv(ipfs: Launched, view: "internal" | "host"): Record<string, string> {
  return serviceEnv(undefined, { ipfs: ipfsUrls(ipfs, view) });
}
