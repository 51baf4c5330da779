//! The Succeed state: its model, allowed fields, parser and serializer.

#[allow(unused_imports)]
use crate::definition::fields::*;
#[allow(unused_imports)]
use crate::definition::parse::{is_jsonata, nested, Cx, Object, SCHEMA};
#[allow(unused_imports)]
use crate::definition::raw::*;
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
#[derive(Clone, Debug, PartialEq)]
pub struct Succeed {
    /// `InputPath` / `OutputPath`.
    pub io: Io,
    /// JSONata `Output`.
    pub output: Option<Value>,
}

/// The fields a Succeed state allows besides `Type`, `Comment` and `QueryLanguage`.
pub(crate) const FIELDS: &[&str] = &["InputPath", "OutputPath", "Output"];

pub(crate) fn succeed(cx: &mut Cx, raw: &RawState, loc: &str) -> Option<Succeed> {
    io(cx, raw, loc).map(|io| Succeed {
        io,
        output: raw.output.clone(),
    })
}
