//! The quant calculators end to end: simulate → fit recovers the parameters; fbm → hurst recovers H;
//! bad input fails with a message that says what was wrong.

use std::process::Command;

fn zkclob(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_zkclob")).args(args).output().expect("run zkclob");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("zkclob-research-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn field(json: &str, key: &str) -> f64 {
    let v: serde_json::Value = serde_json::from_str(json).expect("one JSON object");
    v[key].as_f64().unwrap_or_else(|| panic!("{key} missing in {json}"))
}

#[test]
fn hawkes_simulate_then_fit_recovers_the_parameters() {
    let (ok, events, err) = zkclob(&[
        "hawkes",
        "simulate",
        "--mu",
        "0.5",
        "--alpha",
        "0.8",
        "--beta",
        "1.6",
        "--horizon",
        "20000",
        "--seed",
        "11",
    ]);
    assert!(ok, "{err}");
    let path = tmp("events.txt");
    std::fs::write(&path, &events).unwrap();
    let (ok, fit, err) = zkclob(&["hawkes", "fit", "--events", path.to_str().unwrap(), "--horizon", "20000"]);
    assert!(ok, "{err}");
    // ~40k events: standard errors are a few percent; allow 5 standard errors.
    let v: serde_json::Value = serde_json::from_str(&fit).unwrap();
    for (name, truth) in [("mu", 0.5), ("alpha", 0.8), ("beta", 1.6)] {
        let est = v[name].as_f64().unwrap();
        let se = v["std_errors"][name].as_f64().unwrap();
        assert!((est - truth).abs() < 5.0 * se, "{name}: {est} vs {truth} (se {se})");
    }
    assert!((field(&fit, "branching_ratio") - 0.5).abs() < 0.05);
    let (ok, ll, _) = zkclob(&[
        "hawkes",
        "loglik",
        "--events",
        path.to_str().unwrap(),
        "--horizon",
        "20000",
        "--mu",
        "0.5",
        "--alpha",
        "0.8",
        "--beta",
        "1.6",
    ]);
    assert!(ok);
    assert!(field(&ll, "loglik") <= field(&fit, "loglik") + 1e-6, "the MLE maximises the likelihood");
}

#[test]
fn fbm_then_hurst_recovers_h() {
    let (ok, fgn, _) = zkclob(&["fbm", "--hurst", "0.3", "--n", "65536", "--seed", "5"]);
    assert!(ok);
    // Cumulate the increments into a path.
    let mut s = 0.0;
    let path: String = fgn
        .lines()
        .map(|l| {
            s += l.parse::<f64>().unwrap();
            format!("{s}\n")
        })
        .collect();
    let file = tmp("fbm.txt");
    std::fs::write(&file, path).unwrap();
    let (ok, out, err) = zkclob(&["hurst", "--series", file.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!((field(&out, "hurst") - 0.3).abs() < 0.03, "{out}");
}

#[test]
fn bad_parameters_and_files_are_explained() {
    let (ok, _, err) = zkclob(&["fbm", "--hurst", "1.2", "--n", "10", "--seed", "1"]);
    assert!(!ok && err.contains("(0, 1)"), "{err}");
    let (ok, _, err) = zkclob(&[
        "hawkes",
        "simulate",
        "--mu",
        "0.5",
        "--alpha",
        "2",
        "--beta",
        "1",
        "--horizon",
        "10",
        "--seed",
        "1",
    ]);
    assert!(!ok && err.to_lowercase().contains("stationar"), "{err}");
    let unsorted = tmp("unsorted.txt");
    std::fs::write(&unsorted, "3\n1\n").unwrap();
    let (ok, _, err) = zkclob(&["hawkes", "fit", "--events", unsorted.to_str().unwrap(), "--horizon", "5"]);
    assert!(!ok && err.contains("sorted"), "{err}");
    assert!(!err.contains("backtrace"), "{err}");
}
