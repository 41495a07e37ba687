// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAttestationCenter} from "./interfaces/IAttestationCenter.sol";
import {IInternalTaskHandler, VotingPowerUpdate} from "./interfaces/IInternalTaskHandler.sol";
import {IOBLS} from "./interfaces/IOBLS.sol";

/// @title InternalTaskHandler: applies the approved internal tasks of the AttestationCenter
/// @notice 10001 VOTING_POWER_SYNC carries abi.encode(VotingPowerUpdate): voting power deltas
/// that the attesters checked against L1, up to L1 block toBlockL1 and L2 block toBlockL2.
/// 10002 VOTING_POWER_PER_TASK_DEFINITION_SYNC carries abi.encode(uint16[] definitionIds), or
/// no data for all definitions, and recomputes their voting power totals.
contract InternalTaskHandler is IInternalTaskHandler {
    uint16 private constant VOTING_POWER_SYNC = 10001;
    uint16 private constant VOTING_POWER_PER_TASK_DEFINITION_SYNC = 10002;

    address public immutable attestationCenter;
    IOBLS public immutable obls;

    uint256 public lastCommitBlockL1;
    uint256 public lastCommitBlockL2;

    constructor(address attestationCenter_, IOBLS obls_) {
        attestationCenter = attestationCenter_;
        obls = obls_;
    }

    function processTask(IAttestationCenter.TaskInfo calldata _task) external {
        if (msg.sender != attestationCenter) revert NotAttestationCenter(msg.sender);
        uint16 id = _task.taskDefinitionId;
        if (id == VOTING_POWER_SYNC) {
            VotingPowerUpdate memory update = abi.decode(_task.data, (VotingPowerUpdate));
            // Each sync covers blocks after the last committed ones, and only blocks that exist.
            if (update.toBlockL1 <= lastCommitBlockL1) {
                revert InvalidToBlockL1VsLastCommitBlockL1(lastCommitBlockL1 + 1);
            }
            if (update.toBlockL2 <= lastCommitBlockL2) {
                revert InvalidToBlockL2VsLastCommitBlockL2(lastCommitBlockL2 + 1);
            }
            if (update.toBlockL2 >= block.number) {
                revert InvalidToBlockL2VsCurrentHeight(update.toBlockL2, block.number);
            }
            lastCommitBlockL1 = update.toBlockL1;
            lastCommitBlockL2 = update.toBlockL2;
            if (update.toIncrease.length != 0) obls.increaseBatchOperatorVotingPower(update.toIncrease);
            if (update.toDecrease.length != 0) obls.decreaseBatchOperatorVotingPower(update.toDecrease);
            emit VotingPowerUpdated(update.toBlockL1, update.toBlockL2, _task.proofOfTask);
        } else if (id == VOTING_POWER_PER_TASK_DEFINITION_SYNC) {
            uint16[] memory ids = _task.data.length == 0 ? new uint16[](0) : abi.decode(_task.data, (uint16[]));
            obls.syncTotalVotingPowerPerTaskDefinition(ids);
        } else {
            revert UnknownInternalTask(id);
        }
        emit TaskProcessed(id, _task.proofOfTask);
    }
}
