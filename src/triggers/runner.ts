/**
 * The trigger runner: fires tasks for task definitions on time (interval, cron, fixed times),
 * on blocks (every N-th) and on contract logs (address and topics, with a cooldown). Each
 * firing elects its performer by round robin over the active operators at the firing's block
 * (leader.ts); the runner performs only when it holds that operator's key, otherwise it records
 * a skip, so several runners with different keys still send one task per firing.
 *
 * This file wires the parts: state.ts (each trigger's state), clock.ts (time triggers),
 * poller.ts (blocks and logs), election.ts (who performs), firing.ts (sending and records) and
 * status-server.ts (GET /triggers, /firings, /health).
 */

import createDebug from "debug";
import { jsonRpc, quantity } from "../chain/json-rpc.js";
import { AvsctlError } from "../errors.js";
import { ChainTime } from "./chain-time.js";
import { Clock } from "./clock.js";
import { Election, operatorKeys } from "./election.js";
import { Firing } from "./firing.js";
import { ChainPoller, readHead } from "./poller.js";
import { isChainTrigger, triggerStates, triggerStatus } from "./state.js";
import { type StatusServer, startStatusServer } from "./status-server.js";
import type { TriggerRunnerHandle, TriggerRunnerOptions, TriggerStatusResponse } from "./types.js";

export type {
  FiringLog,
  FiringRecord,
  TriggerDefinition,
  TriggerRunnerHandle,
  TriggerRunnerOptions,
  TriggerSend,
  TriggerStatus,
  TriggerStatusResponse,
} from "./types.js";

const debug = createDebug("avsctl:triggers:runner");

/**
 * Starts firing tasks for the given definitions' triggers; resolves once the chain answered
 * and the status server (if any) listens. Throws CONFIG_INVALID for a bad trigger, INVALID_KEY
 * for an operator key that is not its address's, RPC_UNREACHABLE when the L2 cannot be read.
 *
 * @example
 * await using runner = await startTriggerRunner({
 *   definitions: [{ taskDefinitionId: 1, triggers: [{ type: "interval", every: "30s" }] }],
 *   l2: { rpcUrl, attestationCenter, chainId: 31338 },
 *   operators: new Map([[address.toLowerCase(), privateKey]]),
 *   send: { via: "rpc", aggregatorUrl: "http://127.0.0.1:8545" },
 *   statusPort: 0,
 * });
 */
export async function startTriggerRunner(opts: TriggerRunnerOptions): Promise<TriggerRunnerHandle> {
  opts.signal?.throwIfAborted();
  const epochBlocks = opts.epochBlocks ?? 1;
  if (!Number.isSafeInteger(epochBlocks) || epochBlocks < 1) {
    throw new AvsctlError(
      "INVALID_ARGUMENT",
      `epochBlocks: expected a positive integer, got ${epochBlocks}`,
      {
        details: { argument: "epochBlocks" },
      },
    );
  }
  const pollMs = Math.min(10_000, Math.max(20, Math.floor(opts.pollMs ?? 500)));
  const maxRecords = Math.max(1, opts.maxRecords ?? 1_000);
  const { rpcUrl, attestationCenter, chainId } = opts.l2;

  const states = triggerStates(opts.definitions);
  const keys = await operatorKeys(opts.operators);

  const answered = quantity(
    await jsonRpc<string>(rpcUrl, "eth_chainId", [], { signal: opts.signal, timeoutMs: 5_000 }),
  );
  if (answered !== chainId) {
    throw new AvsctlError(
      "INVALID_ARGUMENT",
      `the L2 RPC answers chain id ${answered}, expected ${chainId}`,
      {
        details: { argument: "l2.chainId", expected: chainId, answered },
      },
    );
  }
  const usesBlocks = states.some(isChainTrigger);
  const startBlock = usesBlocks ? await readHead(rpcUrl, opts.signal) : null;

  // Aborted when the runner stops: polls, operator reads and sends in flight end with it.
  const controller = new AbortController();
  const signal = controller.signal;
  const election = new Election({
    keys,
    epochBlocks,
    source: opts.activeOperators,
    rpcUrl,
    attestationCenter,
    signal,
  });
  const usesTime = states.some((s) => !isChainTrigger(s));
  // Time triggers follow the chain's clock, so `devnet advance --time` moves their slots too.
  const chainTime = new ChainTime(rpcUrl, () => clock.retime(states));
  const firing = new Firing({
    send: opts.send,
    election,
    chainId,
    readHead: () => readHead(rpcUrl, signal),
    maxRecords,
    sendTimeoutMs: opts.sendTimeoutMs,
    now: () => chainTime.now(),
    onFiring: opts.onFiring,
    signal,
  });
  const fire = firing.fire.bind(firing);
  const poller = new ChainPoller({ rpcUrl, states, fire, pollMs, startBlock, signal });
  const clock = new Clock(fire, chainTime);
  if (usesTime) await chainTime.refresh(signal);

  const startedAt = new Date().toISOString();
  const status = () => triggerStatus(states, poller.lastBlock);
  const statusResponse = (): TriggerStatusResponse => ({
    triggers: status(),
    blockNumber: poller.lastBlock,
    epochBlocks,
    chainId,
    startedAt,
    pollError: poller.pollError,
  });

  let server: StatusServer | undefined;
  if (opts.statusPort !== undefined) {
    server = await startStatusServer({
      host: opts.statusHost ?? "127.0.0.1",
      port: opts.statusPort,
      triggers: statusResponse,
      firings: () => firing.list(),
    });
  }

  for (const s of states) if (!isChainTrigger(s)) clock.arm(s);
  const polling = usesBlocks ? poller.run() : Promise.resolve();
  const timing = usesTime ? chainTime.run(Math.max(pollMs, 1_000), signal) : Promise.resolve();
  debug("started %d trigger(s), epochBlocks %d, holding %d key(s)", states.length, epochBlocks, keys.size);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      poller.stop();
      firing.halt();
      opts.signal?.removeEventListener("abort", onAbort);
      controller.abort(new Error("trigger runner stopped"));
      clock.stop(states);
      await polling;
      await timing;
      await firing.drain(states);
      await server?.close();
      debug("stopped");
    })();
    return stopping;
  };
  const onAbort = () => void stop();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  if (opts.signal?.aborted) await stop();

  return {
    statusUrl: server?.url,
    status,
    firings: () => firing.list(),
    lastBlock: () => poller.lastBlock,
    idle: () => firing.idle(),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
