//! Testing Step Functions workflows offline: mocked task results, scripted
//! executors, one-state evaluation and the `stepfn run` code path.
//!
//! * [`MockConfig`] reads the Step Functions Local `MockConfigFile.json`
//!   format and [`MockExecutor`] serves one of its test cases as a
//!   [`TaskExecutor`].
//! * [`ScriptedExecutor`] queues results and errors per state or per
//!   resource for Rust tests and records every request.
//! * [`test_state()`] evaluates one state in isolation, as AWS's TestState
//!   API does, with the engine's own state code ([`test_state_async`] in
//!   async code: it awaits the executor on the caller's runtime).
//! * [`mock_skeleton`] writes a mock configuration to start from: one
//!   test case with a placeholder response per Task state (`stepfn
//!   mock-skeleton`).
//! * [`run_case`] runs a definition exactly as `stepfn run` does (mocks,
//!   task commands, virtual time, history): the conformance test and the
//!   CLI share it.
//!
//! ```
//! use serde_json::json;
//! use stepfn::testing::{MockConfig, MockExecutor};
//! use stepfn::{StateMachine, Status};
//!
//! let machine = StateMachine::from_str(r#"{
//!     "StartAt": "Charge",
//!     "States": {"Charge": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
//!                           "ResultSelector": {"paid.$": "$.Payload.ok"}, "End": true}}
//! }"#)?;
//! let config = MockConfig::from_str(r#"{
//!     "StateMachines": {"Orders": {"TestCases": {"HappyPath": {"Charge": "ChargeOk"}}}},
//!     "MockedResponses": {"ChargeOk": {"0": {"Return": {"Payload": {"ok": true}}}}}
//! }"#)?;
//! let mocks = MockExecutor::new(config.test_case(Some("Orders"), "HappyPath")?);
//! let outcome = futures::executor::block_on(
//!     machine.execution().with_virtual_time().run(&mocks, json!({})),
//! );
//! assert_eq!(outcome.status, Status::Succeeded);
//! assert_eq!(outcome.output, Some(json!({"paid": true})));
//! # Ok::<(), stepfn::Error>(())
//! ```
//!
//! # When a mock is missing
//!
//! A Task state that the test case does not mock, or an invocation that
//! its mocked response does not cover, fails the execution with
//! `States.Runtime` (never retried or caught, so it cannot be mistaken for
//! a task error the workflow handles) and a cause naming the state and the
//! invocation, e.g. `mock config: test case 'HappyPath' has no response for
//! invocation 2 of state 'Charge' (mocked response 'ChargeOk')` or `mock
//! config: test case 'HappyPath' has no mocked response for state 'Ship'`.
//! Under [`run_case`] (and `stepfn run`) an unmocked state goes to the task
//! commands, and without one fails with `no mocked response or task command
//! for state 'Ship' (resource '...')`. [`ScriptedExecutor`] fails the same
//! way when nothing is queued.

mod mock_config;
mod scripted;
mod skeleton;
mod test_state;

pub use mock_config::{InvocationRange, MockAnswer, MockConfig, MockTestCase, MockedResponse};
pub use scripted::{RecordedRequest, ScriptedExecutor};
pub use skeleton::{mock_skeleton, SKELETON_TEST_CASE};
pub use test_state::{
    test_state, test_state_async, InspectionData, InspectionLevel, TestStateMock, TestStateRequest,
    TestStateResult, TestStateStatus,
};

use crate::definition::{IntegrationPattern, ResourceKind};
use crate::error::{Error, ErrorName, StatesError};
use crate::executor::{TaskExecutor, TaskRequest, TaskResult};
use crate::StateMachine;
use crate::{EventObserver, ExecutionIdentity, HistoryEvent, Outcome};
use async_trait::async_trait;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

/// Serves one mock-config test case as a [`TaskExecutor`].
///
/// Invocations are counted per state name over the whole execution, as
/// Step Functions Local counts them: retries, loops, Map iterations
/// (Distributed Map children included) and Parallel branches each take the
/// next number. With concurrent Map iterations or Parallel branches the
/// numbers go in the order the engine calls the executor: iterations make
/// their first call in index order, a retry calls when its wait ends. A `.waitForTaskToken` task is
/// answered at once: its submit call returns `{}` and the mocked `Return`
/// (or `Throw`) completes the callback. States not in the test case go to
/// the fallback executor when one is set, else fail (see the [module
/// docs](self)).
pub struct MockExecutor {
    test_case: MockTestCase,
    counts: Mutex<HashMap<String, u64>>,
    fallback: Option<Arc<dyn TaskExecutor>>,
}

impl fmt::Debug for MockExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockExecutor")
            .field("test_case", &self.test_case.name())
            .field("counts", &self.counts)
            .finish_non_exhaustive()
    }
}

impl MockExecutor {
    /// An executor answering from `test_case`.
    pub fn new(test_case: MockTestCase) -> Self {
        MockExecutor {
            test_case,
            counts: Mutex::new(HashMap::new()),
            fallback: None,
        }
    }

    /// Sends Task states the test case does not mock to `fallback`.
    pub fn with_fallback(mut self, fallback: Arc<dyn TaskExecutor>) -> Self {
        self.fallback = Some(fallback);
        self
    }

    /// How many times `state` was invoked so far.
    pub fn invocations(&self, state: &str) -> u64 {
        self.counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(state)
            .copied()
            .unwrap_or(0)
    }

    /// The answer for the next invocation of `state` (counting it), or
    /// `None` when the test case does not mock the state.
    pub fn next_answer(&self, state: &str) -> Option<Result<MockAnswer, StatesError>> {
        let response = self.test_case.response(state)?;
        let n = {
            let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
            let count = counts.entry(state.to_owned()).or_insert(0);
            let n = *count;
            *count += 1;
            n
        };
        Some(response.answer(n).cloned().ok_or_else(|| {
            StatesError::runtime(format!(
                "mock config: test case '{}' has no response for invocation {n} of state '{state}' (mocked response '{}')",
                self.test_case.name(),
                response.name()
            ))
        }))
    }
}

#[async_trait]
impl TaskExecutor for MockExecutor {
    async fn execute(&self, request: TaskRequest<'_>) -> TaskResult {
        let answer = match self.next_answer(request.state_name) {
            Some(answer) => answer?,
            None => {
                return match &self.fallback {
                    Some(fallback) => fallback.execute(request).await,
                    None => Err(StatesError::runtime(format!(
                        "mock config: test case '{}' has no mocked response for state '{}'",
                        self.test_case.name(),
                        request.state_name
                    ))),
                }
            }
        };
        answer_task(&request, answer)
    }
}

/// Answers a task with a prepared answer; a `.waitForTaskToken` task is
/// submitted (result `{}`) and its callback completed with the answer.
pub(crate) fn answer_task(request: &TaskRequest<'_>, answer: MockAnswer) -> TaskResult {
    if is_callback(request) {
        if let Some(callback) = request.callback() {
            // a mocked timeout of a callback task with a timeout or heartbeat:
            // send nothing, so the task times out as on AWS (TaskTimedOut)
            if let MockAnswer::Throw(error) = &answer {
                let timeout_name =
                    matches!(error.name, ErrorName::Timeout | ErrorName::HeartbeatTimeout);
                if timeout_name
                    && (request.timeout_seconds.is_some() || request.heartbeat_seconds.is_some())
                {
                    return Ok(Value::Object(Default::default()));
                }
            }
            // an unknown token only means the task is already gone
            let _ = match answer {
                MockAnswer::Return(value) => callback.send_success(value),
                MockAnswer::Throw(error) => {
                    let name = error.name.as_str().to_owned();
                    callback.send_failure(
                        (!name.is_empty()).then_some(name.as_str()),
                        error.cause.as_deref(),
                    )
                }
            };
            return Ok(Value::Object(Default::default()));
        }
    }
    match answer {
        MockAnswer::Return(value) => Ok(value),
        MockAnswer::Throw(error) => Err(error),
    }
}

fn is_callback(request: &TaskRequest<'_>) -> bool {
    matches!(
        &request.resource.kind,
        ResourceKind::Service {
            pattern: IntegrationPattern::WaitForTaskToken,
            ..
        } | ResourceKind::AwsSdk {
            pattern: IntegrationPattern::WaitForTaskToken,
            ..
        }
    )
}

/// Reads JSON text as stepfn reads every JSON text it is given (execution
/// input, mock results, TestState requests): arrays and objects may nest up
/// to 1000 levels, the payload depth limit (serde_json alone stops at 128);
/// deeper text is an [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput)
/// error, found before anything recursive reads it.
///
/// ```
/// let deep = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
/// assert!(stepfn::testing::parse_json(&deep).is_ok());
/// let deeper = format!("[{deep}]");
/// assert_eq!(
///     stepfn::testing::parse_json(&deeper).unwrap_err().detail(),
///     "not valid JSON: arrays and objects are nested more than 1000 levels deep"
/// );
/// ```
pub fn parse_json(text: &str) -> Result<Value, Error> {
    crate::json::from_text(text, crate::json::MAX_TEXT_DEPTH).map_err(|e| {
        Error::new(
            crate::error::ErrorKind::InvalidInput,
            format!("not valid JSON: {e}"),
        )
    })
}

/// How [`run_case`] runs a definition: the options of `stepfn run`.
#[derive(Clone)]
#[non_exhaustive]
pub struct RunOptions {
    /// The execution input.
    pub input: Value,
    /// Who the execution is (context object, ARNs).
    pub identity: ExecutionIdentity,
    /// A mock configuration and the name of the test case to use.
    pub mocks: Option<(MockConfig, String)>,
    /// The executor for Task states the mocks do not cover (or for every
    /// Task state, without mocks); by default [`NoTaskExecutor`]. `stepfn
    /// run` puts its `--task-command` programs here.
    pub fallback: Option<Arc<dyn TaskExecutor>>,
    /// Wait states, back-off and timeouts advance a virtual clock.
    pub virtual_time: bool,
    /// Record the `GetExecutionHistory` events.
    pub history: bool,
    /// Wait and retry durations per state, and the time scale (`stepfn
    /// run --wait/--retry-interval/--time-scale`).
    pub time: crate::TimeOverrides,
    /// Sees every history event as it happens (see
    /// [`Execution::with_observer`](crate::Execution::with_observer));
    /// `stepfn run --events` prints them here.
    pub observer: Option<Arc<dyn EventObserver>>,
}

impl fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunOptions")
            .field("input", &self.input)
            .field("identity", &self.identity)
            .field("mocks", &self.mocks.as_ref().map(|(_, case)| case))
            .field("fallback", &self.fallback.is_some())
            .field("virtual_time", &self.virtual_time)
            .field("history", &self.history)
            .field("time", &self.time)
            .field("observer", &self.observer.is_some())
            .finish()
    }
}

impl RunOptions {
    /// Options with `input` and everything else off or defaulted.
    pub fn new(input: Value) -> Self {
        RunOptions {
            input,
            identity: ExecutionIdentity::default(),
            mocks: None,
            fallback: None,
            virtual_time: false,
            history: false,
            time: crate::TimeOverrides::default(),
            observer: None,
        }
    }
}

/// Fails every task: the executor of `stepfn run` when neither a mock nor
/// a command covers a Task state.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoTaskExecutor;

#[async_trait]
impl TaskExecutor for NoTaskExecutor {
    async fn execute(&self, request: TaskRequest<'_>) -> TaskResult {
        Err(StatesError::runtime(format!(
            "no mocked response or task command for state '{}' (resource '{}')",
            request.state_name, request.resource.arn
        )))
    }
}

/// Builds the executor `stepfn run` uses for these options: the mock test
/// case (selected from the state machine name of the identity, see
/// [`MockConfig::test_case`]) first, then the fallback, else
/// [`NoTaskExecutor`].
pub fn executor_for(options: &RunOptions) -> Result<Arc<dyn TaskExecutor>, Error> {
    let base: Arc<dyn TaskExecutor> = match &options.fallback {
        Some(fallback) => fallback.clone(),
        None => Arc::new(NoTaskExecutor),
    };
    match &options.mocks {
        None => Ok(base),
        Some((config, case)) => {
            let test_case =
                config.test_case(options.identity.state_machine_name.as_deref(), case)?;
            Ok(Arc::new(MockExecutor::new(test_case).with_fallback(base)))
        }
    }
}

/// Runs `machine` as `stepfn run` does and returns the outcome
/// ([`Outcome::to_json`] is what the CLI prints). Blocks the calling
/// thread; errors are configuration errors (a test case not in the mock
/// config), never a failed execution.
pub fn run_case(machine: &StateMachine, options: RunOptions) -> Result<Outcome, Error> {
    futures::executor::block_on(run_case_async(machine, options))
}

/// As [`run_case`], as a future (for callers inside an async runtime).
pub async fn run_case_async(machine: &StateMachine, options: RunOptions) -> Result<Outcome, Error> {
    let executor = executor_for(&options)?;
    let mut execution = machine
        .execution()
        .with_identity(options.identity)
        .with_history(options.history)
        .with_time_overrides(options.time);
    if options.virtual_time {
        execution = execution.with_virtual_time();
    }
    if let Some(observer) = options.observer {
        execution = execution.with_observer(move |e: &HistoryEvent| observer.on_event(e));
    }
    Ok(execution.run(executor.as_ref(), options.input).await)
}
