//! The task code's front door: a [`TaskExecutor`] that finds the code of a
//! Task state by the resource ARN the definition names.
//!
//! * A Lambda function ARN as the `Resource` (`arn:aws:lambda:...:function:f`)
//!   or any other URI (seed 004's `Provide-Lambda-Function-Arn`): the code
//!   registered under that exact string gets the effective parameters and its
//!   answer is the task result, as with AWS's direct Lambda invocation.
//! * `arn:aws:states:::lambda:invoke` (what CDK's `LambdaInvoke` writes):
//!   the code registered under the `FunctionName` ARN gets the `Payload`, and
//!   the task result is Lambda's Invoke response as Step Functions shows it
//!   (`{"ExecutedVersion", "Payload", "SdkHttpMetadata",
//!   "SdkResponseMetadata", "StatusCode"}`).
//! * Any other integration ARN (`arn:aws:states:::dynamodb:getItem`): the
//!   code registered under it gets the parameters.

use futures::future::BoxFuture;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use stepfn::definition::ResourceKind;
use stepfn::{StatesError, TaskExecutor, TaskRequest, TaskResult};

/// What a stand-in function gets.
#[derive(Debug)]
pub struct Invocation {
    /// Its event: the parameters, or the `Payload` of a `lambda:invoke`.
    pub event: Value,
    /// `$$.Execution.Id` of the calling execution.
    pub execution_arn: Option<String>,
}

/// The code of one resource.
pub type Handler =
    Arc<dyn Fn(Invocation) -> BoxFuture<'static, Result<Value, StatesError>> + Send + Sync>;

/// Task code keyed by resource ARN. Cheap to clone; share one among all
/// executions.
#[derive(Clone, Default)]
pub struct TaskRouter {
    handlers: HashMap<String, Handler>,
}

impl TaskRouter {
    /// No code registered yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers async code under `arn`.
    pub fn on<F, Fut>(mut self, arn: &str, f: F) -> Self
    where
        F: Fn(Invocation) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, StatesError>> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |invocation| Box::pin(f(invocation)));
        self.handlers.insert(arn.to_owned(), handler);
        self
    }

    /// Registers code that does not wait (a quick database statement) under
    /// `arn`.
    pub fn on_sync<F>(self, arn: &str, f: F) -> Self
    where
        F: Fn(Invocation) -> Result<Value, StatesError> + Send + Sync + 'static,
    {
        self.on(arn, move |invocation| std::future::ready(f(invocation)))
    }

    /// Adds every handler of `other`.
    pub fn merge(mut self, other: TaskRouter) -> Self {
        self.handlers.extend(other.handlers);
        self
    }

    fn handler(&self, arn: &str) -> Result<&Handler, StatesError> {
        self.handlers.get(arn).ok_or_else(|| {
            StatesError::new(
                "Lambda.ResourceNotFoundException",
                format!("no task code is registered for `{arn}`"),
            )
        })
    }
}

#[async_trait::async_trait]
impl TaskExecutor for TaskRouter {
    async fn execute(&self, request: TaskRequest<'_>) -> TaskResult {
        // A Lambda call is a round trip: let other executions run meanwhile,
        // so that concurrent executions interleave as they would on AWS.
        tokio::task::yield_now().await;
        let execution_arn = request
            .context()
            .pointer("/Execution/Id")
            .and_then(Value::as_str)
            .map(str::to_owned);
        match &request.resource.kind {
            ResourceKind::Service {
                service, action, ..
            } if service == "lambda" && action == "invoke" => {
                let mut parameters = request.parameters;
                let Some(function) = parameters.get("FunctionName").and_then(Value::as_str) else {
                    return Err(StatesError::new(
                        "States.TaskFailed",
                        "lambda:invoke needs a string `FunctionName`",
                    ));
                };
                let handler = self.handler(function)?.clone();
                let event = parameters
                    .get_mut("Payload")
                    .map(Value::take)
                    .unwrap_or(Value::Null);
                let payload = handler(Invocation {
                    event,
                    execution_arn,
                })
                .await?;
                Ok(json!({
                    "ExecutedVersion": "$LATEST",
                    "Payload": payload,
                    "SdkHttpMetadata": {
                        "AllHttpHeaders": {"Content-Type": ["application/json"]},
                        "HttpHeaders": {"Content-Type": "application/json"},
                        "HttpStatusCode": 200,
                    },
                    "SdkResponseMetadata": {"RequestId": uuid::Uuid::new_v4().to_string()},
                    "StatusCode": 200,
                }))
            }
            _ => {
                let handler = self.handler(&request.resource.arn)?.clone();
                handler(Invocation {
                    event: request.parameters,
                    execution_arn,
                })
                .await
            }
        }
    }
}

/// What Step Functions reports when a Python Lambda function raises
/// `error_type(message)`: the exception's class is the error name, Lambda's
/// error document the cause.
pub fn python_error(error_type: &str, message: &str) -> StatesError {
    StatesError::new(
        error_type,
        json!({
            "errorMessage": message,
            "errorType": error_type,
            "requestId": uuid::Uuid::new_v4().to_string(),
            "stackTrace": [],
        })
        .to_string(),
    )
}

/// What Step Functions reports when a Node.js Lambda function throws
/// (`throw new Error(message)` has the type `Error`).
pub fn node_error(error_type: &str, message: &str) -> StatesError {
    StatesError::new(
        error_type,
        json!({"errorType": error_type, "errorMessage": message, "trace": []}).to_string(),
    )
}

/// The `errorMessage` inside a Lambda error cause (or the whole cause when
/// it is not Lambda's error document).
pub fn error_message(cause: &str) -> String {
    serde_json::from_str::<Value>(cause)
        .ok()
        .and_then(|v| {
            v.get("errorMessage")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| cause.to_owned())
}
