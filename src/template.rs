//! Payload templates (`Parameters`, `ItemSelector`, `ResultSelector`,
//! `Assign`, `Credentials`): JSON with `.$` keys whose values are paths or
//! intrinsic calls, compiled once when the definition is loaded.
//!
//! SKELETON: signatures are the contract; bodies are filled in by the data-flow work.

use crate::error::StatesError;
use crate::intrinsics::IntrinsicCall;
use crate::path::{Env, Path};
use serde_json::Value;

/// The value of a `.$` key: a Path (`$.a`, `$$.Execution.Id`, `$var`) or an
/// intrinsic call (`States.Format('{}', $.a)`).
#[derive(Clone, Debug, PartialEq)]
pub enum Expression {
    /// A Path.
    Path(Path),
    /// An intrinsic function call.
    Intrinsic(IntrinsicCall),
}

impl Expression {
    /// Parses the text of a `.$` value.
    pub fn parse(_text: &str) -> Result<Expression, String> {
        todo!()
    }
    /// The text as written.
    pub fn as_str(&self) -> &str {
        todo!()
    }
    /// Evaluates against `env`; `field` is the key as written (`value.$`)
    /// for AWS's cause strings.
    pub fn eval(&self, _env: &Env<'_>, _field: &str) -> Result<Value, StatesError> {
        todo!()
    }
}

/// A template problem found at load time, at a JSON-pointer-like location
/// relative to the template (`/a/b.$`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateError {
    /// Location inside the template, `""` for the template itself.
    pub location: String,
    /// What is wrong.
    pub message: String,
}

/// A compiled payload template.
#[derive(Clone, Debug, PartialEq)]
pub struct PayloadTemplate {
    _todo: (),
}

impl PayloadTemplate {
    /// Compiles a template, reporting every problem.
    pub fn compile(_value: &Value) -> Result<PayloadTemplate, Vec<TemplateError>> {
        todo!()
    }
    /// The template as written.
    pub fn to_value(&self) -> Value {
        todo!()
    }
    /// Builds the payload.
    pub fn eval(&self, _env: &Env<'_>) -> Result<Value, StatesError> {
        todo!()
    }
}
