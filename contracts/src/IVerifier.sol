// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.28;

/// @title IVerifier
/// @notice Proof verification for the zkclob rollup. The shape is exactly SP1's `ISP1Verifier`
///         (the interface of the SP1 verifier gateway), so the rollup can point at SP1's
///         Groth16/PLONK gateway in production and at a `CommitteeVerifier` where the wrapping
///         circuits are not available.
interface IVerifier {
    /// @notice Verifies that the program `programVKey` committed exactly `publicValues`.
    /// @dev Reverts if the proof is invalid; returns nothing if it is valid.
    /// @param programVKey The verification key of the zkVM program (SP1's `vkey.bytes32()`).
    /// @param publicValues The bytes the program committed.
    /// @param proofBytes The proof, in the verifier's own encoding.
    function verifyProof(bytes32 programVKey, bytes calldata publicValues, bytes calldata proofBytes)
        external
        view;
}
