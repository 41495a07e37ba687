/**
 * Internal tasks (docs/protocol.md#internal-tasks). VOTING_POWER_SYNC (10001): the aggregator reads every
 * L2 operator's voting power on L1 (AvsGovernance.votingPower at block toBlockL1) and on L2
 * (OBLS.votingPower at block toBlockL2), and proposes the difference as
 * `abi.encode(VotingPowerUpdate)`; attesters recompute the same difference at the same blocks
 * and approve only an identical proposal; once approved, submitTask hands it to the
 * InternalTaskHandler, which applies it in OBLS.
 */

import { Interface } from "ethers/abi";
import {
  decodeVotingPowerUpdate,
  encodeVotingPowerUpdate,
  type VotingPowerUpdate,
} from "../chain/voting-power-update.js";
import { INTERNAL_TASK_DEFINITIONS } from "../chain/well-known.js";
import { sleep } from "../util/sleep.js";
import type { ChainView } from "./chain-view.js";
import type { Logger } from "./log.js";
import type { InternalTaskSchedule, L1Target } from "./options.js";
import { RpcClient } from "./rpc-client.js";
import type { TaskMessage } from "./transport.js";
import type { ValidationOutcome } from "./validation-client.js";

export type { VotingPowerUpdate };

type VotingPowerChange = VotingPowerUpdate["toIncrease"][number];

const views = new Interface([
  "function votingPower(address) view returns (uint256)",
  "function getActiveOperatorsDetails() view returns ((address operator, uint256 operatorId, uint256 votingPower, uint256 feeToClaim)[])",
  "function internalTaskHandler() view returns (address)",
  "function lastCommitBlockL1() view returns (uint256)",
  "function lastCommitBlockL2() view returns (uint256)",
]);

/** The changes that take L2 voting power to L1's, in ascending operator id order. */
export function diffVotingPower(
  operators: Array<{ operatorId: bigint; l1: bigint; l2: bigint }>,
): Pick<VotingPowerUpdate, "toIncrease" | "toDecrease"> {
  const sorted = [...operators].sort((a, b) =>
    a.operatorId < b.operatorId ? -1 : a.operatorId > b.operatorId ? 1 : 0,
  );
  const toIncrease: VotingPowerChange[] = [];
  const toDecrease: VotingPowerChange[] = [];
  for (const o of sorted) {
    if (o.l1 > o.l2) toIncrease.push({ operatorId: o.operatorId, votingPower: o.l1 - o.l2 });
    else if (o.l1 < o.l2) toDecrease.push({ operatorId: o.operatorId, votingPower: o.l2 - o.l1 });
  }
  return { toIncrease, toDecrease };
}

const hexBlock = (n: bigint): string => `0x${n.toString(16)}`;

async function call(
  rpc: RpcClient,
  to: string,
  fn: string,
  args: unknown[],
  block: bigint | "latest",
): Promise<unknown> {
  const out = await rpc.call<string>("eth_call", [
    { to, data: views.encodeFunctionData(fn, args) },
    block === "latest" ? block : hexBlock(block),
  ]);
  return views.decodeFunctionResult(fn, out)[0];
}

/** L1 and L2 voting power of every operator active on the L2 at toBlockL2, and their difference. */
export async function computeVotingPowerDiff(args: {
  l1Rpc: RpcClient;
  avsGovernance: string;
  l2Rpc: RpcClient;
  attestationCenter: string;
  obls: string;
  toBlockL1: bigint;
  toBlockL2: bigint;
}): Promise<Pick<VotingPowerUpdate, "toIncrease" | "toDecrease">> {
  const details = (await call(
    args.l2Rpc,
    args.attestationCenter,
    "getActiveOperatorsDetails",
    [],
    args.toBlockL2,
  )) as Array<{
    operator: string;
    operatorId: bigint;
    votingPower: bigint;
  }>;
  const l1Answers = await args.l1Rpc.batch(
    details.map((d) => [
      "eth_call",
      [
        { to: args.avsGovernance, data: views.encodeFunctionData("votingPower", [d.operator]) },
        hexBlock(args.toBlockL1),
      ],
    ]),
  );
  const operators = details.map((d, i) => {
    const a = l1Answers[i]!;
    if (a.error) throw a.error;
    return {
      operatorId: d.operatorId,
      l1: views.decodeFunctionResult("votingPower", a.result as string)[0] as bigint,
      l2: d.votingPower,
    };
  });
  return diffVotingPower(operators);
}

/**
 * The attester's check of an internal task: recompute the diff at the proposal's blocks and
 * approve only an identical proposal. Unreadable chains make it abstain.
 */
export async function checkInternalTask(args: {
  task: TaskMessage;
  view: ChainView;
  l1: L1Target | undefined;
  l1Rpc: RpcClient | undefined;
}): Promise<ValidationOutcome> {
  const { task, view, l1, l1Rpc } = args;
  if (task.taskDefinitionId !== INTERNAL_TASK_DEFINITIONS.VOTING_POWER_SYNC) {
    return { verdict: "abstain", reason: `internal task ${task.taskDefinitionId} is not supported` };
  }
  if (!l1?.avsGovernance || !l1Rpc) {
    return { verdict: "abstain", reason: "VOTING_POWER_SYNC needs L1_RPC and AVS_GOVERNANCE_ADDRESS" };
  }
  let proposal: VotingPowerUpdate;
  try {
    proposal = decodeVotingPowerUpdate(task.data);
  } catch {
    return { verdict: "reject", message: "data is not an abi-encoded VotingPowerUpdate" };
  }
  const { avsGovernance } = l1;
  const diffAt = (toBlockL2: bigint) =>
    computeVotingPowerDiff({
      l1Rpc,
      avsGovernance,
      l2Rpc: view.rpc,
      attestationCenter: view.attestationCenter,
      obls: view.obls,
      toBlockL1: proposal.toBlockL1,
      toBlockL2,
    });
  let expected: Pick<VotingPowerUpdate, "toIncrease" | "toDecrease">;
  try {
    expected = await diffAt(proposal.toBlockL2);
  } catch (error) {
    return {
      verdict: "abstain",
      reason: `cannot recompute the voting power diff: ${(error as Error).message}`,
    };
  }
  const encode = (d: Pick<VotingPowerUpdate, "toIncrease" | "toDecrease">): string =>
    encodeVotingPowerUpdate({ ...d, toBlockL1: proposal.toBlockL1, toBlockL2: proposal.toBlockL2 });
  if (encode(expected) !== task.data.toLowerCase()) {
    return { verdict: "reject", message: "the proposed voting power update differs from L1" };
  }
  // A proposal computed before an earlier sync landed would apply the same change twice: the
  // change must still be needed on the L2 as it is now.
  let now: Pick<VotingPowerUpdate, "toIncrease" | "toDecrease">;
  try {
    now = await diffAt(BigInt(await view.rpc.call<string>("eth_blockNumber")));
  } catch (error) {
    return {
      verdict: "abstain",
      reason: `cannot read the current L2 voting power: ${(error as Error).message}`,
    };
  }
  if (encode(now) !== task.data.toLowerCase()) {
    return { verdict: "reject", message: "the L2 voting power changed since toBlockL2 (already synced?)" };
  }
  return { verdict: "approve" };
}

/** A VOTING_POWER_SYNC task the aggregator proposed on one chain. */
export interface ProposedSync {
  chainId: number;
  taskHash: string;
}

export interface InternalTaskRunnerOptions {
  schedules: InternalTaskSchedule[];
  l1: L1Target | undefined;
  chains: Array<{ chainId: number; view: ChainView; rpc: RpcClient }>;
  submit(chainId: number, taskDefinitionId: number, proofOfTask: string, data: string): Promise<string>;
  /** Whether a task this runner proposed is still undecided (pending or submitting). */
  isOpen(chainId: number, taskHash: string): boolean;
  log: Logger;
  signal: AbortSignal;
}

/**
 * Runs the aggregator's internal task schedules until the signal aborts. The first round runs
 * right away, then one per interval.
 */
export function startInternalTasks(opts: InternalTaskRunnerOptions): {
  stop(): Promise<void>;
  runNow(): Promise<void>;
  /** One VOTING_POWER_SYNC round now: the syncs it proposed or found still undecided. */
  syncVotingPower(): Promise<ProposedSync[]>;
} {
  const { log } = opts;
  const l1Rpc = opts.l1 ? new RpcClient(opts.l1.rpcUrl, { signal: opts.signal }) : undefined;
  // One sync in flight per chain: two proposals computed from the same L2 state would apply the same change twice.
  const open = new Map<number, string>();

  async function votingPowerSync(): Promise<ProposedSync[]> {
    const proposed: ProposedSync[] = [];
    if (!opts.l1?.avsGovernance || !l1Rpc) {
      log.warn("VOTING_POWER_SYNC skipped: L1_RPC and AVS_GOVERNANCE_ADDRESS are needed");
      return proposed;
    }
    const toBlockL1 = BigInt(await l1Rpc.call<string>("eth_blockNumber"));
    for (const chain of opts.chains) {
      const previous = open.get(chain.chainId);
      if (previous && opts.isOpen(chain.chainId, previous)) {
        log.info("VOTING_POWER_SYNC: the previous sync is still undecided", {
          chainId: chain.chainId,
          taskHash: previous,
        });
        proposed.push({ chainId: chain.chainId, taskHash: previous });
        continue;
      }
      try {
        const toBlockL2 = BigInt(await chain.rpc.call<string>("eth_blockNumber"));
        const handler = (await call(
          chain.rpc,
          chain.view.attestationCenter,
          "internalTaskHandler",
          [],
          "latest",
        )) as string;
        const lastL1 = (await call(chain.rpc, handler, "lastCommitBlockL1", [], "latest")) as bigint;
        const lastL2 = (await call(chain.rpc, handler, "lastCommitBlockL2", [], "latest")) as bigint;
        if (toBlockL1 <= lastL1 || toBlockL2 <= lastL2) {
          log.info("VOTING_POWER_SYNC: no new blocks since the last commit", { chainId: chain.chainId });
          continue;
        }
        const diff = await computeVotingPowerDiff({
          l1Rpc,
          avsGovernance: opts.l1.avsGovernance,
          l2Rpc: chain.rpc,
          attestationCenter: chain.view.attestationCenter,
          obls: chain.view.obls,
          toBlockL1,
          toBlockL2,
        });
        if (diff.toIncrease.length === 0 && diff.toDecrease.length === 0) {
          log.info("VOTING_POWER_SYNC: L2 voting power already matches L1", { chainId: chain.chainId });
          continue;
        }
        const data = encodeVotingPowerUpdate({ ...diff, toBlockL1, toBlockL2 });
        const hash = await opts.submit(
          chain.chainId,
          INTERNAL_TASK_DEFINITIONS.VOTING_POWER_SYNC,
          `VOTING_POWER_SYNC:${chain.chainId}:${toBlockL1}:${toBlockL2}`,
          data,
        );
        open.set(chain.chainId, hash);
        proposed.push({ chainId: chain.chainId, taskHash: hash });
        log.info("VOTING_POWER_SYNC proposed", {
          taskHash: hash,
          chainId: chain.chainId,
          toBlockL1: toBlockL1.toString(),
          toBlockL2: toBlockL2.toString(),
          increases: diff.toIncrease.length,
          decreases: diff.toDecrease.length,
        });
      } catch (error) {
        log.warn("VOTING_POWER_SYNC round failed", {
          chainId: chain.chainId,
          error: (error as Error).message,
        });
      }
    }
    return proposed;
  }

  const runners: Record<InternalTaskSchedule["name"], () => Promise<unknown>> = {
    VOTING_POWER_SYNC: votingPowerSync,
    // OBLS keeps per-definition totals exact on every change; a periodic recount is not needed.
    VOTING_POWER_PER_TASK_DEFINITION_SYNC: async () => undefined,
  };

  const loops = opts.schedules.map(async (schedule) => {
    while (!opts.signal.aborted) {
      try {
        await runners[schedule.name]();
      } catch (error) {
        log.warn(`${schedule.name} failed`, { error: (error as Error).message });
      }
      await sleep(schedule.intervalMs, opts.signal);
    }
  });

  return {
    stop: async () => {
      await Promise.allSettled(loops);
    },
    runNow: async () => {
      for (const s of opts.schedules) await runners[s.name]();
    },
    syncVotingPower: votingPowerSync,
  };
}
