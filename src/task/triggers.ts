import type { LoadedConfig } from "../config/load.js";
import { readDevnetState } from "../devnet/state.js";
import type { TriggerStatusResponse } from "../triggers/types.js";

/** A configured trigger when no runner runs it: what it is and when it would fire next. */
export interface ConfiguredTrigger {
  taskDefinition: string;
  type: string;
  description: string;
  nextFiring: string | null;
}

export type TriggersReport =
  | ({ running: true } & TriggerStatusResponse)
  | { running: false; triggers: ConfiguredTrigger[] };

/**
 * `task triggers`: the running devnet's triggers with their next firing, from its trigger
 * runner; the configured ones (not running) when the devnet runs none.
 */
export async function listTriggers(
  project: Pick<LoadedConfig, "root" | "config">,
  now = Date.now(),
): Promise<TriggersReport> {
  const devnet = readDevnetState(project.root);
  const statusUrl = devnet?.internal?.triggersUrl as string | undefined;
  if (devnet && statusUrl) {
    const { fetchTriggerStatus } = await import("../triggers/status-client.js");
    return { running: true, ...(await fetchTriggerStatus(statusUrl)) };
  }
  const { parseTrigger, describeTrigger, nextFiring } = await import("../triggers/schedule.js");
  const triggers = project.config.taskDefinitions.flatMap((d, i) =>
    (d.triggers ?? []).map((raw, j) => {
      const { trigger } = parseTrigger(raw, `taskDefinitions[${i}].triggers[${j}]`);
      const next = trigger ? nextFiring(trigger, now, null) : { at: null, block: null };
      return {
        taskDefinition: d.name,
        type: raw.type,
        description: trigger ? describeTrigger(trigger) : "",
        nextFiring: next.at === null ? null : new Date(next.at).toISOString(),
      };
    }),
  );
  return { running: false, triggers };
}
