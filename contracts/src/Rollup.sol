// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.28;

import {IERC20} from "./IERC20.sol";
import {IVerifier} from "./IVerifier.sol";

/// @title Rollup
/// @notice The L1 side of the zkclob based rollup, in one contract:
///         - an inbox where anyone proposes a batch by posting its blobs (based sequencing: batch
///           order = L1 inclusion order);
///         - a forced-inclusion queue of L2 commands posted on L1 that a proposal must include
///           once they are `inclusionDelayBlocks` old (derivation puts them in front of the
///           proposal's own commands);
///         - ETH and ERC-20 deposits, queued with a keccak hash chain for derivation to credit on L2;
///         - settlement of proposals in order, each with a proof through an `IVerifier` (SP1's
///           gateway shape) and the EIP-4844 proof of equivalence binding the proven batch to the
///           proposal's blobs;
///         - withdrawals, claimed with a keccak Merkle proof against a settled batch's
///           `withdrawalsRoot`, each once;
///         - an escape hatch: when nothing has settled for `escapeDelayBlocks`, anyone may freeze
///           the rollup; then every account withdraws its whole balance (available + locked) with a
///           Merkle proof of its leaf against the last settled state root, and deposits no
///           settled batch consumed are refunded.
///         One contract rather than several: settlement reads the proposals and both queues in
///         the same call and must see them consistently, the custody of deposited funds must sit
///         where the settled roots are (withdrawals and the escape hatch will read them), and a
///         split would add cross-contract calls and access control between the pieces.
/// @dev The byte layout of `publicValues` (what the zkVM guest commits) is `abi.encode` of
///      `PublicValues`; contracts/README.md writes it out. Proposal `i` is L2 batch `i + 1`
///      (batch 0 is the genesis state).
contract Rollup {
    // ------------------------------------------------------------------------------------------
    // Limits and constants
    // ------------------------------------------------------------------------------------------

    /// @notice Blobs per proposal: the per-transaction limit of EIP-7594 (Osaka). A larger batch
    ///         is split by the sequencer.
    uint256 public constant MAX_BLOBS_PER_PROPOSAL = 6;
    /// @notice Largest forced command, in bytes (= the batch format's `MAX_COMMAND_BYTES`).
    uint256 public constant MAX_FORCED_COMMAND_BYTES = 1024;
    /// @notice Forced commands queued and not yet consumed by a settlement; bounds what one batch
    ///         can be obliged to include.
    uint256 public constant MAX_PENDING_FORCED_COMMANDS = 1024;
    /// @notice Deposits queued and not yet consumed by a settlement; bounds what one batch can be
    ///         obliged to include.
    uint256 public constant MAX_PENDING_DEPOSITS = 4096;
    /// @notice Bytes of one KZG commitment or proof (a compressed BLS12-381 G1 point).
    uint256 public constant KZG_POINT_BYTES = 48;
    /// @dev The EIP-4844 point-evaluation precompile.
    address internal constant POINT_EVALUATION = address(0x0a);
    /// @dev What the precompile returns on success: FIELD_ELEMENTS_PER_BLOB and BLS_MODULUS.
    uint256 internal constant FIELD_ELEMENTS_PER_BLOB = 4096;
    uint256 internal constant BLS_MODULUS = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001;
    /// @notice Depth of the L2 state tree (`zkclob_state::commitment::TREE_DEPTH`).
    uint256 public constant STATE_TREE_DEPTH = 32;
    /// @notice Bits of an id in a state-tree leaf index; account `id`'s leaf is `1 << 28 | id`.
    uint256 public constant ID_BITS = 28;
    /// @notice Most balances an account leaf may list for the escape hatch (bounds its gas).
    uint256 public constant MAX_ESCAPE_BALANCES = 64;

    // ------------------------------------------------------------------------------------------
    // Types
    // ------------------------------------------------------------------------------------------

    /// @notice An asset accepted for deposit, given at deployment.
    struct AssetConfig {
        /// The ERC-20, or address(0) for ETH.
        address token;
        /// The L2 asset id (`zkclob_core::AssetId`).
        uint32 assetId;
        /// L1 base units (wei, token units) per L2 atom; deposits must be whole atoms.
        uint256 unitsPerAtom;
    }

    /// @notice An accepted asset; `unitsPerAtom == 0` means not accepted.
    struct Asset {
        uint32 assetId;
        uint256 unitsPerAtom;
    }

    /// @notice A proposed batch.
    struct Proposal {
        /// keccak256(abi.encodePacked(versionedHashes)) of the proposing transaction's blobs.
        bytes32 blobsHash;
        /// L1 block of the proposal.
        uint64 l1Block;
        /// Number of blobs.
        uint8 blobCount;
        /// Who proposed.
        address proposer;
        /// Deposits queued when it was proposed (an upper bound on what its batch may consume).
        uint64 depositCount;
        /// Forced commands queued when it was proposed (idem).
        uint64 forcedCount;
    }

    /// @notice A settled batch; withdrawals and the escape hatch prove against these.
    struct SettledBatch {
        bytes32 postRoot;
        bytes32 withdrawalsRoot;
        uint64 l1Block;
        /// Withdrawals queued on L2 up to and including this batch; the batch's own are numbered
        /// from the previous batch's `withdrawalEnd` (0 for the first) up to this, exclusive.
        uint64 withdrawalEnd;
    }

    /// @notice The proof of equivalence of one blob: the guest evaluated the blob's polynomial
    ///         at the Fiat–Shamir point `z` and got `y`.
    struct BlobOpening {
        bytes32 versionedHash;
        bytes32 z;
        bytes32 y;
    }

    /// @notice What the zkVM program commits for one batch (`publicValues = abi.encode(pv)`).
    struct PublicValues {
        /// State root before the batch.
        bytes32 preRoot;
        /// State root after it.
        bytes32 postRoot;
        /// L2 batch number (= proposal index + 1).
        uint64 batchNumber;
        /// keccak-256 of the batch (header and commands).
        bytes32 batchHash;
        /// keccak-256 of the receipts.
        bytes32 receiptsDigest;
        /// Deposits consumed in total before this batch (where its deposits start).
        uint64 depositFrom;
        /// Deposits consumed in total after this batch (a position in the deposit chain).
        uint64 depositCount;
        /// The deposit chain at that position.
        bytes32 depositChain;
        /// Forced commands consumed in total before this batch.
        uint64 forcedFrom;
        /// Forced commands consumed in total after this batch.
        uint64 forcedCount;
        /// The forced-command chain at that position.
        bytes32 forcedChain;
        /// Withdrawals queued on L2 in total after this batch.
        uint64 withdrawalCount;
        /// Root of the keccak tree of this batch's withdrawals (`claimWithdrawal`), zero if none.
        bytes32 withdrawalsRoot;
        /// One opening per blob of the proposal, in blob order.
        BlobOpening[] blobs;
    }

    /// @notice The KZG data for one blob's point evaluation, supplied by whoever settles.
    struct KzgOpeningProof {
        /// The blob's KZG commitment (48 bytes).
        bytes commitment;
        /// The KZG proof that the committed polynomial is `y` at `z` (48 bytes).
        bytes proof;
    }

    // ------------------------------------------------------------------------------------------
    // State
    // ------------------------------------------------------------------------------------------

    /// @notice Verifies settlement proofs.
    IVerifier public immutable verifier;
    /// @notice The zkVM program whose proofs settle batches.
    bytes32 public immutable programVKey;
    /// @notice Once `escapeDelayBlocks` blocks pass without a settlement, anyone may `freeze`.
    uint64 public immutable escapeDelayBlocks;
    /// @notice A deposit or forced command queued this many blocks ago must be in the next
    ///         proposal (a proposal that leaves it out reverts `QueueEntryDue`).
    uint64 public immutable inclusionDelayBlocks;

    /// @notice Accepted assets by token (address(0) = ETH).
    mapping(address => Asset) public assets;
    /// @notice The token of each accepted L2 asset id (address(0) = ETH; check `assets`).
    mapping(uint32 => address) public tokenOfAsset;
    /// @notice The last settled state root (the genesis root before any settlement).
    bytes32 public stateRoot;
    /// @notice Proposals, in L1 order.
    Proposal[] public proposals;
    /// @notice Settled batches; index = proposal index.
    SettledBatch[] public batches;
    /// @notice The deposit chain after each deposit, in L1 order (the deposit itself is in the
    ///         `Deposited` event; its block in the proposal that consumed it).
    bytes32[] public deposits;
    /// @notice The forced-command chain after each forced command, in L1 order.
    bytes32[] public forcedCommands;
    /// @dev The L1 block each deposit was queued in (the inclusion rule reads it).
    uint64[] internal depositBlocks;
    /// @dev The L1 block each forced command was queued in.
    uint64[] internal forcedBlocks;
    /// @notice Deposits consumed by settled batches.
    uint64 public depositsConsumed;
    /// @notice Forced commands consumed by settled batches.
    uint64 public forcedConsumed;
    /// @notice L1 block of the last settlement (of deployment before the first).
    uint64 public lastSettlementBlock;
    /// @notice Withdrawals queued on L2 by settled batches.
    uint64 public withdrawalsSettled;
    /// @notice Set by `freeze`, forever: no more proposals, deposits, forced commands or
    ///         settlements; the escape hatch is open.
    bool public frozen;
    /// @dev Claimed withdrawals, a bit per withdrawal number.
    mapping(uint256 => uint256) internal claimedBitmap;
    /// @notice Accounts that took their balances through the escape hatch, by L2 account id.
    mapping(uint32 => bool) public escaped;
    /// @notice Unconsumed deposits refunded after the freeze, by deposit index.
    mapping(uint256 => bool) public depositRefunded;

    // ------------------------------------------------------------------------------------------
    // Events
    // ------------------------------------------------------------------------------------------

    /// @notice A batch was proposed with the blobs `versionedHashes`.
    event Proposed(
        uint256 indexed index,
        address indexed proposer,
        bytes32[] versionedHashes,
        uint64 l1Block,
        uint64 depositCount,
        uint64 forcedCount
    );
    /// @notice A deposit was queued; `chain` is the deposit chain after it.
    event Deposited(
        uint256 indexed index, bytes20 indexed l2Address, uint32 assetId, uint128 atoms, bytes32 chain, address depositor
    );
    /// @notice A forced command was queued; `chain` is the forced-command chain after it.
    event CommandForced(uint256 indexed index, address indexed sender, bytes command, bytes32 chain, uint64 l1Block);
    /// @notice Proposal `index` settled.
    event Settled(
        uint256 indexed index,
        uint64 batchNumber,
        bytes32 postRoot,
        bytes32 withdrawalsRoot,
        bytes32 batchHash,
        bytes32 receiptsDigest
    );
    /// @notice Withdrawal number `index` was paid to `to`.
    event WithdrawalClaimed(uint256 indexed index, bytes20 indexed to, uint32 assetId, uint128 atoms);
    /// @notice The rollup froze at `l1Block`; only claims and the escape hatch remain.
    event Frozen(uint64 l1Block, bytes32 stateRoot);
    /// @notice Account `accountId` took `atoms` of `assetId` through the escape hatch.
    event Escaped(uint32 indexed accountId, bytes20 indexed to, uint32 assetId, uint256 atoms);
    /// @notice Unconsumed deposit `index` was refunded to its L2 address on L1.
    event DepositRefunded(uint256 indexed index, bytes20 indexed to, uint32 assetId, uint128 atoms);

    // ------------------------------------------------------------------------------------------
    // Errors
    // ------------------------------------------------------------------------------------------

    /// @notice An asset's token or L2 id is listed twice, or it has no units per atom.
    error BadAssetConfig(uint256 position);
    /// @notice The proposing transaction carries no blobs.
    error NoBlobs();
    /// @notice A proposal's queue count (`queue` 0 = deposits, 1 = forced commands) is below the
    ///         previous proposal's or beyond what is queued.
    error QueueCountOutOfRange(uint8 queue, uint64 given, uint64 low, uint64 high);
    /// @notice A proposal leaves out queue entry `index`, queued `inclusionDelayBlocks` or more
    ///         blocks ago.
    error QueueEntryDue(uint8 queue, uint64 index);
    /// @notice The proposing transaction carries more than `MAX_BLOBS_PER_PROPOSAL` blobs.
    error TooManyBlobs();
    /// @notice The token (address(0) = ETH) is not accepted.
    error UnknownAsset(address token);
    /// @notice The amount is zero, not whole atoms, or more atoms than fit in a uint128.
    error BadAmount(uint256 amount);
    /// @notice Deposits to the zero L2 address are refused (nobody could spend them).
    error ZeroL2Address();
    /// @notice The token transfer failed or moved another amount than asked.
    error TransferFailed();
    /// @notice The queue holds its limit of unconsumed entries.
    error QueueFull();
    /// @notice A forced command is empty or longer than `MAX_FORCED_COMMAND_BYTES`.
    error BadCommandLength(uint256 length);
    /// @notice Settlements go in proposal order.
    error NotNextProposal(uint256 given, uint256 next);
    /// @notice No such proposal.
    error UnknownProposal(uint256 index);
    /// @notice The public values' batch number is not the proposal's.
    error WrongBatchNumber(uint64 given, uint256 expected);
    /// @notice The public values' pre-root is not the last settled root.
    error WrongPreRoot(bytes32 given, bytes32 expected);
    /// @notice The public values name another number of blobs than the proposal has, or the
    ///         KZG proofs do not match them in number.
    error BlobCountMismatch(uint256 given, uint256 expected);
    /// @notice The public values' versioned hashes are not the proposal's.
    error VersionedHashMismatch();
    /// @notice A KZG commitment or proof is not 48 bytes.
    error MalformedKzgProof(uint256 blob);
    /// @notice The point-evaluation precompile refused blob `blob`'s opening.
    error PointEvaluationFailed(uint256 blob);
    /// @notice The batch's queue entries do not start where the last settled batch stopped.
    error QueueStartMismatch(uint64 given, uint64 expected);
    /// @notice The batch did not consume exactly the entries queued when it was proposed.
    error QueueNotConsumed(uint64 given, uint64 expected);
    /// @notice The chain hash at the consumed position is not the contract's.
    error QueueChainMismatch(bytes32 given, bytes32 expected);
    /// @notice The public values' withdrawal count is below what earlier batches queued.
    error WithdrawalCountBackwards(uint64 given, uint64 settled);
    /// @notice No settled batch has that index.
    error UnknownBatch(uint256 index);
    /// @notice The withdrawal's number is not one of the batch's.
    error WithdrawalNotInBatch(uint64 index);
    /// @notice The Merkle proof does not lead to the batch's `withdrawalsRoot`.
    error BadWithdrawalProof();
    /// @notice That withdrawal was already paid.
    error AlreadyClaimed(uint64 index);
    /// @notice Sending ETH or tokens to the recipient failed.
    error PayoutFailed(bytes20 to);
    /// @notice The rollup is frozen.
    error RollupFrozen();
    /// @notice The escape hatch needs the rollup frozen first.
    error NotFrozen();
    /// @notice Nothing settled for fewer than `escapeDelayBlocks`: freezing is allowed from `block`.
    error EscapeNotDue(uint256 fromBlock);
    /// @notice The account already escaped.
    error AlreadyEscaped(uint32 accountId);
    /// @notice The account id does not fit a state-tree leaf index.
    error BadAccountId(uint32 accountId);
    /// @notice The account leaf is not a canonical borsh `AccountLeaf` or lists too many balances.
    error MalformedAccountLeaf();
    /// @notice The account leaf and path do not lead to the last settled state root.
    error BadAccountProof();
    /// @notice A settled batch consumed that deposit (its funds are on L2, in the state root).
    error DepositConsumed(uint256 index);
    /// @notice The deposit's fields do not hash to the queue's chain.
    error DepositMismatch(uint256 index);
    /// @notice That deposit was already refunded.
    error AlreadyRefunded(uint256 index);

    // ------------------------------------------------------------------------------------------
    // Construction
    // ------------------------------------------------------------------------------------------

    /// @param verifier_ Proof verifier (a `CommitteeVerifier` here, SP1's gateway in production).
    /// @param programVKey_ The zkVM program's verification key.
    /// @param genesisRoot The L2 state root before batch 1.
    /// @param escapeDelayBlocks_ Blocks without a settlement after which anyone may freeze.
    /// @param inclusionDelayBlocks_ Age in blocks at which a queued deposit or forced command
    ///        must be in the next proposal.
    /// @param assetConfigs Accepted assets; ETH, if accepted, has token address(0).
    constructor(
        IVerifier verifier_,
        bytes32 programVKey_,
        bytes32 genesisRoot,
        uint64 escapeDelayBlocks_,
        uint64 inclusionDelayBlocks_,
        AssetConfig[] memory assetConfigs
    ) {
        verifier = verifier_;
        programVKey = programVKey_;
        escapeDelayBlocks = escapeDelayBlocks_;
        inclusionDelayBlocks = inclusionDelayBlocks_;
        stateRoot = genesisRoot;
        lastSettlementBlock = uint64(block.number);
        for (uint256 i = 0; i < assetConfigs.length; i++) {
            AssetConfig memory config = assetConfigs[i];
            if (config.unitsPerAtom == 0 || assets[config.token].unitsPerAtom != 0) revert BadAssetConfig(i);
            for (uint256 j = 0; j < i; j++) {
                if (assetConfigs[j].assetId == config.assetId) revert BadAssetConfig(i);
            }
            assets[config.token] = Asset(config.assetId, config.unitsPerAtom);
            tokenOfAsset[config.assetId] = config.token;
        }
    }

    /// @dev Everything that moves the rollup forward stops at the freeze.
    modifier notFrozen() {
        if (frozen) revert RollupFrozen();
        _;
    }

    // ------------------------------------------------------------------------------------------
    // Inbox
    // ------------------------------------------------------------------------------------------

    /// @notice Proposes the batch carried by this transaction's blobs (a type-3 transaction).
    ///         Anyone may propose; order is L1 inclusion order. A batch that does not decode is
    ///         derived as an empty batch, so a bad proposal cannot halt the rollup.
    ///         The batch consumes the deposits and forced commands from where the previous
    ///         proposal stopped up to the counts named here (recorded in the proposal, so
    ///         derivation and settlement read them from L1): what the sequencer applied in front
    ///         of its commands when it opened the batch. Entries queued after that wait for the
    ///         next proposal, but none may wait longer than `inclusionDelayBlocks`: a proposal
    ///         that leaves out an entry that old reverts `QueueEntryDue`.
    /// @param depositsUpTo Deposits consumed by the end of this batch, counted from the first.
    /// @param forcedUpTo Forced commands consumed by the end of this batch, counted from the first.
    /// @return index The proposal's index (its L2 batch number minus one).
    function propose(uint64 depositsUpTo, uint64 forcedUpTo) external notFrozen returns (uint256 index) {
        bytes32[] memory hashes = new bytes32[](MAX_BLOBS_PER_PROPOSAL);
        uint256 count = 0;
        while (count < MAX_BLOBS_PER_PROPOSAL) {
            bytes32 hash = blobhash(count);
            if (hash == bytes32(0)) break;
            hashes[count] = hash;
            count++;
        }
        if (count == 0) revert NoBlobs();
        if (blobhash(MAX_BLOBS_PER_PROPOSAL) != bytes32(0)) revert TooManyBlobs();
        assembly ("memory-safe") {
            mstore(hashes, count) // shrink to the blobs present
        }
        index = proposals.length;
        (uint64 lastDeposits, uint64 lastForced) =
            index == 0 ? (0, 0) : (proposals[index - 1].depositCount, proposals[index - 1].forcedCount);
        _checkUpTo(0, depositsUpTo, lastDeposits, depositBlocks);
        _checkUpTo(1, forcedUpTo, lastForced, forcedBlocks);
        proposals.push(
            Proposal({
                blobsHash: keccak256(abi.encodePacked(hashes)),
                l1Block: uint64(block.number),
                blobCount: uint8(count),
                proposer: msg.sender,
                depositCount: depositsUpTo,
                forcedCount: forcedUpTo
            })
        );
        emit Proposed(index, msg.sender, hashes, uint64(block.number), depositsUpTo, forcedUpTo);
    }

    /// @dev A proposal's count for one queue: not backwards, not beyond the queue, and leaving
    ///      out no entry that is due (entries are queued in block order, so the first one left
    ///      out is the oldest).
    function _checkUpTo(uint8 queue, uint64 upTo, uint64 last, uint64[] storage queuedIn) internal view {
        uint256 queued = queuedIn.length;
        if (upTo < last || upTo > queued) revert QueueCountOutOfRange(queue, upTo, last, uint64(queued));
        if (upTo < queued && queuedIn[upTo] + inclusionDelayBlocks <= block.number) {
            revert QueueEntryDue(queue, upTo);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Forced inclusion
    // ------------------------------------------------------------------------------------------

    /// @notice Queues an L2 command (its canonical borsh bytes, normally a signed command) that
    ///         proposals must include once it is `inclusionDelayBlocks` old
    ///         (the sequencer normally takes it into the batch it opens next).
    ///         No fee beyond L1 gas; the pending-queue limit bounds what a batch must carry.
    ///         Derivation, not this contract, decides what a command does: one that does not
    ///         decode, or is not a signed command, is consumed and has no effect.
    /// @return index The command's position in the queue.
    function forceCommand(bytes calldata command) external notFrozen returns (uint256 index) {
        if (command.length == 0 || command.length > MAX_FORCED_COMMAND_BYTES) {
            revert BadCommandLength(command.length);
        }
        index = forcedCommands.length;
        if (index - forcedConsumed >= MAX_PENDING_FORCED_COMMANDS) revert QueueFull();
        bytes32 chain = forcedChainLink(forcedChainAt(index), command);
        forcedCommands.push(chain);
        forcedBlocks.push(uint64(block.number));
        emit CommandForced(index, msg.sender, command, chain, uint64(block.number));
    }

    // ------------------------------------------------------------------------------------------
    // Deposits
    // ------------------------------------------------------------------------------------------

    /// @notice Deposits `msg.value` wei for `l2Address`; the amount must be whole L2 atoms.
    /// @return index The deposit's position in the queue.
    function depositEth(bytes20 l2Address) external payable notFrozen returns (uint256 index) {
        return _queueDeposit(assets[address(0)], address(0), msg.value, l2Address);
    }

    /// @notice Deposits `amount` base units of `token` (approved to this contract beforehand)
    ///         for `l2Address`. Tokens that move another amount than asked (fee on transfer) are
    ///         refused.
    /// @return index The deposit's position in the queue.
    function depositToken(address token, uint256 amount, bytes20 l2Address) external notFrozen returns (uint256 index) {
        if (token == address(0)) revert UnknownAsset(token);
        Asset memory asset = assets[token];
        if (asset.unitsPerAtom == 0) revert UnknownAsset(token);
        // The balance check also defeats re-entrance: a deposit nested in this transfer changes
        // the balance too, so this one would see a mismatch and revert.
        uint256 before = IERC20(token).balanceOf(address(this));
        _transferIn(token, amount);
        if (IERC20(token).balanceOf(address(this)) - before != amount) revert TransferFailed();
        return _queueDeposit(asset, token, amount, l2Address);
    }

    function _queueDeposit(Asset memory asset, address token, uint256 amount, bytes20 l2Address)
        internal
        returns (uint256 index)
    {
        if (asset.unitsPerAtom == 0) revert UnknownAsset(token);
        if (l2Address == bytes20(0)) revert ZeroL2Address();
        if (amount == 0 || amount % asset.unitsPerAtom != 0) revert BadAmount(amount);
        uint256 atoms = amount / asset.unitsPerAtom;
        if (atoms > type(uint128).max) revert BadAmount(amount);
        index = deposits.length;
        if (index - depositsConsumed >= MAX_PENDING_DEPOSITS) revert QueueFull();
        bytes32 chain = depositChainLink(depositChainAt(index), asset.assetId, uint128(atoms), l2Address);
        deposits.push(chain);
        depositBlocks.push(uint64(block.number));
        emit Deposited(index, l2Address, asset.assetId, uint128(atoms), chain, msg.sender);
    }

    function _transferIn(address token, uint256 amount) internal {
        if (token.code.length == 0) revert TransferFailed();
        (bool ok, bytes memory ret) =
            token.call(abi.encodeCall(IERC20.transferFrom, (msg.sender, address(this), amount)));
        // Tokens that return nothing (USDT) are accepted; those returning false are not.
        if (!ok || (ret.length != 0 && (ret.length != 32 || !abi.decode(ret, (bool))))) revert TransferFailed();
    }

    // ------------------------------------------------------------------------------------------
    // Settlement
    // ------------------------------------------------------------------------------------------

    /// @notice Settles proposal `proposalIndex` (the next unsettled one) with a proof that the
    ///         program `programVKey` committed `publicValues`, and per blob the KZG data that
    ///         opens the proposal's blob at the public values' `(z, y)`. Anyone may settle.
    /// @param proposalIndex Must equal the number of settled batches.
    /// @param publicValues `abi.encode(PublicValues)`, as the guest committed it.
    /// @param proof The verifier's proof (committee signatures here, SP1 Groth16 in production).
    /// @param kzgProofs One per blob, in blob order.
    function settle(
        uint256 proposalIndex,
        bytes calldata publicValues,
        bytes calldata proof,
        KzgOpeningProof[] calldata kzgProofs
    ) external notFrozen {
        uint256 next = batches.length;
        if (proposalIndex != next) revert NotNextProposal(proposalIndex, next);
        if (proposalIndex >= proposals.length) revert UnknownProposal(proposalIndex);
        Proposal storage proposal = proposals[proposalIndex];
        PublicValues memory pv = abi.decode(publicValues, (PublicValues));
        if (pv.batchNumber != proposalIndex + 1) revert WrongBatchNumber(pv.batchNumber, proposalIndex + 1);
        if (pv.preRoot != stateRoot) revert WrongPreRoot(pv.preRoot, stateRoot);
        _checkBlobHashes(proposal, pv.blobs);
        _checkQueue(deposits, depositsConsumed, proposal.depositCount, pv.depositFrom, pv.depositCount, pv.depositChain);
        _checkQueue(forcedCommands, forcedConsumed, proposal.forcedCount, pv.forcedFrom, pv.forcedCount, pv.forcedChain);
        if (pv.withdrawalCount < withdrawalsSettled) {
            revert WithdrawalCountBackwards(pv.withdrawalCount, withdrawalsSettled);
        }
        verifier.verifyProof(programVKey, publicValues, proof);
        _checkOpenings(pv.blobs, kzgProofs);

        stateRoot = pv.postRoot;
        depositsConsumed = pv.depositCount;
        forcedConsumed = pv.forcedCount;
        withdrawalsSettled = pv.withdrawalCount;
        lastSettlementBlock = uint64(block.number);
        batches.push(SettledBatch(pv.postRoot, pv.withdrawalsRoot, uint64(block.number), pv.withdrawalCount));
        emit Settled(proposalIndex, pv.batchNumber, pv.postRoot, pv.withdrawalsRoot, pv.batchHash, pv.receiptsDigest);
    }

    /// @dev The public values name exactly the proposal's blobs, in order.
    function _checkBlobHashes(Proposal storage proposal, BlobOpening[] memory blobs) internal view {
        if (blobs.length != proposal.blobCount) revert BlobCountMismatch(blobs.length, proposal.blobCount);
        bytes32[] memory hashes = new bytes32[](blobs.length);
        for (uint256 i = 0; i < blobs.length; i++) {
            hashes[i] = blobs[i].versionedHash;
        }
        if (keccak256(abi.encodePacked(hashes)) != proposal.blobsHash) revert VersionedHashMismatch();
    }

    /// @dev The proof of equivalence: each blob's committed polynomial is `y` at `z`, the values
    ///      the guest computed from the blob it executed. The precompile also checks that the
    ///      commitment hashes to the versioned hash.
    function _checkOpenings(BlobOpening[] memory blobs, KzgOpeningProof[] calldata kzgProofs) internal view {
        if (kzgProofs.length != blobs.length) revert BlobCountMismatch(kzgProofs.length, blobs.length);
        for (uint256 i = 0; i < blobs.length; i++) {
            bytes calldata commitment = kzgProofs[i].commitment;
            bytes calldata kzgProof = kzgProofs[i].proof;
            if (commitment.length != KZG_POINT_BYTES || kzgProof.length != KZG_POINT_BYTES) {
                revert MalformedKzgProof(i);
            }
            BlobOpening memory opening = blobs[i];
            (bool ok, bytes memory out) = POINT_EVALUATION.staticcall(
                abi.encodePacked(opening.versionedHash, opening.z, opening.y, commitment, kzgProof)
            );
            if (!ok || out.length != 64) revert PointEvaluationFailed(i);
            (uint256 elements, uint256 modulus) = abi.decode(out, (uint256, uint256));
            if (elements != FIELD_ELEMENTS_PER_BLOB || modulus != BLS_MODULUS) revert PointEvaluationFailed(i);
        }
    }

    /// @dev Derivation's rule, enforced: a batch consumes exactly the queue entries from where the
    ///      last settled batch stopped to the count its proposal named. The guest folds the
    ///      entries it credited onto the chain at `from` (an input it cannot check); that the result
    ///      is the contract's chain at `to` shows, by keccak's collision resistance, that it started
    ///      from the true chain at `from` and consumed the true entries.
    function _checkQueue(
        bytes32[] storage queue,
        uint64 consumedBefore,
        uint64 queuedAtProposal,
        uint64 from,
        uint64 to,
        bytes32 chain
    ) internal view {
        if (from != consumedBefore) revert QueueStartMismatch(from, consumedBefore);
        if (to != queuedAtProposal) revert QueueNotConsumed(to, queuedAtProposal);
        bytes32 expected = to == 0 ? bytes32(0) : queue[to - 1];
        if (chain != expected) revert QueueChainMismatch(chain, expected);
    }

    // ------------------------------------------------------------------------------------------
    // Withdrawals
    // ------------------------------------------------------------------------------------------

    /// @notice Pays withdrawal number `index` of settled batch `batchIndex` to `to` (on L1, the
    ///         same address as the L2 account): `atoms × unitsPerAtom` of the asset's token.
    ///         Anyone may submit it (the recipient is fixed by the leaf); each withdrawal is paid
    ///         once. Open also after a freeze.
    /// @param proof Sibling path from the leaf to the batch's `withdrawalsRoot`, bottom up
    ///        (`zkclob_state::withdrawals::withdrawal_proof`).
    function claimWithdrawal(
        uint256 batchIndex,
        uint64 index,
        bytes20 to,
        uint32 assetId,
        uint128 atoms,
        bytes32[] calldata proof
    ) external {
        if (batchIndex >= batches.length) revert UnknownBatch(batchIndex);
        SettledBatch storage batch = batches[batchIndex];
        uint64 first = batchIndex == 0 ? 0 : batches[batchIndex - 1].withdrawalEnd;
        uint64 end = batch.withdrawalEnd;
        if (index < first || index >= end) revert WithdrawalNotInBatch(index);
        // The tree over `end - first` leaves has exactly this depth; a shorter or longer path
        // would prove an inner node or a padding leaf.
        uint256 depth = 0;
        while ((uint256(1) << depth) < end - first) depth++;
        if (proof.length != depth) revert BadWithdrawalProof();
        bytes32 node = withdrawalLeaf(index, to, assetId, atoms);
        uint256 position = index - first;
        for (uint256 i = 0; i < depth; i++) {
            node = (position >> i) & 1 == 0
                ? keccak256(abi.encodePacked(node, proof[i]))
                : keccak256(abi.encodePacked(proof[i], node));
        }
        if (node != batch.withdrawalsRoot) revert BadWithdrawalProof();
        uint256 word = index >> 8;
        uint256 bit = uint256(1) << (index & 0xff);
        if (claimedBitmap[word] & bit != 0) revert AlreadyClaimed(index);
        claimedBitmap[word] |= bit;
        emit WithdrawalClaimed(index, to, assetId, atoms);
        _payOut(assetId, uint256(atoms), to);
    }

    /// @notice Whether withdrawal number `index` was paid.
    function isClaimed(uint256 index) external view returns (bool) {
        return claimedBitmap[index >> 8] & (uint256(1) << (index & 0xff)) != 0;
    }

    /// @notice The leaf of withdrawal number `index`:
    ///         `keccak256(abi.encodePacked(index, to, assetId, atoms))` (48 bytes).
    function withdrawalLeaf(uint64 index, bytes20 to, uint32 assetId, uint128 atoms) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(index, to, assetId, atoms));
    }

    /// @dev Sends `atoms` of L2 asset `assetId` to `to`; an asset without an L1 token is
    ///      reported by `PayoutFailed` (none can exist: every L2 balance comes from a deposit).
    function _payOut(uint32 assetId, uint256 atoms, bytes20 to) internal {
        address token = tokenOfAsset[assetId];
        uint256 unitsPerAtom = assets[token].unitsPerAtom;
        if (unitsPerAtom == 0 || assets[token].assetId != assetId) revert PayoutFailed(to);
        uint256 amount = atoms * unitsPerAtom;
        address recipient = address(to);
        if (token == address(0)) {
            (bool ok,) = recipient.call{value: amount}("");
            if (!ok) revert PayoutFailed(to);
        } else {
            (bool ok, bytes memory ret) = token.call(abi.encodeCall(IERC20.transfer, (recipient, amount)));
            if (!ok || (ret.length != 0 && (ret.length != 32 || !abi.decode(ret, (bool))))) revert PayoutFailed(to);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Escape hatch
    // ------------------------------------------------------------------------------------------

    /// @notice Freezes the rollup once `escapeDelayBlocks` blocks passed since the last
    ///         settlement (or deployment). Anyone may call it; it cannot be undone.
    function freeze() external notFrozen {
        uint256 due = uint256(lastSettlementBlock) + escapeDelayBlocks;
        if (block.number < due) revert EscapeNotDue(due);
        frozen = true;
        emit Frozen(uint64(block.number), stateRoot);
    }

    /// @notice After the freeze, pays account `accountId` its whole balance (available + locked,
    ///         every asset) as of the last settled state root, to the account's address on L1.
    ///         Anyone may submit it; each account once.
    /// @param leaf The account's leaf data: borsh `AccountLeaf` (`address [20] ‖ nonce u64 LE ‖
    ///        count u32 LE ‖ count × (asset u32 LE ‖ available u128 LE ‖ locked u128 LE)`).
    /// @param siblings The state-tree path of leaf `1 << 28 | accountId`, bottom up, 32 hashes
    ///        (`MerkleTree::prove`).
    function escapeWithdraw(uint32 accountId, bytes calldata leaf, bytes32[] calldata siblings) external {
        if (!frozen) revert NotFrozen();
        if (accountId >= (uint256(1) << ID_BITS)) revert BadAccountId(accountId);
        if (escaped[accountId]) revert AlreadyEscaped(accountId);
        if (siblings.length != STATE_TREE_DEPTH) revert BadAccountProof();
        if (leaf.length < 32) revert MalformedAccountLeaf();
        uint256 count = _readLe(leaf, 28, 4);
        if (count > MAX_ESCAPE_BALANCES || leaf.length != 32 + 36 * count) revert MalformedAccountLeaf();
        bytes32 node = sha256(abi.encodePacked(bytes1(0x00), leaf));
        uint256 position = (uint256(1) << ID_BITS) | accountId;
        for (uint256 i = 0; i < STATE_TREE_DEPTH; i++) {
            node = (position >> i) & 1 == 0 ? stateNodeHash(node, siblings[i]) : stateNodeHash(siblings[i], node);
        }
        if (node != stateRoot) revert BadAccountProof();
        escaped[accountId] = true;
        bytes20 to = bytes20(leaf[0:20]);
        for (uint256 k = 0; k < count; k++) {
            uint256 offset = 32 + 36 * k;
            uint32 assetId = uint32(_readLe(leaf, offset, 4));
            uint256 atoms = _readLe(leaf, offset + 4, 16) + _readLe(leaf, offset + 20, 16);
            if (atoms == 0) continue;
            emit Escaped(accountId, to, assetId, atoms);
            _payOut(assetId, atoms, to);
        }
    }

    /// @notice After the freeze, refunds deposit `index` that no settled batch consumed, to its
    ///         L2 address on L1 (the same key controls both). The fields are checked against the
    ///         queue's hash chain; each deposit once.
    function refundDeposit(uint256 index, uint32 assetId, uint128 atoms, bytes20 l2Address) external {
        if (!frozen) revert NotFrozen();
        if (index < depositsConsumed) revert DepositConsumed(index);
        if (index >= deposits.length) revert DepositMismatch(index);
        if (depositRefunded[index]) revert AlreadyRefunded(index);
        if (depositChainLink(depositChainAt(index), assetId, atoms, l2Address) != deposits[index]) {
            revert DepositMismatch(index);
        }
        depositRefunded[index] = true;
        emit DepositRefunded(index, l2Address, assetId, atoms);
        _payOut(assetId, uint256(atoms), l2Address);
    }

    /// @dev Little-endian unsigned integer of `size` bytes at `offset` (borsh's integers).
    function _readLe(bytes calldata data, uint256 offset, uint256 size) internal pure returns (uint256 value) {
        for (uint256 i = 0; i < size; i++) {
            value |= uint256(uint8(data[offset + i])) << (8 * i);
        }
    }

    /// @notice A node of the L2 state tree: one application of SHA-256's compression function to
    ///         the block `left ‖ right` from the standard initial value, no padding
    ///         (`zkclob_state::merkle::Sha256Hasher`). The EVM has no opcode or precompile for
    ///         the bare compression, so it is computed here.
    function stateNodeHash(bytes32 left, bytes32 right) public pure returns (bytes32 out) {
        assembly ("memory-safe") {
            // Scratch past the free memory pointer (not reserved: nothing is allocated meanwhile):
            // the 64-word message schedule, then the round constants packed 8 per word.
            let w := mload(0x40)
            let kp := add(w, 2048)
            mstore(kp, 0x428a2f9871374491b5c0fbcfe9b5dba53956c25b59f111f1923f82a4ab1c5ed5)
            mstore(add(kp, 32), 0xd807aa9812835b01243185be550c7dc372be5d7480deb1fe9bdc06a7c19bf174)
            mstore(add(kp, 64), 0xe49b69c1efbe47860fc19dc6240ca1cc2de92c6f4a7484aa5cb0a9dc76f988da)
            mstore(add(kp, 96), 0x983e5152a831c66db00327c8bf597fc7c6e00bf3d5a7914706ca635114292967)
            mstore(add(kp, 128), 0x27b70a852e1b21384d2c6dfc53380d13650a7354766a0abb81c2c92e92722c85)
            mstore(add(kp, 160), 0xa2bfe8a1a81a664bc24b8b70c76c51a3d192e819d6990624f40e3585106aa070)
            mstore(add(kp, 192), 0x19a4c1161e376c082748774c34b0bcb5391c0cb34ed8aa4a5b9cca4f682e6ff3)
            mstore(add(kp, 224), 0x748f82ee78a5636f84c878148cc7020890befffaa4506cebbef9a3f7c67178f2)
            for { let i := 0 } lt(i, 8) { i := add(i, 1) } {
                let sh := sub(224, shl(5, i))
                mstore(add(w, shl(5, i)), and(shr(sh, left), 0xffffffff))
                mstore(add(w, shl(5, add(i, 8))), and(shr(sh, right), 0xffffffff))
            }
            for { let p := add(w, 512) } lt(p, kp) { p := add(p, 32) } {
                let x := mload(sub(p, 480)) // w[i - 15]
                let y := mload(sub(p, 64)) // w[i - 2]
                let s0 := and(xor(xor(or(shr(7, x), shl(25, x)), or(shr(18, x), shl(14, x))), shr(3, x)), 0xffffffff)
                let s1 := and(xor(xor(or(shr(17, y), shl(15, y)), or(shr(19, y), shl(13, y))), shr(10, y)), 0xffffffff)
                mstore(p, and(add(add(mload(sub(p, 512)), s0), add(mload(sub(p, 224)), s1)), 0xffffffff))
            }
            let a := 0x6a09e667
            let b := 0xbb67ae85
            let c := 0x3c6ef372
            let d := 0xa54ff53a
            let e := 0x510e527f
            let f := 0x9b05688c
            let g := 0x1f83d9ab
            let h := 0x5be0cd19
            for { let i := 0 } lt(i, 64) { i := add(i, 1) } {
                let k := and(shr(sub(224, shl(5, and(i, 7))), mload(add(kp, shl(5, shr(3, i))))), 0xffffffff)
                let t1 := add(
                    add(h, and(xor(xor(or(shr(6, e), shl(26, e)), or(shr(11, e), shl(21, e))), or(shr(25, e), shl(7, e))), 0xffffffff)),
                    add(xor(and(e, f), and(not(e), g)), add(k, mload(add(w, shl(5, i)))))
                )
                let t2 := add(
                    and(xor(xor(or(shr(2, a), shl(30, a)), or(shr(13, a), shl(19, a))), or(shr(22, a), shl(10, a))), 0xffffffff),
                    xor(xor(and(a, b), and(a, c)), and(b, c))
                )
                h := g
                g := f
                f := e
                e := and(add(d, t1), 0xffffffff)
                d := c
                c := b
                b := a
                a := and(add(t1, t2), 0xffffffff)
            }
            out := shl(224, and(add(a, 0x6a09e667), 0xffffffff))
            out := or(out, shl(192, and(add(b, 0xbb67ae85), 0xffffffff)))
            out := or(out, shl(160, and(add(c, 0x3c6ef372), 0xffffffff)))
            out := or(out, shl(128, and(add(d, 0xa54ff53a), 0xffffffff)))
            out := or(out, shl(96, and(add(e, 0x510e527f), 0xffffffff)))
            out := or(out, shl(64, and(add(f, 0x9b05688c), 0xffffffff)))
            out := or(out, shl(32, and(add(g, 0x1f83d9ab), 0xffffffff)))
            out := or(out, and(add(h, 0x5be0cd19), 0xffffffff))
        }
    }

    // ------------------------------------------------------------------------------------------
    // Views and hash chains
    // ------------------------------------------------------------------------------------------

    /// @notice Number of proposals.
    function proposalCount() external view returns (uint256) {
        return proposals.length;
    }

    /// @notice Number of settled batches (= the next proposal to settle).
    function settledCount() external view returns (uint256) {
        return batches.length;
    }

    /// @notice Number of deposits ever queued.
    function depositCount() external view returns (uint256) {
        return deposits.length;
    }

    /// @notice Number of forced commands ever queued.
    function forcedCount() external view returns (uint256) {
        return forcedCommands.length;
    }

    /// @notice The deposit chain after the first `count` deposits (zero for none).
    function depositChainAt(uint256 count) public view returns (bytes32) {
        return count == 0 ? bytes32(0) : deposits[count - 1];
    }

    /// @notice The forced-command chain after the first `count` commands (zero for none).
    function forcedChainAt(uint256 count) public view returns (bytes32) {
        return count == 0 ? bytes32(0) : forcedCommands[count - 1];
    }

    /// @notice Decodes `publicValues` exactly as `settle` does (reverts where it would); also
    ///         puts `PublicValues` in the ABI for clients.
    function decodePublicValues(bytes calldata publicValues) external pure returns (PublicValues memory) {
        return abi.decode(publicValues, (PublicValues));
    }

    /// @notice One link of the deposit chain:
    ///         `keccak256(previous ‖ assetId (4 bytes BE) ‖ atoms (16 bytes BE) ‖ l2Address (20 bytes))`.
    function depositChainLink(bytes32 previous, uint32 assetId, uint128 atoms, bytes20 l2Address)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encodePacked(previous, assetId, atoms, l2Address));
    }

    /// @notice One link of the forced-command chain: `keccak256(previous ‖ keccak256(command))`.
    function forcedChainLink(bytes32 previous, bytes calldata command) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(previous, keccak256(command)));
    }
}
