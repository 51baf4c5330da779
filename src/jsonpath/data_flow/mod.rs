//! The JSONPath data-flow pipeline, as synchronous functions:
//! InputPath -> Parameters -> (work) -> ResultSelector -> ResultPath -> OutputPath.
//!
//! Errors carry AWS's error name and the cause *without* the
//! `An error occurred while executing the state ...` prefix, which the
//! engine adds because only it knows the state and event id.
//!
//! The payload moves through these functions: `$` costs nothing, a Reference
//! Path into the data moves the selected subtree out of its parent, and
//! ResultPath writes the result into the raw input in place.

use crate::error::{ErrorName, StatesError};
use crate::jsonpath::path::{Path, ReferencePath, Root, Scope};
use crate::jsonpath::template::PayloadTemplate;
use serde_json::{Map, Value};

fn path_failure(error: crate::jsonpath::path::PathError) -> StatesError {
    StatesError::runtime(error.to_string())
}

/// InputPath: `None` (`"InputPath": null`) gives `{}`; `$` gives the whole
/// input. A path matching nothing is `States.Runtime`
/// (`Invalid path '$.x' : No results for path: $['x']`).
pub fn input_path(
    path: Option<&Path>,
    input: &Value,
    scope: &Scope<'_>,
) -> Result<Value, StatesError> {
    match path {
        None => Ok(Value::Object(Map::new())),
        Some(path) => path
            .eval(&scope.env(input))
            .map(|v| v.into_owned())
            .map_err(path_failure),
    }
}

/// Like [`input_path`], consuming the input (no copy for `$`; a Reference
/// Path into the data moves the selected node out).
pub fn input_path_owned(
    path: Option<&Path>,
    input: Value,
    scope: &Scope<'_>,
) -> Result<Value, StatesError> {
    select_owned(path, input, scope)
}

fn select_owned(
    path: Option<&Path>,
    input: Value,
    scope: &Scope<'_>,
) -> Result<Value, StatesError> {
    let Some(path) = path else {
        return Ok(Value::Object(Map::new()));
    };
    if let Some(reference) = path.as_reference() {
        if *reference.root() == Root::Data {
            if reference.is_identity() {
                return Ok(input);
            }
            // Check first (for AWS's cause on a miss), then move the node out.
            reference.eval(&scope.env(&input)).map_err(path_failure)?;
            if let Some(selected) = reference.take(input) {
                return Ok(selected);
            }
            // `eval` found the node, so `take` cannot miss; stay total anyway.
            return Err(StatesError::runtime(format!(
                "Invalid path '{}' : the selected node could not be moved out",
                path.as_str()
            )));
        }
    }
    path.eval(&scope.env(&input))
        .map(|v| v.into_owned())
        .map_err(path_failure)
}

/// Parameters / ItemSelector / ResultSelector: builds the payload from the
/// template over `data`; no template passes `data` through.
pub fn apply_template(
    template: Option<&PayloadTemplate>,
    data: Value,
    scope: &Scope<'_>,
) -> Result<Value, StatesError> {
    match template {
        None => Ok(data),
        Some(template) => template.eval(&scope.env(&data)),
    }
}

/// ResultPath: `None` (`null`) keeps `raw_input`; `$` gives `result`; a
/// deeper path writes `result` into `raw_input`
/// (`States.ResultPathMatchFailure` when it cannot).
pub fn result_path(
    path: Option<&ReferencePath>,
    raw_input: Value,
    result: Value,
) -> Result<Value, StatesError> {
    let Some(path) = path else {
        return Ok(raw_input);
    };
    if path.is_identity() {
        return Ok(result);
    }
    let mut output = raw_input;
    match path.write(&mut output, result) {
        Ok(()) => Ok(output),
        Err(_) => Err(StatesError::new(
            ErrorName::ResultPathMatchFailure,
            result_path_cause(path.as_str(), &output),
        )),
    }
}

/// The cause of `States.ResultPathMatchFailure`:
/// `Unable to apply ReferencePath $.a.b to input "text"`.
pub fn result_path_cause(path: &str, input: &Value) -> String {
    format!("Unable to apply ReferencePath {path} to input {input}")
}

/// OutputPath: `None` (`null`) gives `{}`; `$` passes through.
pub fn output_path(
    path: Option<&Path>,
    output: Value,
    scope: &Scope<'_>,
) -> Result<Value, StatesError> {
    select_owned(path, output, scope)
}

#[cfg(test)]
mod tests;
