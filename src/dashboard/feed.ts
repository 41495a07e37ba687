/**
 * The live feed behind `avsctl devnet ui`: it follows the devnet's merged log stream (tasks,
 * votes, internal tasks), the L2's verdict events (verdict, task number, gas), the component
 * checks and the chains every 2 s, and the task engine's workflows when the devnet runs one.
 * It keeps the latest of everything for the snapshot and hands every change to subscribers.
 * Each loop survives a failed round (a chain restarting, the engine busy): it tries again on
 * its next tick, until the signal aborts.
 */

import type { JsonRpcProvider } from "ethers";
import type { DevnetState } from "../devnet/state.js";
import { sleep } from "../util/sleep.js";
import { METRICS_INTERVAL_MS, MetricsHistory, metricsPoint } from "./metrics.js";
import { TaskBook, type TaskChange } from "./tasks.js";
import {
  type ChainConnections,
  connectChains,
  operatorsOf,
  readTaskDefinitions,
  readTopology,
  type Topology,
} from "./topology.js";
import type {
  ComponentInfo,
  FeedEvent,
  Health,
  MetricsPoint,
  Snapshot,
  Task,
  TaskDefinitionView,
  WorkflowView,
} from "./types.js";
import { workflowReader } from "./workflows.js";

export const HEALTH_INTERVAL_MS = 2_000;
const DEFINITIONS_INTERVAL_MS = 10_000;
const WORKFLOWS_INTERVAL_MS = 3_000;

export interface DashboardFeed {
  snapshot(): Snapshot;
  task(hash: string): Task | undefined;
  /** Returns the unsubscribe function. */
  subscribe(listener: (event: FeedEvent) => void): () => void;
  /** Stops every loop and closes the chain connections. */
  close(): Promise<void>;
}

/** Runs `round` now and then every `ms` until the signal aborts; a failed round waits for the next. */
async function every(ms: number, signal: AbortSignal, round: () => Promise<void>): Promise<void> {
  while (!signal.aborted) {
    const started = Date.now();
    await round().catch(() => undefined);
    // A tick every `ms` from the start of the last round, so a slow round does not slow the beat.
    await sleep(Math.max(100, ms - (Date.now() - started)), signal);
  }
}

/**
 * A failed submission's gas: its transaction has a receipt (a revert) but no verdict event to
 * bring it. The returned function is called with a task's hash after each change of the task;
 * it asks each L2 in turn (the aggregator's line does not name the chain), once per
 * transaction, and hands the task's change to `onChange`.
 */
export function failedGasReader(
  book: TaskBook,
  providers: readonly JsonRpcProvider[],
  onChange: (change: TaskChange | undefined) => void,
): (hash: string) => Promise<void> {
  const asked = new Set<string>();
  return async (hash) => {
    const txHash = book.gasWanted(hash);
    if (!txHash || asked.has(txHash)) return;
    asked.add(txHash);
    for (const provider of providers) {
      const receipt = await provider.getTransactionReceipt(txHash).catch(() => null);
      if (receipt) return onChange(book.applyGas(hash, txHash, receipt.gasUsed.toString()));
    }
    // not mined: a later line of the task asks again
    asked.delete(txHash);
  };
}

export async function startFeed(
  projectDir: string,
  state: DevnetState,
  outer?: AbortSignal,
): Promise<DashboardFeed> {
  const controller = new AbortController();
  const signal = outer ? AbortSignal.any([outer, controller.signal]) : controller.signal;
  const listeners = new Set<(event: FeedEvent) => void>();
  const emit = (event: FeedEvent) => {
    for (const l of listeners) {
      try {
        l(event);
      } catch {
        // one broken subscriber never stops the feed
      }
    }
  };
  const book = new TaskBook(new Map(state.attesters.map((a) => [a.name, a.operatorId])));
  const history = new MetricsHistory();
  const chains: ChainConnections = await connectChains(state);
  let topology: Topology = {
    chains: [],
    operators: operatorsOf(state).map((o) => ({ ...o, votingPowerL1: null, votingPowerL2: null })),
    performer: null,
  };
  let components: ComponentInfo[] = [];
  let definitions: TaskDefinitionView[] = state.taskDefinitions.map((d) => ({
    taskDefinitionId: d.taskDefinitionId,
    name: d.name,
    minimumVotingPower: "0",
    restrictedOperators: [],
    maxAttesters: "0",
    blockExpiry: "",
    baseRewardFeeForAttesters: "0",
    baseRewardFeeForPerformer: "0",
    baseRewardFeeForAggregator: "0",
    disputePeriodBlocks: "0",
  }));
  let metrics: MetricsPoint = metricsPoint([], Date.now());
  let workflows: WorkflowView[] = [];

  const onChange = (change: TaskChange | undefined) => {
    if (!change) return;
    if (change.kind === "task") emit({ event: "task", data: change.task });
    else emit({ event: "internal-task", data: change.task });
  };

  const healthOf = (name: string): Health => {
    const c = components.find((x) => x.name === name);
    return c === undefined ? "unknown" : c.healthy ? "up" : "down";
  };
  const operators = () => topology.operators.map((o) => ({ ...o, health: healthOf(o.name) }));

  const loops: Array<Promise<void>> = [];

  const fetchFailedGas = failedGasReader(book, chains.l2, onChange);

  // Tasks from the logs: what is there first (replayed in time order), then each new line.
  loops.push(
    every(HEALTH_INTERVAL_MS, signal, async () => {
      const { devnetLogStream } = await import("../devnet/logs.js");
      for await (const entry of devnetLogStream(projectDir, { follow: true, signal })) {
        const change = book.apply(entry);
        onChange(change);
        if (change?.kind === "task") void fetchFailedGas(change.task.taskHash);
      }
    }),
  );

  // Verdicts from the chain, with the gas of the transaction that carried each.
  const l2 = state.l2[0];
  const l2Provider = chains.l2[0];
  if (l2 && l2Provider) {
    let fromBlock = 0;
    const gasOf = new Map<string, Promise<string | null>>();
    let block: { number: number; time: number } | undefined;
    loops.push(
      every(1_000, signal, async () => {
        const { followVerdicts } = await import("../client/verdicts.js");
        for await (const v of followVerdicts(
          { provider: l2Provider, attestationCenter: l2.attestationCenter, chainId: l2.chainId, fromBlock },
          { until: Number.POSITIVE_INFINITY, signal, pollMs: 250 },
        )) {
          let gas = gasOf.get(v.txHash);
          if (!gas) {
            gas = l2Provider.getTransactionReceipt(v.txHash).then(
              (r) => r?.gasUsed.toString() ?? null,
              () => null,
            );
            gasOf.set(v.txHash, gas);
          }
          // Verdicts come in block order: one block's time serves all of its verdicts.
          if (block?.number !== v.blockNumber) {
            const header = await l2Provider.getBlock(v.blockNumber);
            if (!header) throw new Error(`block ${v.blockNumber} not found`);
            block = { number: v.blockNumber, time: header.timestamp * 1000 };
          }
          onChange(book.applyVerdict(v, await gas, block.time));
          fromBlock = v.blockNumber;
        }
      }),
    );
  }

  // Component health and the chains' view of the operators.
  loops.push(
    every(HEALTH_INTERVAL_MS, signal, async () => {
      const { devnetStatus } = await import("../devnet/manage.js");
      const before = JSON.stringify(operators());
      const [status, topo] = await Promise.all([
        devnetStatus(projectDir),
        readTopology(state, chains).catch(() => undefined),
      ]);
      components = status.components.map((c) => ({
        name: c.name,
        healthy: c.healthy,
        detail: c.healthy ? c.state : c.problems.join(", ") || c.state,
      }));
      if (topo) topology = topo;
      emit({ event: "components", data: components });
      const now = operators();
      if (JSON.stringify(now) !== before) emit({ event: "operators", data: now });
    }),
  );

  loops.push(
    every(DEFINITIONS_INTERVAL_MS, signal, async () => {
      definitions = await readTaskDefinitions(state, chains);
    }),
  );

  loops.push(
    every(METRICS_INTERVAL_MS, signal, async () => {
      metrics = metricsPoint(book.decided(), Date.now());
      history.push(metrics);
      emit({ event: "metrics", data: metrics });
    }),
  );

  const engine = state.engine;
  if (engine) {
    const seen = new Map<string, string>();
    const readWorkflows = workflowReader(engine.url, state.deployer.privateKey, signal);
    loops.push(
      every(WORKFLOWS_INTERVAL_MS, signal, async () => {
        workflows = await readWorkflows();
        for (const w of workflows) {
          for (const execution of w.executions) {
            const json = JSON.stringify(execution);
            if (seen.get(execution.id) === json) continue;
            seen.set(execution.id, json);
            emit({ event: "workflow", data: { workflowId: w.id, execution } });
          }
        }
      }),
    );
  }

  return {
    snapshot: () => ({
      devnet: { name: state.name, runtime: state.runtime },
      chains: topology.chains,
      operators: operators(),
      performer: topology.performer,
      components,
      taskDefinitions: definitions,
      tasks: book.list(),
      internalTasks: book.internalTasks(),
      metrics: { ...metrics, history: history.history() },
      workflows,
    }),
    task: (hash) => book.get(hash),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      controller.abort();
      await Promise.allSettled(loops);
      chains.close();
    },
  };
}
