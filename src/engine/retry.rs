//! `Retry` and `Catch` as AWS applies them: which error names an
//! `ErrorEquals` list matches, and how long a retrier waits.
//!
//! The matching and the back-off are pure functions, usable without
//! running anything (TestState uses them); [`retry_loop!`] runs an attempt
//! under a state's retriers and [`catch`] applies its catchers.

use super::io;
use super::plan::Next;
use super::walk::{Failure, StateCx, Step};
use crate::definition::{Catcher, JitterStrategy, Retrier};
use crate::error::{ErrorName, StatesError};
use crate::json::{Bounds, Measure, Payload};
use crate::jsonpath::data_flow;
use crate::jsonpath::path::Scope;
use serde_json::{json, Value};
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

/// The index of the retrier that runs the state again after `error`: the
/// first retrier matching it, when it has attempts left (`retried[i]`:
/// the retries retrier `i` already made).
pub(crate) fn retrier_for(
    retriers: &[Retrier],
    error: &StatesError,
    heartbeat: bool,
    retried: &[u64],
) -> Option<usize> {
    let i = find_retrier(retriers, error, heartbeat)?;
    let r = retriers.get(i)?;
    (retried.get(i).copied().unwrap_or(0) < r.max_attempts).then_some(i)
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

/// Runs `$attempt` (an expression awaiting one attempt, with `$rc` the
/// retry count) under `$retriers`, each with its own attempt counter,
/// until it succeeds or no retrier takes the error; then emits `$failed`
/// (Map/Parallel) on the state `$cx` and gives the final failure. Each
/// retry counts as a state transition (as AWS bills it) and checks the
/// execution's budgets, so a retrier with a huge `MaxAttempts` ends at the
/// transition or history-event limit with the error a Choice loop gets;
/// nothing is kept per attempt.
///
/// With `durable` (a Task, Parallel or Map in a durable run: its state
/// input, and the point it resumes from), a back-off is checkpointed with the retry counters
/// and the absolute time it ends, and a resumed loop starts from the
/// saved counters (the caller waits out what is left of the back-off).
macro_rules! retry_loop {
    ($cx:ident, $retriers:expr, $failed:expr, $rc:ident => $attempt:expr) => {
        $crate::engine::retry::retry_loop!($cx, $retriers, $failed, None, $rc => $attempt)
    };
    ($cx:ident, $retriers:expr, $failed:expr, $durable:expr, $rc:ident => $attempt:expr) => {
        $crate::engine::retry::retry_loop!($cx, $retriers, $failed, $durable, $rc, counters => $attempt)
    };
    // `$counters` names the retriers' counters for the attempt (a durable
    // callback attempt checkpoints them)
    ($cx:ident, $retriers:expr, $failed:expr, $durable:expr, $rc:ident, $counters:ident => $attempt:expr) => {
        'retry: {
            let retriers: &[$crate::definition::Retrier] = $retriers;
            let durable: Option<$crate::engine::checkpoint::RetryPoint<'_>> = $durable;
            #[allow(unused_mut)]
            let (mut $counters, mut $rc): (Vec<u64>, u32) =
                match durable.as_ref().and_then(|d| d.resume.as_ref()) {
                    Some(resume) => {
                        let mut $counters = resume.counters.clone();
                        $counters.resize(retriers.len(), 0);
                        ($counters, resume.retry_count)
                    }
                    None => (vec![0u64; retriers.len()], 0),
                };
            let failure: $crate::engine::walk::Failure = loop {
                let failure = match $attempt {
                    Ok(v) => break 'retry Ok(v),
                    Err(f) => f,
                };
                $cx.th.cursor = failure.event;
                if !failure.catchable {
                    break 'retry Err(failure);
                }
                let Some(i) = $crate::engine::retry::retrier_for(
                    retriers,
                    &failure.error,
                    failure.heartbeat,
                    &$counters,
                ) else {
                    break failure;
                };
                // a retry is a transition like any other: it counts
                // against the execution's transition and event budgets
                // (else a huge MaxAttempts spins past them)
                if let Err(f) = $cx.run.check_budgets($cx.th) {
                    break 'retry Err(f);
                }
                // and may give the caller's executor a turn (an abort is
                // seen there); not in a durable run, whose lines must not
                // wait between the checkpoints that say where they are
                if durable.is_none() && $cx.run.pause_due() {
                    $cx.run.pause().await;
                }
                let r = &retriers[i];
                let mut delay = $crate::engine::retry::delay(r, $counters[i], $cx.run.random());
                if let Some(time) = $cx.run.time {
                    delay = time.retry($cx.name(), i, r, delay);
                }
                $counters[i] += 1;
                $rc = $rc.saturating_add(1);
                $crate::engine::trace::retry(&failure.error, $rc, delay);
                if !delay.is_zero() {
                    if let (Some(d), Some(sink)) = (durable.as_ref(), $cx.run.checkpoints_on($cx.th)) {
                        let point = (&$counters[..], $rc, delay);
                        // boxed: the loop's future stays as small as without it
                        let checkpoint =
                            $crate::engine::checkpoint::backing_off(&$cx, sink, d.input, point);
                        Box::pin(checkpoint).await;
                    }
                    $cx.run.clock.sleep(delay).await;
                }
            };
            let failed: Option<&'static str> = $failed;
            if let Some(ty) = failed {
                let id = $cx.emit_next(ty, None, serde_json::Map::new);
                break 'retry Err($crate::engine::walk::Failure {
                    event: id,
                    ..failure
                });
            }
            Err(failure)
        }
    };
}
pub(crate) use retry_loop;

/// Applies the first of `catchers` that takes `failure` (else gives the
/// failure back): the error output `{"Error", "Cause"}` goes through the
/// catcher's Assign and ResultPath into the raw input, and the state ends
/// towards the catcher's `Next`.
pub(crate) fn catch(
    cx: &mut StateCx<'_, '_>,
    catchers: &[Catcher],
    (raw_input, raw_bound): (&Value, Measure),
    failure: Failure,
) -> Result<Step, Failure> {
    let Some(ci) = catcher_for(catchers, &failure) else {
        return Err(Failure {
            event: cx.th.cursor,
            ..failure
        });
    };
    let catcher = &catchers[ci];
    super::trace::catch(&failure.error, &catcher.next);
    let (out, assigned) = if cx.plan.jsonata {
        let caught_input = (raw_input, error_output(&failure.error));
        super::jsonata::caught(cx.bounds(), catcher, ci, caught_input, &cx.jx())
    } else {
        let raw = Payload::new(raw_input.clone(), raw_bound);
        caught(cx.bounds(), catcher, &failure.error, raw, &cx.scope())
    }
    .map_err(|e| cx.error(e))?;
    let next = cx.plan.catch_next.get(ci).copied().unwrap_or(Next::Missing);
    cx.finish(out, next, assigned)
}

/// The index of the catcher that takes `failure` (none takes a failure
/// that is not catchable).
pub(crate) fn catcher_for(catchers: &[Catcher], failure: &Failure) -> Option<usize> {
    failure
        .catchable
        .then(|| find_catcher(catchers, &failure.error, failure.heartbeat))
        .flatten()
}

/// The error output a catcher receives: `{"Error", "Cause"}` (`null` for
/// an empty name or no cause).
pub(crate) fn error_output(error: &StatesError) -> Value {
    let name = error.name.as_str();
    json!({
        "Error": if name.is_empty() { Value::Null } else { Value::from(name) },
        "Cause": error.cause.as_deref().map_or(Value::Null, Value::from),
    })
}

/// What `catcher` makes of `error`: the error output through the
/// catcher's Assign, and its ResultPath into the raw input; gives the
/// output and the variables to assign (errors not yet prefixed).
pub(crate) fn caught(
    bounds: Bounds,
    catcher: &Catcher,
    error: &StatesError,
    raw: Payload,
    scope: &Scope<'_>,
) -> Result<(Payload, io::Assigned), StatesError> {
    let error_output = error_output(error);
    let assigned = io::assign(catcher.assign.as_ref(), &error_output, scope)?;
    let result = bounds.measured(error_output);
    let out = data_flow::result_path_bounded(bounds, catcher.result_path.as_ref(), raw, result)?;
    Ok((out, assigned))
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

#[cfg(test)]
mod properties {

    // Retry arithmetic as properties: `IntervalSeconds x BackoffRate^k`,
    // capped by `MaxDelaySeconds`, FULL jitter within `[0, interval]`.

    use crate::definition::{JitterStrategy, Retrier};
    use crate::engine::retry::{delay, interval, MAX_RETRY_DELAY};
    use crate::ErrorName;
    use proptest::prelude::*;
    use std::time::Duration;

    fn retrier(
        interval_seconds: u64,
        backoff_rate: f64,
        max_delay: Option<u64>,
        jitter: bool,
    ) -> Retrier {
        Retrier {
            error_equals: vec![ErrorName::All],
            interval_seconds,
            max_attempts: 3,
            backoff_rate,
            max_delay_seconds: max_delay,
            jitter_strategy: if jitter {
                JitterStrategy::Full
            } else {
                JitterStrategy::None
            },
            comment: None,
        }
    }

    proptest! {
        #[test]
        fn interval_is_base_times_rate_to_the_attempt(base in 1u64..100, rate in 1.0f64..4.0, k in 0u64..8) {
            let got = interval(&retrier(base, rate, None, false), k).as_secs_f64();
            let want = base as f64 * rate.powi(k as i32);
            prop_assert!((got - want).abs() <= want * 1e-9 + 1e-9, "{got} vs {want}");
        }

        #[test]
        fn intervals_never_shrink(base in 1u64..100, rate in 1.0f64..4.0, k in 0u64..20) {
            let r = retrier(base, rate, None, false);
            prop_assert!(interval(&r, k + 1) >= interval(&r, k));
        }

        #[test]
        fn max_delay_caps_every_interval(base in 1u64..100, rate in 1.0f64..10.0, cap in 1u64..1000, k in 0u64..64) {
            prop_assert!(interval(&retrier(base, rate, Some(cap), false), k) <= Duration::from_secs(cap));
        }

        #[test]
        fn huge_backoff_saturates_instead_of_overflowing(k in 0u64..100_000) {
            prop_assert!(interval(&retrier(99_999_999, 10.0, None, false), k) <= MAX_RETRY_DELAY);
        }

        #[test]
        fn full_jitter_stays_within_the_interval(base in 1u64..100, rate in 1.0f64..3.0, k in 0u64..6, random in 0.0f64..1.0) {
            let r = retrier(base, rate, None, true);
            let d = delay(&r, k, random);
            prop_assert!(d <= interval(&r, k));
        }

        #[test]
        fn without_jitter_the_random_source_is_ignored(base in 1u64..100, k in 0u64..6, random in 0.0f64..1.0) {
            let r = retrier(base, 2.0, None, false);
            prop_assert_eq!(delay(&r, k, random), interval(&r, k));
        }
    }

    /// The last instant `SystemTime` can represent (on this platform).
    fn end_of_time() -> std::time::SystemTime {
        let mut t = std::time::SystemTime::UNIX_EPOCH;
        let mut step = Duration::from_secs(1 << 62);
        while step > Duration::ZERO {
            if let Some(later) = t.checked_add(step) {
                t = later;
            } else {
                step /= 2;
            }
        }
        t
    }

    use crate::Clock;
    use std::future::Future;

    fn config(cases: u32) -> ProptestConfig {
        ProptestConfig {
            cases,
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }
    // ---------------------------------------------------------------------------
    // retry back-off

    fn any_retrier() -> impl Strategy<Value = Retrier> {
        (
            prop_oneof![any::<u64>(), 0..100u64, Just(99_999_999u64)],
            prop_oneof![
                any::<f64>(),
                1.0..10.0f64,
                Just(f64::INFINITY),
                Just(f64::NAN),
                Just(0.0),
                Just(-2.0)
            ],
            prop::option::of(prop_oneof![any::<u64>(), 1..31_622_400u64]),
            any::<bool>(),
        )
            .prop_map(|(interval, rate, max, jitter)| Retrier {
                error_equals: vec![ErrorName::All],
                interval_seconds: interval,
                max_attempts: 3,
                backoff_rate: rate,
                max_delay_seconds: max,
                jitter_strategy: if jitter {
                    JitterStrategy::Full
                } else {
                    JitterStrategy::None
                },
                comment: None,
            })
    }

    proptest! {
        #![proptest_config(config(512))]

        #[test]
        fn retry_delays_saturate(
            r in any_retrier(),
            attempt in prop_oneof![any::<u64>(), 0..64u64],
            random in prop_oneof![any::<f64>(), 0.0..1.0f64],
        ) {
            let interval = crate::engine::retry::interval(&r, attempt);
            let delay = crate::engine::retry::delay(&r, attempt, random);
            prop_assert!(interval <= crate::engine::retry::MAX_RETRY_DELAY);
            prop_assert!(delay <= interval);
            if let Some(max) = r.max_delay_seconds {
                prop_assert!(interval <= Duration::from_secs(max));
            }
            // the virtual clock takes any of them
            let clock = crate::VirtualClock::starting_at(end_of_time());
            let sleeper = clock.clone();
            let mut sleep = Box::pin(async move { sleeper.sleep(delay).await });
            let waker = futures::task::noop_waker();
            let mut cx = std::task::Context::from_waker(&waker);
            if sleep.as_mut().poll(&mut cx).is_pending() {
                prop_assert!(clock.advance_when_idle());
                prop_assert!(sleep.as_mut().poll(&mut cx).is_ready());
            }
        }
    }

    #[test]
    fn retry_interval_grows_then_saturates() {
        let r = |interval, rate, max| Retrier {
            error_equals: vec![ErrorName::All],
            interval_seconds: interval,
            max_attempts: 3,
            backoff_rate: rate,
            max_delay_seconds: max,
            jitter_strategy: JitterStrategy::None,
            comment: None,
        };
        assert_eq!(
            crate::engine::retry::interval(&r(99_999_999, 1e300, None), u64::MAX),
            crate::engine::retry::MAX_RETRY_DELAY
        );
        assert_eq!(
            crate::engine::retry::interval(&r(99_999_999, 1e300, Some(7)), 5),
            Duration::from_secs(7)
        );
        assert_eq!(
            crate::engine::retry::interval(&r(3, 1.0, None), u64::MAX),
            Duration::from_secs(3)
        );
    }
}
