/**
 * Who performs an execution, and on which L2: the trigger runner's round robin
 * (src/triggers/leader.ts) over the active operators of the L2 the workflow names.
 */

import { jsonRpc } from "../chain/json-rpc.js";
import type { L2Target } from "../node/options.js";
import { electPerformer, readActiveOperators } from "../triggers/leader.js";
import { electionNumber, type StoredTriggerReason } from "../triggers/stored-firing.js";
import type { Execution } from "./types.js";

/** The keys an execution may be performed with. */
export interface PerformerKeys {
  /** The key tasks are signed with when the engine holds no operator keys (no election). */
  performerKey: string;
  /**
   * The operators' keys by lowercase address (the devnet has them all): each execution is then
   * performed by the operator elected for it and signed with its key.
   */
  operatorKeys?: ReadonlyMap<string, string>;
  /** Blocks per leader epoch (default 1), as the trigger runner's election. */
  epochBlocks?: number;
}

/** The L2 a workflow names (its trigger's `config.chainId`), else the first. */
export function targetL2(
  l2s: readonly L2Target[],
  workflow: { trigger?: { config?: Record<string, unknown> } },
): L2Target | undefined {
  const named = workflow.trigger?.config?.chainId;
  return named === undefined ? l2s[0] : l2s.find((l) => l.chainId === Number(named));
}

/** Operator keys as AVSCTL_ENGINE_WATCH_OPERATOR_KEYS lists them (comma-separated), by address. */
export async function keysByAddress(list: string | undefined): Promise<Map<string, string>> {
  const keys = (list ?? "")
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k !== "");
  if (keys.length === 0) return new Map();
  const { Wallet } = await import("ethers");
  return new Map(keys.map((k) => [new Wallet(k).address.toLowerCase(), k]));
}

export interface Election {
  performer: string;
  key: string;
  chainId: number;
  /** The number the round robin rotated on (docs/task-engine.md, "Executions as AVS tasks"). */
  electedAt: number;
}

/**
 * The operator that performs `execution` on `l2`: the trigger runner's round robin
 * (`floor(n / epochBlocks) % operators`) over the L2's active operators, where n is the firing
 * block, the firing slot's second (electionNumber), or for a manual trigger the L2's head when
 * it is elected. Without operator keys the engine performs with its one performer key.
 */
export async function electFor(
  opts: PerformerKeys,
  l2: L2Target,
  execution: Pick<Execution, "triggerReason" | "performer" | "chainId" | "electedAt">,
  signal?: AbortSignal,
): Promise<Election> {
  const { Wallet } = await import("ethers");
  const keys = opts.operatorKeys;
  if (execution.performer && execution.electedAt !== null) {
    const key =
      keys?.get(execution.performer.toLowerCase()) ??
      (new Wallet(opts.performerKey).address.toLowerCase() === execution.performer.toLowerCase()
        ? opts.performerKey
        : undefined);
    if (!key) throw new Error(`the engine holds no key of ${execution.performer}, elected before`);
    return { performer: execution.performer, key, chainId: l2.chainId, electedAt: execution.electedAt };
  }
  const reason = execution.triggerReason;
  const timed = reason.blockNumber !== undefined || reason.epoch !== undefined;
  const head = Number.parseInt(await jsonRpc<string>(l2.rpcUrl, "eth_blockNumber", [], { signal }), 16);
  const electedAt = timed ? electionNumber(reason as StoredTriggerReason) : head;
  if (!keys || keys.size === 0) {
    return {
      performer: new Wallet(opts.performerKey).address,
      key: opts.performerKey,
      chainId: l2.chainId,
      electedAt,
    };
  }
  // the operators as the firing's block saw them (the watcher's list), else as the head does
  const at = reason.blockNumber !== undefined && reason.blockNumber <= head ? reason.blockNumber : head;
  const operators = await readActiveOperators(l2.rpcUrl, l2.attestationCenter, at, signal);
  const leader = electPerformer(operators, electedAt, opts.epochBlocks ?? 1);
  if (!leader)
    throw new Error(`no active operator on chain ${l2.chainId} at block ${at} to perform the task`);
  const key = keys.get(leader.operator.toLowerCase());
  if (!key) throw new Error(`the engine holds no key of ${leader.operator}, the elected performer`);
  return { performer: leader.operator, key, chainId: l2.chainId, electedAt };
}
