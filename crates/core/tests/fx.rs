//! Tests of the Q64.64 fixed-point type `Fx`: exact rounding of the arithmetic against an
//! independent 256-bit reference, the stated error bounds of the elementary functions against
//! golden values computed with mpmath and against `f64` over the useful ranges, domain errors,
//! and that no input panics.

use proptest::prelude::*;
use zkclob_core::fx::{Fx, FxError, Rounding};

const ONE_RAW: i128 = 1 << 64;
const ALL_MODES: [Rounding; 4] =
    [Rounding::Floor, Rounding::Ceil, Rounding::TowardZero, Rounding::NearestEven];

// ---------------------------------------------------------------------------------------------
// An independent 256-bit reference: shift-and-add products and bitwise long division.

/// A 256-bit unsigned integer as (high, low) halves.
type U256 = (u128, u128);

fn add_256(a: U256, b: U256) -> U256 {
    let (lo, carry) = a.1.overflowing_add(b.1);
    (a.0 + b.0 + u128::from(carry), lo)
}

fn shl_256(a: U256, s: u32) -> U256 {
    match s {
        0 => a,
        1..=127 => ((a.0 << s) | (a.1 >> (128 - s)), a.1 << s),
        _ => (a.1 << (s - 128), 0),
    }
}

fn mul_ref(a: u128, b: u128) -> U256 {
    let mut acc = (0, 0);
    for i in 0..128 {
        if (b >> i) & 1 == 1 {
            acc = add_256(acc, shl_256((0, a), i));
        }
    }
    acc
}

/// Quotient (as 256 bits) and remainder of `n / d` for `d <= 2^127`.
fn div_ref(n: U256, d: u128) -> (U256, u128) {
    let (mut q, mut r) = ((0u128, 0u128), 0u128);
    for i in (0..256).rev() {
        let bit = if i >= 128 { (n.0 >> (i - 128)) & 1 } else { (n.1 >> i) & 1 };
        // r < d <= 2^127, so the shift cannot overflow.
        r = (r << 1) | bit;
        if r >= d {
            r -= d;
            q = if i >= 128 { (q.0 | (1 << (i - 128)), q.1) } else { (q.0, q.1 | (1 << i)) };
        }
    }
    (q, r)
}

/// The expected result of rounding the exact value `sign · (q + num/den)` (with `q` a 256-bit
/// magnitude and `0 <= num < den`) in mode `rounding`, or `Overflow`.
fn round_ref(negative: bool, q: U256, num: u128, den: u128, rounding: Rounding) -> Result<i128, FxError> {
    let inexact = num != 0;
    // Compare num with den - num rather than 2·num with den, which could overflow.
    let is_half = inexact && num == den - num;
    let above_half = inexact && num > den - num;
    let round_up_mag = match rounding {
        Rounding::TowardZero => false,
        Rounding::Floor => negative && inexact,
        Rounding::Ceil => !negative && inexact,
        Rounding::NearestEven => above_half || (is_half && q.1 & 1 == 1),
    };
    let mag = if round_up_mag { add_256(q, (0, 1)) } else { q };
    if mag.0 != 0 {
        return Err(FxError::Overflow);
    }
    match (negative, mag.1) {
        (true, m) if m <= 1 << 127 => Ok((m as i128).wrapping_neg()),
        (false, m) if m < 1 << 127 => Ok(m as i128),
        _ => Err(FxError::Overflow),
    }
}

fn mul_expected(a: i128, b: i128, rounding: Rounding) -> Result<i128, FxError> {
    let p = mul_ref(a.unsigned_abs(), b.unsigned_abs());
    let q = ((p.0 >> 64), (p.0 << 64) | (p.1 >> 64));
    round_ref((a < 0) != (b < 0), q, p.1 & u128::from(u64::MAX), 1 << 64, rounding)
}

fn div_expected(a: i128, b: i128, rounding: Rounding) -> Result<i128, FxError> {
    let n = shl_256((0, a.unsigned_abs()), 64);
    let (q, r) = div_ref(n, b.unsigned_abs());
    round_ref((a < 0) != (b < 0), q, r, b.unsigned_abs(), rounding)
}

// ---------------------------------------------------------------------------------------------
// Strategies and float helpers.

/// Any raw value, with the extremes and small values over-represented.
fn any_raw() -> impl Strategy<Value = i128> {
    prop_oneof![
        4 => any::<i128>(),
        2 => (any::<i128>(), 0u32..127).prop_map(|(v, s)| v >> s),
        1 => prop::sample::select(vec![
            i128::MIN, i128::MIN + 1, i128::MAX, i128::MAX - 1, 0, 1, -1,
            ONE_RAW, -ONE_RAW, ONE_RAW - 1, ONE_RAW + 1, 1 << 126, -(1 << 126),
        ]),
    ]
}

/// A positive raw value with `bits` significant-position bits and at most 53 significant bits,
/// so that it converts to `f64` exactly.
fn f64_exact_raw(bits: std::ops::RangeInclusive<u32>) -> impl Strategy<Value = i128> {
    (bits, any::<u64>()).prop_map(|(bits, m)| {
        let mant = i128::from((m >> 11) | (1 << 52));
        if bits >= 53 {
            mant << (bits - 53)
        } else {
            mant >> (53 - bits)
        }
    })
}

/// The value of a raw Q64.64 number as `f64` (one rounding, relative error <= 2^-53).
fn to_f64(x: Fx) -> f64 {
    x.raw() as f64 / 2f64.powi(64)
}

/// `|got - want| <= abs + rel·|want|`, with a readable failure message.
fn assert_close(got: Fx, want: f64, abs: f64, rel: f64) -> Result<(), TestCaseError> {
    let got = to_f64(got);
    let tol = abs + rel * want.abs();
    prop_assert!((got - want).abs() <= tol, "got {got:e}, want {want:e}, tolerance {tol:e}");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Constants and conversions.

#[test]
fn ln_2_constant_is_the_series_value_rounded_to_nearest() {
    // ln 2 = Σ 1/(k·2^k), summed at scale 2^120: 128 truncations err by < 2^-113 in all,
    // far below the distance of the scaled value from a rounding boundary.
    let mut sum: u128 = 0;
    for k in 1..128u32 {
        sum += (1u128 << 120 >> k) / u128::from(k);
    }
    let frac = sum & ((1 << 56) - 1);
    assert!(frac.abs_diff(1 << 55) > 1 << 8, "too close to a tie to decide");
    assert_eq!(Fx::LN_2.raw(), ((sum + (1 << 55)) >> 56) as i128);
}

#[test]
fn e_constant_is_the_series_value_rounded_to_nearest() {
    // e = Σ 1/k!, summed at scale 2^120 (terms vanish after k = 33).
    let mut sum: u128 = 0;
    let mut term: u128 = 1 << 120;
    for k in 1..40u128 {
        sum += term;
        term /= k;
    }
    let frac = sum & ((1 << 56) - 1);
    assert!(frac.abs_diff(1 << 55) > 1 << 6, "too close to a tie to decide");
    assert_eq!(Fx::E.raw(), ((sum + (1 << 55)) >> 56) as i128);
}

#[test]
fn named_constants_have_their_raw_values() {
    assert_eq!(Fx::ZERO.raw(), 0);
    assert_eq!(Fx::ONE.raw(), ONE_RAW);
    assert_eq!(Fx::EPSILON.raw(), 1);
    assert_eq!(Fx::MAX.raw(), i128::MAX);
    assert_eq!(Fx::MIN.raw(), i128::MIN);
    assert_eq!(Fx::from_int(1), Fx::ONE);
    assert_eq!(Fx::from_raw(42).raw(), 42);
}

#[test]
fn from_int_is_exact_at_the_ends_of_i64() {
    assert_eq!(Fx::from_int(i64::MIN), Fx::MIN);
    assert_eq!(Fx::from_int(i64::MAX).raw(), i128::from(i64::MAX) << 64);
    assert_eq!(Fx::from_int(i64::MIN).to_int(Rounding::Floor), i128::from(i64::MIN));
}

#[test]
fn to_int_rounds_in_each_mode() {
    let half = ONE_RAW / 2;
    // (value raw, floor, ceil, toward zero, nearest even)
    let cases = [
        (2 * ONE_RAW + half, 2, 3, 2, 2),
        (3 * ONE_RAW + half, 3, 4, 3, 4),
        (-2 * ONE_RAW - half, -3, -2, -2, -2),
        (-3 * ONE_RAW - half, -4, -3, -3, -4),
        (2 * ONE_RAW + half + 1, 2, 3, 2, 3),
        (2 * ONE_RAW + half - 1, 2, 3, 2, 2),
        (-1, -1, 0, 0, 0),
        (5 * ONE_RAW, 5, 5, 5, 5),
        (i128::MAX, (1 << 63) - 1, 1 << 63, (1 << 63) - 1, 1 << 63),
        (i128::MIN, -(1 << 63), -(1 << 63), -(1 << 63), -(1 << 63)),
    ];
    for (raw, floor, ceil, toward_zero, nearest) in cases {
        let x = Fx::from_raw(raw);
        assert_eq!(x.to_int(Rounding::Floor), floor, "floor of raw {raw}");
        assert_eq!(x.to_int(Rounding::Ceil), ceil, "ceil of raw {raw}");
        assert_eq!(x.to_int(Rounding::TowardZero), toward_zero, "toward zero of raw {raw}");
        assert_eq!(x.to_int(Rounding::NearestEven), nearest, "nearest of raw {raw}");
    }
}

#[test]
fn from_ratio_rounds_one_third_and_ties_as_documented() {
    let third = ONE_RAW / 3; // 0x5555...5, the floor of 2^64 / 3
    assert_eq!(Fx::from_ratio(1, 3, Rounding::Floor), Ok(Fx::from_raw(third)));
    assert_eq!(Fx::from_ratio(1, 3, Rounding::Ceil), Ok(Fx::from_raw(third + 1)));
    assert_eq!(Fx::from_ratio(-1, 3, Rounding::Floor), Ok(Fx::from_raw(-third - 1)));
    assert_eq!(Fx::from_ratio(-1, 3, Rounding::TowardZero), Ok(Fx::from_raw(-third)));
    // 3 / 2^65 is 1.5 ulps: a tie, to even (2 ulps); 5 / 2^65 = 2.5 ulps ties to 2 ulps.
    assert_eq!(Fx::from_ratio(3, 1 << 65, Rounding::NearestEven), Ok(Fx::from_raw(2)));
    assert_eq!(Fx::from_ratio(5, 1 << 65, Rounding::NearestEven), Ok(Fx::from_raw(2)));
    assert_eq!(Fx::from_ratio(7, 0, Rounding::Floor), Err(FxError::DivisionByZero));
    assert_eq!(Fx::from_ratio(1 << 63, 1, Rounding::Floor), Err(FxError::Overflow));
    assert_eq!(Fx::from_ratio(-(1 << 63), 1, Rounding::Floor), Ok(Fx::MIN));
}

// ---------------------------------------------------------------------------------------------
// Exact arithmetic.

#[test]
fn add_and_sub_overflow_is_an_error() {
    assert_eq!(Fx::MAX.checked_add(Fx::EPSILON), Err(FxError::Overflow));
    assert_eq!(Fx::MIN.checked_sub(Fx::EPSILON), Err(FxError::Overflow));
    assert_eq!(Fx::MIN.checked_neg(), Err(FxError::Overflow));
    assert_eq!(Fx::MIN.checked_abs(), Err(FxError::Overflow));
    assert_eq!(Fx::MAX.checked_neg(), Ok(Fx::from_raw(-i128::MAX)));
    assert_eq!(Fx::ONE.checked_add(Fx::ONE), Ok(Fx::from_int(2)));
}

#[test]
fn mul_and_div_edge_cases() {
    let two = Fx::from_int(2);
    let half = Fx::from_ratio(1, 2, Rounding::Floor).expect("1/2 is representable");
    assert_eq!(Fx::MIN.mul(Fx::ONE, Rounding::Floor), Ok(Fx::MIN));
    assert_eq!(Fx::MIN.mul(Fx::ONE.checked_neg().expect("-1"), Rounding::Floor), Err(FxError::Overflow));
    assert_eq!(Fx::MIN.div(Fx::from_int(-1), Rounding::Floor), Err(FxError::Overflow));
    assert_eq!(Fx::MAX.mul(two, Rounding::Floor), Err(FxError::Overflow));
    assert_eq!(Fx::MIN.mul(half, Rounding::Floor), Ok(Fx::from_int(i64::MIN / 2)));
    assert_eq!(Fx::ONE.div(Fx::ZERO, Rounding::Floor), Err(FxError::DivisionByZero));
    assert_eq!(Fx::ZERO.div(Fx::ZERO, Rounding::Floor), Err(FxError::DivisionByZero));
    assert_eq!(Fx::EPSILON.div(Fx::MAX, Rounding::Ceil), Ok(Fx::EPSILON));
    assert_eq!(Fx::EPSILON.div(Fx::MAX, Rounding::Floor), Ok(Fx::ZERO));
    assert_eq!(Fx::EPSILON.mul(Fx::EPSILON, Rounding::Floor), Ok(Fx::ZERO));
    assert_eq!(
        Fx::EPSILON.checked_neg().expect("-eps").mul(Fx::EPSILON, Rounding::Floor),
        Ok(Fx::from_raw(-1))
    );
    assert_eq!(Fx::MIN.div(Fx::MIN, Rounding::Floor), Ok(Fx::ONE));
    assert_eq!(Fx::MIN.div(Fx::from_int(2), Rounding::Floor), Ok(Fx::from_int(i64::MIN / 2)));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn mul_is_the_exact_product_rounded_once(a in any_raw(), b in any_raw(), mode in 0usize..4) {
        let rounding = ALL_MODES[mode];
        let got = Fx::from_raw(a).mul(Fx::from_raw(b), rounding).map(Fx::raw);
        prop_assert_eq!(got, mul_expected(a, b, rounding));
    }

    #[test]
    fn div_is_the_exact_quotient_rounded_once(a in any_raw(), b in any_raw(), mode in 0usize..4) {
        let rounding = ALL_MODES[mode];
        let got = Fx::from_raw(a).div(Fx::from_raw(b), rounding).map(Fx::raw);
        if b == 0 {
            prop_assert_eq!(got, Err(FxError::DivisionByZero));
        } else {
            prop_assert_eq!(got, div_expected(a, b, rounding));
        }
    }

    #[test]
    fn mul_and_div_round_exact_ties_to_even(a in any_raw(), k in prop::sample::select(vec![-3i128, -1, 1, 3]), mode in 0usize..4) {
        // An odd a times k·2^-1 (raw k·2^63) ends in exactly half an ulp, and so does an odd a
        // divided by 2 (raw 2^65); the other modes must agree with the reference as well.
        let rounding = ALL_MODES[mode];
        let a = a | 1;
        let got = Fx::from_raw(a).mul(Fx::from_raw(k << 63), rounding).map(Fx::raw);
        prop_assert_eq!(got, mul_expected(a, k << 63, rounding));
        let got = Fx::from_raw(a).div(Fx::from_raw(k << 65), rounding).map(Fx::raw);
        prop_assert_eq!(got, div_expected(a, k << 65, rounding));
    }

    #[test]
    fn from_ratio_of_i64_values_is_the_exact_ratio_rounded(num in (i64::MIN + 1)..=i64::MAX, den in any::<i64>()) {
        prop_assume!(den != 0);
        // num / den = (num·2^64 / den) ulps; with den > 0, div_euclid is the floor.
        let scaled = i128::from(num) << 64;
        let (n, d) = if den < 0 { (-scaled, -i128::from(den)) } else { (scaled, i128::from(den)) };
        let (floor, rem) = (n.div_euclid(d), n.rem_euclid(d));
        let ceil = floor + i128::from(rem != 0);
        let nearest = match (2 * rem).cmp(&d) {
            std::cmp::Ordering::Less => floor,
            std::cmp::Ordering::Equal => floor + (floor & 1),
            std::cmp::Ordering::Greater => ceil,
        };
        let toward_zero = if floor < 0 { ceil } else { floor };
        let (num, den) = (i128::from(num), i128::from(den));
        prop_assert_eq!(Fx::from_ratio(num, den, Rounding::Floor), Ok(Fx::from_raw(floor)));
        prop_assert_eq!(Fx::from_ratio(num, den, Rounding::Ceil), Ok(Fx::from_raw(ceil)));
        prop_assert_eq!(Fx::from_ratio(num, den, Rounding::NearestEven), Ok(Fx::from_raw(nearest)));
        prop_assert_eq!(Fx::from_ratio(num, den, Rounding::TowardZero), Ok(Fx::from_raw(toward_zero)));
    }
}

// ---------------------------------------------------------------------------------------------
// sqrt.

const SQRT_GOLDEN: [(i128, i128); 6] = [
    (1, 4294967296),
    (2, 6074000999),
    (36893488147419103232, 26087635650665564424),
    (18446744073709551616000000000000000000, 18446744073709551616000000000),
    (4611686018427387904, 9223372036854775808),
    (170141183460469231731687303715884105727, 56022770974786139918731938227),
];

#[test]
fn sqrt_matches_golden_floor_roots() {
    for (x, root) in SQRT_GOLDEN {
        assert_eq!(Fx::from_raw(x).sqrt(), Ok(Fx::from_raw(root)), "sqrt of raw {x}");
    }
    assert_eq!(Fx::ZERO.sqrt(), Ok(Fx::ZERO));
    assert_eq!(Fx::from_int(4).sqrt(), Ok(Fx::from_int(2)));
}

#[test]
fn sqrt_of_a_negative_number_is_a_domain_error() {
    assert_eq!(Fx::from_raw(-1).sqrt(), Err(FxError::Domain));
    assert_eq!(Fx::MIN.sqrt(), Err(FxError::Domain));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn sqrt_is_the_exact_floor_of_the_root(x in any_raw()) {
        // Map negatives onto non-negatives (MIN onto MAX).
        let x = if x < 0 { !x } else { x };
        let root = Fx::from_raw(x).sqrt().map(Fx::raw);
        prop_assert!(root.is_ok());
        let root = root.unwrap_or_default().unsigned_abs();
        let n = shl_256((0, x.unsigned_abs()), 64);
        prop_assert!(mul_ref(root, root) <= n);
        prop_assert!(mul_ref(root + 1, root + 1) > n);
    }

    #[test]
    fn sqrt_agrees_with_f64_up_to_1e18(x in f64_exact_raw(1..=124)) {
        let got = Fx::from_raw(x).sqrt();
        prop_assert!(got.is_ok());
        let want = to_f64(Fx::from_raw(x)).sqrt();
        assert_close(got.unwrap_or(Fx::ZERO), want, 2f64.powi(-63), 2f64.powi(-51))?;
    }
}

// ---------------------------------------------------------------------------------------------
// exp.

/// (x raw, round(eˣ · 2^64)) from mpmath at 500 bits.
const EXP_GOLDEN: [(i128, i128); 16] = [
    (-839326855353784598528, 0),
    (-811656739243220271104, 1),
    (-737869762948382064640, 78),
    (-373546567492618420224, 29611231114),
    (-18446744073709551616, 6786177901268885275),
    (-16777216, 18446744073692774400),
    (1, 18446744073709551617),
    (9223372036854775808, 30413539329486470295),
    (18446744073709551616, 50143449209799256683),
    (46116860184273879040, 224727348272609201831),
    (184467440737095516160, 406316577365116946489258),
    (368934881474191032320, 8949718193195685364729616377),
    (553402322211286548480, 197130661655584132723172888230484),
    (737869762948382064640, 4342091776064339869272522905257458571),
    (802433367206365495296, 143790331610491631101045964686720308232),
    (805384846258159023555, 168739517288429257733138085920213515754),
];

#[test]
fn exp_is_within_its_stated_bound_of_golden_values() {
    // Bound: |err| <= 2^-65 + 2^-110·eˣ; against the rounded reference add half an ulp.
    for (x, want) in EXP_GOLDEN {
        let got = Fx::from_raw(x).exp().map(Fx::raw);
        let allowed = 1 + (want >> 110);
        assert!(
            got.is_ok_and(|g| g.abs_diff(want) <= allowed.unsigned_abs()),
            "exp of raw {x}: {got:?} vs {want}"
        );
    }
}

#[test]
fn exp_at_zero_and_one_gives_one_and_e() {
    assert_eq!(Fx::ZERO.exp(), Ok(Fx::ONE));
    assert_eq!(Fx::ONE.exp(), Ok(Fx::E));
}

#[test]
fn exp_overflows_above_ln_of_the_maximum_and_underflows_to_zero() {
    // ln(2^63) = 43.66827...
    assert_eq!(Fx::from_int(44).exp(), Err(FxError::Overflow));
    assert_eq!(Fx::from_ratio(43_669, 1000, Rounding::Floor).and_then(Fx::exp), Err(FxError::Overflow));
    assert!(Fx::from_ratio(43_668, 1000, Rounding::Floor).and_then(Fx::exp).is_ok());
    assert_eq!(Fx::MAX.exp(), Err(FxError::Overflow));
    assert_eq!(Fx::MIN.exp(), Ok(Fx::ZERO));
    assert_eq!(Fx::from_int(-46).exp(), Ok(Fx::ZERO));
    assert_eq!(Fx::from_int(-44).exp(), Ok(Fx::EPSILON));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    #[test]
    fn exp_agrees_with_f64_on_minus_40_to_40(n in -(40i64 << 40)..=(40i64 << 40)) {
        // n · 2^-40 has at most 46 significant bits, so x is exact in f64.
        let x = Fx::from_raw(i128::from(n) << 24);
        let got = x.exp();
        prop_assert!(got.is_ok());
        let want = to_f64(x).exp();
        assert_close(got.unwrap_or(Fx::ZERO), want, 2f64.powi(-63), 2f64.powi(-50))?;
    }

    #[test]
    fn exp_is_monotonic_on_neighbouring_inputs(n in -(43i64 << 40)..=(43i64 << 40)) {
        let x = Fx::from_raw(i128::from(n) << 24);
        let y = Fx::from_raw(x.raw() + (1 << 24));
        prop_assert!(x.exp().ok() <= y.exp().ok());
    }
}

// ---------------------------------------------------------------------------------------------
// ln.

/// (x raw, round(ln x · 2^64)) from mpmath at 500 bits.
const LN_GOLDEN: [(i128, i128); 10] = [
    (1, -818323753292969962226),
    (18446744074, -382276781265308372793),
    (9223372036854775808, -12786308645202655660),
    (18446744073709551615, -1),
    (18446744073709551617, 1),
    (36893488147419103232, 12786308645202655660),
    (184467440737095516160, 42475197918399869020),
    (18446744073709551616000000000000, 509702375020798428236),
    (85070591730234615865843651857942052864, 792751136002564650907),
    (170141183460469231731687303715884105727, 805537444647767306567),
];

#[test]
fn ln_is_within_one_ulp_of_golden_values() {
    for (x, want) in LN_GOLDEN {
        let got = Fx::from_raw(x).ln().map(Fx::raw);
        assert!(got.is_ok_and(|g| g.abs_diff(want) <= 1), "ln of raw {x}: {got:?} vs {want}");
    }
    assert_eq!(Fx::ONE.ln(), Ok(Fx::ZERO));
    assert_eq!(Fx::from_int(2).ln(), Ok(Fx::LN_2));
}

#[test]
fn ln_of_a_non_positive_number_is_a_domain_error() {
    assert_eq!(Fx::ZERO.ln(), Err(FxError::Domain));
    assert_eq!(Fx::from_raw(-1).ln(), Err(FxError::Domain));
    assert_eq!(Fx::MIN.ln(), Err(FxError::Domain));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    #[test]
    fn ln_agrees_with_f64_on_1e_minus_9_to_1e12(x in f64_exact_raw(35..=104)) {
        let x = Fx::from_raw(x);
        let got = x.ln();
        prop_assert!(got.is_ok());
        let want = to_f64(x).ln();
        assert_close(got.unwrap_or(Fx::ZERO), want, 2f64.powi(-62), 2f64.powi(-50))?;
    }

    #[test]
    fn exp_inverts_ln_to_within_the_bounds(x in f64_exact_raw(30..=104)) {
        // exp(ln x) = x·e^δ with |δ| <= 2^-64 from ln, plus exp's own error.
        let x = Fx::from_raw(x);
        let back = x.ln().and_then(Fx::exp).map(Fx::raw);
        let allowed = 2 + (x.raw() >> 62);
        prop_assert!(back.is_ok_and(|b| b.abs_diff(x.raw()) <= allowed.unsigned_abs()), "{back:?} vs {}", x.raw());
    }
}

// ---------------------------------------------------------------------------------------------
// pow and powi.

/// (x raw, y raw, round(xʸ · 2^64)) from mpmath at 500 bits.
const POW_GOLDEN: [(i128, i128, i128); 8] = [
    (36893488147419103232, 9223372036854775808, 26087635650665564425),
    (184467440737095516160, -55340232221128654848, 18446744073709552),
    (18446744073709551616000, 92233720368547758080, 18446744073709551616000000000000000),
    (18446744073709552, -92233720368547758080, 18446744073709549696000000000000120),
    (9223372036854775808, 1162144876643701751808, 2),
    (18448588748116922571, 184467440737095516160000, 50140942267140968910),
    (55340232221128654848, -4611686018427387904, 14016494431286548604),
    (36893488147419103232, 1160300202236330796646, 158747337387734386589124452558203916599),
];

#[test]
fn pow_is_within_its_stated_bound_of_golden_values() {
    // Bound: |err| <= 2^-65 + (|y| + 2)·2^-110·xʸ; against the rounded reference add half an ulp.
    for (x, y, want) in POW_GOLDEN {
        let got = Fx::from_raw(x).pow(Fx::from_raw(y)).map(Fx::raw);
        let y_int_ceil = (y.unsigned_abs() >> 64) + 1;
        let allowed = 1 + (((y_int_ceil + 2) * (want.unsigned_abs() >> 100)) >> 10);
        assert!(got.is_ok_and(|g| g.abs_diff(want) <= allowed), "pow of raw {x}, {y}: {got:?} vs {want}");
    }
}

#[test]
fn pow_special_cases_follow_the_documented_rules() {
    let half = Fx::from_ratio(1, 2, Rounding::Floor).expect("1/2");
    let minus_one = Fx::from_int(-1);
    assert_eq!(Fx::ZERO.pow(Fx::ZERO), Ok(Fx::ONE));
    assert_eq!(minus_one.pow(Fx::ZERO), Ok(Fx::ONE));
    assert_eq!(Fx::ZERO.pow(half), Ok(Fx::ZERO));
    assert_eq!(Fx::ZERO.pow(minus_one), Err(FxError::DivisionByZero));
    assert_eq!(minus_one.pow(half), Err(FxError::Domain));
    assert_eq!(Fx::from_int(2).pow(Fx::from_int(64)), Err(FxError::Overflow));
    assert_eq!(Fx::from_int(2).pow(Fx::from_int(-70)), Ok(Fx::ZERO));
    assert_eq!(Fx::MAX.pow(Fx::MAX), Err(FxError::Overflow));
    assert_eq!(Fx::MAX.pow(Fx::MIN), Ok(Fx::ZERO));
    assert_eq!(Fx::EPSILON.pow(Fx::MAX), Ok(Fx::ZERO));
    assert_eq!(Fx::from_int(7).pow(Fx::ONE).map(|p| p.raw().abs_diff(7 << 64) <= 2), Ok(true));
}

#[test]
fn powi_is_exact_when_the_result_is_representable() {
    let one_and_half = Fx::from_ratio(3, 2, Rounding::Floor).expect("1.5");
    assert_eq!(Fx::from_int(3).powi(5), Ok(Fx::from_int(243)));
    assert_eq!(one_and_half.powi(2), Fx::from_ratio(9, 4, Rounding::Floor));
    assert_eq!(Fx::from_int(-2).powi(63), Ok(Fx::MIN));
    assert_eq!(Fx::from_int(-2).powi(3), Ok(Fx::from_int(-8)));
    assert_eq!(Fx::from_int(-2).powi(-1), Fx::from_ratio(-1, 2, Rounding::Floor));
    assert_eq!(Fx::from_ratio(-1, 2, Rounding::Floor).and_then(|x| x.powi(-63)), Ok(Fx::MIN));
    assert_eq!(Fx::from_int(2).powi(-64), Ok(Fx::EPSILON));
    assert_eq!(Fx::from_int(10).powi(18), Ok(Fx::from_int(1_000_000_000_000_000_000)));
    assert_eq!(Fx::EPSILON.powi(1), Ok(Fx::EPSILON));
    assert_eq!(Fx::MAX.powi(1), Ok(Fx::MAX));
    assert_eq!(Fx::MIN.powi(1), Ok(Fx::MIN));
}

#[test]
fn powi_rounds_to_nearest_even_and_reports_overflow_and_zero_division() {
    // 2^-65 is half an ulp: a tie, to even zero. (3·2^-33)² is 2.25 ulps and (3·2^-22)³ is
    // 6.75 ulps.
    assert_eq!(Fx::from_int(2).powi(-65), Ok(Fx::ZERO));
    assert_eq!(Fx::from_int(-2).powi(-65), Ok(Fx::ZERO));
    assert_eq!(Fx::from_raw(3 << 31).powi(2), Ok(Fx::from_raw(2)));
    assert_eq!(Fx::from_raw(3 << 42).powi(3), Ok(Fx::from_raw(7)));
    assert_eq!(Fx::from_raw(-(3 << 42)).powi(3), Ok(Fx::from_raw(-7)));
    assert_eq!(Fx::from_int(2).powi(63), Err(FxError::Overflow));
    assert_eq!(Fx::from_int(2).powi(i32::MAX), Err(FxError::Overflow));
    assert_eq!(Fx::from_int(2).powi(i32::MIN), Ok(Fx::ZERO));
    assert_eq!(Fx::EPSILON.powi(-1), Err(FxError::Overflow));
    assert_eq!(Fx::ZERO.powi(0), Ok(Fx::ONE));
    assert_eq!(Fx::ZERO.powi(3), Ok(Fx::ZERO));
    assert_eq!(Fx::ZERO.powi(-3), Err(FxError::DivisionByZero));
    assert_eq!(Fx::MIN.powi(i32::MIN), Ok(Fx::ZERO));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn pow_agrees_with_f64_for_x_in_1e_minus_3_to_1e3_and_y_in_minus_5_to_5(
        x in f64_exact_raw(55..=74),
        n in -(5i64 << 40)..=(5i64 << 40),
    ) {
        let (x, y) = (Fx::from_raw(x), Fx::from_raw(i128::from(n) << 24));
        let got = x.pow(y);
        prop_assert!(got.is_ok());
        let want = to_f64(x).powf(to_f64(y));
        assert_close(got.unwrap_or(Fx::ZERO), want, 2f64.powi(-63), 2f64.powi(-49))?;
    }

    #[test]
    fn powi_agrees_with_f64(x in f64_exact_raw(58..=70), n in -40i32..=40, negative in any::<bool>()) {
        let x = if negative { -x } else { x };
        let x = Fx::from_raw(x);
        // powf, not powi: f64's powi multiplies repeatedly and is off by several ulps.
        let want = to_f64(x).powf(f64::from(n));
        match x.powi(n) {
            Ok(got) => assert_close(got, want, 2f64.powi(-63), 2f64.powi(-50))?,
            Err(e) => {
                prop_assert_eq!(e, FxError::Overflow);
                prop_assert!(want.abs() >= 2f64.powi(63) * (1.0 - 2f64.powi(-50)));
            }
        }
    }

    #[test]
    fn powi_matches_pow_for_positive_bases(x in f64_exact_raw(60..=68), n in -20i32..=20) {
        let x = Fx::from_raw(x);
        let (a, b) = (x.powi(n), x.pow(Fx::from_int(i64::from(n))));
        if let (Ok(a), Ok(b)) = (a, b) {
            let allowed = 2 + (a.raw().unsigned_abs() >> 100);
            prop_assert!(a.raw().abs_diff(b.raw()) <= allowed, "{} vs {}", a.raw(), b.raw());
        } else {
            prop_assert_eq!(a.is_ok(), b.is_ok());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// No input panics.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn no_operation_panics_on_any_raw_value(a in any_raw(), b in any_raw(), n in any::<i32>(), mode in 0usize..4) {
        let (x, y) = (Fx::from_raw(a), Fx::from_raw(b));
        let rounding = ALL_MODES[mode];
        let _ = (x.checked_add(y), x.checked_sub(y), x.checked_neg(), x.checked_abs());
        let _ = (x.mul(y, rounding), x.div(y, rounding), x.to_int(rounding));
        let _ = Fx::from_ratio(a, b, rounding);
        let _ = (x.sqrt(), x.exp(), x.ln(), x.pow(y), x.powi(n));
        let _ = format!("{x} {x:.64} {x:.0} {x:>90}");
    }

    #[test]
    fn domain_errors_are_exactly_the_documented_ones(a in any_raw()) {
        let x = Fx::from_raw(a);
        prop_assert_eq!(x.ln().is_err(), a <= 0);
        prop_assert_eq!(x.sqrt().is_err(), a < 0);
        prop_assert_eq!(x.pow(Fx::ONE).err() == Some(FxError::Domain), a < 0);
    }
}

// ---------------------------------------------------------------------------------------------
// Display and the codec.

#[test]
fn display_prints_exact_truncated_decimals() {
    assert_eq!(Fx::ONE.to_string(), "1.00000000000000000000");
    assert_eq!(Fx::from_ratio(-3, 2, Rounding::Floor).expect("-1.5").to_string(), "-1.50000000000000000000");
    assert_eq!(Fx::MIN.to_string(), "-9223372036854775808.00000000000000000000");
    assert_eq!(Fx::MAX.to_string(), "9223372036854775807.99999999999999999994");
    assert_eq!(Fx::EPSILON.to_string(), "0.00000000000000000005");
    assert_eq!(
        format!("{:.64}", Fx::EPSILON),
        "0.0000000000000000000542101086242752217003726400434970855712890625"
    );
    assert_eq!(format!("{:.2}", Fx::E), "2.71");
    assert_eq!(format!("{:.0}", Fx::from_int(-7)), "-7");
    assert_eq!(format!("{:>8.1}", Fx::from_int(5)), "     5.0");
    assert_eq!(format!("{:+.1}", Fx::from_int(5)), "+5.0");
    assert_eq!(format!("{:08.1}", Fx::from_int(-5)), "-00005.0");
}

#[test]
fn borsh_encoding_is_the_raw_i128_little_endian() {
    let bytes = borsh::to_vec(&Fx::ONE).expect("writing to a Vec cannot fail");
    let mut want = [0u8; 16];
    want[8] = 1;
    assert_eq!(bytes, want);
    for x in [Fx::MIN, Fx::MAX, Fx::E, Fx::from_int(-3)] {
        let bytes = borsh::to_vec(&x).expect("writing to a Vec cannot fail");
        assert_eq!(bytes, x.raw().to_le_bytes());
        assert_eq!(borsh::from_slice::<Fx>(&bytes).expect("16 bytes"), x);
    }
}

#[test]
fn errors_have_messages() {
    for e in [FxError::Overflow, FxError::DivisionByZero, FxError::Domain] {
        assert!(!e.to_string().is_empty());
    }
}

#[cfg(feature = "float-conv")]
#[test]
fn float_conversions_round_trip_and_reject_bad_input() {
    assert_eq!(Fx::from_f64_lossy(1.5), Fx::from_ratio(3, 2, Rounding::Floor));
    assert_eq!(Fx::from_f64_lossy(-2.0), Ok(Fx::from_int(-2)));
    assert_eq!(Fx::from_f64_lossy(f64::NAN), Err(FxError::Domain));
    assert_eq!(Fx::from_f64_lossy(f64::INFINITY), Err(FxError::Overflow));
    assert_eq!(Fx::from_f64_lossy(2f64.powi(63)), Err(FxError::Overflow));
    assert_eq!(Fx::from_f64_lossy(-(2f64.powi(63))), Ok(Fx::MIN));
    assert_eq!(Fx::from_f64_lossy(2f64.powi(-65)), Ok(Fx::EPSILON));
    assert_eq!(Fx::from_f64_lossy(2f64.powi(-66)), Ok(Fx::ZERO));
    assert_eq!(Fx::E.to_f64_lossy(), std::f64::consts::E);
    assert_eq!(Fx::from_int(-3).to_f64_lossy(), -3.0);
}
