//! `zkclob disk-check`: one JSON object about the disk under a data directory; bad input exits
//! non-zero with the reason and leaves the directory as it was.

use std::process::Command;

fn zkclob(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_zkclob")).args(args).output().expect("run zkclob");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn times_commits_in_the_data_directory_and_cleans_up() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let (ok, out, err) =
        zkclob(&["disk-check", "--data", dir, "--commits", "25", "--records-per-commit", "4"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["commits"], 25);
    assert_eq!(v["records_per_commit"], 4);
    let p50 = v["commit_us"]["p50"].as_f64().unwrap();
    assert!(p50 > 0.0 && p50 <= v["commit_us"]["max"].as_f64().unwrap(), "{v}");
    assert!(v["cache"]["device"].as_str().unwrap().contains(':'), "{v}");
    assert!(!v["note"].as_str().unwrap().is_empty());
    assert_eq!(std::fs::read_dir(data.path()).unwrap().count(), 0, "nothing left behind");
    assert_eq!(v["busy_threads"], 0, "the cores are left idle unless asked");
}

#[test]
fn busy_cores_keeps_every_core_busy_during_the_check() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let (ok, out, err) = zkclob(&["disk-check", "--data", dir, "--commits", "10", "--busy-cores"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(v["busy_threads"], cores, "{v}");
    assert_eq!(std::fs::read_dir(data.path()).unwrap().count(), 0, "nothing left behind");
    let (ok, _, err) = zkclob(&["disk-check", "--data", dir, "--busy-cores=maybe"]);
    assert!(!ok);
    assert!(err.contains("--busy-cores"), "{err}");
}

#[test]
fn bad_input_is_refused_with_the_reason() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let (ok, _, err) = zkclob(&["disk-check", "--data", dir, "--commits", "0"]);
    assert!(!ok);
    assert!(err.contains("commits must be 1..="), "{err}");
    let missing = data.path().join("missing");
    let (ok, _, err) = zkclob(&["disk-check", "--data", missing.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("is not a directory"), "{err}");
    assert_eq!(std::fs::read_dir(data.path()).unwrap().count(), 0);
}
