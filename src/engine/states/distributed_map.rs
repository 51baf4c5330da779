//! A distributed Map: every item runs as a child execution with its own
//! history and no access to the parent's variables; failures are counted
//! against the tolerated threshold.

use super::map::{Items, Selector, Tolerance};
use super::parallel::{ArrayBound, Attempt};
use crate::definition::{Map as MapState, SubMachine};
use crate::engine::checkpoint::{self, CheckpointSink, Position};
use crate::engine::drive::{fast_uuid, Run};
use crate::engine::events::{details, EventSink};
use crate::engine::plan::SubPlan;
use crate::engine::walk::{run_sub, Failure, StateCx, Thread, Vars};
use crate::error::{ErrorName, StatesError};
use crate::json::{build_cap, Budget, Measure, Payload};
use futures::future::BoxFuture;
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

/// The results of a distributed Map's children, in item order: a failed
/// child's is its error output. Held to the build cap as they come in.
struct Children {
    results: Vec<Value>,
    bound: ArrayBound,
    budget: Budget,
    failures: u64,
}

/// A child's end as its future gives it: the item's index, the result
/// and its bound, the last event and the count of its own history.
type ChildEnd = (usize, Result<Value, Failure>, Measure, (u64, u64));

impl Children {
    /// Room for `n` results; `None` when not even the brackets fit.
    fn new(run: &Run<'_>, n: usize) -> Option<Self> {
        let mut budget = Budget::new(run.limits.max_payload_bytes.map(build_cap));
        budget.take(1 + n.max(1)).then(|| Children {
            results: vec![Value::Null; n],
            bound: ArrayBound::new(n),
            budget,
            failures: 0,
        })
    }

    /// Keeps the result a child's checkpoint holds (`failed`: its error
    /// output); false when it does not fit.
    fn keep_done(&mut self, run: &Run<'_>, index: usize, value: Value, failed: bool) -> bool {
        self.failures += u64::from(failed);
        if !self.budget.take_value(&value) {
            return false;
        }
        self.bound.add(run.measure(&value));
        self.results[index] = value;
        true
    }

    /// Keeps a child's result (bounded by `bound`) or its failure as its
    /// error output; false when a result does not fit.
    fn keep(
        &mut self,
        run: &Run<'_>,
        index: usize,
        result: Result<Value, Failure>,
        bound: Measure,
    ) -> bool {
        match result {
            Ok(v) if !self.budget.take_value(&v) => return false,
            Ok(v) => {
                self.results[index] = v;
                self.bound.add(bound);
            }
            Err(f) => {
                self.failures += 1;
                self.results[index] = json!({
                    "Error": f.error.name.as_str(),
                    "Cause": f.error.cause.as_deref().map_or(Value::Null, Value::from),
                });
                self.bound.add(run.measure(&self.results[index]));
            }
        }
        true
    }
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
    let too_big = |cx: &StateCx<'_, '_>| cx.error(crate::error::result_too_big());
    let Some(mut children) = Children::new(run, n) else {
        return Err(too_big(cx));
    };
    let name = cx.name();
    let parent = cx.th.line.as_str();
    let line_of = |index: usize| durable.map(|_| checkpoint::child_line(parent, name, index));
    let mut running = FuturesUnordered::new();
    // a resumed attempt: the children its checkpoints name
    let loaded = match durable {
        Some((_, true)) => {
            let machine = (processor, plan);
            match resumed(run, machine, &line_of, &mut children, &mut running) {
                Some(loaded) => loaded,
                None => return Err(too_big(cx)),
            }
        }
        _ => vec![false; n],
    };
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
                let count = (outcome.cursor, sink.count());
                (index, outcome.result, outcome.bound, count)
            };
            running.push(fut.boxed());
        }
        let Some((index, result, bound, (cursor, count))) = running.next().await else {
            break;
        };
        held = held.saturating_sub(std::mem::take(&mut sizes[index]));
        let failed = result.is_err();
        // the results are refused once they pass the build cap
        if !children.keep(run, index, result, bound) {
            return Err(too_big(cx));
        }
        if let (Some((cp, _)), Some(line)) = (durable, line_of(index)) {
            let at = if failed {
                Position::Failed
            } else {
                Position::Done
            };
            let done = (at, &children.results[index], cursor);
            checkpoint::record_done(run, cp, line, done, Some(count));
        }
    }
    let results = Payload::new(Value::Array(children.results), children.bound.0);
    Ok((results, children.failures))
}

/// A resumed attempt's children as their checkpoints left them: those
/// that ended kept in `children`, those under way resumed in `running`;
/// gives which items they are (`None`: a result that does not fit).
fn resumed<'x>(
    run: &'x Run<'x>,
    (processor, plan): (&'x SubMachine, &'x SubPlan),
    line_of: &dyn Fn(usize) -> Option<String>,
    children: &mut Children,
    running: &mut FuturesUnordered<BoxFuture<'x, ChildEnd>>,
) -> Option<Vec<bool>> {
    let mut loaded = vec![false; children.results.len()];
    for (index, seen) in loaded.iter_mut().enumerate() {
        let Some(checkpoint) = line_of(index).and_then(|l| run.take_line(&l)) else {
            continue;
        };
        *seen = true;
        if matches!(checkpoint.at, Position::Done | Position::Failed) {
            let failed = checkpoint.at == Position::Failed;
            if !children.keep_done(run, index, checkpoint.input, failed) {
                return None;
            }
            continue;
        }
        let line = line_of(index);
        let fut = async move {
            let sink = EventSink::new(false).resumed(checkpoint.events);
            let child = Thread::new(0, Vars::root_with(run.limits), &sink, None).durable(line);
            let outcome = checkpoint::resume_sub(run, (processor, plan), checkpoint, child).await;
            let count = (outcome.cursor, sink.count());
            (index, outcome.result, outcome.bound, count)
        };
        running.push(fut.boxed());
    }
    Some(loaded)
}
