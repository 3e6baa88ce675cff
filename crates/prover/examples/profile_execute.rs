//! Runs the guest logic (`zkclob_state::execute`) natively on a batch file, for profiling with
//! callgrind: `valgrind --tool=callgrind --toggle-collect='*apply_batch*' target/release/examples/profile_execute FILE`.
//! Instruction counts on x86-64 track RISC-V cycle counts only roughly; use them to rank costs.

use zkclob_prover::BatchFile;
use zkclob_state::NativeCrypto;

fn main() {
    let path = std::env::args().nth(1).expect("usage: profile_execute BATCH_FILE");
    let batch = BatchFile::read(std::path::Path::new(&path)).expect("reading the batch");
    let (output, _) = zkclob_state::execute(&NativeCrypto, &batch.header, &batch.witness, &batch.commands)
        .expect("the batch executes");
    assert_eq!(output.post_root, batch.native_post_root);
    println!("ok: {} commands", output.commands);
}
