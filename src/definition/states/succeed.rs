//! The Succeed state: its model, allowed fields, parser and serializer.

#[allow(unused_imports)]
use crate::definition::fields::*;
#[allow(unused_imports)]
use crate::definition::parse::{is_jsonata, nested, Cx, Object, SCHEMA};
#[allow(unused_imports)]
use crate::definition::raw::*;
#[allow(unused_imports)]
use crate::definition::ser;
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
#[allow(unused_imports)]
use serde_json::Value;

/// A Succeed state.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct Succeed {
    /// `InputPath`, `OutputPath` / `Output`.
    pub io: Io,
}

/// The fields a Succeed state allows besides `Type`, `Comment` and `QueryLanguage`.
pub(crate) const FIELDS: &[&str] = &["InputPath", "OutputPath", "Output"];

pub(crate) fn succeed(
    cx: &mut Cx,
    raw: &RawState,
    ql: QueryLanguage,
    loc: &str,
) -> Option<Succeed> {
    io(cx, raw, ql, false, loc).map(|io| Succeed { io })
}

/// The state's own fields as ASL JSON (into `m`, after `Type`, `Comment`
/// and `QueryLanguage`).
pub(crate) fn write(m: &mut Object, s: &Succeed) {
    ser::io(m, &s.io);
    ser::io_jsonata(m, &s.io);
}
