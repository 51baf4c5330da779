//! The Choice state: its model, allowed fields, parser and serializer.

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

/// A Choice state.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    /// `Choices`, in order.
    pub choices: Vec<ChoiceRule>,
    /// `Default`.
    pub default: Option<String>,
    /// `InputPath`, `OutputPath` / `Output`.
    pub io: Io,
    /// `Assign`.
    pub assign: Option<Assign>,
}

/// The fields a Choice state allows besides `Type`, `Comment` and `QueryLanguage`.
pub(crate) const FIELDS: &[&str] = &[
    "Choices",
    "Default",
    "InputPath",
    "OutputPath",
    "Assign",
    "Output",
];

pub(crate) fn choice(cx: &mut Cx, raw: &RawState, ql: QueryLanguage, loc: &str) -> Option<Choice> {
    let io = io(cx, raw, ql, false, loc);
    let mut rules = Vec::new();
    let mut ok = true;
    match &raw.choices {
        Some(list) if list.is_empty() => {
            cx.schema(
                "Field 'Choices' must contain at least one rule",
                format!("{loc}/Choices"),
            );
            ok = false;
        }
        Some(list) => {
            for (i, v) in list.iter().enumerate() {
                match ChoiceRule::compile(
                    v,
                    &format!("{loc}/Choices[{i}]"),
                    ql == QueryLanguage::Jsonata,
                ) {
                    Ok(rule) => rules.push(rule),
                    Err(diags) => {
                        cx.diags.extend(diags);
                        ok = false;
                    }
                }
            }
        }
        None => ok = false,
    }
    let assign = assign(cx, raw.assign.as_ref(), ql, loc);
    if !ok {
        return None;
    }
    Some(Choice {
        choices: rules,
        default: raw.default.clone(),
        io: io?,
        assign: assign?,
    })
}

/// The state's own fields as ASL JSON (into `m`, after `Type`, `Comment`
/// and `QueryLanguage`).
pub(crate) fn write(m: &mut Object, c: &Choice) {
    let rules = c.choices.iter().map(|r| r.to_value()).collect();
    m.insert("Choices".into(), Value::Array(rules));
    ser::put(m, "Default", c.default.clone());
    ser::io(m, &c.io);
    ser::assign(m, &c.assign);
    ser::io_jsonata(m, &c.io);
}
