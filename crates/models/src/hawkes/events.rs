//! Validated event-time lists.

use crate::error::{positive, ModelError, Result};

/// Upper limit on the number of events a simulation may produce before it gives up (memory guard).
pub const MAX_SIMULATED_EVENTS: usize = 50_000_000;

/// Event times in seconds, sorted ascending, all inside the observation window [0, horizon_s].
///
/// Built once by [`EventTimes::new`], which checks every condition, so the likelihood and fitting
/// code can run without re-checking.
#[derive(Debug, Clone, PartialEq)]
pub struct EventTimes {
    times_s: Vec<f64>,
    horizon_s: f64,
}

impl EventTimes {
    /// Validates and wraps `times_s` (seconds since the window opened) observed over `[0, horizon_s]`.
    ///
    /// Errors: a non-finite or non-positive horizon, a non-finite time, a time outside the window, or
    /// a time earlier than its predecessor (ties are allowed).
    pub fn new(times_s: Vec<f64>, horizon_s: f64) -> Result<Self> {
        positive("horizon_s", horizon_s)?;
        let mut previous_s = 0.0;
        for (index, &time_s) in times_s.iter().enumerate() {
            if !time_s.is_finite() {
                return Err(ModelError::NonFiniteData { what: "event times", index, value: time_s });
            }
            if !(0.0..=horizon_s).contains(&time_s) {
                return Err(ModelError::EventOutsideHorizon { index, time_s, horizon_s });
            }
            if time_s < previous_s {
                return Err(ModelError::UnsortedEvents { index, time_s, previous_s });
            }
            previous_s = time_s;
        }
        Ok(Self { times_s, horizon_s })
    }

    /// The event times in seconds, ascending.
    pub fn times_s(&self) -> &[f64] {
        &self.times_s
    }

    /// The end of the observation window in seconds.
    pub fn horizon_s(&self) -> f64 {
        self.horizon_s
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.times_s.len()
    }

    /// True when there are no events.
    pub fn is_empty(&self) -> bool {
        self.times_s.is_empty()
    }

    /// The events up to (not including) index `count`, observed until the time of event `count`
    /// (or the full horizon if there are not that many): a shorter window for quick pilot fits.
    pub fn prefix(&self, count: usize) -> Self {
        if count >= self.times_s.len() {
            return self.clone();
        }
        Self { times_s: self.times_s[..count].to_vec(), horizon_s: self.times_s[count] }
    }

    /// Wraps already-validated data (simulators produce sorted times in the window by construction).
    pub(crate) fn from_sorted_unchecked(times_s: Vec<f64>, horizon_s: f64) -> Self {
        debug_assert!(times_s.windows(2).all(|w| w[0] <= w[1]));
        Self { times_s, horizon_s }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsorted_events_are_rejected_with_their_index() {
        let err = EventTimes::new(vec![0.1, 0.5, 0.3], 1.0).expect_err("unsorted");
        assert_eq!(err, ModelError::UnsortedEvents { index: 2, time_s: 0.3, previous_s: 0.5 });
        assert!(err.to_string().contains("sorted"));
    }

    #[test]
    fn events_past_the_horizon_or_non_finite_are_rejected() {
        assert!(matches!(
            EventTimes::new(vec![0.1, 2.0], 1.0),
            Err(ModelError::EventOutsideHorizon { index: 1, .. })
        ));
        assert!(matches!(
            EventTimes::new(vec![f64::NAN], 1.0),
            Err(ModelError::NonFiniteData { index: 0, .. })
        ));
        assert!(matches!(EventTimes::new(vec![], -1.0), Err(ModelError::InvalidParameter { .. })));
        assert!(matches!(EventTimes::new(vec![-0.5], 1.0), Err(ModelError::EventOutsideHorizon { .. })));
    }
}
