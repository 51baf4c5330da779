//! One state evaluated in isolation, as AWS's TestState API does.

use crate::definition::{State, StateKind};
use crate::engine::test_state::{self as engine, Answer, Inspect, Single, Stage, Work};
use crate::error::{Error, ErrorKind, StatesError};
use crate::executor::TaskExecutor;
use crate::StateMachine;
use serde_json::{json, Map, Value};
use std::time::Duration;

/// How much TestState reports (`inspectionLevel`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum InspectionLevel {
    /// `INFO` (the default): output, error, cause, next state, status.
    #[default]
    Info,
    /// `DEBUG`: also the [`InspectionData`].
    Debug,
    /// `TRACE`: as DEBUG (stepfn makes no HTTP calls to trace).
    Trace,
}

/// The `mock` of a TestState request: the task's result or its error.
#[derive(Clone, Debug, PartialEq)]
pub enum TestStateMock {
    /// `mock.result`: the raw task result (for Map and Parallel, the array
    /// of iteration / branch results).
    Result(Value),
    /// `mock.errorOutput {error, cause}`.
    Error(StatesError),
}

/// What to test: the state, its input and surroundings.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct TestStateRequest {
    /// `stateName`: the state of the machine to test; `None` tests the
    /// machine's `StartAt` state.
    pub state_name: Option<String>,
    /// `input`.
    pub input: Value,
    /// `inspectionLevel`.
    pub inspection_level: InspectionLevel,
    /// `variables`: workflow variables visible to the state.
    pub variables: Map<String, Value>,
    /// `context`: the context object (`$$`); `null` when not given.
    pub context: Value,
    /// `mock`; without it a Task calls the executor given to
    /// [`test_state`].
    pub mock: Option<TestStateMock>,
    /// `stateConfiguration.retrierRetryCount`: how many retries the state
    /// already made (decides between RETRIABLE and the catchers).
    pub retrier_retry_count: u32,
}

impl TestStateRequest {
    /// A request for the machine's start state with `input`.
    pub fn new(input: Value) -> Self {
        TestStateRequest {
            input,
            ..Default::default()
        }
    }
}

/// TestState's `status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TestStateStatus {
    /// The state completed.
    Succeeded,
    /// The state failed and nothing handles the error.
    Failed,
    /// The state failed and a retrier would run it again.
    Retriable,
    /// The state failed and a catcher took the error.
    CaughtError,
}

impl TestStateStatus {
    /// `SUCCEEDED`, `FAILED`, `RETRIABLE` or `CAUGHT_ERROR`.
    pub fn as_str(self) -> &'static str {
        match self {
            TestStateStatus::Succeeded => "SUCCEEDED",
            TestStateStatus::Failed => "FAILED",
            TestStateStatus::Retriable => "RETRIABLE",
            TestStateStatus::CaughtError => "CAUGHT_ERROR",
        }
    }
}

/// TestState's `inspectionData` (DEBUG level): the payload after each step
/// of the data flow that ran.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct InspectionData {
    /// `input`.
    pub input: Option<Value>,
    /// `afterArguments` (JSONata Task and Parallel states).
    pub after_arguments: Option<Value>,
    /// `afterInputPath`.
    pub after_input_path: Option<Value>,
    /// `afterParameters`.
    pub after_parameters: Option<Value>,
    /// `result`.
    pub result: Option<Value>,
    /// `afterResultSelector`.
    pub after_result_selector: Option<Value>,
    /// `afterResultPath`.
    pub after_result_path: Option<Value>,
    /// `variables`: the variables after the state's `Assign`.
    pub variables: Option<Value>,
    /// `errorDetails {retryIndex, catchIndex, retryBackoffIntervalSeconds}`.
    pub error_details: Option<Value>,
}

impl InspectionData {
    /// As AWS returns it: payloads as JSON text, absent steps left out.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        let mut put = |key: &str, v: &Option<Value>| {
            if let Some(v) = v {
                map.insert(key.to_owned(), Value::String(v.to_string()));
            }
        };
        put("input", &self.input);
        put("afterArguments", &self.after_arguments);
        put("afterInputPath", &self.after_input_path);
        put("afterParameters", &self.after_parameters);
        put("result", &self.result);
        put("afterResultSelector", &self.after_result_selector);
        put("afterResultPath", &self.after_result_path);
        put("variables", &self.variables);
        if let Some(details) = &self.error_details {
            map.insert("errorDetails".into(), details.clone());
        }
        Value::Object(map)
    }
}

/// TestState's answer.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct TestStateResult {
    /// `status`.
    pub status: TestStateStatus,
    /// `output` (SUCCEEDED, and CAUGHT_ERROR: the catcher's output).
    pub output: Option<Value>,
    /// `error`.
    pub error: Option<String>,
    /// `cause`.
    pub cause: Option<String>,
    /// `nextState`.
    pub next_state: Option<String>,
    /// `inspectionData` (DEBUG and TRACE).
    pub inspection_data: Option<InspectionData>,
}

impl TestStateResult {
    /// As AWS's TestState response: `output` as JSON text.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        if let Some(output) = &self.output {
            map.insert("output".into(), Value::String(output.to_string()));
        }
        if let Some(error) = &self.error {
            map.insert("error".into(), json!(error));
        }
        if let Some(cause) = &self.cause {
            map.insert("cause".into(), json!(cause));
        }
        if let Some(next) = &self.next_state {
            map.insert("nextState".into(), json!(next));
        }
        map.insert("status".into(), json!(self.status.as_str()));
        if let Some(data) = &self.inspection_data {
            map.insert("inspectionData".into(), data.to_json());
        }
        Value::Object(map)
    }
}

/// Evaluates one state of `machine` as AWS's TestState API does, blocking
/// the calling thread until it is done (for scripts and tests without an
/// async runtime; in async code use [`test_state_async`]).
///
/// The state runs once on `request.input`: its data flow, its work (the
/// mock, else `executor` for a Task; Map and Parallel need a mock), then
/// its Retry and Catch decide between FAILED, RETRIABLE and CAUGHT_ERROR.
/// Wait states do not wait. Errors are request errors (no such state, a
/// Map or Parallel without a mock), never a failed state.
pub fn test_state(
    machine: &StateMachine,
    request: &TestStateRequest,
    executor: Option<&dyn TaskExecutor>,
) -> Result<TestStateResult, Error> {
    futures::executor::block_on(test_state_async(machine, request, executor))
}

/// [`test_state`] without blocking: the executor is awaited on the
/// caller's runtime (an executor awaiting a tokio timer needs it).
///
/// The state is evaluated by the engine's own code, as in an execution
/// that starts at the state: the same data flow, field evaluation, error
/// names and causes (runtime errors carry the engine's prefix with the
/// state entered at event #2) and Retry/Catch decisions; a retrier is
/// reported, not run.
pub async fn test_state_async(
    machine: &StateMachine,
    request: &TestStateRequest,
    executor: Option<&dyn TaskExecutor>,
) -> Result<TestStateResult, Error> {
    let state = checked_request(machine, request)?;
    let work = match (&request.mock, executor) {
        (Some(TestStateMock::Result(result)), _) => Work::Mock(Ok(result.clone())),
        (Some(TestStateMock::Error(error)), _) => Work::Mock(Err(error.clone())),
        (None, Some(executor)) => Work::Executor(executor),
        (None, None) => Work::Missing,
    };
    let one = Single {
        state,
        input: request.input.clone(),
        context: &request.context,
        variables: &request.variables,
        retry_count: request.retrier_retry_count,
        max_depth: MAX_DEPTH,
    };
    let mut recorder = Recorder {
        on: request.inspection_level != InspectionLevel::Info,
        variables: &request.variables,
        data: InspectionData {
            input: Some(request.input.clone()),
            ..Default::default()
        },
    };
    let answer = engine::evaluate(one, work, &mut recorder).await;
    let mut result = answer_to_result(answer);
    if recorder.on {
        result.inspection_data = Some(recorder.data);
    }
    Ok(result)
}

/// The state `request` tests, once the request is found sound: the state
/// exists, the payloads are within the nesting depth, a
/// Map or Parallel has a mock of the right shape.
fn checked_request<'m>(
    machine: &'m StateMachine,
    request: &TestStateRequest,
) -> Result<&'m State, Error> {
    let top = &machine.definition().machine;
    let name = request.state_name.as_deref().unwrap_or(&top.start_at);
    let state = find_state(machine, name).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidInput,
            format!("the definition has no state named `{name}`"),
        )
    })?;
    // checked before anything recursive (cloning, serialising) sees them
    let mock_result = match &request.mock {
        Some(TestStateMock::Result(result)) => Some(result),
        _ => None,
    };
    let given = [
        ("input", Some(&request.input)),
        ("context", Some(&request.context)),
        ("mock result", mock_result),
    ];
    let variables = request.variables.values().map(|v| ("variables", Some(v)));
    for (what, value) in given.into_iter().chain(variables) {
        if value.is_some_and(|v| crate::json::too_deep(v, MAX_DEPTH)) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "the {what} has arrays and objects nested more than {MAX_DEPTH} levels deep"
                ),
            ));
        }
    }
    if matches!(state.kind, StateKind::Map(_) | StateKind::Parallel(_)) && request.mock.is_none() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "TestState API does not support Map or Parallel states. Supported state types include: [Task, Wait, Pass, Succeed, Fail, Choice]",
        ));
    }
    if let Some(detail) = mock_result.and_then(|result| mock_shape_error(state, result)) {
        return Err(Error::new(ErrorKind::InvalidInput, detail));
    }
    Ok(state)
}

/// Why a mock result cannot stand in for the branches of a Parallel or the
/// iterations of a Map.
fn mock_shape_error(state: &State, result: &Value) -> Option<String> {
    match (&state.kind, result) {
        (StateKind::Parallel(p), Value::Array(items)) if items.len() != p.branches.len() => {
            Some(format!(
                "the mock result of a Parallel state must be an array with one element per branch ({} branches, {} elements)",
                p.branches.len(),
                items.len()
            ))
        }
        (StateKind::Parallel(_), v) if !v.is_array() => {
            Some("the mock result of a Parallel state must be an array".to_owned())
        }
        (StateKind::Map(m), v) if m.result_writer.is_none() && !v.is_array() => {
            Some("the mock result of a Map state must be an array".to_owned())
        }
        _ => None,
    }
}

fn find_state<'m>(machine: &'m StateMachine, name: &str) -> Option<&'m State> {
    fn search<'m>(states: &'m [State], name: &str) -> Option<&'m State> {
        for state in states {
            if state.name == name {
                return Some(state);
            }
            let nested = match &state.kind {
                StateKind::Parallel(p) => p.branches.iter().find_map(|b| search(&b.states, name)),
                StateKind::Map(m) => search(&m.item_processor.states, name),
                _ => None,
            };
            if nested.is_some() {
                return nested;
            }
        }
        None
    }
    search(&machine.definition().machine.states, name)
}

/// The inspection data, from what the engine shows (recorded only at DEBUG
/// and TRACE).
struct Recorder<'r> {
    on: bool,
    /// The request's variables (the assigned go on top).
    variables: &'r Map<String, Value>,
    data: InspectionData,
}

impl Inspect for Recorder<'_> {
    fn step(&mut self, stage: Stage, value: &Value) {
        if !self.on {
            return;
        }
        let slot = match stage {
            Stage::AfterArguments => &mut self.data.after_arguments,
            Stage::AfterInputPath => &mut self.data.after_input_path,
            Stage::AfterParameters => &mut self.data.after_parameters,
            Stage::Result => &mut self.data.result,
            Stage::AfterResultSelector => &mut self.data.after_result_selector,
            Stage::AfterResultPath => &mut self.data.after_result_path,
        };
        *slot = Some(value.clone());
    }

    fn assigned(&mut self, assigned: &Map<String, Value>) {
        if self.on {
            let mut variables = self.variables.clone();
            variables.extend(assigned.iter().map(|(k, v)| (k.clone(), v.clone())));
            self.data.variables = Some(Value::Object(variables));
        }
    }

    fn retry(&mut self, index: usize, backoff: Duration) {
        self.data.error_details = Some(json!({
            "retryIndex": index,
            "retryBackoffIntervalSeconds": backoff.as_secs_f64().round() as u64,
        }));
    }

    fn catch(&mut self, index: usize) {
        self.data.error_details = Some(json!({ "catchIndex": index }));
    }
}

/// The state ended in `error`, with `status`.
fn errored(status: TestStateStatus, error: StatesError) -> TestStateResult {
    let name = error.name.as_str();
    TestStateResult {
        status,
        output: None,
        error: (!name.is_empty()).then(|| name.to_owned()),
        cause: error.cause,
        next_state: None,
        inspection_data: None,
    }
}

fn answer_to_result(answer: Answer) -> TestStateResult {
    match answer {
        Answer::Succeeded { output, next } => TestStateResult {
            status: TestStateStatus::Succeeded,
            output: Some(output),
            error: None,
            cause: None,
            next_state: next,
            inspection_data: None,
        },
        Answer::Failed(error) => errored(TestStateStatus::Failed, error),
        Answer::Retriable(error) => errored(TestStateStatus::Retriable, error),
        Answer::Caught {
            error,
            output,
            next,
        } => TestStateResult {
            output: Some(output),
            next_state: Some(next),
            ..errored(TestStateStatus::CaughtError, error)
        },
    }
}

/// The nesting depth TestState accepts (AWS's, as [`crate::Limits`]).
const MAX_DEPTH: usize = 1000;
