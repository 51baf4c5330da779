//! A distributed Map: every item runs as a child execution with its own
//! history and no access to the parent's variables; failures are counted
//! against the tolerated threshold.

use super::map::{Items, Selector, Tolerance};
use super::parallel::ArrayBound;
use crate::definition::Map as MapState;
use crate::engine::drive::fast_uuid;
use crate::engine::events::{details, EventSink};
use crate::engine::walk::{run_sub, Failure, StateCx, Thread, Vars};
use crate::error::{ErrorName, StatesError};
use crate::json::{build_cap, Budget, Payload};
use futures::future::FutureExt;
use futures::stream::{FuturesUnordered, StreamExt};
use serde_json::{json, Map, Value};

/// One attempt of a distributed Map over `items`.
pub(crate) async fn attempt<'x>(
    cx: &mut StateCx<'_, 'x>,
    s: &'x MapState,
    items: Items<'_>,
    tolerance: &Tolerance,
) -> Result<Payload, Failure> {
    let n = items.items.len();
    cx.emit_next(
        "MapStateStarted",
        Some("mapStateStartedEventDetails"),
        || details([("length", Value::from(n))]),
    );
    let (tolerated_count, tolerated_percentage) = match tolerance {
        Ok(t) => *t,
        Err(e) => return Err(cx.error(e.clone())),
    };
    let map_run_arn = format!(
        "{}/{}:{}",
        cx.run
            .ident()
            .sm_arn
            .replacen(":stateMachine:", ":mapRun:", 1),
        s.label.as_deref().unwrap_or(cx.name()),
        fast_uuid()
    );
    let run_started = cx.emit_next("MapRunStarted", Some("mapRunStartedEventDetails"), || {
        details([("mapRunArn", Value::from(map_run_arn.as_str()))])
    });
    if cx.plan.children.is_empty() {
        return Ok(Payload::new(Value::Array(Vec::new()), ArrayBound::new(0).0));
    }
    let (results, failures) = run_children(cx, s, items).await?;
    let tolerated = failures == 0
        || tolerated_count.is_some_and(|c| failures <= c)
        || tolerated_percentage
            .is_some_and(|p| n > 0 && (failures as f64) * 100.0 / (n as f64) <= p);
    if !tolerated {
        let error = StatesError::new(
            ErrorName::ExceedToleratedFailureThreshold,
            "The specified tolerated failure threshold was exceeded",
        );
        let id = cx.emit_next("MapRunFailed", Some("mapRunFailedEventDetails"), || {
            details([
                ("error", Value::from(error.name.as_str())),
                ("cause", Value::from(error.cause_str())),
            ])
        });
        return Err(Failure::new(error, id));
    }
    // MapRunSucceeded follows MapRunStarted, MapStateSucceeded follows
    // MapRunSucceeded, and MapStateExited follows MapRunStarted: AWS's
    // history since November 2024 (recordings up to August 2024 linked
    // MapStateExited to MapRunSucceeded)
    let id = cx
        .run
        .emit(cx.th, run_started, "MapRunSucceeded", None, Map::new);
    cx.run.emit(cx.th, id, "MapStateSucceeded", None, Map::new);
    cx.th.cursor = run_started;
    Ok(results)
}

/// Runs every item as a child execution, up to MaxConcurrency at a time;
/// gives the results (a failed child's is its error output) and how many
/// failed.
async fn run_children<'x>(
    cx: &mut StateCx<'_, 'x>,
    s: &'x MapState,
    items: Items<'_>,
) -> Result<(Payload, u64), Failure> {
    let run = cx.run;
    let (processor, plan) = match cx.plan.children.first() {
        Some(plan) => (&s.item_processor, plan),
        None => {
            return Ok((
                Payload::new(Value::Array(Vec::new()), ArrayBound::new(0).0),
                0,
            ))
        }
    };
    let selector = Selector::new(cx, s, items.effective);
    let n = items.items.len();
    let limit = items.limit();
    let item_bound = items.item_bound;
    let empty_vars = Vars::root_with(run.limits);
    let mut results: Vec<Value> = vec![Value::Null; n];
    let mut results_bound = ArrayBound::new(n);
    let mut results_budget = Budget::new(run.limits.max_payload_bytes.map(build_cap));
    if !results_budget.take(1 + n.max(1)) {
        return Err(cx.error(crate::error::result_too_big()));
    }
    let mut failures = 0u64;
    let mut pending = items.items.into_iter().enumerate();
    let mut running = FuturesUnordered::new();
    // the inputs of the children running are held to the build cap: past
    // it, the next child waits for one to end
    let cap = run.limits.max_payload_bytes.map_or(usize::MAX, build_cap);
    let (mut sizes, mut held) = (vec![0usize; n], 0usize);
    loop {
        while running.len() < limit && (held <= cap || running.is_empty()) {
            let Some((index, item)) = pending.next() else {
                break;
            };
            let input = selector
                .input(&empty_vars, (index, Payload::new(item, item_bound)))
                .map_err(|e| cx.error(e))?;
            sizes[index] = input.bound.bytes;
            held = held.saturating_add(input.bound.bytes);
            let fut = async move {
                let sink = EventSink::new(false);
                let child = Thread::new(0, Vars::root_with(run.limits), &sink, None);
                let outcome = run_sub(run, (processor, plan), input, child).await;
                (index, outcome.result, outcome.bound)
            };
            running.push(fut.boxed());
        }
        let Some((index, result, bound)) = running.next().await else {
            break;
        };
        held = held.saturating_sub(std::mem::take(&mut sizes[index]));
        match result {
            // the results are refused once they pass the build cap
            Ok(v) if !results_budget.take_value(&v) => {
                return Err(cx.error(crate::error::result_too_big()));
            }
            Ok(v) => {
                results[index] = v;
                results_bound.add(bound);
            }
            Err(f) => {
                failures += 1;
                results[index] = json!({
                    "Error": f.error.name.as_str(),
                    "Cause": f.error.cause.as_deref().map_or(Value::Null, Value::from),
                });
                results_bound.add(run.measure(&results[index]));
            }
        }
    }
    let results = Payload::new(Value::Array(results), results_bound.0);
    Ok((results, failures))
}
