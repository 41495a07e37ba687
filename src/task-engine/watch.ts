/**
 * The stored-task watcher inside the engine's process, for a devnet that runs both in one:
 * started when the environment names the chain and the operators' keys (and the engine has an
 * operator secret), reporting to the engine's own URL.
 *
 *   AVSCTL_ENGINE_WATCH_L2_RPC                  the L2 whose blocks and logs drive the triggers
 *   AVSCTL_ENGINE_WATCH_ATTESTATION_CENTER      its AttestationCenter (the active operators)
 *   AVSCTL_ENGINE_WATCH_OPERATOR_KEYS           the operators' private keys, comma-separated
 *
 * When the engine attests on several L2s (L2_RPC and ATTESTATION_CENTER_ADDRESS list more than
 * one), it runs one watcher per L2, each over the tasks attested there (a block or event
 * trigger watches the blocks and logs of the L2 its workflow names).
 */

import { nodeOptionsFromEnv } from "../node/options.js";
import type { StoredTaskWatcher } from "../triggers/stored-tasks.js";
import { keysByAddress } from "./election.js";

export async function watcherFromEnv(
  env: NodeJS.ProcessEnv,
  engineUrl: string,
  operatorSecret: string | undefined,
): Promise<StoredTaskWatcher | undefined> {
  const rpcUrl = env.AVSCTL_ENGINE_WATCH_L2_RPC;
  const attestationCenter = env.AVSCTL_ENGINE_WATCH_ATTESTATION_CENTER;
  const operators = await keysByAddress(env.AVSCTL_ENGINE_WATCH_OPERATOR_KEYS);
  if (!rpcUrl || !attestationCenter || operators.size === 0 || !operatorSecret) return undefined;
  const { startStoredTaskWatcher } = await import("../triggers/stored-tasks.js");
  const l2s = env.L2_RPC && env.ATTESTATION_CENTER_ADDRESS ? nodeOptionsFromEnv(env).l2 : [];
  if (l2s.length < 2) {
    return startStoredTaskWatcher({
      engineUrl,
      operatorSecret,
      l2: { rpcUrl, attestationCenter },
      operators,
    });
  }
  const watchers: StoredTaskWatcher[] = [];
  try {
    for (const l2 of l2s) {
      watchers.push(await startStoredTaskWatcher({ engineUrl, operatorSecret, l2, operators }));
    }
  } catch (error) {
    await Promise.all(watchers.map((w) => w.stop()));
    throw error;
  }
  const stop = async () => {
    await Promise.all(watchers.map((w) => w.stop()));
  };
  return {
    watching: () => watchers.flatMap((w) => w.watching()),
    reports: () => watchers.flatMap((w) => w.reports()),
    synced: async () => {
      await Promise.all(watchers.map((w) => w.synced()));
    },
    idle: async () => {
      await Promise.all(watchers.map((w) => w.idle()));
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
