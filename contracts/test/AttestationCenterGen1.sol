// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {RoleControl} from "../common/RoleControl.sol";

/// @title TEST ONLY: an AttestationCenter that exposes nothing but the generation 1 surface
/// @notice For tests of clients that must tell the generations apart and decode both: it has
/// the generation 1 createNewTaskDefinition, setTaskDefinitionRestrictedOperators and
/// getTaskDefinitionRestrictedOperators, and emits the generation 1 events (no indexed
/// arguments, no attester ids, no maximum number of attesters).
/// @dev Its obsolete submitTask checks the performer's ECDSA signature and replay only; it does
/// NOT check attesters or voting power. Never deploy it outside tests.
contract AttestationCenterGen1 is RoleControl {
    struct TaskInfo {
        string proofOfTask;
        bytes data;
        address taskPerformer;
        uint16 taskDefinitionId;
    }

    struct TaskDefinitionParams {
        uint256 blockExpiry;
        uint256 baseRewardFeeForAttesters;
        uint256 baseRewardFeeForPerformer;
        uint256 baseRewardFeeForAggregator;
        uint256 disputePeriodBlocks;
        uint256 minimumVotingPower;
        uint256[] restrictedOperatorIndexes;
    }

    struct Definition {
        bool exists;
        uint256 blockExpiry;
        uint256 minimumVotingPower;
        uint256[] restrictedOperatorIndexes;
    }

    event TaskSubmitted(address operator, uint32 taskNumber, string proofOfTask, bytes data, uint16 taskDefinitionId);
    event TaskRejected(address operator, uint32 taskNumber, string proofOfTask, bytes data, uint16 taskDefinitionId);
    event TaskDefinitionCreated(
        uint16 taskDefinitionId,
        string name,
        uint256 blockExpiry,
        uint256 baseRewardFeeForAttesters,
        uint256 baseRewardFeeForPerformer,
        uint256 baseRewardFeeForAggregator,
        uint256 disputePeriodBlocks,
        uint256 minimumVotingPower,
        uint256[] restrictedOperatorIndexes
    );
    event SetMinimumTaskDefinitionVotingPower(uint256 minimumVotingPower);
    event SetRestrictedOperator(uint16 taskDefinitionId, uint256[] restrictedOperatorIndexes);

    error InvalidBlockExpiry();
    error InvalidRestrictedOperatorIndexes();
    error TaskDefinitionNotFound(uint16 taskDefinitionId);
    error InvalidTaskDefinition();
    error InvalidPerformerSignature();
    error MessageAlreadySigned();

    uint16 private _counter;
    uint32 private _taskNumber = 1;
    mapping(uint16 => Definition) private _definitions;
    mapping(bytes32 => bool) private _signedTasks;

    constructor(address governance) {
        _grantRole(DEFAULT_ADMIN_ROLE, governance);
        _grantRole(AVS_GOVERNANCE_MULTISIG, governance);
    }

    function createNewTaskDefinition(string calldata _name, TaskDefinitionParams calldata _params)
        external
        onlyRole(AVS_GOVERNANCE_MULTISIG)
        returns (uint16 id)
    {
        if (_params.blockExpiry <= block.number) revert InvalidBlockExpiry();
        _checkAscending(_params.restrictedOperatorIndexes);
        id = ++_counter;
        Definition storage d = _definitions[id];
        d.exists = true;
        d.blockExpiry = _params.blockExpiry;
        d.minimumVotingPower = _params.minimumVotingPower;
        d.restrictedOperatorIndexes = _params.restrictedOperatorIndexes;
        emit TaskDefinitionCreated(
            id,
            _name,
            _params.blockExpiry,
            _params.baseRewardFeeForAttesters,
            _params.baseRewardFeeForPerformer,
            _params.baseRewardFeeForAggregator,
            _params.disputePeriodBlocks,
            _params.minimumVotingPower,
            _params.restrictedOperatorIndexes
        );
    }

    function setTaskDefinitionMinVotingPower(uint16 _taskDefinitionId, uint256 _minimumVotingPower)
        external
        onlyRole(AVS_GOVERNANCE_MULTISIG)
    {
        _existing(_taskDefinitionId).minimumVotingPower = _minimumVotingPower;
        emit SetMinimumTaskDefinitionVotingPower(_minimumVotingPower);
    }

    function setTaskDefinitionRestrictedOperators(uint16 _taskDefinitionId, uint256[] calldata _restrictedOperatorIndexes)
        external
        onlyRole(AVS_GOVERNANCE_MULTISIG)
    {
        Definition storage d = _existing(_taskDefinitionId);
        _checkAscending(_restrictedOperatorIndexes);
        d.restrictedOperatorIndexes = _restrictedOperatorIndexes;
        emit SetRestrictedOperator(_taskDefinitionId, _restrictedOperatorIndexes);
    }

    function getTaskDefinitionMinimumVotingPower(uint16 _taskDefinitionId) external view returns (uint256) {
        return _definitions[_taskDefinitionId].minimumVotingPower;
    }

    function getTaskDefinitionRestrictedOperators(uint16 _taskDefinitionId) external view returns (uint256[] memory) {
        return _definitions[_taskDefinitionId].restrictedOperatorIndexes;
    }

    function numOfTaskDefinitions() external view returns (uint16) {
        return _counter;
    }

    function taskNumber() external view returns (uint32) {
        return _taskNumber;
    }

    /// Obsolete generation 1 submission. TEST ONLY: checks the performer's signature and
    /// replay, not the attesters (see the contract notice).
    function submitTask(
        TaskInfo calldata _taskInfo,
        bool _isApproved,
        bytes calldata _tpSignature,
        uint256[2] calldata, /* _taSignature */
        uint256[] calldata /* _attestersIds */
    ) external {
        bytes32 taskHash = keccak256(
            abi.encode(_taskInfo.proofOfTask, _taskInfo.data, _taskInfo.taskPerformer, _taskInfo.taskDefinitionId)
        );
        if (_signedTasks[taskHash]) revert MessageAlreadySigned();
        Definition storage d = _existing(_taskInfo.taskDefinitionId);
        if (d.blockExpiry <= block.number) revert InvalidTaskDefinition();
        if (_tpSignature.length != 65) revert InvalidPerformerSignature();
        uint8 v = uint8(_tpSignature[64]);
        address signer = ecrecover(
            taskHash, v < 27 ? v + 27 : v, bytes32(_tpSignature[0:32]), bytes32(_tpSignature[32:64])
        );
        if (signer == address(0) || signer != _taskInfo.taskPerformer) revert InvalidPerformerSignature();
        _signedTasks[taskHash] = true;
        uint32 number = _taskNumber++;
        if (_isApproved) {
            emit TaskSubmitted(
                _taskInfo.taskPerformer, number, _taskInfo.proofOfTask, _taskInfo.data, _taskInfo.taskDefinitionId
            );
        } else {
            emit TaskRejected(
                _taskInfo.taskPerformer, number, _taskInfo.proofOfTask, _taskInfo.data, _taskInfo.taskDefinitionId
            );
        }
    }

    function _existing(uint16 id) private view returns (Definition storage d) {
        d = _definitions[id];
        if (!d.exists) revert TaskDefinitionNotFound(id);
    }

    function _checkAscending(uint256[] calldata ids) private pure {
        for (uint256 i = 1; i < ids.length; ++i) {
            if (ids[i] <= ids[i - 1]) revert InvalidRestrictedOperatorIndexes();
        }
    }
}
