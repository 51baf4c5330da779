//! A Lambda function in Rust: [`lambda_fn`] takes the event out of a Task's
//! request and gives the function's answer back as AWS's Lambda
//! integration does.

use super::{TaskExecutor, TaskRequest, TaskResult};
use crate::resource::{IntegrationPattern, ResourceKind};
use async_trait::async_trait;
use serde_json::{json, Map, Value};
use std::fmt;
use std::future::Future;
use std::time::SystemTime;

/// An executor running one Lambda-style function; see [`lambda_fn`].
#[derive(Clone, Copy)]
pub struct LambdaFn<F> {
    f: F,
}

impl<F> fmt::Debug for LambdaFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LambdaFn").finish_non_exhaustive()
    }
}

/// Makes a [`TaskExecutor`] of a Lambda-style function: it gets the event
/// and answers with its result (or fails with the error the function
/// throws, e.g. `StatesError::new("ValueError", "...")`).
///
/// * `arn:aws:states:::lambda:invoke`: the event is the `Payload` argument
///   (`null` without one; `FunctionName` and the other arguments are not
///   passed on), and the task's result is wrapped as AWS's integration
///   returns Lambda's answer, with the field set AWS's recordings show:
///   `{"ExecutedVersion": "$LATEST", "Payload": <result>,
///   "SdkHttpMetadata": {"AllHttpHeaders", "HttpHeaders",
///   "HttpStatusCode": 200}, "SdkResponseMetadata": {"RequestId"},
///   "StatusCode": 200}`. The headers' volatile values are derived from
///   the request (the request id and trace id from its
///   [`idempotency_key`](TaskRequest::idempotency_key), the `Date` from the
///   state's entered time), so a run on a virtual clock answers the same
///   every time.
/// * `arn:aws:states:::lambda:invoke.waitForTaskToken`: as above; the
///   wrapped answer is what the task submitted (`TaskSubmitted`), and the
///   function's result also completes the task's callback at once, as if
///   the function had sent it back with `SendTaskSuccess` (an error fails
///   the task without a callback, as a failed invocation does). To hold
///   the token instead, write the handler with [`task_fn`](super::task_fn)
///   and answer through [`ExecutionHandle`](crate::ExecutionHandle).
/// * a Lambda ARN (`arn:aws:lambda:REGION:ACCOUNT:function:NAME`) and any
///   other resource: the event is the effective parameters, and the result
///   is the task result as it is (the legacy Lambda form returns the
///   function's bare result).
///
/// ```
/// # futures::executor::block_on(async {
/// use serde_json::{json, Value};
/// use stepfn::{lambda_fn, StateMachine};
///
/// let machine: StateMachine = r#"{"StartAt": "Double", "States": {"Double": {
///     "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
///     "Parameters": {"FunctionName": "double", "Payload": {"n.$": "$.n"}},
///     "ResultSelector": {"n.$": "$.Payload.n", "status.$": "$.StatusCode"}, "End": true}}}"#.parse()?;
/// let double = lambda_fn(|event: Value| async move {
///     Ok(json!({"n": event["n"].as_i64().unwrap_or(0) * 2}))
/// });
/// let outcome = machine.execute(&double, json!({"n": 21})).await;
/// assert_eq!(outcome.output, Some(json!({"n": 42, "status": 200})));
/// # Ok::<(), stepfn::Error>(())
/// # }).unwrap();
/// ```
pub fn lambda_fn<F, Fut>(f: F) -> LambdaFn<F>
where
    F: Fn(Value) -> Fut + Send + Sync,
    Fut: Future<Output = TaskResult> + Send,
{
    LambdaFn { f }
}

#[async_trait]
impl<F, Fut> TaskExecutor for LambdaFn<F>
where
    F: Fn(Value) -> Fut + Send + Sync,
    Fut: Future<Output = TaskResult> + Send,
{
    async fn execute(&self, mut request: TaskRequest<'_>) -> TaskResult {
        let Some(pattern) = invoke_pattern(&request) else {
            let event = std::mem::take(&mut request.parameters);
            return (self.f)(event).await;
        };
        let event = match &mut request.parameters {
            Value::Object(arguments) => arguments.remove("Payload").unwrap_or(Value::Null),
            _ => Value::Null,
        };
        let result = (self.f)(event).await?;
        if pattern == IntegrationPattern::WaitForTaskToken {
            if let Some(callback) = request.callback() {
                // an unknown token only means the task is already gone
                let _ = callback.send_success(result.clone());
            }
        }
        Ok(invoke_response(&request, result))
    }
}

/// The pattern of an `arn:aws:states:::lambda:invoke[.pattern]` resource;
/// `None` for any other.
pub(crate) fn invoke_pattern(request: &TaskRequest<'_>) -> Option<IntegrationPattern> {
    match &request.resource.kind {
        ResourceKind::Service {
            service,
            action,
            pattern,
        } if service == "lambda" && action == "invoke" => Some(*pattern),
        _ => None,
    }
}

/// The function a Lambda task calls: the name in a Lambda ARN resource,
/// or the `FunctionName` argument of `lambda:invoke` (a name, a partial
/// or full ARN, with or without a qualifier, all give the bare name).
pub(crate) fn function_name<'r>(request: &'r TaskRequest<'_>) -> Option<&'r str> {
    let name = match &request.resource.kind {
        ResourceKind::Lambda { function } => return Some(function),
        _ if invoke_pattern(request).is_some() => {
            request.parameters.get("FunctionName")?.as_str()?
        }
        _ => return None,
    };
    Some(match name.split_once(":function:") {
        Some((_, rest)) => rest.split(':').next().unwrap_or(rest),
        None => name.split(':').next().unwrap_or(name),
    })
}

/// Lambda's answer to an invocation returning `payload`, as the
/// `lambda:invoke` integration gives it.
fn invoke_response(request: &TaskRequest<'_>, payload: Value) -> Value {
    let length = serde_json::to_string(&payload).map_or(0, |text| text.len());
    let key = request
        .idempotency_key()
        .unwrap_or_else(|| format!("{}/{}", request.state_name, request.retry_count));
    let (a, b) = (
        fnv(&key, 0xcbf2_9ce4_8422_2325),
        fnv(&key, 0x6c62_272e_07bb_0142),
    );
    let request_id = format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    );
    let entered = request
        .context()
        .pointer("/State/EnteredTime")
        .and_then(Value::as_str)
        .and_then(crate::timestamp::parse_rfc3339)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let date = http_date(entered);
    let seconds = entered
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let trace = format!(
        "Root=1-{:08x}-{:016x}{:08x};Sampled=0",
        seconds & 0xffff_ffff,
        b,
        a & 0xffff_ffff
    );
    let headers: [(&str, String); 8] = [
        ("X-Amz-Executed-Version", "$LATEST".into()),
        ("x-amzn-Remapped-Content-Length", "0".into()),
        ("Connection", "keep-alive".into()),
        ("x-amzn-RequestId", request_id.clone()),
        ("Content-Length", length.to_string()),
        ("Date", date),
        ("X-Amzn-Trace-Id", trace),
        ("Content-Type", "application/json".into()),
    ];
    let all: Map<String, Value> = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!([v])))
        .collect();
    let mut sorted = headers.clone();
    sorted.sort_by_key(|(k, _)| k.to_ascii_lowercase());
    let single: Map<String, Value> = sorted
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::String(v)))
        .collect();
    json!({
        "ExecutedVersion": "$LATEST",
        "Payload": payload,
        "SdkHttpMetadata": {
            "AllHttpHeaders": all,
            "HttpHeaders": single,
            "HttpStatusCode": 200
        },
        "SdkResponseMetadata": {"RequestId": request_id},
        "StatusCode": 200
    })
}

/// FNV-1a of `text` from `basis`.
fn fnv(text: &str, basis: u64) -> u64 {
    text.bytes().fold(basis, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// An HTTP date (RFC 7231 IMF-fixdate): `Fri, 04 Dec 2026 03:09:12 GMT`.
/// A time outside what the `time` crate holds gives an empty string.
fn http_date(at: SystemTime) -> String {
    let seconds = match at.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    };
    let Ok(at) = time::OffsetDateTime::from_unix_timestamp(seconds) else {
        return String::new();
    };
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    at.format(&format).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_are_imf_fixdates() {
        let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_796_353_752);
        assert_eq!(http_date(at), "Fri, 04 Dec 2026 03:09:12 GMT");
    }
}
