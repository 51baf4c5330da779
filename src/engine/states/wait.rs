//! The Wait state.

use crate::definition::Wait;
use crate::engine::checkpoint;
use crate::engine::inspect::{Inspect, NoInspect, Stage};
use crate::engine::io::{self, Assigned};
use crate::engine::jsonata;
use crate::engine::walk::{Failure, StateCx, Step};
use crate::error::StatesError;
use crate::json::{Bounds, Payload};
use crate::jsonpath::data_flow;
use crate::jsonpath::path::Scope;
use std::time::{Duration, SystemTime};

/// Runs a Wait state on `input`: waits on the execution's clock, then
/// OutputPath. In a durable run, a Wait that sleeps is checkpointed first
/// with the absolute time it ends (which may park the execution).
pub(crate) async fn wait<'x>(
    cx: &mut StateCx<'_, 'x>,
    s: &'x Wait,
    input: Payload,
) -> Result<Step, Failure> {
    let bounds = cx.bounds();
    let now = cx.run.clock.now();
    // a durable run keeps the state input for a redrive when InputPath
    // makes the value kept another
    let state_input =
        (cx.run.checkpoints_on(cx.th).is_some() && !cx.plan.jsonata && s.io.input_path().is_some())
            .then(|| input.value.clone());
    let (kept, delay, assigned) = if cx.plan.jsonata {
        let computed = jsonata::wait_prepare(s, &cx.jx(), &input.value, now);
        let (delay, assigned) = computed.map_err(|e| cx.error(e))?;
        (input, delay, assigned)
    } else {
        let computed = prepare(s, bounds, &cx.scope(), (input, now), &mut NoInspect);
        computed.map_err(|e| cx.error(e))?
    };
    let delay = match cx.run.time {
        Some(time) => time.wait(cx.name(), delay),
        None => delay,
    };
    if !delay.is_zero() {
        if let (Some(sink), Some(until)) = (cx.run.checkpoints_on(cx.th), now.checked_add(delay)) {
            let values = (&kept.value, state_input);
            Box::pin(checkpoint::waiting(cx, sink, values, &assigned, until)).await;
        }
        cx.run.clock.sleep(delay).await;
    }
    ended(cx, s, kept, assigned)
}

/// The end of a Wait once its time has come: its output (OutputPath, or a
/// JSONata `Output`) made of `kept` (the effective input; the state input
/// in JSONata), its variables assigned.
pub(crate) fn ended(
    cx: &mut StateCx<'_, '_>,
    s: &Wait,
    kept: Payload,
    assigned: Assigned,
) -> Result<Step, Failure> {
    let bounds = cx.bounds();
    let out = if cx.plan.jsonata {
        jsonata::succeed_output(jsonata::io_output(&s.io), bounds, &cx.jx(), kept)
    } else {
        data_flow::select_owned(bounds, s.io.output_path(), kept, &cx.scope())
    };
    let out = out.map_err(|e| cx.error(e))?;
    cx.finish(out, cx.plan.next, assigned)
}

/// What a Wait state computes before it waits: the effective input (which
/// `hook` sees), the delay from `now`, and the variables to assign.
pub(crate) fn prepare<I: Inspect + ?Sized>(
    s: &Wait,
    bounds: Bounds,
    scope: &Scope<'_>,
    (input, now): (Payload, SystemTime),
    hook: &mut I,
) -> Result<(Payload, Duration, Assigned), StatesError> {
    let effective = data_flow::select_owned(bounds, s.io.input_path(), input, scope)?;
    hook.step(Stage::AfterInputPath, &effective.value);
    let delay = io::wait_duration(&s.wait, &effective.value, scope, now)?;
    let assigned = io::assign(s.assign.as_ref(), &effective.value, scope)?;
    Ok((effective, delay, assigned))
}
