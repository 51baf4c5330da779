//! The `stepfn` command line beyond validation: `run`'s time flags
//! (`--wait`, `--retry-interval`, `--time-scale`), the answer it prints,
//! and `mock-skeleton`.
#![cfg(feature = "cli")]

mod common;

use common::cli::{json_of, stderr, stepfn};

use common::TempFile;
use serde_json::{json, Value};
use std::process::Output;

/// `stepfn run` of `definition` (in a temp file named after `tag`) with
/// `args`.
fn run(tag: &str, definition: &Value, args: &[&str]) -> Output {
    let file = TempFile::new(&format!("{tag}.json"), &definition.to_string());
    let mut all = vec!["run", file.text()];
    all.extend(args);
    stepfn(&all)
}

/// Seconds between the first and last event of a `--history` answer.
fn seconds_taken(answer: &Value) -> f64 {
    let at = |e: &Value| {
        let text = e["timestamp"].as_str().expect("a timestamp");
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .expect("RFC 3339")
    };
    let history = answer["history"].as_array().expect("a history");
    (at(history.last().unwrap()) - at(&history[0])).as_seconds_f64()
}

/// The seconds `definition` takes on virtual time with `args`.
fn taken(tag: &str, definition: &Value, args: &[&str]) -> f64 {
    let mut all = vec!["--virtual-time", "--history"];
    all.extend(args);
    let out = run(tag, definition, &all);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    seconds_taken(&json_of(&out))
}

/// The message of a refused `stepfn run` (exit 2).
fn refused(definition: &Value, args: &[&str]) -> String {
    let out = run("refused", definition, args);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    stderr(&out)
}

fn waits() -> Value {
    json!({"StartAt": "a=b", "States": {
        "a=b": {"Type": "Wait", "Seconds": 3600, "Next": "P"},
        "P": {"Type": "Parallel", "End": true, "Branches": [
            {"StartAt": "Inner", "States": {"Inner": {"Type": "Wait", "Seconds": 100, "End": true}}}]}}})
}

fn retried() -> Value {
    json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
        "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 10, "BackoffRate": 2, "MaxAttempts": 2}],
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}]},
        "Done": {"Type": "Pass", "End": true}}})
}

#[test]
fn run_waits_as_long_as_the_flags_say() {
    let w = waits();
    assert_eq!(taken("w0", &w, &[]), 3700.0);
    assert_eq!(taken("w1", &w, &["--wait", "a=b=2"]), 102.0);
    assert_eq!(
        taken("w2", &w, &["--wait", "a=b=2", "--wait", "Inner=0.5"]),
        2.5
    );
    assert_eq!(taken("w3", &w, &["--time-scale", "0.1"]), 370.0);
    assert_eq!(
        taken("w4", &w, &["--time-scale", "0", "--wait", "Inner=1"]),
        1.0
    );
}

#[cfg(unix)]
#[test]
fn run_retries_as_soon_as_the_flags_say() {
    let r = retried();
    let failing = ["--task-command", "T=exit 1"];
    assert_eq!(taken("r0", &r, &failing), 30.0);
    assert_eq!(
        taken(
            "r1",
            &r,
            &[&failing[..], &["--retry-interval", "T=1"]].concat()
        ),
        2.0
    );
    assert_eq!(
        taken("r2", &r, &[&failing[..], &["--time-scale", "0.5"]].concat()),
        15.0
    );
}

#[test]
fn run_refuses_bad_time_flags() {
    let (w, r) = (waits(), retried());
    let cases: [(&Value, &[&str], &str); 9] = [
        (&w, &["--wait", "a=b"], "stepfn run: --wait `a=b`: `b` is not a number of seconds (0 or more)\n"),
        (&w, &["--wait", "Inner"], "stepfn run: --wait `Inner` is not STATE=SECONDS\n"),
        (&w, &["--wait", "=3"], "stepfn run: --wait `=3` names no state\n"),
        (&w, &["--wait", "Inner=-1"], "stepfn run: --wait `Inner=-1`: `-1` is not a number of seconds (0 or more)\n"),
        (&w, &["--wait", "Nope=1"], "stepfn run: --wait `Nope=1`: no state is named `Nope`\n"),
        (&w, &["--wait", "P=1"], "stepfn run: --wait `P=1`: `P` is a Parallel state, not a Wait state\n"),
        (&w, &["--retry-interval", "Inner=1"], "stepfn run: --retry-interval `Inner=1`: `Inner` is a Wait state, which has no Retry\n"),
        (&r, &["--time-scale", "-1"], "stepfn run: --time-scale `-1`: the time scale must be a finite number at least 0, not -1\n"),
        (&r, &["--time-scale", "fast"], "stepfn run: --time-scale `fast` is not a number\n"),
    ];
    for (definition, args, message) in cases {
        assert_eq!(refused(definition, args), message, "{args:?}");
    }
    assert_eq!(
        refused(&w, &["--wait", "Inner=NaN"]),
        "stepfn run: --wait `Inner=NaN`: `NaN` is not a number of seconds (0 or more)\n"
    );
    assert_eq!(refused(&w, &["--time-scale", "inf"]), "stepfn run: --time-scale `inf`: the time scale must be a finite number at least 0, not inf\n");
}

fn nested_tasks() -> Value {
    json!({"StartAt": "Charge", "States": {
        "Charge": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                   "Parameters": {"FunctionName": "charge", "Payload.$": "$"}, "ResultSelector": {"code.$": "$.StatusCode"}, "ResultPath": "$.charge", "Next": "Both"},
        "Both": {"Type": "Parallel", "Next": "Each", "Branches": [
            {"StartAt": "Ship", "States": {"Ship": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": true}}},
            {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 1, "End": true}}}]},
        "Each": {"Type": "Map", "ItemsPath": "$[1].items", "End": true, "ItemProcessor": {"StartAt": "Email", "States": {
            "Email": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:email", "End": true}}}}}})
}

#[test]
fn mock_skeleton_mocks_every_task_state_with_a_placeholder() {
    let file = TempFile::new("orders.json", &nested_tasks().to_string());
    let out = stepfn(&["mock-skeleton", file.text()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let name = file.file_stem().unwrap().to_str().unwrap();
    assert_eq!(
        json_of(&out),
        json!({
            "StateMachines": {name: {"TestCases": {"HappyPath": {"Charge": "ChargeSuccess", "Ship": "ShipSuccess", "Email": "EmailSuccess"}}}},
            "MockedResponses": {
                "ChargeSuccess": {"0": {"Return": {"StatusCode": 200, "Payload": {}}}},
                "ShipSuccess": {"0": {"Return": {}}},
                "EmailSuccess": {"0-999": {"Return": {}}}
            }
        })
    );
    let named = stepfn(&["mock-skeleton", file.text(), "--state-machine", "Orders"]);
    assert!(json_of(&named)["StateMachines"]["Orders"].is_object());
}

#[test]
fn a_mock_skeleton_loads_back_and_runs() {
    let def = nested_tasks();
    let file = TempFile::new("skeleton-def.json", &def.to_string());
    let skeleton = TempFile::new(
        "skeleton.json",
        &stdout_of(&stepfn(&["mock-skeleton", file.text()])),
    );
    let input = r#"{"items": [1, 2, 3]}"#;
    let out = stepfn(&[
        "run",
        file.text(),
        "--input",
        input,
        "--mock-config",
        skeleton.text(),
        "--test-case",
        "HappyPath",
        "--virtual-time",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        json_of(&out),
        json!({"status": "SUCCEEDED", "output": [{}, {}, {}]})
    );
}

#[test]
fn mock_skeleton_refuses_an_invalid_definition() {
    let file = TempFile::new("bad-skeleton.json", r#"{"StartAt": "Nope", "States": {}}"#);
    let out = stepfn(&["mock-skeleton", file.text()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("stepfn mock-skeleton: invalid definition"),
        "{}",
        stderr(&out)
    );
}

/// Every fixture machine's skeleton loads back; running it, no Task state
/// lacks a mock.
#[test]
fn every_fixture_has_a_skeleton_that_covers_its_tasks() {
    for entry in std::fs::read_dir("fixtures/machines").unwrap() {
        let path = entry.unwrap().path();
        let name = path.to_str().unwrap();
        if !name.ends_with(".json") || name.contains("invalid") {
            continue;
        }
        let out = stepfn(&["mock-skeleton", name]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        let skeleton = TempFile::new("fixture-skeleton.json", &stdout_of(&out));
        let run = stepfn(&[
            "run",
            name,
            "--mock-config",
            skeleton.text(),
            "--test-case",
            "HappyPath",
            "--virtual-time",
        ]);
        let answer = json_of(&run);
        let cause = answer["cause"].as_str().unwrap_or("");
        assert!(!cause.contains("mock"), "{name}: {answer}");
    }
}

fn stdout_of(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
