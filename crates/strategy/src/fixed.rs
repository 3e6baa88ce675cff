//! The fixed-point twin of the GLFT asymptotic quote rule ([`crate::models::GlftAsymptotic`]) in
//! [`zkclob_core::fx::Fx`] (Q64.64) integer arithmetic, for a protocol vault that quotes inside the
//! deterministic state transition. No `f64` is touched on the computation path, so every machine
//! (and every zkVM guest) gets the same bits.
//!
//! The rule (Guéant 2017, with drift; `../shared/spec/quoting.md`): with x = ξΔ/k and
//! L(x) = ln(1 + x)/x (L(0) = 1),
//!
//! - c₁ = L(x)/k,
//! - σc₂ = σ·sqrt( γ·e^(L(x))·(1 + x) / (2·A·Δ·k) ) (since (1 + x)^(1/x + 1) = e^(L(x))·(1 + x)),
//! - δᵇ(q) = c₁ + (q + Δ/2 − μ/(γσ²))·σc₂,  δᵃ(q) = c₁ + (μ/(γσ²) − q + Δ/2)·σc₂,
//!
//! no bid at q = +Q, no ask at q = −Q.
//!
//! # Never more aggressive, provably
//! Every quantity is carried as an interval [lo, hi] that contains the exact real value: `mul` and
//! `div` round the lower end down and the upper end up; `sqrt` (which floors) gets one ulp added
//! to its upper end; `exp` and `ln` are widened by their documented error bounds
//! (`docs/fixed-point.md`: |exp − eˣ| ≤ 2⁻⁶⁵ + 2⁻¹¹⁰·eˣ, |ln − ln x| ≤ 2⁻⁶⁴); the series for L(x)
//! at small x is widened by its truncation bound. The quoted depth is the **upper** end of its
//! interval, so the bid price floor(S − δᵇ) and the ask price ceil(S + δᵃ) are never more
//! aggressive than the exact rule would give. The intervals are a few ulps wide for parameters in
//! the ranges of the tests; a price can only differ from the exact rule's when the exact price is
//! within that width of a whole tick, and then by one tick, away from the mid.
//!
//! Cost: [`FixedGlft::new`] does one `ln` (or a 12-term series), two `exp`-class operations and a
//! `sqrt`; [`FixedGlft::quote`] does four wide multiplications per side and two roundings.

use zkclob_core::fx::{Fx, FxError, Rounding};

/// Largest inventory limit Q, lots (as [`crate::models::MAX_INVENTORY_LOTS`]).
pub const MAX_INVENTORY_LOTS: i64 = 10_000;

/// Parameters of [`FixedGlft`], in the units of [`crate::models::GlftAsymptoticParams`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedGlftParams {
    /// Risk aversion γ, per tick per lot; > 0.
    pub gamma_per_tick_lot: Fx,
    /// Mid volatility σ, ticks per √s; ≥ 0 (0 requires μ = 0).
    pub sigma_ticks_per_sqrt_s: Fx,
    /// Fill intensity at zero depth A, per second; > 0.
    pub a_per_s: Fx,
    /// Fill-intensity decay k, per tick; > 0.
    pub k_per_tick: Fx,
    /// ξ, per tick per lot; ≥ 0 (ξ = γ for the CARA model, 0 for the risk-neutral one).
    pub xi_per_tick_lot: Fx,
    /// Order size Δ, lots; > 0.
    pub delta_lots: Fx,
    /// Drift μ, ticks per second (any sign).
    pub mu_ticks_per_s: Fx,
    /// Inventory limit Q, lots; 1 to [`MAX_INVENTORY_LOTS`].
    pub max_inventory_lots: i64,
}

/// Errors of the fixed-point rule. Bad input is an error, never a panic or a wrong quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FixedQuoteError {
    /// A parameter outside its domain.
    #[error("invalid parameter {name} = {value}: must be {requirement}")]
    InvalidParameter {
        /// Parameter name as in the spec (`gamma`, `sigma`, …).
        name: &'static str,
        /// The offending value.
        value: Fx,
        /// What it must be.
        requirement: &'static str,
    },
    /// Inventory outside ±Q.
    #[error("inventory {inventory} lots is beyond the limit ±{limit}")]
    InventoryBeyondLimit {
        /// The inventory, lots.
        inventory: i64,
        /// The limit Q, lots.
        limit: i64,
    },
    /// An intermediate or the result does not fit the fixed-point range (or an i64 price).
    #[error("fixed-point arithmetic failed computing {step}: {error}")]
    Arithmetic {
        /// Which quantity.
        step: &'static str,
        /// The underlying error.
        error: FxError,
    },
}

/// One side's answer and the whole quote of [`FixedGlft::quote`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedQuote {
    /// Upper bound of δᵇ, ticks (`None` at q = +Q).
    pub bid_depth_ticks: Option<Fx>,
    /// Upper bound of δᵃ, ticks (`None` at q = −Q).
    pub ask_depth_ticks: Option<Fx>,
    /// floor(S − δᵇ), ticks.
    pub bid_price_ticks: Option<i64>,
    /// ceil(S + δᵃ), ticks.
    pub ask_price_ticks: Option<i64>,
}

/// A closed interval [lo, hi] of fixed-point numbers containing an exact real value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Iv {
    lo: Fx,
    hi: Fx,
}

type Res<T> = Result<T, FixedQuoteError>;

fn arith(step: &'static str) -> impl Fn(FxError) -> FixedQuoteError {
    move |error| FixedQuoteError::Arithmetic { step, error }
}

/// Adds `ulps` units of 2⁻⁶⁴ to the upper end and subtracts them from the lower end.
fn widen(lo: Fx, hi: Fx, ulps: i128, step: &'static str) -> Res<Iv> {
    let lo = lo.checked_sub(Fx::from_raw(ulps)).map_err(arith(step))?;
    let hi = hi.checked_add(Fx::from_raw(ulps)).map_err(arith(step))?;
    Ok(Iv { lo, hi })
}

impl Iv {
    fn exact(x: Fx) -> Self {
        Iv { lo: x, hi: x }
    }

    fn add(self, o: Iv, step: &'static str) -> Res<Iv> {
        let e = arith(step);
        Ok(Iv { lo: self.lo.checked_add(o.lo).map_err(&e)?, hi: self.hi.checked_add(o.hi).map_err(&e)? })
    }

    fn sub(self, o: Iv, step: &'static str) -> Res<Iv> {
        let e = arith(step);
        Ok(Iv { lo: self.lo.checked_sub(o.hi).map_err(&e)?, hi: self.hi.checked_sub(o.lo).map_err(&e)? })
    }

    /// The hull of the four end-point products, each rounded outwards.
    fn mul(self, o: Iv, step: &'static str) -> Res<Iv> {
        let e = arith(step);
        let (mut lo, mut hi) = (Fx::MAX, Fx::MIN);
        for a in [self.lo, self.hi] {
            for b in [o.lo, o.hi] {
                lo = lo.min(a.mul(b, Rounding::Floor).map_err(&e)?);
                hi = hi.max(a.mul(b, Rounding::Ceil).map_err(&e)?);
            }
        }
        Ok(Iv { lo, hi })
    }

    /// Division by a strictly positive interval.
    fn div(self, o: Iv, step: &'static str) -> Res<Iv> {
        debug_assert!(o.lo > Fx::ZERO, "divisor interval must be positive");
        let e = arith(step);
        let (mut lo, mut hi) = (Fx::MAX, Fx::MIN);
        for a in [self.lo, self.hi] {
            for b in [o.lo, o.hi] {
                lo = lo.min(a.div(b, Rounding::Floor).map_err(&e)?);
                hi = hi.max(a.div(b, Rounding::Ceil).map_err(&e)?);
            }
        }
        Ok(Iv { lo, hi })
    }

    /// Square root of a non-negative interval: `Fx::sqrt` floors, so the upper end gains one ulp.
    fn sqrt(self, step: &'static str) -> Res<Iv> {
        let e = arith(step);
        let lo = self.lo.max(Fx::ZERO).sqrt().map_err(&e)?;
        let hi = self.hi.sqrt().map_err(&e)?.checked_add(Fx::EPSILON).map_err(&e)?;
        Ok(Iv { lo, hi })
    }

    /// eˣ, widened by |err| ≤ 2⁻⁶⁵ + 2⁻¹¹⁰·eˣ (taken as 2 + eˣ·2⁻¹⁰⁰ ulps, with margin).
    fn exp(self, step: &'static str) -> Res<Iv> {
        let e = arith(step);
        let lo = self.lo.exp().map_err(&e)?;
        let hi = self.hi.exp().map_err(&e)?;
        let slack = |v: Fx| 2 + (v.raw() >> 100);
        let lo = lo.checked_sub(Fx::from_raw(slack(lo))).map_err(&e)?.max(Fx::ZERO);
        let hi = hi.checked_add(Fx::from_raw(slack(hi))).map_err(&e)?;
        Ok(Iv { lo, hi })
    }
}

/// Below this x, L(x) = ln(1 + x)/x comes from its series (dividing a logarithm with an absolute
/// error of one ulp by a small x would amplify that error by 1/x).
const SERIES_BELOW: Fx = Fx::from_raw(1 << 58); // 2⁻⁶
/// Terms of the series; the omitted tail is below x¹²/13 < 2⁻⁷² for x < 2⁻⁶.
const SERIES_TERMS: i128 = 12;

/// L(x) = ln(1 + x)/x for x in a non-negative interval; L is decreasing, so
/// L([xl, xh]) = [L(xh), L(xl)], each end bounded outwards.
fn ln1p_over_x(x: Iv) -> Res<Iv> {
    if x.hi < SERIES_BELOW {
        return ln1p_over_x_series(x);
    }
    // Here x.lo ≥ 2⁻⁶ − (a few ulps) > 0; ln(1 + x) has |err| ≤ 1 ulp.
    let bound = |x: Fx, rounding: Rounding, ulps: i128| -> Res<Fx> {
        let e = arith("ln(1 + x)/x");
        let l = Fx::ONE.checked_add(x).map_err(&e)?.ln().map_err(&e)?;
        l.checked_add(Fx::from_raw(ulps)).map_err(&e)?.div(x, rounding).map_err(&e)
    };
    Ok(Iv { lo: bound(x.hi, Rounding::Floor, -1)?, hi: bound(x.lo, Rounding::Ceil, 1)? })
}

/// Σ_{n<12} (−x)ⁿ/(n + 1) with outward rounding, widened by one ulp for the tail.
fn ln1p_over_x_series(x: Iv) -> Res<Iv> {
    let e = arith("ln(1 + x)/x series");
    let x = Iv { lo: x.lo.max(Fx::ZERO), hi: x.hi };
    let (mut power, mut sum) = (Iv::exact(Fx::ONE), Iv::exact(Fx::ONE));
    for n in 1..SERIES_TERMS {
        power = Iv {
            lo: power.lo.mul(x.lo, Rounding::Floor).map_err(&e)?,
            hi: power.hi.mul(x.hi, Rounding::Ceil).map_err(&e)?,
        };
        let divisor = Fx::from_int(n as i64 + 1);
        let term = Iv {
            lo: power.lo.div(divisor, Rounding::Floor).map_err(&e)?,
            hi: power.hi.div(divisor, Rounding::Ceil).map_err(&e)?,
        };
        sum = if n % 2 == 0 { sum.add(term, "L series")? } else { sum.sub(term, "L series")? };
    }
    widen(sum.lo, sum.hi, 1, "L series")
}

/// The GLFT asymptotic quote rule with its constants precomputed at construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedGlft {
    params: FixedGlftParams,
    c1_ticks: Iv,
    sigma_c2_ticks_per_lot: Iv,
    drift_shift_lots: Iv,
    half_delta_lots: Iv,
}

fn require(ok: bool, name: &'static str, value: Fx, requirement: &'static str) -> Res<()> {
    if ok {
        Ok(())
    } else {
        Err(FixedQuoteError::InvalidParameter { name, value, requirement })
    }
}

fn validate(p: &FixedGlftParams) -> Res<()> {
    require(p.gamma_per_tick_lot > Fx::ZERO, "gamma", p.gamma_per_tick_lot, "> 0")?;
    require(p.sigma_ticks_per_sqrt_s >= Fx::ZERO, "sigma", p.sigma_ticks_per_sqrt_s, ">= 0")?;
    require(p.a_per_s > Fx::ZERO, "a", p.a_per_s, "> 0")?;
    require(p.k_per_tick > Fx::ZERO, "k", p.k_per_tick, "> 0")?;
    require(p.xi_per_tick_lot >= Fx::ZERO, "xi", p.xi_per_tick_lot, ">= 0")?;
    require(p.delta_lots > Fx::ZERO, "delta", p.delta_lots, "> 0")?;
    require(
        p.sigma_ticks_per_sqrt_s > Fx::ZERO || p.mu_ticks_per_s == Fx::ZERO,
        "sigma",
        p.sigma_ticks_per_sqrt_s,
        "> 0 when mu is not 0 (the drift term is mu/(gamma*sigma^2))",
    )?;
    require(
        (1..=MAX_INVENTORY_LOTS).contains(&p.max_inventory_lots),
        "max_inventory",
        Fx::from_int(p.max_inventory_lots),
        "between 1 and 10000 lots",
    )
}

impl FixedGlft {
    /// Validates the parameters and computes c₁, σc₂ and μ/(γσ²) as intervals.
    ///
    /// Errors: [`FixedQuoteError::InvalidParameter`] for γ, A, k, Δ ≤ 0, σ or ξ < 0, σ = 0 with
    /// μ ≠ 0, or Q outside [1, 10000]; [`FixedQuoteError::Arithmetic`] if a constant does not fit
    /// the fixed-point range.
    pub fn new(params: FixedGlftParams) -> Result<Self, FixedQuoteError> {
        validate(&params)?;
        let p = &params;
        let (gamma, sigma, k) =
            (Iv::exact(p.gamma_per_tick_lot), Iv::exact(p.sigma_ticks_per_sqrt_s), Iv::exact(p.k_per_tick));
        let delta = Iv::exact(p.delta_lots);
        let x = Iv::exact(p.xi_per_tick_lot).mul(delta, "xi*delta")?.div(k, "x = xi*delta/k")?;
        let l = ln1p_over_x(x)?;
        let c1 = l.div(k, "c1")?;
        let one_plus_x = Iv::exact(Fx::ONE).add(x, "1 + x")?;
        let numerator = gamma.mul(l.exp("e^L")?, "gamma*e^L")?.mul(one_plus_x, "c2 numerator")?;
        let denominator = Iv::exact(Fx::from_int(2))
            .mul(Iv::exact(p.a_per_s), "2A")?
            .mul(delta, "2A*delta")?
            .mul(k, "2A*delta*k")?;
        if denominator.lo <= Fx::ZERO {
            return Err(FixedQuoteError::Arithmetic { step: "2A*delta*k", error: FxError::DivisionByZero });
        }
        let sigma_c2 = sigma.mul(numerator.div(denominator, "c2^2")?.sqrt("c2")?, "sigma*c2")?;
        let drift_shift = if p.mu_ticks_per_s == Fx::ZERO {
            Iv::exact(Fx::ZERO)
        } else {
            let risk = gamma.mul(sigma, "gamma*sigma")?.mul(sigma, "gamma*sigma^2")?;
            if risk.lo <= Fx::ZERO {
                return Err(FixedQuoteError::Arithmetic {
                    step: "gamma*sigma^2",
                    error: FxError::DivisionByZero,
                });
            }
            Iv::exact(p.mu_ticks_per_s).div(risk, "mu/(gamma*sigma^2)")?
        };
        let half_delta = delta.div(Iv::exact(Fx::from_int(2)), "delta/2")?;
        Ok(Self {
            params,
            c1_ticks: c1,
            sigma_c2_ticks_per_lot: sigma_c2,
            drift_shift_lots: drift_shift,
            half_delta_lots: half_delta,
        })
    }

    /// The configured parameters.
    pub fn params(&self) -> &FixedGlftParams {
        &self.params
    }

    /// Upper bounds of (δᵇ, δᵃ) in ticks for inventory `inventory_lots`; `None` for the bid at +Q
    /// and the ask at −Q.
    ///
    /// Errors: [`FixedQuoteError::InventoryBeyondLimit`]; [`FixedQuoteError::Arithmetic`] on
    /// overflow.
    pub fn depths(&self, inventory_lots: i64) -> Result<(Option<Fx>, Option<Fx>), FixedQuoteError> {
        let limit = self.params.max_inventory_lots;
        if inventory_lots.checked_abs().is_none_or(|a| a > limit) {
            return Err(FixedQuoteError::InventoryBeyondLimit { inventory: inventory_lots, limit });
        }
        let q = Iv::exact(Fx::from_int(inventory_lots));
        let bid = if inventory_lots < limit {
            // δᵇ = c₁ + (q + Δ/2 − μ/(γσ²))·σc₂
            let f = q.add(self.half_delta_lots, "q + delta/2")?.sub(self.drift_shift_lots, "bid factor")?;
            Some(self.c1_ticks.add(f.mul(self.sigma_c2_ticks_per_lot, "bid skew")?, "bid depth")?.hi)
        } else {
            None
        };
        let ask = if inventory_lots > -limit {
            // δᵃ = c₁ + (μ/(γσ²) − q + Δ/2)·σc₂
            let f = self.drift_shift_lots.sub(q, "mu shift - q")?.add(self.half_delta_lots, "ask factor")?;
            Some(self.c1_ticks.add(f.mul(self.sigma_c2_ticks_per_lot, "ask skew")?, "ask depth")?.hi)
        } else {
            None
        };
        Ok((bid, ask))
    }

    /// Quotes around the reference price `mid_ticks` (may be fractional, e.g. a half tick): bid
    /// floor(S − δᵇ), ask ceil(S + δᵃ), with the depths' upper bounds, so never more aggressive
    /// than the exact rule. Negative depths are reported as they are (no book here to clip to).
    ///
    /// Errors: as [`FixedGlft::depths`], or a price outside the `i64` range.
    pub fn quote(&self, mid_ticks: Fx, inventory_lots: i64) -> Result<FixedQuote, FixedQuoteError> {
        let (bid_depth, ask_depth) = self.depths(inventory_lots)?;
        let to_price = |v: Result<Fx, FxError>, rounding: Rounding, step: &'static str| -> Res<i64> {
            let v = v.map_err(arith(step))?;
            i64::try_from(v.to_int(rounding))
                .map_err(|_| FixedQuoteError::Arithmetic { step, error: FxError::Overflow })
        };
        let bid = bid_depth
            .map(|d| to_price(mid_ticks.checked_sub(d), Rounding::Floor, "bid price"))
            .transpose()?;
        let ask =
            ask_depth.map(|d| to_price(mid_ticks.checked_add(d), Rounding::Ceil, "ask price")).transpose()?;
        Ok(FixedQuote {
            bid_depth_ticks: bid_depth,
            ask_depth_ticks: ask_depth,
            bid_price_ticks: bid,
            ask_price_ticks: ask,
        })
    }
}
