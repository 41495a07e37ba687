// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Types, events and errors of the AttestationCenter (Othentic's names and layouts)
interface IAttestationCenter {
    struct TaskInfo {
        string proofOfTask;
        bytes data;
        address taskPerformer;
        uint16 taskDefinitionId;
    }

    /// Generation 1 parameters of createNewTaskDefinition.
    struct TaskDefinitionParams {
        uint256 blockExpiry;
        uint256 baseRewardFeeForAttesters;
        uint256 baseRewardFeeForPerformer;
        uint256 baseRewardFeeForAggregator;
        uint256 disputePeriodBlocks;
        uint256 minimumVotingPower;
        uint256[] restrictedOperatorIndexes;
    }

    /// Generation 2 parameters of createNewTaskDefinition.
    struct TaskDefinitionParamsV2 {
        uint256 blockExpiry;
        uint256 baseRewardFeeForAttesters;
        uint256 baseRewardFeeForPerformer;
        uint256 baseRewardFeeForAggregator;
        uint256 disputePeriodBlocks;
        uint256 minimumVotingPower;
        uint256[] restrictedAttesterIds;
        uint256 maximumNumberOfAttesters;
    }

    struct EcdsaTaskSubmissionDetails {
        bool isApproved;
        bytes tpSignature;
        uint256[2] taSignature;
        uint256[] attestersIds;
    }

    struct BlsTaskSubmissionDetails {
        bool isApproved;
        uint256[2] tpSignature;
        uint256[2] taSignature;
        uint256[] attestersIds;
    }

    struct OperatorDetails {
        address operator;
        uint256 operatorId;
        uint256 votingPower;
        uint256 feeToClaim;
    }

    /// Othentic's BLSAuthLibrary.Signature, kept as a tuple so updateBlsKey has Othentic's selector.
    struct BLSAuthSignature {
        uint256[2] signature;
    }

    event TaskSubmitted(
        address indexed operator,
        uint32 taskNumber,
        string proofOfTask,
        bytes data,
        uint16 indexed taskDefinitionId,
        uint256[] attestersIds
    );
    event TaskRejected(
        address indexed operator,
        uint32 taskNumber,
        string proofOfTask,
        bytes data,
        uint16 indexed taskDefinitionId,
        uint256[] attestersIds
    );
    event TaskDefinitionCreated(
        uint16 taskDefinitionId,
        string name,
        uint256 blockExpiry,
        uint256 baseRewardFeeForAttesters,
        uint256 baseRewardFeeForPerformer,
        uint256 baseRewardFeeForAggregator,
        uint256 disputePeriodBlocks,
        uint256 minimumVotingPower,
        uint256[] restrictedAttesterIds,
        uint256 maximumNumberOfAttesters
    );
    event SetMinimumTaskDefinitionVotingPower(uint256 minimumVotingPower);
    event SetRestrictedAttester(uint16 indexed taskDefinitionId, uint256[] restrictedAttesterIds);
    event SetMaximumNumberOfAttesters(uint16 indexed taskDefinitionId, uint256 maximumNumberOfAttesters);
    event OperatorRegisteredToNetwork(address operator, uint256 votingPower);
    event OperatorUnregisteredFromNetwork(uint256 operatorId);
    event OperatorBlsKeyUpdated(address indexed operator, uint256[4] blsKey);
    /// avsctl's: the operator's BLS key in G1 was set (registerBlsKeyG1).
    event OperatorBlsKeyG1Registered(address indexed operator, uint256[2] blsKeyG1);
    event PaymentRequested(address operator, uint256 lastPaidTaskNumber, uint256 feeToClaim);
    event PaymentWithdrawn(address indexed operator, address receiver, uint256 amount);
    event SetAvsGovernanceMultisig(address newAvsGovernanceMultisig);
    event SetMessageHandler(address newMessageHandler);
    event SetInternalTaskHandler(address newInternalTaskHandler);

    error InvalidPerformerSignature();
    error MessageAlreadySigned();
    error InvalidTaskDefinition();
    error TaskDefinitionNotFound(uint16 taskDefinitionId);
    error OperatorNotRegistered(address _operatorAddress);
    error InactiveTaskPerformer();
    error InactiveAggregator();
    error InvalidRestrictedOperator(uint256 taskDefinitionId, uint256 operatorIndex);
    error InvalidRestrictedAttester(uint256 taskDefinitionId, uint256 operatorIndex);
    error InvalidAttesterSet();
    error InsufficientVotingPowerForTaskDefinition(uint16 taskDefinitionId, uint256 minVotingPower);
    error InvalidBlockExpiry();
    error InvalidRestrictedOperatorIndexes();
    error InvalidRestrictedAttesterIds();
    error InvalidMaximumNumberOfAttesters();
    error InvalidOperatorId();
    error InvalidPaymentClaim();
    error ZeroAddress();
    // ours (not in Othentic's contracts)
    error OperatorAlreadyRegistered(address operator);
    error ValueOutOfRange(uint256 value);
    error TooManyTaskDefinitions();
    error PaymentLocked(uint256 unlockBlock);
    error PaymentFailed();
    error UnauthorizedPaymentRequest(address caller);
}
