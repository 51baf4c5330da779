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
use crate::json::{add, sub, Bounds, Measure, Payload};
use crate::jsonpath::path::reference::resolve_index;
use crate::jsonpath::path::{Path, ReferencePath, Root, Scope, Step};
use crate::jsonpath::template::PayloadTemplate;
use serde_json::{Map, Value};
use std::borrow::Cow;

// One implementation, with bounds: every step that moves or builds a
// payload also gives an upper bound of its size and depth (see
// `crate::json::Payload`). The public steps below are the same code with
// the bounds off (`Bounds::OFF`: nothing is measured).

fn path_failure(error: crate::jsonpath::path::PathError) -> StatesError {
    StatesError::runtime(error.to_string())
}

/// InputPath: `None` (`"InputPath": null`) gives `{}`; `$` gives the whole
/// input. A path matching nothing is `States.Runtime`
/// (`Invalid path '$.x' : No results for path: $['x']`). The engine
/// borrows instead ([`select`]); this copy is for the tests.
#[cfg(test)]
pub(crate) fn input_path(
    path: Option<&Path>,
    input: &Value,
    scope: &Scope<'_>,
) -> Result<Value, StatesError> {
    select(path, input, scope).map(Cow::into_owned)
}

/// InputPath over a borrowed input: no copy for `$` or a definite path.
pub(crate) fn select<'v>(
    path: Option<&Path>,
    raw: &'v Value,
    scope: &Scope<'v>,
) -> Result<Cow<'v, Value>, StatesError> {
    match path {
        None => Ok(Cow::Owned(Value::Object(Map::new()))),
        Some(p) if p.as_str() == "$" => Ok(Cow::Borrowed(raw)),
        Some(p) => p.eval(&scope.env(raw)).map_err(path_failure),
    }
}

/// InputPath then Parameters over a borrowed raw input (bounded by
/// `raw_bound`): a copy of the raw input is bounded as the raw input, any
/// other copy is measured.
pub(crate) fn effective_input(
    bounds: Bounds,
    fields: (Option<&Path>, Option<&PayloadTemplate>),
    raw: (&Value, Measure),
    scope: &Scope<'_>,
) -> Result<Payload, StatesError> {
    effective_input_seen(bounds, fields, raw, scope, |_, _| {})
}

/// A step of [`effective_input_seen`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum After {
    InputPath,
    Parameters,
}

/// [`effective_input`], showing `seen` the payload after InputPath and
/// after Parameters (when there are).
#[inline]
pub(crate) fn effective_input_seen(
    bounds: Bounds,
    (input_path, parameters): (Option<&Path>, Option<&PayloadTemplate>),
    (raw, raw_bound): (&Value, Measure),
    scope: &Scope<'_>,
    mut seen: impl FnMut(After, &Value),
) -> Result<Payload, StatesError> {
    let selected = select(input_path, raw, scope)?;
    seen(After::InputPath, &selected);
    match parameters {
        Some(t) => {
            let (v, bytes) = t.eval_counted(&scope.env(&selected))?;
            seen(After::Parameters, &v);
            Ok(bounds.counted((v, bytes)))
        }
        None => {
            let bound = match input_path {
                None => Measure::EMPTY_OBJECT,
                Some(p) if p.is_identity() => raw_bound,
                Some(_) => bounds.measure(&selected),
            };
            Ok(Payload::new(selected.into_owned(), bound))
        }
    }
}

/// Like [`input_path`], consuming the input (no copy for `$`; a Reference
/// Path into the data moves the selected node out). The engine uses
/// [`select_owned`]; this is for the tests.
#[cfg(test)]
pub fn input_path_owned(
    path: Option<&Path>,
    input: Value,
    scope: &Scope<'_>,
) -> Result<Value, StatesError> {
    select_owned(Bounds::OFF, path, Payload::unbounded(input), scope).map(|p| p.value)
}

/// InputPath or OutputPath over an owned payload: a Reference Path into the
/// data moves its node out, bounded by the payload less what the selection
/// drops (measured: it is dropped anyway); any other path copies, and the
/// copy is measured.
///
/// `$` (the default, and the common case) is decided where this is called;
/// any other path is selected out of line.
#[inline(always)]
pub(crate) fn select_owned(
    bounds: Bounds,
    path: Option<&Path>,
    payload: Payload,
    scope: &Scope<'_>,
) -> Result<Payload, StatesError> {
    if path.is_some_and(Path::is_identity) {
        return Ok(payload);
    }
    select_moved(bounds, path, payload, scope)
}

/// [`select_owned`] of a path other than `$`.
fn select_moved(
    bounds: Bounds,
    path: Option<&Path>,
    payload: Payload,
    scope: &Scope<'_>,
) -> Result<Payload, StatesError> {
    let Payload { value, bound } = payload;
    let known = match path {
        None => Some(Measure::EMPTY_OBJECT),
        Some(p) => match p.as_reference() {
            Some(r) if *r.root() == Root::Data => {
                Some(if r.is_identity() || !bounds.counts_bytes() {
                    bound
                } else {
                    Measure {
                        bytes: sub(bound.bytes, dropped_around(r.steps(), &value)),
                        depth: bound.depth,
                    }
                })
            }
            _ => None,
        },
    };
    let selected = take_selected(path, value, scope)?;
    let bound = known.unwrap_or_else(|| bounds.measure(&selected));
    Ok(Payload::new(selected, bound))
}

fn take_selected(
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

/// The JSON length of what selecting the node at `steps` drops from
/// `value`: the containers on the way with their other entries (a lower
/// bound when the steps do not resolve).
fn dropped_around(steps: &[Step], value: &Value) -> usize {
    let mut dropped = 0usize;
    let mut node = value;
    for step in steps {
        node = match (step, node) {
            (Step::Field(name), Value::Object(map)) => {
                let Some(index) = map.keys().position(|k| k == name) else {
                    return dropped;
                };
                // braces, commas, colons, keys, the other values
                dropped += 1 + map.len().max(1) + map.len();
                let mut child = node;
                for (i, (k, v)) in map.iter().enumerate() {
                    dropped += crate::json::str_len(k);
                    if i == index {
                        child = v;
                    } else {
                        dropped += crate::json::json_len(v);
                    }
                }
                child
            }
            (Step::Index(index), Value::Array(items)) => {
                let Some(index) = resolve_index(*index, items.len()) else {
                    return dropped;
                };
                dropped += 1 + items.len().max(1);
                for (i, v) in items.iter().enumerate() {
                    if i != index {
                        dropped += crate::json::json_len(v);
                    }
                }
                &items[index]
            }
            _ => return dropped,
        };
    }
    dropped
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
#[inline]
pub fn result_path(
    path: Option<&ReferencePath>,
    raw_input: Value,
    result: Value,
) -> Result<Value, StatesError> {
    let raw = Payload::unbounded(raw_input);
    result_path_bounded(Bounds::OFF, path, raw, Payload::unbounded(result)).map(|p| p.value)
}

/// [`result_path`] over bounded payloads. `$` (the result is the output)
/// is decided where this is called; any other path writes out of line.
#[inline(always)]
pub(crate) fn result_path_bounded(
    bounds: Bounds,
    path: Option<&ReferencePath>,
    raw: Payload,
    result: Payload,
) -> Result<Payload, StatesError> {
    if path.is_some_and(ReferencePath::is_identity) {
        return Ok(result);
    }
    result_path_written(bounds, path, raw, result)
}

/// [`result_path_bounded`] of a path other than `$`.
fn result_path_written(
    bounds: Bounds,
    path: Option<&ReferencePath>,
    raw: Payload,
    result: Payload,
) -> Result<Payload, StatesError> {
    let mut raw = raw;
    result_path_into(bounds, path, &mut raw, result)?;
    Ok(raw)
}

/// ResultPath in place: `raw` becomes the output. When the write fails,
/// `raw` is left as it was.
#[inline]
pub(crate) fn result_path_into(
    bounds: Bounds,
    path: Option<&ReferencePath>,
    raw: &mut Payload,
    result: Payload,
) -> Result<(), StatesError> {
    let Some(path) = path else {
        return Ok(());
    };
    if path.is_identity() {
        *raw = result;
        return Ok(());
    }
    let bound = result_path_bound(bounds, path, raw, result.bound);
    match path.write(&mut raw.value, result.value) {
        Ok(()) => {
            raw.bound = bound;
            Ok(())
        }
        Err(_) => Err(StatesError::new(
            ErrorName::ResultPathMatchFailure,
            result_path_cause(path.as_str(), &raw.value),
        )),
    }
}

/// Bounds what the (non-identity) ResultPath `path` gives when it writes a
/// result bounded by `result_bound` into `raw`; computed before the write.
/// The value it replaces is measured (the write drops it), the keys and
/// objects it creates are counted.
fn result_path_bound(
    bounds: Bounds,
    path: &ReferencePath,
    raw: &Payload,
    result_bound: Measure,
) -> Measure {
    let steps = path.steps();
    let depth = raw.bound.depth.max(add(steps.len(), result_bound.depth));
    if !bounds.counts_bytes() {
        return Measure {
            bytes: usize::MAX,
            depth,
        };
    }
    let mut node = &raw.value;
    for (i, step) in steps.iter().enumerate() {
        node = match (step, node) {
            (Step::Field(name), Value::Object(map)) => match map.get(name.as_str()) {
                Some(child) => child,
                None => {
                    // `,"name":` here, then `{"next":` ... `}` around the result
                    let mut added = usize::from(!map.is_empty()) + crate::json::str_len(name) + 1;
                    for rest in &steps[i + 1..] {
                        if let Step::Field(key) = rest {
                            added += 3 + crate::json::str_len(key);
                        }
                    }
                    return Measure {
                        bytes: add(add(raw.bound.bytes, added), result_bound.bytes),
                        depth,
                    };
                }
            },
            (Step::Index(index), Value::Array(items)) => match resolve_index(*index, items.len()) {
                Some(j) => &items[j],
                None => return Measure::UNKNOWN,
            },
            // the write fails
            _ => return Measure::UNKNOWN,
        };
    }
    Measure {
        bytes: add(
            sub(raw.bound.bytes, crate::json::json_len(node)),
            result_bound.bytes,
        ),
        depth,
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
    select_owned(Bounds::OFF, path, Payload::unbounded(output), scope).map(|p| p.value)
}

#[cfg(test)]
mod tests;
