//! zkclob's ZisK guest: read one batch (header, witness, commands), execute it with
//! `zkclob_state::execute`, commit the borsh-encoded `PublicOutput`. A tampered witness or a wrong
//! pre-root makes `execute` fail, and the guest exits non-zero instead of committing.
//!
//! Cryptography: this first version runs the plain Rust crates (`NativeCrypto`) inside the zkVM;
//! ZisK's precompiles (`ziskos::zisklib` sha256, keccak256, secp256k1) replace them next.
#![no_main]
ziskos::entrypoint!(main);

use zkclob_state::{BatchHeader, Command, NativeCrypto, Witness};

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
    let (header, witness, commands): (BatchHeader, Witness, Vec<Command>) =
        borsh::from_slice(&input).expect("malformed guest input");
    let (output, _receipts) =
        zkclob_state::execute(&NativeCrypto, &header, &witness, &commands).expect("batch does not verify");
    ziskos::io::commit_slice(&borsh::to_vec(&output).expect("encoding the output"));
}
