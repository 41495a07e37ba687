import type { TaskDefinitionInput, TaskDefinitionParams } from "../chain/task-def-input.js";
import type { TaskDefinitionConfig } from "../config/schema.js";

export {
  type ParsedInput,
  parseTaskDefinitionInput,
  type TaskDefinitionInput,
  type TaskDefinitionParams,
} from "../chain/task-def-input.js";

/** What `task-def list --json` prints for each definition (uint256 as decimal strings). */
export interface TaskDefinitionInfo {
  taskDefinitionId: number;
  name: string;
  blockExpiry: string;
  baseRewardFeeForAttesters: string;
  baseRewardFeeForPerformer: string;
  baseRewardFeeForAggregator: string;
  disputePeriodBlocks: string;
  minimumVotingPower: string;
  restrictedOperatorIndexes: string[];
  maximumNumberOfAttesters: string;
}

export function configToInput(def: TaskDefinitionConfig): TaskDefinitionInput {
  return {
    name: def.name,
    blockExpiry: def.blockExpiry,
    rewardAttesters: def.rewardAttesters,
    rewardPerformer: def.rewardPerformer,
    rewardAggregator: def.rewardAggregator,
    disputePeriod: def.disputePeriod,
    minVotingPower: def.minVotingPower,
    restrictedOperators: def.restrictedOperators,
    maxAttesters: def.maxAttesters,
  };
}

export function paramsJson(p: TaskDefinitionParams): Record<string, unknown> {
  return {
    name: p.name,
    blockExpiry: p.blockExpiry.toString(),
    baseRewardFeeForAttesters: p.baseRewardFeeForAttesters.toString(),
    baseRewardFeeForPerformer: p.baseRewardFeeForPerformer.toString(),
    baseRewardFeeForAggregator: p.baseRewardFeeForAggregator.toString(),
    disputePeriodBlocks: p.disputePeriodBlocks.toString(),
    minimumVotingPower: p.minimumVotingPower.toString(),
    restrictedOperatorIndexes: p.restrictedOperatorIndexes.map(String),
    maximumNumberOfAttesters: p.maximumNumberOfAttesters.toString(),
  };
}
