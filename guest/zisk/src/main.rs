//! zkclob's ZisK guest: read one batch (header, witness, commands), execute it with
//! `zkclob_state::execute`, commit the borsh-encoded `PublicOutput`. A tampered witness or a wrong
//! pre-root makes `execute` fail, and the guest exits non-zero instead of committing.
//!
//! Cryptography: [`crypto::ZiskCrypto`], ZisK's precompiles through `ziskos::zisklib`.
#![no_main]
ziskos::entrypoint!(main);

mod crypto;

use zkclob_state::{BatchHeader, Command, Witness};

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
        zkclob_state::execute(&crypto::ZiskCrypto, &header, &witness, &commands).expect("batch does not verify");
    ziskos::io::commit_slice(&borsh::to_vec(&output).expect("encoding the output"));
}
