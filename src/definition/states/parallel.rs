//! The Parallel state: its model, allowed fields, parser and serializer.

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

/// A Parallel state.
#[derive(Clone, Debug, PartialEq)]
pub struct Parallel {
    /// `Branches`.
    pub branches: Vec<SubMachine>,
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
    /// `Assign`.
    pub assign: Option<Assign>,
    /// JSONata `Arguments`.
    pub arguments: Option<Value>,
    /// JSONata `Output`.
    pub output: Option<Value>,
}

/// The fields a Parallel state allows besides `Type`, `Comment` and `QueryLanguage`.
pub(crate) const FIELDS: &[&str] = &[
    "Next",
    "End",
    "Branches",
    "InputPath",
    "OutputPath",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "Retry",
    "Catch",
    "Assign",
    "Arguments",
    "Output",
];

pub(crate) fn parallel(
    cx: &mut Cx,
    raw: &RawState,
    ql: QueryLanguage,
    transition: Transition,
    loc: &str,
    depth: usize,
) -> Option<Parallel> {
    let io = io(cx, raw, loc);
    let mut ok = true;
    let mut branches = Vec::new();
    match &raw.branches {
        Some(list) if list.is_empty() => {
            cx.schema(
                "Field 'Branches' must contain at least one branch",
                format!("{loc}/Branches"),
            );
            ok = false;
        }
        Some(list) => {
            for (i, v) in list.iter().enumerate() {
                match nested(cx, v, &format!("{loc}/Branches[{i}]"), depth, false) {
                    Some((m, _)) => branches.push(m),
                    None => ok = false,
                }
            }
        }
        None => ok = false,
    }
    let parameters = opt_template(cx, raw.parameters.as_ref(), &format!("{loc}/Parameters"));
    let after = after_work(cx, raw, ql, loc);
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
    Some(Parallel {
        branches,
        transition,
        io: io?,
        parameters: parameters?,
        result_selector,
        result_path,
        retry,
        catch,
        assign: assign?,
        arguments: raw.arguments.clone(),
        output: raw.output.clone(),
    })
}
