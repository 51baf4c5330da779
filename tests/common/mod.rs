//! The tiny helpers more than one test binary needs. Each binary includes
//! this file as its `common` module and uses what it needs of it.

// Every binary uses only some of the helpers.
#![allow(dead_code)]

#[cfg(feature = "cli")]
pub mod cli;
pub mod durable;

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use stepfn::{Limits, Outcome, StateMachine, TaskExecutor};

/// A Lambda function ARN for Task states.
pub const LAMBDA: &str = "arn:aws:lambda:us-east-1:123456789012:function:f";

/// The machine of a definition that must load.
pub fn machine(definition: Value) -> StateMachine {
    StateMachine::from_value(definition).expect("valid definition")
}

/// A definition whose only state is `state`, named `S`.
pub fn one(state: Value) -> Value {
    json!({"StartAt": "S", "States": {"S": state}})
}

/// Runs `sm` on virtual time: waits, retries and timeouts take no real time.
pub fn run_virtual(sm: &StateMachine, executor: &dyn TaskExecutor, input: Value) -> Outcome {
    futures::executor::block_on(sm.execution().with_virtual_time().run(executor, input))
}

/// [`run_virtual`], recording the history.
pub fn run_recorded(sm: &StateMachine, executor: &dyn TaskExecutor, input: Value) -> Outcome {
    let execution = sm.execution().with_virtual_time().with_history(true);
    futures::executor::block_on(execution.run(executor, input))
}

/// The error and cause of an outcome.
pub fn error_of(o: &Outcome) -> (Option<&str>, Option<&str>) {
    (o.error.as_deref(), o.cause.as_deref())
}

/// The length of a value's JSON text, which the byte limit measures.
pub fn len(v: &Value) -> usize {
    serde_json::to_string(v).unwrap().len()
}

/// The default limits with a byte limit of `limit`.
pub fn bytes(limit: usize) -> Limits {
    Limits::default().with_max_payload_bytes(Some(limit))
}

/// AWS's cause when state `name` passes the byte limit.
pub fn size_cause(name: &str) -> String {
    format!("The state/task '{name}' returned a result with a size exceeding the maximum number of bytes service limit.")
}

/// AWS's cause when state `name` passes the depth limit of `max` levels.
pub fn depth_cause(name: &str, max: usize) -> String {
    format!("The state/task '{name}' returned a result with a nesting depth exceeding the maximum of {max} levels.")
}

/// `levels` arrays nested around `1`.
pub fn deep(levels: usize) -> Value {
    let mut v = json!(1);
    for _ in 0..levels {
        v = Value::Array(vec![v]);
    }
    v
}

/// Runs `f` on a thread with a small stack: recursion over a deep value
/// (a clone, a drop) would overflow it and abort the test binary.
///
/// 512 KiB: an unoptimised build with every feature (tracing's spans
/// included) needs about 300 KiB to run one Task state; recursing over
/// the 100,000-level values these tests feed would need megabytes.
pub fn small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(f)
        .expect("thread")
        .join()
        .expect("no panic")
}

/// The AWS conformance corpus: `$STEPFN_CONFORMANCE_DIR`, else
/// `../shared/conformance` next to the crate.
pub fn conformance_dir() -> PathBuf {
    match std::env::var_os("STEPFN_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance"),
    }
}

/// [`conformance_dir`] when it holds `what` (`cases`, `validation.jsonl`).
/// Without it the test is skipped with a line saying so, except under CI
/// (`CI=true`), where a missing corpus is a failure: a green run must have
/// run it.
pub fn corpus(what: &str) -> Option<PathBuf> {
    let dir = conformance_dir();
    if dir.join(what).exists() {
        return Some(dir);
    }
    let message = format!(
        "the AWS conformance corpus ({what}) is not at {}: set STEPFN_CONFORMANCE_DIR or put shared/ beside the repository",
        dir.display()
    );
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "{message} (CI=true: a missing corpus fails)"
    );
    println!("SKIPPED: {message}");
    None
}

/// [`corpus`] of the recorded executions (`cases/`).
pub fn conformance_cases() -> Option<PathBuf> {
    corpus("cases")
}

/// A file in the temp directory, named after the test process and `name`,
/// removed when dropped: tests leave nothing behind.
pub struct TempFile(PathBuf);

impl TempFile {
    /// Writes `contents` to the file.
    pub fn new(name: &str, contents: &str) -> TempFile {
        let path = std::env::temp_dir().join(format!("stepfn-test-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).expect("temp file");
        TempFile(path)
    }

    /// The path as text (temp paths are UTF-8 here).
    pub fn text(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temp path")
    }
}

impl std::ops::Deref for TempFile {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A directory in the temp directory, removed with what it holds when
/// dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates the directory.
    pub fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("stepfn-test-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&path).expect("temp dir");
        TempDir(path)
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The instant virtual-time tests start at.
pub const EPOCH: std::time::SystemTime = std::time::SystemTime::UNIX_EPOCH;

/// Runs `sm` on a virtual clock starting at [`EPOCH`] with `overrides`,
/// recording the history; the outcome and the virtual time it took.
pub fn run_overridden(
    sm: &StateMachine,
    overrides: stepfn::TimeOverrides,
    executor: &dyn TaskExecutor,
    input: Value,
) -> (Outcome, std::time::Duration) {
    let clock = stepfn::VirtualClock::starting_at(EPOCH);
    let execution = sm
        .execution()
        .with_clock(clock.clone())
        .with_history(true)
        .with_time_overrides(overrides);
    let outcome = futures::executor::block_on(execution.run(executor, input));
    let took = stepfn::Clock::now(&clock).duration_since(EPOCH).unwrap();
    (outcome, took)
}

/// The virtual time `definition` takes with `overrides`, its tasks
/// answered by `executor`.
pub fn time_taken(
    definition: Value,
    overrides: stepfn::TimeOverrides,
    executor: &dyn TaskExecutor,
) -> std::time::Duration {
    run_overridden(&machine(definition), overrides, executor, json!({})).1
}
