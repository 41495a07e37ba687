/**
 * The data of the VOTING_POWER_SYNC internal task, apart from chain/contracts.ts so that the
 * nodes, which encode and decode it, load ethers' ABI coder only.
 */

import { AbiCoder } from "ethers/abi";

/** The data of a VOTING_POWER_SYNC (10001) task (docs/protocol.md#internal-tasks); votingPower are deltas. */
export interface VotingPowerUpdate {
  toIncrease: { operatorId: bigint; votingPower: bigint }[];
  toDecrease: { operatorId: bigint; votingPower: bigint }[];
  toBlockL1: bigint;
  toBlockL2: bigint;
}

const VOTING_POWER_UPDATE =
  "tuple(tuple(uint256 operatorId, uint256 votingPower)[] toIncrease, tuple(uint256 operatorId, uint256 votingPower)[] toDecrease, uint256 toBlockL1, uint256 toBlockL2)";

/** abi.encode(VotingPowerUpdate), the `data` of a VOTING_POWER_SYNC task. */
export function encodeVotingPowerUpdate(update: VotingPowerUpdate): string {
  const entries = (list: VotingPowerUpdate["toIncrease"]) => list.map((e) => [e.operatorId, e.votingPower]);
  return AbiCoder.defaultAbiCoder().encode(
    [VOTING_POWER_UPDATE],
    [[entries(update.toIncrease), entries(update.toDecrease), update.toBlockL1, update.toBlockL2]],
  );
}

/** The inverse of encodeVotingPowerUpdate (what attesters recompute and compare). */
export function decodeVotingPowerUpdate(data: string): VotingPowerUpdate {
  const [u] = AbiCoder.defaultAbiCoder().decode([VOTING_POWER_UPDATE], data);
  const entries = (list: unknown[]) =>
    list.map((e) => {
      const [operatorId, votingPower] = e as [bigint, bigint];
      return { operatorId, votingPower };
    });
  return { toIncrease: entries([...u[0]]), toDecrease: entries([...u[1]]), toBlockL1: u[2], toBlockL2: u[3] };
}
