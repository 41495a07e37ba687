// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IOBLS} from "./interfaces/IOBLS.sol";
import {RoleControl} from "./common/RoleControl.sol";
import {BN254} from "./lib/BN254.sol";
import {G2Arith} from "./lib/G2Arith.sol";

/// The AttestationCenter's running sum of attester fees paid through the index.
interface IAttesterFeeIndex {
    function attesterFeeIndex() external view returns (uint256);
}

/// @title OBLS: the L2 registry of operators' BLS keys and voting power, and the BLS checks
/// @notice Othentic's OBLS sums the signers' G2 keys for every task (~24k gas per signer). This
/// one keeps the running sum of the keys of every operator that can vote (active with voting
/// power > 0: a "voter") and, per task, takes whichever needs fewer storage reads: the
/// signers' keys added up, or the voters' sum minus the voters that did not sign. When every
/// voter signs that is one stored point and no addition at all. Each operator's active flag,
/// voting power and directly credited fees share one slot: a signer costs one cold read.
/// @dev Attester fees follow the same idea: instead of a write per signer, a task may raise a
/// global fee index (kept by the AttestationCenter in a slot it writes for every task anyway)
/// that every voter earns, and debit the voters that did not sign. An operator's attester fees
/// are its direct credits plus, while it is a voter, index - index when it joined - debits.
contract OBLS is IOBLS, RoleControl {
    bytes32 private constant TASKS_DOMAIN = keccak256("TasksManager");
    bytes32 private constant AUTH_DOMAIN = keccak256("OthenticBLSAuth");

    uint256 private constant VP_MASK = type(uint96).max;
    uint256 private constant ACTIVE_BIT = 1 << 96;
    uint256 private constant STATE_MASK = (1 << 97) - 1;
    uint256 private constant FEE_SHIFT = 128;

    /// The only contract allowed to register operators and check attestations. Immutable (its
    /// address is known before deployment) so that checking it costs no storage read per task.
    address public immutable attestationCenter;

    /// Per operator id: bits 0-95 voting power, bit 96 active, bits 128-255 fees credited directly.
    mapping(uint256 => uint256) private _records;
    /// Per voter: bits 0-127 fees of the tasks it did not sign since joining, bits 128-255 the
    /// fee index when it became a voter.
    mapping(uint256 => uint256) private _feeCheckpoints;
    mapping(uint256 => uint256[4]) private _keys;
    /// One bit per voter id.
    mapping(uint256 => uint256) private _voterWords;
    /// Sum of the voters' keys, affine [x.c0, x.c1, y.c0, y.c1]; all zeros when there is none.
    uint256[4] private _votersKey;
    /// Packed: total voting power (bits 0-127), number of voters (128-159), highest id (160-191).
    uint256 private _totals;

    struct DefinitionConfig {
        uint128 minimumVotingPower;
        uint32 version;
        bool restricted;
        bool tracked;
        bool listed;
    }

    mapping(uint16 => DefinitionConfig) private _definitions;
    mapping(uint16 => uint256) private _definitionTotals;
    /// Restricted attester sets as bitmaps; a new version per update so old bits need no clearing.
    mapping(uint16 => mapping(uint32 => mapping(uint256 => uint256))) private _restrictedWords;
    uint16[] private _trackedDefinitions;

    modifier onlyAttestationCenter() {
        if (msg.sender != attestationCenter) revert AccessControlUnauthorizedAccount(msg.sender, OBLS_MANAGER);
        _;
    }

    modifier onlyVotingPowerSyncer() {
        if (msg.sender != attestationCenter) _checkRole(VOTING_POWER_SYNCER, msg.sender);
        _;
    }

    /// @param admin may grant roles (e.g. more voting power syncers)
    /// @param attestationCenter_ the AttestationCenter that will use this registry
    /// @param votingPowerSyncer the InternalTaskHandler (may be address(0))
    constructor(address admin, address attestationCenter_, address votingPowerSyncer) {
        attestationCenter = attestationCenter_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        if (votingPowerSyncer != address(0)) _grantRole(VOTING_POWER_SYNCER, votingPowerSyncer);
    }

    // ------------------------------------------------------------------ views

    function totalVotingPower() public view returns (uint256) {
        return uint128(_totals);
    }

    /// Number of voters: active operators with voting power > 0.
    function numOfVoters() external view returns (uint256) {
        return uint32(_totals >> 128);
    }

    function votingPower(uint256 _index) external view returns (uint256) {
        return _records[_index] & VP_MASK;
    }

    /// The total a definition's consensus uses: its own when it has restricted attesters or a
    /// minimum voting power, the global total otherwise.
    function totalVotingPowerPerTaskDefinition(uint256 _id) external view returns (uint256) {
        if (_id > type(uint16).max || !_definitions[uint16(_id)].tracked) return totalVotingPower();
        return _definitionTotals[uint16(_id)];
    }

    function isActive(uint256 _index) external view returns (bool) {
        return _records[_index] & ACTIVE_BIT != 0;
    }

    /// Attester fees earned and not yet moved into a payment request.
    function feeToClaim(uint256 _index) external view returns (uint256) {
        return _earned(_index, _records[_index], IAttesterFeeIndex(attestationCenter).attesterFeeIndex());
    }

    function getOperatorBlsKey(uint256 _index) external view returns (uint256[4] memory) {
        return _keys[_index];
    }

    /// The running sum of the voters' keys.
    function votersPublicKey() external view returns (uint256[4] memory) {
        return _votersKey;
    }

    /// The aggregate key of `ids` (strictly ascending, active), computed as attestations are.
    function signersPublicKey(uint256[] calldata ids) external view returns (uint256[4] memory) {
        (, uint256 withPower) = _sumSigners(ids, 0, 0, false);
        uint256 totals = _totals;
        return _signersKey(ids, withPower, totals, _plan(ids.length, withPower, totals, false).complement);
    }

    function hashToPoint(bytes32 domain, bytes calldata message) external view returns (uint256[2] memory) {
        return BN254.hashToPoint(domain, message);
    }

    /// Whether `signature` is `pubkey`'s signature of the G1 point `message` (BLS.verifySingle).
    function verifySingle(uint256[2] calldata signature, uint256[4] calldata pubkey, uint256[2] calldata message)
        external
        view
        returns (bool)
    {
        return BN254.verify(signature, message, pubkey);
    }

    /// Whether operator `_index` signed abi.encode(messageHash) under the TasksManager domain.
    function verifyOperatorMessage(uint256 _index, bytes32 messageHash, uint256[2] calldata signature)
        external
        view
        returns (bool)
    {
        uint256[4] memory key = _keys[_index];
        if ((key[0] | key[1] | key[2] | key[3]) == 0) return false;
        return BN254.verify(signature, BN254.hashToPoint32(TASKS_DOMAIN, messageHash), key);
    }

    /// Reverts InvalidAuthSignature unless `signature` proves possession of `_blsKey` for
    /// (`_operator`, `_contract`, this chain) under the OthenticBLSAuth domain.
    function verifyAuthSignature(
        uint256[2] calldata signature,
        address _operator,
        address _contract,
        uint256[4] calldata _blsKey
    ) external view {
        bytes32 digest = keccak256(abi.encode(_operator, _contract, block.chainid));
        if (!BN254.verify(signature, BN254.hashToPoint32(AUTH_DOMAIN, digest), _blsKey)) revert InvalidAuthSignature();
    }

    /// Othentic's check of an aggregated signature over the message point `_message` by the
    /// operators `_indexes`, against an explicit required voting power. Reverts on failure.
    function verifySignature(
        uint256[2] calldata _message,
        uint256[2] calldata _signature,
        uint256[] calldata _indexes,
        uint256 _requiredVotingPower,
        uint256 _minimumVotingPowerPerTaskDefinition
    ) external view {
        if (_requiredVotingPower == 0) revert InvalidRequiredVotingPower();
        (uint256 signed, uint256 withPower) = _sumSigners(_indexes, _minimumVotingPowerPerTaskDefinition, 0, false);
        if (signed < _requiredVotingPower) revert InsufficientVotingPower();
        uint256 totals = _totals;
        bool complement = _plan(_indexes.length, withPower, totals, false).complement;
        if (!_verifyAggregate(_signature, _message, _signersKey(_indexes, withPower, totals, complement))) {
            revert InvalidOBLSSignature();
        }
    }

    // ------------------------------------------------------------------ attestation

    struct Plan {
        /// aggregate key = voters' sum - non-signing voters + signers without voting power
        bool complement;
        /// attester fee through the index: debit non-signing voters, credit powerless signers
        bool byIndex;
    }

    /// The cheaper way (in storage accesses) to get the signers' key and to pay their fees.
    function _plan(uint256 n, uint256 withPower, uint256 totals, bool hasFee) private pure returns (Plan memory plan) {
        uint256 missing = uint32(totals >> 128) - withPower;
        uint256 powerless = n - withPower;
        uint256 words = missing == 0 ? 0 : (uint32(totals >> 160) >> 8) + 1;
        // 4 key slots per addition, 1 slot per voter bitmap word
        plan.complement = 4 * (1 + missing + powerless) + words < 4 * n;
        // ~5000 gas per debit (a cold slot), ~2900 per direct credit (the record is warm)
        plan.byIndex = hasFee && 50 * missing + 29 * powerless + 21 * words < 29 * n;
    }

    /// Check one aggregated vote for the AttestationCenter and pay the signers' attester fee.
    /// Returns true when the fee went through the index, which the caller then raises by it.
    function verifyAttestation(
        bytes32 voteHash,
        uint256[2] calldata signature,
        uint256[] calldata attesterIds,
        AttestationCheck calldata check
    ) external onlyAttestationCenter returns (bool byIndex) {
        uint256 totals = _totals;
        uint256 total = check.perDefinitionTotal ? _definitionTotals[check.taskDefinitionId] : uint128(totals);
        uint256 required = check.isApproved ? total * 2 / 3 : total / 3;
        if (required == 0) revert InvalidRequiredVotingPower();
        (uint256 signed, uint256 withPower) =
            _sumSigners(attesterIds, check.minimumVotingPower, check.taskDefinitionId, check.restricted);
        if (signed < required) revert InsufficientVotingPower();
        uint256 fee = check.attesterFee;
        Plan memory plan = _plan(attesterIds.length, withPower, totals, fee != 0);
        uint256[4] memory key = _signersKey(attesterIds, withPower, totals, plan.complement);
        if (!_verifyAggregate(signature, BN254.hashToPoint32(TASKS_DOMAIN, voteHash), key)) {
            revert InvalidOBLSSignature();
        }
        if (fee == 0) return false;
        if (fee > type(uint128).max) revert FeeOverflow(0);
        byIndex = plan.byIndex;
        if (byIndex && uint32(totals >> 128) != withPower) {
            uint256[] memory nonSigners = _nonSigningVoters(attesterIds, totals);
            for (uint256 i; i < nonSigners.length; ++i) {
                _feeCheckpoints[nonSigners[i]] += fee;
            }
        }
        if (byIndex && attesterIds.length == withPower) return true;
        for (uint256 i; i < attesterIds.length; ++i) {
            uint256 id = attesterIds[i];
            uint256 rec = _records[id];
            if (byIndex && rec & VP_MASK != 0) continue;
            uint256 credited = (rec >> FEE_SHIFT) + fee;
            if (credited > type(uint128).max) revert FeeOverflow(id);
            _records[id] = (rec & type(uint128).max) | (credited << FEE_SHIFT);
        }
    }

    /// Voting power of the signers (and how many have any), checking order, activity, the
    /// minimum voting power and, for a restricted definition, membership.
    function _sumSigners(uint256[] calldata ids, uint256 minimumVotingPower, uint16 definitionId, bool restricted)
        private
        view
        returns (uint256 signed, uint256 withPower)
    {
        uint32 version = restricted ? _definitions[definitionId].version : 0;
        uint256 cachedWordIndex = type(uint256).max;
        uint256 cachedWord;
        uint256 prev;
        for (uint256 i; i < ids.length; ++i) {
            uint256 id = ids[i];
            if (id <= prev) revert InvalidOperatorIndexes();
            prev = id;
            uint256 rec = _records[id];
            if (rec & ACTIVE_BIT == 0) revert InactiveOperator(id);
            uint256 power = rec & VP_MASK;
            if (power < minimumVotingPower) revert OperatorDoesNotHaveMinimumVotingPower(id);
            if (restricted) {
                if (id >> 8 != cachedWordIndex) {
                    cachedWordIndex = id >> 8;
                    cachedWord = _restrictedWords[definitionId][version][cachedWordIndex];
                }
                if ((cachedWord >> (id & 0xff)) & 1 == 0) revert InvalidRestrictedAttester(definitionId, id);
            }
            if (power != 0) {
                signed += power;
                ++withPower;
            }
        }
    }

    /// The signers' aggregate key: their keys added up, or (complement) the voters' sum minus
    /// each voter that did not sign plus each signer without voting power.
    function _signersKey(uint256[] calldata ids, uint256 withPower, uint256 totals, bool complement)
        private
        view
        returns (uint256[4] memory)
    {
        uint256 n = ids.length;
        uint256[6] memory acc;
        if (!complement) {
            for (uint256 i; i < n; ++i) {
                _addKey(acc, ids[i], false);
            }
            return G2Arith.toAffine(acc);
        }
        acc = G2Arith.fromAffine(_votersKey);
        if (n != withPower) {
            for (uint256 i; i < n; ++i) {
                if (_records[ids[i]] & VP_MASK == 0) _addKey(acc, ids[i], false);
            }
        }
        if (uint32(totals >> 128) != withPower) {
            uint256[] memory nonSigners = _nonSigningVoters(ids, totals);
            for (uint256 i; i < nonSigners.length; ++i) {
                _addKey(acc, nonSigners[i], true);
            }
        }
        return G2Arith.toAffine(acc);
    }

    /// The voters that are not among `ids`, in ascending order.
    function _nonSigningVoters(uint256[] calldata ids, uint256 totals) private view returns (uint256[] memory out) {
        uint256 words = (uint32(totals >> 160) >> 8) + 1;
        uint256[] memory signerWords = new uint256[](words);
        for (uint256 i; i < ids.length; ++i) {
            uint256 id = ids[i];
            if (id >> 8 < words) signerWords[id >> 8] |= 1 << (id & 0xff);
        }
        out = new uint256[](uint32(totals >> 128));
        uint256 k;
        for (uint256 w; w < words; ++w) {
            uint256 missing = _voterWords[w] & ~signerWords[w];
            while (missing != 0) {
                uint256 lowest = missing & (~missing + 1);
                out[k++] = (w << 8) | _log2(lowest);
                missing ^= lowest;
            }
        }
        assembly ("memory-safe") {
            mstore(out, k)
        }
    }

    function _addKey(uint256[6] memory acc, uint256 id, bool negate) private view {
        uint256[4] storage key = _keys[id];
        uint256 x0 = key[0];
        uint256 x1 = key[1];
        uint256 y0 = key[2];
        uint256 y1 = key[3];
        if ((x0 | x1 | y0 | y1) == 0) return;
        if (negate) (y0, y1) = (G2Arith.negY(y0), G2Arith.negY(y1));
        G2Arith.addAffine(acc, x0, x1, y0, y1);
    }

    /// Position of the single set bit of a power of two.
    function _log2(uint256 x) private pure returns (uint256 r) {
        unchecked {
            if (x >> 128 != 0) (x, r) = (x >> 128, r + 128);
            if (x >> 64 != 0) (x, r) = (x >> 64, r + 64);
            if (x >> 32 != 0) (x, r) = (x >> 32, r + 32);
            if (x >> 16 != 0) (x, r) = (x >> 16, r + 16);
            if (x >> 8 != 0) (x, r) = (x >> 8, r + 8);
            if (x >> 4 != 0) (x, r) = (x >> 4, r + 4);
            if (x >> 2 != 0) (x, r) = (x >> 2, r + 2);
            if (x >> 1 != 0) r += 1;
        }
    }

    function _verifyAggregate(uint256[2] memory signature, uint256[2] memory message, uint256[4] memory key)
        private
        view
        returns (bool)
    {
        // An aggregate key at infinity would accept the signature at infinity for any message.
        if ((key[0] | key[1] | key[2] | key[3]) == 0) return false;
        return BN254.verify(signature, message, key);
    }

    // ------------------------------------------------------------------ fees

    /// Move an operator's attester fees out (into the AttestationCenter's payment request);
    /// `feeIndex` is the AttestationCenter's current attester fee index.
    function takeFees(uint256 _index, uint256 feeIndex) external onlyAttestationCenter returns (uint256 amount) {
        uint256 rec = _records[_index];
        amount = _earned(_index, rec, feeIndex);
        if (rec >> FEE_SHIFT != 0) _records[_index] = rec & type(uint128).max;
        if (_isVoter(rec)) _feeCheckpoints[_index] = feeIndex << 128;
    }

    function _isVoter(uint256 rec) private pure returns (bool) {
        return rec & ACTIVE_BIT != 0 && rec & VP_MASK != 0;
    }

    /// Direct credits plus, for a voter, what the fee index earned it since it joined.
    function _earned(uint256 id, uint256 rec, uint256 feeIndex) private view returns (uint256 amount) {
        amount = rec >> FEE_SHIFT;
        if (_isVoter(rec)) {
            uint256 checkpoint = _feeCheckpoints[id];
            amount += feeIndex - (checkpoint >> 128) - uint128(checkpoint);
        }
    }

    // ------------------------------------------------------------------ registry

    function registerOperator(uint256 _index, uint256 _votingPower, uint256[4] calldata _blsKey)
        external
        onlyAttestationCenter
    {
        if (_records[_index] & ACTIVE_BIT != 0) revert OperatorAlreadyActive(_index);
        _keys[_index] = _blsKey;
        _setState(_index, true, _votingPower);
    }

    function unRegisterOperator(uint256 _index) external onlyAttestationCenter {
        if (_records[_index] & ACTIVE_BIT == 0) revert InactiveOperator(_index);
        _setState(_index, false, 0);
    }

    function modifyOperatorBlsKey(uint256 _index, uint256[4] calldata _blsKey) external onlyAttestationCenter {
        if (_isVoter(_records[_index])) {
            _updateVotersKey(_index, true);
            _keys[_index] = _blsKey;
            _updateVotersKey(_index, false);
        } else {
            _keys[_index] = _blsKey;
        }
    }

    /// Add each entry's votingPower to its operator's voting power.
    function increaseBatchOperatorVotingPower(OperatorVotingPower[] calldata _operatorsVotingPower)
        external
        onlyVotingPowerSyncer
    {
        for (uint256 i; i < _operatorsVotingPower.length; ++i) {
            uint256 id = _operatorsVotingPower[i].operatorId;
            uint256 rec = _records[id];
            _setState(id, rec & ACTIVE_BIT != 0, (rec & VP_MASK) + _operatorsVotingPower[i].votingPower);
        }
    }

    /// Subtract each entry's votingPower from its operator's voting power.
    function decreaseBatchOperatorVotingPower(OperatorVotingPower[] calldata _operatorsVotingPower)
        external
        onlyVotingPowerSyncer
    {
        for (uint256 i; i < _operatorsVotingPower.length; ++i) {
            uint256 id = _operatorsVotingPower[i].operatorId;
            uint256 rec = _records[id];
            uint256 delta = _operatorsVotingPower[i].votingPower;
            if (delta > rec & VP_MASK) revert VotingPowerOutOfRange(id, delta);
            _setState(id, rec & ACTIVE_BIT != 0, (rec & VP_MASK) - delta);
        }
    }

    /// Set a definition's minimum voting power and restricted attester set (empty for none) and
    /// recompute its total.
    function setTotalVotingPowerPerRestrictedTaskDefinition(
        uint16 _taskDefinitionId,
        uint256 _minimumVotingPower,
        uint256[] calldata _restrictedOperatorIndexes
    ) external onlyAttestationCenter {
        DefinitionConfig memory cfg = _definitions[_taskDefinitionId];
        cfg.version += 1;
        cfg.minimumVotingPower =
            uint128(_minimumVotingPower > type(uint128).max ? type(uint128).max : _minimumVotingPower);
        cfg.restricted = _restrictedOperatorIndexes.length != 0;
        cfg.tracked = cfg.restricted || _minimumVotingPower != 0;
        mapping(uint256 => uint256) storage words = _restrictedWords[_taskDefinitionId][cfg.version];
        for (uint256 i; i < _restrictedOperatorIndexes.length; ++i) {
            uint256 id = _restrictedOperatorIndexes[i];
            words[id >> 8] |= 1 << (id & 0xff);
        }
        if (cfg.tracked && !cfg.listed) {
            cfg.listed = true;
            _trackedDefinitions.push(_taskDefinitionId);
        }
        _definitions[_taskDefinitionId] = cfg;
        _recomputeDefinitionTotal(_taskDefinitionId);
    }

    /// Recompute per-definition totals from scratch (all tracked definitions when the list is
    /// empty): the VOTING_POWER_PER_TASK_DEFINITION_SYNC. Totals are also kept exact on every
    /// change of voting power, so this only ever confirms them.
    function syncTotalVotingPowerPerTaskDefinition(uint16[] calldata _taskDefinitionIds)
        external
        onlyVotingPowerSyncer
    {
        if (_taskDefinitionIds.length == 0) {
            for (uint256 i; i < _trackedDefinitions.length; ++i) {
                _recomputeDefinitionTotal(_trackedDefinitions[i]);
            }
        } else {
            for (uint256 i; i < _taskDefinitionIds.length; ++i) {
                _recomputeDefinitionTotal(_taskDefinitionIds[i]);
            }
        }
    }

    function _recomputeDefinitionTotal(uint16 definitionId) private {
        DefinitionConfig memory cfg = _definitions[definitionId];
        uint256 total;
        if (cfg.tracked) {
            uint256 highest = uint32(_totals >> 160);
            for (uint256 id = 1; id <= highest; ++id) {
                uint256 rec = _records[id];
                total += _contribution(definitionId, cfg, id, rec & ACTIVE_BIT != 0, rec & VP_MASK);
            }
        }
        _definitionTotals[definitionId] = total;
        emit TotalVotingPowerPerTaskDefinitionSet(definitionId, total);
    }

    function _contribution(uint16 definitionId, DefinitionConfig memory cfg, uint256 id, bool active, uint256 power)
        private
        view
        returns (uint256)
    {
        if (!active || power == 0 || power < cfg.minimumVotingPower) return 0;
        if (cfg.restricted && (_restrictedWords[definitionId][cfg.version][id >> 8] >> (id & 0xff)) & 1 == 0) {
            return 0;
        }
        return power;
    }

    /// The one place an operator's active flag or voting power changes: keeps the global total,
    /// the voter bitmap, key sum and fee checkpoint, and every tracked definition's total in step.
    function _setState(uint256 id, bool active, uint256 power) private {
        if (power > VP_MASK) revert VotingPowerOutOfRange(id, power);
        if (id == 0 || id > type(uint32).max) revert InvalidOperatorIndexes();
        uint256 rec = _records[id];
        bool wasActive = rec & ACTIVE_BIT != 0;
        uint256 oldPower = rec & VP_MASK;
        uint256 before = wasActive ? oldPower : 0;
        uint256 effective = active ? power : 0;

        uint256 totals = _totals;
        uint256 total = uint128(totals) - before + effective;
        if (total > type(uint128).max) revert VotingPowerOutOfRange(id, power);
        uint256 voters = uint32(totals >> 128);
        uint256 highest = uint32(totals >> 160);
        if (id > highest) highest = id;
        uint256 updated = (rec & ~STATE_MASK) | (active ? ACTIVE_BIT : 0) | power;
        if (before == 0 && effective != 0) {
            ++voters;
            _voterWords[id >> 8] |= 1 << (id & 0xff);
            _updateVotersKey(id, false);
            _feeCheckpoints[id] = IAttesterFeeIndex(attestationCenter).attesterFeeIndex() << 128;
        } else if (before != 0 && effective == 0) {
            --voters;
            _voterWords[id >> 8] &= ~(1 << (id & 0xff));
            _updateVotersKey(id, true);
            // leaving the voters: what the index earned it becomes a direct credit
            uint256 earned = _earned(id, rec, IAttesterFeeIndex(attestationCenter).attesterFeeIndex());
            if (earned > type(uint128).max) revert FeeOverflow(id);
            updated = (updated & type(uint128).max) | (earned << FEE_SHIFT);
            delete _feeCheckpoints[id];
        }
        _totals = total | (voters << 128) | (highest << 160);
        _records[id] = updated;

        for (uint256 i; i < _trackedDefinitions.length; ++i) {
            uint16 definitionId = _trackedDefinitions[i];
            DefinitionConfig memory cfg = _definitions[definitionId];
            if (!cfg.tracked) continue;
            uint256 was = _contribution(definitionId, cfg, id, wasActive, oldPower);
            uint256 now_ = _contribution(definitionId, cfg, id, active, power);
            if (was != now_) {
                uint256 t = _definitionTotals[definitionId] - was + now_;
                _definitionTotals[definitionId] = t;
                emit TotalVotingPowerPerTaskDefinitionSet(definitionId, t);
            }
        }
        if (oldPower != power) emit OperatorVotingPowerSet(id, power);
        if (wasActive != active) emit OperatorActiveStatusSet(id, active);
    }

    /// Add operator `id`'s key to the voters' sum, or subtract it.
    function _updateVotersKey(uint256 id, bool subtract) private {
        uint256[6] memory acc = G2Arith.fromAffine(_votersKey);
        _addKey(acc, id, subtract);
        _votersKey = G2Arith.toAffine(acc);
    }
}
