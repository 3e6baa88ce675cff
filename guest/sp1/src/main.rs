//! zkclob's SP1 guest: read one batch (header, witness, commands), execute it with
//! `zkclob_state::execute`, commit the borsh-encoded `PublicOutput`. A tampered witness or a wrong
//! pre-root makes `execute` fail, and the guest panics instead of committing.
//!
//! Cryptography: this first version runs the plain Rust crates (`NativeCrypto`) inside the zkVM;
//! SP1's precompiles (SHA-256 extend/compress, keccak permute, secp256k1) replace them next. The
//! cycle tracker labels each primitive so the host reports where the cycles go.
#![no_main]
sp1_zkvm::entrypoint!(main);

use zkclob_state::{BatchHeader, Command, Crypto, NativeCrypto, PublicKey, Signature, Witness};

/// `NativeCrypto` with SP1 cycle-tracker labels around each primitive.
struct Tracked;

impl Crypto for Tracked {
    fn sha256(&self, data: &[u8]) -> [u8; 32] {
        println!("cycle-tracker-report-start: sha256");
        let h = NativeCrypto.sha256(data);
        println!("cycle-tracker-report-end: sha256");
        h
    }

    fn keccak256(&self, data: &[u8]) -> [u8; 32] {
        println!("cycle-tracker-report-start: keccak256");
        let h = NativeCrypto.keccak256(data);
        println!("cycle-tracker-report-end: keccak256");
        h
    }

    fn secp256k1_verify(&self, pubkey: &PublicKey, prehash: &[u8; 32], sig: &Signature) -> bool {
        println!("cycle-tracker-report-start: secp256k1_verify");
        let ok = NativeCrypto.secp256k1_verify(pubkey, prehash, sig);
        println!("cycle-tracker-report-end: secp256k1_verify");
        ok
    }
}

pub fn main() {
    let input: Vec<u8> = sp1_zkvm::io::read_vec();
    let (header, witness, commands): (BatchHeader, Witness, Vec<Command>) =
        borsh::from_slice(&input).expect("malformed guest input");
    let (output, _receipts) =
        zkclob_state::execute(&Tracked, &header, &witness, &commands).expect("batch does not verify");
    sp1_zkvm::io::commit_slice(&borsh::to_vec(&output).expect("encoding the output"));
}
