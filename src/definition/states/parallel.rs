//! The Parallel state: its model, allowed fields, parser and serializer.

use crate::definition::fields::{assign, io, opt_template};
use crate::definition::parse::{nested, Cx, Object};
use crate::definition::raw::RawState;
use crate::definition::ser;
use crate::definition::states::handlers::result_handling;
use crate::definition::{Assign, Io, QueryLanguage, ResultHandling, SubMachine, Transition};
use serde_json::Value;

/// A Parallel state.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct Parallel {
    /// `Branches`.
    pub branches: Vec<SubMachine>,
    /// `Next` / `End`.
    pub transition: Transition,
    /// `InputPath`, `OutputPath`, `Parameters` / `Arguments`, `Output`.
    pub io: Io,
    /// `ResultSelector`, `ResultPath`, `Retry`, `Catch`.
    pub result_handling: ResultHandling,
    /// `Assign`.
    pub assign: Option<Assign>,
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
    let io = io(cx, raw, ql, false, loc);
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
    let result_handling = result_handling(cx, raw, ql, loc);
    let assign = assign(cx, raw.assign.as_ref(), ql, loc);
    if !ok {
        return None;
    }
    Some(Parallel {
        branches,
        transition,
        // Parameters are read after the branches, as AWS reports them.
        io: io?.with_parameters(parameters?),
        result_handling: result_handling?,
        assign: assign?,
    })
}

/// The state's own fields as ASL JSON (into `m`, after `Type`, `Comment`
/// and `QueryLanguage`).
pub(crate) fn write(m: &mut Object, p: &Parallel) {
    let branches = p.branches.iter().map(ser::sub).collect();
    m.insert("Branches".into(), Value::Array(branches));
    ser::transition(m, &p.transition);
    ser::io(m, &p.io);
    ser::result_handling(m, &p.result_handling);
    ser::assign(m, &p.assign);
    ser::io_jsonata(m, &p.io);
}
