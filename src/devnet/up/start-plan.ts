import type { AvsctlConfig } from "../../config/schema.js";
import { type DevnetKeys, deriveDevnetKeys } from "../keys.js";
import { PORTS } from "../launcher.js";
import type { OperatorKeys } from "../operator-keys.js";
import type { DevnetPlan } from "../plan.js";
import { hasTriggers } from "../trigger-service.js";

/**
 * Everything `up` starts, decided before the first component starts: the topology (chains,
 * attesters, services, runtime), the ports, every account's key, the task definitions to create
 * and whether a trigger runner runs. The runtime and its image come with the launcher. Each
 * phase reads what it needs from here and gets the rest from the phases before it.
 */
export interface StartPlan {
  topology: DevnetPlan;
  /** Each component's port: fixed inside containers; processes take the next free one. */
  ports: typeof PORTS;
  keys: DevnetKeys;
  /** `--operator-keys`: the attesters are these operators, funded from the deployer. */
  operators: OperatorKeys | undefined;
  /** The config's task definitions; none: one named "default". */
  taskDefinitions: AvsctlConfig["taskDefinitions"];
  /** The config, when it has triggers (the trigger runner starts); else undefined. */
  triggers: AvsctlConfig | undefined;
  /** Warnings known before anything starts. */
  warnings: string[];
}

export async function planStart(
  topology: DevnetPlan,
  config: AvsctlConfig,
  operators: OperatorKeys | undefined,
): Promise<StartPlan> {
  const { withOperatorKeys } = await import("../operator-keys.js");
  const keys = withOperatorKeys(await deriveDevnetKeys(topology.attesters, topology.mnemonic), operators);
  return {
    topology,
    ports: PORTS,
    keys,
    operators,
    taskDefinitions: config.taskDefinitions,
    triggers: hasTriggers(config) ? config : undefined,
    warnings: keys.insecure
      ? ["devnet keys come from anvil's public test mnemonic: never use them on a real network"]
      : [],
  };
}
