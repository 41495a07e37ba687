// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {RoleControl} from "./common/RoleControl.sol";
import {BN254} from "./lib/BN254.sol";

/// @title AvsGovernance (L1): operator registration with a BLS key, and stake as voting power
/// @notice An operator registers with its G2 key [x.c0, x.c1, y.c0, y.c1] and a proof that it
/// holds the key: a BLS signature under keccak256("OthenticBLSAuth") over
/// abi.encode(keccak256(abi.encode(operator, address(this), block.chainid))). The events carry
/// everything a relayer needs to mirror the registration to each L2 AttestationCenter
/// (registerToNetwork with votingPower = stake). In a devnet the governance sets stakes
/// directly (setStake); anyone can also add native currency as stake (depositStake).
contract AvsGovernance is RoleControl {
    bytes32 private constant AUTH_DOMAIN = keccak256("OthenticBLSAuth");

    struct Operator {
        bool registered;
        bool listed;
        address rewardsReceiver;
        uint256 stake;
        uint256[4] blsKey;
    }

    event OperatorRegistered(address indexed operator, uint256 votingPower, uint256[4] blsKey, address rewardsReceiver);
    event OperatorUnregistered(address indexed operator);
    event StakeUpdated(address indexed operator, uint256 stake);

    error OperatorAlreadyRegistered(address operator);
    error OperatorNotRegistered(address operator);
    error InvalidAuthSignature();
    error ZeroAddress();

    mapping(address => Operator) private _operators;
    address[] private _everRegistered;
    uint256 private _numOfActiveOperators;

    /// @param admin may grant and revoke roles
    /// @param governance the AVS governance multisig (sets stakes in a devnet)
    constructor(address admin, address governance) {
        if (governance == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(AVS_GOVERNANCE_MULTISIG, governance);
    }

    /// Register the caller with its BLS key and the key's registration proof.
    function registerAsOperator(
        uint256[4] calldata blsKey,
        address rewardsReceiver,
        uint256[2] calldata blsRegistrationSignature
    ) external {
        Operator storage op = _operators[msg.sender];
        if (op.registered) revert OperatorAlreadyRegistered(msg.sender);
        bytes32 digest = keccak256(abi.encode(msg.sender, address(this), block.chainid));
        if (!BN254.verify(blsRegistrationSignature, BN254.hashToPoint32(AUTH_DOMAIN, digest), blsKey)) {
            revert InvalidAuthSignature();
        }
        op.registered = true;
        op.rewardsReceiver = rewardsReceiver;
        op.blsKey = blsKey;
        if (!op.listed) {
            op.listed = true;
            _everRegistered.push(msg.sender);
        }
        ++_numOfActiveOperators;
        emit OperatorRegistered(msg.sender, op.stake, blsKey, rewardsReceiver);
    }

    function unregisterAsOperator() external {
        Operator storage op = _operators[msg.sender];
        if (!op.registered) revert OperatorNotRegistered(msg.sender);
        op.registered = false;
        --_numOfActiveOperators;
        emit OperatorUnregistered(msg.sender);
    }

    /// Devnet stand-in for restaking: the governance sets an operator's stake.
    function setStake(address operator, uint256 stake) external onlyRole(AVS_GOVERNANCE_MULTISIG) {
        _operators[operator].stake = stake;
        emit StakeUpdated(operator, stake);
    }

    /// Add the sent value to the caller's stake.
    function depositStake() external payable {
        uint256 stake = _operators[msg.sender].stake + msg.value;
        _operators[msg.sender].stake = stake;
        emit StakeUpdated(msg.sender, stake);
    }

    /// The stake of a registered operator; 0 for an address that is not registered.
    function votingPower(address operator) external view returns (uint256) {
        Operator storage op = _operators[operator];
        return op.registered ? op.stake : 0;
    }

    function stakeOf(address operator) external view returns (uint256) {
        return _operators[operator].stake;
    }

    function isOperatorRegistered(address operator) external view returns (bool) {
        return _operators[operator].registered;
    }

    function getOperator(address operator)
        external
        view
        returns (bool registered, uint256[4] memory blsKey, address rewardsReceiver, uint256 stake)
    {
        Operator storage op = _operators[operator];
        return (op.registered, op.blsKey, op.rewardsReceiver, op.stake);
    }

    /// Every address that ever registered (registered or not now), in registration order.
    function getOperators() external view returns (address[] memory) {
        return _everRegistered;
    }

    function numOfActiveOperators() external view returns (uint256) {
        return _numOfActiveOperators;
    }
}
