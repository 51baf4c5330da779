//! The Task state (and its `Credentials`): its model, allowed fields, parser and serializer.

use crate::definition::fields::{
    as_object, assign, dynamic, integer, io, optional, type_name, unsupported,
};
use crate::definition::parse::{Cx, Object};
use crate::definition::raw::RawState;
use crate::definition::ser;
use crate::definition::states::handlers::result_handling;
use crate::definition::{
    Assign, Dynamic, IntegrationPattern, Io, JsonataExpression, QueryLanguage, Resource,
    ResourceKind, ResultHandling, StateMachineType, Transition,
};
use crate::jsonpath::template::Expression;
use serde_json::Value;

/// `Credentials` of a Task.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct Credentials {
    /// `RoleArn` (a literal ARN, or a JSONata expression in JSONata
    /// states) or `RoleArn.$` (a path or an intrinsic call).
    pub role_arn: Dynamic<String, Expression>,
}

impl Credentials {
    /// Credentials assuming the role `role_arn`.
    pub fn new(role_arn: Dynamic<String, Expression>) -> Credentials {
        Credentials { role_arn }
    }
}

/// A Task state.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    /// `Resource`.
    pub resource: Resource,
    /// `Next` / `End`.
    pub transition: Transition,
    /// `InputPath`, `OutputPath`, `Parameters` / `Arguments`, `Output`.
    pub io: Io,
    /// `ResultSelector`, `ResultPath`, `Retry`, `Catch`.
    pub result_handling: ResultHandling,
    /// `TimeoutSeconds` / `TimeoutSecondsPath`.
    pub timeout_seconds: Option<Dynamic<u64>>,
    /// `HeartbeatSeconds` / `HeartbeatSecondsPath`.
    pub heartbeat_seconds: Option<Dynamic<u64>>,
    /// `Credentials`.
    pub credentials: Option<Credentials>,
    /// `Assign`.
    pub assign: Option<Assign>,
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

/// Refuses a service integration AWS does not offer, with AWS's message
/// (recorded for `arn:aws:states:::dynamodb:query`; the same text for an
/// unknown action or pattern is inferred).
fn recognized_check(cx: &mut Cx, resource: &Resource, loc: &str) -> bool {
    if resource.recognized() {
        return true;
    }
    cx.schema(
        format!(
            "The resource provided {} is not recognized. The value is not a valid resource ARN, or the resource is not available in this region.",
            resource.arn
        ),
        format!("{loc}/Resource"),
    );
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
        ok &= express_check(cx, r, loc) && recognized_check(cx, r, loc);
    }
    let io = io(cx, raw, ql, true, loc);
    let result_handling = result_handling(cx, raw, ql, loc);
    let timeout = dynamic(
        cx,
        obj,
        ("TimeoutSeconds", "TimeoutSecondsPath"),
        ql,
        loc,
        integer(1, Some(99_999_999)),
    );
    let heartbeat = dynamic(
        cx,
        obj,
        ("HeartbeatSeconds", "HeartbeatSecondsPath"),
        ql,
        loc,
        integer(1, Some(99_999_999)),
    );
    let credentials = optional(raw.credentials.as_ref(), |v| {
        credentials(cx, v, ql, &format!("{loc}/Credentials"))
    });
    let assign = assign(cx, raw.assign.as_ref(), ql, loc);
    if !ok {
        return None;
    }
    Some(Task {
        resource: resource?,
        transition,
        io: io?,
        result_handling: result_handling?,
        timeout_seconds: timeout?,
        heartbeat_seconds: heartbeat?,
        credentials: credentials?,
        assign: assign?,
    })
}

pub(crate) fn credentials(
    cx: &mut Cx,
    v: &Value,
    ql: QueryLanguage,
    loc: &str,
) -> Option<Credentials> {
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
        (Some(Value::String(s)), None) => Some(Credentials::new(
            match JsonataExpression::parse(s).filter(|_| ql == QueryLanguage::Jsonata) {
                Some(e) => Dynamic::Jsonata(e),
                None => Dynamic::Literal(s.clone()),
            },
        )),
        (None, Some(Value::String(s))) => match Expression::parse(s) {
            Ok(e) => Some(Credentials::new(Dynamic::Path(e))),
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

/// The state's own fields as ASL JSON (into `m`, after `Type`, `Comment`
/// and `QueryLanguage`).
pub(crate) fn write(m: &mut Object, t: &Task) {
    m.insert("Resource".into(), Value::from(t.resource.arn.as_str()));
    ser::transition(m, &t.transition);
    ser::io(m, &t.io);
    ser::result_handling(m, &t.result_handling);
    let timeout = t.timeout_seconds.as_ref();
    ser::dynamic(m, "TimeoutSeconds", "TimeoutSecondsPath", timeout);
    let heartbeat = t.heartbeat_seconds.as_ref();
    ser::dynamic(m, "HeartbeatSeconds", "HeartbeatSecondsPath", heartbeat);
    if let Some(c) = &t.credentials {
        let mut o = Object::new();
        ser::dynamic(&mut o, "RoleArn", "RoleArn.$", Some(&c.role_arn));
        m.insert("Credentials".into(), Value::Object(o));
    }
    ser::assign(m, &t.assign);
    ser::io_jsonata(m, &t.io);
}
