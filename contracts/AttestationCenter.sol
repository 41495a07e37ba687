// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAttestationCenter} from "./interfaces/IAttestationCenter.sol";
import {IOBLS} from "./interfaces/IOBLS.sol";
import {IInternalTaskHandler} from "./interfaces/IInternalTaskHandler.sol";
import {RoleControl} from "./common/RoleControl.sol";
import {BN254} from "./lib/BN254.sol";

/// @title AttestationCenter (L2): task definitions, operator membership and task submission
/// @notice The surface, selectors, events and errors of Othentic's AttestationCenter
/// (generation 2, plus the generation 1 forms it still accepts). BLS keys, voting power and
/// the aggregated-signature check live in OBLS; this contract checks the task definition,
/// the performer's signature, replay, and keeps the rewards of performers and aggregators.
/// @dev Storage is packed so that submitTask reads few cold slots: a definition's checks are
/// one slot (fees two more, only when it has fees) and an operator is one slot per address.
contract AttestationCenter is IAttestationCenter, RoleControl {
    bytes32 private constant TASKS_DOMAIN = keccak256("TasksManager");
    uint16 private constant DEFAULT_TASK_DEFINITION = 0;
    uint16 private constant MIN_INTERNAL_TASK_ID = 10001;
    uint16 private constant VOTING_POWER_SYNC = 10001;
    uint16 private constant VOTING_POWER_PER_TASK_DEFINITION_SYNC = 10002;

    uint256 private constant ID_MASK = type(uint64).max;
    uint256 private constant ACTIVE_BIT = 1 << 64;
    uint256 private constant FEE_SHIFT = 128;
    /// Ends the optional trailer after submitTask's arguments (hints for OBLS, see _hints and
    /// docs/protocol.md, "Contracts").
    bytes4 private constant HINTS_TAG = bytes4(keccak256("avsctl.hints"));

    IOBLS private immutable _obls;

    struct Definition {
        // slot 0: everything submitTask checks (blockExpiry != 0 means the definition exists)
        uint64 blockExpiry; // saturated: 2^64 - 1 never expires
        uint32 maximumNumberOfAttesters;
        uint32 restrictedCount;
        uint112 minimumVotingPower;
        bool hasFees;
        // slot 1: read only when hasFees
        uint80 baseRewardFeeForAttesters;
        uint80 baseRewardFeeForPerformer;
        uint80 baseRewardFeeForAggregator;
        // slot 2
        uint64 disputePeriodBlocks;
    }

    // written by every submitTask: one slot
    uint32 private _taskNumber;
    /// Sum of the attester fees paid through OBLS's fee index (see OBLS).
    uint128 private _attesterFeeIndex;
    uint16 private _numOfTaskDefinitions;

    uint64 private _numOfTotalOperators;
    uint64 private _numOfActiveOperators;
    uint64 private _maxDisputePeriodBlocks;

    address private _avsGovernanceMultisig;
    address private _messageHandler;
    address private _internalTaskHandler;

    mapping(uint16 => Definition) private _definitions;
    mapping(uint16 => uint256[]) private _restrictedAttesters;
    mapping(bytes32 => bool) private _signedTasks;
    /// Per operator address: bits 0-63 id, bit 64 active, bits 128-255 accrued performer and
    /// aggregator fees (attester fees accrue in OBLS, next to the voting power they read).
    mapping(address => uint256) private _operatorRecords;
    mapping(uint256 => address) private _operatorAddresses;
    mapping(address => address) private _rewardsReceivers;
    /// Per operator id: bits 0-127 requested amount, bits 128-191 block from which it can be claimed.
    mapping(uint256 => uint256) private _pendingPayments;

    /// @param obls_ the OBLS registry (deployed first; it names this contract as its manager)
    /// @param admin may grant and revoke roles
    /// @param governance the AVS governance multisig: creates definitions and calls the setters
    /// @param messageHandler_ mirrors L1 registrations (registerToNetwork / unRegisterOperatorFromNetwork)
    /// @param internalTaskHandler_ receives approved internal tasks (10001, 10002)
    constructor(
        IOBLS obls_,
        address admin,
        address governance,
        address messageHandler_,
        address internalTaskHandler_
    ) {
        if (address(obls_) == address(0) || governance == address(0)) revert ZeroAddress();
        _obls = obls_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(AVS_GOVERNANCE_MULTISIG, governance);
        _avsGovernanceMultisig = governance;
        if (messageHandler_ != address(0)) {
            _grantRole(MESSAGE_HANDLER, messageHandler_);
            _messageHandler = messageHandler_;
        }
        _internalTaskHandler = internalTaskHandler_;
        _taskNumber = 1;
        // Othentic's default definition 0 (its examples submit with taskDefinitionId 0); ours
        // carries no fees, so tasks on it cost no reward bookkeeping
        _definitions[DEFAULT_TASK_DEFINITION].blockExpiry = type(uint64).max;
        _definitions[VOTING_POWER_SYNC].blockExpiry = type(uint64).max;
        _definitions[VOTING_POWER_PER_TASK_DEFINITION_SYNC].blockExpiry = type(uint64).max;
    }

    /// Funds paid out by claimPayment.
    receive() external payable {}

    // ------------------------------------------------------------------ task definitions

    /// Generation 1 form: no maximum number of attesters.
    function createNewTaskDefinition(string calldata _name, TaskDefinitionParams calldata _params)
        external
        onlyRole(AVS_GOVERNANCE_MULTISIG)
        returns (uint16)
    {
        TaskDefinitionParamsV2 memory p = TaskDefinitionParamsV2({
            blockExpiry: _params.blockExpiry,
            baseRewardFeeForAttesters: _params.baseRewardFeeForAttesters,
            baseRewardFeeForPerformer: _params.baseRewardFeeForPerformer,
            baseRewardFeeForAggregator: _params.baseRewardFeeForAggregator,
            disputePeriodBlocks: _params.disputePeriodBlocks,
            minimumVotingPower: _params.minimumVotingPower,
            restrictedAttesterIds: _params.restrictedOperatorIndexes,
            maximumNumberOfAttesters: 0
        });
        return _createTaskDefinition(_name, p, true);
    }

    /// Generation 2 form.
    function createNewTaskDefinition(string calldata _name, TaskDefinitionParamsV2 calldata _params)
        external
        onlyRole(AVS_GOVERNANCE_MULTISIG)
        returns (uint16)
    {
        return _createTaskDefinition(_name, _params, false);
    }

    function _createTaskDefinition(string calldata name, TaskDefinitionParamsV2 memory p, bool gen1)
        private
        returns (uint16 id)
    {
        if (p.blockExpiry <= block.number) revert InvalidBlockExpiry();
        _checkRestrictedIds(p.restrictedAttesterIds, gen1);
        uint256 restrictedCount = p.restrictedAttesterIds.length;
        if (restrictedCount != 0 && p.maximumNumberOfAttesters > restrictedCount) {
            revert InvalidMaximumNumberOfAttesters();
        }
        _checkRange(p.baseRewardFeeForAttesters, type(uint80).max);
        _checkRange(p.baseRewardFeeForPerformer, type(uint80).max);
        _checkRange(p.baseRewardFeeForAggregator, type(uint80).max);
        _checkRange(p.disputePeriodBlocks, type(uint64).max);
        _checkRange(p.minimumVotingPower, type(uint112).max);
        _checkRange(p.maximumNumberOfAttesters, type(uint32).max);
        _checkRange(restrictedCount, type(uint32).max);

        id = _numOfTaskDefinitions + 1;
        if (id >= MIN_INTERNAL_TASK_ID) revert TooManyTaskDefinitions();
        _numOfTaskDefinitions = id;
        _definitions[id] = Definition({
            hasFees: (p.baseRewardFeeForAttesters | p.baseRewardFeeForPerformer | p.baseRewardFeeForAggregator) != 0,
            blockExpiry: uint64(p.blockExpiry > type(uint64).max ? type(uint64).max : p.blockExpiry),
            maximumNumberOfAttesters: uint32(p.maximumNumberOfAttesters),
            restrictedCount: uint32(restrictedCount),
            minimumVotingPower: uint112(p.minimumVotingPower),
            baseRewardFeeForAttesters: uint80(p.baseRewardFeeForAttesters),
            baseRewardFeeForPerformer: uint80(p.baseRewardFeeForPerformer),
            baseRewardFeeForAggregator: uint80(p.baseRewardFeeForAggregator),
            disputePeriodBlocks: uint64(p.disputePeriodBlocks)
        });
        if (restrictedCount != 0) _restrictedAttesters[id] = p.restrictedAttesterIds;
        if (p.disputePeriodBlocks > _maxDisputePeriodBlocks) _maxDisputePeriodBlocks = uint64(p.disputePeriodBlocks);
        if (restrictedCount != 0 || p.minimumVotingPower != 0) {
            _obls.setTotalVotingPowerPerRestrictedTaskDefinition(id, p.minimumVotingPower, p.restrictedAttesterIds);
        }
        emit TaskDefinitionCreated(
            id,
            name,
            p.blockExpiry,
            p.baseRewardFeeForAttesters,
            p.baseRewardFeeForPerformer,
            p.baseRewardFeeForAggregator,
            p.disputePeriodBlocks,
            p.minimumVotingPower,
            p.restrictedAttesterIds,
            p.maximumNumberOfAttesters
        );
    }

    function setTaskDefinitionMinVotingPower(uint16 _taskDefinitionId, uint256 _minimumVotingPower)
        external
        onlyRole(AVS_GOVERNANCE_MULTISIG)
    {
        Definition storage d = _existingDefinition(_taskDefinitionId);
        _checkRange(_minimumVotingPower, type(uint112).max);
        d.minimumVotingPower = uint112(_minimumVotingPower);
        _obls.setTotalVotingPowerPerRestrictedTaskDefinition(
            _taskDefinitionId, _minimumVotingPower, _restrictedAttesters[_taskDefinitionId]
        );
        emit SetMinimumTaskDefinitionVotingPower(_minimumVotingPower);
    }

    /// Generation 1 name of setTaskDefinitionRestrictedAttesters.
    function setTaskDefinitionRestrictedOperators(uint16 _taskDefinitionId, uint256[] calldata _restrictedOperatorIndexes)
        external
        onlyRole(AVS_GOVERNANCE_MULTISIG)
    {
        _setRestricted(_taskDefinitionId, _restrictedOperatorIndexes, true);
    }

    function setTaskDefinitionRestrictedAttesters(uint16 _taskDefinitionId, uint256[] calldata _restrictedAttesterIds)
        external
        onlyRole(AVS_GOVERNANCE_MULTISIG)
    {
        _setRestricted(_taskDefinitionId, _restrictedAttesterIds, false);
    }

    function _setRestricted(uint16 id, uint256[] calldata ids, bool gen1) private {
        Definition storage d = _existingDefinition(id);
        _checkRestrictedIds(ids, gen1);
        if (ids.length != 0 && d.maximumNumberOfAttesters > ids.length) revert InvalidMaximumNumberOfAttesters();
        _checkRange(ids.length, type(uint32).max);
        d.restrictedCount = uint32(ids.length);
        _restrictedAttesters[id] = ids;
        _obls.setTotalVotingPowerPerRestrictedTaskDefinition(id, d.minimumVotingPower, ids);
        emit SetRestrictedAttester(id, ids);
    }

    function setTaskDefinitionMaximumNumberOfAttesters(uint16 _taskDefinitionId, uint256 _maximumNumberOfAttesters)
        external
        onlyRole(AVS_GOVERNANCE_MULTISIG)
    {
        Definition storage d = _existingDefinition(_taskDefinitionId);
        if (d.restrictedCount != 0 && _maximumNumberOfAttesters > d.restrictedCount) {
            revert InvalidMaximumNumberOfAttesters();
        }
        _checkRange(_maximumNumberOfAttesters, type(uint32).max);
        d.maximumNumberOfAttesters = uint32(_maximumNumberOfAttesters);
        emit SetMaximumNumberOfAttesters(_taskDefinitionId, _maximumNumberOfAttesters);
    }

    function _existingDefinition(uint16 id) private view returns (Definition storage d) {
        d = _definitions[id];
        if (d.blockExpiry == 0) revert TaskDefinitionNotFound(id);
    }

    function _checkRestrictedIds(uint256[] memory ids, bool gen1) private pure {
        for (uint256 i = 1; i < ids.length; ++i) {
            if (ids[i] <= ids[i - 1]) {
                if (gen1) revert InvalidRestrictedOperatorIndexes();
                revert InvalidRestrictedAttesterIds();
            }
        }
    }

    function _checkRange(uint256 value, uint256 max) private pure {
        if (value > max) revert ValueOutOfRange(value);
    }

    // ------------------------------------------------------------------ task submission

    /// Generation 1 form (obsolete): ECDSA performer signature as separate arguments.
    function submitTask(
        TaskInfo calldata _taskInfo,
        bool _isApproved,
        bytes calldata _tpSignature,
        uint256[2] calldata _taSignature,
        uint256[] calldata _attestersIds
    ) external {
        bytes32 taskHash = _newTaskHash(_taskInfo);
        _checkEcdsaPerformer(taskHash, _tpSignature, _taskInfo.taskPerformer);
        _submit(_taskInfo, taskHash, _isApproved, _taSignature, _attestersIds, _noPerformerSignature());
    }

    /// ECDSA performer: a raw secp256k1 signature of the task hash (no EIP-191 prefix).
    function submitTask(TaskInfo calldata _taskInfo, EcdsaTaskSubmissionDetails calldata _details) external {
        bytes32 taskHash = _newTaskHash(_taskInfo);
        _checkEcdsaPerformer(taskHash, _details.tpSignature, _taskInfo.taskPerformer);
        _submit(
            _taskInfo, taskHash, _details.isApproved, _details.taSignature, _details.attestersIds, _noPerformerSignature()
        );
    }

    /// BLS performer: a BLS signature of abi.encode(taskHash) by the performer's registered key,
    /// checked by OBLS in the same pairing as the attesters' signature.
    function submitTask(TaskInfo calldata _taskInfo, BlsTaskSubmissionDetails calldata _details) external {
        bytes32 taskHash = _newTaskHash(_taskInfo);
        uint256 performer = _operatorRecords[_taskInfo.taskPerformer];
        if (performer & ACTIVE_BIT == 0) revert InactiveTaskPerformer();
        _submit(
            _taskInfo,
            taskHash,
            _details.isApproved,
            _details.taSignature,
            _details.attestersIds,
            IOBLS.PerformerSignature({
                operatorId: performer & ID_MASK,
                taskHash: taskHash,
                signature: _details.tpSignature
            })
        );
    }

    function _noPerformerSignature() private pure returns (IOBLS.PerformerSignature memory none) {}

    /// What the submitter may append after the arguments for OBLS (docs/protocol.md,
    /// "Contracts"): the signers' G2 key sum, witnesses for hashing to the curve, a flags byte,
    /// then the tag. Encoders put attestersIds last, so the trailer starts where its elements
    /// end; the tag keeps any other encoding from being read as one. Wrong hints cost the
    /// submitter gas (OBLS then takes the usual way), never change what is accepted.
    function _hints(uint256[] calldata ids) private pure returns (bytes calldata hints) {
        uint256 end;
        assembly ("memory-safe") {
            end := add(ids.offset, mul(ids.length, 32))
        }
        uint256 size = msg.data.length;
        if (size <= end + 4 || bytes4(msg.data[size - 4:size]) != HINTS_TAG) return msg.data[0:0];
        hints = msg.data[end:size - 4];
    }

    function _newTaskHash(TaskInfo calldata t) private view returns (bytes32 taskHash) {
        taskHash = keccak256(abi.encode(t.proofOfTask, t.data, t.taskPerformer, t.taskDefinitionId));
        if (_signedTasks[taskHash]) revert MessageAlreadySigned();
    }

    function _checkEcdsaPerformer(bytes32 taskHash, bytes calldata signature, address performer) private pure {
        if (signature.length != 65) revert InvalidPerformerSignature();
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (v < 27) v += 27;
        address signer = ecrecover(taskHash, v, r, s);
        if (signer == address(0) || signer != performer) revert InvalidPerformerSignature();
    }

    function _submit(
        TaskInfo calldata t,
        bytes32 taskHash,
        bool isApproved,
        uint256[2] calldata taSignature,
        uint256[] calldata attestersIds,
        IOBLS.PerformerSignature memory performer
    ) private {
        uint16 definitionId = t.taskDefinitionId;
        Definition storage d = _definitions[definitionId];
        Definition memory checks = Definition({
            blockExpiry: d.blockExpiry,
            maximumNumberOfAttesters: d.maximumNumberOfAttesters,
            restrictedCount: d.restrictedCount,
            minimumVotingPower: d.minimumVotingPower,
            hasFees: d.hasFees,
            baseRewardFeeForAttesters: 0,
            baseRewardFeeForPerformer: 0,
            baseRewardFeeForAggregator: 0,
            disputePeriodBlocks: 0
        });
        {
            if (checks.blockExpiry == 0) revert TaskDefinitionNotFound(definitionId);
            if (checks.blockExpiry <= block.number) revert InvalidTaskDefinition();
            uint256 n = attestersIds.length;
            if (n == 0 || (checks.restrictedCount != 0 && checks.restrictedCount < n)) revert InvalidAttesterSet();
            if (checks.maximumNumberOfAttesters != 0 && n > checks.maximumNumberOfAttesters) {
                revert InvalidMaximumNumberOfAttesters();
            }
        }
        if (_operatorRecords[t.taskPerformer] & ACTIVE_BIT == 0) revert InactiveTaskPerformer();
        if (_operatorRecords[msg.sender] & ACTIVE_BIT == 0) revert InactiveAggregator();
        if (checks.hasFees) {
            checks.baseRewardFeeForAttesters = d.baseRewardFeeForAttesters;
            checks.baseRewardFeeForPerformer = d.baseRewardFeeForPerformer;
            checks.baseRewardFeeForAggregator = d.baseRewardFeeForAggregator;
        }

        bytes32 voteHash = keccak256(
            abi.encode(t.proofOfTask, t.data, t.taskPerformer, definitionId, address(this), block.chainid, isApproved)
        );
        bool byIndex = _obls.verifyAttestation(
            voteHash,
            taSignature,
            attestersIds,
            IOBLS.AttestationCheck({
                taskDefinitionId: definitionId,
                isApproved: isApproved,
                perDefinitionTotal: checks.restrictedCount != 0 || checks.minimumVotingPower != 0,
                restricted: checks.restrictedCount != 0,
                minimumVotingPower: checks.minimumVotingPower,
                attesterFee: checks.baseRewardFeeForAttesters
            }),
            _hints(attestersIds),
            performer
        );
        _signedTasks[taskHash] = true;
        if (checks.hasFees) {
            if (isApproved) _credit(t.taskPerformer, checks.baseRewardFeeForPerformer);
            _credit(msg.sender, checks.baseRewardFeeForAggregator);
        }
        uint32 number = _taskNumber;
        _taskNumber = number + 1;
        if (byIndex) _attesterFeeIndex += checks.baseRewardFeeForAttesters;
        if (isApproved) {
            emit TaskSubmitted(t.taskPerformer, number, t.proofOfTask, t.data, definitionId, attestersIds);
            if (definitionId >= MIN_INTERNAL_TASK_ID) IInternalTaskHandler(_internalTaskHandler).processTask(t);
        } else {
            emit TaskRejected(t.taskPerformer, number, t.proofOfTask, t.data, definitionId, attestersIds);
        }
    }

    function _credit(address operator, uint256 fee) private {
        if (fee == 0) return;
        uint256 rec = _operatorRecords[operator];
        uint256 accrued = (rec >> FEE_SHIFT) + fee;
        if (accrued > type(uint128).max) revert ValueOutOfRange(accrued);
        _operatorRecords[operator] = (rec & type(uint128).max) | (accrued << FEE_SHIFT);
    }

    // ------------------------------------------------------------------ operators (from L1)

    /// Mirror an L1 registration. An operator keeps its id across re-registrations.
    function registerToNetwork(
        address _operator,
        uint256 _votingPower,
        uint256[4] calldata _blsKey,
        address _rewardsReceiver
    ) external onlyRole(MESSAGE_HANDLER) {
        if (_operator == address(0)) revert ZeroAddress();
        uint256 rec = _operatorRecords[_operator];
        if (rec & ACTIVE_BIT != 0) revert OperatorAlreadyRegistered(_operator);
        uint256 id = rec & ID_MASK;
        if (id == 0) {
            id = ++_numOfTotalOperators;
            _operatorAddresses[id] = _operator;
        }
        _operatorRecords[_operator] = (rec & ~ID_MASK) | id | ACTIVE_BIT;
        ++_numOfActiveOperators;
        _rewardsReceivers[_operator] = _rewardsReceiver;
        _obls.registerOperator(id, _votingPower, _blsKey);
        emit OperatorRegisteredToNetwork(_operator, _votingPower);
    }

    /// Mirror an L1 unregistration.
    function unRegisterOperatorFromNetwork(address _operator) external onlyRole(MESSAGE_HANDLER) {
        uint256 rec = _operatorRecords[_operator];
        if (rec & ACTIVE_BIT == 0) revert OperatorNotRegistered(_operator);
        _operatorRecords[_operator] = rec & ~ACTIVE_BIT;
        --_numOfActiveOperators;
        uint256 id = rec & ID_MASK;
        _obls.unRegisterOperator(id);
        emit OperatorUnregisteredFromNetwork(id);
    }

    /// Replace the caller's BLS key, proven by a signature under the OthenticBLSAuth domain
    /// over (caller, this contract, chain id).
    function updateBlsKey(uint256[4] calldata _blsKey, BLSAuthSignature calldata _authSignature) external {
        uint256 rec = _operatorRecords[msg.sender];
        if (rec & ACTIVE_BIT == 0) revert OperatorNotRegistered(msg.sender);
        _obls.verifyAuthSignature(_authSignature.signature, msg.sender, address(this), _blsKey);
        _obls.modifyOperatorBlsKey(rec & ID_MASK, _blsKey);
        emit OperatorBlsKeyUpdated(msg.sender, _blsKey);
    }

    /// avsctl's: set an operator's BLS key in G1 (sk·g1) next to its G2 key, which lets OBLS
    /// check an attestation with missing signers in G1. Anyone may send it: OBLS accepts only the
    /// one G1 key with the same secret as the registered G2 key (InvalidBlsKeyG1 otherwise).
    /// A new G2 key (updateBlsKey, or registering again with another key) drops it.
    function registerBlsKeyG1(address _operator, uint256[2] calldata _blsKeyG1) external {
        uint256 rec = _operatorRecords[_operator];
        if (rec & ACTIVE_BIT == 0) revert OperatorNotRegistered(_operator);
        uint256 id = rec & ID_MASK;
        // e(keyG1, g2) == e(g1, keyG2): the same secret as the registered G2 key (checked here,
        // where there is room for the code; OBLS takes the key only from this contract)
        uint256[4] memory key = _obls.getOperatorBlsKey(id);
        if (
            (key[0] | key[1] | key[2] | key[3]) == 0 || (_blsKeyG1[0] | _blsKeyG1[1]) == 0
                || !BN254.verify(_blsKeyG1, [uint256(1), 2], key)
        ) {
            revert IOBLS.InvalidBlsKeyG1(id);
        }
        _obls.setOperatorBlsKeyG1(id, _blsKeyG1);
        emit OperatorBlsKeyG1Registered(_operator, _blsKeyG1);
    }

    // ------------------------------------------------------------------ rewards

    /// Move an operator's accrued fees (all roles) into a payment that can be claimed once the
    /// longest dispute period of any task definition has passed. Only the operator or its
    /// rewards receiver may ask, since a new request pushes the claimable block back.
    function requestPayment(uint256 _operatorId) external {
        address operator = _operatorAddresses[_operatorId];
        if (operator == address(0)) revert InvalidOperatorId();
        if (msg.sender != operator && msg.sender != _rewardsReceivers[operator]) {
            revert UnauthorizedPaymentRequest(msg.sender);
        }
        uint256 rec = _operatorRecords[operator];
        uint256 amount = (rec >> FEE_SHIFT) + _obls.takeFees(_operatorId, _attesterFeeIndex);
        if (amount == 0) revert InvalidPaymentClaim();
        _operatorRecords[operator] = rec & type(uint128).max;
        uint256 pending = uint128(_pendingPayments[_operatorId]) + amount;
        if (pending > type(uint128).max) revert ValueOutOfRange(pending);
        uint256 unlockBlock = block.number + _maxDisputePeriodBlocks;
        _pendingPayments[_operatorId] = pending | (unlockBlock << 128);
        emit PaymentRequested(operator, _taskNumber - 1, pending);
    }

    /// Pay a requested payment, in native currency from this contract's balance, to the
    /// operator's rewards receiver (or the operator when none was given).
    function claimPayment(uint256 _operatorId) external {
        uint256 pending = _pendingPayments[_operatorId];
        uint256 amount = uint128(pending);
        if (amount == 0) revert InvalidPaymentClaim();
        uint256 unlockBlock = pending >> 128;
        if (block.number < unlockBlock) revert PaymentLocked(unlockBlock);
        delete _pendingPayments[_operatorId];
        address operator = _operatorAddresses[_operatorId];
        address receiver = _rewardsReceivers[operator];
        if (receiver == address(0)) receiver = operator;
        (bool ok,) = receiver.call{value: amount}("");
        if (!ok) revert PaymentFailed();
        emit PaymentWithdrawn(operator, receiver, amount);
    }

    /// The payment requested and not yet claimed, and the block from which it can be claimed.
    function pendingPayment(uint256 _operatorId) external view returns (uint256 amount, uint256 unlockBlock) {
        uint256 pending = _pendingPayments[_operatorId];
        return (uint128(pending), pending >> 128);
    }

    // ------------------------------------------------------------------ governance

    function transferAvsGovernanceMultisig(address _newAvsGovernanceMultisig)
        external
        onlyRole(AVS_GOVERNANCE_MULTISIG)
    {
        if (_newAvsGovernanceMultisig == address(0)) revert ZeroAddress();
        _revokeRole(AVS_GOVERNANCE_MULTISIG, _avsGovernanceMultisig);
        _revokeRole(AVS_GOVERNANCE_MULTISIG, msg.sender);
        _grantRole(AVS_GOVERNANCE_MULTISIG, _newAvsGovernanceMultisig);
        _avsGovernanceMultisig = _newAvsGovernanceMultisig;
        emit SetAvsGovernanceMultisig(_newAvsGovernanceMultisig);
    }

    function transferMessageHandler(address _newMessageHandler) external onlyRole(AVS_GOVERNANCE_MULTISIG) {
        if (_newMessageHandler == address(0)) revert ZeroAddress();
        if (_messageHandler != address(0)) _revokeRole(MESSAGE_HANDLER, _messageHandler);
        _grantRole(MESSAGE_HANDLER, _newMessageHandler);
        _messageHandler = _newMessageHandler;
        emit SetMessageHandler(_newMessageHandler);
    }

    function setInternalTaskHandler(address _newInternalTaskHandler) external onlyRole(AVS_GOVERNANCE_MULTISIG) {
        _internalTaskHandler = _newInternalTaskHandler;
        emit SetInternalTaskHandler(_newInternalTaskHandler);
    }

    // ------------------------------------------------------------------ views

    function obls() external view returns (IOBLS) {
        return _obls;
    }

    function internalTaskHandler() external view returns (address) {
        return _internalTaskHandler;
    }

    function avsGovernanceMultisig() external view returns (address) {
        return _avsGovernanceMultisig;
    }

    function messageHandler() external view returns (address) {
        return _messageHandler;
    }

    /// Sum of the attester fees paid through OBLS's fee index.
    function attesterFeeIndex() external view returns (uint256) {
        return _attesterFeeIndex;
    }

    function taskNumber() external view returns (uint32) {
        return _taskNumber;
    }

    function numOfTaskDefinitions() external view returns (uint16) {
        return _numOfTaskDefinitions;
    }

    function numOfActiveOperators() external view returns (uint256) {
        return _numOfActiveOperators;
    }

    /// Including unregistered operators.
    function numOfTotalOperators() external view returns (uint256) {
        return _numOfTotalOperators;
    }

    /// The operator's id (kept after unregistration), 0 if it never registered.
    function operatorsIdsByAddress(address _operator) external view returns (uint256) {
        return _operatorRecords[_operator] & ID_MASK;
    }

    /// The operator's voting power on this chain, 0 unless it is active.
    function votingPower(address _operator) external view returns (uint256) {
        uint256 rec = _operatorRecords[_operator];
        if (rec & ACTIVE_BIT == 0) return 0;
        return _obls.votingPower(rec & ID_MASK);
    }

    function isSignedTask(bytes32 _taskHash) external view returns (bool) {
        return _signedTasks[_taskHash];
    }

    function getTaskDefinitionMinimumVotingPower(uint16 _taskDefinitionId) external view returns (uint256) {
        return _definitions[_taskDefinitionId].minimumVotingPower;
    }

    function getTaskDefinitionRestrictedAttesters(uint16 _taskDefinitionId) external view returns (uint256[] memory) {
        return _restrictedAttesters[_taskDefinitionId];
    }

    /// Generation 1 name of getTaskDefinitionRestrictedAttesters.
    function getTaskDefinitionRestrictedOperators(uint16 _taskDefinitionId) external view returns (uint256[] memory) {
        return _restrictedAttesters[_taskDefinitionId];
    }

    function getTaskDefinitionMaximumNumberOfAttesters(uint16 _taskDefinitionId) external view returns (uint256) {
        return _definitions[_taskDefinitionId].maximumNumberOfAttesters;
    }

    /// Reverts unless `_operator` is active and may attest for the definition (Othentic's check).
    function verifyOperatorValidForTaskDefinition(address _operator, uint16 _taskDefinitionId) external view {
        uint256 rec = _operatorRecords[_operator];
        if (rec & ACTIVE_BIT == 0) revert OperatorNotRegistered(_operator);
        Definition storage d = _existingDefinition(_taskDefinitionId);
        if (d.blockExpiry <= block.number) revert InvalidTaskDefinition();
        uint256 id = rec & ID_MASK;
        if (d.restrictedCount != 0) {
            uint256[] storage ids = _restrictedAttesters[_taskDefinitionId];
            bool found;
            for (uint256 i; i < ids.length && !found; ++i) {
                found = ids[i] == id;
            }
            if (!found) revert InvalidRestrictedAttester(_taskDefinitionId, id);
        }
        if (_obls.votingPower(id) < d.minimumVotingPower) {
            revert InsufficientVotingPowerForTaskDefinition(_taskDefinitionId, d.minimumVotingPower);
        }
    }

    /// Every active operator with its id, voting power and unpaid fees (accrued and requested).
    function getActiveOperatorsDetails() external view returns (OperatorDetails[] memory details) {
        details = new OperatorDetails[](_numOfActiveOperators);
        uint256 k;
        uint256 total = _numOfTotalOperators;
        for (uint256 id = 1; id <= total; ++id) {
            address operator = _operatorAddresses[id];
            uint256 rec = _operatorRecords[operator];
            if (rec & ACTIVE_BIT == 0) continue;
            details[k++] = OperatorDetails({
                operator: operator,
                operatorId: id,
                votingPower: _obls.votingPower(id),
                feeToClaim: (rec >> FEE_SHIFT) + _obls.feeToClaim(id) + uint128(_pendingPayments[id])
            });
        }
    }

    /// The rewards receiver the operator registered with (address(0) for none).
    function rewardsReceiver(address _operator) external view returns (address) {
        return _rewardsReceivers[_operator];
    }
}
