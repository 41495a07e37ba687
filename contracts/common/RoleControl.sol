// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Minimal role-based access control with OpenZeppelin's names
/// @notice Same function names, events and revert (`AccessControlUnauthorizedAccount`) as
/// OpenZeppelin's AccessControl, so tools written against Othentic's contracts read ours the
/// same way. Role ids follow Othentic's RolesLibrary: bytes4(keccak256(name)) left-aligned.
abstract contract RoleControl {
    bytes32 public constant DEFAULT_ADMIN_ROLE = 0x00;
    bytes32 internal constant AVS_GOVERNANCE_MULTISIG = bytes32(bytes4(keccak256("AVS_GOVERNANCE_MULTISIG")));
    bytes32 internal constant MESSAGE_HANDLER = bytes32(bytes4(keccak256("MESSAGE_HANDLER")));
    bytes32 internal constant OBLS_MANAGER = bytes32(bytes4(keccak256("OBLS_MANAGER")));
    bytes32 internal constant VOTING_POWER_SYNCER = bytes32(bytes4(keccak256("VOTING_POWER_SYNCER")));

    error AccessControlUnauthorizedAccount(address account, bytes32 neededRole);

    event RoleGranted(bytes32 indexed role, address indexed account, address indexed sender);
    event RoleRevoked(bytes32 indexed role, address indexed account, address indexed sender);

    mapping(bytes32 role => mapping(address account => bool)) private _members;

    modifier onlyRole(bytes32 role) {
        _checkRole(role, msg.sender);
        _;
    }

    function hasRole(bytes32 role, address account) public view returns (bool) {
        return _members[role][account];
    }

    /// Grant `role` to `account`; only the admin (DEFAULT_ADMIN_ROLE) may.
    function grantRole(bytes32 role, address account) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _grantRole(role, account);
    }

    /// Revoke `role` from `account`; only the admin (DEFAULT_ADMIN_ROLE) may.
    function revokeRole(bytes32 role, address account) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _revokeRole(role, account);
    }

    function _checkRole(bytes32 role, address account) internal view {
        if (!_members[role][account]) revert AccessControlUnauthorizedAccount(account, role);
    }

    function _grantRole(bytes32 role, address account) internal {
        if (!_members[role][account]) {
            _members[role][account] = true;
            emit RoleGranted(role, account, msg.sender);
        }
    }

    function _revokeRole(bytes32 role, address account) internal {
        if (_members[role][account]) {
            _members[role][account] = false;
            emit RoleRevoked(role, account, msg.sender);
        }
    }
}
