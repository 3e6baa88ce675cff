//! `zkclob simulate` and `zkclob backtest` run out of the box and write complete reports.

use std::path::Path;
use std::process::Command;

fn zkclob(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_zkclob")).args(args).output().expect("run zkclob");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn out_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("zkclob-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn check_report(dir: &Path, line: &str) -> serde_json::Value {
    let summary: serde_json::Value = serde_json::from_str(line.trim()).expect("one JSON line");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    for key in ["pnl", "sharpe", "max_drawdown", "fills", "events"] {
        assert!(report.get(key).is_some(), "report.json lacks {key}");
        assert!(summary.get(key).is_some(), "the summary lacks {key}");
    }
    assert_eq!(summary["fills"], report["fills"]);
    for chart in ["pnl", "inventory", "drawdown", "quotes"] {
        let png = std::fs::read(dir.join(format!("{chart}.png"))).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{chart}.png");
        let svg = std::fs::read_to_string(dir.join(format!("{chart}.svg"))).unwrap();
        assert!(svg.contains("<svg"), "{chart}.svg");
    }
    summary
}

#[test]
fn simulate_with_defaults_writes_a_report_and_is_reproducible() {
    let a = out_dir("sim-a");
    let b = out_dir("sim-b");
    let (ok, out_a, err) =
        zkclob(&["simulate", "--duration", "300", "--seed", "7", "--quiet", "--out", a.to_str().unwrap()]);
    assert!(ok, "{err}");
    let sa = check_report(&a, &out_a);
    assert!(sa["events"].as_u64().unwrap() > 1_000);
    assert!(sa["fills"].as_u64().unwrap() > 0, "the GLFT market maker trades");
    let (ok, out_b, err) =
        zkclob(&["simulate", "--duration", "300", "--seed", "7", "--quiet", "--out", b.to_str().unwrap()]);
    assert!(ok, "{err}");
    let sb = check_report(&b, &out_b);
    assert_eq!(sa["pnl"], sb["pnl"]);
    assert_eq!(sa["fills"], sb["fills"]);
    let _ = std::fs::remove_dir_all(&a);
    let _ = std::fs::remove_dir_all(&b);
}

#[test]
fn every_stress_preset_runs() {
    for preset in ["flash_crash", "liquidity_drought", "volatility_spike"] {
        let dir = out_dir(preset);
        let (ok, out, err) = zkclob(&[
            "simulate",
            "--preset",
            preset,
            "--duration",
            "200",
            "--quiet",
            "--out",
            dir.to_str().unwrap(),
        ]);
        assert!(ok, "{preset}: {err}");
        check_report(&dir, &out);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn backtest_of_the_lobster_sample_writes_a_report() {
    let dir = out_dir("backtest");
    let (ok, out, err) = zkclob(&["backtest", "--out", dir.to_str().unwrap()]);
    assert!(ok, "{err}");
    let s = check_report(&dir, &out);
    assert_eq!(s["events"], 999);
    assert!(s["orders_sent"].as_u64().unwrap() > 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_is_a_clear_error() {
    let (ok, _, err) = zkclob(&["simulate", "--preset", "calm_seas", "--out", "/tmp/x"]);
    assert!(!ok && err.contains("unknown preset"), "{err}");
    let (ok, _, err) = zkclob(&["simulate", "--duration=-5", "--out", "/tmp/x"]);
    assert!(!ok && err.contains("duration"), "{err}");
    let (ok, _, err) = zkclob(&["backtest", "--messages", "/nonexistent", "--orderbook", "/nonexistent"]);
    assert!(!ok && err.contains("/nonexistent"), "{err}");
}

#[test]
fn optimize_runs_a_search_and_a_walk_forward() {
    let dir = out_dir("optimize");
    let (ok, out, err) = zkclob(&[
        "optimize",
        "--trials",
        "4",
        "--segments",
        "4",
        "--in-sample",
        "2",
        "--out-of-sample",
        "1",
        "--segment",
        "150",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let s: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(s["trials"], 4);
    assert!(s["best_params"]["gamma"].as_f64().is_some());
    assert!(s["walk_forward_out_of_sample_mean"].as_f64().is_some());
    for f in ["optimization.json", "optimization.csv", "objective.png", "walk_forward.json"] {
        assert!(dir.join(f).exists(), "{f}");
    }
    // The same from a TOML file, with a flag overriding it; unknown keys are errors.
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("optimize.toml");
    std::fs::write(
        &cfg,
        "search = \"random\"\ntrials = 3\nsegments = 3\nin_sample = 2\nout_of_sample = 1\nsegment_s = 150.0\n",
    )
    .unwrap();
    let (ok, out, err) = zkclob(&[
        "optimize",
        "--config",
        cfg.to_str().unwrap(),
        "--seed",
        "5",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let s: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(s["search"], "random");
    assert_eq!(s["trials"], 3);
    std::fs::write(&cfg, "trails = 3\n").unwrap();
    let (ok, _, err) =
        zkclob(&["optimize", "--config", cfg.to_str().unwrap(), "--out", dir.to_str().unwrap()]);
    assert!(!ok && err.contains("trails"), "{err}");
    let (ok, _, err) = zkclob(&["optimize", "--search", "annealing", "--out", dir.to_str().unwrap()]);
    assert!(!ok && err.contains("unknown search"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
