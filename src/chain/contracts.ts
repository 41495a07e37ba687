/**
 * Typed ethers handles on our compiled contracts (AttestationCenter, OBLS, AvsGovernance,
 * InternalTaskHandler), their struct shapes, role ids, and the decoding of reverts by the
 * custom error names of every ABI we ship.
 *
 * @example
 * const ac = attestationCenter(address, wallet);
 * await ac[SIGNATURES.createNewTaskDefinitionGen2]("price", params);
 * try { await ac.setTaskDefinitionMinVotingPower(1, 5n); } catch (e) { decodeRevert(e)?.name; }
 */

import {
  type BaseContract,
  type BaseContractMethod,
  Contract,
  type ContractRunner,
  type ContractTransactionResponse,
  dataSlice,
  Interface,
  type InterfaceAbi,
  id,
  ZeroHash,
} from "ethers";
import { type ContractName, loadAbi } from "./artifacts.js";

export type BigNumberish = bigint | number | string;
type View<A extends unknown[], R> = BaseContractMethod<A, R, R>;
type Send<A extends unknown[]> = BaseContractMethod<A, void, ContractTransactionResponse>;
type G2Words = readonly [BigNumberish, BigNumberish, BigNumberish, BigNumberish];
type G1Words = readonly [BigNumberish, BigNumberish];

/** TaskInfo of docs/protocol.md#contracts. */
export interface TaskInfo {
  proofOfTask: string;
  /** 0x-hex bytes ("0x" for none). */
  data: string;
  taskPerformer: string;
  taskDefinitionId: BigNumberish;
}

/** The fields both generations' createNewTaskDefinition structs start with, in this order. */
interface TaskDefinitionCommon {
  blockExpiry: BigNumberish;
  baseRewardFeeForAttesters: BigNumberish;
  baseRewardFeeForPerformer: BigNumberish;
  baseRewardFeeForAggregator: BigNumberish;
  disputePeriodBlocks: BigNumberish;
  minimumVotingPower: BigNumberish;
}

/** Generation 1 createNewTaskDefinition parameters. */
export interface TaskDefinitionParams extends TaskDefinitionCommon {
  restrictedOperatorIndexes: BigNumberish[];
}

/** Generation 2 createNewTaskDefinition parameters. */
export interface TaskDefinitionParamsV2 extends TaskDefinitionCommon {
  restrictedAttesterIds: BigNumberish[];
  maximumNumberOfAttesters: BigNumberish;
}

export interface EcdsaTaskSubmissionDetails {
  isApproved: boolean;
  /** 65-byte r||s||v over the raw task hash. */
  tpSignature: string;
  taSignature: G1Words;
  attestersIds: BigNumberish[];
}

export interface BlsTaskSubmissionDetails {
  isApproved: boolean;
  tpSignature: G1Words;
  taSignature: G1Words;
  attestersIds: BigNumberish[];
}

export interface OperatorDetails {
  operator: string;
  operatorId: bigint;
  votingPower: bigint;
  feeToClaim: bigint;
}

/** Full signatures of the overloaded functions (ethers needs them to pick an overload). */
export const SIGNATURES = {
  createNewTaskDefinitionGen1:
    "createNewTaskDefinition(string,(uint256,uint256,uint256,uint256,uint256,uint256,uint256[]))",
  createNewTaskDefinitionGen2:
    "createNewTaskDefinition(string,(uint256,uint256,uint256,uint256,uint256,uint256,uint256[],uint256))",
  submitTaskGen1: "submitTask((string,bytes,address,uint16),bool,bytes,uint256[2],uint256[])",
  submitTaskEcdsa: "submitTask((string,bytes,address,uint16),(bool,bytes,uint256[2],uint256[]))",
  submitTaskBls: "submitTask((string,bytes,address,uint16),(bool,uint256[2],uint256[2],uint256[]))",
} as const;

function roleId(name: string): string {
  // Othentic's RolesLibrary: bytes32(bytes4(keccak256(name))), i.e. left-aligned
  return dataSlice(id(name), 0, 4).padEnd(66, "0");
}

/** Role ids of our contracts' access control (hasRole / grantRole / revokeRole). */
export const ROLES = {
  DEFAULT_ADMIN_ROLE: ZeroHash,
  AVS_GOVERNANCE_MULTISIG: roleId("AVS_GOVERNANCE_MULTISIG"),
  MESSAGE_HANDLER: roleId("MESSAGE_HANDLER"),
  OBLS_MANAGER: roleId("OBLS_MANAGER"),
  VOTING_POWER_SYNCER: roleId("VOTING_POWER_SYNCER"),
} as const;

export { INTERNAL_TASK_DEFINITIONS } from "./well-known.js";

/** Othentic's default definition, pre-created with no expiry (ours has no fees). */
export const DEFAULT_TASK_DEFINITION_ID = 0;

export {
  decodeVotingPowerUpdate,
  encodeVotingPowerUpdate,
  type VotingPowerUpdate,
} from "./voting-power-update.js";

export interface AttestationCenterContract extends BaseContract {
  obls: View<[], string>;
  internalTaskHandler: View<[], string>;
  avsGovernanceMultisig: View<[], string>;
  messageHandler: View<[], string>;
  taskNumber: View<[], bigint>;
  numOfTaskDefinitions: View<[], bigint>;
  numOfActiveOperators: View<[], bigint>;
  numOfTotalOperators: View<[], bigint>;
  operatorsIdsByAddress: View<[operator: string], bigint>;
  votingPower: View<[operator: string], bigint>;
  isSignedTask: View<[taskHash: string], boolean>;
  rewardsReceiver: View<[operator: string], string>;
  getActiveOperatorsDetails: View<[], OperatorDetails[]>;
  getTaskDefinitionMinimumVotingPower: View<[taskDefinitionId: BigNumberish], bigint>;
  getTaskDefinitionRestrictedAttesters: View<[taskDefinitionId: BigNumberish], bigint[]>;
  getTaskDefinitionRestrictedOperators: View<[taskDefinitionId: BigNumberish], bigint[]>;
  getTaskDefinitionMaximumNumberOfAttesters: View<[taskDefinitionId: BigNumberish], bigint>;
  verifyOperatorValidForTaskDefinition: View<[operator: string, taskDefinitionId: BigNumberish], void>;
  pendingPayment: View<[operatorId: BigNumberish], [bigint, bigint]>;
  hasRole: View<[role: string, account: string], boolean>;
  setTaskDefinitionMinVotingPower: Send<[taskDefinitionId: BigNumberish, minimumVotingPower: BigNumberish]>;
  setTaskDefinitionRestrictedOperators: Send<[taskDefinitionId: BigNumberish, ids: BigNumberish[]]>;
  setTaskDefinitionRestrictedAttesters: Send<[taskDefinitionId: BigNumberish, ids: BigNumberish[]]>;
  setTaskDefinitionMaximumNumberOfAttesters: Send<[taskDefinitionId: BigNumberish, maximum: BigNumberish]>;
  registerToNetwork: Send<
    [operator: string, votingPower: BigNumberish, blsKey: G2Words, rewardsReceiver: string]
  >;
  unRegisterOperatorFromNetwork: Send<[operator: string]>;
  updateBlsKey: Send<[blsKey: G2Words, authSignature: { signature: G1Words }]>;
  /** avsctl's: the operator's key in G1 beside its G2 key (anyone may send it; OBLS checks the pair). */
  registerBlsKeyG1: Send<[operator: string, blsKeyG1: G1Words]>;
  requestPayment: Send<[operatorId: BigNumberish]>;
  claimPayment: Send<[operatorId: BigNumberish]>;
  transferAvsGovernanceMultisig: Send<[newGovernance: string]>;
  transferMessageHandler: Send<[newMessageHandler: string]>;
  setInternalTaskHandler: Send<[handler: string]>;
  grantRole: Send<[role: string, account: string]>;
  revokeRole: Send<[role: string, account: string]>;
  "createNewTaskDefinition(string,(uint256,uint256,uint256,uint256,uint256,uint256,uint256[]))": BaseContractMethod<
    [name: string, params: TaskDefinitionParams],
    bigint,
    ContractTransactionResponse
  >;
  "createNewTaskDefinition(string,(uint256,uint256,uint256,uint256,uint256,uint256,uint256[],uint256))": BaseContractMethod<
    [name: string, params: TaskDefinitionParamsV2],
    bigint,
    ContractTransactionResponse
  >;
  "submitTask((string,bytes,address,uint16),bool,bytes,uint256[2],uint256[])": Send<
    [
      taskInfo: TaskInfo,
      isApproved: boolean,
      tpSignature: string,
      taSignature: G1Words,
      attestersIds: BigNumberish[],
    ]
  >;
  "submitTask((string,bytes,address,uint16),(bool,bytes,uint256[2],uint256[]))": Send<
    [taskInfo: TaskInfo, details: EcdsaTaskSubmissionDetails]
  >;
  "submitTask((string,bytes,address,uint16),(bool,uint256[2],uint256[2],uint256[]))": Send<
    [taskInfo: TaskInfo, details: BlsTaskSubmissionDetails]
  >;
}

export interface OblsContract extends BaseContract {
  totalVotingPower: View<[], bigint>;
  numOfVoters: View<[], bigint>;
  votingPower: View<[operatorIndex: BigNumberish], bigint>;
  totalVotingPowerPerTaskDefinition: View<[taskDefinitionId: BigNumberish], bigint>;
  isActive: View<[operatorIndex: BigNumberish], boolean>;
  feeToClaim: View<[operatorIndex: BigNumberish], bigint>;
  getOperatorBlsKey: View<[operatorIndex: BigNumberish], [bigint, bigint, bigint, bigint]>;
  getOperatorBlsKeyG1: View<[operatorIndex: BigNumberish], [bigint, bigint]>;
  votersPublicKeyG1: View<[], [bigint, bigint]>;
  numOfVotersWithoutG1Key: View<[], bigint>;
  votersPublicKey: View<[], [bigint, bigint, bigint, bigint]>;
  signersPublicKey: View<[ids: BigNumberish[]], [bigint, bigint, bigint, bigint]>;
  hashToPoint: View<[domain: string, message: string], [bigint, bigint]>;
  verifySingle: View<[signature: G1Words, pubkey: G2Words, message: G1Words], boolean>;
  verifyOperatorMessage: View<
    [operatorIndex: BigNumberish, messageHash: string, signature: G1Words],
    boolean
  >;
  verifyAuthSignature: View<[signature: G1Words, operator: string, contract: string, blsKey: G2Words], void>;
  verifySignature: View<
    [
      message: G1Words,
      signature: G1Words,
      indexes: BigNumberish[],
      requiredVotingPower: BigNumberish,
      minimumVotingPower: BigNumberish,
    ],
    void
  >;
  attestationCenter: View<[], string>;
  hasRole: View<[role: string, account: string], boolean>;
  grantRole: Send<[role: string, account: string]>;
  revokeRole: Send<[role: string, account: string]>;
  increaseBatchOperatorVotingPower: Send<
    [entries: { operatorId: BigNumberish; votingPower: BigNumberish }[]]
  >;
  decreaseBatchOperatorVotingPower: Send<
    [entries: { operatorId: BigNumberish; votingPower: BigNumberish }[]]
  >;
  syncTotalVotingPowerPerTaskDefinition: Send<[taskDefinitionIds: BigNumberish[]]>;
}

export interface AvsGovernanceContract extends BaseContract {
  registerAsOperator: Send<[blsKey: G2Words, rewardsReceiver: string, blsRegistrationSignature: G1Words]>;
  unregisterAsOperator: Send<[]>;
  setStake: Send<[operator: string, stake: BigNumberish]>;
  depositStake: Send<[]>;
  votingPower: View<[operator: string], bigint>;
  stakeOf: View<[operator: string], bigint>;
  isOperatorRegistered: View<[operator: string], boolean>;
  getOperator: View<
    [operator: string],
    [boolean, [bigint, bigint, bigint, bigint], string, bigint] & {
      registered: boolean;
      blsKey: [bigint, bigint, bigint, bigint];
      rewardsReceiver: string;
      stake: bigint;
    }
  >;
  getOperators: View<[], string[]>;
  numOfActiveOperators: View<[], bigint>;
  hasRole: View<[role: string, account: string], boolean>;
  grantRole: Send<[role: string, account: string]>;
  revokeRole: Send<[role: string, account: string]>;
}

export interface InternalTaskHandlerContract extends BaseContract {
  attestationCenter: View<[], string>;
  obls: View<[], string>;
  lastCommitBlockL1: View<[], bigint>;
  lastCommitBlockL2: View<[], bigint>;
}

function connect<T>(name: ContractName, address: string, runner?: ContractRunner | null): T {
  return new Contract(address, loadAbi(name) as InterfaceAbi, runner ?? null) as unknown as T;
}

/** Our AttestationCenter at `address`. */
export function attestationCenter(
  address: string,
  runner?: ContractRunner | null,
): AttestationCenterContract {
  return connect("AttestationCenter", address, runner);
}

/** Our OBLS at `address` (AttestationCenter.obls()). */
export function obls(address: string, runner?: ContractRunner | null): OblsContract {
  return connect("OBLS", address, runner);
}

/** Our AvsGovernance (L1) at `address`. */
export function avsGovernance(address: string, runner?: ContractRunner | null): AvsGovernanceContract {
  return connect("AvsGovernance", address, runner);
}

/** Our InternalTaskHandler at `address`. */
export function internalTaskHandler(
  address: string,
  runner?: ContractRunner | null,
): InternalTaskHandlerContract {
  return connect("InternalTaskHandler", address, runner);
}

/** The ethers Interface of one of our contracts. */
export function contractInterface(name: ContractName): Interface {
  return new Interface(loadAbi(name) as InterfaceAbi);
}

export { type DecodedRevert, decodeRevert, revertDataOf } from "./reverts.js";
