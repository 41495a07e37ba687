/**
 * What `avsctl operator` reads and writes on the devnet's chains: the L1 stake (AvsGovernance,
 * the devnet's stand-in for restaking), the L2 view of an operator (OBLS voting power), the
 * on-demand voting-power sync of the aggregator, and waits on the registration relayer.
 */

import type { DevnetState } from "../devnet/state.js";
import { AvsctlError } from "../errors.js";
import { sleep } from "../util/sleep.js";

/** An operator as one L2 sees it. */
export interface L2Operator {
  chainId: number;
  /** 0: never registered on this L2. */
  operatorId: number;
  active: boolean;
  /** OBLS votingPower(operatorId), wei. */
  votingPower: string;
}

/** What the aggregator answered for one sync (src/node/aggregator/sync-now.ts). */
export interface SyncOutcome {
  chainId: number;
  taskHash: string;
  status: string;
  isApproved: boolean | null;
  txHash: string | null;
  error: string | null;
}

/** How long the relayer may take to mirror an L1 registration (it polls L1 every second). */
const MIRROR_TIMEOUT_MS = 60_000;
const POLL_MS = 250;

/** The governance sets `operator`'s stake on L1 (AvsGovernance.setStake). */
export async function setL1Stake(state: DevnetState, operator: string, stake: bigint): Promise<void> {
  const { contractInterface } = await import("../chain/contracts.js");
  const { withSender } = await import("../chain/sender.js");
  await withSender({ rpcUrl: state.l1.rpcUrl, privateKey: state.deployer.privateKey }, (gov) =>
    gov.run(
      {
        to: state.l1.avsGovernance,
        data: contractInterface("AvsGovernance").encodeFunctionData("setStake", [operator, stake]),
      },
      "setStake",
    ),
  );
}

/** The operator leaves the AVS on L1; the relayer mirrors it to every L2. */
export async function unregisterOnL1(state: DevnetState, operatorKey: string): Promise<void> {
  const { contractInterface } = await import("../chain/contracts.js");
  const { withSender } = await import("../chain/sender.js");
  await withSender({ rpcUrl: state.l1.rpcUrl, privateKey: operatorKey }, (op) =>
    op.run(
      {
        to: state.l1.avsGovernance,
        data: contractInterface("AvsGovernance").encodeFunctionData("unregisterAsOperator", []),
      },
      "unregisterAsOperator",
    ),
  );
}

/** L1: the operator's stake, its voting power (0 unless registered) and every address that ever registered. */
export async function readL1(
  state: DevnetState,
  operator: string,
): Promise<{ stake: bigint; votingPower: bigint; registered: boolean; everRegistered: string[] }> {
  const { connectDevnetRpc } = await import("../chain/target.js");
  const { avsGovernance } = await import("../chain/contracts.js");
  const { provider } = await connectDevnetRpc(state.l1.rpcUrl);
  try {
    const gov = avsGovernance(state.l1.avsGovernance, provider);
    const [stake, votingPower, registered, everRegistered] = await Promise.all([
      gov.stakeOf(operator),
      gov.votingPower(operator),
      gov.isOperatorRegistered(operator),
      gov.getOperators(),
    ]);
    return { stake, votingPower, registered, everRegistered: [...everRegistered] };
  } finally {
    provider.destroy();
  }
}

/** The operator on every L2: id, whether active, and its OBLS voting power. */
export async function readL2(state: DevnetState, operator: string): Promise<L2Operator[]> {
  const { connectDevnetRpc } = await import("../chain/target.js");
  const { attestationCenter, obls } = await import("../chain/contracts.js");
  const out: L2Operator[] = [];
  for (const l2 of state.l2) {
    const { provider } = await connectDevnetRpc(l2.rpcUrl);
    try {
      const id = await attestationCenter(l2.attestationCenter, provider).operatorsIdsByAddress(operator);
      const o = obls(l2.obls, provider);
      const [active, power] =
        id === 0n ? [false, 0n] : await Promise.all([o.isActive(id), o.votingPower(id)]);
      out.push({ chainId: l2.chainId, operatorId: Number(id), active, votingPower: power.toString() });
    } finally {
      provider.destroy();
    }
  }
  return out;
}

/** Waits until every L2 shows the operator active (or not), as the relayer mirrors L1. */
export async function waitForMirror(
  state: DevnetState,
  operator: string,
  active: boolean,
  signal?: AbortSignal,
): Promise<L2Operator[]> {
  const deadline = Date.now() + MIRROR_TIMEOUT_MS;
  for (;;) {
    const l2 = await readL2(state, operator);
    if (l2.every((o) => o.active === active)) return l2;
    if (Date.now() > deadline || signal?.aborted) {
      throw new AvsctlError(
        "TIMEOUT",
        `the aggregator's relayer did not ${active ? "register" : "unregister"} ${operator} on every L2 within ${MIRROR_TIMEOUT_MS / 1000} s`,
        { hint: "`avsctl devnet logs aggregator` shows the relayer's lines", details: { l2 } },
      );
    }
    await sleep(POLL_MS, signal);
  }
}

/**
 * Runs the aggregator's VOTING_POWER_SYNC now (internal task 10001) and returns once each
 * proposed sync is decided. An empty answer: L2 already matched L1.
 */
export async function syncVotingPower(state: DevnetState, signal?: AbortSignal): Promise<SyncOutcome[]> {
  const { rpcRequest } = await import("../chain/json-rpc.js");
  const answer = await rpcRequest<SyncOutcome[]>(state.aggregator.rpcUrl, "avsctl_syncVotingPower", [], {
    signal,
    // the aggregator answers after the sync's votes, submission and receipt
    timeoutMs: 120_000,
  });
  if (answer.error) {
    throw new AvsctlError(
      "COMMAND_FAILED",
      `the aggregator could not run the voting power sync: ${answer.error.message}`,
      {
        hint: "a devnet started before `avsctl operator` existed runs no internal tasks: `avsctl devnet up --fresh`",
        details: { rpcError: answer.error },
      },
    );
  }
  return answer.result ?? [];
}

/** Anvil funds only the first accounts of the mnemonic: an added operator pays for its own L1 registration. */
export async function fundIfEmpty(rpcUrls: string[], address: string): Promise<void> {
  const { connectDevnetRpc } = await import("../chain/target.js");
  for (const url of rpcUrls) {
    const { provider } = await connectDevnetRpc(url);
    try {
      if ((await provider.getBalance(address)) < 10n ** 18n) {
        await provider.send("anvil_setBalance", [address, `0x${(1000n * 10n ** 18n).toString(16)}`]);
      }
    } finally {
      provider.destroy();
    }
  }
}
