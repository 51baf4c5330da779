//! The 18 intrinsic functions (`States.Format`, `States.Hash`, ...): the
//! call grammar, one table of (name, arity, function), the functions.
//!
//! SKELETON: signatures are the contract; bodies are filled in by the intrinsics work.

use crate::error::StatesError;
use crate::path::Env;
use serde_json::Value;
use std::fmt;

/// An intrinsic call that failed to parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntrinsicSyntaxError {
    /// The call text.
    pub text: String,
    /// What is wrong, lowercase.
    pub message: String,
}

impl fmt::Display for IntrinsicSyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid intrinsic function call `{}`: {}",
            self.text, self.message
        )
    }
}

impl std::error::Error for IntrinsicSyntaxError {}

/// A parsed intrinsic call, arguments included (nested calls, paths, literals).
#[derive(Clone, Debug, PartialEq)]
pub struct IntrinsicCall {
    _todo: (),
}

impl IntrinsicCall {
    /// True when `text` is meant as an intrinsic call (starts with `States.`).
    pub fn looks_like_call(text: &str) -> bool {
        text.starts_with("States.")
    }
    /// Parses a call.
    pub fn parse(_text: &str) -> Result<IntrinsicCall, IntrinsicSyntaxError> {
        todo!()
    }
    /// The call as written.
    pub fn as_str(&self) -> &str {
        todo!()
    }
    /// Evaluates the call.
    pub fn eval(&self, _env: &Env<'_>) -> Result<Value, StatesError> {
        todo!()
    }
}
