//! Descriptive statistics and the normal quantile, written out here because the analytics need only
//! these few and each is pinned by a test. Every function returns `None` rather than NaN when its
//! input cannot define the value (too few points, zero variance).

pub use zkclob_models::special::normal_cdf;

/// `Some(x)` if `x` is finite, else `None`: the one gate between arithmetic and reported numbers.
pub fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Arithmetic mean; `None` for an empty slice.
pub fn mean(xs: &[f64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    finite(xs.iter().sum::<f64>() / xs.len() as f64)
}

/// Sample standard deviation (divisor n − 1); `None` for fewer than two points.
pub fn sample_std(xs: &[f64]) -> Option<f64> {
    if xs.len() < 2 {
        return None;
    }
    let m = mean(xs)?;
    let ss: f64 = xs.iter().map(|x| (x - m) * (x - m)).sum();
    finite((ss / (xs.len() - 1) as f64).sqrt())
}

/// The first four moments of a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    /// Number of points.
    pub n: usize,
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (divisor n − 1).
    pub std: f64,
    /// Skewness E[(x − μ)³]/σ³ with population moments (divisor n); `None` when σ = 0.
    pub skewness: Option<f64>,
    /// Kurtosis E[(x − μ)⁴]/σ⁴ with population moments; 3 for a normal law (not excess); `None` when
    /// σ = 0.
    pub kurtosis: Option<f64>,
}

/// Mean, standard deviation, skewness and kurtosis; `None` for fewer than two points.
pub fn moments(xs: &[f64]) -> Option<Moments> {
    let n = xs.len();
    let std = sample_std(xs)?;
    let mean = mean(xs)?;
    let nf = n as f64;
    let (mut m2, mut m3, mut m4) = (0.0, 0.0, 0.0);
    for x in xs {
        let d = x - mean;
        let d2 = d * d;
        m2 += d2;
        m3 += d2 * d;
        m4 += d2 * d2;
    }
    let (m2, m3, m4) = (m2 / nf, m3 / nf, m4 / nf);
    // Relative to the scale of the data, not absolutely, so that 1e-20-sized returns still count.
    let degenerate = m2 <= f64::EPSILON * mean * mean || m2 == 0.0;
    let skewness = if degenerate { None } else { finite(m3 / m2.powf(1.5)) };
    let kurtosis = if degenerate { None } else { finite(m4 / (m2 * m2)) };
    Some(Moments { n, mean, std, skewness, kurtosis })
}

/// The `q`-quantile (0 ≤ q ≤ 1) of an ascending-sorted slice by linear interpolation between order
/// statistics (Hyndman–Fan type 7, the default of R and NumPy); `None` for an empty slice.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() || !(0.0..=1.0).contains(&q) {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    finite(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// Standard normal density φ(x).
pub fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// The standard normal quantile Φ⁻¹(p) for 0 < p < 1, to about 1e-15 relative accuracy: Acklam's
/// rational approximation (relative error 1.15e-9) polished by one Halley step on Φ.
/// `None` outside (0, 1).
pub fn normal_quantile(p: f64) -> Option<f64> {
    if !(p > 0.0 && p < 1.0) {
        return None;
    }
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] =
        [7.784_695_709_041_462e-3, 3.224_671_290_700_398e-1, 2.445_134_137_142_996, 3.754_408_661_907_416];
    const P_LOW: f64 = 0.024_25;
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    let x = if p < P_LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p <= 1.0 - P_LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    };
    // One Halley step: e = Φ(x) − p, u = e/φ(x).
    let e = normal_cdf(x) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (0.5 * x * x).exp();
    finite(x - u / (1.0 + 0.5 * x * u))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantile_inverts_the_cdf() {
        assert!((normal_quantile(0.975).unwrap() - 1.959_963_984_540_054).abs() < 1e-13);
        assert!((normal_quantile(0.025).unwrap() + 1.959_963_984_540_054).abs() < 1e-13);
        assert!(normal_quantile(0.5).unwrap().abs() < 1e-15);
        for &p in &[1e-12, 1e-6, 0.01, 0.02425, 0.1, 0.3, 0.7, 0.9, 0.99, 1.0 - 1e-9] {
            let x = normal_quantile(p).unwrap();
            assert!((normal_cdf(x) - p).abs() < 1e-13 * p.max(1e-3), "p = {p}");
        }
        assert_eq!(normal_quantile(0.0), None);
        assert_eq!(normal_quantile(1.0), None);
        assert_eq!(normal_quantile(f64::NAN), None);
    }

    #[test]
    fn moments_of_a_symmetric_two_point_law() {
        // ±1 equally often: mean 0, population variance 1, skewness 0, kurtosis 1.
        let m = moments(&[1.0, -1.0, 1.0, -1.0]).unwrap();
        assert_eq!(m.mean, 0.0);
        assert!((m.std - (4.0f64 / 3.0).sqrt()).abs() < 1e-15);
        assert_eq!(m.skewness, Some(0.0));
        assert_eq!(m.kurtosis, Some(1.0));
    }

    #[test]
    fn degenerate_inputs_give_none() {
        assert_eq!(mean(&[]), None);
        assert_eq!(sample_std(&[1.0]), None);
        let m = moments(&[2.0, 2.0, 2.0]).unwrap();
        assert_eq!((m.std, m.skewness, m.kurtosis), (0.0, None, None));
        assert_eq!(quantile_sorted(&[], 0.5), None);
        assert_eq!(quantile_sorted(&[1.0, 3.0], 0.5), Some(2.0));
    }
}
