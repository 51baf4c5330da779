//! Time per state (`TimeOverrides`): Wait durations and retry intervals
//! overridden by state name, and the time scale; all on a virtual clock,
//! asserting the virtual time taken and the history's timestamps.

use serde_json::{json, Value};
use std::time::Duration;
use stepfn::{sync_task_fn, StatesError, Status, TaskRequest, TimeOverrides};

use crate::common::{error_of, machine, run_overridden, time_taken, EPOCH, LAMBDA};

const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Fails the first three attempts of every task with `Boom`.
fn flaky(r: TaskRequest<'_>) -> Result<Value, StatesError> {
    if r.retry_count < 3 {
        Err(StatesError::new("Boom", "boom"))
    } else {
        Ok(r.parameters)
    }
}

fn wait(seconds: u64) -> Value {
    json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": seconds, "End": true}}})
}

/// A Task retried three times: back-offs of 10, 20 and 40 s by default.
fn retried(retrier: Value) -> Value {
    let mut r =
        json!({"ErrorEquals": ["Boom"], "IntervalSeconds": 10, "BackoffRate": 2, "MaxAttempts": 3});
    r.as_object_mut()
        .unwrap()
        .extend(retrier.as_object().unwrap().clone());
    json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA, "Retry": [r], "End": true}}})
}

fn none() -> TimeOverrides {
    TimeOverrides::new()
}

fn scale(factor: f64) -> TimeOverrides {
    TimeOverrides::new().with_scale(factor).unwrap()
}

fn echo() -> impl stepfn::TaskExecutor {
    sync_task_fn(|r| Ok(r.parameters))
}

#[test]
fn a_wait_override_replaces_the_seconds() {
    let e = echo();
    assert_eq!(time_taken(wait(3600), none(), &e), secs(3600));
    assert_eq!(
        time_taken(wait(3600), none().with_wait("W", secs(5)), &e),
        secs(5)
    );
    assert_eq!(
        time_taken(wait(3600), none().with_wait("W", Duration::ZERO), &e),
        secs(0)
    );
    assert_eq!(
        time_taken(wait(1), none().with_wait("W", secs(90)), &e),
        secs(90)
    );
    assert_eq!(
        time_taken(wait(60), none().with_wait("Other", secs(5)), &e),
        secs(60)
    );
}

#[test]
fn a_wait_override_replaces_timestamps_and_paths() {
    let e = echo();
    let at = json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Timestamp": "1970-01-02T00:00:00Z", "End": true}}});
    assert_eq!(time_taken(at.clone(), none(), &e), secs(86_400));
    assert_eq!(time_taken(at, none().with_wait("W", secs(7)), &e), secs(7));
    let jsonata = json!({"QueryLanguage": "JSONata", "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": "{% 100 %}", "End": true}}});
    assert_eq!(
        time_taken(jsonata, none().with_wait("W", secs(7)), &e),
        secs(7)
    );
}

/// Deliberately unlike aws-local-stepfunctions, which skips the Wait's
/// fields when it overrides one: the errors AWS would raise remain (see
/// the crate docs' Compatibility, "Test conveniences").
#[test]
fn a_wait_override_still_evaluates_the_path() {
    let sm = machine(
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "SecondsPath": "$.missing", "End": true}}}),
    );
    let (plain, _) = run_overridden(&sm, none(), &echo(), json!({}));
    let (overridden, _) = run_overridden(&sm, none().with_wait("W", secs(1)), &echo(), json!({}));
    assert_eq!(overridden.status, Status::Failed);
    assert_eq!(error_of(&overridden), error_of(&plain));
}

#[test]
fn the_history_moves_by_the_overridden_wait() {
    let sm = machine(wait(3600));
    let (outcome, _) = run_overridden(&sm, none().with_wait("W", secs(5)), &echo(), json!({}));
    let times: Vec<_> = outcome
        .history
        .unwrap()
        .iter()
        .map(|e| (e.event_type, e.timestamp))
        .collect();
    assert_eq!(
        times,
        [
            ("ExecutionStarted", EPOCH),
            ("WaitStateEntered", EPOCH),
            ("WaitStateExited", EPOCH + secs(5)),
            ("ExecutionSucceeded", EPOCH + secs(5))
        ]
    );
}

#[test]
fn states_inside_parallel_and_map_are_named_as_any_other() {
    let e = echo();
    let parallel = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": 100, "End": true}}},
        {"StartAt": "B", "States": {"B": {"Type": "Wait", "Seconds": 50, "End": true}}}]}}});
    assert_eq!(
        time_taken(parallel.clone(), none().with_wait("A", secs(1)), &e),
        secs(50)
    );
    assert_eq!(
        time_taken(
            parallel,
            none().with_wait("A", secs(1)).with_wait("B", secs(2)),
            &e
        ),
        secs(2)
    );
    let map = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1, "End": true,
        "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Wait", "Seconds": 100, "End": true}}}}}});
    let sm = machine(map);
    let (_, took) = run_overridden(
        &sm,
        none().with_wait("I", secs(3)),
        &e,
        json!({"items": [1, 2, 3]}),
    );
    assert_eq!(took, secs(9));
}

#[test]
fn a_retry_override_replaces_every_interval() {
    let f = sync_task_fn(flaky);
    assert_eq!(time_taken(retried(json!({})), none(), &f), secs(70));
    assert_eq!(
        time_taken(
            retried(json!({})),
            none().with_retry_interval("T", secs(1)),
            &f
        ),
        secs(3)
    );
    assert_eq!(
        time_taken(
            retried(json!({})),
            none().with_retry_interval("T", Duration::ZERO),
            &f
        ),
        secs(0)
    );
    // no jitter on an overridden interval
    let jittered = retried(json!({"JitterStrategy": "FULL"}));
    assert_eq!(
        time_taken(jittered, none().with_retry_interval("T", secs(4)), &f),
        secs(12)
    );
}

#[test]
fn a_retry_override_is_capped_by_max_delay_seconds() {
    let f = sync_task_fn(flaky);
    // 10, 15, 15 s by default; 20 s each overridden, capped at 15
    let capped = retried(json!({"MaxDelaySeconds": 15}));
    assert_eq!(time_taken(capped.clone(), none(), &f), secs(40));
    assert_eq!(
        time_taken(capped, none().with_retry_interval("T", secs(20)), &f),
        secs(45)
    );
}

#[test]
fn one_retrier_can_be_overridden_by_its_index() {
    let f = sync_task_fn(flaky);
    let two = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA, "End": true, "Retry": [
        {"ErrorEquals": ["Other"], "IntervalSeconds": 100},
        {"ErrorEquals": ["Boom"], "IntervalSeconds": 10, "BackoffRate": 1, "MaxAttempts": 3}]}}});
    assert_eq!(
        time_taken(
            two.clone(),
            none().with_retrier_interval("T", 0, secs(1)),
            &f
        ),
        secs(30)
    );
    assert_eq!(
        time_taken(
            two.clone(),
            none().with_retrier_interval("T", 1, secs(1)),
            &f
        ),
        secs(3)
    );
    let refined = none()
        .with_retry_interval("T", secs(2))
        .with_retrier_interval("T", 0, secs(1));
    assert_eq!(time_taken(two, refined, &f), secs(6));
}

#[test]
fn retries_of_parallel_and_map_are_overridden_by_their_name() {
    let f = sync_task_fn(flaky);
    let parallel = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true,
        "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 10, "BackoffRate": 1, "MaxAttempts": 3}],
        "Branches": [{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA, "End": true}}}]}}});
    // the branch's task sees retry_count 0 each time: every attempt fails
    assert_eq!(time_taken(parallel.clone(), none(), &f), secs(30));
    assert_eq!(
        time_taken(parallel, none().with_retry_interval("P", secs(1)), &f),
        secs(3)
    );
}

#[test]
fn the_scale_multiplies_waits_and_back_offs() {
    let (e, f) = (echo(), sync_task_fn(flaky));
    assert_eq!(time_taken(wait(100), scale(0.5), &e), secs(50));
    assert_eq!(time_taken(wait(100), scale(2.0), &e), secs(200));
    assert_eq!(time_taken(wait(100), scale(0.0), &e), secs(0));
    assert_eq!(
        time_taken(wait(3), scale(0.25), &e),
        Duration::from_millis(750)
    );
    assert_eq!(time_taken(retried(json!({})), scale(0.1), &f), secs(7));
}

#[test]
fn the_scale_leaves_overridden_durations_alone() {
    let e = echo();
    let two = json!({"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": 100, "Next": "B"},
                                                "B": {"Type": "Wait", "Seconds": 100, "End": true}}});
    assert_eq!(
        time_taken(two, scale(0.5).with_wait("A", secs(10)), &e),
        secs(60)
    );
}

#[test]
fn the_scale_leaves_task_timeouts_alone() {
    let slow = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "TimeoutSeconds": 30, "End": true}}});
    let sm = machine(slow);
    let (outcome, took) = run_overridden(&sm, scale(0.0), &echo(), json!({}));
    assert_eq!(outcome.error.as_deref(), Some("States.Timeout"));
    assert_eq!(took, secs(30));
}

#[test]
fn a_bad_scale_is_refused() {
    let refused = |f: f64| TimeOverrides::new().with_scale(f).unwrap_err().to_string();
    assert!(
        refused(-1.0).ends_with("the time scale must be a finite number at least 0, not -1"),
        "{}",
        refused(-1.0)
    );
    assert!(refused(f64::NAN).ends_with("not NaN"));
    assert!(refused(f64::INFINITY).ends_with("not inf"));
    assert_eq!(
        TimeOverrides::new().with_scale(1.0).unwrap(),
        TimeOverrides::new()
    );
}

#[test]
fn the_history_moves_by_the_overridden_retry_interval() {
    let sm = machine(retried(json!({})));
    let overrides = none().with_retry_interval("T", secs(1));
    let (outcome, _) = run_overridden(&sm, overrides, &sync_task_fn(flaky), json!({}));
    let history = outcome.history.unwrap();
    let at = |ty: &str| -> Vec<u64> {
        let since = |e: &stepfn::HistoryEvent| e.timestamp.duration_since(EPOCH).unwrap().as_secs();
        history
            .iter()
            .filter(|e| e.event_type == ty)
            .map(since)
            .collect()
    };
    assert_eq!(at("LambdaFunctionFailed"), [0, 1, 2]);
    assert_eq!(at("LambdaFunctionScheduled"), [0, 1, 2, 3]);
    assert_eq!(at("LambdaFunctionSucceeded"), [3]);
}
