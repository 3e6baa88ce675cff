//! zkclob's SP1 guest: read one batch (header, witness, commands), execute it with
//! `zkclob_state::execute`, commit the borsh-encoded `PublicOutput`. A tampered witness or a wrong
//! pre-root makes `execute` fail, and the guest panics instead of committing.
//!
//! Cryptography: [`crypto::Sp1Crypto`], SP1's precompiles called through `sp1-lib`. The cycle
//! tracker labels each phase of the transition and each signature verification, so the host
//! reports where the cycles go.
#![no_main]
sp1_zkvm::entrypoint!(main);

mod crypto;

use zkclob_state::{BatchHeader, Command, Witness};

pub fn main() {
    println!("cycle-tracker-report-start: decode");
    let input: Vec<u8> = sp1_zkvm::io::read_vec();
    let (header, witness, commands): (BatchHeader, Witness, Vec<Command>) =
        borsh::from_slice(&input).expect("malformed guest input");
    println!("cycle-tracker-report-end: decode");
    let (output, _receipts) =
        zkclob_state::execute(&crypto::Sp1Crypto, &header, &witness, &commands).expect("batch does not verify");
    sp1_zkvm::io::commit_slice(&borsh::to_vec(&output).expect("encoding the output"));
}
