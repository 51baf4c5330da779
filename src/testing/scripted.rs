//! A scriptable [`TaskExecutor`] for Rust tests.

use super::mock_config::MockAnswer;
use crate::error::StatesError;
use crate::executor::{TaskExecutor, TaskRequest, TaskResult};
use async_trait::async_trait;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// One task call as the executor saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedRequest {
    /// The Task state's name.
    pub state_name: String,
    /// The `Resource` ARN as written.
    pub resource: String,
    /// The effective parameters.
    pub parameters: Value,
    /// 0 on the first attempt, then 1, 2, ... on retries.
    pub retry_count: u32,
    /// The task token of a callback task.
    pub task_token: Option<String>,
    /// `TimeoutSeconds` as resolved.
    pub timeout_seconds: Option<u64>,
    /// The role ARN of `Credentials`, as resolved.
    pub credentials: Option<String>,
}

#[derive(Default)]
struct Script {
    by_state: HashMap<String, VecDeque<MockAnswer>>,
    by_resource: HashMap<String, VecDeque<MockAnswer>>,
    requests: Vec<RecordedRequest>,
}

/// A [`TaskExecutor`] answering from queues of results and errors, per
/// state name or per `Resource` ARN, and recording every request.
///
/// Each call takes the next answer queued for its state, else the next one
/// queued for its resource. With nothing queued the task fails with
/// `States.Runtime` (`scripted executor: no answer queued for state 'X'
/// (resource '...')`), unless [`echo_unscripted`](Self::echo_unscripted)
/// is set, in which case it returns its parameters. A `.waitForTaskToken`
/// task is submitted and its callback completed with the answer.
///
/// ```
/// use serde_json::json;
/// use stepfn::testing::ScriptedExecutor;
/// use stepfn::{StateMachine, Status};
///
/// let machine = StateMachine::from_str(r#"{"StartAt": "Charge", "States": {"Charge": {
///     "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:111111111111:function:charge",
///     "Retry": [{"ErrorEquals": ["Busy"], "IntervalSeconds": 1}], "End": true}}}"#)?;
/// let executor = ScriptedExecutor::new();
/// executor
///     .state_fails("Charge", "Busy", "try later")
///     .state_returns("Charge", json!({"paid": true}));
/// let outcome = futures::executor::block_on(
///     machine.execution().with_virtual_time().run(&executor, json!({"amount": 3})),
/// );
/// assert_eq!(outcome.status, Status::Succeeded);
/// let calls = executor.requests();
/// assert_eq!(calls.len(), 2);
/// assert_eq!(calls[1].retry_count, 1);
/// assert_eq!(calls[1].parameters, json!({"amount": 3}));
/// # Ok::<(), stepfn::Error>(())
/// ```
#[derive(Default)]
pub struct ScriptedExecutor {
    script: Mutex<Script>,
    echo: bool,
}

impl std::fmt::Debug for ScriptedExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptedExecutor")
            .field("echo", &self.echo)
            .field("requests", &self.requests().len())
            .finish_non_exhaustive()
    }
}

impl ScriptedExecutor {
    /// An executor with nothing queued.
    pub fn new() -> Self {
        Self::default()
    }

    /// Unscripted tasks return their parameters instead of failing.
    pub fn echo_unscripted(mut self) -> Self {
        self.echo = true;
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Script> {
        self.script.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues an answer for the next call of state `state`.
    pub fn push_state(&self, state: &str, answer: Result<Value, StatesError>) -> &Self {
        self.lock()
            .by_state
            .entry(state.to_owned())
            .or_default()
            .push_back(to_answer(answer));
        self
    }

    /// Queues an answer for the next call of resource `arn` (as written).
    pub fn push_resource(&self, arn: &str, answer: Result<Value, StatesError>) -> &Self {
        self.lock()
            .by_resource
            .entry(arn.to_owned())
            .or_default()
            .push_back(to_answer(answer));
        self
    }

    /// Queues a result for state `state`.
    pub fn state_returns(&self, state: &str, result: Value) -> &Self {
        self.push_state(state, Ok(result))
    }

    /// Queues an error for state `state`.
    pub fn state_fails(&self, state: &str, error: &str, cause: &str) -> &Self {
        self.push_state(state, Err(StatesError::new(error, cause)))
    }

    /// Queues a result for resource `arn`.
    pub fn resource_returns(&self, arn: &str, result: Value) -> &Self {
        self.push_resource(arn, Ok(result))
    }

    /// Queues an error for resource `arn`.
    pub fn resource_fails(&self, arn: &str, error: &str, cause: &str) -> &Self {
        self.push_resource(arn, Err(StatesError::new(error, cause)))
    }

    /// Every request so far, in call order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    /// The requests made by state `state`, in call order.
    pub fn requests_for(&self, state: &str) -> Vec<RecordedRequest> {
        self.lock()
            .requests
            .iter()
            .filter(|r| r.state_name == state)
            .cloned()
            .collect()
    }

    /// Answers still queued (for a test asserting that all were used).
    pub fn pending(&self) -> usize {
        let script = self.lock();
        script.by_state.values().map(VecDeque::len).sum::<usize>()
            + script
                .by_resource
                .values()
                .map(VecDeque::len)
                .sum::<usize>()
    }
}

fn to_answer(answer: Result<Value, StatesError>) -> MockAnswer {
    match answer {
        Ok(v) => MockAnswer::Return(v),
        Err(e) => MockAnswer::Throw(e),
    }
}

#[async_trait]
impl TaskExecutor for ScriptedExecutor {
    async fn execute(&self, request: TaskRequest<'_>) -> TaskResult {
        let answer = {
            let mut script = self.lock();
            script.requests.push(RecordedRequest {
                state_name: request.state_name.to_owned(),
                resource: request.resource.arn.clone(),
                parameters: request.parameters.clone(),
                retry_count: request.retry_count,
                task_token: request.task_token.map(str::to_owned),
                timeout_seconds: request.timeout_seconds,
                credentials: request.credentials.map(str::to_owned),
            });
            let from_state = script
                .by_state
                .get_mut(request.state_name)
                .and_then(VecDeque::pop_front);
            from_state.or_else(|| {
                script
                    .by_resource
                    .get_mut(&request.resource.arn)
                    .and_then(VecDeque::pop_front)
            })
        };
        let answer = match answer {
            Some(answer) => answer,
            None if self.echo => MockAnswer::Return(request.parameters.clone()),
            None => {
                return Err(StatesError::runtime(format!(
                    "scripted executor: no answer queued for state '{}' (resource '{}')",
                    request.state_name, request.resource.arn
                )))
            }
        };
        super::answer_task(&request, answer)
    }
}
