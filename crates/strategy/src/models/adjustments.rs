//! Spread adjustments for information: the Glosten–Milgrom spread and a mark-out-based add-on.

use serde::{Deserialize, Serialize};
use zkclob_core::Side;

use crate::quoter::{ModelDepths, StrategyError};

/// The Glosten–Milgrom quotes (`../shared/spec/quoting.md`, "Other adjustments").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GlostenMilgrom {
    /// E[V | a buy arrives], the ask.
    pub ask: f64,
    /// E[V | a sell arrives], the bid.
    pub bid: f64,
    /// ask − bid; equals informed_share·(v_high − v_low) at prior ½.
    pub spread: f64,
}

/// Glosten–Milgrom (1985) zero-profit quotes. The asset is worth `v_high` with probability
/// `prior` and `v_low` otherwise; a share `informed_share` of traders knows the value (buys when it
/// is high, sells when low), the rest buy or sell with probability ½ each. The competitive market
/// maker sets ask = E[V | buy] and bid = E[V | sell]:
///
/// - P(buy | V_H) = (1 + μ)/2, P(buy | V_L) = (1 − μ)/2 (μ = informed share),
/// - ask = (π(1+μ)V_H + (1−π)(1−μ)V_L) / (π(1+μ) + (1−π)(1−μ)), bid likewise with μ → −μ.
///
/// Units are the caller's (ticks for quoting). At π = ½ the spread is μ·(V_H − V_L).
///
/// Errors: [`StrategyError::InvalidParameter`] unless `v_low` < `v_high` are finite, `prior` is
/// in the open interval (0, 1) and `informed_share` in [0, 1].
///
/// ```
/// let gm = zkclob_strategy::models::glosten_milgrom(100.0, 110.0, 0.5, 0.2)?;
/// assert!((gm.spread - 2.0).abs() < 1e-12 && (gm.ask - 106.0).abs() < 1e-12);
/// # Ok::<(), zkclob_strategy::StrategyError>(())
/// ```
pub fn glosten_milgrom(
    v_low: f64,
    v_high: f64,
    prior: f64,
    informed_share: f64,
) -> Result<GlostenMilgrom, StrategyError> {
    let bad = |name, value, requirement| Err(StrategyError::InvalidParameter { name, value, requirement });
    if !v_low.is_finite() {
        return bad("v_low", v_low, "finite");
    }
    if !(v_high.is_finite() && v_high > v_low) {
        return bad("v_high", v_high, "finite and > v_low");
    }
    if !(prior > 0.0 && prior < 1.0) {
        return bad("prior", prior, "in (0, 1)");
    }
    if !(0.0..=1.0).contains(&informed_share) {
        return bad("informed_share", informed_share, "in [0, 1]");
    }
    let expected = |w_high: f64, w_low: f64| {
        let (a, b) = (prior * w_high, (1.0 - prior) * w_low);
        // A convex combination: stays within [v_low, v_high] and never overflows.
        v_low + (v_high - v_low) * (a / (a + b))
    };
    let ask = expected(1.0 + informed_share, 1.0 - informed_share);
    let bid = expected(1.0 - informed_share, 1.0 + informed_share);
    Ok(GlostenMilgrom { ask, bid, spread: ask - bid })
}

/// Parameters of [`MarkoutSpread`]. TOML keys: `weight`, `cap`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkoutSpreadParams {
    /// EWMA weight of each new fill, in (0, 1] (e.g. 0.05 ≈ the last 20 fills).
    #[serde(rename = "weight")]
    pub ewma_weight: f64,
    /// Largest add-on per side, ticks; finite and ≥ 0.
    #[serde(rename = "cap")]
    pub cap_ticks: f64,
}

/// A spread add-on learned from the adverse mark-outs of our own fills.
///
/// For each fill the caller reports the mid at the fill and the mid a fixed mark-out horizon later
/// (its choice, e.g. 1 s or 10 s). The adverse move is how far the mid went against the position
/// the fill opened: (mid at fill − mid later) for our buys, (mid later − mid at fill) for our
/// sells. Each side keeps an EWMA of its adverse moves; the add-on of a side is that EWMA clipped
/// to [0, cap], and it is added to that side's depth: our buys are filled by sell market orders,
/// so the bid add-on estimates Cartea–Jaimungal's ε⁻, and the ask add-on ε⁺. The add-on never
/// tightens a quote (favourable mark-outs give zero), and measuring from the mid rather than from
/// our fill price keeps it independent of our own depth, so widening does not feed back into it.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkoutSpread {
    params: MarkoutSpreadParams,
    bid_ewma_ticks: f64,
    ask_ewma_ticks: f64,
    fills: u64,
}

impl MarkoutSpread {
    /// Starts with no evidence (both add-ons zero).
    ///
    /// Errors: [`StrategyError::InvalidParameter`] for a weight outside (0, 1] or a cap that is
    /// negative or not finite.
    pub fn new(params: MarkoutSpreadParams) -> Result<Self, StrategyError> {
        if !(params.ewma_weight > 0.0 && params.ewma_weight <= 1.0) {
            return Err(StrategyError::InvalidParameter {
                name: "weight",
                value: params.ewma_weight,
                requirement: "in (0, 1]",
            });
        }
        super::non_negative("cap", params.cap_ticks)?;
        Ok(Self { params, bid_ewma_ticks: 0.0, ask_ewma_ticks: 0.0, fills: 0 })
    }

    /// Records one of our fills: `side` is our side, the mids are in ticks.
    ///
    /// Errors: [`StrategyError::InvalidParameter`] for a non-finite mid (the state is unchanged).
    pub fn record_fill(
        &mut self,
        side: Side,
        mid_at_fill_ticks: f64,
        mid_after_ticks: f64,
    ) -> Result<(), StrategyError> {
        super::finite("mid_at_fill_ticks", mid_at_fill_ticks)?;
        super::finite("mid_after_ticks", mid_after_ticks)?;
        let w = self.params.ewma_weight;
        let (ewma, adverse) = match side {
            Side::Buy => (&mut self.bid_ewma_ticks, mid_at_fill_ticks - mid_after_ticks),
            Side::Sell => (&mut self.ask_ewma_ticks, mid_after_ticks - mid_at_fill_ticks),
        };
        let next = (1.0 - w) * *ewma + w * adverse;
        if next.is_finite() {
            *ewma = next;
        }
        self.fills += 1;
        Ok(())
    }

    /// The add-on of one side (our side: `Buy` is the bid), ticks, in [0, cap].
    pub fn add_on_ticks(&self, side: Side) -> f64 {
        let ewma = match side {
            Side::Buy => self.bid_ewma_ticks,
            Side::Sell => self.ask_ewma_ticks,
        };
        ewma.clamp(0.0, self.params.cap_ticks)
    }

    /// Number of fills recorded.
    pub fn fills(&self) -> u64 {
        self.fills
    }

    /// The depths widened by the add-ons (spread and reservation offset updated to match).
    pub fn apply(&self, depths: &ModelDepths) -> ModelDepths {
        let (bid_add, ask_add) = (self.add_on_ticks(Side::Buy), self.add_on_ticks(Side::Sell));
        ModelDepths {
            bid_depth: depths.bid_depth.map(|d| d + bid_add),
            ask_depth: depths.ask_depth.map(|d| d + ask_add),
            reservation_offset: depths.reservation_offset.map(|r| r + 0.5 * (ask_add - bid_add)),
            spread: depths.spread.map(|s| s + bid_add + ask_add),
        }
    }
}
