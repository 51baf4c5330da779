//! The Fail state: its model, allowed fields, parser and serializer.

use crate::definition::fields::exclusive;
use crate::definition::parse::{Cx, Object};
use crate::definition::raw::RawState;
use crate::definition::ser;
use crate::definition::{Dynamic, JsonataExpression, QueryLanguage};
use crate::jsonpath::template::Expression;

/// A Fail state.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct Fail {
    /// `Error` / `ErrorPath` (a Reference Path or an intrinsic call).
    pub error: Option<Dynamic<String, Expression>>,
    /// `Cause` / `CausePath` (a Reference Path or an intrinsic call).
    pub cause: Option<Dynamic<String, Expression>>,
}

/// The fields a Fail state allows besides `Type`, `Comment` and `QueryLanguage`.
pub(crate) const FIELDS: &[&str] = &["Error", "ErrorPath", "Cause", "CausePath"];

pub(crate) fn fail_field(
    cx: &mut Cx,
    literal: Option<&String>,
    path: Option<&String>,
    path_field: &str,
    ql: QueryLanguage,
    loc: &str,
) -> Option<Option<Dynamic<String, Expression>>> {
    if let Some(s) = literal {
        if ql == QueryLanguage::Jsonata {
            if let Some(e) = JsonataExpression::parse(s) {
                return Some(Some(Dynamic::Jsonata(e)));
            }
        }
        return Some(Some(Dynamic::Literal(s.clone())));
    }
    let text = match path {
        None => return Some(None),
        Some(t) => t,
    };
    let at = format!("{loc}/{path_field}");
    match Expression::parse(text) {
        Ok(Expression::Path(p)) if p.as_reference().is_none() => {
            cx.schema("Value is not a Reference Path", at);
            None
        }
        Ok(e) => Some(Some(Dynamic::Path(e))),
        Err(message) => {
            cx.schema(message, at);
            None
        }
    }
}

pub(crate) fn fail(
    cx: &mut Cx,
    raw: &RawState,
    obj: &Object,
    ql: QueryLanguage,
    loc: &str,
) -> Option<Fail> {
    let a = exclusive(cx, obj, &["Error", "ErrorPath"], loc);
    let b = exclusive(cx, obj, &["Cause", "CausePath"], loc);
    let error = fail_field(
        cx,
        raw.error.as_ref(),
        raw.error_path.as_ref(),
        "ErrorPath",
        ql,
        loc,
    );
    let cause = fail_field(
        cx,
        raw.cause.as_ref(),
        raw.cause_path.as_ref(),
        "CausePath",
        ql,
        loc,
    );
    if !(a && b) {
        return None;
    }
    Some(Fail {
        error: error?,
        cause: cause?,
    })
}

/// The state's own fields as ASL JSON (into `m`, after `Type`, `Comment`
/// and `QueryLanguage`).
pub(crate) fn write(m: &mut Object, f: &Fail) {
    ser::dynamic(m, "Error", "ErrorPath", f.error.as_ref());
    ser::dynamic(m, "Cause", "CausePath", f.cause.as_ref());
}
