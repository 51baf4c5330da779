//! The Pass state.

use crate::definition::Pass;
use crate::engine::inspect::{stage_after, Inspect, NoInspect, Stage};
use crate::engine::io::{self, Assigned};
use crate::engine::jsonata;
use crate::engine::plan::MoveTemplate;
use crate::engine::walk::{Failure, StateCx, Step};
use crate::error::StatesError;
use crate::json::{add, Bounds, Built, Measure, Payload};
use crate::jsonpath::data_flow;
use crate::jsonpath::path::Scope;
use serde_json::Value;

/// Runs a Pass state on `input`.
pub(crate) fn pass(cx: &mut StateCx<'_, '_>, s: &Pass, input: Payload) -> Result<Step, Failure> {
    let next = cx.plan.next;
    if cx.plan.jsonata {
        let r = jsonata::pass(s, cx.bounds(), &cx.jx(), input);
        let (out, assigned) = r.map_err(|e| cx.error(e))?;
        return cx.finish(out, next, assigned);
    }
    let mut input = input;
    if let Some(m) = &cx.plan.pass_move {
        if let Some(result) = take(cx, m, &mut input) {
            return moved(cx, s, input.value, result);
        }
    }
    let result_bound = cx.plan.result_measure.unwrap_or(Measure::UNKNOWN);
    let r = evaluate(
        s,
        (cx.bounds(), result_bound),
        &cx.scope(),
        input,
        &mut NoInspect,
    );
    let (out, assigned) = r.map_err(|e| cx.error(e))?;
    cx.finish(out, next, assigned)
}

/// A Pass state's output and variables over `input` (`Result` bounded by
/// `result_bound`), `hook` seeing every step.
pub(crate) fn evaluate<I: Inspect + ?Sized>(
    s: &Pass,
    (bounds, result_bound): (Bounds, Measure),
    scope: &Scope<'_>,
    input: Payload,
    hook: &mut I,
) -> Result<(Payload, Assigned), StatesError> {
    let keeps_input = s.result_path.as_ref().is_none_or(|p| p.as_str() != "$");
    let io_fields = (s.io.input_path(), s.io.parameters());
    let effective = |raw: &Payload, hook: &mut I| {
        let raw = (&raw.value, raw.bound);
        data_flow::effective_input_seen(bounds, io_fields, raw, scope, |after, v| {
            hook.step(stage_after(after), v)
        })
    };
    let (result, raw) = if let Some(result) = &s.result {
        (Payload::new(result.clone(), result_bound), input)
    } else if keeps_input {
        (effective(&input, hook)?, input)
    } else if s.io.parameters().is_some() || s.io.input_path().is_none_or(|p| p.as_str() != "$") {
        (effective(&input, hook)?, Payload::null())
    } else {
        hook.step(Stage::AfterInputPath, &input.value);
        (input, Payload::null())
    };
    hook.step(Stage::Result, &result.value);
    let assigned = io::assign(s.assign.as_ref(), &result.value, scope)?;
    // in place: a payload just built and moved again is read back whole
    // right after it was written field by field, which stalls
    let mut out = raw;
    data_flow::result_path_into(bounds, s.result_path.as_ref(), &mut out, result)?;
    hook.step(Stage::AfterResultPath, &out.value);
    if !s.io.output_path().is_some_and(|p| p.is_identity()) {
        out = data_flow::select_owned(bounds, s.io.output_path(), out, scope)?;
    }
    Ok((out, assigned))
}

/// The result of a Pass whose Parameters the plan can evaluate by moving
/// the values out of the input, bounded; `None` (the input untouched) when
/// a path does not resolve (the regular evaluation then reports it).
///
/// The input is borrowed, and [`moved`] returns the step where [`pass`]
/// does: on the hot path of a Map of reshaping Pass states, a payload just
/// built and then moved costs a stalled load (written field by field, read
/// back whole), more than the instructions of the move.
fn take(cx: &StateCx<'_, '_>, m: &MoveTemplate, input: &mut Payload) -> Option<Payload> {
    let bounds = cx.bounds();
    // the first state of a Map iteration: the item is bounded by its whole
    // array, the result (the whole output) is measured as it is built (see
    // `MoveTemplate::measure_result`)
    let mut built =
        (bounds.counts_bytes() && m.measure_result).then(|| Built::new(bounds, m.skeleton_bytes));
    let result = io::take_template(&mut input.value, m, built.as_mut())?;
    let bound = input.bound;
    // otherwise the taken values move from the input into the result, each
    // leaving a null behind; ResultPath then replaces (and drops) the node
    // holding those nulls, which is at least as long as they are: the
    // output is at most the input and the new object's own bytes (braces,
    // keys, literals). Not walked: a bound that grows past the limit over
    // many states is measured exactly where the limit applies
    let bound = if let Some(built) = &built {
        let exact = built.measure();
        Measure {
            bytes: exact.bytes,
            depth: exact.depth.min(add(1, bound.depth)),
        }
    } else if bounds.counts_bytes() {
        Measure {
            bytes: add(bound.bytes, m.skeleton_bytes),
            // the result object (literals and values taken out of the input)
            // written at ResultPath, or the input itself
            depth: bound.depth.max(add(m.result.len(), m.depth(bound.depth))),
        }
    } else {
        Measure {
            bytes: usize::MAX,
            depth: bound.depth.max(add(m.result.len(), m.depth(bound.depth))),
        }
    };
    Some(Payload::new(result, bound))
}

/// The step of a Pass whose result [`take`] moved out of `input` (what is
/// left of it): ResultPath, Assign and OutputPath.
fn moved(
    cx: &mut StateCx<'_, '_>,
    s: &Pass,
    input: Value,
    result: Payload,
) -> Result<Step, Failure> {
    let next = cx.plan.next;
    let replaces = s.assign.is_none()
        && s.result_path.as_ref().is_some_and(|p| p.is_identity())
        && s.io.output_path().is_some_and(|p| p.is_identity());
    if replaces {
        // the result is the output: nothing else reads the input
        drop(input);
        return cx.finish(result, next, None);
    }
    let bounds = cx.bounds();
    let scope = cx.scope();
    let r = (|| {
        let assigned = io::assign(s.assign.as_ref(), &result.value, &scope)?;
        let out = data_flow::result_path(s.result_path.as_ref(), input, result.value)?;
        let out = Payload::new(out, result.bound);
        let out = data_flow::select_owned(bounds, s.io.output_path(), out, &scope)?;
        Ok::<_, StatesError>((out, assigned))
    })();
    match r {
        Ok((out, assigned)) => cx.finish(out, next, assigned),
        Err(e) => Err(cx.error(e)),
    }
}
