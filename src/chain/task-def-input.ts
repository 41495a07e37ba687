/**
 * A task definition's values as a user gives them, checked and converted to the contract's
 * struct. One parser for the `task-def` flags and the config's `taskDefinitions`, so a value the
 * config check passes is one `apply` and `devnet up` can send.
 */
import { invalidArgument } from "../errors.js";
import { type IdList, parseAmount, parseBlockExpiry, parseOperatorIds, parseUint } from "./units.js";

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

/** What an error calls each value: the flag of `task-def create`, or a config key. */
export type TaskDefinitionNames = Record<keyof TaskDefinitionInput, string>;

export const TASK_DEF_FLAGS: TaskDefinitionNames = {
  name: "--name",
  blockExpiry: "--block-expiry",
  rewardAttesters: "--reward-attesters",
  rewardPerformer: "--reward-performer",
  rewardAggregator: "--reward-aggregator",
  disputePeriod: "--dispute-period",
  minVotingPower: "--min-voting-power",
  restrictedOperators: "--restricted-operators",
  maxAttesters: "--max-attesters",
};

const amount = (v: string | bigint | undefined, flag: string) =>
  typeof v === "bigint" ? v : parseAmount(v ?? "0", flag);
const uint = (v: string | number | bigint | undefined, flag: string) =>
  typeof v === "bigint" ? v : parseUint(v ?? "0", flag);

export interface ParsedInput {
  params: TaskDefinitionParams;
  warnings: string[];
}

/** Checks and converts user input; names the flag (or key) on every failure (exit 2, nothing sent). */
export function parseTaskDefinitionInput(
  input: TaskDefinitionInput,
  names: TaskDefinitionNames = TASK_DEF_FLAGS,
): ParsedInput {
  const warnings: string[] = [];
  const name = input.name?.trim();
  if (!name) throw invalidArgument(names.name, "required: the task definition name");
  if (name.length > 256) throw invalidArgument(names.name, "at most 256 characters");
  const given = input.restrictedOperators;
  const restricted: IdList =
    given === undefined
      ? { ids: [], sorted: false }
      : typeof given === "object" && "ids" in given
        ? given
        : parseOperatorIds(given, names.restrictedOperators);
  if (restricted.sorted)
    warnings.push(
      `restricted operator ids sorted ascending as the contract requires: ${restricted.ids.join(",")}`,
    );
  const maximumNumberOfAttesters = uint(input.maxAttesters, names.maxAttesters);
  if (restricted.ids.length > 0 && maximumNumberOfAttesters > BigInt(restricted.ids.length)) {
    throw invalidArgument(
      names.maxAttesters,
      `${maximumNumberOfAttesters} exceeds the ${restricted.ids.length} restricted operators (InvalidMaximumNumberOfAttesters)`,
    );
  }
  return {
    params: {
      name,
      blockExpiry:
        typeof input.blockExpiry === "bigint"
          ? input.blockExpiry
          : parseBlockExpiry(input.blockExpiry, names.blockExpiry),
      baseRewardFeeForAttesters: amount(input.rewardAttesters, names.rewardAttesters),
      baseRewardFeeForPerformer: amount(input.rewardPerformer, names.rewardPerformer),
      baseRewardFeeForAggregator: amount(input.rewardAggregator, names.rewardAggregator),
      disputePeriodBlocks: uint(input.disputePeriod, names.disputePeriod),
      minimumVotingPower: amount(input.minVotingPower, names.minVotingPower),
      restrictedOperatorIndexes: restricted.ids,
      maximumNumberOfAttesters,
    },
    warnings,
  };
}
