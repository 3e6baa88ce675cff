//! Special functions and small statistics helpers used by the models: the error function, the
//! normal and chi-square distribution functions, the Kolmogorov distribution and least squares.
//!
//! Written here rather than pulled from a statistics crate because the models need only these few,
//! and each is checked against tabulated values in the unit tests below.

use std::f64::consts::PI;

/// The complementary error function erfc(x) = 1 − erf(x), to about 1e-15 relative accuracy.
///
/// For |x| < 2.5 it sums the series erf(x) = (2/√π)·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3·…·(2n+1)), whose terms
/// are all positive (no cancellation); beyond, it evaluates Laplace's continued fraction for erfc.
pub fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    if x < 2.5 {
        1.0 - erf_series(x)
    } else {
        erfc_continued_fraction(x)
    }
}

/// The error function erf(x).
pub fn erf(x: f64) -> f64 {
    if x.abs() < 2.5 {
        if x < 0.0 {
            -erf_series(-x)
        } else {
            erf_series(x)
        }
    } else {
        1.0 - erfc(x)
    }
}

fn erf_series(x: f64) -> f64 {
    let x2 = x * x;
    let mut term = x;
    let mut sum = x;
    let mut n = 0.0;
    while term > sum * 1e-17 {
        n += 1.0;
        term *= 2.0 * x2 / (2.0 * n + 1.0);
        sum += term;
    }
    2.0 / PI.sqrt() * (-x2).exp() * sum
}

fn erfc_continued_fraction(x: f64) -> f64 {
    // erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))), by modified Lentz.
    let tiny = 1e-300;
    let mut f = x;
    let mut c = x;
    let mut d = 0.0;
    for k in 1..500 {
        let a = k as f64 / 2.0;
        d = x + a * d;
        if d.abs() < tiny {
            d = tiny;
        }
        c = x + a / c;
        if c.abs() < tiny {
            c = tiny;
        }
        d = 1.0 / d;
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    (-x * x).exp() / (PI.sqrt() * f)
}

/// Standard normal cumulative distribution function Φ(x).
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// Natural log of the gamma function for x > 0 (Lanczos, g = 7, about 1e-15 relative accuracy).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEF: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1 − x) = π / sin(πx).
        return (PI / (PI * x).sin()).abs().ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = COEF[0];
    let t = x + G + 0.5;
    for (i, c) in COEF.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Regularised upper incomplete gamma function Q(a, x) = Γ(a, x)/Γ(a), for a > 0, x ≥ 0.
pub fn gamma_q(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    if x < a + 1.0 {
        1.0 - gamma_p_series(a, x)
    } else {
        gamma_q_continued_fraction(a, x)
    }
}

fn gamma_p_series(a: f64, x: f64) -> f64 {
    let mut ap = a;
    let mut del = 1.0 / a;
    let mut sum = del;
    for _ in 0..10_000 {
        ap += 1.0;
        del *= x / ap;
        sum += del;
        if del.abs() < sum.abs() * 1e-16 {
            break;
        }
    }
    sum * (-x + a * x.ln() - ln_gamma(a)).exp()
}

fn gamma_q_continued_fraction(a: f64, x: f64) -> f64 {
    let tiny = 1e-300;
    let mut b = x + 1.0 - a;
    let mut c = 1.0 / tiny;
    let mut d = 1.0 / b;
    let mut h = d;
    for i in 1..10_000 {
        let an = -(i as f64) * (i as f64 - a);
        b += 2.0;
        d = an * d + b;
        if d.abs() < tiny {
            d = tiny;
        }
        c = b + an / c;
        if c.abs() < tiny {
            c = tiny;
        }
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    (-x + a * x.ln() - ln_gamma(a)).exp() * h
}

/// Survival function of the chi-square distribution with `dof` degrees of freedom: P(χ² > x).
pub fn chi_square_sf(x: f64, dof: f64) -> f64 {
    gamma_q(dof / 2.0, x / 2.0)
}

/// Survival function of the Kolmogorov distribution: P(K > λ) where K = sup |Brownian bridge|.
pub fn kolmogorov_sf(lambda: f64) -> f64 {
    if lambda <= 0.0 {
        return 1.0;
    }
    if lambda < 1.18 {
        // P(K ≤ λ) = (√(2π)/λ)·Σ_{k≥1} exp(−(2k−1)²π²/(8λ²)); converges fast for small λ.
        let mut cdf = 0.0;
        for k in 1..20 {
            let j = (2 * k - 1) as f64;
            cdf += (-(j * j) * PI * PI / (8.0 * lambda * lambda)).exp();
        }
        (1.0 - (2.0 * PI).sqrt() / lambda * cdf).clamp(0.0, 1.0)
    } else {
        let mut sf = 0.0;
        for k in 1..100 {
            let kf = k as f64;
            let sign = if k % 2 == 1 { 1.0 } else { -1.0 };
            sf += sign * (-2.0 * kf * kf * lambda * lambda).exp();
        }
        (2.0 * sf).clamp(0.0, 1.0)
    }
}

/// One-sample Kolmogorov–Smirnov test of `samples` against the Uniform(0, 1) law.
///
/// Returns `(statistic, p_value)`; the p-value uses the asymptotic Kolmogorov law with Stephens'
/// small-sample correction λ = (√n + 0.12 + 0.11/√n)·D, accurate to a few percent for n ≥ 5.
/// The slice is sorted in place. An empty slice gives `(0, 1)`.
pub fn ks_uniform(samples: &mut [f64]) -> (f64, f64) {
    let n = samples.len();
    if n == 0 {
        return (0.0, 1.0);
    }
    samples.sort_by(f64::total_cmp);
    let nf = n as f64;
    let mut d: f64 = 0.0;
    for (i, &u) in samples.iter().enumerate() {
        let lo = u - i as f64 / nf;
        let hi = (i + 1) as f64 / nf - u;
        d = d.max(lo).max(hi);
    }
    let sqrt_n = nf.sqrt();
    (d, kolmogorov_sf((sqrt_n + 0.12 + 0.11 / sqrt_n) * d))
}

/// Ordinary least squares fit y ≈ intercept + slope·x. Returns `(slope, intercept, slope_std_error)`.
///
/// The caller guarantees at least two distinct x values; with fewer the slope is NaN.
pub fn linear_fit(x: &[f64], y: &[f64]) -> (f64, f64, f64) {
    let n = x.len().min(y.len()) as f64;
    let mean_x = x.iter().sum::<f64>() / n;
    let mean_y = y.iter().sum::<f64>() / n;
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for (xi, yi) in x.iter().zip(y) {
        sxx += (xi - mean_x) * (xi - mean_x);
        sxy += (xi - mean_x) * (yi - mean_y);
    }
    let slope = sxy / sxx;
    let intercept = mean_y - slope * mean_x;
    let rss: f64 = x.iter().zip(y).map(|(xi, yi)| (yi - intercept - slope * xi).powi(2)).sum();
    let se = if n > 2.0 { (rss / (n - 2.0) / sxx).sqrt() } else { f64::NAN };
    (slope, intercept, se)
}

/// Sample mean and unbiased sample standard deviation.
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_tabulated_values() {
        // Abramowitz & Stegun table 7.1 and high-precision references.
        assert!((erf(0.5) - 0.520_499_877_813_046_5).abs() < 1e-15);
        assert!((erf(1.0) - 0.842_700_792_949_714_9).abs() < 1e-15);
        assert!((erfc(3.0) - 2.209_049_699_858_544e-5).abs() < 1e-19);
        assert!((erfc(5.0) - 1.537_459_794_428_035e-12).abs() < 1e-25);
        assert!((erfc(-1.0) - 1.842_700_792_949_715).abs() < 1e-15);
        assert!((erfc(2.4) - 6.885_138_966_450_786e-4).abs() < 1e-16);
        assert!((erfc(2.6) - 2.360_344_165_293_492e-4).abs() < 1e-16);
    }

    #[test]
    fn normal_cdf_matches_tabulated_values() {
        assert!((normal_cdf(1.959_963_984_540_054) - 0.975).abs() < 1e-14);
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-16);
        assert!((normal_cdf(-3.0) - 1.349_898_031_630_094_6e-3).abs() < 1e-16);
    }

    #[test]
    fn ln_gamma_matches_factorials() {
        assert!((ln_gamma(10.0) - 362_880f64.ln()).abs() < 1e-12);
        assert!((ln_gamma(0.5) - PI.sqrt().ln()).abs() < 1e-13);
    }

    #[test]
    fn chi_square_sf_matches_tables() {
        // 95% quantiles: 3.841 (1 dof), 18.307 (10 dof).
        assert!((chi_square_sf(3.841_458_820_694_124, 1.0) - 0.05).abs() < 1e-12);
        assert!((chi_square_sf(18.307_038_053_275_146, 10.0) - 0.05).abs() < 1e-12);
        assert!((chi_square_sf(2.0, 2.0) - (-1.0f64).exp()).abs() < 1e-14);
    }

    #[test]
    fn kolmogorov_sf_matches_critical_values() {
        // Classical asymptotic critical values: 1.3581 at 5%, 1.6276 at 1%; both branches agree at 1.18.
        assert!((kolmogorov_sf(1.358_099) - 0.05).abs() < 1e-5);
        assert!((kolmogorov_sf(1.627_624) - 0.01).abs() < 1e-5);
        assert!((kolmogorov_sf(1.179_999_9) - kolmogorov_sf(1.180_000_1)).abs() < 1e-6);
    }

    #[test]
    fn linear_fit_recovers_a_line() {
        let x = [0.0, 1.0, 2.0, 3.0];
        let y = [1.0, 3.0, 5.0, 7.0];
        let (slope, intercept, se) = linear_fit(&x, &y);
        assert!((slope - 2.0).abs() < 1e-12 && (intercept - 1.0).abs() < 1e-12 && se < 1e-12);
    }
}
