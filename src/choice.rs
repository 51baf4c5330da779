//! Choice rules: compiled from JSON when the definition is loaded, evaluated
//! against data, context object and variables.
//!
//! SKELETON: signatures are the contract; bodies are filled in by the choice work.

use crate::error::{Diagnostic, StatesError};
use crate::path::Env;
use crate::template::PayloadTemplate;
use serde_json::Value;

/// A boolean condition: a data test, `And`/`Or`/`Not`, or a JSONata `Condition`.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    _todo: (),
}

impl Condition {
    /// Evaluates the condition (JSONPath rules; a JSONata condition is a
    /// `States.QueryEvaluationError` until JSONata is supported).
    pub fn eval(&self, _env: &Env<'_>) -> Result<bool, StatesError> {
        todo!()
    }
}

/// One entry of a Choice state's `Choices`.
#[derive(Clone, Debug, PartialEq)]
pub struct ChoiceRule {
    /// The condition.
    pub condition: Condition,
    /// Name of the state to go to when it matches.
    pub next: String,
    /// `Assign` of the rule (JSONPath template), applied when it matches.
    pub assign: Option<PayloadTemplate>,
    /// JSONata `Output` of the rule, kept as written.
    pub output: Option<Value>,
    /// `Comment`.
    pub comment: Option<String>,
}

impl ChoiceRule {
    /// Compiles one top-level rule found at `location`
    /// (`/States/C/Choices/0`); `jsonata` selects the rule grammar.
    pub fn compile(
        _value: &Value,
        _location: &str,
        _jsonata: bool,
    ) -> Result<ChoiceRule, Vec<Diagnostic>> {
        todo!()
    }
    /// The rule as written.
    pub fn to_value(&self) -> Value {
        todo!()
    }
}
