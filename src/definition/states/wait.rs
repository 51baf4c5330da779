//! The Wait state: its model, allowed fields, parser and serializer.

use crate::definition::fields::{
    assign, exclusive, int_field, io, reference_path, type_name, NO_CONTEXT,
};
use crate::definition::parse::{is_jsonata, Cx, Object};
use crate::definition::raw::RawState;
use crate::definition::ser;
use crate::definition::{Assign, Dynamic, Io, JsonataExpression, QueryLanguage, Transition};
use serde_json::Value;

/// How long a Wait state waits.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub enum WaitFor {
    /// `Seconds` / `SecondsPath`.
    Seconds(Dynamic<u64>),
    /// `Timestamp` (RFC 3339, as written) / `TimestampPath`.
    Timestamp(Dynamic<String>),
}

/// A Wait state.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct Wait {
    /// The duration or deadline.
    pub wait: WaitFor,
    /// `Next` / `End`.
    pub transition: Transition,
    /// `InputPath`, `OutputPath` / `Output`.
    pub io: Io,
    /// `Assign`.
    pub assign: Option<Assign>,
}

/// The fields a Wait state allows besides `Type`, `Comment` and `QueryLanguage`.
pub(crate) const FIELDS: &[&str] = &[
    "Next",
    "End",
    "Seconds",
    "Timestamp",
    "SecondsPath",
    "TimestampPath",
    "InputPath",
    "OutputPath",
    "Assign",
    "Output",
];

pub(crate) fn rfc3339(text: &str) -> bool {
    crate::timestamp::is_rfc3339(text)
}

pub(crate) fn wait(
    cx: &mut Cx,
    raw: &RawState,
    obj: &Object,
    ql: QueryLanguage,
    transition: Transition,
    loc: &str,
) -> Option<Wait> {
    let io = io(cx, raw, ql, false, loc);
    let fields = ["Seconds", "Timestamp", "SecondsPath", "TimestampPath"];
    let present = fields.iter().filter(|f| obj.contains_key(**f)).count();
    let wait_for = if present == 0 {
        cx.schema(
            "exactly one of the fields [Seconds, Timestamp, SecondsPath, TimestampPath] is required",
            loc,
        );
        None
    } else if !exclusive(cx, obj, &fields, loc) {
        None
    } else if let Some(v) = &raw.seconds {
        match v {
            Value::String(s) if ql == QueryLanguage::Jsonata && is_jsonata(s) => {
                JsonataExpression::parse(s).map(|e| WaitFor::Seconds(Dynamic::Jsonata(e)))
            }
            v => int_field(cx, v, 0, Some(99_999_999), &format!("{loc}/Seconds"))
                .map(|n| WaitFor::Seconds(Dynamic::Literal(n))),
        }
    } else if let Some(v) = &raw.timestamp {
        let at = format!("{loc}/Timestamp");
        match v {
            Value::String(s) if ql == QueryLanguage::Jsonata && is_jsonata(s) => {
                JsonataExpression::parse(s).map(|e| WaitFor::Timestamp(Dynamic::Jsonata(e)))
            }
            Value::String(s) if rfc3339(s) => Some(WaitFor::Timestamp(Dynamic::Literal(s.clone()))),
            Value::String(_) => {
                cx.schema("String does not match RFC3339 timestamp", at);
                None
            }
            other => {
                cx.schema(format!("expected a string, found {}", type_name(other)), at);
                None
            }
        }
    } else if let Some(p) = &raw.seconds_path {
        reference_path(cx, p, NO_CONTEXT, &format!("{loc}/SecondsPath"))
            .map(|p| WaitFor::Seconds(Dynamic::Path(p)))
    } else if let Some(p) = &raw.timestamp_path {
        reference_path(cx, p, NO_CONTEXT, &format!("{loc}/TimestampPath"))
            .map(|p| WaitFor::Timestamp(Dynamic::Path(p)))
    } else {
        None
    };
    let assign = assign(cx, raw.assign.as_ref(), ql, loc);
    Some(Wait {
        wait: wait_for?,
        transition,
        io: io?,
        assign: assign?,
    })
}

/// The state's own fields as ASL JSON (into `m`, after `Type`, `Comment`
/// and `QueryLanguage`).
pub(crate) fn write(m: &mut Object, w: &Wait) {
    match &w.wait {
        WaitFor::Seconds(d) => ser::dynamic(m, "Seconds", "SecondsPath", Some(d)),
        WaitFor::Timestamp(d) => ser::dynamic(m, "Timestamp", "TimestampPath", Some(d)),
    }
    ser::transition(m, &w.transition);
    ser::io(m, &w.io);
    ser::assign(m, &w.assign);
    ser::io_jsonata(m, &w.io);
}
