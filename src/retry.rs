//! `Retry` and `Catch` as AWS applies them: which error names an
//! `ErrorEquals` list matches, and how long a retrier waits.
//!
//! Pure functions, usable without running anything (TestState uses them).

use crate::definition::{Catcher, JitterStrategy, Retrier};
use crate::error::{ErrorName, StatesError};
use std::time::Duration;

/// The longest back-off stepfn will wait for one retry: one year, AWS's
/// execution limit (a larger computed interval is cut to it).
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(31_622_400);

/// True when `error_equals` matches `error`.
///
/// * `States.Runtime` is never matched, not even by naming it.
/// * `States.DataLimitExceeded` is matched like any other name: AWS catches
///   it when a task result is too large (the engine never lets Retry or
///   Catch see a *state output* over the limit, which is terminal).
/// * `States.ALL` matches every other error.
/// * `States.TaskFailed` matches every other error except the timeouts
///   (`States.Timeout`, `States.HeartbeatTimeout`).
/// * A heartbeat expiry is raised as `States.Timeout` (as AWS records it)
///   and is matched by `States.HeartbeatTimeout` too: pass
///   `heartbeat = true` for it.
/// * Any other name matches itself, case-sensitively.
pub fn matches(error_equals: &[ErrorName], error: &ErrorName, heartbeat: bool) -> bool {
    if *error == ErrorName::Runtime {
        return false;
    }
    error_equals.iter().any(|wanted| match wanted {
        ErrorName::All => true,
        ErrorName::TaskFailed => !matches!(error, ErrorName::Timeout | ErrorName::HeartbeatTimeout),
        ErrorName::HeartbeatTimeout => {
            *error == ErrorName::HeartbeatTimeout || (heartbeat && *error == ErrorName::Timeout)
        }
        other => other == error,
    })
}

/// The index of the first retrier matching `error`.
pub fn find_retrier(retriers: &[Retrier], error: &StatesError, heartbeat: bool) -> Option<usize> {
    retriers
        .iter()
        .position(|r| matches(&r.error_equals, &error.name, heartbeat))
}

/// The index of the first catcher matching `error`.
pub fn find_catcher(catchers: &[Catcher], error: &StatesError, heartbeat: bool) -> Option<usize> {
    catchers
        .iter()
        .position(|c| matches(&c.error_equals, &error.name, heartbeat))
}

/// The interval before retry number `attempt + 1` of `retrier`
/// (`attempt` = retries this retrier already made, 0-based):
/// `IntervalSeconds x BackoffRate^attempt`, capped by `MaxDelaySeconds`
/// (and by [`MAX_RETRY_DELAY`]), before jitter.
///
/// Any field values give a duration (definitions cannot hold most of
/// these, but a [`Retrier`] built in code can): a product that overflows
/// or is not a number is the cap, a negative one is zero.
pub fn interval(retrier: &Retrier, attempt: u64) -> Duration {
    if retrier.interval_seconds == 0 {
        return Duration::ZERO;
    }
    let exponent = i32::try_from(attempt).unwrap_or(i32::MAX);
    let mut seconds = retrier.interval_seconds as f64 * retrier.backoff_rate.powi(exponent);
    if seconds.is_nan() {
        seconds = f64::INFINITY;
    }
    seconds = seconds.max(0.0);
    if let Some(max) = retrier.max_delay_seconds {
        seconds = seconds.min(max as f64);
    }
    if seconds >= MAX_RETRY_DELAY.as_secs_f64() {
        return MAX_RETRY_DELAY;
    }
    Duration::from_secs_f64(seconds)
}

/// The wait before the next retry: [`interval`], and with
/// `JitterStrategy: FULL` a uniform fraction of it; `random` is a number
/// in `[0, 1)` from the caller's random source (ignored without jitter).
pub fn delay(retrier: &Retrier, attempt: u64, random: f64) -> Duration {
    let base = interval(retrier, attempt);
    match retrier.jitter_strategy {
        JitterStrategy::None => base,
        JitterStrategy::Full => {
            let fraction = if random.is_finite() {
                random.clamp(0.0, 1.0)
            } else {
                0.0
            };
            base.mul_f64(fraction)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retrier(interval: u64, rate: f64, max: Option<u64>) -> Retrier {
        Retrier {
            error_equals: vec![ErrorName::All],
            interval_seconds: interval,
            max_attempts: 3,
            backoff_rate: rate,
            max_delay_seconds: max,
            jitter_strategy: JitterStrategy::None,
            comment: None,
        }
    }

    #[test]
    fn backoff_arithmetic() {
        assert_eq!(interval(&retrier(1, 2.0, None), 0), Duration::from_secs(1));
        assert_eq!(interval(&retrier(1, 2.0, None), 3), Duration::from_secs(8));
        assert_eq!(
            interval(&retrier(3, 1.5, None), 1),
            Duration::from_millis(4500)
        );
        assert_eq!(
            interval(&retrier(1, 2.0, Some(5)), 10),
            Duration::from_secs(5)
        );
        assert_eq!(interval(&retrier(1, 2.0, None), 10_000), MAX_RETRY_DELAY);
    }

    #[test]
    fn backoff_with_odd_fields_saturates() {
        assert_eq!(interval(&retrier(1, -2.0, Some(5)), 1), Duration::ZERO);
        assert_eq!(
            interval(&retrier(1, -2.0, Some(5)), 2),
            Duration::from_secs(4)
        );
        assert_eq!(
            interval(&retrier(1, -2.0, Some(5)), 1_000_001),
            Duration::ZERO
        );
        assert_eq!(
            interval(&retrier(1, f64::NAN, Some(5)), 1),
            Duration::from_secs(5)
        );
        assert_eq!(interval(&retrier(1, f64::NAN, None), 1), MAX_RETRY_DELAY);
        assert_eq!(
            interval(&retrier(0, f64::INFINITY, None), 1),
            Duration::ZERO
        );
        assert_eq!(
            interval(&retrier(u64::MAX, 2.0, Some(9)), 0),
            Duration::from_secs(9)
        );
    }

    #[test]
    fn matching_rules() {
        let all = [ErrorName::All];
        let tf = [ErrorName::TaskFailed];
        assert!(matches(&all, &ErrorName::new("X"), false));
        assert!(!matches(&all, &ErrorName::Runtime, false));
        assert!(!matches(&[ErrorName::Runtime], &ErrorName::Runtime, false));
        assert!(matches(&all, &ErrorName::DataLimitExceeded, false));
        assert!(matches(&tf, &ErrorName::new("Lambda.Unknown"), false));
        assert!(!matches(&tf, &ErrorName::Timeout, false));
        assert!(matches(
            &[ErrorName::HeartbeatTimeout],
            &ErrorName::Timeout,
            true
        ));
        assert!(!matches(
            &[ErrorName::HeartbeatTimeout],
            &ErrorName::Timeout,
            false
        ));
        assert!(!matches(
            &[ErrorName::new("x")],
            &ErrorName::new("X"),
            false
        ));
    }
}
