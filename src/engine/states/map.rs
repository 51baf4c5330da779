//! The Map state: its items and settings, the inline iterations (launched
//! up to MaxConcurrency at a time, the first failure cancelling the
//! others), and what the distributed mode shares with them.

use super::distributed_map;
use super::parallel::{abort_events, complete, ArrayBound};
use crate::definition::JsonataTemplate;
use crate::definition::{Map as MapState, ProcessingMode};
use crate::engine::drive::Run;
use crate::engine::events::{details, EventSink, KIND_NONE, KIND_TASK};
use crate::engine::io::{self, ResultFields};
use crate::engine::jsonata;
use crate::engine::plan::SubPlan;
use crate::engine::retry::{self, retry_loop};
use crate::engine::walk::{prefixed, run_sub, run_sub_now, Failure, StateCx, Step, SubOutcome};
use crate::engine::walk::{Thread, Vars};
use crate::error::{ErrorName, StatesError};
use crate::json::{sub, Measure, Payload};
use crate::jsonpath::data_flow;
use crate::jsonpath::path::{ReferencePath, Root, Scope};
use crate::jsonpath::template::PayloadTemplate;
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use serde_json::{Map, Value};
use std::future::Future;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::Poll;
use std::time::SystemTime;

/// Runs a Map state on `input`: its items, then its iterations (inline
/// or distributed) under Retry and Catch.
pub(crate) async fn map<'x>(
    cx: &mut StateCx<'_, 'x>,
    s: &'x MapState,
    input: Payload,
) -> Result<Step, Failure> {
    // the raw input is needed again by ResultPath or a catcher
    let keep_input = s
        .result_handling
        .result_path
        .as_ref()
        .is_none_or(|p| p.as_str() != "$")
        || !s.result_handling.catch.is_empty()
        || cx.plan.jsonata;
    let (prep, input) = match map_prepare(cx, s, input, keep_input) {
        Ok(prepared) => prepared,
        Err(e) => {
            let failure = cx.error(e);
            if failure.error.name != ErrorName::QueryEvaluationError {
                return Err(failure);
            }
            // AWS ends the state with MapStateFailed after EvaluationFailed
            cx.th.cursor = failure.event;
            let event = cx.emit_next("MapStateFailed", None, Map::new);
            return Err(Failure { event, ..failure });
        }
    };
    let distributed = s.processor_config.mode == ProcessingMode::Distributed;
    let MapPrep {
        effective,
        items,
        item_bound,
        max_concurrency,
        tolerance,
    } = prep;
    let (tolerance, effective) = (&tolerance, &effective);
    let mut items = Some(items);
    let retries = !s.result_handling.retry.is_empty();
    let outcome = retry_loop!(cx, &s.result_handling.retry, Some("MapStateFailed"), _retry_count => {
        let these = if retries {
            items.clone().unwrap_or_default()
        } else {
            items.take().unwrap_or_default()
        };
        let batch = Items { effective, items: these, item_bound, max_concurrency };
        if distributed {
            distributed_map::attempt(cx, s, batch, tolerance).await
        } else {
            map_attempt(cx, s, batch).await
        }
    });
    let results = match outcome {
        Ok(results) => results,
        Err(failure) => {
            return retry::catch(
                cx,
                &s.result_handling.catch,
                (&input.value, input.bound),
                failure,
            )
        }
    };
    let fields = ResultFields {
        output: crate::engine::jsonata::io_output(&s.io),
        assign: s.assign.as_ref(),
        result_selector: s.result_handling.result_selector.as_ref(),
        selector_move: cx.plan.selector_move.as_ref(),
        result_path: s.result_handling.result_path.as_ref(),
        output_path: s.io.output_path(),
    };
    complete(cx, &fields, (input, results))
}

/// The items of one attempt and what their iterations need.
pub(crate) struct Items<'a> {
    /// The effective input (ItemSelector reads it).
    pub effective: &'a Value,
    pub items: Vec<Value>,
    /// Bounds every item.
    pub item_bound: Measure,
    /// 0: no limit.
    pub max_concurrency: usize,
}

impl Items<'_> {
    /// How many iterations may run at once.
    pub(crate) fn limit(&self) -> usize {
        if self.max_concurrency == 0 {
            usize::MAX
        } else {
            self.max_concurrency
        }
    }
}

/// ToleratedFailureCount and ToleratedFailurePercentage.
pub(crate) type Tolerance = Result<(Option<u64>, Option<f64>), StatesError>;

struct MapPrep {
    effective: Value,
    items: Vec<Value>,
    /// Bounds every item.
    item_bound: Measure,
    max_concurrency: usize,
    /// An error in them shows after MapStateStarted, as on AWS.
    tolerance: Tolerance,
}

/// The effective input, the items and the settings of a Map state; gives
/// back the raw input when ResultPath or a catcher needs it (else `null`).
fn map_prepare(
    cx: &StateCx<'_, '_>,
    s: &MapState,
    input: Payload,
    keep_input: bool,
) -> Result<(MapPrep, Payload), StatesError> {
    let bounds = cx.bounds();
    let scope = cx.scope();
    if cx.plan.jsonata {
        let (items, max_concurrency, tolerance) = jsonata::map_prepare(
            s,
            &input.value,
            &cx.jx(),
            tolerance(s, &input.value, &scope),
        )?;
        let prep = MapPrep {
            effective: if s.jsonata_item_selector.is_some() {
                input.value.clone()
            } else {
                Value::Null
            },
            items,
            item_bound: Measure::UNKNOWN,
            max_concurrency: usize::try_from(max_concurrency).unwrap_or(usize::MAX),
            tolerance,
        };
        return Ok((prep, input));
    }
    // the raw input survives only when ResultPath merges into it
    let (selected, raw) = if keep_input {
        let raw = (&input.value, input.bound);
        let selected = data_flow::effective_input(bounds, (s.io.input_path(), None), raw, &scope)?;
        (selected, input)
    } else {
        let selected = data_flow::select_owned(bounds, s.io.input_path(), input, &scope)?;
        (selected, Payload::null())
    };
    let max_concurrency = io::number_field(
        s.max_concurrency.as_ref(),
        ("MaxConcurrencyPath", &selected.value, &scope),
        |v| v,
        Value::as_u64,
        "integer",
    )?
    .unwrap_or(0);
    let tolerance = tolerance(s, &selected.value, &scope);
    let (effective, items, items_bound) = take_items(cx, s, selected, &scope)?;
    let prep = MapPrep {
        effective,
        items,
        item_bound: Measure {
            bytes: sub(items_bound.bytes, 2),
            depth: sub(items_bound.depth, 1),
        },
        max_concurrency: usize::try_from(max_concurrency).unwrap_or(usize::MAX),
        tolerance,
    };
    Ok((prep, raw))
}

/// ToleratedFailureCount/Percentage over the effective input.
fn tolerance(s: &MapState, selected: &Value, scope: &Scope<'_>) -> Tolerance {
    let tolerated_count = io::number_field(
        s.tolerated_failure_count.as_ref(),
        ("ToleratedFailureCountPath", selected, scope),
        |v| i64::try_from(v).unwrap_or(i64::MAX),
        Value::as_i64,
        "integer",
    )
    .and_then(|c| match c {
        Some(c) if c < 0 => Err(StatesError::runtime(
            "ToleratedFailureCount cannot be negative.",
        )),
        other => Ok(other.map(|c| c as u64)),
    })?;
    let tolerated_percentage = io::number_field(
        s.tolerated_failure_percentage.as_ref(),
        ("ToleratedFailurePercentagePath", selected, scope),
        |v| v,
        Value::as_f64,
        "float",
    )
    .and_then(|p| match p {
        Some(p) if !(0.0..=100.0).contains(&p) => Err(StatesError::runtime(
            "ToleratedFailurePercentage must be between 0 and 100.",
        )),
        other => Ok(other),
    })?;
    Ok((tolerated_count, tolerated_percentage))
}

/// The items at ItemsPath, moved out of the effective input when nothing
/// else reads it; gives what is left of the effective input, the items
/// and a bound of the array they came from.
fn take_items(
    cx: &StateCx<'_, '_>,
    s: &MapState,
    selected: Payload,
    scope: &Scope<'_>,
) -> Result<(Value, Vec<Value>, Measure), StatesError> {
    let needs_effective = s.item_selector.is_some();
    let Payload {
        value: mut effective,
        bound: selected_bound,
    } = selected;
    let items_value = match &s.items_path {
        None => Some(&effective),
        Some(p) if p.as_str() == "$" => Some(&effective),
        Some(p) => p.eval(&scope.env(&effective)).ok(),
    };
    // the items of the effective input are bounded by it
    let mut items_bound = selected_bound;
    let items = match items_value {
        Some(Value::Array(a)) if needs_effective => a.clone(),
        Some(Value::Array(_)) => {
            let taken = match &s.items_path {
                None => std::mem::take(&mut effective),
                Some(p) if p.as_str() == "$" => std::mem::take(&mut effective),
                // the context object or a variable: copied
                Some(p) if *p.root() != Root::Data => {
                    let copy = p
                        .eval(&scope.env(&effective))
                        .cloned()
                        .unwrap_or(Value::Null);
                    items_bound = cx.run.measure(&copy);
                    copy
                }
                Some(p) => p
                    .take(std::mem::take(&mut effective))
                    .unwrap_or(Value::Null),
            };
            match taken {
                Value::Array(a) => a,
                _ => Vec::new(),
            }
        }
        Some(other) => {
            return Err(StatesError::runtime(format!(
                "Map state input must be an array but was: {}",
                serde_json::to_string(other).unwrap_or_default()
            )))
        }
        None => return Err(items_missing(s.items_path.as_ref(), &effective, scope)),
    };
    Ok((effective, items, items_bound))
}

/// The error of an ItemsPath that selects nothing.
fn items_missing(
    path: Option<&ReferencePath>,
    effective: &Value,
    scope: &Scope<'_>,
) -> StatesError {
    let p = path.map(ReferencePath::as_str).unwrap_or("$");
    match path.map(|p| p.eval(&scope.env(effective))) {
        Some(Err(e)) => StatesError::runtime(e.to_string()),
        _ => StatesError::runtime(format!("Invalid path '{p}'")),
    }
}

/// What makes the input of an iteration: the item, or the ItemSelector
/// over the effective input (with `$$.Map.Item` in its context object).
pub(crate) struct Selector<'a> {
    pub run: &'a Run<'a>,
    pub name: &'a str,
    pub entered: u64,
    pub entered_time: SystemTime,
    pub needs_context: bool,
    pub template: Option<&'a PayloadTemplate>,
    pub effective: &'a Value,
    /// A JSONata ItemSelector, with the time and seed of the Map state.
    pub jsonata: Option<(&'a JsonataTemplate, i64, u64)>,
}

impl<'a> Selector<'a> {
    /// The selector of the Map state `cx` over `effective`.
    pub(crate) fn new<'x: 'a>(cx: &StateCx<'_, 'x>, s: &'a MapState, effective: &'a Value) -> Self {
        Selector {
            run: cx.run,
            name: cx.name(),
            entered: cx.entered,
            entered_time: cx.entered_time,
            needs_context: cx.plan.selector_needs_context,
            template: s.item_selector.as_ref(),
            effective,
            jsonata: (s.jsonata_item_selector.as_ref())
                .filter(|_| cx.plan.jsonata)
                .map(|t| {
                    let jx = cx.jx();
                    (t, jx.now_ms, jx.seed)
                }),
        }
    }

    /// The input of iteration `index`, whose item is `item`.
    pub(crate) fn input(
        &self,
        vars: &Vars<'_>,
        (index, item): (usize, Payload),
    ) -> Result<Payload, StatesError> {
        if let Some((t, now_ms, seed)) = self.jsonata {
            let context = if self.needs_context {
                let item = Some((index, &item.value));
                self.run
                    .context(self.name, self.entered_time, None, None, item)
            } else {
                Value::Null
            };
            let jx = jsonata::Jx {
                scope: Scope {
                    context: &context,
                    variables: vars,
                },
                now_ms,
                seed: seed ^ index as u64,
            };
            let selected = jsonata::item_selector(t, self.effective, &jx)?;
            return Ok(self.run.bounds().measured(selected));
        }
        let Some(t) = self.template else {
            return Ok(item);
        };
        let context = if self.needs_context {
            let item = Some((index, &item.value));
            self.run
                .context(self.name, self.entered_time, None, None, item)
        } else {
            Value::Null
        };
        let scope = Scope {
            context: &context,
            variables: vars,
        };
        Ok(self
            .run
            .bounds()
            .measured(t.eval(&scope.env(self.effective))?))
    }

    /// A runtime error of the Map state at `event`.
    pub(crate) fn error(&self, error: StatesError, event: u64) -> Failure {
        Failure::new(prefixed(self.name, self.entered, error), event)
    }
}

/// One inline attempt: every item as an iteration of the item processor,
/// up to MaxConcurrency at a time; the first failure cancels the others.
async fn map_attempt<'x>(
    cx: &mut StateCx<'_, 'x>,
    s: &'x MapState,
    items: Items<'_>,
) -> Result<Payload, Failure> {
    let n = items.items.len();
    let started = cx.emit_next(
        "MapStateStarted",
        Some("mapStateStartedEventDetails"),
        || details([("length", Value::from(n))]),
    );
    let Some(plan) = cx.plan.children.first() else {
        return Ok(Payload::new(Value::Array(Vec::new()), ArrayBound::new(0).0));
    };
    let selector = Selector::new(cx, s, items.effective);
    let run = cx.run;
    let th = &mut *cx.th;
    let slots: Vec<AtomicU8> = (0..n).map(|_| AtomicU8::new(KIND_NONE)).collect();
    let mut inline = Inline {
        run,
        machine: (&s.item_processor, plan),
        sink: th.sink,
        vars: &th.vars,
        slots: &slots,
        name: Value::from(selector.name),
        results: vec![Value::Null; n],
        results_bound: ArrayBound::new(n),
        done: vec![false; n],
        prev_start: started,
        last_succeeded: started,
    };
    let failure = inline.iterate(&selector, items).await;
    if let Some((index, f)) = failure {
        if index != usize::MAX {
            inline.aborted(index, &f);
        }
        return Err(Failure {
            in_task: false,
            ..f
        });
    }
    let last = inline.last_succeeded;
    let results = Payload::new(Value::Array(inline.results), inline.results_bound.0);
    th.cursor = last;
    run.emit(th, last, "MapStateSucceeded", None, Map::new);
    Ok(results)
}

/// The running iterations of an inline Map attempt.
struct Inline<'a, 'x> {
    run: &'x Run<'x>,
    machine: (&'x crate::definition::SubMachine, &'x SubPlan),
    sink: &'a EventSink,
    vars: &'a Vars<'x>,
    slots: &'a [AtomicU8],
    name: Value,
    results: Vec<Value>,
    results_bound: ArrayBound,
    done: Vec<bool>,
    prev_start: u64,
    last_succeeded: u64,
}

/// The iterations of one batch of a Map that are done: those that succeeded
/// (index, last event) in the order they finished, and the one that failed.
#[derive(Default)]
struct Completed {
    succeeded: Vec<(usize, u64)>,
    failed: Option<(usize, Failure)>,
}

/// A running iteration, giving its index with its outcome.
struct Iteration<'a> {
    index: usize,
    future: BoxFuture<'a, SubOutcome>,
}

impl Future for Iteration<'_> {
    type Output = (usize, SubOutcome);

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<Self::Output> {
        let index = self.index;
        self.future.as_mut().poll(cx).map(|o| (index, o))
    }
}

impl<'a, 'x: 'a> Inline<'a, 'x> {
    /// An iteration event of iteration `index`, following event `prev`.
    fn event(&self, ty: &'static str, key: &'static str, prev: u64, index: usize) -> u64 {
        let name = &self.name;
        self.sink.emit(self.run.clock, prev, ty, Some(key), || {
            details([("index", Value::from(index)), ("name", name.clone())])
        })
    }

    /// Records the end of iteration `index`.
    fn complete(&mut self, completed: &mut Completed, index: usize, outcome: SubOutcome) {
        self.done[index] = true;
        match outcome.result {
            Ok(v) => {
                self.results[index] = v;
                self.results_bound.add(outcome.bound);
                completed.succeeded.push((index, outcome.cursor));
            }
            Err(f) => completed.failed = Some((index, f)),
        }
    }

    /// Runs every item; gives the first failure (index `usize::MAX` when
    /// the ItemSelector failed).
    async fn iterate(
        &mut self,
        selector: &Selector<'_>,
        items: Items<'_>,
    ) -> Option<(usize, Failure)> {
        let limit = items.limit();
        let item_bound = items.item_bound;
        let mut pending = items.items.into_iter().enumerate();
        let mut running: FuturesUnordered<Iteration<'a>> = FuturesUnordered::new();
        let mut failure: Option<(usize, Failure)> = None;
        // iterations are launched in batches, each polled once at once: one
        // that completes without waiting never enters the FuturesUnordered
        let mut batch = Vec::new();
        loop {
            while running.len() + batch.len() < limit && failure.is_none() {
                let Some((index, item)) = pending.next() else {
                    break;
                };
                let item = (index, Payload::new(item, item_bound));
                match selector.input(self.vars, item) {
                    Ok(input) => {
                        let id = self.event(
                            "MapIterationStarted",
                            "mapIterationStartedEventDetails",
                            self.prev_start,
                            index,
                        );
                        batch.push((index, input, id));
                    }
                    Err(e) => {
                        failure = Some((usize::MAX, selector.error(e, self.prev_start)));
                        break;
                    }
                }
            }
            let launched = !batch.is_empty();
            let mut completed = self
                .launch(&mut batch, &mut running, failure.is_some())
                .await;
            if completed.succeeded.is_empty() && completed.failed.is_none() && failure.is_none() {
                match running.next().await {
                    Some((index, outcome)) => self.complete(&mut completed, index, outcome),
                    None if launched => continue,
                    None => break,
                }
            }
            for (index, cursor) in completed.succeeded {
                self.last_succeeded = self.event(
                    "MapIterationSucceeded",
                    "mapIterationSucceededEventDetails",
                    cursor,
                    index,
                );
                self.prev_start = cursor;
            }
            if let Some(f) = completed.failed {
                failure = Some(f);
            }
            if failure.is_some() {
                break;
            }
        }
        failure
    }

    /// Starts the iterations of `batch`, one future at a time (iterations
    /// that do not wait never live at the same time); gives those done in
    /// their first poll. Their outputs go to the results at once, their
    /// events follow the batch.
    async fn launch(
        &mut self,
        batch: &mut Vec<(usize, Payload, u64)>,
        running: &mut FuturesUnordered<Iteration<'a>>,
        failed: bool,
    ) -> Completed {
        let mut completed = Completed::default();
        let (processor, plan) = self.machine;
        for (index, input, id) in batch.drain(..) {
            if failed || completed.failed.is_some() {
                break;
            }
            let child = Thread::new(
                id,
                Vars::child(self.vars),
                self.sink,
                Some(&self.slots[index]),
            );
            if plan.settles {
                let outcome = run_sub_now(self.run, (processor, plan), input, child);
                self.complete(&mut completed, index, outcome);
                continue;
            }
            let mut fut = run_sub(self.run, (processor, plan), input, child);
            match futures::poll!(&mut fut) {
                Poll::Ready(outcome) => self.complete(&mut completed, index, outcome),
                Poll::Pending => running.push(Iteration { index, future: fut }),
            }
        }
        completed
    }

    /// The events of a failed iteration and of the iterations it cancels.
    fn aborted(&self, index: usize, f: &Failure) {
        self.event(
            "MapIterationFailed",
            "mapIterationFailedEventDetails",
            f.event,
            index,
        );
        if f.in_task {
            abort_events(self.run, self.sink, f.event, KIND_TASK);
        }
        for (j, slot) in self.slots.iter().enumerate() {
            let kind = slot.load(Ordering::Relaxed);
            if !self.done[j] && kind != KIND_NONE {
                self.event(
                    "MapIterationAborted",
                    "mapIterationAbortedEventDetails",
                    f.event,
                    j,
                );
                abort_events(self.run, self.sink, f.event, kind);
            }
        }
    }
}
