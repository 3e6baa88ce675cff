//! [`SimConfig`]: everything a run needs besides the strategy and the seed, readable from TOML
//! (every table rejects unknown keys and defaults every field), and the named stress presets.
//!
//! ```
//! use zkclob_sim::SimConfig;
//! let config = SimConfig::from_toml_str(r#"
//!     duration_s = 600.0
//!     [fundamental]
//!     sigma_per_sqrt_s = 1e-4
//!     [impact]
//!     permanent_ticks = 1.0     # Y: F moves Y·(q/D)^exponent ticks per market order
//!     [informed]
//!     horizon_s = 10.0          # informed traders know F this far ahead
//!     [latency.entry]
//!     kind = "lognormal"
//!     median_s = 0.003
//!     sigma = 0.4
//!     [[stress.windows]]
//!     start_s = 100.0
//!     end_s = 200.0
//!     sigma_multiplier = 4.0
//! "#)?;
//! assert_eq!(config.duration_s, 600.0);
//! assert!(SimConfig::from_toml_str("bogus = 1").is_err());
//! let crash = SimConfig::preset("flash_crash")?;
//! assert_eq!(crash.stress.shocks.len(), 1);
//! # Ok::<(), zkclob_sim::SimError>(())
//! ```

use serde::{Deserialize, Serialize};
use zkclob_models::hawkes::multi::MultiHawkes;
use zkclob_models::ModelError;

use crate::error::{check, SimError};
use crate::fees::FeeConfig;
use crate::latency::LatencyConfig;

/// Number of background-flow dimensions: limit, market and cancel, each by side.
pub const FLOW_DIMS: usize = 6;
/// Names of the flow dimensions, in the order used by every `[_; FLOW_DIMS]` array.
pub const FLOW_DIM_NAMES: [&str; FLOW_DIMS] =
    ["limit_buy", "limit_sell", "market_buy", "market_sell", "cancel_buy", "cancel_sell"];
/// A flow whose branching ratio is within this of 1 counts as critical (non-stationary).
pub const CRITICAL_MARGIN: f64 = 1e-9;
/// Names accepted by [`SimConfig::preset`].
pub const PRESET_NAMES: [&str; 4] = ["default", "flash_crash", "liquidity_drought", "volatility_spike"];
/// Longest run, seconds (one week).
pub const MAX_DURATION_S: f64 = 604_800.0;
/// Most samples in one run (duration / sample interval).
pub const MAX_SAMPLES: f64 = 10_000_000.0;
/// Most fundamental steps in one run (duration / step).
pub const MAX_FUNDAMENTAL_STEPS: f64 = 4_194_304.0;
/// Most book levels per side shown to the strategy.
pub const MAX_VIEW_LEVELS: usize = 64;
/// Most placement levels of the background flow.
pub const MAX_PLACEMENT_LEVELS: u32 = 1_000;
/// Most exponential kernels of the background flow.
pub const MAX_KERNELS: usize = 16;
/// Most stress windows, and most price shocks.
pub const MAX_STRESS_ITEMS: usize = 64;
/// Largest order size any size distribution produces, lots (the book's largest order).
pub const MAX_ORDER_LOTS: u64 = 1_000_000;
/// Largest baseline or agent rate, events per second.
pub const MAX_RATE_PER_S: f64 = 1e6;
/// Most market events a configuration may expect (stationary rates × duration).
pub const MAX_EXPECTED_EVENTS: f64 = 2e9;
/// Most initial background orders per side.
pub const MAX_INITIAL_ORDERS: u32 = 100_000;
/// Longest look-ahead of informed traders, seconds.
pub const MAX_INFORMED_HORIZON_S: f64 = 600.0;
/// Most fundamental steps simulated ahead of the clock (informed horizon / step).
pub const MAX_LOOKAHEAD_STEPS: f64 = 65_536.0;
/// Largest executed-to-depth ratio q/D the impact law uses: an order that empties a nearly empty
/// book moves F by at most `permanent_ticks`·this^`exponent`.
pub const MAX_IMPACT_DEPTH_RATIO: f64 = 16.0;
/// Most ticks of depth counted by the impact law.
pub const MAX_IMPACT_DEPTH_TICKS: u32 = 64;
/// Lowest initial price, ticks: leaves room below it in the book's price band.
pub const MIN_INITIAL_PRICE_TICKS: i64 = 100;
/// Highest initial price, ticks.
pub const MAX_INITIAL_PRICE_TICKS: i64 = 500_000;

/// A whole simulation setup. See the module docs for a TOML example; every field has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimConfig {
    /// Simulated time, seconds.
    pub duration_s: f64,
    /// Sampling grid of [`crate::RunLog::samples`] and [`crate::SimOutput::market`], seconds.
    pub sample_interval_s: f64,
    /// The market.
    pub market: MarketConfig,
    /// The fundamental price process.
    pub fundamental: FundamentalConfig,
    /// Background order flow (Hawkes).
    pub flow: FlowConfig,
    /// Permanent price impact of market orders on the fundamental.
    pub impact: ImpactConfig,
    /// Informed traders.
    pub informed: InformedConfig,
    /// Noise traders.
    pub noise: NoiseConfig,
    /// How our strategy is driven.
    pub agent: AgentConfig,
    /// Order-entry and market-data latencies.
    pub latency: LatencyPair,
    /// Our fees.
    pub fees: FeeConfig,
    /// Stress windows and price shocks.
    pub stress: StressConfig,
    /// Keep every market trade in [`crate::SimOutput::trades`].
    pub record_trades: bool,
    /// Run [`zkclob_book::Book::check_invariants`] after every this many book actions (0 = never;
    /// it costs O(book size), for tests).
    pub check_invariants_every: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            duration_s: 3_600.0,
            sample_interval_s: 1.0,
            market: MarketConfig::default(),
            fundamental: FundamentalConfig::default(),
            flow: FlowConfig::default(),
            impact: ImpactConfig::default(),
            informed: InformedConfig::default(),
            noise: NoiseConfig::default(),
            agent: AgentConfig::default(),
            latency: LatencyPair::default(),
            fees: FeeConfig::default(),
            stress: StressConfig::default(),
            record_trades: true,
            check_invariants_every: 0,
        }
    }
}

/// The market: where prices start and how far a market order may sweep.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MarketConfig {
    /// Initial fundamental price, ticks (the book's band is 1..=1 000 000 ticks).
    pub initial_price_ticks: i64,
    /// A market order's protection price is the opposite touch ± this many ticks.
    pub max_sweep_ticks: i64,
}

impl Default for MarketConfig {
    fn default() -> Self {
        Self { initial_price_ticks: 10_000, max_sweep_ticks: 100 }
    }
}

/// Jumps of the fundamental (relative jumps: F jumps to F·e^Y).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum JumpConfig {
    /// No jumps.
    None,
    /// Merton: Y ~ N(log_mean, log_std²) at Poisson times.
    Merton {
        /// Jumps per second.
        rate_per_s: f64,
        /// Mean log-jump.
        log_mean: f64,
        /// Standard deviation of the log-jump.
        log_std: f64,
    },
    /// Kou: Y ~ Exp(eta_up) with probability p_up, −Exp(eta_down) otherwise.
    Kou {
        /// Jumps per second.
        rate_per_s: f64,
        /// Probability of an upward jump.
        p_up: f64,
        /// Rate of upward log-jumps (> 1).
        eta_up: f64,
        /// Rate of downward log-jumps (> 0).
        eta_down: f64,
    },
}

/// Rough-volatility variance path (rough Bergomi), replacing the constant σ² of the diffusion.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoughVolConfig {
    /// Hurst exponent H in (0, 1); rough volatility is H ≈ 0.1.
    pub hurst: f64,
    /// Volatility of volatility η (≥ 0).
    pub eta: f64,
}

/// The fundamental price F: a jump-diffusion in relative terms, stepped exactly on a grid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FundamentalConfig {
    /// Grid step, seconds.
    pub step_s: f64,
    /// Drift μ, per second (relative).
    pub drift_per_s: f64,
    /// Volatility σ, per √s (relative: σ × initial price is ticks per √s).
    pub sigma_per_sqrt_s: f64,
    /// Jumps.
    pub jumps: JumpConfig,
    /// Optional rough-Bergomi variance path with forward variance σ².
    pub rough: Option<RoughVolConfig>,
}

impl Default for FundamentalConfig {
    fn default() -> Self {
        Self {
            step_s: 0.1,
            drift_per_s: 0.0,
            sigma_per_sqrt_s: 5e-5,
            jumps: JumpConfig::Merton { rate_per_s: 1.0 / 300.0, log_mean: 0.0, log_std: 5e-4 },
            rough: None,
        }
    }
}

/// One value per flow dimension, by name.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowRates {
    /// Buy limit orders.
    pub limit_buy: f64,
    /// Sell limit orders.
    pub limit_sell: f64,
    /// Buy market orders (they lift asks).
    pub market_buy: f64,
    /// Sell market orders (they hit bids).
    pub market_sell: f64,
    /// Cancels of resting background bids.
    pub cancel_buy: f64,
    /// Cancels of resting background asks.
    pub cancel_sell: f64,
}

impl FlowRates {
    /// The values in [`FLOW_DIM_NAMES`] order.
    pub fn to_array(&self) -> [f64; FLOW_DIMS] {
        [
            self.limit_buy,
            self.limit_sell,
            self.market_buy,
            self.market_sell,
            self.cancel_buy,
            self.cancel_sell,
        ]
    }
}

/// One exponential kernel of the flow: the intensity of dimension i jumps by `alpha_per_s[i][j]`
/// at each event of dimension j and decays at `decay_per_s`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KernelConfig {
    /// Decay β, per second.
    pub decay_per_s: f64,
    /// α, events per second: row i = the excited dimension, column j = the exciting one, both in
    /// [`FLOW_DIM_NAMES`] order.
    pub alpha_per_s: [[f64; FLOW_DIMS]; FLOW_DIMS],
}

/// An order-size distribution, lots (always at least 1 and at most [`MAX_ORDER_LOTS`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum SizeConfig {
    /// Always `lots`.
    Fixed {
        /// Size, lots.
        lots: u64,
    },
    /// Geometric on {1, 2, …} with mean `mean_lots` (≥ 1).
    Geometric {
        /// Mean size, lots.
        mean_lots: f64,
    },
    /// round(median · e^(σZ)), at least 1.
    LogNormal {
        /// Median size, lots.
        median_lots: f64,
        /// Standard deviation of the log-size.
        sigma: f64,
    },
}

/// Background order flow: a 6-dimensional Hawkes process (limit, market, cancel × side) with
/// sum-of-exponentials kernels. Limit orders are placed around the fundamental: a bid at level ℓ
/// is priced ⌈F⌉ − 1 − ℓ, an ask ⌊F⌋ + 1 + ℓ, with ℓ ∈ {0, …, levels − 1} drawn from a truncated
/// geometric law P(ℓ) ∝ level_decay^ℓ, so the book follows F. Each lives an exponential time of
/// mean `order_lifetime_s` (a GTD order) unless filled or cancelled first; a cancel picks a
/// uniformly random resting background order of its side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FlowConfig {
    /// Baseline intensities μ, events per second (> 0).
    pub baseline_per_s: FlowRates,
    /// Exponential kernels (at least one; all-zero α is a Poisson flow).
    pub kernels: Vec<KernelConfig>,
    /// Number of placement levels L.
    pub levels: u32,
    /// Geometric ratio of the placement profile, in (0, 1] (1 = uniform over the levels).
    pub level_decay: f64,
    /// Limit-order sizes.
    pub limit_size: SizeConfig,
    /// Market-order sizes.
    pub market_size: SizeConfig,
    /// Mean lifetime of a background limit order, seconds; `None` = good till cancelled.
    pub order_lifetime_s: Option<f64>,
    /// Background limit orders placed per side at t = 0, so the run starts with a book.
    pub initial_orders_per_side: u32,
    /// Where background limit orders are anchored: `w·F + (1 − w)·mid` with this weight `w` in
    /// [0, 1]. 1 (the default) places them around the fundamental, so the book follows F at once;
    /// smaller weights make the book lag F, so informed traders (and our quotes) see the gap —
    /// adverse selection for a market maker.
    pub anchor_weight: f64,
    /// Depth-relative market-order sizes: when set, a background market order takes ⌈φ·D⌉ lots
    /// (at least 1), where D is the displayed depth of the side it hits within
    /// `impact.depth_ticks` of the mid and φ is exponential with this mean, in (0, 10]; `None`
    /// (the default) draws sizes from `market_size`.
    pub market_depth_fraction: Option<f64>,
}

/// Row/column indices of the flow dimensions.
const LB: usize = 0;
const LS: usize = 1;
const MB: usize = 2;
const MS: usize = 3;
const CB: usize = 4;
const CS: usize = 5;

impl Default for FlowConfig {
    /// Market orders self-excite and replenish the side they hit; limits and cancels cluster.
    fn default() -> Self {
        let mut alpha = [[0.0; FLOW_DIMS]; FLOW_DIMS];
        alpha[LB][LB] = 0.6;
        alpha[LS][LS] = 0.6;
        alpha[LB][MS] = 1.6; // a sell market order hits bids: bids are replenished
        alpha[LS][MB] = 1.6;
        alpha[MB][MB] = 1.0;
        alpha[MS][MS] = 1.0;
        alpha[CB][CB] = 0.8;
        alpha[CS][CS] = 0.8;
        Self {
            baseline_per_s: FlowRates {
                limit_buy: 10.0,
                limit_sell: 10.0,
                market_buy: 1.0,
                market_sell: 1.0,
                cancel_buy: 3.0,
                cancel_sell: 3.0,
            },
            kernels: vec![KernelConfig { decay_per_s: 2.0, alpha_per_s: alpha }],
            levels: 15,
            level_decay: 0.8,
            limit_size: SizeConfig::Geometric { mean_lots: 2.0 },
            market_size: SizeConfig::Geometric { mean_lots: 3.0 },
            order_lifetime_s: Some(10.0),
            initial_orders_per_side: 60,
            anchor_weight: 1.0,
            market_depth_fraction: None,
        }
    }
}

impl FlowConfig {
    /// The flow as a `zkclob-models` Hawkes model. Validates shapes and stationarity: a branching
    /// ratio ≥ 1 − [`CRITICAL_MARGIN`] is [`SimError::NonStationaryFlow`].
    pub fn hawkes(&self) -> Result<MultiHawkes, SimError> {
        let k = self.kernels.len();
        let mut alpha = vec![0.0; FLOW_DIMS * FLOW_DIMS * k];
        for (kk, kernel) in self.kernels.iter().enumerate() {
            for (i, row) in kernel.alpha_per_s.iter().enumerate() {
                for (j, a) in row.iter().enumerate() {
                    alpha[(i * FLOW_DIMS + j) * k + kk] = *a;
                }
            }
        }
        let decays = self.kernels.iter().map(|c| c.decay_per_s).collect();
        let model = MultiHawkes::new(self.baseline_per_s.to_array().to_vec(), decays, alpha).map_err(
            |e| match e {
                ModelError::NonStationary { branching_ratio, .. } => {
                    SimError::NonStationaryFlow { branching_ratio }
                }
                other => SimError::Model(other),
            },
        )?;
        // The eigenvalue solver can put an exactly critical kernel a rounding error below 1.
        let branching_ratio = model.branching_ratio()?;
        if branching_ratio >= 1.0 - CRITICAL_MARGIN {
            return Err(SimError::NonStationaryFlow { branching_ratio });
        }
        Ok(model)
    }

    /// Long-run mean event rates (I − Γ)⁻¹μ per dimension, events per second, without stress.
    pub fn stationary_rates_per_s(&self) -> Result<[f64; FLOW_DIMS], SimError> {
        let rates = self.hawkes()?.stationary_rates_per_s()?;
        let mut out = [0.0; FLOW_DIMS];
        out.copy_from_slice(&rates);
        Ok(out)
    }

    fn validate(&self) -> Result<(), SimError> {
        for (name, mu) in FLOW_DIM_NAMES.iter().zip(self.baseline_per_s.to_array()) {
            let ok = mu > 0.0 && mu <= MAX_RATE_PER_S;
            check(&format!("flow.baseline_per_s.{name}"), mu, ok, "in (0, MAX_RATE_PER_S]")?;
        }
        if self.kernels.is_empty() || self.kernels.len() > MAX_KERNELS {
            return Err(SimError::LimitExceeded {
                what: "flow kernels (1 to limit)",
                limit: MAX_KERNELS as u64,
                got: self.kernels.len() as u64,
            });
        }
        for (kk, kernel) in self.kernels.iter().enumerate() {
            let b = kernel.decay_per_s;
            check(&format!("flow.kernels[{kk}].decay_per_s"), b, b > 0.0, "finite and > 0")?;
            for (i, row) in kernel.alpha_per_s.iter().enumerate() {
                for (j, a) in row.iter().enumerate() {
                    let name = format!("flow.kernels[{kk}].alpha_per_s[{i}][{j}]");
                    check(&name, *a, *a >= 0.0 && *a <= MAX_RATE_PER_S, "in [0, MAX_RATE_PER_S]")?;
                }
            }
        }
        let levels = self.levels;
        let ok = (1..=MAX_PLACEMENT_LEVELS).contains(&levels);
        check("flow.levels", levels as f64, ok, "in 1..=MAX_PLACEMENT_LEVELS")?;
        let r = self.level_decay;
        check("flow.level_decay", r, r > 0.0 && r <= 1.0, "in (0, 1]")?;
        let w = self.anchor_weight;
        check("flow.anchor_weight", w, (0.0..=1.0).contains(&w), "in [0, 1]")?;
        if let Some(f) = self.market_depth_fraction {
            check("flow.market_depth_fraction", f, f > 0.0 && f <= 10.0, "in (0, 10]")?;
        }
        self.limit_size.validate("flow.limit_size")?;
        self.market_size.validate("flow.market_size")?;
        if let Some(life) = self.order_lifetime_s {
            let ok = life > 0.0 && life <= MAX_DURATION_S;
            check("flow.order_lifetime_s", life, ok, "in (0, MAX_DURATION_S]")?;
        }
        let n = self.initial_orders_per_side;
        check("flow.initial_orders_per_side", n as f64, n <= MAX_INITIAL_ORDERS, "<= MAX_INITIAL_ORDERS")?;
        self.hawkes().map(|_| ())
    }
}

impl SizeConfig {
    fn validate(&self, name: &str) -> Result<(), SimError> {
        match *self {
            SizeConfig::Fixed { lots } => {
                let ok = (1..=MAX_ORDER_LOTS).contains(&lots);
                check(&format!("{name}.lots"), lots as f64, ok, "in 1..=MAX_ORDER_LOTS")
            }
            SizeConfig::Geometric { mean_lots } => {
                let ok = (1.0..=MAX_ORDER_LOTS as f64).contains(&mean_lots);
                check(&format!("{name}.mean_lots"), mean_lots, ok, "in [1, MAX_ORDER_LOTS]")
            }
            SizeConfig::LogNormal { median_lots, sigma } => {
                let ok = (0.5..=MAX_ORDER_LOTS as f64).contains(&median_lots);
                check(&format!("{name}.median_lots"), median_lots, ok, "in [0.5, MAX_ORDER_LOTS]")?;
                check(&format!("{name}.sigma"), sigma, (0.0..=5.0).contains(&sigma), "in [0, 5]")
            }
        }
    }
}

/// Permanent price impact: each market order (background, noise, or ours when it crosses; not the
/// informed traders', whose information is already in the fundamental's path) that takes q lots
/// from a side showing D lots within `depth_ticks` ticks of the mid moves the fundamental by
/// `permanent_ticks`·min(q/D, [`MAX_IMPACT_DEPTH_RATIO`])^`exponent` ticks in its direction, for
/// good. Background limit orders are placed around F, so the book, and the mid, follow: a fill
/// against a market order is followed by a move against the filled side (adverse selection),
/// and a thin book moves further per lot than a deep one. The book's own, mechanical impact (the
/// levels taken, then refilled around F) is the transient part.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImpactConfig {
    /// Permanent move of F, ticks, of an order that takes exactly the depth D (0 = no impact).
    pub permanent_ticks: f64,
    /// Concavity δ of the impact law, in (0, 1]: 0.5 is the square-root law, 1 linear (Kyle's λ
    /// per unit of depth).
    pub exponent: f64,
    /// D counts the lots of the side taken at prices within this many ticks of the mid (≥ 1;
    /// with a one-tick spread, 1 is the touch only).
    pub depth_ticks: u32,
}

impl Default for ImpactConfig {
    fn default() -> Self {
        Self { permanent_ticks: 1.75, exponent: 0.5, depth_ticks: 3 }
    }
}

impl ImpactConfig {
    /// The permanent move of F, ticks (≥ 0, in the aggressor's direction), after an order took
    /// `taken_lots` from a side that showed `depth_lots` near the mid (an empty side counts as one
    /// lot).
    ///
    /// ```
    /// use zkclob_sim::ImpactConfig;
    /// let law = ImpactConfig { permanent_ticks: 2.0, exponent: 0.5, depth_ticks: 3 };
    /// assert_eq!(law.permanent_move_ticks(40, 40), 2.0); // took all the depth near the mid
    /// assert_eq!(law.permanent_move_ticks(10, 40), 1.0); // a quarter of it: √¼ of the move
    /// assert_eq!(law.permanent_move_ticks(0, 40), 0.0);
    /// ```
    pub fn permanent_move_ticks(&self, taken_lots: u64, depth_lots: u64) -> f64 {
        if taken_lots == 0 || self.permanent_ticks <= 0.0 {
            return 0.0;
        }
        let ratio = (taken_lots as f64 / depth_lots.max(1) as f64).min(MAX_IMPACT_DEPTH_RATIO);
        self.permanent_ticks * ratio.powf(self.exponent)
    }

    fn validate(&self) -> Result<(), SimError> {
        let y = self.permanent_ticks;
        check("impact.permanent_ticks", y, (0.0..=1_000.0).contains(&y), "in [0, 1000]")?;
        let e = self.exponent;
        check("impact.exponent", e, e > 0.0 && e <= 1.0, "in (0, 1]")?;
        let k = self.depth_ticks;
        let ok = (1..=MAX_IMPACT_DEPTH_TICKS).contains(&k);
        check("impact.depth_ticks", k as f64, ok, "in 1..=MAX_IMPACT_DEPTH_TICKS")
    }
}

/// Informed traders: at Poisson times they compare where the fundamental will be `horizon_s`
/// ahead (its own path, without impact still to come or shocks) with the book's mid and, when the
/// gap exceeds the threshold, send a market order toward it. Their fills are toxic: the price
/// follows them within the horizon.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InformedConfig {
    /// Looks per second (0 = no informed traders).
    pub rate_per_s: f64,
    /// Smallest |F(t + horizon) − mid| that triggers an order, ticks.
    pub threshold_ticks: f64,
    /// How far ahead they know the fundamental, seconds (0 = F now; rounded to fundamental steps).
    pub horizon_s: f64,
    /// Order sizes.
    pub size: SizeConfig,
}

impl Default for InformedConfig {
    fn default() -> Self {
        Self {
            rate_per_s: 1.0,
            threshold_ticks: 2.0,
            horizon_s: 5.0,
            size: SizeConfig::Geometric { mean_lots: 2.0 },
        }
    }
}

/// Noise traders: market orders of random side at Poisson times.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NoiseConfig {
    /// Orders per second (0 = none).
    pub rate_per_s: f64,
    /// Order sizes.
    pub size: SizeConfig,
}

impl Default for NoiseConfig {
    fn default() -> Self {
        Self { rate_per_s: 0.5, size: SizeConfig::Geometric { mean_lots: 2.0 } }
    }
}

/// When our strategy decides. A decision follows the arrival of market data (book updates,
/// trades, our execution reports) and/or a timer, never sooner than `min_decision_interval_s`
/// after the previous one (a decision that would come sooner is deferred to that time).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentConfig {
    /// Book levels per side in the strategy's view.
    pub view_levels: usize,
    /// Decide when market data arrives.
    pub decide_on_market_data: bool,
    /// Also decide on this timer, seconds (`None` = no timer).
    pub timer_interval_s: Option<f64>,
    /// Smallest time between decisions, seconds.
    pub min_decision_interval_s: f64,
    /// The strategy's first decision, seconds (lets the book fill first).
    pub start_s: f64,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            view_levels: 5,
            decide_on_market_data: true,
            timer_interval_s: Some(1.0),
            min_decision_interval_s: 0.1,
            start_s: 5.0,
        }
    }
}

/// The two latency channels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LatencyPair {
    /// From our decision to the book (orders, cancels, amendments).
    pub entry: LatencyConfig,
    /// From the book to our strategy (book updates, trades, our execution reports).
    pub feed: LatencyConfig,
}

impl Default for LatencyPair {
    fn default() -> Self {
        Self {
            entry: LatencyConfig::Constant { delay_s: 0.002 },
            feed: LatencyConfig::Constant { delay_s: 0.001 },
        }
    }
}

/// A window of changed market conditions, [start_s, end_s). Overlapping windows multiply (and
/// their extra levels add).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StressWindow {
    /// Start, seconds.
    pub start_s: f64,
    /// End (exclusive), seconds.
    pub end_s: f64,
    /// Multiplies the baseline intensity of limit orders.
    pub limit_multiplier: f64,
    /// Multiplies the baseline intensity of market orders.
    pub market_multiplier: f64,
    /// Multiplies the baseline intensity of cancels.
    pub cancel_multiplier: f64,
    /// Limit orders are placed this many levels further from the fundamental.
    pub extra_levels: u32,
    /// Multiplies the fundamental's diffusive volatility σ.
    pub sigma_multiplier: f64,
}

impl Default for StressWindow {
    fn default() -> Self {
        Self {
            start_s: 0.0,
            end_s: 0.0,
            limit_multiplier: 1.0,
            market_multiplier: 1.0,
            cancel_multiplier: 1.0,
            extra_levels: 0,
            sigma_multiplier: 1.0,
        }
    }
}

/// A deterministic jump of the fundamental by `log_jump` at `time_s` (F → F·e^log_jump), of which
/// `recovery_fraction` is undone linearly over the following `recovery_s` seconds; at the jump,
/// `withdraw_fraction` of the resting background orders of each side are cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PriceShock {
    /// When, seconds.
    pub time_s: f64,
    /// Log-jump (−0.02 ≈ a 2% drop).
    pub log_jump: f64,
    /// Share of the jump undone afterwards, in [0, 1].
    pub recovery_fraction: f64,
    /// Duration of the recovery, seconds (> 0 when there is one).
    pub recovery_s: f64,
    /// Share of resting background orders cancelled at the jump, in [0, 1].
    pub withdraw_fraction: f64,
}

impl Default for PriceShock {
    fn default() -> Self {
        Self { time_s: 0.0, log_jump: 0.0, recovery_fraction: 0.0, recovery_s: 0.0, withdraw_fraction: 0.0 }
    }
}

/// Stress: windows of changed conditions and price shocks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StressConfig {
    /// Windows of changed conditions.
    pub windows: Vec<StressWindow>,
    /// Price shocks.
    pub shocks: Vec<PriceShock>,
}

impl StressConfig {
    /// `flash_crash` for a run of `duration_s`: at half time the fundamental drops 2%, 80% of the
    /// resting background orders are withdrawn, limit orders slow to a quarter and move 5 levels
    /// out while cancels triple for min(60 s, 10%) of the run; half of the drop is recovered over
    /// min(300 s, 30%) of the run.
    pub fn flash_crash(duration_s: f64) -> Self {
        let t = 0.5 * duration_s;
        Self {
            windows: vec![StressWindow {
                start_s: t,
                end_s: t + (0.1 * duration_s).min(60.0),
                limit_multiplier: 0.25,
                cancel_multiplier: 3.0,
                extra_levels: 5,
                ..StressWindow::default()
            }],
            shocks: vec![PriceShock {
                time_s: t,
                log_jump: -0.02,
                recovery_fraction: 0.5,
                recovery_s: (0.3 * duration_s).min(300.0),
                withdraw_fraction: 0.8,
            }],
        }
    }

    /// `liquidity_drought`: from 20% to 90% of the run, limit orders arrive at 40% of their rate
    /// and are placed 3 levels further out; cancels slow to half (there is less to cancel).
    pub fn liquidity_drought(duration_s: f64) -> Self {
        Self {
            windows: vec![StressWindow {
                start_s: 0.2 * duration_s,
                end_s: 0.9 * duration_s,
                limit_multiplier: 0.4,
                cancel_multiplier: 0.5,
                extra_levels: 3,
                ..StressWindow::default()
            }],
            shocks: Vec::new(),
        }
    }

    /// `volatility_spike`: from 40% to 60% of the run the fundamental's σ is five times larger.
    pub fn volatility_spike(duration_s: f64) -> Self {
        Self {
            windows: vec![StressWindow {
                start_s: 0.4 * duration_s,
                end_s: 0.6 * duration_s,
                sigma_multiplier: 5.0,
                ..StressWindow::default()
            }],
            shocks: Vec::new(),
        }
    }

    fn validate(&self, duration_s: f64) -> Result<(), SimError> {
        let n = self.windows.len().max(self.shocks.len());
        if n > MAX_STRESS_ITEMS {
            return Err(SimError::LimitExceeded {
                what: "stress windows or shocks",
                limit: MAX_STRESS_ITEMS as u64,
                got: n as u64,
            });
        }
        for (i, w) in self.windows.iter().enumerate() {
            let p = format!("stress.windows[{i}]");
            check(&format!("{p}.start_s"), w.start_s, w.start_s >= 0.0, "finite and >= 0")?;
            check(&format!("{p}.end_s"), w.end_s, w.end_s > w.start_s, "finite and > start_s")?;
            let m = [
                ("limit_multiplier", w.limit_multiplier),
                ("market_multiplier", w.market_multiplier),
                ("cancel_multiplier", w.cancel_multiplier),
            ];
            for (name, v) in m {
                check(&format!("{p}.{name}"), v, (0.0..=1e3).contains(&v), "in [0, 1000]")?;
            }
            let x = w.extra_levels;
            check(
                &format!("{p}.extra_levels"),
                x as f64,
                x <= MAX_PLACEMENT_LEVELS,
                "<= MAX_PLACEMENT_LEVELS",
            )?;
            let s = w.sigma_multiplier;
            check(&format!("{p}.sigma_multiplier"), s, (0.0..=1e3).contains(&s), "in [0, 1000]")?;
        }
        for (i, s) in self.shocks.iter().enumerate() {
            let p = format!("stress.shocks[{i}]");
            check(
                &format!("{p}.time_s"),
                s.time_s,
                (0.0..=duration_s).contains(&s.time_s),
                "in [0, duration_s]",
            )?;
            check(&format!("{p}.log_jump"), s.log_jump, s.log_jump.abs() <= 2.0, "in [-2, 2]")?;
            let r = s.recovery_fraction;
            check(&format!("{p}.recovery_fraction"), r, (0.0..=1.0).contains(&r), "in [0, 1]")?;
            let ok = s.recovery_s >= 0.0 && (r == 0.0 || s.recovery_s > 0.0);
            check(&format!("{p}.recovery_s"), s.recovery_s, ok, ">= 0, and > 0 with a recovery")?;
            let w = s.withdraw_fraction;
            check(&format!("{p}.withdraw_fraction"), w, (0.0..=1.0).contains(&w), "in [0, 1]")?;
        }
        Ok(())
    }
}

impl SimConfig {
    /// A named preset ([`PRESET_NAMES`]) for the default duration (one hour).
    pub fn preset(name: &str) -> Result<Self, SimError> {
        Self::preset_with_duration(name, Self::default().duration_s)
    }

    /// A named preset for a run of `duration_s`; stress times scale with the duration.
    pub fn preset_with_duration(name: &str, duration_s: f64) -> Result<Self, SimError> {
        check(
            "duration_s",
            duration_s,
            duration_s > 0.0 && duration_s <= MAX_DURATION_S,
            "in (0, MAX_DURATION_S]",
        )?;
        let stress = match name {
            "default" => StressConfig::default(),
            "flash_crash" => StressConfig::flash_crash(duration_s),
            "liquidity_drought" => StressConfig::liquidity_drought(duration_s),
            "volatility_spike" => StressConfig::volatility_spike(duration_s),
            other => return Err(SimError::UnknownPreset(other.to_string())),
        };
        Ok(Self { duration_s, stress, ..Self::default() })
    }

    /// Parses and validates a TOML document. Errors: [`SimError::Config`] for syntax, unknown keys
    /// or wrong types; the validation errors of [`SimConfig::validate`].
    pub fn from_toml_str(text: &str) -> Result<Self, SimError> {
        let config: Self = toml::from_str(text).map_err(|e| SimError::Config(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every field of every table; the first error names its field.
    pub fn validate(&self) -> Result<(), SimError> {
        let d = self.duration_s;
        check("duration_s", d, d > 0.0 && d <= MAX_DURATION_S, "in (0, MAX_DURATION_S]")?;
        let s = self.sample_interval_s;
        check(
            "sample_interval_s",
            s,
            s > 0.0 && d / s <= MAX_SAMPLES,
            "> 0 and duration_s / it <= MAX_SAMPLES",
        )?;
        let p = self.market.initial_price_ticks;
        let ok = (MIN_INITIAL_PRICE_TICKS..=MAX_INITIAL_PRICE_TICKS).contains(&p);
        check(
            "market.initial_price_ticks",
            p as f64,
            ok,
            "in [MIN_INITIAL_PRICE_TICKS, MAX_INITIAL_PRICE_TICKS]",
        )?;
        let w = self.market.max_sweep_ticks;
        check("market.max_sweep_ticks", w as f64, (1..=1_000_000).contains(&w), "in 1..=1 000 000")?;
        self.validate_fundamental()?;
        self.flow.validate()?;
        self.impact.validate()?;
        self.validate_agents()?;
        self.latency.entry.validate("latency.entry")?;
        self.latency.feed.validate("latency.feed")?;
        self.fees.validate("fees")?;
        self.stress.validate(d)?;
        let expected: f64 = self.flow.stationary_rates_per_s()?.iter().sum::<f64>() * d;
        if expected > MAX_EXPECTED_EVENTS {
            return Err(SimError::LimitExceeded {
                what: "expected background events (stationary rates × duration)",
                limit: MAX_EXPECTED_EVENTS as u64,
                got: expected as u64,
            });
        }
        Ok(())
    }

    fn validate_fundamental(&self) -> Result<(), SimError> {
        let f = &self.fundamental;
        let ok = f.step_s > 0.0 && self.duration_s / f.step_s <= MAX_FUNDAMENTAL_STEPS;
        check("fundamental.step_s", f.step_s, ok, "> 0 and duration_s / it <= MAX_FUNDAMENTAL_STEPS")?;
        check("fundamental.drift_per_s", f.drift_per_s, f.drift_per_s.abs() <= 1.0, "in [-1, 1]")?;
        let sigma = f.sigma_per_sqrt_s;
        check("fundamental.sigma_per_sqrt_s", sigma, (0.0..=0.1).contains(&sigma), "in [0, 0.1]")?;
        crate::fundamental::jump_model(f)?;
        if let Some(r) = f.rough {
            let ok = r.hurst > 0.0 && r.hurst < 1.0;
            check("fundamental.rough.hurst", r.hurst, ok, "in (0, 1)")?;
            check("fundamental.rough.eta", r.eta, (0.0..=10.0).contains(&r.eta), "in [0, 10]")?;
            check("fundamental.sigma_per_sqrt_s", sigma, sigma > 0.0, "> 0 with rough volatility")?;
        }
        Ok(())
    }

    fn validate_agents(&self) -> Result<(), SimError> {
        let i = &self.informed;
        check(
            "informed.rate_per_s",
            i.rate_per_s,
            (0.0..=MAX_RATE_PER_S).contains(&i.rate_per_s),
            "in [0, MAX_RATE_PER_S]",
        )?;
        check("informed.threshold_ticks", i.threshold_ticks, i.threshold_ticks >= 0.0, "finite and >= 0")?;
        let h = i.horizon_s;
        let ok =
            (0.0..=MAX_INFORMED_HORIZON_S).contains(&h) && h / self.fundamental.step_s <= MAX_LOOKAHEAD_STEPS;
        check(
            "informed.horizon_s",
            h,
            ok,
            "in [0, MAX_INFORMED_HORIZON_S] and horizon / fundamental.step_s <= MAX_LOOKAHEAD_STEPS",
        )?;
        i.size.validate("informed.size")?;
        let n = &self.noise;
        check(
            "noise.rate_per_s",
            n.rate_per_s,
            (0.0..=MAX_RATE_PER_S).contains(&n.rate_per_s),
            "in [0, MAX_RATE_PER_S]",
        )?;
        n.size.validate("noise.size")?;
        let a = &self.agent;
        let v = a.view_levels;
        check("agent.view_levels", v as f64, (1..=MAX_VIEW_LEVELS).contains(&v), "in 1..=MAX_VIEW_LEVELS")?;
        if let Some(t) = a.timer_interval_s {
            check("agent.timer_interval_s", t, t >= 1e-3, "finite and >= 0.001")?;
        }
        let m = a.min_decision_interval_s;
        check(
            "agent.min_decision_interval_s",
            m,
            (0.0..=MAX_DURATION_S).contains(&m),
            "in [0, MAX_DURATION_S]",
        )?;
        check("agent.start_s", a.start_s, a.start_s >= 0.0, "finite and >= 0")
    }
}
