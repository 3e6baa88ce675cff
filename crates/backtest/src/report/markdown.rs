//! The human-readable `report.md`.

use std::fmt::Write;

use crate::analytics::{Interval, Metrics};

/// A number for people: up to 4 decimals without trailing zeros, scientific when very large or
/// very small.
pub(crate) fn num(x: f64) -> String {
    if x == 0.0 {
        "0".to_string()
    } else if x.abs() >= 1e7 || x.abs() < 1e-3 {
        format!("{x:.3e}")
    } else {
        let s = format!("{x:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// An optional number; "n/a" when undefined.
pub(crate) fn opt(x: Option<f64>) -> String {
    x.map_or_else(|| "n/a".to_string(), num)
}

fn interval(i: Option<Interval>) -> String {
    i.map_or_else(|| "n/a".to_string(), |i| format!("{} [{}, {}]", num(i.estimate), num(i.lo), num(i.hi)))
}

fn row(out: &mut String, name: &str, value: String, unit: &str) {
    // Writing into a String cannot fail.
    let _ = writeln!(out, "| {name} | {value} | {unit} |");
}

/// Renders the run report.
pub(crate) fn run_report(m: &Metrics) -> String {
    let mut o = String::from("# Backtest report\n\n");
    let _ = writeln!(
        o,
        "{} samples over {} s, {} market events; annualised with {} periods per year. \
         Money in tick·lots, prices in ticks. `n/a` = undefined for this run.\n",
        m.samples,
        num(m.duration_s),
        m.events,
        num(m.periods_per_year)
    );
    o.push_str("## Performance\n\n| metric | value | unit |\n|---|---|---|\n");
    row(&mut o, "PnL (mark to mid)", num(m.pnl.total), "tick·lots");
    row(
        &mut o,
        "realised (FIFO) / unrealised",
        format!("{} / {}", num(m.pnl.realised), num(m.pnl.unrealised)),
        "tick·lots",
    );
    row(&mut o, "fees", num(m.pnl.fees), "tick·lots");
    row(&mut o, "unexplained by fills", opt(m.pnl.unexplained), "tick·lots");
    row(&mut o, "annualised return", opt(m.risk.annualised_return), "tick·lots/yr");
    row(&mut o, "annualised volatility", opt(m.risk.annualised_volatility), "tick·lots");
    row(&mut o, "Sharpe", opt(m.risk.sharpe), "");
    row(&mut o, "Sortino", opt(m.risk.sortino), "");
    row(&mut o, &format!("information ratio vs {:?}", m.risk.benchmark), opt(m.risk.information_ratio), "");
    row(&mut o, "Calmar", opt(m.risk.calmar), "");
    row(&mut o, "max drawdown", num(m.drawdown.max_drawdown), "tick·lots");
    row(&mut o, "longest drawdown", num(m.drawdown.max_duration_s), "s");
    row(&mut o, "PnL per lot traded", opt(m.liquidity.pnl_per_lot_traded_ticks), "ticks");
    row(
        &mut o,
        "PnL per lot·second of inventory",
        opt(m.liquidity.pnl_per_inventory_lot_second_ticks),
        "ticks/s",
    );
    o.push_str("\n## Significance\n\n| metric | value |\n|---|---|\n");
    let sig = &m.significance;
    if let Some(b) = &sig.bootstrap {
        let _ =
            writeln!(o, "| mean return, {}% CI | {} |", num(b.confidence * 100.0), interval(b.mean_return));
        let _ = writeln!(o, "| Sharpe, {}% CI | {} |", num(b.confidence * 100.0), interval(b.sharpe));
    }
    let _ = writeln!(o, "| PSR vs Sharpe {} | {} |", num(sig.psr_benchmark_sharpe), opt(sig.psr));
    let _ =
        writeln!(o, "| DSR (vs expected max Sharpe {}) | {} |", opt(sig.dsr_benchmark_sharpe), opt(sig.dsr));
    o.push_str("\n## Inventory and fills\n\n| metric | value | unit |\n|---|---|---|\n");
    let inv = &m.inventory;
    row(&mut o, "mean / std inventory", format!("{} / {}", opt(inv.mean_lots), opt(inv.std_lots)), "lots");
    row(&mut o, "max abs inventory", inv.max_abs_lots.to_string(), "lots");
    row(&mut o, "time at limit", opt(inv.time_at_limit_share), "share");
    let f = &m.fills;
    row(&mut o, "fills (buys / sells)", format!("{} ({} / {})", f.count, f.buys, f.sells), "");
    row(&mut o, "volume", f.volume_lots.to_string(), "lots");
    row(&mut o, "fill ratio (fills / orders sent)", opt(f.fill_ratio), "");
    row(
        &mut o,
        "maker share (count / volume)",
        format!("{} / {}", opt(f.maker_share), opt(f.maker_volume_share)),
        "",
    );
    row(&mut o, "effective spread", opt(m.execution.effective_spread_ticks), "ticks");
    o.push_str("\n## Mark-outs and transaction costs (per lot, ticks)\n\n");
    o.push_str("| horizon s | fills | mark-out | net of fees | realised spread | price impact | adverse share | timing cost |\n");
    o.push_str("|---|---|---|---|---|---|---|---|\n");
    for h in &m.execution.horizons {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            num(h.horizon_s),
            h.fills_measured,
            opt(h.markout_per_lot_ticks),
            opt(h.markout_net_per_lot_ticks),
            opt(h.realised_spread_ticks),
            opt(h.price_impact_ticks),
            opt(h.adverse_share),
            opt(h.timing_cost_ticks)
        );
    }
    o.push_str("\n## Charts\n\n");
    for (stem, title) in [
        ("pnl", "PnL"),
        ("inventory", "Inventory"),
        ("drawdown", "Drawdown"),
        ("quotes", "Quotes over the book"),
    ] {
        let _ = writeln!(o, "### {title}\n\n![{title}]({stem}.png)\n\n[SVG]({stem}.svg)\n");
    }
    o.push_str("All numbers, with their definitions, are in `report.json` (see docs/backtest.md).\n");
    o
}

#[cfg(test)]
mod tests {
    use super::num;

    #[test]
    fn numbers_are_short() {
        assert_eq!(num(3600.0), "3600");
        assert_eq!(num(95.0), "95");
        assert_eq!(num(-0.0), "0");
        assert_eq!(num(1.23456), "1.2346");
        assert_eq!(num(2.5e-5), "2.500e-5");
        assert_eq!(num(5_896_800.0), "5896800");
    }
}
