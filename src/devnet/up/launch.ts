import type { WaitStrategy } from "../runtime/types.js";

/**
 * A small young generation, and one V8 worker thread instead of one per core (each holds its
 * own stack and malloc arena), keep each node near 110 MB under load instead of 120-150.
 */
export const NODE_MEMORY = { NODE_OPTIONS: "--max-semi-space-size=2 --v8-pool-size=1" };

export const rpcWait = (port: number): WaitStrategy[] => [
  { kind: "json-rpc", port, requireResult: true, timeoutMs: 30_000 },
];
export const httpWait = (port: number, p = "/health"): WaitStrategy[] => [
  { kind: "http", port, path: p, timeoutMs: 60_000 },
];

/** What every start phase is given besides its own inputs. */
export interface PhaseContext {
  progress: (step: string) => void;
  /** The result's warnings; `warn` adds one and shows it as progress. */
  warnings: string[];
  warn: (message: string) => void;
  signal?: AbortSignal;
}

/**
 * Like Promise.all, but waits for every start to finish before rethrowing the first failure,
 * so the cleanup that follows a failed start never races a component still starting.
 */
export async function settled<T extends readonly unknown[]>(
  promises: readonly [...{ [K in keyof T]: Promise<T[K]> }],
): Promise<T> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
