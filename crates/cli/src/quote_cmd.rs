//! `zkclob quote MODEL`: one model's depths (and prices, given a mid) for one inventory, as one JSON
//! object. A thin layer over `zkclob_strategy::models`: parameters come from the model's defaults,
//! then `--config FILE.toml`, then the flags (flag names are the spec's parameter names).

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use serde_json::json;
use zkclob_strategy::models::{ModelConfig, ParamValue};
use zkclob_strategy::{depths_to_prices, DepthContext, DepthModel};

/// The models, as named on the command line and in `model = "…"`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelArg {
    /// Avellaneda–Stoikov (finite horizon).
    As,
    /// GLFT closed-form asymptotic quotes (Guéant 2017).
    Glft,
    /// GLFT exact finite-inventory solution.
    GlftExact,
    /// Cartea–Jaimungal (penalties φq², αq²; adverse selection ε).
    Cj,
    /// Numerical HJB (implicit finite differences, GLFT dynamics).
    Hjb,
}

impl ModelArg {
    fn name(self) -> &'static str {
        match self {
            ModelArg::As => "as",
            ModelArg::Glft => "glft",
            ModelArg::GlftExact => "glft-exact",
            ModelArg::Cj => "cj",
            ModelArg::Hjb => "hjb",
        }
    }
}

/// Cartea–Jaimungal solution methods.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum CjModeArg {
    /// Finite horizon, exact matrix exponential.
    Exact,
    /// The exact T → ∞ limit.
    Stationary,
    /// The continuous-inventory closed form of the stationary limit.
    ClosedForm,
}

/// Arguments of `zkclob quote`. Units: prices in ticks, time in seconds, inventory in lots. Every
/// parameter has a default (Guéant's illustrative market, Q = 10, T = 600 s); a flag a model does
/// not use is an error naming it.
#[derive(Args, Debug)]
pub struct QuoteArgs {
    /// The model.
    #[arg(value_enum)]
    model: ModelArg,
    /// Our inventory q, lots (positive long).
    #[arg(long, allow_hyphen_values = true)]
    inventory: i64,
    /// Horizon T, seconds; the quote is for t = 0, i.e. time to horizon τ = T (not for `glft`).
    #[arg(long, allow_hyphen_values = true)]
    horizon: Option<f64>,
    /// A TOML file with the model's parameters (see crates/strategy/examples/*.toml); flags override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Reference (mid) price, ticks: adds `bid`/`ask` prices rounded never-more-aggressive (bid
    /// down, ask up). There is no book here, so a negative depth is not clipped to a touch.
    #[arg(long, allow_hyphen_values = true)]
    mid: Option<f64>,
    /// Risk aversion γ, per tick per lot.
    #[arg(long, allow_hyphen_values = true)]
    gamma: Option<f64>,
    /// Mid volatility σ, ticks per √s.
    #[arg(long, allow_hyphen_values = true)]
    sigma: Option<f64>,
    /// Fill intensity at zero depth A, per second.
    #[arg(long, allow_hyphen_values = true)]
    a: Option<f64>,
    /// Fill-intensity decay k, per tick.
    #[arg(long, allow_hyphen_values = true)]
    k: Option<f64>,
    /// ξ of the GLFT closed form, per tick per lot (default γ).
    #[arg(long, allow_hyphen_values = true)]
    xi: Option<f64>,
    /// Order size Δ of the GLFT closed form, lots.
    #[arg(long, allow_hyphen_values = true)]
    delta: Option<f64>,
    /// Drift (alpha signal) μ, ticks per second.
    #[arg(long, allow_hyphen_values = true)]
    mu: Option<f64>,
    /// Inventory limit Q, lots.
    #[arg(long, allow_hyphen_values = true)]
    max_inventory: Option<i64>,
    /// Rate λ⁺ of buy market orders (lift our ask), per second.
    #[arg(long, allow_hyphen_values = true)]
    lambda_plus: Option<f64>,
    /// Rate λ⁻ of sell market orders (hit our bid), per second.
    #[arg(long, allow_hyphen_values = true)]
    lambda_minus: Option<f64>,
    /// Fill-probability decay κ, per tick.
    #[arg(long, allow_hyphen_values = true)]
    kappa: Option<f64>,
    /// Running inventory penalty φ, ticks per lot² per second.
    #[arg(long, allow_hyphen_values = true)]
    phi: Option<f64>,
    /// Terminal inventory penalty α, ticks per lot².
    #[arg(long, allow_hyphen_values = true)]
    alpha: Option<f64>,
    /// Adverse-selection mid jump ε for both sides (ε⁺ = ε⁻), ticks.
    #[arg(long, allow_hyphen_values = true, conflicts_with_all = ["epsilon_plus", "epsilon_minus"])]
    epsilon: Option<f64>,
    /// Mid jump ε⁺ after each buy market order, ticks.
    #[arg(long, allow_hyphen_values = true)]
    epsilon_plus: Option<f64>,
    /// Mid drop ε⁻ after each sell market order, ticks.
    #[arg(long, allow_hyphen_values = true)]
    epsilon_minus: Option<f64>,
    /// Cartea–Jaimungal solution method.
    #[arg(long, value_enum)]
    mode: Option<CjModeArg>,
    /// Implicit time steps of the numerical HJB.
    #[arg(long)]
    steps: Option<u64>,
}

impl QuoteArgs {
    /// The flags that were given, under their TOML keys.
    fn overrides(&self) -> anyhow::Result<Vec<(String, ParamValue)>> {
        let mut out: Vec<(String, ParamValue)> = Vec::new();
        let reals = [
            ("horizon", self.horizon),
            ("gamma", self.gamma),
            ("sigma", self.sigma),
            ("a", self.a),
            ("k", self.k),
            ("xi", self.xi),
            ("delta", self.delta),
            ("mu", self.mu),
            ("lambda_plus", self.lambda_plus),
            ("lambda_minus", self.lambda_minus),
            ("kappa", self.kappa),
            ("phi", self.phi),
            ("alpha", self.alpha),
            ("epsilon_plus", self.epsilon_plus.or(self.epsilon)),
            ("epsilon_minus", self.epsilon_minus.or(self.epsilon)),
        ];
        for (key, value) in reals {
            if let Some(v) = value {
                out.push((key.to_string(), ParamValue::Float(v)));
            }
        }
        if let Some(q) = self.max_inventory {
            out.push(("max_inventory".into(), ParamValue::Int(q)));
        }
        if let Some(steps) = self.steps {
            let steps = i64::try_from(steps).context("--steps is too large")?;
            out.push(("steps".into(), ParamValue::Int(steps)));
        }
        if let Some(mode) = self.mode {
            let word = match mode {
                CjModeArg::Exact => "exact",
                CjModeArg::Stationary => "stationary",
                CjModeArg::ClosedForm => "closed-form",
            };
            out.push(("mode".into(), ParamValue::Text(word.into())));
        }
        Ok(out)
    }
}

/// Runs `zkclob quote` and prints one JSON object.
pub fn run(args: QuoteArgs) -> anyhow::Result<()> {
    let name = args.model.name();
    if args.model == ModelArg::Glft && args.horizon.is_some() {
        bail!("model glft is stationary (T → ∞) and takes no --horizon");
    }
    if args.mid.is_some_and(|m| !m.is_finite()) {
        bail!("--mid must be a finite price in ticks");
    }
    let file = match &args.config {
        Some(path) => {
            Some(std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?)
        }
        None => None,
    };
    let config = ModelConfig::resolve(name, file.as_deref(), args.overrides()?)
        .with_context(|| format!("configuring model {name}"))?;
    let model = config.build().with_context(|| format!("building model {name}"))?;
    let tau_s = config.horizon_s();
    let ctx =
        DepthContext { inventory_lots: args.inventory, time_to_horizon_s: tau_s.unwrap_or(0.0), live: None };
    let depths = model.depths(&ctx)?;
    let (bid, ask) = match args.mid {
        Some(mid) => depths_to_prices(mid, &depths, None, None),
        None => (None, None),
    };
    let at_mid = |offset: Option<f64>, sign: f64| args.mid.zip(offset).map(|(m, d)| m + sign * d);
    println!(
        "{}",
        json!({
            "model": model.name(),
            "inventory": args.inventory,
            "max_inventory": model.max_inventory_lots(),
            "time_to_horizon": tau_s,
            "bid_depth": depths.bid_depth,
            "ask_depth": depths.ask_depth,
            "reservation_offset": depths.reservation_offset,
            "spread": depths.spread,
            "mid": args.mid,
            "bid": bid,
            "ask": ask,
            "bid_raw": at_mid(depths.bid_depth, -1.0),
            "ask_raw": at_mid(depths.ask_depth, 1.0),
            "reservation_price": at_mid(depths.reservation_offset, 1.0),
            "params": serde_json::to_value(&config)?,
        })
    );
    Ok(())
}
