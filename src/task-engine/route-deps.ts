/** What the engine's routes work with: the store, metrics, the auth policy, and the worker's hooks. */

import type { AuthPolicy } from "./auth.js";
import type { EngineMetrics } from "./metrics.js";
import type { TaskStore } from "./store.js";
import type { Execution } from "./types.js";

export interface RouteDeps {
  store: TaskStore;
  metrics: EngineMetrics;
  auth: AuthPolicy;
  now: () => number;
  /** Wakes the worker after a trigger. */
  queued(): void;
  /** Resolves with the execution once recorded (or undefined when the wait ends first). */
  waitFor(executionId: string, timeoutMs: number): Promise<Execution | undefined>;
  /** Ends the waits on executions of `taskId` that are final or gone (after cancel or delete). */
  settle(taskId: string): void;
  blockingWaitMs: number;
  /** The L2s executions are attested on, when they are; a workflow naming another is refused. */
  chainIds?: readonly number[];
}
