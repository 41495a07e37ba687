/**
 * The AttestationCenter surface avsctl speaks to, as human-readable ABI fragments taken from
 * docs/protocol.md#contracts. Used for foreign AttestationCenters (any Othentic network) and ours
 * alike, so a real network never depends on our compiled artifacts.
 */

const TASK_INFO = "(string proofOfTask, bytes data, address taskPerformer, uint16 taskDefinitionId)";

export const GEN1_PARAMS =
  "(uint256 blockExpiry, uint256 baseRewardFeeForAttesters, uint256 baseRewardFeeForPerformer, uint256 baseRewardFeeForAggregator, uint256 disputePeriodBlocks, uint256 minimumVotingPower, uint256[] restrictedOperatorIndexes)";
export const GEN2_PARAMS =
  "(uint256 blockExpiry, uint256 baseRewardFeeForAttesters, uint256 baseRewardFeeForPerformer, uint256 baseRewardFeeForAggregator, uint256 disputePeriodBlocks, uint256 minimumVotingPower, uint256[] restrictedAttesterIds, uint256 maximumNumberOfAttesters)";

/** Custom errors of the AttestationCenter and OBLS, by their Othentic names. */
export const PROTOCOL_ERRORS = [
  "error InvalidPerformerSignature()",
  "error MessageAlreadySigned()",
  "error InvalidTaskDefinition()",
  "error TaskDefinitionNotFound(uint16 taskDefinitionId)",
  "error OperatorNotRegistered(address operator)",
  "error InactiveTaskPerformer()",
  "error InactiveAggregator()",
  "error InvalidRestrictedOperator(uint256 taskDefinitionId, uint256 operatorIndex)",
  "error InvalidRestrictedAttester(uint256 taskDefinitionId, uint256 attesterId)",
  "error InvalidAttesterSet()",
  "error InsufficientVotingPowerForTaskDefinition(uint16 taskDefinitionId, uint256 minVotingPower)",
  "error InvalidBlockExpiry()",
  "error InvalidRestrictedOperatorIndexes()",
  "error InvalidRestrictedAttesterIds()",
  "error InvalidMaximumNumberOfAttesters()",
  "error OperatorDoesNotHaveMinimumVotingPower(uint256 operatorIndex)",
  "error InsufficientVotingPower()",
  "error InvalidOBLSSignature()",
  "error InvalidOperatorIndexes()",
  "error InactiveOperator(uint256 operatorIndex)",
  "error InvalidRequiredVotingPower()",
  // avsctl's own AttestationCenter packs definitions into narrower types and caps their number
  "error ValueOutOfRange(uint256 value)",
  "error TooManyTaskDefinitions()",
  // OpenZeppelin access control, which governance-restricted setters commonly use
  "error AccessControlUnauthorizedAccount(address account, bytes32 neededRole)",
  "error OwnableUnauthorizedAccount(address account)",
] as const;

export const ATTESTATION_CENTER_COMMON = [
  "function numOfTaskDefinitions() view returns (uint16)",
  "function setTaskDefinitionMinVotingPower(uint16 taskDefinitionId, uint256 minimumVotingPower)",
  "function getTaskDefinitionMinimumVotingPower(uint16 taskDefinitionId) view returns (uint256)",
  "function taskNumber() view returns (uint32)",
  "function votingPower(address operator) view returns (uint256)",
  "function operatorsIdsByAddress(address operator) view returns (uint256)",
  "function numOfActiveOperators() view returns (uint256)",
  "function numOfTotalOperators() view returns (uint256)",
  "function getActiveOperatorsDetails() view returns ((address operator, uint256 operatorId, uint256 votingPower, uint256 feeToClaim)[])",
  "function obls() view returns (address)",
  ...PROTOCOL_ERRORS,
] as const;

export const ATTESTATION_CENTER_GEN1 = [
  ...ATTESTATION_CENTER_COMMON,
  `function createNewTaskDefinition(string name, ${GEN1_PARAMS} params) returns (uint16)`,
  "function setTaskDefinitionRestrictedOperators(uint16 taskDefinitionId, uint256[] restrictedOperatorIndexes)",
  "function getTaskDefinitionRestrictedOperators(uint16 taskDefinitionId) view returns (uint256[])",
  `function submitTask(${TASK_INFO} taskInfo, bool isApproved, bytes tpSignature, uint256[2] taSignature, uint256[] operatorIds)`,
  "event TaskSubmitted(address operator, uint32 taskNumber, string proofOfTask, bytes data, uint16 taskDefinitionId)",
  "event TaskRejected(address operator, uint32 taskNumber, string proofOfTask, bytes data, uint16 taskDefinitionId)",
  "event TaskDefinitionCreated(uint16 taskDefinitionId, string name, uint256 blockExpiry, uint256 baseRewardFeeForAttesters, uint256 baseRewardFeeForPerformer, uint256 baseRewardFeeForAggregator, uint256 disputePeriodBlocks, uint256 minimumVotingPower, uint256[] restrictedOperatorIndexes)",
] as const;

export const ATTESTATION_CENTER_GEN2 = [
  ...ATTESTATION_CENTER_COMMON,
  `function createNewTaskDefinition(string name, ${GEN2_PARAMS} params) returns (uint16)`,
  "function setTaskDefinitionRestrictedAttesters(uint16 taskDefinitionId, uint256[] restrictedAttesterIds)",
  "function getTaskDefinitionRestrictedAttesters(uint16 taskDefinitionId) view returns (uint256[])",
  "function setTaskDefinitionMaximumNumberOfAttesters(uint16 taskDefinitionId, uint256 maximumNumberOfAttesters)",
  "function getTaskDefinitionMaximumNumberOfAttesters(uint16 taskDefinitionId) view returns (uint256)",
  `function submitTask(${TASK_INFO} taskInfo, (bool isApproved, bytes tpSignature, uint256[2] taSignature, uint256[] attestersIds) submission)`,
  `function submitTask(${TASK_INFO} taskInfo, (bool isApproved, uint256[2] tpSignature, uint256[2] taSignature, uint256[] attestersIds) submission)`,
  "event TaskSubmitted(address indexed operator, uint32 taskNumber, string proofOfTask, bytes data, uint16 indexed taskDefinitionId, uint256[] attestersIds)",
  "event TaskRejected(address indexed operator, uint32 taskNumber, string proofOfTask, bytes data, uint16 indexed taskDefinitionId, uint256[] attestersIds)",
  "event TaskDefinitionCreated(uint16 taskDefinitionId, string name, uint256 blockExpiry, uint256 baseRewardFeeForAttesters, uint256 baseRewardFeeForPerformer, uint256 baseRewardFeeForAggregator, uint256 disputePeriodBlocks, uint256 minimumVotingPower, uint256[] restrictedAttesterIds, uint256 maximumNumberOfAttesters)",
] as const;

/** 4-byte selectors that tell the generations apart (docs/protocol.md#contracts). */
export const SELECTORS = {
  createGen1: "0c62bf0d",
  createGen2: "306fba1c",
  setRestrictedOperatorsGen1: "c8c9e7ab",
  setRestrictedAttestersGen2: "58e75c82",
  setMaxAttesters: "5fdd0ac7",
  /** A view both generations have, and no other contract of an AVS. */
  numOfTaskDefinitions: "34a7c391",
} as const;
