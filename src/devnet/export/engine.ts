import { randomBytes } from "node:crypto";
import type { DevnetKeys } from "../keys.js";
import { PORTS } from "../launcher.js";
import { engineEnv, WATCHER_SECRET_ENV, watcherEnv } from "../up/engine.js";
import type { TopologyComponent } from "./types.js";

/** Where the engine keeps its store in its container (as `devnet up` mounts it). */
const ENGINE_DATA = "/data/engine";

/**
 * The task engine as an exported component, as `devnet up` starts it: the devnet's performer
 * for workflow executions (the aggregator, the performer key, the IPFS node), its store in a
 * volume. `taskDefinitionId` is the definition the bootstrap job creates for it.
 */
export function engineComponent(s: {
  image: string;
  command: string[];
  chainEnv: Record<string, string>;
  aggregatorUrl: string;
  keys: DevnetKeys;
  taskDefinitionId: number;
  chainId: number;
  ipfsEnv: Record<string, string>;
  hostPort: number;
}): TopologyComponent {
  const env = engineEnv({
    chains: undefined,
    aggregatorUrl: s.aggregatorUrl,
    performer: s.keys.performer,
    taskDefinitionId: s.taskDefinitionId,
    chainId: s.chainId,
    ipfs: s.ipfsEnv,
  });
  // The watcher's chain is the first L2, as the engine's tasks land there (`chainId@url` lists).
  const first = (list: string | undefined) => list?.split(",")[0]?.split("@").slice(1).join("@") ?? "";
  const watch = watcherEnv(
    { rpcUrl: first(s.chainEnv.L2_RPC), attestationCenter: first(s.chainEnv.ATTESTATION_CENTER_ADDRESS) },
    s.keys,
    randomBytes(24).toString("hex"),
  );
  return {
    name: "task-engine",
    role: "service",
    image: s.image,
    command: s.command,
    env: { ...s.chainEnv, ...env, ...watch, AVSCTL_ENGINE_STORE: `${ENGINE_DATA}/engine.sqlite` },
    secretEnv: ["PRIVATE_KEY_PERFORMER", ...WATCHER_SECRET_ENV],
    ports: [{ name: "http", container: PORTS.engine, host: s.hostPort }],
    health: { kind: "http", port: PORTS.engine, path: "/health", nodeHealth: true },
    dependsOn: [
      { name: "aggregator", condition: "healthy" },
      { name: "ipfs", condition: "healthy" },
    ],
    volumes: [{ name: "engine", target: ENGINE_DATA }],
  };
}

/** The attester flags that send the engine's tasks to the engine for validation. */
export function engineRoute(taskDefinitionId: number): string[] {
  return ["--avs-webapi-for", `${taskDefinitionId}=http://task-engine:${PORTS.engine}`];
}
