//! zkclob's ZisK guest. Its input is one tag byte and a borsh body
//! (`zkclob_rollup::program::{GUEST_BATCH, GUEST_SETTLE}`):
//!
//! - `GUEST_BATCH`: one batch (`zkclob_state::ReceivedBatch`: witness, header, commands) run with
//!   `ReceivedBatch::execute`, which hashes the header and commands as received; commits
//!   the borsh-encoded `PublicOutput`;
//! - `GUEST_SETTLE`: the settlement program of one L1 proposal (`zkclob_rollup::program::run`);
//!   commits keccak-256 of `abi.encode(PublicValues)` — ZisK's public output holds 256 bytes, the
//!   public values are 512 + 96 per blob, so the host checks the hash of the bytes it settles with.
//!
//! A tampered witness or a wrong pre-root makes either fail, and the guest exits non-zero instead
//! of committing. Cryptography: [`crypto::ZiskCrypto`], ZisK's precompiles through
//! `ziskos::zisklib`.
#![no_main]
ziskos::entrypoint!(main);

mod crypto;

use zkclob_rollup::program::{self, ProgramInput, GUEST_BATCH, GUEST_SETTLE};
use zkclob_state::{Crypto, ReceivedBatch};

/// Upstream std's zkvm panic path calls `sys_panic`, which ZisK does not define: exit through
/// ZisK's exit ecall (a7 = 93) with a non-zero code, so a failed batch never commits.
#[no_mangle]
pub extern "C" fn sys_panic(_msg: *const u8, _len: usize) -> ! {
    unsafe {
        core::arch::asm!("ecall", in("a7") 93, in("a0") 1, options(noreturn));
    }
}

fn main() {
    let input: Vec<u8> = ziskos::io::read_slice().to_vec();
    let (tag, body) = input.split_first().expect("empty guest input");
    match *tag {
        GUEST_BATCH => {
            let batch = ReceivedBatch::decode(body).expect("malformed guest input");
            let (output, _receipts) = batch.execute(&crypto::ZiskCrypto).expect("batch does not verify");
            ziskos::io::commit_slice(&borsh::to_vec(&output).expect("encoding the output"));
        }
        GUEST_SETTLE => {
            let input: ProgramInput = borsh::from_slice(body).expect("malformed settlement input");
            let output = program::run(&crypto::ZiskCrypto, &input).expect("the settlement program refused");
            let public_values = program::encode_public_values(&output.public_values);
            ziskos::io::commit_slice(&crypto::ZiskCrypto.keccak256(&public_values));
        }
        _ => panic!("unknown guest input tag"),
    }
}
