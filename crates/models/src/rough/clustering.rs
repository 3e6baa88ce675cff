//! Volatility-clustering diagnostics on a return series: the autocorrelation of absolute returns
//! and Engle's ARCH-LM test.

use nalgebra::{DMatrix, DVector};

use crate::error::{all_finite, ModelError, Result};
use crate::special::chi_square_sf;

/// Sample autocorrelation of |rₜ| at lags 1…`max_lag` (index 0 of the result is lag 1).
///
/// Volatility clustering shows as slowly decaying positive values; for i.i.d. returns they are
/// about N(0, 1/n). Errors: a non-finite value, `max_lag` ≥ n − 1, or constant |r|.
pub fn abs_return_autocorrelation(returns: &[f64], max_lag: usize) -> Result<Vec<f64>> {
    all_finite("returns", returns)?;
    if returns.len() < max_lag + 2 {
        return Err(ModelError::TooFewData {
            what: "absolute-return autocorrelation",
            needed: max_lag + 2,
            got: returns.len(),
        });
    }
    let abs: Vec<f64> = returns.iter().map(|r| r.abs()).collect();
    let n = abs.len() as f64;
    let mean = abs.iter().sum::<f64>() / n;
    let var: f64 = abs.iter().map(|a| (a - mean) * (a - mean)).sum();
    if var <= 0.0 {
        return Err(ModelError::Numerical("absolute returns are constant; autocorrelation undefined".into()));
    }
    Ok((1..=max_lag)
        .map(|lag| abs.iter().zip(&abs[lag..]).map(|(a, b)| (a - mean) * (b - mean)).sum::<f64>() / var)
        .collect())
}

/// Result of Engle's ARCH-LM test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArchLmTest {
    /// LM = (n − q)·R² of the regression of rₜ² on 1, r²ₜ₋₁, …, r²ₜ₋q.
    pub statistic: f64,
    /// P(χ²_q > LM): small values reject "no ARCH effects".
    pub p_value: f64,
    /// Number of lags q.
    pub lags: usize,
}

/// Engle's (1982) ARCH-LM test with `lags` lags on (demeaned) `returns`.
///
/// Errors: a non-finite value, `lags` = 0, fewer than 10·(lags + 1) returns, or a singular
/// regression (e.g. constant returns).
pub fn arch_lm_test(returns: &[f64], lags: usize) -> Result<ArchLmTest> {
    all_finite("returns", returns)?;
    if lags == 0 {
        return Err(ModelError::InvalidParameter { name: "lags", requirement: ">= 1", value: 0.0 });
    }
    let needed = 10 * (lags + 1);
    if returns.len() < needed {
        return Err(ModelError::TooFewData { what: "ARCH-LM test", needed, got: returns.len() });
    }
    let mean = returns.iter().sum::<f64>() / returns.len() as f64;
    let sq: Vec<f64> = returns.iter().map(|r| (r - mean) * (r - mean)).collect();
    let rows = sq.len() - lags;
    let x = DMatrix::from_fn(rows, lags + 1, |i, j| if j == 0 { 1.0 } else { sq[i + lags - j] });
    let y = DVector::from_fn(rows, |i, _| sq[i + lags]);
    let xtx = x.transpose() * &x;
    let xty = x.transpose() * &y;
    let beta = xtx
        .cholesky()
        .ok_or_else(|| ModelError::Numerical("ARCH-LM regression is singular (constant returns?)".into()))?
        .solve(&xty);
    let fitted = &x * beta;
    let y_mean = y.mean();
    let tss: f64 = y.iter().map(|v| (v - y_mean) * (v - y_mean)).sum();
    let rss: f64 = y.iter().zip(fitted.iter()).map(|(a, b)| (a - b) * (a - b)).sum();
    if tss <= 0.0 {
        return Err(ModelError::Numerical("squared returns are constant; ARCH-LM undefined".into()));
    }
    let statistic = rows as f64 * (1.0 - rss / tss);
    Ok(ArchLmTest { statistic, p_value: chi_square_sf(statistic, lags as f64), lags })
}
