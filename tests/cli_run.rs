//! The `stepfn` command line beyond validation: `run`'s time flags
//! (`--wait`, `--retry-interval`, `--time-scale`), the answer it prints,
//! and `mock-skeleton`.
#![cfg(feature = "cli")]

mod common;

use common::TempFile;
use serde_json::{json, Value};
use std::process::{Command, Output};

fn stepfn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stepfn"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).expect("stdout is one JSON value")
}

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
