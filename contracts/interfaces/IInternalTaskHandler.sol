// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAttestationCenter} from "./IAttestationCenter.sol";
import {IOBLS} from "./IOBLS.sol";

/// The data of an approved VOTING_POWER_SYNC (10001) task: abi.encode(VotingPowerUpdate).
struct VotingPowerUpdate {
    IOBLS.OperatorVotingPower[] toIncrease;
    IOBLS.OperatorVotingPower[] toDecrease;
    uint256 toBlockL1;
    uint256 toBlockL2;
}

/// @title Handler of approved internal tasks (ids >= 10001), with Othentic's names
interface IInternalTaskHandler {
    event TaskProcessed(uint256 taskDefinitionId, string proofOfTask);
    event VotingPowerUpdated(uint256 toBlockL1, uint256 toBlockL2, string proofOfTask);

    error InvalidToBlockL1VsLastCommitBlockL1(uint256 requiredMinToBlockL1);
    error InvalidToBlockL2VsLastCommitBlockL2(uint256 requiredMinToBlockL2);
    error InvalidToBlockL2VsCurrentHeight(uint256 toBlockL2, uint256 currentHeight);
    error NotAttestationCenter(address caller);
    error UnknownInternalTask(uint16 taskDefinitionId);

    function processTask(IAttestationCenter.TaskInfo calldata _task) external;
}
