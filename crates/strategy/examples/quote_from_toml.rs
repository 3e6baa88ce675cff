//! Builds a quoting model from a TOML file and prints its quotes for every inventory around a
//! small book (best bid 10 000, best ask 10 002 ticks).
//!
//! Run: `cargo run -p zkclob-strategy --example quote_from_toml [-- path/to/config.toml]`
//! (default: `crates/strategy/examples/glft.toml`; the other shipped files are `as.toml`,
//! `glft-exact.toml`, `cj.toml` and `hjb.toml`).

use zkclob_strategy::models::{quote_from_model, ModelConfig};
use zkclob_strategy::{BookLevel, DepthContext, DepthModel, MarketView};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/examples/glft.toml").to_string());
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
    // The file is one flat table tagged by `model`; unknown keys are rejected.
    let config: ModelConfig = toml::from_str(&text)?;
    let model = config.build()?;
    // Quote at the start of the horizon (t = 0, so τ = T); stationary models ignore τ.
    let tau_s = config.horizon_s().unwrap_or(0.0);
    println!("model {} from {path}; time to horizon {tau_s} s", model.name());
    println!("{:>5} {:>11} {:>11} {:>8} {:>8}", "q", "bid depth", "ask depth", "bid", "ask");
    let bids = [BookLevel { price_ticks: 10_000, qty_lots: 10 }];
    let asks = [BookLevel { price_ticks: 10_002, qty_lots: 10 }];
    let q_max = model.max_inventory_lots().unwrap_or(0);
    for q in -q_max..=q_max {
        let view = MarketView { time_s: 0.0, bids: &bids, asks: &asks, trades: &[], inventory_lots: q };
        let depths =
            model.depths(&DepthContext { inventory_lots: q, time_to_horizon_s: tau_s, live: None })?;
        let quotes = quote_from_model(&model, &view, tau_s, 1)?;
        let show = |d: Option<f64>| d.map_or("-".to_string(), |d| format!("{d:.4}"));
        let price = |o: Option<zkclob_strategy::OrderIntent>| {
            o.map_or("-".to_string(), |o| o.price_ticks.to_string())
        };
        println!(
            "{q:>5} {:>11} {:>11} {:>8} {:>8}",
            show(depths.bid_depth),
            show(depths.ask_depth),
            price(quotes.bid),
            price(quotes.ask)
        );
    }
    Ok(())
}
