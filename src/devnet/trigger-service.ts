import type { AvsctlConfig } from "../config/schema.js";
import { deriveDevnetKeys } from "./keys.js";
import type { DevnetState } from "./state.js";

/** True when any task definition of the config has triggers: only then does the devnet run a runner. */
export function hasTriggers(config: AvsctlConfig): boolean {
  return config.taskDefinitions.some((d) => (d.triggers?.length ?? 0) > 0);
}

/**
 * Runs the devnet's trigger runner: it holds every operator key of the devnet (they all derive
 * from its mnemonic), so whichever operator the round robin elects, exactly one task is sent.
 * Definitions are matched to their on-chain ids by name through the devnet state.
 */
export async function startDevnetTriggers(opts: {
  config: AvsctlConfig;
  state: DevnetState;
  statusPort: number;
  statusHost: string;
  /** URLs as this process sees them (inside a container they differ from the state's). */
  l2RpcUrl?: string;
  aggregatorUrl?: string;
  executionUrl?: string;
  signal?: AbortSignal;
}) {
  const { startTriggerRunner } = await import("../triggers/runner.js");
  const keys = await deriveDevnetKeys(opts.state.attesters.length, opts.config.devnet.mnemonic);
  const operators = new Map<string, string>(
    [keys.aggregator, keys.performer, ...keys.attesters].map((a) => [a.address.toLowerCase(), a.privateKey]),
  );
  const ids = new Map(opts.state.taskDefinitions.map((d) => [d.name, d.taskDefinitionId]));
  const definitions = opts.config.taskDefinitions
    .filter((d) => (d.triggers?.length ?? 0) > 0 && ids.has(d.name))
    .map((d) => ({ taskDefinitionId: ids.get(d.name)!, name: d.name, triggers: d.triggers! }));
  const l2 = opts.state.l2[0]!;
  const executionUrl = opts.executionUrl ?? opts.state.services.execution ?? undefined;
  return startTriggerRunner({
    definitions,
    l2: { rpcUrl: opts.l2RpcUrl ?? l2.rpcUrl, attestationCenter: l2.attestationCenter, chainId: l2.chainId },
    operators,
    // The project's execution service builds the real proof; without one, tasks go straight to the aggregator.
    send: executionUrl
      ? { via: "execution", executionUrl, performer: opts.state.performer.address }
      : { via: "rpc", aggregatorUrl: opts.aggregatorUrl ?? opts.state.aggregator.rpcUrl },
    statusPort: opts.statusPort,
    statusHost: opts.statusHost,
    signal: opts.signal,
  });
}
