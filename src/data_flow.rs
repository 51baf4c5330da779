//! The JSONPath data-flow pipeline, as synchronous functions:
//! InputPath -> Parameters -> (work) -> ResultSelector -> ResultPath -> OutputPath.
//!
//! Errors carry AWS's error name and the cause *without* the
//! `An error occurred while executing the state ...` prefix, which the
//! engine adds because only it knows the state and event id.
//!
//! SKELETON: signatures are the contract; bodies are filled in by the data-flow work.

use crate::error::StatesError;
use crate::path::{Path, ReferencePath, Scope};
use crate::template::PayloadTemplate;
use serde_json::Value;

/// InputPath: `None` (`"InputPath": null`) gives `{}`; `$` gives the whole
/// input. A path matching nothing is `States.Runtime`
/// (`Invalid path '$.x' : No results for path: $['x']`).
pub fn input_path(
    _path: Option<&Path>,
    _input: &Value,
    _scope: &Scope<'_>,
) -> Result<Value, StatesError> {
    todo!()
}

/// Like [`input_path`], consuming the input (no copy for `$`).
pub fn input_path_owned(
    _path: Option<&Path>,
    _input: Value,
    _scope: &Scope<'_>,
) -> Result<Value, StatesError> {
    todo!()
}

/// Parameters / ItemSelector / ResultSelector: builds the payload from the
/// template over `data`; no template passes `data` through.
pub fn apply_template(
    _template: Option<&PayloadTemplate>,
    _data: Value,
    _scope: &Scope<'_>,
) -> Result<Value, StatesError> {
    todo!()
}

/// ResultPath: `None` (`null`) keeps `raw_input`; `$` gives `result`; a
/// deeper path writes `result` into `raw_input`
/// (`States.ResultPathMatchFailure` when it cannot).
pub fn result_path(
    _path: Option<&ReferencePath>,
    _raw_input: Value,
    _result: Value,
) -> Result<Value, StatesError> {
    todo!()
}

/// OutputPath: `None` (`null`) gives `{}`; `$` passes through.
pub fn output_path(
    _path: Option<&Path>,
    _output: Value,
    _scope: &Scope<'_>,
) -> Result<Value, StatesError> {
    todo!()
}
