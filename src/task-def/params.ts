import { type IdList, parseAmount, parseBlockExpiry, parseOperatorIds, parseUint } from "../chain/units.js";
import type { TaskDefinitionConfig } from "../config/schema.js";
import { invalidArgument } from "../errors.js";

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

export interface TaskDefinitionParams {
  name: string;
  blockExpiry: bigint;
  baseRewardFeeForAttesters: bigint;
  baseRewardFeeForPerformer: bigint;
  baseRewardFeeForAggregator: bigint;
  disputePeriodBlocks: bigint;
  minimumVotingPower: bigint;
  restrictedOperatorIndexes: bigint[];
  maximumNumberOfAttesters: bigint;
}

/**
 * The values a user gives: as text from the config, or already parsed by the flags' parsers
 * (bigint, an IdList). Every one is checked before anything is sent.
 */
export interface TaskDefinitionInput {
  name?: string;
  blockExpiry?: string | bigint;
  rewardAttesters?: string | bigint;
  rewardPerformer?: string | bigint;
  rewardAggregator?: string | bigint;
  disputePeriod?: string | number | bigint;
  minVotingPower?: string | bigint;
  restrictedOperators?: string | readonly (string | number)[] | IdList;
  maxAttesters?: string | number | bigint;
}

const amount = (v: string | bigint | undefined, flag: string) =>
  typeof v === "bigint" ? v : parseAmount(v ?? "0", flag);
const uint = (v: string | number | bigint | undefined, flag: string) =>
  typeof v === "bigint" ? v : parseUint(v ?? "0", flag);

export interface ParsedInput {
  params: TaskDefinitionParams;
  warnings: string[];
}

/** Checks and converts user input; names the flag on every failure (exit 2, nothing sent). */
export function parseTaskDefinitionInput(input: TaskDefinitionInput): ParsedInput {
  const warnings: string[] = [];
  const name = input.name?.trim();
  if (!name) throw invalidArgument("--name", "required: the task definition name");
  if (name.length > 256) throw invalidArgument("--name", "at most 256 characters");
  const given = input.restrictedOperators;
  const restricted: IdList =
    given === undefined
      ? { ids: [], sorted: false }
      : typeof given === "object" && "ids" in given
        ? given
        : parseOperatorIds(given, "--restricted-operators");
  if (restricted.sorted)
    warnings.push(
      `restricted operator ids sorted ascending as the contract requires: ${restricted.ids.join(",")}`,
    );
  const maximumNumberOfAttesters = uint(input.maxAttesters, "--max-attesters");
  if (restricted.ids.length > 0 && maximumNumberOfAttesters > BigInt(restricted.ids.length)) {
    throw invalidArgument(
      "--max-attesters",
      `${maximumNumberOfAttesters} exceeds the ${restricted.ids.length} restricted operators (InvalidMaximumNumberOfAttesters)`,
    );
  }
  return {
    params: {
      name,
      blockExpiry:
        typeof input.blockExpiry === "bigint" ? input.blockExpiry : parseBlockExpiry(input.blockExpiry),
      baseRewardFeeForAttesters: amount(input.rewardAttesters, "--reward-attesters"),
      baseRewardFeeForPerformer: amount(input.rewardPerformer, "--reward-performer"),
      baseRewardFeeForAggregator: amount(input.rewardAggregator, "--reward-aggregator"),
      disputePeriodBlocks: uint(input.disputePeriod, "--dispute-period"),
      minimumVotingPower: amount(input.minVotingPower, "--min-voting-power"),
      restrictedOperatorIndexes: restricted.ids,
      maximumNumberOfAttesters,
    },
    warnings,
  };
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
