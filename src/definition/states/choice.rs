//! The Choice state: its model, allowed fields, parser and serializer.

use crate::definition::fields::{assign, io};
use crate::definition::parse::{Cx, Object};
use crate::definition::raw::RawState;
use crate::definition::ser;
use crate::definition::{Assign, Io, QueryLanguage};
use crate::jsonpath::choice::ChoiceRule;
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
