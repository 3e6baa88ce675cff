// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.28;

import {IVerifier} from "./IVerifier.sol";

/// @title CommitteeVerifier
/// @notice A k-of-n committee of Ethereum addresses attests that each member verified the SP1
///         STARK proof of `publicValues` off-chain (the node's `zkclob verify`). It is the real
///         on-chain verifier where SP1's Groth16/PLONK wrapping cannot be built; production
///         points the rollup at SP1's verifier gateway through the same `IVerifier` interface.
/// @dev `proofBytes` is a concatenation of 65-byte signatures `r ‖ s ‖ v` (v = 27 or 28), by
///      strictly increasing signer address (so no signer counts twice), each over
///      `attestationDigest(programVKey, publicValues)`: the EIP-191 personal-sign digest of
///      `keccak256(abi.encode(ATTESTATION_DOMAIN, programVKey, keccak256(publicValues),
///      block.chainid, address(this)))`. The chain id and this contract's address keep an
///      attestation from being replayed on another chain or committee. Only low-s signatures
///      are accepted (EIP-2), so a signature cannot be made malleable into a second one.
///      Every signature given must be valid, including any beyond the threshold.
///      The committee is fixed at deployment; rotating it means deploying a new verifier.
contract CommitteeVerifier is IVerifier {
    /// @notice Bytes per signature: r (32) ‖ s (32) ‖ v (1).
    uint256 public constant SIGNATURE_BYTES = 65;
    /// @notice The largest committee.
    uint256 public constant MAX_MEMBERS = 64;
    /// @notice Domain tag of an attestation.
    bytes32 public constant ATTESTATION_DOMAIN = keccak256("zkclob.CommitteeVerifier.v1");
    /// @dev secp256k1n / 2: the largest s accepted (EIP-2).
    uint256 internal constant HALF_CURVE_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    /// @notice Signatures needed (k).
    uint256 public immutable threshold;
    /// @notice Whether an address is on the committee.
    mapping(address => bool) public isMember;
    address[] internal members;

    /// @notice The committee is empty or larger than `MAX_MEMBERS`.
    error BadCommitteeSize(uint256 size);
    /// @notice k is zero or larger than the committee.
    error BadThreshold(uint256 threshold, uint256 size);
    /// @notice Committee addresses must be non-zero and strictly increasing.
    error CommitteeNotAscending(uint256 position);
    /// @notice `proofBytes` is not a whole number of signatures.
    error MalformedProof(uint256 length);
    /// @notice Fewer signatures than the threshold.
    error TooFewSignatures(uint256 given, uint256 needed);
    /// @notice Signature `position` has s above secp256k1n / 2.
    error HighS(uint256 position);
    /// @notice Signature `position` has v other than 27 or 28.
    error BadV(uint256 position);
    /// @notice Signature `position` recovers to no address.
    error InvalidSignature(uint256 position);
    /// @notice Signature `position`'s signer is not above the previous one (a duplicate or out of order).
    error SignersNotAscending(uint256 position);
    /// @notice Signature `position` recovers to an address outside the committee.
    error NotMember(uint256 position, address signer);

    /// @param committee_ Member addresses, strictly increasing.
    /// @param k Signatures needed.
    constructor(address[] memory committee_, uint256 k) {
        uint256 n = committee_.length;
        if (n == 0 || n > MAX_MEMBERS) revert BadCommitteeSize(n);
        if (k == 0 || k > n) revert BadThreshold(k, n);
        address previous = address(0);
        for (uint256 i = 0; i < n; i++) {
            if (committee_[i] <= previous) revert CommitteeNotAscending(i);
            previous = committee_[i];
            isMember[previous] = true;
        }
        members = committee_;
        threshold = k;
    }

    /// @notice The committee, in increasing address order.
    function committee() external view returns (address[] memory) {
        return members;
    }

    /// @notice The digest each member signs for `(programVKey, publicValues)` on this chain and verifier.
    function attestationDigest(bytes32 programVKey, bytes calldata publicValues) public view returns (bytes32) {
        bytes32 attestation =
            keccak256(abi.encode(ATTESTATION_DOMAIN, programVKey, keccak256(publicValues), block.chainid, address(this)));
        return keccak256(abi.encodePacked("\x19Ethereum Signed Message:\n32", attestation));
    }

    /// @inheritdoc IVerifier
    function verifyProof(bytes32 programVKey, bytes calldata publicValues, bytes calldata proofBytes)
        external
        view
    {
        uint256 length = proofBytes.length;
        if (length % SIGNATURE_BYTES != 0) revert MalformedProof(length);
        uint256 count = length / SIGNATURE_BYTES;
        if (count < threshold) revert TooFewSignatures(count, threshold);
        bytes32 digest = attestationDigest(programVKey, publicValues);
        address previous = address(0);
        for (uint256 i = 0; i < count; i++) {
            address signer = _recover(digest, proofBytes[i * SIGNATURE_BYTES:(i + 1) * SIGNATURE_BYTES], i);
            if (signer <= previous) revert SignersNotAscending(i);
            if (!isMember[signer]) revert NotMember(i, signer);
            previous = signer;
        }
    }

    function _recover(bytes32 digest, bytes calldata signature, uint256 position) internal pure returns (address) {
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (uint256(s) > HALF_CURVE_ORDER) revert HighS(position);
        if (v != 27 && v != 28) revert BadV(position);
        address signer = ecrecover(digest, v, r, s);
        if (signer == address(0)) revert InvalidSignature(position);
        return signer;
    }
}
