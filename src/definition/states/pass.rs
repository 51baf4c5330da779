//! The Pass state: its model, allowed fields, parser and serializer.

use crate::definition::fields::{assign, has_dollar_key, io, reference_field, DATA_ONLY};
use crate::definition::parse::{Cx, Object};
use crate::definition::raw::RawState;
use crate::definition::ser;
use crate::definition::{Assign, Io, QueryLanguage, Transition};
use crate::jsonpath::path::ReferencePath;
use serde_json::Value;

/// A Pass state.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct Pass {
    /// `Next` / `End`.
    pub transition: Transition,
    /// `InputPath`, `OutputPath`, `Parameters` / `Output`.
    pub io: Io,
    /// `Result`: always literal.
    pub result: Option<Value>,
    /// `ResultPath` (JSONPath; `None` = `null`; `$` in JSONata states).
    pub result_path: Option<ReferencePath>,
    /// `Assign`.
    pub assign: Option<Assign>,
}

/// The fields a Pass state allows besides `Type`, `Comment` and `QueryLanguage`.
pub(crate) const FIELDS: &[&str] = &[
    "Next",
    "End",
    "InputPath",
    "OutputPath",
    "Parameters",
    "Result",
    "ResultPath",
    "Assign",
    "Output",
];

pub(crate) fn pass(
    cx: &mut Cx,
    raw: &RawState,
    ql: QueryLanguage,
    transition: Transition,
    loc: &str,
) -> Option<Pass> {
    let io = io(cx, raw, ql, true, loc);
    if let Some(result) = &raw.result {
        if has_dollar_key(result) {
            cx.warn(
                "PASS_RESULT_IS_STATIC",
                "The Result field of a Pass state is static: keys ending in '.$' are not evaluated; use Parameters instead",
                format!("{loc}/Result"),
            );
        }
    }
    let result_path = reference_field(cx, raw.result_path.as_ref(), "ResultPath", DATA_ONLY, loc);
    let assign = assign(cx, raw.assign.as_ref(), ql, loc);
    Some(Pass {
        transition,
        io: io?,
        result: raw.result.clone(),
        result_path: result_path?,
        assign: assign?,
    })
}

/// The state's own fields as ASL JSON (into `m`, after `Type`, `Comment`
/// and `QueryLanguage`).
pub(crate) fn write(m: &mut Object, p: &Pass) {
    ser::transition(m, &p.transition);
    ser::io(m, &p.io);
    ser::put(m, "Result", p.result.clone());
    ser::put(m, "ResultPath", ser::reference_value(&p.result_path));
    ser::assign(m, &p.assign);
    ser::io_jsonata(m, &p.io);
}
