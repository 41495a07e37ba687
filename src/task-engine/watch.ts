/**
 * The stored-task watcher inside the engine's process, for a devnet that runs both in one:
 * started when the environment names the chain and the operators' keys (and the engine has an
 * operator secret), reporting to the engine's own URL.
 *
 *   AVSCTL_ENGINE_WATCH_L2_RPC                  the L2 whose blocks and logs drive the triggers
 *   AVSCTL_ENGINE_WATCH_ATTESTATION_CENTER      its AttestationCenter (the active operators)
 *   AVSCTL_ENGINE_WATCH_OPERATOR_KEYS           the operators' private keys, comma-separated
 */

import type { StoredTaskWatcher } from "../triggers/stored-tasks.js";

export async function watcherFromEnv(
  env: NodeJS.ProcessEnv,
  engineUrl: string,
  operatorSecret: string | undefined,
): Promise<StoredTaskWatcher | undefined> {
  const rpcUrl = env.AVSCTL_ENGINE_WATCH_L2_RPC;
  const attestationCenter = env.AVSCTL_ENGINE_WATCH_ATTESTATION_CENTER;
  const keys = (env.AVSCTL_ENGINE_WATCH_OPERATOR_KEYS ?? "").split(",").filter((k) => k.trim() !== "");
  if (!rpcUrl || !attestationCenter || keys.length === 0 || !operatorSecret) return undefined;
  const { Wallet } = await import("ethers");
  const { startStoredTaskWatcher } = await import("../triggers/stored-tasks.js");
  const operators = new Map(keys.map((k) => [new Wallet(k.trim()).address.toLowerCase(), k.trim()]));
  return startStoredTaskWatcher({ engineUrl, operatorSecret, l2: { rpcUrl, attestationCenter }, operators });
}
