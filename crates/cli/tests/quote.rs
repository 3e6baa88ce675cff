//! `zkclob quote` end to end: every model runs out of the box and prints one sane JSON object;
//! prices are rounded never-more-aggressive; symmetry holds through the CLI; configuration files
//! and flags layer; bad input exits non-zero with a message that names the problem.

use std::process::Command;

fn zkclob(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_zkclob")).args(args).output().expect("run zkclob");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn quote(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["quote"];
    all.extend_from_slice(args);
    let (ok, out, err) = zkclob(&all);
    assert!(ok, "zkclob {all:?} failed: {err}");
    assert_eq!(out.lines().count(), 1, "exactly one JSON line: {out}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

fn number(v: &serde_json::Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or_else(|| panic!("{key} missing or not a number in {v}"))
}

fn fails_with(args: &[&str], needle: &str) {
    let mut all = vec!["quote"];
    all.extend_from_slice(args);
    let (ok, out, err) = zkclob(&all);
    assert!(!ok, "zkclob {all:?} should fail, printed {out}");
    assert!(err.contains(needle), "stderr of {all:?} should mention {needle:?}: {err}");
}

const MODELS: [&str; 5] = ["as", "glft", "glft-exact", "cj", "hjb"];

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("zkclob-quote-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

#[test]
fn every_model_runs_with_defaults_and_prints_sane_json() {
    for model in MODELS {
        let v = quote(&[model, "--inventory", "0"]);
        assert_eq!(v["model"], model);
        assert_eq!(v["inventory"], 0);
        let (bid, ask) = (number(&v, "bid_depth"), number(&v, "ask_depth"));
        // Defaults are Guéant's market: depths of a few ticks, symmetric at q = 0.
        assert!((1.0..10.0).contains(&bid), "{model}: bid depth {bid}");
        assert!((bid - ask).abs() < 1e-9, "{model}: q = 0 is symmetric");
        assert!((number(&v, "spread") - (bid + ask)).abs() < 1e-9, "{model}: spread");
        assert!(number(&v, "reservation_offset").abs() < 1e-9, "{model}: offset");
        for key in ["bid", "ask", "mid", "reservation_price"] {
            assert!(v[key].is_null(), "{model}: {key} needs --mid");
        }
        assert_eq!(v["params"]["model"], model, "{model}: the resolved parameters are echoed");
    }
}

#[test]
fn prices_around_a_mid_are_rounded_never_more_aggressive() {
    for model in MODELS {
        let v = quote(&[model, "--inventory", "3", "--mid", "1000.5"]);
        let (bid, ask) = (number(&v, "bid"), number(&v, "ask"));
        let (bid_raw, ask_raw) = (number(&v, "bid_raw"), number(&v, "ask_raw"));
        assert_eq!(bid, bid_raw.floor(), "{model}: bid rounds down");
        assert_eq!(ask, ask_raw.ceil(), "{model}: ask rounds up");
        assert!((bid_raw - (1000.5 - number(&v, "bid_depth"))).abs() < 1e-9);
        // Long inventory skews both quotes down: the reservation price is below the mid.
        assert!(number(&v, "reservation_price") < 1000.5, "{model}");
    }
}

#[test]
fn symmetry_through_the_cli() {
    for model in ["glft", "cj"] {
        let long = quote(&[model, "--inventory", "4"]);
        let short = quote(&[model, "--inventory", "-4"]);
        let (b, a) = (number(&long, "bid_depth"), number(&short, "ask_depth"));
        assert!((b - a).abs() < 1e-9, "{model}: δᵇ(4) = {b} but δᵃ(−4) = {a}");
        assert!(number(&long, "bid_depth") > number(&long, "ask_depth"), "{model}: long skews the bid away");
    }
}

#[test]
fn limits_drop_a_side_and_beyond_them_is_an_error() {
    let top = quote(&["glft-exact", "--inventory", "5", "--max-inventory", "5", "--mid", "100"]);
    assert!(top["bid_depth"].is_null() && top["bid"].is_null() && top["spread"].is_null());
    assert!(top["ask_depth"].is_number());
    let bottom = quote(&["cj", "--inventory", "-5", "--max-inventory", "5"]);
    assert!(bottom["ask_depth"].is_null() && bottom["bid_depth"].is_number());
    fails_with(&["glft", "--inventory", "11"], "beyond the limit");
}

#[test]
fn flags_set_parameters_by_their_spec_names() {
    // AS by hand: γ = 0.1, σ = 1, k = 1.5, τ = 10, q = 2 → δᵇ = 3.1453852113757117.
    let v =
        quote(&["as", "--inventory", "2", "--gamma", "0.1", "--sigma", "1", "--k", "1.5", "--horizon", "10"]);
    assert!((number(&v, "bid_depth") - 3.1453852113757117).abs() < 1e-12, "{v}");
    assert_eq!(number(&v, "time_to_horizon"), 10.0);
    // ε adds to both depths of Cartea–Jaimungal (with rates discounted and a drift: ε⁺ = ε⁻ and
    // λ⁺ = λ⁻ keep the drift zero, so q = 0 stays symmetric).
    let v = quote(&["cj", "--inventory", "0", "--epsilon", "0.5", "--mode", "stationary"]);
    assert!((number(&v, "bid_depth") - number(&v, "ask_depth")).abs() < 1e-9);
    assert_eq!(v["params"]["epsilon_plus"], 0.5);
    let v = quote(&["hjb", "--inventory", "1", "--steps", "300", "--horizon", "30", "--alpha", "0.1"]);
    assert_eq!(v["params"]["steps"], 300);
    let v = quote(&["glft", "--inventory", "0", "--xi", "0", "--delta", "2", "--mu", "0.001", "--a", "2"]);
    assert_eq!(v["params"]["xi"], 0.0);
    assert!(number(&v, "bid_depth") < number(&v, "ask_depth"), "a positive drift tightens the bid");
}

#[test]
fn a_config_file_is_read_and_flags_override_it() {
    let path = tmp("glft.toml");
    std::fs::write(&path, "model = \"glft\"\ngamma = 0.05\nsigma = 1.0\nmax_inventory = 7\n").expect("write");
    let p = path.to_str().expect("utf-8 path");
    let v = quote(&["glft", "--inventory", "0", "--config", p]);
    assert_eq!((v["params"]["gamma"].as_f64(), v["max_inventory"].as_i64()), (Some(0.05), Some(7)));
    let v = quote(&["glft", "--inventory", "0", "--config", p, "--gamma", "0.02"]);
    assert_eq!(v["params"]["gamma"].as_f64(), Some(0.02));
    // The shipped examples work as configs.
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/../strategy/examples/cj.toml");
    let v = quote(&["cj", "--inventory", "1", "--config", shipped]);
    assert_eq!(v["params"]["mode"], "exact");
    fails_with(&["as", "--inventory", "0", "--config", p], "not \"as\"");
    std::fs::write(&path, "model = \"glft\"\ngama = 0.05\n").expect("write");
    fails_with(&["glft", "--inventory", "0", "--config", p], "gama");
    fails_with(&["glft", "--inventory", "0", "--config", "/nonexistent/zkclob.toml"], "cannot read");
}

#[test]
fn bad_input_exits_non_zero_with_a_message_naming_the_problem() {
    fails_with(&["glft", "--inventory", "0", "--gamma", "-1"], "gamma");
    fails_with(&["glft-exact", "--inventory", "0", "--gamma", "0"], "gamma");
    fails_with(&["as", "--inventory", "0", "--sigma", "NaN"], "sigma");
    fails_with(&["cj", "--inventory", "0", "--kappa", "inf"], "kappa");
    fails_with(&["hjb", "--inventory", "0", "--steps", "0"], "steps");
    fails_with(&["as", "--inventory", "0", "--lambda-plus", "1"], "lambda_plus");
    fails_with(&["glft", "--inventory", "0", "--horizon", "60"], "horizon");
    fails_with(&["glft", "--inventory", "0", "--mid", "inf"], "--mid");
    fails_with(&["cj", "--inventory", "0", "--mode", "closed-form", "--phi", "0"], "phi");
    let (ok, _, err) = zkclob(&["quote", "nope", "--inventory", "0"]);
    assert!(!ok && err.contains("nope"), "{err}");
}
