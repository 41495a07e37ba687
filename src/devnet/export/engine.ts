import type { DevnetKeys } from "../keys.js";
import { PORTS } from "../launcher.js";
import { engineEnv } from "../up/engine.js";
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
  return {
    name: "task-engine",
    role: "service",
    image: s.image,
    command: s.command,
    env: { ...s.chainEnv, ...env, AVSCTL_ENGINE_STORE: `${ENGINE_DATA}/engine.sqlite` },
    secretEnv: ["PRIVATE_KEY_PERFORMER"],
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
