//! Parameter spaces: named dimensions, real or integer, on a linear or a log scale, and the
//! parameter sets drawn from them.
//!
//! Internally every search works in the unit cube [0, 1]^d; a dimension maps the unit interval onto
//! its range (uniformly in the value, or in its logarithm for log scale). An integer dimension gives
//! each integer an equal share of the unit interval (in log space for log scale), so uniform
//! sampling of the cube samples the integers uniformly.

use std::collections::BTreeMap;

use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::error::{BacktestError, Result};

/// Most dimensions a parameter space may have.
pub const MAX_DIMS: usize = 32;

/// Most points a grid search may evaluate.
pub const MAX_GRID_POINTS: usize = 1_000_000;

/// How a dimension is spaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// Uniform in the value.
    Linear,
    /// Uniform in the logarithm of the value (range must be positive).
    Log,
}

/// One dimension of a parameter space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamSpec {
    /// Name, unique in its space; objectives look values up by it.
    pub name: String,
    /// Lowest value (inclusive).
    pub lo: f64,
    /// Highest value (inclusive).
    pub hi: f64,
    /// Whether only whole numbers are allowed.
    pub integer: bool,
    /// Linear or log spacing.
    pub scale: Scale,
}

impl ParamSpec {
    /// A real dimension on [lo, hi], linear scale.
    pub fn real(name: &str, lo: f64, hi: f64) -> Self {
        Self { name: name.to_string(), lo, hi, integer: false, scale: Scale::Linear }
    }

    /// A real dimension on [lo, hi], log scale (0 < lo).
    pub fn log_real(name: &str, lo: f64, hi: f64) -> Self {
        Self { name: name.to_string(), lo, hi, integer: false, scale: Scale::Log }
    }

    /// An integer dimension on [lo, hi], linear scale.
    pub fn integer(name: &str, lo: i64, hi: i64) -> Self {
        Self { name: name.to_string(), lo: lo as f64, hi: hi as f64, integer: true, scale: Scale::Linear }
    }

    /// An integer dimension on [lo, hi], log scale (1 ≤ lo).
    pub fn log_integer(name: &str, lo: i64, hi: i64) -> Self {
        Self { name: name.to_string(), lo: lo as f64, hi: hi as f64, integer: true, scale: Scale::Log }
    }

    fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(BacktestError::InvalidSpace(format!("parameter {:?}: {m}", self.name)));
        if !(self.lo.is_finite() && self.hi.is_finite()) {
            return bad("bounds must be finite");
        }
        if self.integer && (self.lo.fract() != 0.0 || self.hi.fract() != 0.0) {
            return bad("integer bounds must be whole numbers");
        }
        if self.lo > self.hi || (!self.integer && self.lo == self.hi) {
            return bad("needs lo < hi (lo ≤ hi for integers)");
        }
        if self.scale == Scale::Log && self.lo <= 0.0 {
            return bad("a log scale needs a positive range");
        }
        if self.scale == Scale::Log && self.integer && self.lo < 1.0 {
            return bad("a log-scale integer needs lo ≥ 1");
        }
        Ok(())
    }

    /// The ends of the range in the space where the unit interval maps linearly: the value, or its
    /// log; widened by half a step for integers so that each integer gets an equal cell.
    fn warped_bounds(&self) -> (f64, f64) {
        let (lo, hi) = if self.integer { (self.lo - 0.5, self.hi + 0.5) } else { (self.lo, self.hi) };
        match self.scale {
            Scale::Linear => (lo, hi),
            Scale::Log => (lo.ln(), hi.ln()),
        }
    }

    /// The value at position `u` ∈ [0, 1] of the range (clamped).
    pub fn from_unit(&self, u: f64) -> f64 {
        let (a, b) = self.warped_bounds();
        let w = a + u.clamp(0.0, 1.0) * (b - a);
        let x = match self.scale {
            Scale::Linear => w,
            Scale::Log => w.exp(),
        };
        let x = if self.integer { x.round() } else { x };
        x.clamp(self.lo, self.hi)
    }

    /// The position in [0, 1] of value `x` (the centre of its cell for integers).
    pub fn to_unit(&self, x: f64) -> f64 {
        let (a, b) = self.warped_bounds();
        let w = match self.scale {
            Scale::Linear => x,
            Scale::Log => x.max(f64::MIN_POSITIVE).ln(),
        };
        ((w - a) / (b - a)).clamp(0.0, 1.0)
    }

    /// `points` values spread evenly over the range (ends included), or every integer if there are
    /// no more than `points` of them. Duplicates after rounding are removed.
    pub fn grid_values(&self, points: usize) -> Vec<f64> {
        if self.integer && self.hi - self.lo + 1.0 <= points as f64 {
            return (self.lo as i64..=self.hi as i64).map(|k| k as f64).collect();
        }
        let plain = ParamSpec { integer: false, ..self.clone() };
        let mut values: Vec<f64> = (0..points)
            .map(|i| if points == 1 { 0.5 } else { i as f64 / (points - 1) as f64 })
            .map(|u| {
                let x = plain.from_unit(u);
                if self.integer {
                    x.round()
                } else {
                    x
                }
            })
            .collect();
        values.dedup();
        values
    }
}

/// A set of parameter values by name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Params(BTreeMap<String, f64>);

impl Params {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a value (builder style).
    pub fn with(mut self, name: &str, value: f64) -> Self {
        self.0.insert(name.to_string(), value);
        self
    }

    /// Adds or replaces a value.
    pub fn insert(&mut self, name: &str, value: f64) {
        self.0.insert(name.to_string(), value);
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.0.get(name).copied()
    }

    /// The value of `name`, rounded to an integer.
    pub fn get_i64(&self, name: &str) -> Option<i64> {
        self.get(name).map(|x| x.round() as i64)
    }

    /// Name–value pairs in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, f64)> {
        self.0.iter().map(|(k, v)| (k.as_str(), *v))
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A parameter space: an ordered list of dimensions with unique names.
///
/// ```
/// use zkclob_backtest::optimize::{ParamSpace, ParamSpec};
///
/// let space = ParamSpace::new(vec![
///     ParamSpec::log_real("gamma", 1e-3, 1.0),  // risk aversion
///     ParamSpec::integer("levels", 1, 5),       // quote levels
/// ])?;
/// let p = space.decode(&[0.5, 0.0]);
/// assert!((p.get("gamma").unwrap() - 10f64.powf(-1.5)).abs() < 1e-12);
/// assert_eq!(p.get_i64("levels"), Some(1));
/// # Ok::<(), zkclob_backtest::BacktestError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamSpace {
    params: Vec<ParamSpec>,
}

impl ParamSpace {
    /// Builds a space; errors on no dimensions, more than [`MAX_DIMS`], duplicate names or a
    /// malformed range.
    pub fn new(params: Vec<ParamSpec>) -> Result<Self> {
        if params.is_empty() || params.len() > MAX_DIMS {
            return Err(BacktestError::InvalidSpace(format!("needs 1 to {MAX_DIMS} dimensions")));
        }
        for (i, p) in params.iter().enumerate() {
            p.validate()?;
            if params[..i].iter().any(|q| q.name == p.name) {
                return Err(BacktestError::InvalidSpace(format!("duplicate parameter {:?}", p.name)));
            }
        }
        Ok(Self { params })
    }

    /// The dimensions, in order.
    pub fn params(&self) -> &[ParamSpec] {
        &self.params
    }

    /// Number of dimensions.
    pub fn dims(&self) -> usize {
        self.params.len()
    }

    /// The parameter set at point `u` of the unit cube (missing coordinates read as 0.5).
    pub fn decode(&self, u: &[f64]) -> Params {
        let mut p = Params::new();
        for (i, spec) in self.params.iter().enumerate() {
            p.insert(&spec.name, spec.from_unit(u.get(i).copied().unwrap_or(0.5)));
        }
        p
    }

    /// The unit-cube point of a parameter set (missing values read as the middle of the range).
    pub fn encode(&self, p: &Params) -> Vec<f64> {
        self.params.iter().map(|s| p.get(&s.name).map_or(0.5, |x| s.to_unit(x))).collect()
    }

    /// Moves a unit-cube point to the point of the parameter set it decodes to (integer cells'
    /// centres), so that searches compare realisable points.
    pub fn snap(&self, u: &[f64]) -> Vec<f64> {
        self.encode(&self.decode(u))
    }

    /// A uniformly random parameter set.
    pub fn sample<R: rand::Rng>(&self, rng: &mut R) -> Params {
        let u: Vec<f64> = (0..self.dims()).map(|_| rng.random::<f64>()).collect();
        self.decode(&u)
    }

    /// The full grid with `points_per_dim` values per dimension (see [`ParamSpec::grid_values`]),
    /// in row-major order (the last dimension varies fastest). Errors if it would exceed
    /// [`MAX_GRID_POINTS`] or `points_per_dim` is 0.
    pub fn grid(&self, points_per_dim: usize) -> Result<Vec<Params>> {
        if points_per_dim == 0 {
            return Err(BacktestError::InvalidSpace("a grid needs at least one point per dimension".into()));
        }
        let axes: Vec<Vec<f64>> = self.params.iter().map(|p| p.grid_values(points_per_dim)).collect();
        let total = axes.iter().try_fold(1usize, |acc, a| acc.checked_mul(a.len()));
        match total {
            Some(t) if t <= MAX_GRID_POINTS => {}
            _ => {
                return Err(BacktestError::InvalidSpace(format!(
                    "grid larger than {MAX_GRID_POINTS} points"
                )));
            }
        }
        let mut out = vec![Params::new()];
        for (spec, axis) in self.params.iter().zip(&axes) {
            out = out
                .into_iter()
                .flat_map(|p| axis.iter().map(move |&x| p.clone().with(&spec.name, x)))
                .collect();
        }
        Ok(out)
    }
}
