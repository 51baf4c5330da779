//! The states that end a line of states: Succeed and Fail.

use crate::definition::{Fail, Succeed};
use crate::engine::inspect::{Inspect, NoInspect, Stage};
use crate::engine::io;
use crate::engine::jsonata;
use crate::engine::plan::Next;
use crate::engine::walk::{Failure, StateCx, Step};
use crate::error::{ErrorName, StatesError};
use crate::json::{Bounds, Payload};
use crate::jsonpath::data_flow;
use crate::jsonpath::path::Scope;
use serde_json::Value;

/// Runs a Succeed state on `input`: InputPath then OutputPath.
pub(crate) fn succeed(
    cx: &mut StateCx<'_, '_>,
    s: &Succeed,
    input: Payload,
) -> Result<Step, Failure> {
    let out = if cx.plan.jsonata {
        jsonata::succeed_output(jsonata::io_output(&s.io), cx.bounds(), &cx.jx(), input)
    } else {
        succeed_output(s, cx.bounds(), &cx.scope(), input, &mut NoInspect)
    }
    .map_err(|e| cx.error(e))?;
    cx.finish(out, Next::End, None)
}

/// A Succeed state's output: InputPath (which `hook` sees), then
/// OutputPath.
pub(crate) fn succeed_output<I: Inspect + ?Sized>(
    s: &Succeed,
    bounds: Bounds,
    scope: &Scope<'_>,
    input: Payload,
    hook: &mut I,
) -> Result<Payload, StatesError> {
    let effective = data_flow::select_owned(bounds, s.io.input_path(), input, scope)?;
    hook.step(Stage::AfterInputPath, &effective.value);
    data_flow::select_owned(bounds, s.io.output_path(), effective, scope)
}

/// The failure a Fail state ends with: its `Error` and `Cause` (literal or
/// read from `input`).
pub(crate) fn fail(cx: &StateCx<'_, '_>, s: &Fail, input: &Value) -> Failure {
    let r = if cx.plan.jsonata {
        jsonata::fail(s, input, &cx.jx())
    } else {
        fail_error(s, input, &cx.scope())
    };
    match r {
        Ok(error) => Failure::new(error, cx.th.cursor),
        Err(e) => cx.error(e),
    }
}

/// The error a Fail state ends with, or the runtime error (not yet
/// prefixed) of an `ErrorPath`/`CausePath` that does not resolve to a
/// string.
pub(crate) fn fail_error(
    s: &Fail,
    input: &Value,
    scope: &Scope<'_>,
) -> Result<StatesError, StatesError> {
    let error = io::fail_field(&s.error, "ErrorPath", input, scope)?;
    let cause = io::fail_field(&s.cause, "CausePath", input, scope)?;
    Ok(StatesError {
        name: match error {
            Some(t) => ErrorName::new(&t),
            None => ErrorName::Custom(String::new()),
        },
        cause,
    })
}
