//! zkclob's SP1 guest. Its input is one tag byte and a borsh body
//! (`zkclob_rollup::program::{GUEST_BATCH, GUEST_SETTLE}`):
//!
//! - `GUEST_BATCH`: one batch (`zkclob_state::ReceivedBatch`: witness, header, commands) run with
//!   `ReceivedBatch::execute`, which hashes the header and commands as received; commits
//!   the borsh-encoded `PublicOutput`;
//! - `GUEST_SETTLE`: the settlement program of one L1 proposal (`zkclob_rollup::program::run`:
//!   derive the batch from blobs and L1 queues, execute it, open the blobs at their Fiat–Shamir
//!   points); commits `abi.encode(PublicValues)`, exactly what `Rollup.settle` decodes.
//!
//! A tampered witness or a wrong pre-root makes either fail, and the guest panics instead of
//! committing. Cryptography: [`crypto::Sp1Crypto`], SP1's precompiles called through `sp1-lib`.
//! The cycle tracker labels each phase and each signature verification, so the host reports
//! where the cycles go.
#![no_main]
sp1_zkvm::entrypoint!(main);

mod crypto;

use zkclob_rollup::program::{self, ProgramInput, GUEST_BATCH, GUEST_SETTLE};
use zkclob_state::ReceivedBatch;

pub fn main() {
    println!("cycle-tracker-report-start: decode");
    let input: Vec<u8> = sp1_zkvm::io::read_vec();
    let (tag, body) = input.split_first().expect("empty guest input");
    match *tag {
        GUEST_BATCH => {
            let batch = ReceivedBatch::decode(body).expect("malformed guest input");
            println!("cycle-tracker-report-end: decode");
            let (output, _receipts) = batch.execute(&crypto::Sp1Crypto).expect("batch does not verify");
            sp1_zkvm::io::commit_slice(&borsh::to_vec(&output).expect("encoding the output"));
        }
        GUEST_SETTLE => {
            let input: ProgramInput = borsh::from_slice(body).expect("malformed settlement input");
            println!("cycle-tracker-report-end: decode");
            let output = program::run(&crypto::Sp1Crypto, &input).expect("the settlement program refused");
            sp1_zkvm::io::commit_slice(&program::encode_public_values(&output.public_values));
        }
        _ => panic!("unknown guest input tag"),
    }
}
