//! The seam between a state machine and the work it orders: [`TaskExecutor`].
//!
//! # What a Task state asks of you
//!
//! stepfn walks the states of a definition itself: Pass, Choice, Wait,
//! Parallel, Map, Retry, Catch, timeouts, data flow. The one thing it cannot
//! do is the *work* of a `Task` state: call a Lambda function, send an SQS
//! message, run a job. For that it calls your [`TaskExecutor`] with a
//! [`TaskRequest`] and waits for its answer.
//!
//! A request carries:
//!
//! * [`resource`](TaskRequest::resource): the `Resource` of the state,
//!   already parsed ([`ResourceKind`](crate::resource::ResourceKind)): a
//!   Lambda ARN, an optimized integration `arn:aws:states:::sqs:sendMessage`
//!   with its integration pattern, an AWS SDK integration, an activity;
//! * [`parameters`](TaskRequest::parameters): the effective parameters,
//!   i.e. the state input after `InputPath` and `Parameters` (yours to keep:
//!   the engine does not need them back);
//! * [`state_name`](TaskRequest::state_name) and
//!   [`retry_count`](TaskRequest::retry_count) (0 on the first attempt, then
//!   1, 2, ... as `Retry` runs the state again);
//! * [`timeout_seconds`](TaskRequest::timeout_seconds) and
//!   [`heartbeat_seconds`](TaskRequest::heartbeat_seconds), resolved; the
//!   engine enforces both itself, you need not;
//! * [`task_token`](TaskRequest::task_token) for `.waitForTaskToken`
//!   resources and activities;
//! * [`credentials`](TaskRequest::credentials): the role ARN of the state's
//!   `Credentials`, resolved;
//! * the context object (`$$`) through [`context()`](TaskRequest::context).
//!
//! Answer with `Ok(result)`: the raw task result, before `ResultSelector`
//! and `ResultPath`. Or fail with a [`StatesError`]: its name is what
//! `Retry` and `Catch` match (`ErrorEquals`), its cause what AWS would show.
//! A Lambda function that throws is `StatesError::new("MyError", cause)`;
//! `States.TaskFailed` is the generic name when you have no better one. A
//! panic inside your future is caught and becomes `States.TaskFailed` with
//! the panic message as the cause: it never unwinds through the host.
//!
//! # Writing one
//!
//! The quickest way is a closure through [`task_fn`]. Take what you need
//! from the request (it borrows from the running execution), then return a
//! future that owns its data:
//!
//! ```
//! use serde_json::{json, Value};
//! use stepfn::{task_fn, StatesError, TaskRequest};
//!
//! let executor = task_fn(|request: TaskRequest<'_>| {
//!     let mut input = request.parameters;
//!     async move {
//!         match input.get("count").and_then(Value::as_i64) {
//!             Some(n) => {
//!                 input["count"] = json!(n + 1);
//!                 Ok(input)
//!             }
//!             None => Err(StatesError::new("MissingCount", "the input has no count")),
//!         }
//!     }
//! });
//! # let _ = executor;
//! ```
//!
//! For anything with state of its own (an HTTP client, a map from function
//! name to handler), implement the trait. It is an `async-trait` with
//! `&self`: Map and Parallel states call one executor many times at once,
//! so it must be `Send + Sync` and keep mutable state behind a lock or an
//! atomic.
//!
//! ```
//! use serde_json::Value;
//! use stepfn::definition::ResourceKind;
//! use stepfn::{StatesError, TaskExecutor, TaskRequest};
//!
//! struct Lambdas;
//!
//! #[async_trait::async_trait]
//! impl TaskExecutor for Lambdas {
//!     async fn execute(&self, request: TaskRequest<'_>) -> Result<Value, StatesError> {
//!         match &request.resource.kind {
//!             ResourceKind::Lambda { function } if function == "echo" => Ok(request.parameters),
//!             _ => Err(StatesError::new("States.TaskFailed", "no such function")),
//!         }
//!     }
//! }
//! ```
//!
//! References, `Box` and `Arc` of an executor are executors too, and so is
//! `dyn TaskExecutor`: keep one `Arc<dyn TaskExecutor>` and share it among
//! all your executions.
//!
//! # Callbacks
//!
//! For a `.waitForTaskToken` resource your executor *submits* the work (say,
//! sends the token in an SQS message) and returns; its result is recorded as
//! `TaskSubmitted` and otherwise ignored. The state then waits until the
//! token comes back through
//! [`ExecutionHandle::send_task_success`](crate::ExecutionHandle::send_task_success)
//! (or `_failure`, or `_heartbeat` to keep it alive). An executor that can
//! answer at once (a test double, say) may complete the callback itself
//! with [`TaskRequest::callback`].

mod lambda;
mod router;

pub use lambda::{lambda_fn, LambdaFn};
pub use router::Router;

use crate::error::StatesError;
use crate::resource::Resource;
use async_trait::async_trait;
use serde_json::Value;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

/// What a task answers: its raw result, or an error with a name and cause.
pub type TaskResult = Result<Value, StatesError>;

/// The work of one attempt of one Task state. See the [module
/// docs](crate::executor) for a guide.
#[non_exhaustive]
pub struct TaskRequest<'a> {
    /// The state's `Resource`, parsed.
    pub resource: &'a Resource,
    /// The effective parameters: the state input after `InputPath` and
    /// `Parameters`. Owned: move it into your result if you echo it.
    pub parameters: Value,
    /// The name of the Task state.
    pub state_name: &'a str,
    /// 0 on the first attempt, then 1, 2, ... on retries (as
    /// `$$.State.RetryCount`).
    pub retry_count: u32,
    /// `TimeoutSeconds(Path)` resolved, if the state has one. The engine
    /// enforces it through its clock.
    pub timeout_seconds: Option<u64>,
    /// `HeartbeatSeconds(Path)` resolved, if the state has one.
    pub heartbeat_seconds: Option<u64>,
    /// The task token, for `.waitForTaskToken` resources and activities.
    pub task_token: Option<&'a str>,
    /// The role ARN of the state's `Credentials`, resolved.
    pub credentials: Option<&'a str>,
    /// The id of the `TaskStateEntered` event of this attempt's state (0
    /// in a request built with [`new`](Self::new)). With the execution, the
    /// line of states and [`retry_count`](Self::retry_count), it makes the
    /// [`idempotency_key`](Self::idempotency_key).
    pub state_entered_event_id: u64,
    /// The line of states the task runs on (durable runs): `""` for the
    /// top level, else the path of its Parallel branch or Map iteration,
    /// e.g. `/Fan/1` or `/Fan/1/Each/17`.
    pub line: &'a str,
    context: ContextSource<'a>,
    callback: Option<CallbackSender>,
    execution_arn: Option<&'a (dyn Fn() -> String + Sync)>,
}

#[derive(Clone, Copy)]
#[allow(dead_code)]
enum ContextSource<'a> {
    None,
    Value(&'a Value),
    Lazy(&'a (dyn Fn() -> Value + Sync)),
}

impl<'a> TaskRequest<'a> {
    /// A request for `resource` with `parameters`; everything else empty.
    /// The engine builds requests itself: this is for testing executors.
    pub fn new(resource: &'a Resource, parameters: Value) -> TaskRequest<'a> {
        TaskRequest {
            resource,
            parameters,
            state_name: "",
            retry_count: 0,
            timeout_seconds: None,
            heartbeat_seconds: None,
            task_token: None,
            credentials: None,
            state_entered_event_id: 0,
            line: "",
            context: ContextSource::None,
            callback: None,
            execution_arn: None,
        }
    }

    /// Sets the state name.
    pub fn with_state_name(mut self, name: &'a str) -> Self {
        self.state_name = name;
        self
    }

    /// Sets the retry count.
    pub fn with_retry_count(mut self, retry_count: u32) -> Self {
        self.retry_count = retry_count;
        self
    }

    /// Sets the task token.
    pub fn with_task_token(mut self, token: &'a str) -> Self {
        self.task_token = Some(token);
        self
    }

    /// Sets the context object.
    pub fn with_context(mut self, context: &'a Value) -> Self {
        self.context = ContextSource::Value(context);
        self
    }

    #[allow(dead_code)] // used by the engine as it lands
    pub(crate) fn with_lazy_context(mut self, context: &'a (dyn Fn() -> Value + Sync)) -> Self {
        self.context = ContextSource::Lazy(context);
        self
    }

    /// Sets where the execution ARN of the idempotency key comes from
    /// (resolved only when the key is asked for).
    pub(crate) fn with_lazy_execution_arn(
        mut self,
        execution_arn: &'a (dyn Fn() -> String + Sync),
    ) -> Self {
        self.execution_arn = Some(execution_arn);
        self
    }

    #[allow(dead_code)]
    pub(crate) fn with_callback(mut self, callback: CallbackSender) -> Self {
        self.callback = Some(callback);
        self
    }

    /// The context object (`$$`) as the state sees it: `Execution`,
    /// `StateMachine`, `State`, `Task` (with the token) and, inside a Map
    /// iteration, `Map`. Built on demand; `null` when the request was made
    /// without one.
    pub fn context(&self) -> Value {
        match self.context {
            ContextSource::None => Value::Null,
            ContextSource::Value(v) => v.clone(),
            ContextSource::Lazy(f) => f(),
        }
    }

    /// A key naming this attempt, the same every time this attempt is
    /// made: `{execution ARN}/{line of states}/{state-entered event
    /// id}/{attempt}`, e.g.
    /// `arn:aws:states:us-east-1:123456789012:execution:M:run-1//5/0` for
    /// the first attempt of the top-level state entered at event 5 (the
    /// top-level line of states is named `""`; the attempt is
    /// [`retry_count`](Self::retry_count)).
    ///
    /// Task calls are *at-least-once*: a durable execution whose worker
    /// died between calling the executor and committing the result calls
    /// it again after resuming, with the same request and the same key
    /// (the resumed history has the same event ids). An executor whose
    /// work must not happen twice passes the key on as the idempotency
    /// token of the service it calls (`ClientRequestToken` and the like)
    /// or keeps the keys it has done. A retry is a new attempt, with a new
    /// key. A line of states resumed inside a Task state whose call was in
    /// flight makes the call again with the same key; one resumed before
    /// the state (its entry not committed yet) enters it again, with the
    /// id the resumed history gives it: the same when the lines of a
    /// Parallel or Map state go on in the same order.
    ///
    /// `None` for a request built with [`new`](Self::new).
    pub fn idempotency_key(&self) -> Option<String> {
        let arn = self.execution_arn?();
        Some(format!(
            "{arn}/{}/{}/{}",
            self.line, self.state_entered_event_id, self.retry_count
        ))
    }

    /// For a `.waitForTaskToken` task: a sender that completes this task's
    /// callback (the same as the execution handle's `send_task_*` with this
    /// token). `None` for other tasks.
    pub fn callback(&self) -> Option<&CallbackSender> {
        self.callback.as_ref()
    }
}

impl fmt::Debug for TaskRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskRequest")
            .field("resource", &self.resource.arn)
            .field("parameters", &self.parameters)
            .field("state_name", &self.state_name)
            .field("retry_count", &self.retry_count)
            .field("timeout_seconds", &self.timeout_seconds)
            .field("heartbeat_seconds", &self.heartbeat_seconds)
            .field("task_token", &self.task_token)
            .field("credentials", &self.credentials)
            .field("state_entered_event_id", &self.state_entered_event_id)
            .finish_non_exhaustive()
    }
}

/// What a host says about one task token: AWS's SendTaskSuccess,
/// SendTaskFailure and SendTaskHeartbeat.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum CallbackMessage {
    Success(Value),
    Failure(StatesError),
    Heartbeat,
}

impl CallbackMessage {
    /// SendTaskFailure: without an error name the error is named `""`, as
    /// AWS does.
    pub(crate) fn failure(error: Option<&str>, cause: Option<&str>) -> CallbackMessage {
        CallbackMessage::Failure(StatesError {
            name: error.unwrap_or("").into(),
            cause: cause.map(str::to_owned),
        })
    }
}

/// Where the callback messages of one execution go: the engine's table of
/// waiting tasks. The engine implements it, so that this seam does not
/// depend on the engine.
pub(crate) trait CallbackSink: Send + Sync {
    /// Delivers `message` to the task waiting for `token`.
    fn send(&self, token: &str, message: CallbackMessage) -> Result<(), CallbackError>;
}

/// Completes one `.waitForTaskToken` task from inside a [`TaskExecutor`];
/// see [`TaskRequest::callback`].
#[derive(Clone)]
pub struct CallbackSender {
    sink: Arc<dyn CallbackSink>,
    token: Arc<str>,
}

impl fmt::Debug for CallbackSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackSender")
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

impl CallbackSender {
    pub(crate) fn new(sink: Arc<dyn CallbackSink>, token: &str) -> CallbackSender {
        CallbackSender {
            sink,
            token: token.into(),
        }
    }

    /// The task token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// As [`ExecutionHandle::send_task_success`](crate::ExecutionHandle::send_task_success).
    pub fn send_success(&self, output: Value) -> Result<(), CallbackError> {
        self.sink
            .send(&self.token, CallbackMessage::Success(output))
    }

    /// As [`ExecutionHandle::send_task_failure`](crate::ExecutionHandle::send_task_failure).
    pub fn send_failure(
        &self,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<(), CallbackError> {
        self.sink
            .send(&self.token, CallbackMessage::failure(error, cause))
    }

    /// As [`ExecutionHandle::send_task_heartbeat`](crate::ExecutionHandle::send_task_heartbeat).
    pub fn send_heartbeat(&self) -> Result<(), CallbackError> {
        self.sink.send(&self.token, CallbackMessage::Heartbeat)
    }
}

/// Why a callback was refused: the errors of AWS's SendTaskSuccess,
/// SendTaskFailure and SendTaskHeartbeat. [`name`](Self::name) gives
/// AWS's error code, the `Display` text AWS's message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallbackError {
    /// The task of this token is closed: it has its answer already (a
    /// token takes one success or failure), it timed out or was aborted,
    /// or its execution ended. AWS: `TaskTimedOut`, "Provided task does
    /// not exist anymore".
    TaskTimedOut,
    /// The execution never issued this token. AWS: `InvalidToken`.
    InvalidToken,
    /// AWS's answer for an activity that does not exist; stepfn's
    /// executions answer [`TaskTimedOut`](Self::TaskTimedOut) or
    /// [`InvalidToken`](Self::InvalidToken) instead.
    TaskDoesNotExist,
}

impl CallbackError {
    /// AWS's error code: `TaskTimedOut`, `InvalidToken`,
    /// `TaskDoesNotExist`.
    pub fn name(&self) -> &'static str {
        match self {
            CallbackError::TaskTimedOut => "TaskTimedOut",
            CallbackError::InvalidToken => "InvalidToken",
            CallbackError::TaskDoesNotExist => "TaskDoesNotExist",
        }
    }
}

impl fmt::Display for CallbackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallbackError::TaskTimedOut => {
                f.write_str("Task Timed Out: 'Provided task does not exist anymore'")
            }
            CallbackError::InvalidToken => f.write_str("Invalid Token: 'Invalid token'"),
            CallbackError::TaskDoesNotExist => {
                f.write_str("no task of this execution waits for this token")
            }
        }
    }
}

impl std::error::Error for CallbackError {}

/// Does the work of Task states. See the [module docs](crate::executor) for
/// a guide.
#[async_trait]
pub trait TaskExecutor: Send + Sync {
    /// Runs one attempt of a Task state: the raw result, or an error whose
    /// name `Retry`/`Catch` match.
    async fn execute(&self, request: TaskRequest<'_>) -> TaskResult;
}

#[async_trait]
impl<T: TaskExecutor + ?Sized> TaskExecutor for &T {
    async fn execute(&self, request: TaskRequest<'_>) -> TaskResult {
        (**self).execute(request).await
    }
}

#[async_trait]
impl<T: TaskExecutor + ?Sized> TaskExecutor for Box<T> {
    async fn execute(&self, request: TaskRequest<'_>) -> TaskResult {
        (**self).execute(request).await
    }
}

#[async_trait]
impl<T: TaskExecutor + ?Sized> TaskExecutor for Arc<T> {
    async fn execute(&self, request: TaskRequest<'_>) -> TaskResult {
        (**self).execute(request).await
    }
}

// `dyn TaskExecutor` must stay a type: executors are shared as
// `Arc<dyn TaskExecutor>`.
#[allow(dead_code)]
fn _object_safe(_: &dyn TaskExecutor) {}

/// An executor made from an async closure; see [`task_fn`].
#[derive(Clone, Copy)]
pub struct TaskFn<F> {
    f: F,
}

impl<F> fmt::Debug for TaskFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskFn").finish_non_exhaustive()
    }
}

/// Makes a [`TaskExecutor`] from a closure returning a future.
///
/// The closure gets the request by value; it takes what it needs from it
/// and returns a future owning its data (`async move`).
///
/// ```
/// use stepfn::{task_fn, TaskRequest};
/// let echo = task_fn(|request: TaskRequest<'_>| {
///     let input = request.parameters;
///     async move { Ok(input) }
/// });
/// # let _ = echo;
/// ```
pub fn task_fn<F, Fut>(f: F) -> TaskFn<F>
where
    F: Fn(TaskRequest<'_>) -> Fut + Send + Sync,
    Fut: Future<Output = TaskResult> + Send,
{
    TaskFn { f }
}

#[async_trait]
impl<F, Fut> TaskExecutor for TaskFn<F>
where
    F: Fn(TaskRequest<'_>) -> Fut + Send + Sync,
    Fut: Future<Output = TaskResult> + Send,
{
    async fn execute(&self, request: TaskRequest<'_>) -> TaskResult {
        (self.f)(request).await
    }
}

/// An executor made from a synchronous closure; see [`sync_task_fn`].
#[derive(Clone, Copy)]
pub struct SyncTaskFn<F> {
    f: F,
}

impl<F> fmt::Debug for SyncTaskFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyncTaskFn").finish_non_exhaustive()
    }
}

/// Makes a [`TaskExecutor`] from a synchronous closure: for work that does
/// not wait (test doubles, pure transformations).
///
/// ```
/// use stepfn::{sync_task_fn, TaskRequest};
/// let echo = sync_task_fn(|request: TaskRequest<'_>| Ok(request.parameters));
/// # let _ = echo;
/// ```
pub fn sync_task_fn<F>(f: F) -> SyncTaskFn<F>
where
    F: Fn(TaskRequest<'_>) -> TaskResult + Send + Sync,
{
    SyncTaskFn { f }
}

#[async_trait]
impl<F> TaskExecutor for SyncTaskFn<F>
where
    F: Fn(TaskRequest<'_>) -> TaskResult + Send + Sync,
{
    async fn execute(&self, request: TaskRequest<'_>) -> TaskResult {
        (self.f)(request)
    }
}
