//! The Task state (and its `Credentials`): its model, allowed fields, parser and serializer.

#[allow(unused_imports)]
use crate::definition::fields::*;
#[allow(unused_imports)]
use crate::definition::parse::{is_jsonata, nested, Cx, Object, SCHEMA};
#[allow(unused_imports)]
use crate::definition::raw::*;
#[allow(unused_imports)]
use crate::definition::states::handlers::{after_work, AfterWork};
#[allow(unused_imports)]
use crate::definition::*;
#[allow(unused_imports)]
use crate::error::{Diagnostic, ErrorName};
#[allow(unused_imports)]
use crate::jsonpath::choice::ChoiceRule;
#[allow(unused_imports)]
use crate::jsonpath::path::{Path, ReferencePath};
#[allow(unused_imports)]
use crate::jsonpath::template::{Expression, PayloadTemplate};
use serde_json::Value;

/// `Credentials` of a Task.
#[derive(Clone, Debug, PartialEq)]
pub enum Credentials {
    /// `{"RoleArn": "<arn>"}` (or a JSONata expression, kept as written).
    RoleArn(String),
    /// `{"RoleArn.$": <path or intrinsic>}`.
    RoleArnPath(Expression),
}

/// A Task state.
#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    /// `Resource`.
    pub resource: Resource,
    /// `Next` / `End`.
    pub transition: Transition,
    /// `InputPath` / `OutputPath`.
    pub io: Io,
    /// `Parameters`.
    pub parameters: Option<PayloadTemplate>,
    /// `ResultSelector`.
    pub result_selector: Option<PayloadTemplate>,
    /// `ResultPath` (`None` = `null`).
    pub result_path: Option<ReferencePath>,
    /// `Retry`.
    pub retry: Vec<Retrier>,
    /// `Catch`.
    pub catch: Vec<Catcher>,
    /// `TimeoutSeconds` / `TimeoutSecondsPath`.
    pub timeout_seconds: Option<NumberOrPath<u64>>,
    /// `HeartbeatSeconds` / `HeartbeatSecondsPath`.
    pub heartbeat_seconds: Option<NumberOrPath<u64>>,
    /// `Credentials`.
    pub credentials: Option<Credentials>,
    /// `Assign`.
    pub assign: Option<Assign>,
    /// JSONata `Arguments`.
    pub arguments: Option<Value>,
    /// JSONata `Output`.
    pub output: Option<Value>,
}

/// The fields a Task state allows besides `Type`, `Comment` and `QueryLanguage`.
pub(crate) const FIELDS: &[&str] = &[
    "Next",
    "End",
    "Resource",
    "InputPath",
    "OutputPath",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "Retry",
    "Catch",
    "TimeoutSeconds",
    "TimeoutSecondsPath",
    "HeartbeatSeconds",
    "HeartbeatSecondsPath",
    "Credentials",
    "Assign",
    "Arguments",
    "Output",
];

pub(crate) fn express_check(cx: &mut Cx, resource: &Resource, loc: &str) -> bool {
    if cx.machine_type != Some(StateMachineType::Express) {
        return true;
    }
    let at = format!("{loc}/Resource");
    let message = match (&resource.kind, resource.pattern()) {
        (ResourceKind::Activity { .. }, _) => {
            "Express state machine does not support Activity ARN".to_owned()
        }
        (_, IntegrationPattern::RequestResponse) => return true,
        (_, pattern) => format!(
            "Express state machine does not support '{}' service integration ",
            pattern.suffix()
        ),
    };
    cx.schema(message, at);
    false
}

pub(crate) fn task(
    cx: &mut Cx,
    raw: &RawState,
    obj: &Object,
    ql: QueryLanguage,
    transition: Transition,
    loc: &str,
) -> Option<Task> {
    let resource = raw.resource.as_deref().map(Resource::parse);
    let mut ok = resource.is_some();
    if let Some(r) = &resource {
        ok &= express_check(cx, r, loc);
    }
    let io = io(cx, raw, loc);
    let parameters = opt_template(cx, raw.parameters.as_ref(), &format!("{loc}/Parameters"));
    let after = after_work(cx, raw, ql, loc);
    let timeout = number_or_path(
        cx,
        obj,
        ("TimeoutSeconds", "TimeoutSecondsPath"),
        ql,
        loc,
        integer(1, Some(99_999_999)),
    );
    let heartbeat = number_or_path(
        cx,
        obj,
        ("HeartbeatSeconds", "HeartbeatSecondsPath"),
        ql,
        loc,
        integer(1, Some(99_999_999)),
    );
    let credentials = optional(raw.credentials.as_ref(), |v| {
        credentials(cx, v, &format!("{loc}/Credentials"))
    });
    let assign = assign(cx, raw.assign.as_ref(), ql, loc);
    if !ok {
        return None;
    }
    let AfterWork {
        result_selector,
        result_path,
        retry,
        catch,
    } = after?;
    Some(Task {
        resource: resource?,
        transition,
        io: io?,
        parameters: parameters?,
        result_selector,
        result_path,
        retry,
        catch,
        timeout_seconds: timeout?,
        heartbeat_seconds: heartbeat?,
        credentials: credentials?,
        assign: assign?,
        arguments: raw.arguments.clone(),
        output: raw.output.clone(),
    })
}

pub(crate) fn credentials(cx: &mut Cx, v: &Value, loc: &str) -> Option<Credentials> {
    let obj = as_object(cx, v, loc)?;
    let result = match (obj.get("RoleArn"), obj.get("RoleArn.$")) {
        (None, None) => {
            cx.schema("The field 'RoleArn' is required but was missing", loc);
            return None;
        }
        (Some(_), Some(_)) => {
            cx.schema(
                "There should only be one of the following fields: [RoleArn, RoleArn.$]",
                loc,
            );
            None
        }
        (Some(Value::String(s)), None) => Some(Credentials::RoleArn(s.clone())),
        (None, Some(Value::String(s))) => match Expression::parse(s) {
            Ok(e) => Some(Credentials::RoleArnPath(e)),
            Err(message) => {
                cx.schema(message, format!("{loc}/RoleArn.$"));
                None
            }
        },
        (Some(other), None) | (None, Some(other)) => {
            cx.schema(
                format!("expected a string, found {}", type_name(other)),
                loc,
            );
            None
        }
    };
    let ok = unsupported(cx, obj, &[&["RoleArn", "RoleArn.$"]], loc);
    if ok {
        result
    } else {
        None
    }
}
