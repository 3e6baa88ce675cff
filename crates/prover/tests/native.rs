//! Generated batches are reproducible, round-trip through their file format, and execute from
//! their witness to the native node's post-root; the native backend refuses to "prove".

use zkclob_prover::{
    generate, BatchFile, FileError, GenerateParams, NativeBackend, Prover, ProverError, Workload,
};
use zkclob_state::{Receipt, RejectCode};

fn params(commands: usize, markets: u32, seed: u64) -> GenerateParams {
    GenerateParams::new(commands, markets, seed)
}

#[test]
fn a_thousand_command_batch_over_two_markets_executes_to_the_native_root() {
    let batch = generate(params(1_000, 2, 7)).unwrap();
    let exec = NativeBackend.execute(&batch).unwrap();
    assert_eq!(exec.output.pre_root, batch.header.prev_root);
    assert_eq!(exec.output.post_root, batch.native_post_root);
    assert_eq!(exec.output.commands, 1_000);
    let fills: u32 =
        exec.receipts.iter().map(|r| if let Receipt::Applied(a) = r { a.fills } else { 0 }).sum();
    let rejected = exec.receipts.iter().filter(|r| matches!(r, Receipt::Rejected(_))).count();
    assert!(fills > 200, "fills: {fills}");
    assert!(rejected >= 30, "forged, replayed and unknown-signer commands are rejected: {rejected}");
    assert_eq!(exec.cycles, None, "native execution counts no cycles");
    // The generator plants a forged signature at i ≡ 53 and a high-s twin of a valid signature at
    // i ≡ 59 (mod 97): both must be refused as bad signatures.
    for i in (0..1_000).filter(|i| i % 97 == 53 || i % 97 == 59) {
        assert!(
            matches!(exec.receipts[i], Receipt::Rejected(RejectCode::BadSignature)),
            "command {i}: {:?}",
            exec.receipts[i]
        );
    }
}

#[test]
fn generation_is_reproducible_and_files_round_trip() {
    let a = generate(params(200, 3, 42)).unwrap();
    let b = generate(params(200, 3, 42)).unwrap();
    assert_eq!(a.to_bytes(), b.to_bytes());
    assert_ne!(a.to_bytes(), generate(params(200, 3, 43)).unwrap().to_bytes());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("batch.bin");
    a.write(&path).unwrap();
    assert_eq!(BatchFile::read(&path).unwrap(), a);
}

#[test]
fn bad_files_and_parameters_are_typed_errors() {
    assert!(generate(params(0, 1, 1)).is_err());
    assert!(generate(params(10, 0, 1)).is_err());
    assert!(generate(params(10, 65, 1)).is_err());
    let a = generate(params(20, 1, 1)).unwrap();
    let mut bytes = a.to_bytes();
    assert!(matches!(BatchFile::from_bytes(&bytes[1..], "x"), Err(FileError::BadMagic(_, "batch"))));
    bytes.push(0);
    assert!(matches!(BatchFile::from_bytes(&bytes, "x"), Err(FileError::Malformed { .. })));
    bytes.truncate(bytes.len() - 40);
    assert!(matches!(BatchFile::from_bytes(&bytes, "x"), Err(FileError::Malformed { .. })));
    assert!(matches!(BatchFile::read(std::path::Path::new("/nonexistent/batch")), Err(FileError::Io { .. })));
}

#[test]
fn the_native_backend_never_pretends_to_prove() {
    let a = generate(params(20, 1, 1)).unwrap();
    match NativeBackend.prove(&a) {
        Err(ProverError::Unsupported(msg)) => assert!(msg.contains("no proof")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_tampered_batch_fails_to_execute() {
    let mut a = generate(params(50, 2, 5)).unwrap();
    a.header.prev_root[0] ^= 1;
    assert!(matches!(NativeBackend.execute(&a), Err(ProverError::Witness(_))));
}

#[test]
fn uniform_workloads_hold_only_their_kind_of_command() {
    let run = |workload, book_orders| {
        let p = GenerateParams { workload, book_orders, ..GenerateParams::new(120, 2, 5) };
        let batch = generate(p).unwrap();
        let exec = NativeBackend.execute(&batch).unwrap();
        assert_eq!(exec.output.post_root, batch.native_post_root);
        exec.receipts
            .iter()
            .map(|r| match r {
                Receipt::Applied(a) => a.fills,
                Receipt::Rejected(code) => panic!("{workload:?}: rejected {code:?}"),
            })
            .collect::<Vec<_>>()
    };
    assert!(run(Workload::Resting, 0).iter().all(|&f| f == 0), "resting orders never match");
    assert!(run(Workload::Crossing, 0).iter().all(|&f| f == 1), "each crossing order fills one maker");
    assert!(run(Workload::Cancel, 200).iter().all(|&f| f == 0));
    let short =
        GenerateParams { workload: Workload::Cancel, book_orders: 10, ..GenerateParams::new(120, 2, 5) };
    assert!(generate(short).is_err(), "cancels need resting orders to cancel");
}
