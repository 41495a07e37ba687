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
/// Each operator may also have its key in G1 (sk·g1, proven to match the G2 key by a pairing when
/// it is set), and the voters' G1 keys are summed too. When some voters did not sign and the
/// submitter appends the signers' G2 key sum to its call (docs/protocol.md), a non-signer can
/// cost one G1 addition (a precompile call) and the reads of its G1 key and voting power: the
/// signers' G1 sum is checked against that G2 sum in the same pairing as the signature, over a
/// random linear combination (EigenLayer's BLSSignatureChecker does the same). That way is
/// taken when it is the cheaper (_g1WayCheaper), and when every voter signs nothing is read
/// per signer at all. Cheaper still, the state way (_stateWay): OBLS keeps a hash of the
/// voters' key sum, total and bitmap, and one of each operator's key and voting power, so the
/// submitter can send those instead of OBLS reading them: one read for the state, one per
/// non-signer, each subtracted with a slope the submitter computed and OBLS only checks.
/// @dev Attester fees follow the same idea: instead of a write per signer, a task may raise a
/// global fee index (kept by the AttestationCenter in a slot it writes for every task anyway)
/// that every voter earns, and debit the voters that did not sign. An operator's attester fees
/// are its direct credits plus, while it is a voter, index - index when it joined - debits.
contract OBLS is IOBLS, RoleControl {
    bytes32 private constant TASKS_DOMAIN = keccak256("TasksManager");
    bytes32 private constant AUTH_DOMAIN = keccak256("OthenticBLSAuth");

    uint256 private constant VP_MASK = type(uint96).max;
    /// BN254.P, for assembly.
    uint256 private constant FIELD_P = 0x30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47;
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
    /// Packed: total voting power (bits 0-127), number of voters (128-159), highest id (160-191),
    /// number of voters without a G1 key (192-223).
    uint256 private _totals;
    /// Per operator id: its key in G1 [x, y], all zeros until set (setOperatorBlsKeyG1).
    mapping(uint256 => uint256[2]) private _keysG1;
    /// Sum of the voters' G1 keys; the sum of all of them only while bits 192-223 of _totals are 0.
    uint256[2] private _votersKeyG1;
    /// keccak256 of the voters' key sum, their total voting power and voter bitmap word 0: what
    /// the submitter may send instead of them (_stateWay).
    bytes32 private _stateCommit;
    /// Per operator: keccak256 of its G2 key and voting power (0 while inactive), likewise.
    mapping(uint256 => bytes32) private _operatorCommits;

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

    /// The operator's key in G1 (all zeros when it has none).
    function getOperatorBlsKeyG1(uint256 _index) external view returns (uint256[2] memory) {
        return _keysG1[_index];
    }

    /// The running sum of the voters' G1 keys (of those that have one).
    function votersPublicKeyG1() external view returns (uint256[2] memory) {
        return _votersKeyG1;
    }

    /// How many voters have no G1 key (while any has none, attestations take the G2 path).
    function numOfVotersWithoutG1Key() external view returns (uint256) {
        return uint32(_totals >> 192);
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

    /// Check one aggregated vote for the AttestationCenter (and, for a BLS performer, its
    /// signature in the same pairing) and pay the signers' attester fee. `hints` is what the
    /// submitter appended to its call (docs/protocol.md, "Contracts"; empty: nothing): the
    /// signers' G2 key sum, the state and keys behind the commitments, and witnesses for hashing
    /// the vote and task hashes to the curve. They only ever choose a cheaper way to check, never
    /// what is accepted. Returns true when the fee went through the index, which the caller then
    /// raises by it.
    function verifyAttestation(
        bytes32 voteHash,
        uint256[2] calldata signature,
        uint256[] calldata attesterIds,
        AttestationCheck calldata check,
        bytes calldata hints,
        PerformerSignature calldata performer
    ) external onlyAttestationCenter returns (bool) {
        Layout memory at = _layout(hints);
        uint256 n = attesterIds.length;
        uint256 withPower = n;
        uint256 signed;
        uint256 total;
        uint256[4] memory key;
        bool stated;
        if (!check.perDefinitionTotal) (stated, signed, total, key) = _stateWay(attesterIds, hints, at);
        uint256 totals;
        bool viaG1;
        uint256[2] memory apkG1;
        if (!stated) {
            totals = _totals;
            key = _apkG2Hint(hints);
            total = check.perDefinitionTotal ? _definitionTotals[check.taskDefinitionId] : uint128(totals);
        }
        // before any signer is looked at, as Othentic's order of errors has it
        uint256 required = check.isApproved ? total * 2 / 3 : total / 3;
        if (required == 0) revert InvalidRequiredVotingPower();
        if (!stated) {
            bool counted;
            // With the global total (no restricted set, no minimum) and only voters signing, the
            // voter bitmap tells the non-signers: nothing needs reading per signer.
            uint256 voters = uint32(totals >> 128);
            if (!check.perDefinitionTotal && n <= voters) {
                // as many non-signers as this if every signer is a voter (the scan says)
                uint256 nonSigners = voters - n;
                bool g1 = nonSigners != 0 && (key[0] | key[1] | key[2] | key[3]) != 0
                    && uint32(totals >> 192) == 0 && _g1WayCheaper(n, nonSigners);
                if (nonSigners == 0 || g1) {
                    (bool onlyVoters, uint256[] memory missing) = _scanVoters(attesterIds, totals);
                    if (onlyVoters && g1) {
                        (signed, apkG1) = _complementG1(missing, totals);
                        (counted, viaG1) = (true, true);
                    } else if (onlyVoters) {
                        // every voter signed: the stored G2 sum is the key, the total the power
                        (counted, signed) = (true, uint128(totals));
                    }
                }
            }
            if (!counted) {
                (signed, withPower) =
                    _sumSigners(attesterIds, check.minimumVotingPower, check.taskDefinitionId, check.restricted);
            }
        }
        if (signed < required) revert InsufficientVotingPower();
        Equation memory eq = _equation(voteHash, signature, performer, hints, at);
        // the state way's key is the signers' exactly; a G1 sum at infinity would make the
        // consistency half of the G1 way vacuous
        if (!((stated || (viaG1 && (apkG1[0] | apkG1[1]) != 0)) && _pairing(eq, viaG1, apkG1, key))) {
            // the G2 way: also where a wrong G2 sum from the submitter ends up. A right one
            // saves the inversion that turns the sum affine.
            if (stated) _revertSignature(eq);
            bool complement = _plan(n, withPower, totals, false).complement;
            uint256[6] memory sum = _signersKeyJacobian(attesterIds, withPower, totals, complement);
            if (!G2Arith.equalsAffine(sum, key)) key = G2Arith.toAffine(sum);
            if ((key[0] | key[1] | key[2] | key[3]) == 0 || !_pairing(eq, false, apkG1, key)) _revertSignature(eq);
        }
        uint256 fee = check.attesterFee;
        if (fee == 0) return false;
        if (stated) totals = _totals;
        return _payAttesters(attesterIds, fee, withPower, totals, _plan(n, withPower, totals, true).byIndex);
    }

    /// The performer's signature alone decides which error a failed pairing gets.
    function _revertSignature(Equation memory eq) private view {
        if (eq.withPerformer && !BN254.verify(eq.performerSignature, eq.taskMessage, eq.performerKey)) {
            revert InvalidPerformerSignature();
        }
        revert InvalidOBLSSignature();
    }

    /// Pay `fee` to every signer: through the index (debiting the voters that did not sign) or
    /// credited one by one. Returns byIndex.
    function _payAttesters(uint256[] calldata attesterIds, uint256 fee, uint256 withPower, uint256 totals, bool byIndex)
        private
        returns (bool)
    {
        if (fee > type(uint128).max) revert FeeOverflow(0);
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
        return byIndex;
    }

    /// Flag of the hints for the state section (docs/protocol.md, "Contracts").
    uint256 private constant HINT_STATE = 8;

    /// Where the parts of the hints sit (docs/protocol.md, "Contracts"). The state section: a
    /// header word (bits 0-31 the number of non-signer entries, bit 32 a performer entry), the
    /// committed part (voters' key sum, total, voter bitmap word 0), a BLS performer's key and
    /// voting power, then per non-signer its key, voting power and the slope of the affine
    /// subtraction. entries 0: no state section that fits.
    struct Layout {
        uint256 flags;
        uint256 state;
        uint256 entries;
        uint256 nonSigners;
        uint256 performerEntry;
        /// where the vote point's witness starts
        uint256 witness;
    }

    function _layout(bytes calldata hints) private pure returns (Layout memory at) {
        uint256 size = hints.length;
        if (size == 0) return at;
        at.flags = uint8(hints[size - 1]);
        uint256 s = at.flags & HINT_APK_G2 != 0 ? 128 : 0;
        (at.state, at.witness) = (s, s);
        if (at.flags & HINT_STATE == 0) return at;
        if (s + 224 <= size - 1) {
            uint256 header = _word(hints, s);
            uint256 m = uint32(header);
            uint256 e = s + 224;
            if ((header >> 32) & 1 != 0) (at.performerEntry, e) = (e, e + 160);
            uint256 end = e + 224 * m;
            if (end <= size - 1) {
                (at.entries, at.nonSigners, at.witness) = (e, m, end);
                return at;
            }
        }
        // without a section that fits, where the witnesses start is unknown
        (at.flags, at.performerEntry) = (0, 0);
    }

    /// The state way: the submitter sends what the commitments stand for, so a check reads one
    /// word plus one per non-signer instead of the totals, bitmap and keys of four words. The
    /// voters' key sum, total and bitmap are taken when they hash to _stateCommit; each voter
    /// that did not sign (the bitmap without the signers) is subtracted with its key and power
    /// when they hash to its _operatorCommits entry, by an affine addition whose slope is
    /// checked, not computed. Only voters signing, strictly ascending (else ok = false and the
    /// stored way decides).
    function _stateWay(uint256[] calldata ids, bytes calldata hints, Layout memory at)
        private
        view
        returns (bool ok, uint256 signed, uint256 total, uint256[4] memory key)
    {
        uint256 s = at.state;
        if (at.entries == 0 || _calldataHash(hints, s + 32, 192) != _stateCommit) return (false, 0, 0, key);
        uint256 e = at.entries;
        uint256 m = at.nonSigners;
        uint256 commits;
        assembly ("memory-safe") {
            commits := _operatorCommits.slot
        }
        // In assembly: a non-signer costs its commitment's read, a hash and a few dozen mulmods.
        // Every way out before the end leaves ok false.
        assembly ("memory-safe") {
            let p := add(hints.offset, add(s, 0x20))
            // the running sum lives in key
            calldatacopy(key, p, 0x80)
            total := calldataload(add(p, 0x80))
            let missing := calldataload(add(p, 0xa0))
            signed := total
            // the stored sum is reduced (the subtractions below rely on it), checked all the same
            let bad := or(
                or(iszero(lt(mload(key), FIELD_P)), iszero(lt(mload(add(key, 0x20)), FIELD_P))),
                or(iszero(lt(mload(add(key, 0x40)), FIELD_P)), iszero(lt(mload(add(key, 0x60)), FIELD_P)))
            )
            // signers: strictly ascending voters (every voter's id is below 256 while the commitment holds)
            let prev := 0
            for { let i := 0 } and(iszero(bad), lt(i, ids.length)) { i := add(i, 1) } {
                let id := calldataload(add(ids.offset, shl(5, i)))
                bad := or(or(iszero(gt(id, prev)), gt(id, 255)), iszero(and(shr(id, missing), 1)))
                prev := id
                missing := xor(missing, shl(id, 1))
            }
            // non-signers, ascending: each entry is key (4 words), voting power, slope (2 words).
            // Once bad, the rest is garbage that ok = false discards.
            let q := add(hints.offset, e)
            let k := 0
            for { let id := 0 } and(iszero(bad), iszero(iszero(missing))) {
                missing := shr(1, missing)
                id := add(id, 1)
            } {
                if and(missing, 1) {
                    calldatacopy(mload(0x40), q, 0xa0)
                    mstore(0x00, id)
                    mstore(0x20, commits)
                    let power := calldataload(add(q, 0x80))
                    // power <= signed while the commitments hold (the total sums every voter's)
                    bad := or(
                        or(eq(k, m), gt(power, signed)),
                        iszero(eq(keccak256(mload(0x40), 0xa0), sload(keccak256(0x00, 0x40))))
                    )
                    signed := sub(signed, power)
                    let x0 := calldataload(q)
                    let x1 := calldataload(add(q, 0x20))
                    let y0 := calldataload(add(q, 0x40))
                    let y1 := calldataload(add(q, 0x60))
                    // a key at infinity is in no sum (_addKey skips it)
                    if or(or(x0, x1), or(y0, y1)) {
                        let a0 := mload(key)
                        let a1 := mload(add(key, 0x20))
                        let l0 := calldataload(add(q, 0xa0))
                        let l1 := calldataload(add(q, 0xc0))
                        bad := or(
                            bad,
                            or(
                                or(or(iszero(lt(x0, FIELD_P)), iszero(lt(x1, FIELD_P))), or(iszero(lt(y0, FIELD_P)), iszero(lt(y1, FIELD_P)))),
                                or(iszero(lt(l0, FIELD_P)), iszero(lt(l1, FIELD_P)))
                            )
                        )
                        // a += (x, -y) given the slope l = (-y - a.y) / (x - a.x), which is unique:
                        // checked with one multiplication, so the result is exactly the sum. No
                        // slope for the same x (a doubling, or infinity): the stored way then.
                        y0 := addmod(sub(FIELD_P, y0), sub(FIELD_P, mload(add(key, 0x40))), FIELD_P)
                        y1 := addmod(sub(FIELD_P, y1), sub(FIELD_P, mload(add(key, 0x60))), FIELD_P)
                        let dx0 := addmod(x0, sub(FIELD_P, a0), FIELD_P)
                        let dx1 := addmod(x1, sub(FIELD_P, a1), FIELD_P)
                        bad := or(
                            or(bad, iszero(or(dx0, dx1))),
                            iszero(
                                and(
                                    eq(addmod(mulmod(l0, dx0, FIELD_P), sub(FIELD_P, mulmod(l1, dx1, FIELD_P)), FIELD_P), y0),
                                    eq(addmod(mulmod(l0, dx1, FIELD_P), mulmod(l1, dx0, FIELD_P), FIELD_P), y1)
                                )
                            )
                        )
                        // x3 = l^2 - a.x - x, y3 = l (a.x - x3) - a.y
                        let x30 := addmod(
                            mulmod(addmod(l0, l1, FIELD_P), addmod(l0, sub(FIELD_P, l1), FIELD_P), FIELD_P),
                            sub(FIELD_P, addmod(a0, x0, FIELD_P)),
                            FIELD_P
                        )
                        let x31 := addmod(mulmod(add(l0, l0), l1, FIELD_P), sub(FIELD_P, addmod(a1, x1, FIELD_P)), FIELD_P)
                        let t0 := addmod(a0, sub(FIELD_P, x30), FIELD_P)
                        let t1 := addmod(a1, sub(FIELD_P, x31), FIELD_P)
                        mstore(
                            add(key, 0x40),
                            addmod(
                                addmod(mulmod(l0, t0, FIELD_P), sub(FIELD_P, mulmod(l1, t1, FIELD_P)), FIELD_P),
                                sub(FIELD_P, mload(add(key, 0x40))),
                                FIELD_P
                            )
                        )
                        mstore(
                            add(key, 0x60),
                            addmod(
                                addmod(mulmod(l0, t1, FIELD_P), mulmod(l1, t0, FIELD_P), FIELD_P),
                                sub(FIELD_P, mload(add(key, 0x60))),
                                FIELD_P
                            )
                        )
                        mstore(key, x30)
                        mstore(add(key, 0x20), x31)
                    }
                    q := add(q, 0xe0)
                    k := add(k, 1)
                }
            }
            ok := and(
                and(iszero(bad), eq(k, m)),
                iszero(iszero(or(or(mload(key), mload(add(key, 0x20))), or(mload(add(key, 0x40)), mload(add(key, 0x60))))))
            )
        }
    }

    function _word(bytes calldata w, uint256 o) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := calldataload(add(w.offset, o))
        }
    }

    function _calldataHash(bytes calldata w, uint256 o, uint256 len) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            calldatacopy(m, add(w.offset, o), len)
            h := keccak256(m, len)
        }
    }

    /// What every way of checking pairs up: the attesters' signature of the vote message under
    /// the signers' key, and (BLS performer) the performer's signature of the task message under
    /// its key. Both go into one pairing over a random linear combination, each with a factor
    /// hashed from every point in it, so each signature is checked on its own: none can carry
    /// part of the other (summed with no factor, (s + d, t - d) would pass for (s, t)).
    struct Equation {
        uint256[2] signature;
        uint256[2] message;
        bool withPerformer;
        uint256[2] performerSignature;
        uint256[2] taskMessage;
        uint256[4] performerKey;
    }

    /// Flags in the last byte of the hints: which parts come before it, in this order.
    uint256 private constant HINT_APK_G2 = 1;
    uint256 private constant HINT_VOTE_POINT = 2;
    uint256 private constant HINT_TASK_POINT = 4;

    function _apkG2Hint(bytes calldata hints) private pure returns (uint256[4] memory apk) {
        if (hints.length < 129 || uint8(hints[hints.length - 1]) & HINT_APK_G2 == 0) return apk;
        assembly ("memory-safe") {
            calldatacopy(apk, hints.offset, 0x80)
        }
    }

    function _equation(
        bytes32 voteHash,
        uint256[2] calldata signature,
        PerformerSignature calldata performer,
        bytes calldata hints,
        Layout memory at
    ) private view returns (Equation memory eq) {
        if (!BN254.isValidG1(signature[0], signature[1])) revert InvalidOBLSSignature();
        // into the arrays eq already has: assigning would allocate new ones
        (eq.signature[0], eq.signature[1]) = (signature[0], signature[1]);
        uint256 flags = at.flags;
        uint256 o = at.witness;
        bytes calldata w = hints.length != 0 ? hints[:hints.length - 1] : hints;
        bool ok;
        if (flags & HINT_VOTE_POINT != 0) {
            (ok, o) = BN254.hashToPoint32Witnessed(TASKS_DOMAIN, voteHash, w, o, eq.message);
        }
        if (!ok) {
            eq.message = BN254.hashToPoint32(TASKS_DOMAIN, voteHash);
            // where the task's witness starts is known only after a vote witness that holds
            if (flags & HINT_VOTE_POINT != 0) flags = 0;
        }
        if (performer.operatorId == 0) return eq;
        eq.withPerformer = true;
        // the performer's key from the section when it hashes to the performer's commitment
        uint256 pe = at.performerEntry;
        if (pe != 0 && _calldataHash(hints, pe, 160) == _operatorCommits[performer.operatorId]) {
            uint256[4] memory pk = eq.performerKey;
            assembly ("memory-safe") {
                calldatacopy(pk, add(hints.offset, pe), 0x80)
            }
        } else {
            eq.performerKey = _keys[performer.operatorId];
        }
        uint256[4] memory k = eq.performerKey;
        if ((k[0] | k[1] | k[2] | k[3]) == 0) revert InvalidPerformerSignature();
        uint256[2] calldata ps = performer.signature;
        // infinity is no one's signature
        if ((ps[0] | ps[1]) == 0 || !BN254.isValidG1(ps[0], ps[1])) revert InvalidPerformerSignature();
        (eq.performerSignature[0], eq.performerSignature[1]) = (ps[0], ps[1]);
        ok = false;
        if (flags & HINT_TASK_POINT != 0) {
            (ok,) = BN254.hashToPoint32Witnessed(TASKS_DOMAIN, performer.taskHash, w, o, eq.taskMessage);
        }
        if (!ok) eq.taskMessage = BN254.hashToPoint32(TASKS_DOMAIN, performer.taskHash);
    }

    /// e(sig + gamma apkG1 + delta perfSig, -g2) * e(message + gamma g1, key)
    /// [* e(delta taskMessage, performerKey)] == 1, the gamma terms only with `viaG1` (then
    /// `key` is the submitter's G2 sum, claimed to have the same secret as the signers' G1 sum
    /// apkG1), the delta terms only with a performer. gamma and delta are hashed from every point
    /// in the equation, so they are fixed only after the points: unless each part holds on its
    /// own, at most a negligible share of them satisfies the whole.
    function _pairing(Equation memory eq, bool viaG1, uint256[2] memory apkG1, uint256[4] memory key)
        private
        view
        returns (bool)
    {
        uint256[2] memory a = eq.signature;
        uint256[2] memory b = eq.message;
        uint256[2] memory c;
        // withPerformer is false here: passed rather than the constant so that the compiler
        // keeps one copy of BN254.pairing
        if (!viaG1 && !eq.withPerformer) return BN254.pairing(a, b, key, c, key, eq.withPerformer);
        // copies: eq must stay as it is for the G2 way after a failed G1 way
        a = [a[0], a[1]];
        // keccak256(abi.encode(eq, apkG1, key)), without abi.encode's copying through helpers
        uint256 seed;
        Equation memory q = eq;
        assembly ("memory-safe") {
            let m := mload(0x40)
            let sig := mload(q)
            mstore(m, mload(sig))
            mstore(add(m, 0x20), mload(add(sig, 0x20)))
            let msg_ := mload(add(q, 0x20))
            mstore(add(m, 0x40), mload(msg_))
            mstore(add(m, 0x60), mload(add(msg_, 0x20)))
            mstore(add(m, 0x80), iszero(iszero(mload(add(q, 0x40)))))
            let ps := mload(add(q, 0x60))
            mstore(add(m, 0xa0), mload(ps))
            mstore(add(m, 0xc0), mload(add(ps, 0x20)))
            let tm := mload(add(q, 0x80))
            mstore(add(m, 0xe0), mload(tm))
            mstore(add(m, 0x100), mload(add(tm, 0x20)))
            mcopy(add(m, 0x120), mload(add(q, 0xa0)), 0x80)
            mcopy(add(m, 0x1a0), apkG1, 0x40)
            mcopy(add(m, 0x1e0), key, 0x80)
            seed := keccak256(m, 0x260)
        }
        if (viaG1) {
            b = [b[0], b[1]];
            uint256 gamma = _factor(seed, 0);
            (uint256 x, uint256 y) = BN254.g1Mul(apkG1[0], apkG1[1], gamma);
            (a[0], a[1]) = BN254.g1Add(a[0], a[1], x, y);
            (x, y) = BN254.g1Mul(1, 2, gamma);
            (b[0], b[1]) = BN254.g1Add(b[0], b[1], x, y);
        }
        if (eq.withPerformer) {
            uint256 delta = _factor(seed, 1);
            (uint256 x, uint256 y) = BN254.g1Mul(eq.performerSignature[0], eq.performerSignature[1], delta);
            (a[0], a[1]) = BN254.g1Add(a[0], a[1], x, y);
            (c[0], c[1]) = BN254.g1Mul(eq.taskMessage[0], eq.taskMessage[1], delta);
        }
        return BN254.pairing(a, b, key, c, eq.performerKey, eq.withPerformer);
    }

    /// A nonzero factor mod r from the equation's hash.
    function _factor(uint256 seed, uint256 i) private pure returns (uint256 f) {
        // keccak256(abi.encode(seed, i)), in the scratch space
        assembly ("memory-safe") {
            mstore(0x00, seed)
            mstore(0x20, i)
            f := keccak256(0x00, 0x40)
        }
        f %= BN254.R;
        if (f == 0) f = 1;
    }

    /// Whether every id is a voter (strictly ascending, else InvalidOperatorIndexes), and the
    /// voters that are not among them as bitmap words. False as soon as one is not a voter: the
    /// general way then decides (it may refuse it, or count it without voting power).
    function _scanVoters(uint256[] calldata ids, uint256 totals)
        private
        view
        returns (bool onlyVoters, uint256[] memory missing)
    {
        uint256 words = (uint32(totals >> 160) >> 8) + 1;
        missing = new uint256[](words);
        for (uint256 w; w < words; ++w) {
            missing[w] = _voterWords[w];
        }
        uint256 prev;
        for (uint256 i; i < ids.length; ++i) {
            uint256 id = ids[i];
            if (id <= prev) revert InvalidOperatorIndexes();
            prev = id;
            uint256 bit = 1 << (id & 0xff);
            if (id >> 8 >= words || missing[id >> 8] & bit == 0) return (false, missing);
            missing[id >> 8] ^= bit;
        }
        onlyVoters = true;
    }

    /// Rough gas of each way once the submitter sent the signers' G2 sum (cold reads 2.1k a
    /// word, a G2 addition ~2.5k, ecMul 6k): the G1 way pays two ecMul and its G1 sum, then a
    /// record and a G1 key per non-signer; the G2 way a record per signer, then their keys or
    /// the voters' sum minus the non-signers' (the sum sent saves its inversion). With few
    /// signers (a rejection) or a single non-signer the G2 way is the cheaper.
    function _g1WayCheaper(uint256 signers, uint256 nonSigners) private pure returns (bool) {
        uint256 g1 = 22_000 + 6_500 * nonSigners;
        uint256 direct = 13_000 * signers;
        uint256 complement = 2_100 * signers + 10_500 + 10_900 * nonSigners;
        return g1 < direct && g1 < complement;
    }

    /// The signers' voting power (the total minus the non-signers') and G1 key sum (the
    /// voters' minus the non-signers'), from the non-signers' bitmap words: every voter has a
    /// G1 key, and every signer is a voter.
    function _complementG1(uint256[] memory missing, uint256 totals)
        private
        view
        returns (uint256 signed, uint256[2] memory apk)
    {
        signed = uint128(totals);
        uint256 x;
        uint256 y;
        for (uint256 w; w < missing.length; ++w) {
            uint256 m = missing[w];
            while (m != 0) {
                uint256 lowest = m & (~m + 1);
                uint256 id = (w << 8) | _log2(lowest);
                m ^= lowest;
                signed -= _records[id] & VP_MASK;
                uint256[2] storage k = _keysG1[id];
                (uint256 kx, uint256 ky) = BN254.g1Neg(k[0], k[1]);
                (x, y) = BN254.g1Add(x, y, kx, ky);
            }
        }
        (apk[0], apk[1]) = BN254.g1Add(_votersKeyG1[0], _votersKeyG1[1], x, y);
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
        return G2Arith.toAffine(_signersKeyJacobian(ids, withPower, totals, complement));
    }

    function _signersKeyJacobian(uint256[] calldata ids, uint256 withPower, uint256 totals, bool complement)
        private
        view
        returns (uint256[6] memory acc)
    {
        uint256 n = ids.length;
        if (!complement) {
            for (uint256 i; i < n; ++i) {
                _addKey(acc, ids[i], false);
            }
            return acc;
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
        // a G1 key stays only with the G2 key it was proven against
        if (!_sameKey(_keys[_index], _blsKey)) {
            _keys[_index] = _blsKey;
            delete _keysG1[_index];
        }
        _setState(_index, true, _votingPower);
    }

    function unRegisterOperator(uint256 _index) external onlyAttestationCenter {
        if (_records[_index] & ACTIVE_BIT == 0) revert InactiveOperator(_index);
        _setState(_index, false, 0);
    }

    /// A new G2 key drops the G1 key (it was proven against the old one): set it again.
    function modifyOperatorBlsKey(uint256 _index, uint256[4] calldata _blsKey) external onlyAttestationCenter {
        if (_sameKey(_keys[_index], _blsKey)) return;
        uint256 rec = _records[_index];
        if (_isVoter(rec)) {
            _updateVotersKey(_index, true);
            if (_updateVotersKeyG1(_index, true)) _totals += 1 << 192;
            _keys[_index] = _blsKey;
            _updateVotersKey(_index, false);
            _commitState();
        } else {
            _keys[_index] = _blsKey;
        }
        delete _keysG1[_index];
        _commitOperator(_index, rec & ACTIVE_BIT != 0 ? rec & VP_MASK : 0);
    }

    /// Set the operator's key in G1, which the AttestationCenter checked to be the G2 key's twin
    /// (e(keyG1, g2) == e(g1, keyG2), the same secret; InvalidBlsKeyG1 otherwise).
    function setOperatorBlsKeyG1(uint256 _index, uint256[2] calldata _blsKeyG1) external onlyAttestationCenter {
        uint256 x = _blsKeyG1[0];
        uint256 y = _blsKeyG1[1];
        uint256[2] storage stored = _keysG1[_index];
        // only one G1 key passes the check above, so one already set is this one
        if ((stored[0] | stored[1]) != 0) return;
        stored[0] = x;
        stored[1] = y;
        if (_isVoter(_records[_index])) {
            _updateVotersKeyG1(_index, false);
            _totals -= 1 << 192;
        }
    }

    function _sameKey(uint256[4] storage a, uint256[4] calldata b) private view returns (bool) {
        return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
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
        uint256 withoutG1 = uint32(totals >> 192);
        if (id > highest) highest = id;
        uint256 updated = (rec & ~STATE_MASK) | (active ? ACTIVE_BIT : 0) | power;
        if (before == 0 && effective != 0) {
            ++voters;
            _voterWords[id >> 8] |= 1 << (id & 0xff);
            _updateVotersKey(id, false);
            if (!_updateVotersKeyG1(id, false)) ++withoutG1;
            _feeCheckpoints[id] = IAttesterFeeIndex(attestationCenter).attesterFeeIndex() << 128;
        } else if (before != 0 && effective == 0) {
            --voters;
            _voterWords[id >> 8] &= ~(1 << (id & 0xff));
            _updateVotersKey(id, true);
            if (!_updateVotersKeyG1(id, true)) --withoutG1;
            // leaving the voters: what the index earned it becomes a direct credit
            uint256 earned = _earned(id, rec, IAttesterFeeIndex(attestationCenter).attesterFeeIndex());
            if (earned > type(uint128).max) revert FeeOverflow(id);
            updated = (updated & type(uint128).max) | (earned << FEE_SHIFT);
            delete _feeCheckpoints[id];
        }
        _totals = total | (voters << 128) | (highest << 160) | (withoutG1 << 192);
        _records[id] = updated;
        _commitOperator(id, effective);
        if (before != effective) _commitState();

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

    function _commitOperator(uint256 id, uint256 power) private {
        uint256[4] memory key = _keys[id];
        _operatorCommits[id] = keccak256(abi.encode(key, power));
    }

    /// keccak256(voters' key sum, total voting power, voter bitmap word 0) while every id is below
    /// 256 (one bitmap word); 0, which nothing hashes to, once one is not.
    function _commitState() private {
        uint256 totals = _totals;
        uint256[4] memory key = _votersKey;
        _stateCommit = uint32(totals >> 160) < 256
            ? keccak256(abi.encode(key, uint128(totals), _voterWords[0]))
            : bytes32(0);
    }

    /// Add operator `id`'s G1 key to the voters' G1 sum, or subtract it; false when it has none.
    function _updateVotersKeyG1(uint256 id, bool subtract) private returns (bool) {
        uint256[2] storage k = _keysG1[id];
        uint256 x = k[0];
        uint256 y = k[1];
        if ((x | y) == 0) return false;
        if (subtract) (x, y) = BN254.g1Neg(x, y);
        (x, y) = BN254.g1Add(_votersKeyG1[0], _votersKeyG1[1], x, y);
        _votersKeyG1[0] = x;
        _votersKeyG1[1] = y;
        return true;
    }

    /// Add operator `id`'s key to the voters' sum, or subtract it.
    function _updateVotersKey(uint256 id, bool subtract) private {
        uint256[6] memory acc = G2Arith.fromAffine(_votersKey);
        _addKey(acc, id, subtract);
        _votersKey = G2Arith.toAffine(acc);
    }
}
