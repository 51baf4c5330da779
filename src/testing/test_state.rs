//! One state evaluated in isolation, as AWS's TestState API does.

use crate::definition::{
    Assign, Catcher, Dynamic, QueryLanguage, Retrier, State, StateKind, Transition,
};
use crate::engine::retry;
use crate::error::{Error, ErrorKind, ErrorName, StatesError};
use crate::executor::{TaskExecutor, TaskRequest};
use crate::jsonpath::data_flow;
use crate::jsonpath::path::{Scope, Variables};
use crate::StateMachine;
use futures::FutureExt;
use serde_json::{json, Map, Value};
use std::panic::AssertUnwindSafe;

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

struct Vars<'a>(&'a Map<String, Value>);

impl Variables for Vars<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }
}

/// Evaluates one state of `machine` as AWS's TestState API does.
///
/// The state runs once on `request.input`: its data flow, its work (the
/// mock, else `executor` for a Task; Map and Parallel need a mock), then
/// its Retry and Catch decide between FAILED, RETRIABLE and CAUGHT_ERROR.
/// Wait states do not wait. Errors are request errors (no such state, a
/// Map or Parallel without a mock, a JSONata state), never a failed state.
pub fn test_state(
    machine: &StateMachine,
    request: &TestStateRequest,
    executor: Option<&dyn TaskExecutor>,
) -> Result<TestStateResult, Error> {
    let top = &machine.definition().machine;
    let name = request.state_name.as_deref().unwrap_or(&top.start_at);
    let state = find_state(machine, name).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidInput,
            format!("the definition has no state named `{name}`"),
        )
    })?;
    if state.query_language == QueryLanguage::Jsonata {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "TestState of JSONata states is not supported",
        ));
    }
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
    if let Some(TestStateMock::Result(result)) = &request.mock {
        let shape_error = match (&state.kind, result) {
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
        };
        if let Some(detail) = shape_error {
            return Err(Error::new(ErrorKind::InvalidInput, detail));
        }
    }
    let mut run = Run {
        request,
        data: InspectionData {
            input: Some(request.input.clone()),
            ..Default::default()
        },
    };
    let scope = Scope {
        context: &request.context,
        variables: &Vars(&request.variables),
    };
    let mut result = run.evaluate(state, &scope, executor);
    if request.inspection_level != InspectionLevel::Info {
        result.inspection_data = Some(run.data);
    }
    Ok(result)
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

struct Run<'r> {
    request: &'r TestStateRequest,
    data: InspectionData,
}

fn next_of(transition: &Transition) -> Option<String> {
    match transition {
        Transition::Next(next) => Some(next.clone()),
        Transition::End => None,
    }
}

fn done(output: Value, next_state: Option<String>) -> TestStateResult {
    TestStateResult {
        status: TestStateStatus::Succeeded,
        output: Some(output),
        error: None,
        cause: None,
        next_state,
        inspection_data: None,
    }
}

/// The state ended in `error`, with `status`.
fn errored(status: TestStateStatus, error: StatesError) -> TestStateResult {
    TestStateResult {
        status,
        output: None,
        error: Some(error.name.as_str().to_owned()),
        cause: error.cause,
        next_state: None,
        inspection_data: None,
    }
}

fn failed(error: StatesError) -> TestStateResult {
    errored(TestStateStatus::Failed, error)
}

impl Run<'_> {
    fn evaluate(
        &mut self,
        state: &State,
        scope: &Scope<'_>,
        executor: Option<&dyn TaskExecutor>,
    ) -> TestStateResult {
        let input = self.request.input.clone();
        let req = self.request;
        let outcome = match &state.kind {
            StateKind::Pass(pass) => (|| {
                let effective = self.input_path(pass.io.input_path(), input.clone(), scope)?;
                let parameters = data_flow::apply_template(pass.io.parameters(), effective, scope)?;
                if pass.io.parameters().is_some() {
                    self.data.after_parameters = Some(parameters.clone());
                }
                let result = pass.result.clone().unwrap_or(parameters);
                self.data.result = Some(result.clone());
                self.assign(pass.assign.as_ref(), &result, scope)?;
                let output = data_flow::result_path(pass.result_path.as_ref(), input, result)?;
                self.data.after_result_path = Some(output.clone());
                let output = data_flow::output_path(pass.io.output_path(), output, scope)?;
                Ok(done(output, next_of(&pass.transition)))
            })(),
            StateKind::Wait(wait) => (|| {
                let effective = self.input_path(wait.io.input_path(), input.clone(), scope)?;
                self.assign(wait.assign.as_ref(), &effective, scope)?;
                let output = data_flow::output_path(wait.io.output_path(), effective, scope)?;
                Ok(done(output, next_of(&wait.transition)))
            })(),
            StateKind::Succeed(succeed) => (|| {
                let effective = self.input_path(succeed.io.input_path(), input.clone(), scope)?;
                let output = data_flow::output_path(succeed.io.output_path(), effective, scope)?;
                Ok(done(output, None))
            })(),
            StateKind::Fail(fail) => {
                let env = scope.env(&input);
                let field = |f: &Option<Dynamic<String, crate::jsonpath::template::Expression>>,
                             key: &str|
                 -> Result<Option<String>, StatesError> {
                    match f {
                        None => Ok(None),
                        Some(Dynamic::Literal(s)) => Ok(Some(s.clone())),
                        Some(Dynamic::Path(expr)) => {
                            let v = expr.eval(&env, key)?;
                            Ok(Some(match v {
                                Value::String(s) => s,
                                other => other.to_string(),
                            }))
                        }
                        Some(Dynamic::Jsonata(_)) => Err(StatesError::runtime(
                            "JSONata is not supported by TestState",
                        )),
                    }
                };
                match (
                    field(&fail.error, "ErrorPath"),
                    field(&fail.cause, "CausePath"),
                ) {
                    (Ok(error), Ok(cause)) => Ok(TestStateResult {
                        status: TestStateStatus::Failed,
                        output: None,
                        error,
                        cause,
                        next_state: None,
                        inspection_data: None,
                    }),
                    (Err(e), _) | (_, Err(e)) => Err(e),
                }
            }
            StateKind::Choice(choice) => (|| {
                let effective = self.input_path(choice.io.input_path(), input.clone(), scope)?;
                let env = scope.env(&effective);
                let mut chosen = None;
                for rule in choice.choices.json_path() {
                    if rule.matches(&env)? {
                        chosen = Some(rule);
                        break;
                    }
                }
                let next = match chosen
                    .map(|r| r.next.clone())
                    .or_else(|| choice.default.clone())
                {
                    Some(next) => next,
                    None => {
                        return Err(StatesError::new(ErrorName::NoChoiceMatched, "No Matches!"))
                    }
                };
                let mut assigned = self.assigned(choice.assign.as_ref(), &effective, scope)?;
                if let Some(template) = chosen.and_then(|r| r.assign.as_ref()) {
                    if let Value::Object(rule) = template.eval(&env)? {
                        assigned.get_or_insert_with(Map::new).extend(rule);
                    }
                }
                self.commit(assigned);
                let output = data_flow::output_path(choice.io.output_path(), effective, scope)?;
                Ok(done(output, Some(next)))
            })(),
            StateKind::Task(task) => self.work_state(
                Work {
                    input_path: task.io.input_path(),
                    output_path: task.io.output_path(),
                    parameters: task.io.parameters(),
                    result_selector: task.result_handling.result_selector.as_ref(),
                    result_path: task.result_handling.result_path.as_ref(),
                    retry: &task.result_handling.retry,
                    catch: &task.result_handling.catch,
                    assign: task.assign.as_ref(),
                    transition: &task.transition,
                },
                input,
                scope,
                |parameters| call_task(state, task, parameters, req, executor),
            ),
            StateKind::Parallel(parallel) => self.work_state(
                Work {
                    input_path: parallel.io.input_path(),
                    output_path: parallel.io.output_path(),
                    parameters: parallel.io.parameters(),
                    result_selector: parallel.result_handling.result_selector.as_ref(),
                    result_path: parallel.result_handling.result_path.as_ref(),
                    retry: &parallel.result_handling.retry,
                    catch: &parallel.result_handling.catch,
                    assign: parallel.assign.as_ref(),
                    transition: &parallel.transition,
                },
                input,
                scope,
                |_| mocked(req),
            ),
            StateKind::Map(map) => self.work_state(
                Work {
                    input_path: map.io.input_path(),
                    output_path: map.io.output_path(),
                    parameters: None,
                    result_selector: map.result_handling.result_selector.as_ref(),
                    result_path: map.result_handling.result_path.as_ref(),
                    retry: &map.result_handling.retry,
                    catch: &map.result_handling.catch,
                    assign: map.assign.as_ref(),
                    transition: &map.transition,
                },
                input,
                scope,
                |_| mocked(req),
            ),
        };
        outcome.unwrap_or_else(failed)
    }

    fn input_path(
        &mut self,
        path: Option<&crate::jsonpath::path::Path>,
        input: Value,
        scope: &Scope<'_>,
    ) -> Result<Value, StatesError> {
        let effective = data_flow::input_path_owned(path, input, scope)?;
        self.data.after_input_path = Some(effective.clone());
        Ok(effective)
    }

    /// JSONPath `Assign`: evaluated over `data` (as the engine does: the
    /// raw result of Task, Map and Parallel, the result of Pass, the
    /// effective input of Choice and Wait, the error output of a catcher)
    /// and recorded in the inspection data.
    fn assign(
        &mut self,
        assign: Option<&Assign>,
        data: &Value,
        scope: &Scope<'_>,
    ) -> Result<(), StatesError> {
        let assigned = self.assigned(assign, data, scope)?;
        self.commit(assigned);
        Ok(())
    }

    fn assigned(
        &self,
        assign: Option<&Assign>,
        data: &Value,
        scope: &Scope<'_>,
    ) -> Result<Option<Map<String, Value>>, StatesError> {
        match assign {
            Some(Assign::JsonPath(template)) => match template.eval(&scope.env(data))? {
                Value::Object(assigned) => Ok(Some(assigned)),
                _ => Ok(None),
            },
            Some(Assign::Jsonata(_)) => Err(StatesError::new(
                ErrorName::QueryEvaluationError,
                "JSONata expressions are not supported by TestState",
            )),
            None => Ok(None),
        }
    }

    /// The variables after the state: the request's, then the assigned.
    fn commit(&mut self, assigned: Option<Map<String, Value>>) {
        if let Some(assigned) = assigned {
            let mut variables = self.request.variables.clone();
            variables.extend(assigned);
            self.data.variables = Some(Value::Object(variables));
        }
    }

    fn work_state(
        &mut self,
        work: Work<'_>,
        input: Value,
        scope: &Scope<'_>,
        call: impl FnOnce(Value) -> Result<Value, StatesError>,
    ) -> Result<TestStateResult, StatesError> {
        let raw_input = input.clone();
        let attempt = (|| {
            let effective = self.input_path(work.input_path, input, scope)?;
            let parameters = data_flow::apply_template(work.parameters, effective, scope)?;
            if work.parameters.is_some() {
                self.data.after_parameters = Some(parameters.clone());
            }
            call(parameters)
        })();
        let result = match attempt {
            Ok(result) => result,
            Err(error) => {
                return self.handle_error(error, work.retry, work.catch, raw_input, scope)
            }
        };
        self.data.result = Some(result.clone());
        let assigned = self.assigned(work.assign, &result, scope)?;
        let selected = data_flow::apply_template(work.result_selector, result, scope)?;
        if work.result_selector.is_some() {
            self.data.after_result_selector = Some(selected.clone());
        }
        self.commit(assigned);
        let output = data_flow::result_path(work.result_path, raw_input, selected)?;
        self.data.after_result_path = Some(output.clone());
        let output = data_flow::output_path(work.output_path, output, scope)?;
        Ok(done(output, next_of(work.transition)))
    }

    fn handle_error(
        &mut self,
        error: StatesError,
        retriers: &[Retrier],
        catchers: &[Catcher],
        raw_input: Value,
        scope: &Scope<'_>,
    ) -> Result<TestStateResult, StatesError> {
        if let Some(index) = retry::find_retrier(retriers, &error, false) {
            let retrier = &retriers[index];
            let attempt = u64::from(self.request.retrier_retry_count);
            if attempt < retrier.max_attempts {
                let backoff = retry::interval(retrier, attempt).as_secs_f64();
                self.data.error_details = Some(json!({
                    "retryIndex": index,
                    "retryBackoffIntervalSeconds": backoff.round() as u64,
                }));
                return Ok(errored(TestStateStatus::Retriable, error));
            }
        }
        if let Some(index) = retry::find_catcher(catchers, &error, false) {
            let catcher = &catchers[index];
            self.data.error_details = Some(json!({"catchIndex": index}));
            let error_output = json!({
                "Error": error.name.as_str(),
                "Cause": error.cause.clone().unwrap_or_default(),
            });
            let assigned = self.assigned(catcher.assign.as_ref(), &error_output, scope)?;
            self.commit(assigned);
            let output =
                data_flow::result_path(catcher.result_path.as_ref(), raw_input, error_output)?;
            self.data.after_result_path = Some(output.clone());
            return Ok(TestStateResult {
                output: Some(output),
                next_state: Some(catcher.next.clone()),
                ..errored(TestStateStatus::CaughtError, error)
            });
        }
        Err(error)
    }
}

struct Work<'a> {
    input_path: Option<&'a crate::jsonpath::path::Path>,
    output_path: Option<&'a crate::jsonpath::path::Path>,
    parameters: Option<&'a crate::jsonpath::template::PayloadTemplate>,
    result_selector: Option<&'a crate::jsonpath::template::PayloadTemplate>,
    result_path: Option<&'a crate::jsonpath::path::ReferencePath>,
    retry: &'a [Retrier],
    catch: &'a [Catcher],
    assign: Option<&'a Assign>,
    transition: &'a Transition,
}

fn mocked(request: &TestStateRequest) -> Result<Value, StatesError> {
    match &request.mock {
        Some(TestStateMock::Result(value)) => Ok(value.clone()),
        Some(TestStateMock::Error(error)) => Err(error.clone()),
        None => Err(StatesError::runtime("no mock given")),
    }
}

fn call_task(
    state: &State,
    task: &crate::definition::Task,
    parameters: Value,
    request: &TestStateRequest,
    executor: Option<&dyn TaskExecutor>,
) -> Result<Value, StatesError> {
    if request.mock.is_some() {
        return mocked(request);
    }
    let Some(executor) = executor else {
        return Err(StatesError::runtime(format!(
            "no mock and no executor for Task state '{}'",
            state.name
        )));
    };
    let task_request = TaskRequest::new(&task.resource, parameters)
        .with_state_name(&state.name)
        .with_retry_count(request.retrier_retry_count)
        .with_context(&request.context);
    // a panicking executor fails the task, as in an execution
    let call = AssertUnwindSafe(executor.execute(task_request)).catch_unwind();
    match futures::executor::block_on(call) {
        Ok(Ok(result)) if crate::json::too_deep(&result, MAX_DEPTH) => {
            crate::json::dismantle(result);
            Err(StatesError::new(
                ErrorName::DataLimitExceeded,
                format!(
                    "The state/task '{}' returned a result with a nesting depth exceeding the maximum of {MAX_DEPTH} levels.",
                    task.resource.arn
                ),
            ))
        }
        Ok(result) => result,
        Err(panic) => Err(StatesError::new(
            ErrorName::TaskFailed,
            crate::engine::panic_message(panic),
        )),
    }
}

/// The nesting depth TestState accepts (AWS's, as [`crate::Limits`]).
const MAX_DEPTH: usize = 1000;
