// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title OBLS: BLS keys, voting power and attester rewards per operator, and signature checks
/// @notice Function and error names follow Othentic's IOBLS where they overlap.
interface IOBLS {
    struct OperatorVotingPower {
        uint256 operatorId;
        uint256 votingPower;
    }

    /// What the AttestationCenter asks OBLS to check about one aggregated vote.
    struct AttestationCheck {
        uint16 taskDefinitionId;
        bool isApproved;
        /// The definition has restricted attesters or a minimum voting power: use its own total.
        bool perDefinitionTotal;
        /// The definition has a restricted attester set: every signer must be in it.
        bool restricted;
        uint256 minimumVotingPower;
        /// What every signer earns.
        uint256 attesterFee;
    }

    /// A BLS performer's signature, checked in the same pairing as the attesters' (operatorId 0: none).
    struct PerformerSignature {
        uint256 operatorId;
        bytes32 taskHash;
        uint256[2] signature;
    }

    error InsufficientVotingPower();
    error InvalidOBLSSignature();
    error InvalidOperatorIndexes();
    error InactiveOperator(uint256 operator);
    error InvalidAuthSignature();
    error OperatorDoesNotHaveMinimumVotingPower(uint256 _operatorIndex);
    error InvalidRequiredVotingPower();
    error InvalidRestrictedAttester(uint256 taskDefinitionId, uint256 operatorIndex);
    error OperatorAlreadyActive(uint256 operatorIndex);
    error VotingPowerOutOfRange(uint256 operatorIndex, uint256 votingPower);
    error FeeOverflow(uint256 operatorIndex);
    /// Same selector as the AttestationCenter's: a BLS performer signature is checked here.
    error InvalidPerformerSignature();
    /// The G1 key is not a valid point, or not the G1 twin (same secret) of the operator's G2 key.
    error InvalidBlsKeyG1(uint256 operatorIndex);

    event OperatorVotingPowerSet(uint256 indexed operatorIndex, uint256 votingPower);
    event OperatorActiveStatusSet(uint256 indexed operatorIndex, bool isActive);
    event TotalVotingPowerPerTaskDefinitionSet(uint16 indexed taskDefinitionId, uint256 totalVotingPower);

    function totalVotingPower() external view returns (uint256);
    function votingPower(uint256 _index) external view returns (uint256);
    function totalVotingPowerPerTaskDefinition(uint256 _id) external view returns (uint256);
    function isActive(uint256 _index) external view returns (bool);
    function feeToClaim(uint256 _index) external view returns (uint256);
    function getOperatorBlsKey(uint256 _index) external view returns (uint256[4] memory);
    function hashToPoint(bytes32 domain, bytes calldata message) external view returns (uint256[2] memory);

    function verifyAttestation(
        bytes32 voteHash,
        uint256[2] calldata signature,
        uint256[] calldata attesterIds,
        AttestationCheck calldata check,
        bytes calldata hints,
        PerformerSignature calldata performer
    ) external returns (bool byIndex);
    function getOperatorBlsKeyG1(uint256 _index) external view returns (uint256[2] memory);
    function setOperatorBlsKeyG1(uint256 _index, uint256[2] calldata _blsKeyG1) external;
    function verifyOperatorMessage(uint256 _index, bytes32 messageHash, uint256[2] calldata signature)
        external
        view
        returns (bool);
    function verifyAuthSignature(
        uint256[2] calldata signature,
        address _operator,
        address _contract,
        uint256[4] calldata _blsKey
    ) external view;

    function registerOperator(uint256 _index, uint256 _votingPower, uint256[4] calldata _blsKey) external;
    function unRegisterOperator(uint256 _index) external;
    function modifyOperatorBlsKey(uint256 _index, uint256[4] calldata _blsKey) external;
    function increaseBatchOperatorVotingPower(OperatorVotingPower[] calldata _operatorsVotingPower) external;
    function decreaseBatchOperatorVotingPower(OperatorVotingPower[] calldata _operatorsVotingPower) external;
    function setTotalVotingPowerPerRestrictedTaskDefinition(
        uint16 _taskDefinitionId,
        uint256 _minimumVotingPower,
        uint256[] calldata _restrictedOperatorIndexes
    ) external;
    function syncTotalVotingPowerPerTaskDefinition(uint16[] calldata _taskDefinitionIds) external;
    function takeFees(uint256 _index, uint256 feeIndex) external returns (uint256);
}
