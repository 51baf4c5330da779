//! How an execution ended: [`Status`] and [`Outcome`].

use super::HistoryEvent;
use crate::error::StatesError;
use serde_json::Value;
use std::fmt;

/// How an execution ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// `SUCCEEDED`: it reached a Succeed state or an `End`.
    Succeeded,
    /// `FAILED`: an error nobody caught, or a Fail state.
    Failed,
    /// `TIMED_OUT`: the definition's top-level `TimeoutSeconds` passed.
    TimedOut,
    /// `ABORTED`: the host aborted it through its [`ExecutionHandle`](crate::ExecutionHandle).
    Aborted,
}

impl Status {
    /// `"SUCCEEDED"`, `"FAILED"`, `"TIMED_OUT"` or `"ABORTED"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Succeeded => "SUCCEEDED",
            Status::Failed => "FAILED",
            Status::TimedOut => "TIMED_OUT",
            Status::Aborted => "ABORTED",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The end of an execution: status, output or error and cause, and the
/// history when it was asked for.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// How it ended.
    pub status: Status,
    /// The execution output (SUCCEEDED only).
    pub output: Option<Value>,
    /// The error name (FAILED, TIMED_OUT, and ABORTED when given one).
    pub error: Option<String>,
    /// The cause, when AWS would report one.
    pub cause: Option<String>,
    /// The `GetExecutionHistory` events, when the execution was run with
    /// [`Execution::with_history`](crate::Execution::with_history).
    pub history: Option<Vec<HistoryEvent>>,
}

impl Outcome {
    /// True when the execution succeeded.
    pub fn is_success(&self) -> bool {
        self.status == Status::Succeeded
    }

    /// The error as a [`StatesError`], for a failed execution.
    pub fn states_error(&self) -> Option<StatesError> {
        self.error.as_deref().map(|name| StatesError {
            name: name.into(),
            cause: self.cause.clone(),
        })
    }

    /// The outcome as one JSON object, the shape `stepfn run` prints
    /// (its [`Serialize`](serde::Serialize) form): `{"status", "output"?,
    /// "error"?, "cause"?, "history"?}`.
    pub fn to_json(&self) -> Value {
        let mut map = serde_json::Map::new();
        map.insert("status".into(), Value::from(self.status.as_str()));
        if let Some(output) = &self.output {
            map.insert("output".into(), output.clone());
        }
        if let Some(error) = &self.error {
            map.insert("error".into(), Value::from(error.as_str()));
        }
        if let Some(cause) = &self.cause {
            map.insert("cause".into(), Value::from(cause.as_str()));
        }
        if let Some(history) = &self.history {
            map.insert(
                "history".into(),
                Value::Array(history.iter().map(HistoryEvent::to_json).collect()),
            );
        }
        Value::Object(map)
    }
}

/// `"SUCCEEDED"`, `"FAILED"`, `"TIMED_OUT"` or `"ABORTED"`.
impl serde::Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The shape `stepfn run` prints, as [`Outcome::to_json`]: `status`, then
/// `output`, `error`, `cause` and `history` (AWS's `GetExecutionHistory`
/// events) when present; absent members are left out, not `null`.
///
/// ```
/// use serde_json::json;
/// use stepfn::{sync_task_fn, StateMachine};
///
/// let machine: StateMachine = r#"{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Oops", "Cause": "it broke"}}}"#.parse()?;
/// let outcome = futures::executor::block_on(machine.execute(&sync_task_fn(|r| Ok(r.parameters)), json!({})));
/// assert_eq!(
///     serde_json::to_string(&outcome).unwrap(),
///     r#"{"status":"FAILED","error":"Oops","cause":"it broke"}"#
/// );
/// # Ok::<(), stepfn::Error>(())
/// ```
impl serde::Serialize for Outcome {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let fields = 1
            + usize::from(self.output.is_some())
            + usize::from(self.error.is_some())
            + usize::from(self.cause.is_some())
            + usize::from(self.history.is_some());
        let mut map = serializer.serialize_map(Some(fields))?;
        map.serialize_entry("status", &self.status)?;
        if let Some(output) = &self.output {
            map.serialize_entry("output", output)?;
        }
        if let Some(error) = &self.error {
            map.serialize_entry("error", error)?;
        }
        if let Some(cause) = &self.cause {
            map.serialize_entry("cause", cause)?;
        }
        if let Some(history) = &self.history {
            map.serialize_entry("history", history)?;
        }
        map.end()
    }
}
