//! Runs the real `zkclob lobster-replay` binary on the embedded AAPL sample and on bad input.

use std::process::Command;

fn zkclob(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_zkclob")).args(args).output().expect("run zkclob");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn replay_of_the_embedded_sample_matches_every_row() {
    let (ok, stdout, stderr) = zkclob(&["lobster-replay"]);
    assert!(ok, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(stdout.lines().last(), Some("rows matched: 999/999"), "{stdout}");
    assert!(stdout.contains("priority deviations: 0"), "{stdout}");
}

#[test]
fn replay_of_the_sample_files_on_disk_matches_every_row() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/lobster/");
    let m = format!("{dir}AAPL_2012-06-21_34200000_57600000_message_10.csv");
    let b = format!("{dir}AAPL_2012-06-21_34200000_57600000_orderbook_10.csv");
    let (ok, stdout, _) = zkclob(&["lobster-replay", "--messages", &m, "--orderbook", &b]);
    assert!(ok);
    assert_eq!(stdout.lines().last(), Some("rows matched: 999/999"));
}

#[test]
fn malformed_or_mismatched_files_fail_with_a_clear_message() {
    let tmp = std::env::temp_dir().join(format!("zkclob-lobster-test-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let m = tmp.join("m.csv");
    let b = tmp.join("b.csv");
    std::fs::write(&m, "34200.1,1,5,10,5853300,1\n34200.2,9,5,10,5853300,1\n").unwrap();
    std::fs::write(&b, "5859400,200,5853300,10\n5859400,200,5853300,10\n").unwrap();
    let (ok, _, stderr) =
        zkclob(&["lobster-replay", "--messages", m.to_str().unwrap(), "--orderbook", b.to_str().unwrap()]);
    assert!(!ok);
    assert!(stderr.contains("message file line 2") && stderr.contains("unknown message type 9"), "{stderr}");
    std::fs::write(&m, "34200.1,1,5,10,5853300,1\n").unwrap();
    let (ok, _, stderr) =
        zkclob(&["lobster-replay", "--messages", m.to_str().unwrap(), "--orderbook", b.to_str().unwrap()]);
    assert!(!ok);
    assert!(stderr.contains("do not belong together"), "{stderr}");
    let (ok, _, stderr) =
        zkclob(&["lobster-replay", "--messages", "/nonexistent/m.csv", "--orderbook", b.to_str().unwrap()]);
    assert!(!ok);
    assert!(stderr.contains("/nonexistent/m.csv"), "{stderr}");
    std::fs::remove_dir_all(&tmp).ok();
}
