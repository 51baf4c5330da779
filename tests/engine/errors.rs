//! Error paths: Retry and Catch as AWS applies them, runtime errors with
//! AWS's cause prefix, timeouts, panics, payload limits.

use serde_json::{json, Value};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};
use stepfn::{
    sync_task_fn, task_fn, Limits, Outcome, StatesError, Status, TaskExecutor, TaskRequest,
    VirtualClock,
};

use crate::common::{error_of, machine, run_recorded, LAMBDA};

fn run_with(definition: Value, executor: &dyn TaskExecutor, input: Value) -> Outcome {
    run_recorded(&machine(definition), executor, input)
}

fn task(extra: Value) -> Value {
    let mut state = json!({"Type": "Task", "Resource": LAMBDA, "End": true});
    let catches = extra.get("Catch").is_some();
    if let (Value::Object(s), Value::Object(e)) = (&mut state, extra) {
        s.extend(e);
    }
    if catches {
        json!({"StartAt": "T", "States": {"T": state, "Handler": {"Type": "Pass", "End": true}}})
    } else {
        json!({"StartAt": "T", "States": {"T": state}})
    }
}

/// Fails `n` times with `error`, then echoes its input.
fn failing(n: u32, error: &'static str) -> impl TaskExecutor {
    let calls = AtomicU32::new(0);
    sync_task_fn(move |r: TaskRequest<'_>| {
        if calls.fetch_add(1, Ordering::SeqCst) < n {
            Err(StatesError::new(
                error,
                format!("attempt {}", r.retry_count),
            ))
        } else {
            Ok(json!({"attempts": r.retry_count + 1}))
        }
    })
}

#[test]
fn retry_retries_until_success() {
    let def = task(json!({"Retry": [{"ErrorEquals": ["Boom"], "MaxAttempts": 3}]}));
    let o = run_with(def, &failing(2, "Boom"), json!({}));
    assert_eq!(o.output, Some(json!({"attempts": 3})));
}

#[test]
fn retry_gives_up_after_max_attempts() {
    let def = task(json!({"Retry": [{"ErrorEquals": ["Boom"], "MaxAttempts": 2}]}));
    let o = run_with(def, &failing(5, "Boom"), json!({}));
    assert_eq!(error_of(&o), (Some("Boom"), Some("attempt 2")));
}

#[test]
fn max_attempts_zero_never_retries() {
    let def = task(json!({"Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 0}]}));
    let o = run_with(def, &failing(1, "Boom"), json!({}));
    assert_eq!(error_of(&o), (Some("Boom"), Some("attempt 0")));
}

#[test]
fn each_retrier_keeps_its_own_counter() {
    // A, B, A, B: two retriers with one attempt each would stop at the
    // third failure if they shared a counter
    let calls = AtomicU32::new(0);
    let executor =
        sync_task_fn(
            move |_r: TaskRequest<'_>| match calls.fetch_add(1, Ordering::SeqCst) {
                0 | 2 => Err(StatesError::new("A", "a")),
                1 | 3 => Err(StatesError::new("B", "b")),
                _ => Ok(json!("done")),
            },
        );
    let def = task(json!({"Retry": [
        {"ErrorEquals": ["A"], "MaxAttempts": 2},
        {"ErrorEquals": ["B"], "MaxAttempts": 2}
    ]}));
    assert_eq!(
        run_with(def, &executor, json!({})).output,
        Some(json!("done"))
    );
}

#[test]
fn retry_waits_interval_times_backoff_capped_by_max_delay() {
    let times = Mutex::new(Vec::new());
    let clock = VirtualClock::starting_at(SystemTime::UNIX_EPOCH);
    let c = clock.clone();
    let executor = sync_task_fn(|_r: TaskRequest<'_>| {
        use stepfn::Clock;
        let t = c.now().duration_since(SystemTime::UNIX_EPOCH).unwrap();
        times.lock().unwrap().push(t.as_secs_f64());
        Err(StatesError::new("Boom", "x"))
    });
    let def = task(
        json!({"Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 2, "BackoffRate": 3.0, "MaxAttempts": 4, "MaxDelaySeconds": 30}]}),
    );
    let o = futures::executor::block_on(
        machine(def)
            .execution()
            .with_clock(clock)
            .run(&executor, json!({})),
    );
    assert_eq!(o.error.as_deref(), Some("Boom"));
    // waits 2, 6, 18, then 54 capped to 30
    assert_eq!(*times.lock().unwrap(), vec![0.0, 2.0, 8.0, 26.0, 56.0]);
}

#[test]
fn full_jitter_waits_no_longer_than_the_interval() {
    let clock = VirtualClock::starting_at(SystemTime::UNIX_EPOCH);
    let def = task(
        json!({"Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 10, "MaxAttempts": 1, "JitterStrategy": "FULL"}]}),
    );
    let o = futures::executor::block_on(
        machine(def)
            .execution()
            .with_clock(clock.clone())
            .with_random_seed(7)
            .run(&failing(5, "Boom"), json!({})),
    );
    use stepfn::Clock;
    let waited = clock.now().duration_since(SystemTime::UNIX_EPOCH).unwrap();
    assert_eq!(o.status, Status::Failed);
    assert!(waited <= Duration::from_secs(10), "{waited:?}");
}

#[test]
fn catch_writes_error_and_cause_into_the_raw_input() {
    let def = task(
        json!({"InputPath": "$.x", "Catch": [{"ErrorEquals": ["Boom"], "ResultPath": "$.err", "Next": "Handler"}]}),
    );
    let o = run_with(def, &failing(9, "Boom"), json!({"x": 1}));
    assert_eq!(
        o.output,
        Some(json!({"x": 1, "err": {"Error": "Boom", "Cause": "attempt 0"}}))
    );
}

#[test]
fn task_failed_matches_task_errors_but_not_timeouts() {
    let def = task(json!({"Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "Handler"}]}));
    let o = run_with(def.clone(), &failing(9, "Custom.Error"), json!({}));
    assert_eq!(
        o.output,
        Some(json!({"Error": "Custom.Error", "Cause": "attempt 0"}))
    );
    let o = run_with(def, &failing(9, "States.Timeout"), json!({}));
    assert_eq!(o.error.as_deref(), Some("States.Timeout"));
}

#[test]
fn states_runtime_is_never_caught() {
    let def = task(
        json!({"OutputPath": "$.no.such", "Catch": [{"ErrorEquals": ["States.Runtime"], "Next": "Handler"}, {"ErrorEquals": ["States.ALL"], "Next": "Handler"}]}),
    );
    let o = run_with(
        def,
        &sync_task_fn(|_r: TaskRequest<'_>| Ok(json!({}))),
        json!({}),
    );
    assert_eq!(
        error_of(&o),
        (
            Some("States.Runtime"),
            Some("An error occurred while executing the state 'T' (entered at the event id #2). Invalid path '$.no.such' : Missing property in path $['no']")
        )
    );
}

#[test]
fn a_panicking_executor_is_a_task_failure() {
    let def = task(json!({"Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "Handler"}]}));
    let executor = sync_task_fn(|_r: TaskRequest<'_>| -> stepfn::TaskResult { panic!("kaboom") });
    let o = run_with(def, &executor, json!({}));
    assert_eq!(
        o.output,
        Some(json!({"Error": "States.TaskFailed", "Cause": "kaboom"}))
    );
}

#[test]
fn task_timeout_fails_with_states_timeout() {
    let def = task(json!({"TimeoutSeconds": 1}));
    let never = task_fn(|_r: TaskRequest<'_>| futures::future::pending());
    // a pending executor keeps virtual time still: use a real short timeout
    let o = futures::executor::block_on(machine(def).execute(&never, json!({})));
    assert_eq!(error_of(&o), (Some("States.Timeout"), None));
}

#[test]
fn timeout_seconds_path_is_read_from_the_input() {
    let def = task(json!({"TimeoutSecondsPath": "$.t"}));
    let never = task_fn(|_r: TaskRequest<'_>| futures::future::pending());
    let o = futures::executor::block_on(machine(def).execute(&never, json!({"t": 1})));
    assert_eq!(o.error.as_deref(), Some("States.Timeout"));
}

#[test]
fn timeout_seconds_path_must_be_a_positive_integer() {
    let def = task(json!({"TimeoutSecondsPath": "$.t"}));
    for bad in [json!("abc"), json!(0), json!(-3), json!(1.5)] {
        let o = run_with(def.clone(), &failing(0, "x"), json!({"t": bad}));
        assert_eq!(o.error.as_deref(), Some("States.Runtime"), "{bad}");
        let text = match &bad {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let cause = format!(
            "The TimeoutSecondsPath field refers to value \"{text}\" which is not a valid positive integer: $.t"
        );
        assert!(
            o.cause.as_deref().unwrap_or("").ends_with(&cause),
            "{:?}",
            o.cause
        );
    }
}

#[test]
fn machine_timeout_ends_timed_out() {
    let def = json!({"TimeoutSeconds": 60, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}});
    let o = run_with(def, &failing(0, "x"), json!({}));
    assert_eq!((o.status, o.error.as_deref()), (Status::TimedOut, None));
}

#[test]
fn parallel_fails_with_the_branch_error() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 100, "End": true}}},
        {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "BranchError", "Cause": "c"}}}
    ]}}});
    let o = run_with(def, &failing(0, "x"), json!({}));
    assert_eq!(error_of(&o), (Some("BranchError"), Some("c")));
}

#[test]
fn map_fails_with_the_iteration_error() {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
        "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA, "End": true}}}}}});
    let executor = sync_task_fn(|r: TaskRequest<'_>| {
        if r.parameters == json!(2) {
            Err(StatesError::new("Two", "item two"))
        } else {
            Ok(r.parameters)
        }
    });
    let o = run_with(def, &executor, json!([1, 2, 3]));
    assert_eq!(error_of(&o), (Some("Two"), Some("item two")));
}

#[test]
fn wait_rejects_negative_seconds_path() {
    let def = json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "SecondsPath": "$.s", "End": true}}});
    let o = run_with(def, &failing(0, "x"), json!({"s": -1}));
    assert_eq!(
        o.cause.as_deref(),
        Some("An error occurred while executing the state 'W' (entered at the event id #2). The SecondsPath parameter references a negative value: $.s == -1")
    );
}

#[test]
fn wait_rejects_a_timestamp_without_zone() {
    let def = json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "TimestampPath": "$.t", "End": true}}});
    let o = run_with(def, &failing(0, "x"), json!({"t": "2016-12-05T21:29:29"}));
    assert_eq!(
        o.cause.as_deref(),
        Some("An error occurred while executing the state 'W' (entered at the event id #2). The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: $.t == 2016-12-05T21:29:29")
    );
}

#[test]
fn oversized_state_output_is_data_limit_exceeded() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
    let big = json!({"s": "x".repeat(300_000)});
    let o = run_with(def.clone(), &failing(0, "x"), big.clone());
    assert_eq!(
        error_of(&o),
        (
            Some("States.DataLimitExceeded"),
            Some("The state/task 'P' returned a result with a size exceeding the maximum number of bytes service limit.")
        )
    );
    let unlimited = futures::executor::block_on(
        machine(def)
            .execution()
            .with_limits(Limits::default().with_max_payload_bytes(None))
            .run(&failing(0, "x"), big),
    );
    assert_eq!(unlimited.status, Status::Succeeded);
}

/// AWS records a task result over the limit as a task failure that Catch
/// takes (conformance: test_task_lambda_data_limit_exceeded_on_large_utf8_response),
/// although the docs call States.DataLimitExceeded terminal.
#[test]
fn a_too_large_task_result_is_a_catchable_task_failure() {
    let def =
        task(json!({"Catch": [{"ErrorEquals": ["States.DataLimitExceeded"], "Next": "Handler"}]}));
    let executor = sync_task_fn(|_r: TaskRequest<'_>| Ok(json!("x".repeat(300_000))));
    let o = run_with(def, &executor, json!({}));
    assert_eq!(
        o.output,
        Some(
            json!({"Error": "States.DataLimitExceeded", "Cause": format!("The state/task '{LAMBDA}' returned a result with a size exceeding the maximum number of bytes service limit.")})
        )
    );
}

#[test]
fn an_executor_timeout_is_recorded_as_a_timeout() {
    let def = task(json!({}));
    let o = run_with(def, &failing(9, "States.Timeout"), json!({}));
    let history = o.history.unwrap();
    assert_eq!(
        history[history.len() - 2].event_type,
        "LambdaFunctionTimedOut"
    );
}

#[test]
fn fuel_stops_an_endless_choice_loop() {
    let def = json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.go", "BooleanEquals": true, "Next": "C"}], "Default": "D"},
        "D": {"Type": "Succeed"}}});
    let o = futures::executor::block_on(
        machine(def)
            .execution()
            .with_limits(Limits::default().with_max_transitions(Some(100)))
            .run(&failing(0, "x"), json!({"go": true})),
    );
    assert_eq!(
        error_of(&o),
        (
            Some("States.Runtime"),
            Some("the execution exceeded its budget of 100 state transitions")
        )
    );
}

#[test]
fn history_event_limit_fails_the_execution() {
    let def = json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.go", "BooleanEquals": true, "Next": "C"}], "Default": "D"},
        "D": {"Type": "Succeed"}}});
    let limits = Limits::default().with_max_history_events(Some(50));
    let o = futures::executor::block_on(
        machine(def)
            .execution()
            .with_limits(limits)
            .run(&failing(0, "x"), json!({"go": true})),
    );
    assert_eq!(
        error_of(&o),
        (
            Some("States.Runtime"),
            Some("the execution exceeded the limit of 50 history events")
        )
    );
}
