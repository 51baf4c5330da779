//! Time per state: [`TimeOverrides`] shortens (or stretches) the waiting an
//! execution does on its own, the Wait states and the back-off of `Retry`,
//! state by state or all at once.

use crate::definition::Retrier;
use crate::error::{Error, ErrorKind};
use std::collections::HashMap;
use std::time::Duration;

/// Per-state durations for Wait states and retry back-off, and a scale for
/// the rest: what aws-local-stepfunctions calls `waitTimeOverrides` and
/// `retryIntervalOverrides`, and Step Functions Local its wait time scale.
/// Give them to [`Execution::with_time_overrides`](crate::Execution::with_time_overrides)
/// (or [`RunOptions::time`](crate::testing::RunOptions::time), `stepfn run
/// --wait/--retry-interval/--time-scale`).
///
/// * A **Wait override** replaces the time a Wait state waits, however it
///   is given (`Seconds`, `SecondsPath`, `Timestamp`, `TimestampPath` or
///   JSONata). The state's fields are still evaluated, so a bad
///   `SecondsPath` fails as it would without the override. Zero is
///   allowed: the state does not wait at all.
/// * A **retry-interval override** replaces every back-off of the named
///   state's retriers (or of one retrier, by its index in `Retry`): each
///   retry waits exactly that long, with no `BackoffRate` growth and no
///   jitter, but still at most the retrier's `MaxDelaySeconds`, as
///   aws-local-stepfunctions does.
/// * The **scale** multiplies every Wait and back-off that is not
///   overridden (0.5 halves them, 0 removes them, 2 doubles them). Task
///   timeouts and heartbeats are not scaled: they measure the work of your
///   executor, which the scale does not speed up.
///
/// A state is named as in its definition, wherever it is (inside a
/// Parallel branch or a Map's item processor too): AWS refuses duplicate
/// state names anywhere in a definition (`DUPLICATE_STATE_NAME`), so a
/// name names one state. A name that names no state (or no Wait, or no
/// state with a `Retry`) is ignored here; `stepfn run` refuses it.
///
/// The overridden durations are the durations: the execution's clock
/// sleeps that long, so the history's timestamps (and a durable
/// execution's checkpoints, which store when a Wait or back-off ends)
/// agree with them.
///
/// ```
/// # futures::executor::block_on(async {
/// use std::time::{Duration, SystemTime};
/// use serde_json::json;
/// use stepfn::{sync_task_fn, Clock, StateMachine, TimeOverrides, VirtualClock};
///
/// let machine: StateMachine = r#"{"StartAt": "Nap", "States": {
///     "Nap": {"Type": "Wait", "Seconds": 3600, "Next": "Pause"},
///     "Pause": {"Type": "Wait", "Seconds": 100, "End": true}}}"#.parse()?;
/// let clock = VirtualClock::starting_at(SystemTime::UNIX_EPOCH);
/// let overrides = TimeOverrides::new()
///     .with_wait("Nap", Duration::from_secs(5))
///     .with_scale(0.5)?;
/// machine
///     .execution()
///     .with_clock(clock.clone())
///     .with_time_overrides(overrides)
///     .run(&sync_task_fn(|r| Ok(r.parameters)), json!({}))
///     .await;
/// // 5 s for Nap, 100 s x 0.5 for Pause
/// assert_eq!(clock.now(), SystemTime::UNIX_EPOCH + Duration::from_secs(55));
/// # Ok::<(), stepfn::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TimeOverrides {
    waits: HashMap<String, Duration>,
    retries: HashMap<String, RetryIntervals>,
    scale: Option<f64>,
}

/// The back-off override of one state's retriers.
#[derive(Clone, Debug, Default, PartialEq)]
struct RetryIntervals {
    /// Every retrier not in `each`.
    all: Option<Duration>,
    /// By retrier index; `None` falls back to `all`.
    each: Vec<Option<Duration>>,
}

/// The most retriers one state's override may name by index (AWS allows
/// far fewer retriers per state; this keeps a hostile index from
/// allocating).
const MAX_RETRIER_INDEX: usize = 1024;

impl TimeOverrides {
    /// No overrides: every Wait and back-off as the definition says.
    pub fn new() -> Self {
        Self::default()
    }

    /// True when nothing is overridden or scaled.
    pub fn is_empty(&self) -> bool {
        self.waits.is_empty() && self.retries.is_empty() && self.scale.is_none()
    }

    /// The Wait state `state` waits `duration` (zero: not at all).
    pub fn with_wait(mut self, state: impl Into<String>, duration: Duration) -> Self {
        self.waits.insert(state.into(), duration);
        self
    }

    /// Every retry of `state` (a Task, Parallel or Map) waits `interval`
    /// (at most the retrier's `MaxDelaySeconds`), whichever retrier takes
    /// the error.
    pub fn with_retry_interval(mut self, state: impl Into<String>, interval: Duration) -> Self {
        self.retries.entry(state.into()).or_default().all = Some(interval);
        self
    }

    /// The retries of `state` that its retrier number `index` (0-based, in
    /// `Retry` order) makes wait `interval`; its other retriers keep their
    /// back-off (or the interval given to
    /// [`with_retry_interval`](Self::with_retry_interval), which this
    /// refines). An index past the 1024th retrier is ignored.
    pub fn with_retrier_interval(
        mut self,
        state: impl Into<String>,
        index: usize,
        interval: Duration,
    ) -> Self {
        if index >= MAX_RETRIER_INDEX {
            return self;
        }
        let each = &mut self.retries.entry(state.into()).or_default().each;
        if each.len() <= index {
            each.resize(index + 1, None);
        }
        each[index] = Some(interval);
        self
    }

    /// Multiplies every Wait and back-off not overridden by `factor`: a
    /// finite number, at least 0 (0: no waiting at all). Otherwise an
    /// [`ErrorKind::InvalidInput`] error.
    pub fn with_scale(mut self, factor: f64) -> Result<Self, Error> {
        if !factor.is_finite() || factor < 0.0 {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("the time scale must be a finite number at least 0, not {factor}"),
            ));
        }
        self.scale = (factor != 1.0).then_some(factor);
        Ok(self)
    }

    /// The scale (1 unless set).
    pub fn scale(&self) -> f64 {
        self.scale.unwrap_or(1.0)
    }

    /// How long the Wait state `state` waits, the definition asking for
    /// `computed`.
    pub(crate) fn wait(&self, state: &str, computed: Duration) -> Duration {
        match self.waits.get(state) {
            Some(duration) => *duration,
            None => self.scaled(computed),
        }
    }

    /// How long the retry of `state` by its retrier `index` (`retrier`)
    /// waits, its own back-off being `computed`.
    pub(crate) fn retry(
        &self,
        state: &str,
        index: usize,
        retrier: &Retrier,
        computed: Duration,
    ) -> Duration {
        let interval = self
            .retries
            .get(state)
            .and_then(|r| r.each.get(index).copied().flatten().or(r.all));
        match interval {
            Some(interval) => match retrier.max_delay_seconds {
                Some(max) => interval.min(Duration::from_secs(max)),
                None => interval,
            },
            None => self.scaled(computed),
        }
    }

    /// `duration` times the scale; past what a [`Duration`] holds, the
    /// longest one.
    fn scaled(&self, duration: Duration) -> Duration {
        match self.scale {
            None => duration,
            Some(factor) => Duration::try_from_secs_f64(duration.as_secs_f64() * factor)
                .unwrap_or(Duration::MAX),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaling_past_what_a_duration_holds_gives_the_longest() {
        let overrides = TimeOverrides::new().with_scale(1e300).unwrap();
        assert_eq!(overrides.scaled(Duration::from_secs(1)), Duration::MAX);
        assert_eq!(overrides.scaled(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn a_hostile_retrier_index_is_ignored() {
        let overrides = TimeOverrides::new().with_retrier_interval("T", usize::MAX, Duration::ZERO);
        assert!(overrides.is_empty());
    }
}
