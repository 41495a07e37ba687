import type { AvsctlConfig, TriggerConfig } from "../config/schema.js";
import { invalidArgument } from "../errors.js";
import { deriveDevnetKeys } from "./keys.js";

/** True when any task definition of the config has triggers: only then does the devnet run a runner. */
export function hasTriggers(config: AvsctlConfig): boolean {
  return config.taskDefinitions.some((d) => (d.triggers?.length ?? 0) > 0);
}

/** What the devnet hands its trigger runner (as JSON in AVSCTL_TRIGGER_SETUP), with URLs as the runner sees them. */
export interface TriggerSetup {
  definitions: Array<{ taskDefinitionId: number; name: string; triggers: TriggerConfig[] }>;
  l2: { rpcUrl: string; attestationCenter: string; chainId: number };
  aggregatorUrl: string;
  executionUrl: string | null;
  performer: string;
  attesters: number;
  mnemonic?: string;
  /** `devnet up --operator-keys`: the attesters' own ECDSA keys, which the mnemonic does not give. */
  attesterKeys?: string[];
}

/** Matches the config's definitions to their on-chain ids by name. */
export function triggerDefinitions(
  config: AvsctlConfig,
  created: ReadonlyArray<{ taskDefinitionId: number; name: string }>,
): TriggerSetup["definitions"] {
  const ids = new Map(created.map((d) => [d.name, d.taskDefinitionId]));
  return config.taskDefinitions
    .filter((d) => (d.triggers?.length ?? 0) > 0 && ids.has(d.name))
    .map((d) => ({ taskDefinitionId: ids.get(d.name)!, name: d.name, triggers: d.triggers! }));
}

export function parseTriggerSetup(text: string | undefined): TriggerSetup {
  if (!text)
    throw invalidArgument("AVSCTL_TRIGGER_SETUP", "missing: the devnet passes it to its trigger runner");
  try {
    return JSON.parse(text) as TriggerSetup;
  } catch {
    throw invalidArgument("AVSCTL_TRIGGER_SETUP", "not valid JSON");
  }
}

/**
 * Runs the devnet's trigger runner. It holds every operator key of the devnet (they all derive
 * from its mnemonic), so whichever operator the round robin elects, exactly one task is sent.
 */
export async function startDevnetTriggers(
  setup: TriggerSetup,
  opts: { statusPort: number; statusHost: string; signal?: AbortSignal },
) {
  const { startTriggerRunner } = await import("../triggers/runner.js");
  const keys = await deriveDevnetKeys(setup.attesters, setup.mnemonic);
  const { Wallet } = await import("ethers");
  const attesters = setup.attesterKeys
    ? setup.attesterKeys.map((k) => ({ address: new Wallet(k).address, privateKey: k }))
    : keys.attesters;
  const operators = new Map<string, string>(
    [keys.aggregator, keys.performer, ...attesters].map((a) => [a.address.toLowerCase(), a.privateKey]),
  );
  return startTriggerRunner({
    definitions: setup.definitions,
    l2: setup.l2,
    operators,
    // The project's execution service builds the real proof; without one, tasks go straight to the aggregator.
    send: setup.executionUrl
      ? {
          via: "execution",
          executionUrl: setup.executionUrl,
          performer: setup.performer,
          aggregatorUrl: setup.aggregatorUrl,
        }
      : { via: "rpc", aggregatorUrl: setup.aggregatorUrl },
    statusPort: opts.statusPort,
    statusHost: opts.statusHost,
    signal: opts.signal,
  });
}
