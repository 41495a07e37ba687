/** Trigger configs and node retry policies. */

import { Cron } from "croner";
import { eventTopics } from "../topics.ts";
import type { RetryPolicy, WorkflowTriggerType } from "../types.ts";
import { ADDRESS, Fields, isObject, join, type Obj, type Problems } from "./fields.ts";
import { MAX_RETRY_ATTEMPTS, MAX_RETRY_BACKOFF_MS } from "./limits.ts";

/**
 * A trigger's config, checked and normalized. Any type may name `chainId`: the L2 its
 * executions are attested on, and whose blocks and logs a block or event trigger watches (the
 * task engine's first L2 when absent).
 */
export function triggerConfig(p: Problems, type: WorkflowTriggerType, config: Obj, path: string): Obj {
  const checked = typeConfig(p, type, config, path);
  if (config.chainId === undefined) return checked;
  const chainId = new Fields(p, config, path, "WF_INVALID_TRIGGER_CONFIG").int(
    "chainId",
    1,
    Number.MAX_SAFE_INTEGER,
  );
  return chainId === undefined ? checked : { ...checked, chainId };
}

function typeConfig(p: Problems, type: WorkflowTriggerType, config: Obj, path: string): Obj {
  const f = new Fields(p, config, path, "WF_INVALID_TRIGGER_CONFIG");
  switch (type) {
    case "manual":
      return config;
    case "fixedTime": {
      const epochs = f.array("epochs", true) ?? [];
      if (f.has("epochs") && epochs.length === 0)
        p.add("WF_INVALID_TRIGGER_CONFIG", f.at("epochs"), "epochs needs at least one time");
      epochs.forEach((e, i) => {
        if (typeof e !== "number" || !Number.isSafeInteger(e) || e < 0) {
          p.add("WF_INVALID_TRIGGER_CONFIG", join(f.at("epochs"), i), "an epoch is a time in ms since 1970");
        }
      });
      return { epochs };
    }
    case "cron": {
      // the REST field is schedules; older clients send schedule
      const key = f.has("schedules") ? "schedules" : "schedule";
      const schedules = f.array(key, false);
      if (!schedules || schedules.length === 0) {
        p.add("WF_INVALID_TRIGGER_CONFIG", f.at("schedules"), "schedules needs at least one cron expression");
        return config;
      }
      schedules.forEach((s, i) => {
        if (typeof s !== "string" || !isCron(s)) {
          p.add("WF_INVALID_TRIGGER_CONFIG", join(f.at(key), i), `"${String(s)}" is not a cron expression`);
        }
      });
      return { schedules };
    }
    case "block": {
      const interval = f.int("interval", 1, Number.MAX_SAFE_INTEGER);
      if (!f.has("interval"))
        p.add("WF_INVALID_TRIGGER_CONFIG", f.at("interval"), "interval (blocks) is required");
      return { interval: interval ?? 1 };
    }
    case "event": {
      // Ava's `expression` alone names no logs to read, and beside queries it would be ignored:
      // either way the trigger would not fire when it says, so it is refused.
      if (f.has("expression")) {
        p.add(
          "WF_INVALID_TRIGGER_CONFIG",
          f.at("expression"),
          "expression is not supported: an event trigger fires on the logs its queries match (addresses and topics)",
        );
      }
      const queries = f.array("queries", false);
      if (!queries || queries.length === 0) {
        if (!f.has("queries") || queries)
          p.add(
            "WF_INVALID_TRIGGER_CONFIG",
            f.at("queries"),
            "queries (addresses and topics to match) needs at least one query",
          );
        return config;
      }
      queries.forEach((q, i) => {
        const qpath = join(f.at("queries"), i);
        if (!isObject(q)) {
          p.add("WF_INVALID_TRIGGER_CONFIG", qpath, "a query must be an object {addresses, topics}");
          return;
        }
        const qf = new Fields(p, q, qpath, "WF_INVALID_TRIGGER_CONFIG");
        const addresses = qf.array("addresses", true);
        if (addresses?.length === 0)
          p.add("WF_INVALID_TRIGGER_CONFIG", qf.at("addresses"), "addresses needs at least one address");
        (addresses ?? []).forEach((a, j) => {
          if (typeof a !== "string" || !ADDRESS.test(a)) {
            p.add(
              "WF_INVALID_TRIGGER_CONFIG",
              join(qf.at("addresses"), j),
              `"${String(a)}" is not an address`,
            );
          }
        });
        for (const problem of eventTopics(q.topics, qf.at("topics")).problems)
          p.add("WF_INVALID_TRIGGER_CONFIG", problem.path, problem.message);
      });
      return config;
    }
  }
}

/** Five or six cron fields that croner accepts. */
function isCron(text: string): boolean {
  const fields = text.trim().split(/\s+/).length;
  if (fields < 5 || fields > 6) return false;
  try {
    new Cron(text, { paused: true }).stop();
    return true;
  } catch {
    return false;
  }
}

export function retryOf(p: Problems, raw: unknown, path: string): RetryPolicy | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) {
    p.add("WF_INVALID_RETRY", path, "retry must be an object {attempts, backoffMs}");
    return undefined;
  }
  const f = new Fields(p, raw, path, "WF_INVALID_RETRY");
  const attempts = f.int("attempts", 1, MAX_RETRY_ATTEMPTS);
  if (!f.has("attempts")) p.add("WF_INVALID_RETRY", f.at("attempts"), "attempts is required");
  const backoffMs = f.int("backoffMs", 0, MAX_RETRY_BACKOFF_MS) ?? 0;
  return attempts === undefined ? undefined : { attempts, backoffMs };
}
