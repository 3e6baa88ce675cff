// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.28;

import {IERC20} from "./IERC20.sol";
import {IVerifier} from "./IVerifier.sol";

/// @title Rollup
/// @notice The L1 side of the zkclob based rollup, in one contract:
///         - an inbox where anyone proposes a batch by posting its blobs (based sequencing: batch
///           order = L1 inclusion order);
///         - a forced-inclusion queue of L2 commands posted on L1 that batches must include within
///           `inclusionDelayBlocks`;
///         - ETH and ERC-20 deposits, queued with a keccak hash chain for derivation to credit on L2;
///         - settlement of proposals in order, each with a proof through an `IVerifier` (SP1's
///           gateway shape) and the EIP-4844 proof of equivalence binding the proven batch to the
///           proposal's blobs.
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

    /// @notice One entry of a queue: the hash chain after it, and the block it was queued in.
    struct QueueEntry {
        bytes32 chain;
        uint64 l1Block;
    }

    /// @notice A settled batch; withdrawals and the escape hatch prove against these.
    struct SettledBatch {
        bytes32 postRoot;
        bytes32 withdrawalsRoot;
        uint64 l1Block;
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
        /// Deposits consumed in total after this batch (a position in the deposit chain).
        uint64 depositCount;
        /// The deposit chain at that position.
        bytes32 depositChain;
        /// Forced commands consumed in total after this batch.
        uint64 forcedCount;
        /// The forced-command chain at that position.
        bytes32 forcedChain;
        /// Root of the withdrawals this batch makes claimable (used by the withdrawal step).
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
    /// @notice A forced command or deposit queued at block b must be consumed by every batch
    ///         proposed at block b + inclusionDelayBlocks or later.
    uint64 public immutable inclusionDelayBlocks;

    /// @notice Accepted assets by token (address(0) = ETH).
    mapping(address => Asset) public assets;
    /// @notice The last settled state root (the genesis root before any settlement).
    bytes32 public stateRoot;
    /// @notice Proposals, in L1 order.
    Proposal[] public proposals;
    /// @notice Settled batches; index = proposal index.
    SettledBatch[] public batches;
    /// @notice Deposits, in L1 order.
    QueueEntry[] public deposits;
    /// @notice Forced commands, in L1 order.
    QueueEntry[] public forcedCommands;
    /// @notice Deposits consumed by settled batches.
    uint64 public depositsConsumed;
    /// @notice Forced commands consumed by settled batches.
    uint64 public forcedConsumed;
    /// @notice L1 block of the last settlement (of deployment before the first).
    uint64 public lastSettlementBlock;

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

    // ------------------------------------------------------------------------------------------
    // Errors
    // ------------------------------------------------------------------------------------------

    /// @notice An asset's token or L2 id is listed twice, or it has no units per atom.
    error BadAssetConfig(uint256 position);
    /// @notice The proposing transaction carries no blobs.
    error NoBlobs();
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
    /// @notice The consumed count goes backwards or past what was queued at the proposal.
    error QueuePositionOutOfRange(uint64 given, uint64 low, uint64 high);
    /// @notice The chain hash at the consumed position is not the contract's.
    error QueueChainMismatch(bytes32 given, bytes32 expected);
    /// @notice An entry queued at least `inclusionDelayBlocks` before the proposal was not consumed.
    error InclusionOverdue(uint64 position);

    // ------------------------------------------------------------------------------------------
    // Construction
    // ------------------------------------------------------------------------------------------

    /// @param verifier_ Proof verifier (a `CommitteeVerifier` here, SP1's gateway in production).
    /// @param programVKey_ The zkVM program's verification key.
    /// @param genesisRoot The L2 state root before batch 1.
    /// @param inclusionDelayBlocks_ N: blocks after which forced commands and deposits are due.
    /// @param assetConfigs Accepted assets; ETH, if accepted, has token address(0).
    constructor(
        IVerifier verifier_,
        bytes32 programVKey_,
        bytes32 genesisRoot,
        uint64 inclusionDelayBlocks_,
        AssetConfig[] memory assetConfigs
    ) {
        verifier = verifier_;
        programVKey = programVKey_;
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
        }
    }

    // ------------------------------------------------------------------------------------------
    // Inbox
    // ------------------------------------------------------------------------------------------

    /// @notice Proposes the batch carried by this transaction's blobs (a type-3 transaction).
    ///         Anyone may propose; order is L1 inclusion order. A batch that does not decode is
    ///         derived as an empty batch, so a bad proposal cannot halt the rollup.
    /// @return index The proposal's index (its L2 batch number minus one).
    function propose() external returns (uint256 index) {
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
        uint64 queuedDeposits = uint64(deposits.length);
        uint64 queuedForced = uint64(forcedCommands.length);
        proposals.push(
            Proposal({
                blobsHash: keccak256(abi.encodePacked(hashes)),
                l1Block: uint64(block.number),
                blobCount: uint8(count),
                proposer: msg.sender,
                depositCount: queuedDeposits,
                forcedCount: queuedForced
            })
        );
        emit Proposed(index, msg.sender, hashes, uint64(block.number), queuedDeposits, queuedForced);
    }

    // ------------------------------------------------------------------------------------------
    // Forced inclusion
    // ------------------------------------------------------------------------------------------

    /// @notice Queues an L2 command (its canonical borsh bytes, normally a signed command) that
    ///         every batch proposed `inclusionDelayBlocks` or more blocks later must include.
    ///         No fee beyond L1 gas; the pending-queue limit bounds what a batch must carry.
    ///         Derivation, not this contract, decides what a command does: one that does not
    ///         decode, or is not a signed command, is consumed and has no effect.
    /// @return index The command's position in the queue.
    function forceCommand(bytes calldata command) external returns (uint256 index) {
        if (command.length == 0 || command.length > MAX_FORCED_COMMAND_BYTES) {
            revert BadCommandLength(command.length);
        }
        index = forcedCommands.length;
        if (index - forcedConsumed >= MAX_PENDING_FORCED_COMMANDS) revert QueueFull();
        bytes32 chain = forcedChainLink(forcedChainAt(index), command);
        forcedCommands.push(QueueEntry(chain, uint64(block.number)));
        emit CommandForced(index, msg.sender, command, chain, uint64(block.number));
    }

    // ------------------------------------------------------------------------------------------
    // Deposits
    // ------------------------------------------------------------------------------------------

    /// @notice Deposits `msg.value` wei for `l2Address`; the amount must be whole L2 atoms.
    /// @return index The deposit's position in the queue.
    function depositEth(bytes20 l2Address) external payable returns (uint256 index) {
        return _queueDeposit(assets[address(0)], address(0), msg.value, l2Address);
    }

    /// @notice Deposits `amount` base units of `token` (approved to this contract beforehand)
    ///         for `l2Address`. Tokens that move another amount than asked (fee on transfer) are
    ///         refused.
    /// @return index The deposit's position in the queue.
    function depositToken(address token, uint256 amount, bytes20 l2Address) external returns (uint256 index) {
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
        deposits.push(QueueEntry(chain, uint64(block.number)));
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
    ) external {
        uint256 next = batches.length;
        if (proposalIndex != next) revert NotNextProposal(proposalIndex, next);
        if (proposalIndex >= proposals.length) revert UnknownProposal(proposalIndex);
        Proposal storage proposal = proposals[proposalIndex];
        PublicValues memory pv = abi.decode(publicValues, (PublicValues));
        if (pv.batchNumber != proposalIndex + 1) revert WrongBatchNumber(pv.batchNumber, proposalIndex + 1);
        if (pv.preRoot != stateRoot) revert WrongPreRoot(pv.preRoot, stateRoot);
        _checkBlobHashes(proposal, pv.blobs);
        _checkQueue(deposits, depositsConsumed, proposal.depositCount, proposal.l1Block, pv.depositCount, pv.depositChain);
        _checkQueue(
            forcedCommands, forcedConsumed, proposal.forcedCount, proposal.l1Block, pv.forcedCount, pv.forcedChain
        );
        verifier.verifyProof(programVKey, publicValues, proof);
        _checkOpenings(pv.blobs, kzgProofs);

        stateRoot = pv.postRoot;
        depositsConsumed = pv.depositCount;
        forcedConsumed = pv.forcedCount;
        lastSettlementBlock = uint64(block.number);
        batches.push(SettledBatch(pv.postRoot, pv.withdrawalsRoot, uint64(block.number)));
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

    /// @dev A batch consumes a prefix of a queue: from where the last settlement stopped to at
    ///      most what was queued when it was proposed, with the contract's chain hash at that
    ///      position, and nothing left behind that was queued `inclusionDelayBlocks` before the
    ///      proposal. Entries are in block order, so the first unconsumed one decides.
    function _checkQueue(
        QueueEntry[] storage queue,
        uint64 consumedBefore,
        uint64 queuedAtProposal,
        uint64 proposalBlock,
        uint64 consumed,
        bytes32 chain
    ) internal view {
        if (consumed < consumedBefore || consumed > queuedAtProposal) {
            revert QueuePositionOutOfRange(consumed, consumedBefore, queuedAtProposal);
        }
        bytes32 expected = consumed == 0 ? bytes32(0) : queue[consumed - 1].chain;
        if (chain != expected) revert QueueChainMismatch(chain, expected);
        if (consumed < queuedAtProposal && uint256(queue[consumed].l1Block) + inclusionDelayBlocks <= proposalBlock) {
            revert InclusionOverdue(consumed);
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
        return count == 0 ? bytes32(0) : deposits[count - 1].chain;
    }

    /// @notice The forced-command chain after the first `count` commands (zero for none).
    function forcedChainAt(uint256 count) public view returns (bytes32) {
        return count == 0 ? bytes32(0) : forcedCommands[count - 1].chain;
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
