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

/// One synthetic market written both as the documented L2 CSV and as hftbacktest event rows:
/// a mid that walks by whole ticks, five levels a side, every third event a trade that sweeps one
/// to five levels (printed at its deepest price).
fn synthetic_l2(events: usize) -> (String, String) {
    use zkclob_backtest::l2::{
        BUY_EVENT, DEPTH_CLEAR_EVENT, DEPTH_SNAPSHOT_EVENT, EXCH_EVENT, LOCAL_EVENT, SELL_EVENT, TRADE_EVENT,
    };
    let flags = EXCH_EVENT | LOCAL_EVENT;
    let mut csv = String::from("time_s,kind,level,price,qty\n");
    let mut hft = String::from("ev,exch_ts,local_ts,px,qty,order_id,ival,fval\n");
    let mut state: u64 = 0x2545_f491;
    let mut next = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        state >> 33
    };
    let mut mid: i64 = 10_000; // ticks of one cent
    for e in 0..events {
        let t_ns = 1_000_000_000 + e as i64 * 500_000_000;
        let t_s = format!("{}.{:09}", t_ns / 1_000_000_000, t_ns % 1_000_000_000);
        let px = |ticks: i64| format!("{}.{:02}", ticks / 100, ticks % 100);
        mid += next() as i64 % 5 - 2;
        if e % 3 == 2 {
            let depth = 1 + next() as i64 % 5;
            let (side_flag, price, aggressor) = if next() % 2 == 0 {
                (SELL_EVENT, mid - depth, "sell")
            } else {
                (BUY_EVENT, mid + depth, "buy")
            };
            csv += &format!("{t_s},trade,{},40,{aggressor}\n", px(price));
            hft += &format!("{},{t_ns},{t_ns},{},40,0,0,0\n", flags | TRADE_EVENT | side_flag, px(price));
        }
        for (name, side_flag, sign) in [("bid", BUY_EVENT, -1), ("ask", SELL_EVENT, 1)] {
            hft += &format!("{},{t_ns},{t_ns},nan,0,0,0,0\n", flags | DEPTH_CLEAR_EVENT | side_flag);
            for level in 1..=5 {
                let price = mid + sign * level;
                let qty = 5 + next() % 20;
                csv += &format!("{t_s},{name},{level},{},{qty}\n", px(price));
                hft += &format!(
                    "{},{t_ns},{t_ns},{},{qty},0,0,0\n",
                    flags | DEPTH_SNAPSHOT_EVENT | side_flag,
                    px(price)
                );
            }
        }
    }
    (csv, hft)
}

#[test]
fn backtest_l2_reads_lobster_csv_and_hftbacktest_and_the_same_market_gives_the_same_run() {
    let lobster = out_dir("l2-lobster");
    let (ok, out, err) = zkclob(&[
        "backtest",
        "--mode",
        "l2",
        "--queue",
        "probabilistic:2",
        "--out",
        lobster.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let s = check_report(&lobster, &out);
    assert_eq!(s["mode"], "l2");
    assert_eq!(s["queue_model"]["model"], "probabilistic");
    assert!(s["fills"].as_u64().unwrap() > 0, "the market maker trades on the sample");

    let dir = out_dir("l2-files");
    std::fs::create_dir_all(&dir).unwrap();
    let (csv, hft) = synthetic_l2(2_000);
    std::fs::write(dir.join("market.csv"), csv).unwrap();
    std::fs::write(dir.join("market.hft.csv"), hft).unwrap();
    let mut runs = Vec::new();
    for (format, file) in [("csv", "market.csv"), ("hftbacktest", "market.hft.csv")] {
        let report = dir.join(format);
        let data = dir.join(file);
        let (ok, out, err) = zkclob(&[
            "backtest",
            "--mode",
            "l2",
            "--format",
            format,
            "--data",
            data.to_str().unwrap(),
            "--out",
            report.to_str().unwrap(),
        ]);
        assert!(ok, "{format}: {err}");
        let s = check_report(&report, &out);
        assert_eq!(s["format"], format);
        assert_eq!(s["events"], 2_000, "{format}");
        runs.push(s);
    }
    assert!(runs[0]["fills"].as_u64().unwrap() > 0, "the market maker trades on the synthetic market");
    for key in ["fills", "pnl", "orders_sent", "trade_fills", "crossing_fills"] {
        assert_eq!(runs[0][key], runs[1][key], "{key}: the two formats describe one market");
    }
    let _ = std::fs::remove_dir_all(&lobster);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn backtest_flags_that_do_not_apply_are_refused() {
    for (args, expect) in [
        (&["backtest", "--queue", "probabilistic"][..], "add --mode l2"),
        (&["backtest", "--format", "csv"][..], "add --mode l2"),
        (&["backtest", "--mode", "l2", "--format", "csv"][..], "needs --data"),
        (&["backtest", "--mode", "l2", "--data", "/tmp/x.csv"][..], "--format csv or hftbacktest"),
        (&["backtest", "--mode", "l2", "--queue", "fifo"][..], "expected risk-averse"),
        (&["backtest", "--mode", "l2", "--queue", "probabilistic:-1"][..], "queue.power"),
        (&["backtest", "--mode", "l5"][..], "invalid value"),
        (
            &["backtest", "--mode", "l2", "--format", "csv", "--data", "/nonexistent.csv"][..],
            "/nonexistent.csv",
        ),
    ] {
        let (ok, _, err) = zkclob(args);
        assert!(!ok && err.contains(expect), "{args:?}: {err}");
    }
}
