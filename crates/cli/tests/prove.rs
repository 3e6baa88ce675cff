//! `zkclob batch gen` then `zkclob prove --backend native` agree with the native node, and the
//! native backend refuses to prove.

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
fn generated_batch_executes_natively_to_the_native_root() {
    let dir = std::env::temp_dir().join(format!("zkclob-prove-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("batch.bin");
    let f = file.to_str().unwrap();
    let (ok, gen, err) =
        zkclob(&["batch", "gen", "--orders", "300", "--markets", "2", "--seed", "3", "--out", f]);
    assert!(ok, "{err}");
    let gen: serde_json::Value = serde_json::from_str(&gen).unwrap();
    let (ok, out, err) = zkclob(&["prove", "--backend", "native", "--mode", "execute", "--batch", f]);
    assert!(ok, "{err}");
    let out: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(out["post_root"], gen["native_post_root"]);
    assert_eq!(out["pre_root"], gen["pre_root"]);
    assert_eq!(out["commands"], 300);
    assert_eq!(out["matches_native_node"], true);
    assert!(out["cycles"].is_null());
    let (ok, _, err) = zkclob(&["prove", "--backend", "native", "--mode", "prove", "--batch", f]);
    assert!(!ok && err.contains("no proof"), "{err}");
    std::fs::write(&file, b"not a batch").unwrap();
    let (ok, _, err) = zkclob(&["prove", "--backend", "native", "--batch", f]);
    assert!(!ok && err.contains("not a zkclob batch file"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
