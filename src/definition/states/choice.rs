//! The Choice state: its model, allowed fields, parser and serializer.

use crate::definition::fields::{assign, io};
use crate::definition::parse::{Cx, Object};
use crate::definition::raw::RawState;
use crate::definition::ser;
use crate::definition::{Assign, Io, JsonataExpression, JsonataTemplate, QueryLanguage};
use crate::jsonpath::choice::ChoiceRule;
use serde_json::Value;

/// `Choices`, in the state's query language, in order.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub enum ChoiceRules {
    /// JSONPath rules: data tests and `And`/`Or`/`Not`, compiled.
    JsonPath(Vec<ChoiceRule>),
    /// JSONata rules: a `Condition` each.
    Jsonata(Vec<JsonataChoiceRule>),
}

impl ChoiceRules {
    /// The JSONPath rules (none in a JSONata state).
    pub(crate) fn json_path(&self) -> &[ChoiceRule] {
        match self {
            ChoiceRules::JsonPath(rules) => rules,
            ChoiceRules::Jsonata(_) => &[],
        }
    }

    /// The `Next` of every rule, in order.
    pub(crate) fn nexts(&self) -> Vec<&str> {
        match self {
            ChoiceRules::JsonPath(rules) => rules.iter().map(|r| r.next.as_str()).collect(),
            ChoiceRules::Jsonata(rules) => rules.iter().map(|r| r.next.as_str()).collect(),
        }
    }

    /// The rules as written.
    fn to_value(&self) -> Value {
        Value::Array(match self {
            ChoiceRules::JsonPath(rules) => rules.iter().map(ChoiceRule::to_value).collect(),
            ChoiceRules::Jsonata(rules) => rules.iter().map(JsonataChoiceRule::to_value).collect(),
        })
    }
}

/// The `Condition` of a JSONata choice rule.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub enum JsonataCondition {
    /// `true` or `false`.
    Literal(bool),
    /// A `{% %}` expression.
    Expression(JsonataExpression),
}

/// One rule of `Choices` in a JSONata state.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct JsonataChoiceRule {
    /// `Condition`.
    pub condition: JsonataCondition,
    /// `Next`.
    pub next: String,
    /// `Assign`, applied when the rule matches.
    pub assign: Option<JsonataTemplate>,
    /// `Output`, when the rule matches.
    pub output: Option<JsonataTemplate>,
    /// `Comment`.
    pub comment: Option<String>,
}

impl JsonataChoiceRule {
    /// The rule of `value`, an object that `ChoiceRule::compile` accepted
    /// under JSONata (its checks and diagnostics are AWS's).
    fn from_checked(value: &Value) -> Option<JsonataChoiceRule> {
        let condition = match value.get("Condition")? {
            Value::Bool(b) => JsonataCondition::Literal(*b),
            // `compile` allows whitespace around the delimiters here
            Value::String(s) => JsonataCondition::Expression(JsonataExpression::parse_padded(s)?),
            _ => return None,
        };
        Some(JsonataChoiceRule {
            condition,
            next: value.get("Next")?.as_str()?.to_owned(),
            assign: value.get("Assign").cloned().map(JsonataTemplate::new),
            output: value.get("Output").cloned().map(JsonataTemplate::new),
            comment: value
                .get("Comment")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }

    fn to_value(&self) -> Value {
        let mut m = Object::new();
        let condition = match &self.condition {
            JsonataCondition::Literal(b) => Value::Bool(*b),
            JsonataCondition::Expression(e) => Value::from(e.as_str()),
        };
        m.insert("Condition".into(), condition);
        m.insert("Next".into(), Value::from(self.next.as_str()));
        ser::put(&mut m, "Assign", self.assign.as_ref().map(|a| a.to_value()));
        ser::put(&mut m, "Output", self.output.as_ref().map(|o| o.to_value()));
        ser::put(&mut m, "Comment", self.comment.clone());
        Value::Object(m)
    }
}

/// A Choice state.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    /// `Choices`.
    pub choices: ChoiceRules,
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
    let mut jsonata_rules = Vec::new();
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
                    Ok(_) if ql == QueryLanguage::Jsonata => {
                        match JsonataChoiceRule::from_checked(v) {
                            Some(rule) => jsonata_rules.push(rule),
                            None => ok = false,
                        }
                    }
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
    let choices = match ql {
        QueryLanguage::JsonPath => ChoiceRules::JsonPath(rules),
        QueryLanguage::Jsonata => ChoiceRules::Jsonata(jsonata_rules),
    };
    Some(Choice {
        choices,
        default: raw.default.clone(),
        io: io?,
        assign: assign?,
    })
}

/// The state's own fields as ASL JSON (into `m`, after `Type`, `Comment`
/// and `QueryLanguage`).
pub(crate) fn write(m: &mut Object, c: &Choice) {
    m.insert("Choices".into(), c.choices.to_value());
    ser::put(m, "Default", c.default.clone());
    ser::io(m, &c.io);
    ser::assign(m, &c.assign);
    ser::io_jsonata(m, &c.io);
}
