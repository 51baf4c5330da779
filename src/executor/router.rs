//! A ready-made executor for tests and small hosts: [`Router`] sends each
//! task to the handler of its state, its Lambda function or its resource.

use super::lambda::{function_name, lambda_fn};
use super::{task_fn, TaskExecutor, TaskRequest, TaskResult};
use crate::error::StatesError;
use async_trait::async_trait;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

/// A [`TaskExecutor`] built from handlers, so that a test needs no
/// hand-written `match` over resources: each task goes to the first of
///
/// 1. the handler of its state's name ([`state`](Self::state)),
/// 2. the Lambda function it calls ([`lambda`](Self::lambda)): the
///    function of a Lambda ARN resource or the `FunctionName` argument of
///    `arn:aws:states:::lambda:invoke` (a name, a partial or full ARN,
///    with or without a qualifier),
/// 3. the handler of its `Resource`, as written ([`resource`](Self::resource)),
/// 4. the [`fallback`](Self::fallback) executor.
///
/// A task none of them takes fails with `States.Runtime` and a cause
/// naming what was looked for, e.g. `router: no handler for state 'Ship'
/// (resource 'arn:aws:states:::lambda:invoke', function 'ship')`: a
/// missing handler is a mistake in the test, so like a missing mock (see
/// [`testing`](crate::testing)) it is an error no `Retry` or `Catch`
/// takes, not a task failure the workflow could handle.
///
/// Handlers are async closures, as [`task_fn`] takes them (state and
/// resource handlers get the whole [`TaskRequest`]), or Lambda-style
/// functions of the event, as [`lambda_fn`] takes them. Any executor can be
/// routed to with the `..._executor` forms.
///
/// ```
/// # futures::executor::block_on(async {
/// use serde_json::{json, Value};
/// use stepfn::{Router, StateMachine, StatesError, Status};
///
/// let machine: StateMachine = r#"{"StartAt": "Price", "States": {
///     "Price": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
///               "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:price:live",
///                              "Payload.$": "$"},
///               "OutputPath": "$.Payload", "Next": "Notify"},
///     "Notify": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish",
///                "Parameters": {"Message.$": "States.Format('{} costs {}', $.item, $.price)"}, "Next": "Audit"},
///     "Audit": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": true}}}"#.parse()?;
/// let router = Router::new()
///     .lambda("price", |event: Value| async move {
///         Ok(json!({"item": event["item"], "price": 12}))
///     })
///     .resource("arn:aws:states:::sns:publish", |request| {
///         let message = request.parameters["Message"].clone();
///         async move { Ok(json!({"MessageId": "m-1", "Sent": message})) }
///     })
///     .state("Audit", |_request| async { Err(StatesError::new("AuditDown", "try later")) });
/// let outcome = machine.execute(&router, json!({"item": "tea"})).await;
/// assert_eq!(outcome.status, Status::Failed);
/// assert_eq!(outcome.error.as_deref(), Some("AuditDown"));
///
/// // a task no handler takes
/// let outcome = machine.execute(&Router::new(), json!({"item": "tea"})).await;
/// assert_eq!(outcome.error.as_deref(), Some("States.Runtime"));
/// assert_eq!(
///     outcome.cause.as_deref(),
///     Some("router: no handler for state 'Price' (resource 'arn:aws:states:::lambda:invoke', function 'price')")
/// );
/// # Ok::<(), stepfn::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Default)]
pub struct Router {
    states: HashMap<String, Arc<dyn TaskExecutor>>,
    functions: HashMap<String, Arc<dyn TaskExecutor>>,
    resources: HashMap<String, Arc<dyn TaskExecutor>>,
    fallback: Option<Arc<dyn TaskExecutor>>,
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = |map: &HashMap<String, Arc<dyn TaskExecutor>>| {
            let mut names: Vec<&str> = map.keys().map(String::as_str).collect();
            names.sort_unstable();
            names.join(", ")
        };
        f.debug_struct("Router")
            .field("states", &names(&self.states))
            .field("functions", &names(&self.functions))
            .field("resources", &names(&self.resources))
            .field("fallback", &self.fallback.is_some())
            .finish()
    }
}

impl Router {
    /// A router with no handler: every task fails until some are added.
    pub fn new() -> Self {
        Self::default()
    }

    /// Tasks of the state `name` go to `handler` (an async closure of the
    /// request, as [`task_fn`] takes). A state inside a Parallel branch or a
    /// Map iteration is named like any other (state names are unique in a
    /// definition).
    pub fn state<F, Fut>(self, name: impl Into<String>, handler: F) -> Self
    where
        F: Fn(TaskRequest<'_>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = TaskResult> + Send + 'static,
    {
        self.state_executor(name, task_fn(handler))
    }

    /// Tasks of the state `name` go to `executor`.
    pub fn state_executor(
        mut self,
        name: impl Into<String>,
        executor: impl TaskExecutor + 'static,
    ) -> Self {
        self.states.insert(name.into(), Arc::new(executor));
        self
    }

    /// Calls of the Lambda function `name` (a bare name: `price`, not an
    /// ARN) go to `function`, a Lambda-style function of the event: see
    /// [`lambda_fn`] for how the event is taken out of the request and the
    /// answer wrapped.
    pub fn lambda<F, Fut>(self, name: impl Into<String>, function: F) -> Self
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = TaskResult> + Send + 'static,
    {
        self.lambda_executor(name, lambda_fn(function))
    }

    /// Calls of the Lambda function `name` go to `executor`, which gets the
    /// whole request.
    pub fn lambda_executor(
        mut self,
        name: impl Into<String>,
        executor: impl TaskExecutor + 'static,
    ) -> Self {
        self.functions.insert(name.into(), Arc::new(executor));
        self
    }

    /// Tasks whose `Resource` is `arn` (exactly as written, integration
    /// pattern included) go to `handler` (an async closure of the request).
    pub fn resource<F, Fut>(self, arn: impl Into<String>, handler: F) -> Self
    where
        F: Fn(TaskRequest<'_>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = TaskResult> + Send + 'static,
    {
        self.resource_executor(arn, task_fn(handler))
    }

    /// Tasks whose `Resource` is `arn` go to `executor`.
    pub fn resource_executor(
        mut self,
        arn: impl Into<String>,
        executor: impl TaskExecutor + 'static,
    ) -> Self {
        self.resources.insert(arn.into(), Arc::new(executor));
        self
    }

    /// Tasks no handler takes go to `executor` (e.g. a
    /// [`MockExecutor`](crate::testing::MockExecutor)) instead of failing.
    pub fn fallback(mut self, executor: impl TaskExecutor + 'static) -> Self {
        self.fallback = Some(Arc::new(executor));
        self
    }

    /// The executor that takes `request`, if any.
    fn route(&self, request: &TaskRequest<'_>) -> Option<&Arc<dyn TaskExecutor>> {
        self.states
            .get(request.state_name)
            .or_else(|| function_name(request).and_then(|function| self.functions.get(function)))
            .or_else(|| self.resources.get(&request.resource.arn))
            .or(self.fallback.as_ref())
    }
}

#[async_trait]
impl TaskExecutor for Router {
    async fn execute(&self, request: TaskRequest<'_>) -> TaskResult {
        match self.route(&request) {
            Some(executor) => executor.execute(request).await,
            None => {
                let function = function_name(&request)
                    .map(|f| format!(", function '{f}'"))
                    .unwrap_or_default();
                Err(StatesError::runtime(format!(
                    "router: no handler for state '{}' (resource '{}'{function})",
                    request.state_name, request.resource.arn
                )))
            }
        }
    }
}
