//! Never panic on input: hostile definitions, inputs, task results and
//! intrinsic arguments end in a clear error, never a panic or a hang.

mod common;

use common::{deep, small_stack, LAMBDA};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::time::{Duration, SystemTime};
use stepfn::jsonpath::IntrinsicCall;
use stepfn::jsonpath::{Env, Path};
use stepfn::{sync_task_fn, Outcome, StateMachine, VirtualClock};

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("HARDENING_CASES")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(cases),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------
// Wait: extreme delays

/// Runs `definition` on a virtual clock starting at 2023-11-14, on a thread
/// that must finish within a minute (a hang fails the test instead of
/// stalling the suite).
fn run(definition: Value, input: Value) -> Outcome {
    run_at(start(), definition, input)
}

fn run_at(start: SystemTime, definition: Value, input: Value) -> Outcome {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let machine = common::machine(definition);
        let executor = sync_task_fn(|request| Ok(request.parameters));
        let outcome = futures::executor::block_on(
            machine
                .execution()
                .with_clock(VirtualClock::starting_at(start))
                .with_history(true)
                .run(&executor, input),
        );
        let _ = tx.send(outcome);
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the execution ended (no hang, no panic)")
}

fn start() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// The cause of a failed execution, without the state prefix; `None` when
/// it succeeded.
fn failure(outcome: Outcome) -> Option<String> {
    let cause = outcome.cause?;
    Some(match cause.split_once("). ") {
        Some((_, rest)) => rest.to_owned(),
        None => cause,
    })
}

fn wait_seconds_path(seconds: Value) -> Option<String> {
    let definition = json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "SecondsPath": "$.s", "End": true}}});
    failure(run(definition, json!({ "s": seconds })))
}

/// Divergence: AWS recorded `Wait state delay is too long.` for a Timestamp
/// 2^31 s ahead; the same limit for SecondsPath is our choice (not
/// recorded; see the Compatibility section of the crate docs).
#[test]
fn wait_seconds_path_extremes() {
    assert_eq!(wait_seconds_path(json!(2147483647)), None);
    let too_long = Some("Wait state delay is too long.".to_owned());
    assert_eq!(wait_seconds_path(json!(2147483648u64)), too_long);
    assert_eq!(wait_seconds_path(json!(i64::MAX)), too_long);
    assert_eq!(
        wait_seconds_path(json!(u64::MAX)).as_deref(),
        Some("The SecondsPath parameter cannot be parsed as a long value: $.s == 18446744073709551615")
    );
    assert_eq!(
        wait_seconds_path(json!(1e300)).as_deref(),
        Some("The SecondsPath parameter cannot be parsed as a long value: $.s == 1e+300")
    );
}

fn wait_timestamp(timestamp: &str) -> Option<String> {
    let definition = json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Timestamp": timestamp, "End": true}}});
    failure(run(definition, json!({})))
}

#[test]
fn wait_timestamp_extremes() {
    let too_long = Some("Wait state delay is too long.".to_owned());
    assert_eq!(wait_timestamp("0001-01-01T00:00:00Z"), None);
    assert_eq!(wait_timestamp("0000-01-01T00:00:00-18:00"), None);
    // RFC 3339 (the load-time check) allows a 23:59 offset, Java's offset date-time
    // (the run-time parser, inferred) stops at 18 hours
    assert_eq!(
        wait_timestamp("0000-01-01T00:00:00-23:59").as_deref(),
        Some("The Timestamp parameter does not reference a valid ISO-8601 extended offset date-time format string: 0000-01-01T00:00:00-23:59")
    );
    assert_eq!(wait_timestamp("2091-12-03T01:27:27Z"), None);
    assert_eq!(wait_timestamp("2091-12-03T01:27:28Z"), too_long);
    assert_eq!(
        wait_timestamp("9999-12-31T23:59:59.999999999+18:00"),
        too_long
    );
}

/// Nearly the latest time `SystemTime` can represent (adding the returned
/// step again overflows it).
fn end_of_time() -> (SystemTime, Duration) {
    let mut step = Duration::from_secs(u64::MAX);
    loop {
        if let Some(t) = SystemTime::UNIX_EPOCH.checked_add(step) {
            return (t, step);
        }
        step /= 2;
    }
}

#[test]
fn waits_and_retries_end_on_a_virtual_clock_at_the_end_of_time() {
    let (far, _) = end_of_time();
    let definition = json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 99999999, "Next": "T"},
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
              "Parameters": {"at.$": "$$.State.EnteredTime"}, "TimeoutSeconds": 99999999,
              "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 99999999}], "End": true}}});
    let outcome = run_at(far, definition, json!({}));
    assert_eq!(outcome.status, stepfn::Status::Succeeded, "{outcome:?}");
}

// ---------------------------------------------------------------------------
// values nested too deeply for recursion, handed over at the API's edges

fn pass_machine() -> StateMachine {
    common::machine(json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}))
}

#[test]
fn deep_definition_value_is_rejected() {
    let codes = small_stack(|| {
        let error = StateMachine::from_value(deep(100_000)).expect_err("too deep");
        error
            .diagnostics()
            .iter()
            .map(|d| d.code)
            .collect::<Vec<_>>()
    });
    assert_eq!(codes, ["TOO_DEEPLY_NESTED"]);
}

#[test]
fn deep_callback_output_for_an_unknown_token_is_refused() {
    let refused = small_stack(|| {
        let machine = pass_machine();
        let handle = machine.execution().handle();
        handle.send_task_success("no-such-token", deep(100_000))
    });
    assert_eq!(refused, Err(stepfn::CallbackError::InvalidToken));
}

#[test]
fn deep_callback_output_nobody_reads_is_dropped_safely() {
    let outcome = small_stack(|| {
        let machine = StateMachine::from_value(json!({"StartAt": "T", "States": {"T": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"token.$": "$$.Task.Token"}, "End": true}}}))
        .expect("valid machine");
        // answered twice: the second, deep answer is refused and dropped
        let executor = sync_task_fn(|request| {
            let callback = request.callback().expect("a callback task");
            callback.send_success(json!("first")).expect("accepted");
            let second = callback.send_success(deep(100_000));
            assert_eq!(second, Err(stepfn::CallbackError::TaskTimedOut));
            Ok(json!({}))
        });
        futures::executor::block_on(machine.execute(&executor, json!({})))
    });
    assert_eq!(outcome.output, Some(json!("first")));
}

/// Divergence: AWS's answer to such a TestState request is not recorded.
#[test]
fn deep_test_state_request_is_rejected() {
    let detail = small_stack(|| {
        let request = stepfn::testing::TestStateRequest::new(deep(100_000));
        let error =
            stepfn::testing::test_state(&pass_machine(), &request, None).expect_err("too deep");
        std::mem::forget(request); // the test's own drop would recurse
        error.detail().to_owned()
    });
    assert_eq!(
        detail,
        "the input has arrays and objects nested more than 1000 levels deep"
    );
}

fn test_task(answer: fn() -> Value) -> (String, Option<String>, Option<String>) {
    let machine = StateMachine::from_value(json!({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": LAMBDA, "End": true}}}))
    .expect("valid machine");
    let executor = sync_task_fn(move |_| Ok(answer()));
    let request = stepfn::testing::TestStateRequest::new(json!({}));
    let result = stepfn::testing::test_state(&machine, &request, Some(&executor)).expect("tested");
    (
        result.status.as_str().to_owned(),
        result.error,
        result.cause,
    )
}

#[test]
fn deep_task_result_in_test_state_fails_the_task() {
    let (status, error, cause) = small_stack(|| test_task(|| deep(100_000)));
    assert_eq!(status, "FAILED");
    assert_eq!(error.as_deref(), Some("States.DataLimitExceeded"));
    assert_eq!(
        cause.as_deref(),
        Some("The state/task 'arn:aws:lambda:us-east-1:123456789012:function:f' returned a result with a nesting depth exceeding the maximum of 1000 levels.")
    );
}

#[test]
fn panicking_executor_in_test_state_fails_the_task() {
    let (status, error, cause) = test_task(|| panic!("boom"));
    assert_eq!(
        (status.as_str(), error.as_deref(), cause.as_deref()),
        ("FAILED", Some("States.TaskFailed"), Some("boom"))
    );
}

#[test]
fn deep_mock_config_is_rejected() {
    let detail = small_stack(|| {
        let mut config =
            json!({"StateMachines": {}, "MockedResponses": {"R": {"0": {"Return": 1}}}});
        config["MockedResponses"]["R"]["0"]["Return"] = deep(100_000);
        let error = stepfn::testing::MockConfig::from_value(&config).expect_err("too deep");
        std::mem::forget(config); // the test's own drop would recurse
        error.detail().to_owned()
    });
    assert_eq!(
        detail,
        "mock config: arrays and objects are nested more than 1000 levels deep"
    );
}

#[test]
fn mock_config_text_is_read_up_to_the_depth_limit() {
    let text = |levels: usize| {
        format!(
            r#"{{"StateMachines": {{}}, "MockedResponses": {{"R": {{"0": {{"Return": {}{}}}}}}}}}"#,
            "[".repeat(levels),
            "]".repeat(levels)
        )
    };
    // 4 levels of the config around the result
    assert!(stepfn::testing::MockConfig::from_str(&text(996)).is_ok());
    let error = stepfn::testing::MockConfig::from_str(&text(997)).expect_err("too deep");
    assert_eq!(
        error.detail(),
        "mock config: not valid JSON: arrays and objects are nested more than 1000 levels deep"
    );
}

// ---------------------------------------------------------------------------
// nothing lost: numbers parsed from text keep every bit (as Jackson does)

const TIGHT_FLOAT: f64 = 3.8755390579181915e-287;

#[test]
fn string_to_json_keeps_every_bit_of_a_float() {
    let call =
        IntrinsicCall::parse("States.StringToJson('3.8755390579181915e-287')").expect("parses");
    assert_eq!(
        call.eval(&Env::data(&json!({}))).expect("evaluates"),
        json!(TIGHT_FLOAT)
    );
}

#[test]
fn definition_literals_keep_every_bit_of_a_float() {
    let machine = StateMachine::from_str(
        r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 3.8755390579181915e-287, "End": true}}}"#,
    )
    .expect("valid machine");
    let outcome =
        futures::executor::block_on(machine.execute(&sync_task_fn(|_| Ok(json!(null))), json!({})));
    assert_eq!(outcome.output, Some(json!(TIGHT_FLOAT)));
}

// ---------------------------------------------------------------------------
// paths whose matches multiply

/// Divergence: AWS (Jayway) accepts any number of `..`; each multiplies the
/// matches by up to the size of the data, so stepfn caps them at two.
#[test]
fn a_path_has_at_most_two_recursive_descents() {
    assert!(Path::parse("$..a..b").is_ok());
    assert_eq!(
        Path::parse("$..a..b..c")
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Err(
            "invalid path `$..a..b..c`: a path may have at most 2 recursive descents (`..`)"
                .to_owned()
        )
    );
    assert!(Path::parse("$..*..[*]..*").is_err());
}

/// Divergence: a cap of our own (AWS's behaviour on such a path is not
/// recorded).
#[test]
fn matches_of_a_path_are_capped() {
    // each of the 100 levels matched by `..*` holds the 1 MiB string
    let mut data = json!("x".repeat(1 << 20));
    for _ in 0..100 {
        data = json!([data]);
    }
    let error = Path::parse("$..*")
        .expect("parses")
        .eval(&Env::data(&data))
        .expect_err("too large");
    assert_eq!(
        error.to_string(),
        "Invalid path '$..*' : the matches add up to more than 67108864 bytes"
    );
    let definition = json!({"StartAt": "C", "States": {"C": {"Type": "Choice",
        "Choices": [{"Variable": "$..*", "IsPresent": false, "Next": "D"}, {"Variable": "$..*", "IsNull": true, "Next": "D"}],
        "Default": "D"}, "D": {"Type": "Succeed"}}});
    let outcome = StateMachine::from_value(definition).expect("valid machine");
    let outcome = futures::executor::block_on(
        outcome
            .execution()
            .with_limits(stepfn::Limits::unlimited())
            .run(&sync_task_fn(|_| Ok(json!(null))), data),
    );
    assert_eq!(
        failure(outcome).as_deref(),
        Some("Invalid path '$..*' : the matches add up to more than 67108864 bytes")
    );
}

// ---------------------------------------------------------------------------
// hostile inputs of every kind: the generators and properties of the fuzzing
// campaign (fuzz/src/gen.rs), run here with a fixed number of cases

#[path = "../fuzz/src/gen.rs"]
mod gen;

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn paths_never_panic(case in gen::path_case()) {
        gen::check_path(case)?;
    }

    #[test]
    fn intrinsics_never_panic(case in gen::intrinsic_case()) {
        gen::check_intrinsic(case)?;
    }

    #[test]
    fn choice_rules_never_panic(case in gen::choice_case()) {
        gen::check_choice(case)?;
    }

    #[test]
    fn mutated_definitions_load_or_fail_cleanly(case in gen::mutated_definition_case()) {
        gen::check_mutated_definition(case)?;
    }

    #[test]
    fn definition_text_loads_or_fails_cleanly(case in gen::definition_text_case()) {
        gen::check_definition_text(case)?;
    }

    #[test]
    fn test_state_never_panics(case in gen::test_state_case()) {
        gen::check_test_state(case)?;
    }
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn executions_end_consistently(case in gen::execution_case()) {
        gen::check_execution(case)?;
    }

    #[test]
    fn values_pass_through_unchanged(case in gen::pass_through_case()) {
        gen::check_pass_through(case)?;
    }
}
