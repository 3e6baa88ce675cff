//! Q64.64 fixed-point numbers for rates, ratios and quoting rules inside the state transition.
//!
//! [`Fx`] holds an `i128` whose value is `raw / 2^64`: 63 integer bits, 64 fractional bits and a
//! sign. Every operation is integer-only, so it gives the same bits on x86-64, AArch64 and the
//! RV64IM zkVM guests, and every operation that can fail returns [`FxError`] instead of
//! panicking or wrapping.
//!
//! # Why Q64.64 in an `i128`
//! - **Range** ±2^63 ≈ ±9.2·10^18 holds any price, amount ratio or notional ratio the exchange
//!   produces, and `exp` up to `x ≈ 43.67`.
//! - **Resolution** 2^-64 ≈ 5.4·10^-20, about 19 significant decimals below one: a fee of
//!   0.01 bp, a funding rate per second, or the output of `exp`/`ln` in a quoting rule lose
//!   nothing visible.
//! - **Cost**: one `i128` is two 64-bit registers on RV64IM; a product needs four `mul`/`mulhu`
//!   pairs. Q32.32 in an `i64` is cheaper but its 2.3·10^-10 resolution and ±2.1·10^9 range are
//!   both too small for prices times rates; I80F48 (the `fixed` crate's favourite) trades 16
//!   fractional bits for range we do not need and would be an external dependency. Q64.64 also
//!   makes `from_int(i64)` exact and infallible.
//!
//! # Rounding
//! Nothing rounds silently. [`Fx::checked_add`] and [`Fx::checked_sub`] are exact.
//! [`Fx::mul`], [`Fx::div`], [`Fx::from_ratio`] and [`Fx::to_int`] take a [`Rounding`] and
//! return the exact result rounded once in that mode. The elementary functions round to
//! nearest after computing with at least 56 guard bits; their error bounds are below and are
//! held by the property and golden-value tests in `crates/core/tests/fx.rs`.
//!
//! | operation | result |
//! |---|---|
//! | `checked_add`, `checked_sub`, `checked_neg`, `checked_abs` | exact |
//! | `mul`, `div`, `from_ratio`, `to_int` | exact result rounded once in the given mode |
//! | `sqrt` | floor of the exact root (error in `[0, 2^-64)`) |
//! | `exp` | `\|err\| ≤ 2^-65 + 2^-110·eˣ` (≤ 1 ulp while `eˣ ≤ 2^45`) |
//! | `ln` | `\|err\| ≤ 2^-64` (1 ulp) for every positive input |
//! | `pow` | `\|err\| ≤ 2^-65 + (\|y\| + 2)·2^-110·xʸ` |
//! | `powi` | `\|err\| ≤ 2^-65 + (\|n\| + 66)·2^-126·\|xⁿ\|`; exact when `n > 0` and `xⁿ` is representable |
//!
//! One ulp is 2^-64. `docs/fixed-point.md` derives these bounds.
//!
//! # Cost in a zkVM
//! No loop runs more than a fixed number of times: `exp` evaluates 31 polynomial terms, `ln` 24,
//! `sqrt` at most 16 Newton steps (8 in the worst case), `powi` at most 32 squarings. Each step
//! is one 128×128→256-bit product (four 64×64→128 products) or one 256/128-bit division.

use core::cmp::Ordering;
use core::fmt;

use borsh::{BorshDeserialize, BorshSerialize};
use thiserror::Error;

/// Why a fixed-point operation has no result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum FxError {
    /// The exact result lies outside `[-2^63, 2^63 - 2^-64]`, the range of [`Fx`].
    #[error("fixed-point overflow: the result is outside [-2^63, 2^63)")]
    Overflow,
    /// A division (or a negative power) of zero.
    #[error("fixed-point division by zero")]
    DivisionByZero,
    /// The function is undefined at this argument, e.g. `ln` of a number `<= 0`, `sqrt` of a
    /// negative number, or `pow` of a negative base.
    #[error("argument outside the function's domain")]
    Domain,
}

/// How an inexact result is rounded to a multiple of 2^-64 (or to an integer for
/// [`Fx::to_int`]).
///
/// Pick the mode that favours the party who must not be able to profit from rounding: fees
/// charged round [`Rounding::Ceil`], amounts paid out round [`Rounding::Floor`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rounding {
    /// Toward negative infinity.
    Floor,
    /// Toward positive infinity.
    Ceil,
    /// Toward zero (truncation of the magnitude).
    TowardZero,
    /// To the nearest representable value; an exact tie goes to the even neighbour
    /// (banker's rounding, unbiased on average).
    NearestEven,
}

/// A signed Q64.64 fixed-point number: the value is `raw / 2^64`.
///
/// Ordering, equality and hashing are those of the raw integer, so they match the numeric
/// order. The borsh encoding is the raw `i128`, 16 bytes little-endian. There are no operator
/// impls (`+`, `*`): every operation that can overflow or round is a named method that says how.
///
/// ```
/// use zkclob_core::fx::{Fx, FxError, Rounding};
///
/// // A 2.5 bp taker fee on a notional of 1 234.5.
/// let notional = Fx::from_ratio(12_345, 10, Rounding::NearestEven)?;
/// let fee_rate = Fx::from_ratio(25, 100_000, Rounding::NearestEven)?;
/// let fee = notional.mul(fee_rate, Rounding::Ceil)?;
/// assert_eq!(fee.to_int(Rounding::Ceil), 1);
///
/// // exp and ln are inverse up to their error bounds.
/// let x = Fx::from_int(3);
/// let back = x.ln()?.exp()?;
/// assert!(back.checked_sub(x)?.checked_abs()?.raw() <= 4);
///
/// // Bad domain is an error, not a panic.
/// assert_eq!(Fx::ZERO.ln(), Err(FxError::Domain));
/// assert_eq!(Fx::MAX.mul(Fx::from_int(2), Rounding::Floor), Err(FxError::Overflow));
/// # Ok::<(), FxError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct Fx(i128);

/// The low 64 bits of a `u128`.
const LO64: u128 = u64::MAX as u128;
/// One in the Q64.64 raw scale.
const ONE_RAW: i128 = 1 << 64;
/// One in Q1.126 (unsigned, 126 fractional bits).
const ONE_Q126: u128 = 1 << 126;
/// round(ln 2 · 2^120), computed offline with mpmath at 400 bits; a unit test re-derives it.
const LN2_Q120: i128 = 0xB1_7217_F7D1_CF79_ABC9_E3B3_9803_F2F7;
/// √2 · 2^126 (rounded). `ln` splits its mantissa here; any value near √2 would be correct, this
/// one minimises the number of series terms.
const SQRT2_Q126: u128 = 0x5A82_7999_FCEF_3242_2CBE_C4D9_BAA5_5F50;
/// `exp` of anything at or above 44 overflows (e^43.67 = 2^63).
const EXP_OVERFLOW_Q120: i128 = 44 << 120;
/// `exp` of anything below -46 is below 2^-66 and rounds to zero.
const EXP_UNDERFLOW_Q120: i128 = -(46 << 120);
/// Terms of the Taylor series of e^r on `[0, ln 2)`: the first omitted term is below 2^-128.
const EXP_TERMS: usize = 31;
/// round(2^126 / n!) for n = 0..EXP_TERMS, computed at compile time.
const EXP_COEFF_Q126: [u128; EXP_TERMS] = inverse_factorials_q126();
/// Terms of the series of atanh(s)/s in z = s² for |s| < 0.1716: the tail is below 2^-129.
const ATANH_TERMS: usize = 24;
/// round(2^127 / (2n + 1)) for n = 0..ATANH_TERMS, computed at compile time.
const ATANH_COEFF_Q127: [u128; ATANH_TERMS] = inverse_odds_q127();
/// Newton steps `sqrt` may take; the worst case needs 8 (see `isqrt_q64`).
const SQRT_NEWTON_STEPS_MAX: u32 = 16;
/// Fractional digits `Display` prints when the format string gives no precision.
const DISPLAY_FRAC_DIGITS: usize = 20;
/// The most fractional digits `Display` prints: 2^-64 has exactly 64.
const DISPLAY_FRAC_DIGITS_MAX: usize = 64;

impl Fx {
    /// Number of fractional bits: the value is `raw / 2^FRAC_BITS`.
    pub const FRAC_BITS: u32 = 64;
    /// Zero.
    pub const ZERO: Fx = Fx(0);
    /// One.
    pub const ONE: Fx = Fx(ONE_RAW);
    /// The smallest positive value, 2^-64 (one ulp).
    pub const EPSILON: Fx = Fx(1);
    /// The largest value, 2^63 - 2^-64.
    pub const MAX: Fx = Fx(i128::MAX);
    /// The smallest (most negative) value, -2^63.
    pub const MIN: Fx = Fx(i128::MIN);
    /// ln 2 rounded to nearest: round(ln 2 · 2^64), computed offline with mpmath at 400 bits and
    /// re-derived from the series Σ 1/(k·2^k) by a test.
    pub const LN_2: Fx = Fx(0xB172_17F7_D1CF_79AC);
    /// Euler's number e rounded to nearest: round(e · 2^64), computed offline with mpmath at
    /// 400 bits and re-derived from the series Σ 1/k! by a test.
    pub const E: Fx = Fx(0x2_B7E1_5162_8AED_2A6B);

    /// The number whose raw Q64.64 representation is `raw` (value `raw / 2^64`).
    pub const fn from_raw(raw: i128) -> Fx {
        Fx(raw)
    }

    /// The raw Q64.64 representation: `self == raw / 2^64`.
    pub const fn raw(self) -> i128 {
        self.0
    }

    /// The integer `n`, exactly (every `i64` is representable).
    pub const fn from_int(n: i64) -> Fx {
        Fx((n as i128) << Self::FRAC_BITS)
    }

    /// `num / den` rounded in mode `rounding`.
    ///
    /// Errors: [`FxError::DivisionByZero`] if `den == 0`, [`FxError::Overflow`] if the rounded
    /// quotient is outside the range of `Fx`.
    pub fn from_ratio(num: i128, den: i128, rounding: Rounding) -> Result<Fx, FxError> {
        // raw(num) / raw(den) has the same value as num / den.
        Fx(num).div(Fx(den), rounding)
    }

    /// `self` rounded to an integer in mode `rounding`. Cannot fail: the result lies in
    /// `[-2^63, 2^63]`.
    pub fn to_int(self, rounding: Rounding) -> i128 {
        let negative = self.0 < 0;
        let mag = self.0.unsigned_abs();
        let frac = classify(mag & LO64, 1 << 63);
        // The integer part is at most 2^63, so adding one cannot overflow.
        let int_mag = round_mag(mag >> 64, frac, negative, rounding).unwrap_or(mag >> 64);
        // int_mag <= 2^63 fits an i128.
        let int = int_mag as i128;
        if negative {
            -int
        } else {
            int
        }
    }

    /// `self + rhs`, exact. Errors: [`FxError::Overflow`].
    pub fn checked_add(self, rhs: Fx) -> Result<Fx, FxError> {
        self.0.checked_add(rhs.0).map(Fx).ok_or(FxError::Overflow)
    }

    /// `self - rhs`, exact. Errors: [`FxError::Overflow`].
    pub fn checked_sub(self, rhs: Fx) -> Result<Fx, FxError> {
        self.0.checked_sub(rhs.0).map(Fx).ok_or(FxError::Overflow)
    }

    /// `-self`, exact. Errors: [`FxError::Overflow`] for [`Fx::MIN`].
    pub fn checked_neg(self) -> Result<Fx, FxError> {
        self.0.checked_neg().map(Fx).ok_or(FxError::Overflow)
    }

    /// `|self|`, exact. Errors: [`FxError::Overflow`] for [`Fx::MIN`].
    pub fn checked_abs(self) -> Result<Fx, FxError> {
        self.0.checked_abs().map(Fx).ok_or(FxError::Overflow)
    }

    /// `self · rhs`: the exact 256-bit product rounded once in mode `rounding`.
    ///
    /// Errors: [`FxError::Overflow`] if the rounded product is outside the range of `Fx`.
    pub fn mul(self, rhs: Fx, rounding: Rounding) -> Result<Fx, FxError> {
        let negative = (self.0 < 0) != (rhs.0 < 0);
        let (hi, lo) = mul_wide(self.0.unsigned_abs(), rhs.0.unsigned_abs());
        if hi > LO64 {
            // The product is at least 2^128 ulps before rounding.
            return Err(FxError::Overflow);
        }
        let frac = classify(lo & LO64, 1 << 63);
        finish((hi << 64) | (lo >> 64), frac, negative, rounding)
    }

    /// `self / rhs`: the exact quotient rounded once in mode `rounding`.
    ///
    /// Errors: [`FxError::DivisionByZero`] if `rhs` is zero, [`FxError::Overflow`] if the
    /// rounded quotient is outside the range of `Fx`.
    pub fn div(self, rhs: Fx, rounding: Rounding) -> Result<Fx, FxError> {
        if rhs.0 == 0 {
            return Err(FxError::DivisionByZero);
        }
        let negative = (self.0 < 0) != (rhs.0 < 0);
        let (num, den) = (self.0.unsigned_abs(), rhs.0.unsigned_abs());
        // |self| · 2^64 / |rhs|; no quotient means it is at least 2^128 ulps.
        let (q, r) = div_wide(num >> 64, num << 64, den).ok_or(FxError::Overflow)?;
        finish(q, classify_ratio(r, den), negative, rounding)
    }

    /// The square root, rounded down: the largest `s` with `s² <= self` (error in `[0, 2^-64)`).
    ///
    /// Errors: [`FxError::Domain`] if `self < 0`.
    pub fn sqrt(self) -> Result<Fx, FxError> {
        if self.0 < 0 {
            return Err(FxError::Domain);
        }
        let root = isqrt_q64(self.0.unsigned_abs());
        // root <= sqrt(2^127 · 2^64) < 2^96, so it fits an i128.
        Ok(Fx(root as i128))
    }

    /// eˣ, rounded to nearest after a computation with about 2^-114 relative error:
    /// `|exp(x) - eˣ| <= 2^-65 + 2^-110·eˣ`, so at most one ulp while `eˣ <= 2^45`.
    ///
    /// Inputs below -46 give zero (eˣ < 2^-66). Errors: [`FxError::Overflow`] if eˣ does not fit
    /// (from `x ≈ 43.668`, where eˣ reaches 2^63).
    pub fn exp(self) -> Result<Fx, FxError> {
        if self.0 >= EXP_OVERFLOW_Q120 >> 56 {
            return Err(FxError::Overflow);
        }
        if self.0 < EXP_UNDERFLOW_Q120 >> 56 {
            return Ok(Fx::ZERO);
        }
        // |x| <= 46, so x · 2^120 fits an i128 with room to spare.
        exp_q120(self.0 << 56)
    }

    /// The natural logarithm, with `|ln(x) - ln x| <= 2^-64` (one ulp) for every `x > 0`.
    ///
    /// Errors: [`FxError::Domain`] if `self <= 0`.
    pub fn ln(self) -> Result<Fx, FxError> {
        if self.0 <= 0 {
            return Err(FxError::Domain);
        }
        let l = ln_q120(self.0.unsigned_abs());
        let (q, frac) = shr_frac(l.unsigned_abs(), 56, false);
        finish(q, frac, l < 0, Rounding::NearestEven)
    }

    /// `selfʸ = e^(y·ln self)` for `self > 0`, computed from a 2^-114-accurate logarithm and
    /// rounded to nearest: `|pow - xʸ| <= 2^-65 + (|y| + 2)·2^-110·xʸ`.
    ///
    /// Special cases: `x⁰ = 1` for every `x`, including `0⁰ = 1` (as [`Fx::powi`] and IEEE 754
    /// `pow` do); `0ʸ = 0` for `y > 0`; results below 2^-66 are zero.
    ///
    /// Errors: [`FxError::DivisionByZero`] for `0ʸ` with `y < 0`; [`FxError::Domain`] for a
    /// negative base (use [`Fx::powi`] for integer powers of negative numbers);
    /// [`FxError::Overflow`] if the result does not fit.
    pub fn pow(self, y: Fx) -> Result<Fx, FxError> {
        match (self.0.cmp(&0), y.0.cmp(&0)) {
            (_, Ordering::Equal) => Ok(Fx::ONE),
            (Ordering::Less, _) => Err(FxError::Domain),
            (Ordering::Equal, Ordering::Greater) => Ok(Fx::ZERO),
            (Ordering::Equal, Ordering::Less) => Err(FxError::DivisionByZero),
            (Ordering::Greater, _) => {
                let l = ln_q120(self.0.unsigned_abs());
                let negative = (l < 0) != (y.0 < 0);
                // t = y · ln x in Q120: the 256-bit product of a Q64 and a Q120, shifted by 64.
                let (hi, lo) = mul_wide(l.unsigned_abs(), y.0.unsigned_abs());
                let t_mag = if hi >= 1 << 62 { u128::MAX } else { (hi << 64) | (lo >> 64) };
                if t_mag > EXP_UNDERFLOW_Q120.unsigned_abs() {
                    return if negative { Ok(Fx::ZERO) } else { Err(FxError::Overflow) };
                }
                // t_mag <= 46 · 2^120 fits an i128.
                let t = if negative { -(t_mag as i128) } else { t_mag as i128 };
                exp_q120(t)
            }
        }
    }

    /// `selfⁿ` by repeated squaring on a 128-bit mantissa with a separate exponent, rounded to
    /// nearest once at the end: `|powi - xⁿ| <= 2^-65 + (|n| + 66)·2^-126·|xⁿ|`, and exact when
    /// `n > 0` and xⁿ is representable. `x⁰ = 1` for every `x`, including zero. Results below
    /// 2^-65 round to zero.
    ///
    /// Errors: [`FxError::DivisionByZero`] for zero to a negative power, [`FxError::Overflow`]
    /// if the result does not fit.
    pub fn powi(self, n: i32) -> Result<Fx, FxError> {
        if n == 0 {
            return Ok(Fx::ONE);
        }
        if self.0 == 0 {
            return if n > 0 { Ok(Fx::ZERO) } else { Err(FxError::DivisionByZero) };
        }
        let negative = self.0 < 0 && n % 2 != 0;
        let power = Wide::from_raw_mag(self.0.unsigned_abs()).powu(n.unsigned_abs());
        if n > 0 {
            power.to_fx(negative)
        } else {
            power.recip_to_fx(negative)
        }
    }
}

#[cfg(feature = "float-conv")]
impl Fx {
    /// Research side only, never in consensus paths: the nearest `f64` to `self` (relative
    /// error at most 2^-53).
    pub fn to_f64_lossy(self) -> f64 {
        self.0 as f64 / TWO_POW_64_F64
    }

    /// Research side only, never in consensus paths: the `Fx` nearest to `value` (ties away
    /// from zero).
    ///
    /// Errors: [`FxError::Domain`] for NaN, [`FxError::Overflow`] for infinities and values
    /// outside the range of `Fx`.
    pub fn from_f64_lossy(value: f64) -> Result<Fx, FxError> {
        if value.is_nan() {
            return Err(FxError::Domain);
        }
        // Scaling by a power of two is exact.
        let scaled = value * TWO_POW_64_F64;
        if !(-TWO_POW_127_F64..TWO_POW_127_F64).contains(&scaled) {
            return Err(FxError::Overflow);
        }
        // `as` truncates toward zero; below 2^53 the remainder is exact, above it is zero.
        let truncated = scaled as i128;
        let rem = scaled - truncated as f64;
        let raw = if rem >= 0.5 {
            truncated + 1
        } else if rem <= -0.5 {
            truncated - 1
        } else {
            truncated
        };
        Ok(Fx(raw))
    }
}

/// 2^64 as an `f64` (exact).
#[cfg(feature = "float-conv")]
const TWO_POW_64_F64: f64 = 18_446_744_073_709_551_616.0;
/// 2^127 as an `f64` (exact).
#[cfg(feature = "float-conv")]
const TWO_POW_127_F64: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0;

impl fmt::Display for Fx {
    /// Exact decimal digits, truncated toward zero: 20 fractional digits by default (enough to
    /// tell any two values apart), or the format's precision up to 64 (`{:.64}` is exact).
    /// Width, fill and the `+` flag work as for integers.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let frac_digits = f.precision().unwrap_or(DISPLAY_FRAC_DIGITS).min(DISPLAY_FRAC_DIGITS_MAX);
        let mag = self.0.unsigned_abs();
        // At most 19 integer digits (2^63), a point and 64 fractional digits.
        let mut buf = [0u8; 19 + 1 + DISPLAY_FRAC_DIGITS_MAX];
        let mut len = 0;
        let mut int_digits = [0u8; 19];
        let mut int_len = 0;
        let mut int = mag >> 64;
        for slot in int_digits.iter_mut() {
            // int % 10 < 10 fits a u8.
            *slot = b'0' + (int % 10) as u8;
            int_len += 1;
            int /= 10;
            if int == 0 {
                break;
            }
        }
        for &digit in int_digits[..int_len].iter().rev() {
            buf[len] = digit;
            len += 1;
        }
        if frac_digits > 0 {
            buf[len] = b'.';
            len += 1;
            let mut frac = mag & LO64;
            for slot in buf[len..len + frac_digits].iter_mut() {
                frac *= 10;
                // frac >> 64 is the next decimal digit, below 10.
                *slot = b'0' + (frac >> 64) as u8;
                frac &= LO64;
            }
            len += frac_digits;
        }
        let text = core::str::from_utf8(&buf[..len]).map_err(|_| fmt::Error)?;
        f.pad_integral(self.0 >= 0, "", text)
    }
}

// ---------------------------------------------------------------------------------------------
// Rounding helpers.

/// Where a discarded fraction lies relative to half a unit of the kept part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Frac {
    /// Nothing was discarded: the result is exact.
    Zero,
    /// Strictly between zero and one half.
    Below,
    /// Exactly one half.
    Half,
    /// Strictly between one half and one.
    Above,
}

impl Frac {
    /// The class once nonzero bits below the examined ones are also known to be discarded.
    fn with_sticky(self, sticky: bool) -> Frac {
        match (self, sticky) {
            (Frac::Zero, true) => Frac::Below,
            (Frac::Half, true) => Frac::Above,
            (frac, _) => frac,
        }
    }
}

/// The class of `rem / (2 · half)` for `rem < 2 · half`.
fn classify(rem: u128, half: u128) -> Frac {
    if rem == 0 {
        return Frac::Zero;
    }
    match rem.cmp(&half) {
        Ordering::Less => Frac::Below,
        Ordering::Equal => Frac::Half,
        Ordering::Greater => Frac::Above,
    }
}

/// The class of `rem / den` for `rem < den`.
fn classify_ratio(rem: u128, den: u128) -> Frac {
    if rem == 0 {
        return Frac::Zero;
    }
    // Compare rem with den - rem rather than 2·rem with den, which could overflow.
    match rem.cmp(&(den - rem)) {
        Ordering::Less => Frac::Below,
        Ordering::Equal => Frac::Half,
        Ordering::Greater => Frac::Above,
    }
}

/// `v / 2^shift` split into its integer part and the class of the discarded fraction. `sticky`
/// says that nonzero bits below `v` were already discarded; it needs `shift >= 1`.
fn shr_frac(v: u128, shift: u32, sticky: bool) -> (u128, Frac) {
    let (q, frac) = match shift {
        0 => (v, Frac::Zero),
        1..=127 => (v >> shift, classify(v & ((1 << shift) - 1), 1 << (shift - 1))),
        128 => (0, classify(v, 1 << 127)),
        // v < 2^128 <= half of 2^shift.
        _ => (0, if v == 0 { Frac::Zero } else { Frac::Below }),
    };
    (q, frac.with_sticky(sticky))
}

/// The magnitude `q` rounded up by one ulp or not, for a result of sign `negative` whose
/// discarded fraction is `frac`. `None` if rounding up overflows a `u128`.
fn round_mag(q: u128, frac: Frac, negative: bool, rounding: Rounding) -> Option<u128> {
    let up = match (frac, rounding) {
        (Frac::Zero, _) | (_, Rounding::TowardZero) => false,
        (_, Rounding::Floor) => negative,
        (_, Rounding::Ceil) => !negative,
        (Frac::Below, Rounding::NearestEven) => false,
        (Frac::Half, Rounding::NearestEven) => q % 2 == 1,
        (Frac::Above, Rounding::NearestEven) => true,
    };
    if up {
        q.checked_add(1)
    } else {
        Some(q)
    }
}

/// The `Fx` with raw magnitude `mag` and sign `negative`, if it is in range.
fn from_mag(mag: u128, negative: bool) -> Result<Fx, FxError> {
    if negative {
        if mag > 1 << 127 {
            return Err(FxError::Overflow);
        }
        // mag = 2^127 casts to i128::MIN, whose wrapping negation is itself: the right value.
        Ok(Fx((mag as i128).wrapping_neg()))
    } else {
        i128::try_from(mag).map(Fx).map_err(|_| FxError::Overflow)
    }
}

/// Rounds the magnitude `q` (with discarded fraction `frac`) and attaches the sign.
fn finish(q: u128, frac: Frac, negative: bool, rounding: Rounding) -> Result<Fx, FxError> {
    let mag = round_mag(q, frac, negative, rounding).ok_or(FxError::Overflow)?;
    from_mag(mag, negative)
}

// ---------------------------------------------------------------------------------------------
// 256-bit arithmetic on u128 pairs (high, low).

/// The full product `a · b` as `(high, low)` 128-bit halves.
const fn mul_wide(a: u128, b: u128) -> (u128, u128) {
    let (a1, a0) = (a >> 64, a & LO64);
    let (b1, b0) = (b >> 64, b & LO64);
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    // Each addend is below 2^64, so mid < 3 · 2^64.
    let mid = (p00 >> 64) + (p01 & LO64) + (p10 & LO64);
    let lo = (p00 & LO64) | (mid << 64);
    let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    (hi, lo)
}

/// `(a · b) >> shift` for `1 <= shift <= 127`, where the caller knows the result is below 2^128.
const fn mul_shr(a: u128, b: u128, shift: u32) -> u128 {
    let (hi, lo) = mul_wide(a, b);
    (hi << (128 - shift)) | (lo >> shift)
}

/// Quotient and remainder of `(hi · 2^128 + lo) / d`. `None` if `d == 0` or the quotient does
/// not fit a `u128` (`hi >= d`).
fn div_wide(hi: u128, lo: u128, d: u128) -> Option<(u128, u128)> {
    if d == 0 || hi >= d {
        return None;
    }
    if hi == 0 {
        return Some((lo / d, lo % d));
    }
    if d <= LO64 {
        // Two steps with 64-bit digits; each partial dividend is below d · 2^64 <= 2^128.
        let n1 = (hi << 64) | (lo >> 64);
        let (q1, r1) = (n1 / d, n1 % d);
        let n0 = (r1 << 64) | (lo & LO64);
        return Some(((q1 << 64) | (n0 / d), n0 % d));
    }
    // Knuth's algorithm D with 64-bit digits: normalise so that d's top bit is set.
    let shift = d.leading_zeros();
    let d = d << shift;
    let (hi, lo) = if shift == 0 { (hi, lo) } else { ((hi << shift) | (lo >> (128 - shift)), lo << shift) };
    let (q1, r1) = div_3by2(hi, lo >> 64, d);
    let (q0, r0) = div_3by2(r1, lo & LO64, d);
    Some(((q1 << 64) | q0, r0 >> shift))
}

/// Quotient digit and remainder of `(u · 2^64 + u0) / d` for `d >= 2^127`, `u < d`, `u0 < 2^64`.
fn div_3by2(u: u128, u0: u128, d: u128) -> (u128, u128) {
    let (d1, d0) = (d >> 64, d & LO64);
    let mut q = (u / d1).min(LO64);
    let mut r = u - q * d1;
    // Knuth's theorem B: the estimate is at most two too large, and with both digits of d the
    // test below is exact, so after it q is the true digit.
    for _ in 0..2 {
        if r > LO64 || q * d0 <= ((r << 64) | u0) {
            break;
        }
        q -= 1;
        r += d1;
    }
    // The true remainder is below d < 2^128, so arithmetic modulo 2^128 gives it exactly.
    let rem = ((u << 64) | u0).wrapping_sub(q.wrapping_mul(d));
    (q, rem)
}

/// floor(sqrt(raw · 2^64)) for `raw < 2^128`: the raw root of a Q64.64 number.
fn isqrt_q64(raw: u128) -> u128 {
    if raw == 0 {
        return 0;
    }
    let (hi, lo) = (raw >> 64, raw << 64);
    let bits = 256 - if hi == 0 { 128 + lo.leading_zeros() } else { hi.leading_zeros() };
    // Start above the root (x0 = 2^ceil(bits/2) <= 2·sqrt(n)); integer Newton then decreases
    // strictly until it reaches floor(sqrt(n)). From relative error 1 the real iteration reaches
    // 2^-97 in 6 steps; over every bit length the integer loop takes at most 8 steps including
    // the one that detects convergence, half the cap.
    let mut x: u128 = 1 << bits.div_ceil(2);
    for _ in 0..SQRT_NEWTON_STEPS_MAX {
        // x >= floor(sqrt(n)) >= 1 and n < 2^192, so n / x < 2^128.
        let Some((q, _)) = div_wide(hi, lo, x) else { break };
        // x <= 2^96 and q < 2^97: no overflow.
        let y = (x + q) >> 1;
        if y >= x {
            break;
        }
        x = y;
    }
    x
}

// ---------------------------------------------------------------------------------------------
// exp and ln kernels.

/// round(2^126 / n!) for n < EXP_TERMS (30! < 2^108, so everything fits).
const fn inverse_factorials_q126() -> [u128; EXP_TERMS] {
    let mut out = [0u128; EXP_TERMS];
    let mut factorial: u128 = 1;
    let mut n = 0;
    while n < EXP_TERMS {
        if n > 0 {
            factorial *= n as u128;
        }
        out[n] = (ONE_Q126 + factorial / 2) / factorial;
        n += 1;
    }
    out
}

/// round(2^127 / (2n + 1)) for n < ATANH_TERMS.
const fn inverse_odds_q127() -> [u128; ATANH_TERMS] {
    let mut out = [0u128; ATANH_TERMS];
    let mut n = 0;
    while n < ATANH_TERMS {
        let odd = 2 * n as u128 + 1;
        out[n] = ((1u128 << 127) + odd / 2) / odd;
        n += 1;
    }
    out
}

/// e^t for `t` in Q120, rounded to nearest Q64.64. Zero below -46, overflow at or above 44.
fn exp_q120(t: i128) -> Result<Fx, FxError> {
    if t >= EXP_OVERFLOW_Q120 {
        return Err(FxError::Overflow);
    }
    if t < EXP_UNDERFLOW_Q120 {
        return Ok(Fx::ZERO);
    }
    // t = k·ln2 + r with r in [0, ln2): e^t = 2^k · e^r, k in [-67, 63].
    let k = t.div_euclid(LN2_Q120);
    let r = t - k * LN2_Q120;
    // r in [0, ln 2) as Q126; e^r in [1, 2) as Q126.
    let e_r = exp_poly_q126((r as u128) << 6);
    // raw = e^r · 2^k · 2^64 = e_r · 2^(k - 62).
    let shift = 62 - k;
    if shift < 0 {
        return Err(FxError::Overflow);
    }
    // shift <= 129 fits a u32.
    let (q, frac) = shr_frac(e_r, shift as u32, false);
    finish(q, frac, false, Rounding::NearestEven)
}

/// e^r in Q126 for `r` in Q126 with `0 <= r < ln 2`, by Horner's rule on the Taylor series.
/// Each step truncates below 2^-126; the total error is below 2^-120.
fn exp_poly_q126(r: u128) -> u128 {
    let mut p = EXP_COEFF_Q126[EXP_TERMS - 1];
    for coeff in EXP_COEFF_Q126[..EXP_TERMS - 1].iter().rev() {
        // p < 2 and r < 1, so p · r < 2^127 in Q126.
        p = coeff + mul_shr(p, r, 126);
    }
    p
}

/// ln(raw / 2^64) in Q120 for `0 < raw < 2^127`, with absolute error below 2^-114.
fn ln_q120(raw: u128) -> i128 {
    // raw / 2^64 = 2^e · m with m in [1/√2, √2).
    let lz = raw.leading_zeros();
    // lz is in [1, 127], so e in [-64, 63] and the mantissa shift below is in range.
    let mut e = 63 - i128::from(lz);
    let mut m = raw << (lz - 1);
    if m >= SQRT2_Q126 {
        m >>= 1;
        e += 1;
    }
    let (num, negative) = if m >= ONE_Q126 { (m - ONE_Q126, false) } else { (ONE_Q126 - m, true) };
    let den = m + ONE_Q126;
    // s = |m - 1| / (m + 1) < 0.1716 in Q127; num < den, so the quotient fits.
    let (s, _) = div_wide(num >> 1, num << 127, den).expect("num < den, so the quotient fits");
    // ln m = 2·atanh(s) = 2s · Σ zⁿ/(2n + 1) with z = s².
    let z = mul_shr(s, s, 127);
    let mut p = ATANH_COEFF_Q127[ATANH_TERMS - 1];
    for coeff in ATANH_COEFF_Q127[..ATANH_TERMS - 1].iter().rev() {
        p = coeff + mul_shr(p, z, 127);
    }
    // 2·s·p in Q127 (< 0.35), then rounded to Q120.
    let ln_m_q127 = mul_shr(s, p, 126);
    // ln_m_q127 < 2^126, so the rounded value fits an i128.
    let ln_m = ((ln_m_q127 + (1 << 6)) >> 7) as i128;
    e * LN2_Q120 + if negative { -ln_m } else { ln_m }
}

// ---------------------------------------------------------------------------------------------
// powi: a 128-bit-mantissa float with an unbounded exponent.

/// `m · 2^e` with `m` normalised (`2^127 <= m < 2^128`). Exponents stay below 2^40 in
/// magnitude for any `i32` power, far inside an `i64`.
#[derive(Clone, Copy, Debug)]
struct Wide {
    m: u128,
    e: i64,
}

impl Wide {
    /// One, exactly.
    const ONE: Wide = Wide { m: 1 << 127, e: -127 };

    /// The value `mag / 2^64` for `mag > 0`.
    fn from_raw_mag(mag: u128) -> Wide {
        let lz = mag.leading_zeros();
        Wide { m: mag << lz, e: -i64::from(lz) - 64 }
    }

    /// The product, truncated to 128 bits (relative error below 2^-127; exact if the exact
    /// product has at most 128 significant bits).
    fn mul(self, rhs: Wide) -> Wide {
        let (hi, lo) = mul_wide(self.m, rhs.m);
        let e = self.e + rhs.e + 128;
        if hi >> 127 == 1 {
            Wide { m: hi, e }
        } else {
            // Both factors are >= 2^127, so hi >= 2^126: one shift normalises.
            Wide { m: (hi << 1) | (lo >> 127), e: e - 1 }
        }
    }

    /// `selfⁿ` by binary powering: at most 31 squarings and 32 products.
    fn powu(self, n: u32) -> Wide {
        let mut acc = Wide::ONE;
        let mut base = self;
        let mut bits = n;
        for _ in 0..u32::BITS {
            if bits & 1 == 1 {
                acc = acc.mul(base);
            }
            bits >>= 1;
            if bits == 0 {
                break;
            }
            base = base.mul(base);
        }
        acc
    }

    /// `self` as an `Fx` of sign `negative`, rounded to nearest.
    fn to_fx(self, negative: bool) -> Result<Fx, FxError> {
        // raw = m · 2^(e + 64) and m >= 2^127, so a left shift always overflows.
        let shift_left = self.e + 64;
        if shift_left > 0 {
            return Err(FxError::Overflow);
        }
        let shift = u32::try_from(-shift_left).unwrap_or(u32::MAX);
        let (q, frac) = shr_frac(self.m, shift, false);
        finish(q, frac, negative, Rounding::NearestEven)
    }

    /// `1 / self` as an `Fx` of sign `negative`, rounded to nearest.
    fn recip_to_fx(self, negative: bool) -> Result<Fx, FxError> {
        // 2^254 / m is in (2^126, 2^127] and 2^126 < m, so the quotient fits.
        let Some((q, r)) = div_wide(1 << 126, 0, self.m) else { return Err(FxError::Overflow) };
        // raw = 2^64 / (m · 2^e) = (2^254 / m) · 2^(-190 - e).
        let shift_left = -190 - self.e;
        match shift_left.cmp(&0) {
            // q >= 2^126, so any left shift reaches 2^127 and overflows unless exactly -2^63;
            // that value needs q = 2^126 with r = 0, impossible since m is not 2^128.
            Ordering::Greater => Err(FxError::Overflow),
            Ordering::Equal => finish(q, classify_ratio(r, self.m), negative, Rounding::NearestEven),
            Ordering::Less => {
                let shift = u32::try_from(-shift_left).unwrap_or(u32::MAX);
                let (q, frac) = shr_frac(q, shift, r != 0);
                finish(q, frac, negative, Rounding::NearestEven)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Bitwise long division, an independent reference for `div_wide`.
    fn div_wide_reference(hi: u128, lo: u128, d: u128) -> (u128, u128) {
        let (mut q, mut r) = (0u128, hi);
        for i in (0..128).rev() {
            let carry = r >> 127;
            r = (r << 1) | ((lo >> i) & 1);
            if carry == 1 || r >= d {
                r = r.wrapping_sub(d);
                q |= 1 << i;
            }
        }
        (q, r)
    }

    fn wide_u128() -> impl Strategy<Value = u128> {
        prop_oneof![
            any::<u128>(),
            (0u32..128, any::<u128>()).prop_map(|(s, v)| v >> s),
            (0u32..128).prop_map(|s| 1u128 << s),
            (0u32..128).prop_map(|s| (1u128 << s).wrapping_sub(1)),
            Just(u128::MAX),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn div_wide_matches_bitwise_long_division(hi in wide_u128(), lo in wide_u128(), d in wide_u128()) {
            prop_assume!(d != 0);
            let hi = hi % d;
            prop_assert_eq!(div_wide(hi, lo, d), Some(div_wide_reference(hi, lo, d)));
        }

        #[test]
        fn mul_wide_is_inverted_by_div_wide(a in wide_u128(), b in wide_u128()) {
            prop_assume!(b != 0);
            let (hi, lo) = mul_wide(a, b);
            prop_assert_eq!(div_wide(hi, lo, b), Some((a, 0)));
        }

        #[test]
        fn isqrt_q64_is_the_exact_floor_root(raw in wide_u128()) {
            let raw = raw >> 1;
            let root = isqrt_q64(raw);
            let n = (raw >> 64, raw << 64);
            prop_assert!(mul_wide(root, root) <= n);
            prop_assert!(mul_wide(root + 1, root + 1) > n);
        }
    }

    #[test]
    fn isqrt_q64_is_exact_at_powers_of_two_and_neighbours() {
        for s in 0..127 {
            for raw in [(1u128 << s) - 1, 1 << s, (1 << s) + 1] {
                let root = isqrt_q64(raw);
                let n = (raw >> 64, raw << 64);
                assert!(mul_wide(root, root) <= n, "raw {raw}");
                assert!(mul_wide(root + 1, root + 1) > n, "raw {raw}");
            }
        }
    }

    #[test]
    fn div_wide_rejects_zero_divisor_and_oversized_quotient() {
        assert_eq!(div_wide(0, 1, 0), None);
        assert_eq!(div_wide(5, 0, 5), None);
        assert_eq!(div_wide(4, 0, 5), Some(div_wide_reference(4, 0, 5)));
    }

    #[test]
    fn ln2_q120_is_ln2_rounded_to_nearest_by_its_known_digits() {
        // floor(ln 2 · 10^38), from the published digits 0.69314718055994530941723212145817656807 55...
        const LN2_E38: u128 = 69_314_718_055_994_530_941_723_212_145_817_656_807;
        // floor(LN2_Q120 · 10^38 / 2^120).
        let (hi, lo) = mul_wide(LN2_Q120 as u128, 10u128.pow(38));
        let scaled = (hi << 8) | (lo >> 120);
        // Half an ulp of Q120 is 37.6 units of 10^-38; one more for the floors. Rounding the
        // wrong way would be at least 51 units off.
        assert!(scaled.abs_diff(LN2_E38) <= 39, "{scaled}");
    }

    #[test]
    fn sqrt2_q126_squares_to_two_within_one_ulp() {
        let (hi, _) = mul_wide(SQRT2_Q126, SQRT2_Q126);
        // 2 in Q252 is 2^253, whose high half is 2^125.
        assert!(hi == 1 << 125 || hi + 1 == 1 << 125);
    }

    #[test]
    fn series_coefficients_are_exact_reciprocals() {
        assert_eq!(EXP_COEFF_Q126[0], ONE_Q126);
        assert_eq!(EXP_COEFF_Q126[1], ONE_Q126);
        assert_eq!(EXP_COEFF_Q126[2], ONE_Q126 / 2);
        assert_eq!(ATANH_COEFF_Q127[0], 1 << 127);
        assert_eq!(ATANH_COEFF_Q127[1], ((1u128 << 127) + 1) / 3);
    }

    #[test]
    fn wide_mul_of_one_is_exact() {
        let x = Wide::from_raw_mag(0x1234_5678_9ABC_DEF0_1234_5678_9ABC_DEF1);
        let y = x.mul(Wide::ONE);
        assert_eq!((y.m, y.e), (x.m, x.e));
    }
}
