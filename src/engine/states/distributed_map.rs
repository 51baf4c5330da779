//! A distributed Map: every item runs as a child execution with its own
//! history and no access to the parent's variables; failures are counted
//! against the tolerated threshold.

use super::map::{Items, Selector, Tolerance};
use super::parallel::{ArrayBound, Attempt};
use crate::definition::Map as MapState;
use crate::engine::checkpoint::{self, CheckpointSink, Position};
use crate::engine::drive::fast_uuid;
use crate::engine::events::{details, EventSink};
use crate::engine::walk::{run_sub, Failure, StateCx, Thread, Vars};
use crate::error::{ErrorName, StatesError};
use crate::json::{build_cap, Budget, Payload};
use futures::future::FutureExt;
use futures::stream::{FuturesUnordered, StreamExt};
use serde_json::{json, Map, Value};

/// One attempt of a distributed Map over `items`. In a durable run each
/// child execution is a line of its own (its events its own history), and
/// a resumed attempt goes on with the children as their checkpoints left
/// them (those that ended keep their results).
pub(crate) async fn attempt<'x>(
    cx: &mut StateCx<'_, 'x>,
    s: &'x MapState,
    items: Items<'_>,
    tolerance: &Tolerance,
    attempt: Attempt<'_>,
) -> Result<Payload, Failure> {
    let n = items.items.len();
    let started = super::map::map_started(cx, &attempt, n);
    let (tolerated_count, tolerated_percentage) = match tolerance {
        Ok(t) => *t,
        Err(e) => return Err(cx.error(e.clone())),
    };
    let run_started = match attempt.inside {
        Some(inside) => inside.last,
        None => {
            let map_run_arn = format!(
                "{}/{}:{}",
                cx.run
                    .ident()
                    .sm_arn
                    .replacen(":stateMachine:", ":mapRun:", 1),
                s.label.as_deref().unwrap_or(cx.name()),
                fast_uuid()
            );
            cx.emit_next("MapRunStarted", Some("mapRunStartedEventDetails"), || {
                details([("mapRunArn", Value::from(map_run_arn.as_str()))])
            })
        }
    };
    if cx.plan.children.is_empty() {
        return Ok(Payload::new(Value::Array(Vec::new()), ArrayBound::new(0).0));
    }
    let durable = cx.run.checkpoints_on(cx.th).map(|sink| {
        let at = attempt.position(cx, started, (run_started, 0));
        checkpoint::record(cx.run, sink, at, attempt.state_input, cx.th);
        (sink, attempt.inside.is_some())
    });
    let (results, failures) = run_children(cx, s, items, durable).await?;
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
/// failed. `durable`: where a durable run's checkpoints go, and whether
/// the attempt is resumed.
async fn run_children<'x>(
    cx: &mut StateCx<'_, 'x>,
    s: &'x MapState,
    items: Items<'_>,
    durable: Option<(&'x dyn CheckpointSink, bool)>,
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
    let name = cx.name();
    let line_of = |index: usize| durable.map(|_| checkpoint::child_line(&cx.th.line, name, index));
    let mut running = FuturesUnordered::new();
    // a resumed attempt: the children its checkpoints name
    let mut loaded = vec![false; n];
    if let Some((_, true)) = durable {
        for (index, seen) in loaded.iter_mut().enumerate() {
            let Some(checkpoint) = line_of(index).and_then(|l| run.take_line(&l)) else {
                continue;
            };
            *seen = true;
            let value = match checkpoint.at {
                Position::Done | Position::Failed => {
                    if checkpoint.at == Position::Failed {
                        failures += 1;
                    }
                    let value = checkpoint.input;
                    if !results_budget.take_value(&value) {
                        return Err(cx.error(crate::error::result_too_big()));
                    }
                    results_bound.add(run.measure(&value));
                    results[index] = value;
                    continue;
                }
                _ => checkpoint,
            };
            let line = line_of(index);
            let fut = async move {
                let sink = EventSink::new(false).resumed(value.events);
                let child = Thread::new(0, Vars::root_with(run.limits), &sink, None).durable(line);
                let outcome = checkpoint::resume_sub(run, (processor, plan), value, child).await;
                (
                    index,
                    outcome.result,
                    outcome.bound,
                    (outcome.cursor, sink.count()),
                )
            };
            running.push(fut.boxed());
        }
    }
    let mut pending = (items.items.into_iter().enumerate()).filter(|(i, _)| !loaded[*i]);
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
            let line = line_of(index);
            if let (Some((cp, _)), Some(line)) = (durable, &line) {
                // a child execution starts with its own history
                let at = Position::Enter {
                    state: processor.start_at.clone(),
                };
                let sink = EventSink::new(false);
                let th = Thread::new(0, Vars::root_with(run.limits), &sink, None)
                    .durable(Some(line.clone()));
                checkpoint::record(run, cp, at, &input.value, &th);
            }
            let fut = async move {
                let sink = EventSink::new(false);
                let child = Thread::new(0, Vars::root_with(run.limits), &sink, None).durable(line);
                let outcome = run_sub(run, (processor, plan), input, child).await;
                (
                    index,
                    outcome.result,
                    outcome.bound,
                    (outcome.cursor, sink.count()),
                )
            };
            running.push(fut.boxed());
        }
        let Some((index, result, bound, (cursor, count))) = running.next().await else {
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
                if let (Some((cp, _)), Some(line)) = (durable, line_of(index)) {
                    let done = (Position::Done, &results[index], cursor);
                    checkpoint::record_done(run, cp, line, done, Some(count));
                }
            }
            Err(f) => {
                failures += 1;
                results[index] = json!({
                    "Error": f.error.name.as_str(),
                    "Cause": f.error.cause.as_deref().map_or(Value::Null, Value::from),
                });
                results_bound.add(run.measure(&results[index]));
                if let (Some((cp, _)), Some(line)) = (durable, line_of(index)) {
                    let failed = (Position::Failed, &results[index], cursor);
                    checkpoint::record_done(run, cp, line, failed, Some(count));
                }
            }
        }
    }
    let results = Payload::new(Value::Array(results), results_bound.0);
    Ok((results, failures))
}
