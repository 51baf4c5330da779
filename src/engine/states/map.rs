//! The Map state: its items and settings, the inline iterations (launched
//! up to MaxConcurrency at a time, the first failure cancelling the
//! others), and what the distributed mode shares with them.

use super::distributed_map;
use super::parallel::{abort_events, finish, under_way, ArrayBound, Attempt, Results};
use crate::definition::JsonataTemplate;
use crate::definition::{Map as MapState, ProcessingMode};
use crate::engine::checkpoint::{self, CheckpointSink, Position, RetryPoint, RetryResume};
use crate::engine::drive::Run;
use crate::engine::events::{details, EventSink, KIND_NONE, KIND_TASK};
use crate::engine::io;
use crate::engine::jsonata;
use crate::engine::live::{LineGuard, PlaceKind};
use crate::engine::plan::SubPlan;
use crate::engine::retry::retry_loop;
use crate::engine::walk::SubOutcome;
use crate::engine::walk::{evaluation_failed, prefixed, run_rest, run_sub, run_sub_now};
use crate::engine::walk::{Failure, Settled, StateCx, Step};
use crate::engine::walk::{Thread, Vars};
use crate::error::{ErrorName, StatesError};
use crate::json::{build_cap, sub, Measure, Payload};
use crate::jsonpath::data_flow;
use crate::jsonpath::path::{ReferencePath, Root, Scope};
use crate::jsonpath::template::PayloadTemplate;
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use serde_json::{Map, Value};
use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::Poll;
use std::time::SystemTime;

/// Runs a Map state on `input`: its items, then its iterations (inline
/// or distributed) under Retry and Catch; in a durable run, from the point
/// of a checkpoint when there is one (`resume`: the retriers' counters,
/// and the attempt under way with its iterations' checkpoints).
pub(crate) async fn map<'x>(
    cx: &mut StateCx<'_, 'x>,
    s: &'x MapState,
    input: Payload,
    resume: Option<RetryResume>,
) -> Result<Step, Failure> {
    // a durable run checkpoints the state input while the Map runs
    let durable = cx.run.checkpoints_on(cx.th).is_some();
    // the raw input is needed again by ResultPath or a catcher
    let keep_input = s
        .result_handling
        .result_path
        .as_ref()
        .is_none_or(|p| p.as_str() != "$")
        || !s.result_handling.catch.is_empty()
        || cx.plan.jsonata
        || durable;
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
    let (mut inside, resume) = under_way(resume);
    let outcome = {
        let point = (cx.run.checkpoints_on(cx.th)).map(|_| RetryPoint {
            input: &input.value,
            resume,
        });
        retry_loop!(cx, &s.result_handling.retry, Some("MapStateFailed"), point, retry_count, counters => {
            let these = if retries {
                items.clone().unwrap_or_default()
            } else {
                items.take().unwrap_or_default()
            };
            let batch = Items { effective, items: these, item_bound, max_concurrency };
            let attempt = Attempt {
                state_input: &input.value,
                counters: &counters,
                retry_count,
                inside: inside.take(),
            };
            if let Some(field) = unsupported(s) {
                cx.emit_next(
                    "MapStateStarted",
                    Some("mapStateStartedEventDetails"),
                    || details([("length", Value::from(batch.items.len()))]),
                );
                Err(cx.error(StatesError::runtime(format!(
                    "{field} is not supported by this version of stepfn"
                ))))
            } else if distributed {
                distributed_map::attempt(cx, s, batch, tolerance, attempt).await
            } else {
                map_attempt(cx, s, batch, attempt).await
            }
        })
    };
    finish(
        cx,
        (&s.io, s.assign.as_ref(), &s.result_handling),
        input,
        outcome,
    )
}

/// The first field of `s` that stepfn does not run yet: `ItemReader`
/// (items read from S3), `ItemBatcher` (items grouped into batches) or
/// `ResultWriter` (results written to S3). Such a Map loads and validates,
/// as on AWS, and fails with `States.Runtime` after `MapStateStarted`
/// rather than run differently from AWS.
fn unsupported(s: &MapState) -> Option<&'static str> {
    if s.item_reader.is_some() {
        Some("ItemReader")
    } else if s.item_batcher.is_some() {
        Some("ItemBatcher")
    } else if s.result_writer.is_some() {
        Some("ResultWriter")
    } else {
        None
    }
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
        |v| i64::try_from(v).unwrap_or(i64::MAX),
        java_int,
        "integer",
    )
    .and_then(|c| match c {
        // AWS stalls on a negative MaxConcurrency (recorded): stepfn cannot
        // wait forever, it fails (see the Compatibility section)
        Some(c) if c < 0 => Err(StatesError::runtime("MaxConcurrency cannot be negative.")),
        other => Ok(other.map_or(0, |c| c as u64)),
    })?;
    let tolerance = tolerance(s, &selected.value, &scope);
    // the items of an ItemReader come from S3, not from the input
    let (effective, items, items_bound) = if s.item_reader.is_some() {
        let bound = selected.bound;
        (selected.value, Vec::new(), bound)
    } else {
        take_items(cx, s, selected, &scope)?
    };
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
        java_int,
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
        java_double,
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

/// An integer field's value as AWS reads it (its text through Java's
/// `Integer.parseInt`, inferred from the error wording): a JSON integer or
/// a string of ASCII digits with an optional sign, within 32 bits; `"1"`
/// is 1 (recorded), `1.0`, `"1.5"` and `" 1"` are not integers.
fn java_int(v: &Value) -> Option<i64> {
    let n = match v {
        Value::Number(n) => n.as_i64()?,
        Value::String(s) => {
            let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // a long run of digits is out of range whatever its value
            if digits.len() > 11 {
                return None;
            }
            s.parse::<i64>().ok()?
        }
        _ => return None,
    };
    i32::try_from(n).ok().map(i64::from)
}

/// A float field's value as AWS reads it (its text through Java's
/// `Double.parseDouble`, inferred): a JSON number, or a string holding a
/// decimal number (surrounding whitespace ignored, as Java does; `NaN` and
/// `Infinity` parse and then fail the range check).
fn java_double(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => {
            let t = s.trim_matches(|c: char| c <= ' ');
            let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
            if unsigned == "NaN" {
                return Some(f64::NAN);
            }
            if unsigned == "Infinity" {
                return Some(if t.starts_with('-') {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                });
            }
            decimal(unsigned).then(|| t.parse::<f64>().ok()).flatten()
        }
        _ => None,
    }
}

/// `digits[.digits][(e|E)[sign]digits]`, at least one digit before the
/// exponent (`.5` and `5.` included, as Java reads them).
fn decimal(t: &str) -> bool {
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = !(int.is_empty() && frac.is_empty()) && digits(int) && digits(frac);
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
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
        if self.jsonata.is_none() && self.template.is_none() {
            return Ok(item);
        }
        self.select(vars, (index, item))
    }

    /// The input of iteration `index` made by the ItemSelector.
    #[inline(never)]
    fn select(
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
/// In a durable run each iteration is a line of its own (see
/// [`parallel`](super::parallel)), and a resumed attempt goes on with the
/// iterations as their checkpoints left them.
async fn map_attempt<'x>(
    cx: &mut StateCx<'_, 'x>,
    s: &'x MapState,
    items: Items<'_>,
    attempt: Attempt<'_>,
) -> Result<Payload, Failure> {
    let n = items.items.len();
    let started = map_started(cx, &attempt, n);
    let Some(plan) = cx.plan.children.first() else {
        return Ok(Payload::new(Value::Array(Vec::new()), ArrayBound::new(0).0));
    };
    let (prev_start, last_succeeded) = attempt
        .inside
        .map_or((started, started), |i| (i.prev_start, i.last));
    let durable = cx.run.checkpoints_on(cx.th).map(|sink| Durable {
        sink,
        at: attempt.position(cx, started, (last_succeeded, prev_start)),
        state_input: attempt.state_input,
        resumed: attempt.inside.is_some(),
    });
    if let Some(d) = &durable {
        checkpoint::record(cx.run, d.sink, d.at.clone(), d.state_input, cx.th);
    }
    let selector = Selector::new(cx, s, items.effective);
    let run = cx.run;
    let th = &mut *cx.th;
    let slots: Vec<AtomicU8> = (0..n).map(|_| AtomicU8::new(KIND_NONE)).collect();
    let mut inline = Inline {
        run,
        machine: (&s.item_processor, plan),
        sink: th.sink,
        watch: th.watch.as_ref(),
        vars: &th.vars,
        slots: &slots,
        name: Value::from(selector.name),
        results: vec![Value::Null; n],
        taken: Results::new(run, n),
        inputs: (vec![0; n], 0),
        done: vec![false; n],
        prev_start,
        last_succeeded,
        durable,
        parent: &*th,
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
    let results = Payload::new(Value::Array(inline.results), inline.taken.bound());
    th.cursor = last;
    run.emit(th, last, "MapStateSucceeded", None, Map::new);
    Ok(results)
}

/// A durable run's Map attempt: where its checkpoints go, where the Map
/// is, and whether the attempt is resumed.
struct Durable<'a> {
    sink: &'a dyn CheckpointSink,
    at: Position,
    state_input: &'a Value,
    resumed: bool,
}

/// The running iterations of an inline Map attempt.
struct Inline<'a, 'x> {
    run: &'x Run<'x>,
    machine: (&'x crate::definition::SubMachine, &'x SubPlan),
    sink: &'a EventSink,
    /// The Map's line, in a watched execution.
    watch: Option<&'a LineGuard<'x>>,
    vars: &'a Vars<'x>,
    slots: &'a [AtomicU8],
    name: Value,
    results: Vec<Value>,
    /// The results taken: they are refused once they pass the build cap,
    /// while they come in.
    taken: Results,
    /// The size of each running iteration's input, and their sum.
    inputs: (Vec<usize>, usize),
    done: Vec<bool>,
    prev_start: u64,
    last_succeeded: u64,
    /// A durable run's checkpoints.
    durable: Option<Durable<'a>>,
    /// The Map's line.
    parent: &'a Thread<'x>,
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
        let (sizes, held) = &mut self.inputs;
        *held = held.saturating_sub(std::mem::take(&mut sizes[index]));
        let results = &self.results;
        match outcome.result {
            Ok(v)
                if !self
                    .taken
                    .take((index, &v, outcome.bound), |j| results.get(j)) =>
            {
                completed.failed = Some((usize::MAX, self.too_big(outcome.cursor)));
            }
            Ok(v) => {
                self.results[index] = v;
                completed.succeeded.push((index, outcome.cursor));
            }
            Err(f) => completed.failed = Some((index, f)),
        }
    }

    /// The failure of a result that does not fit beside those taken, after
    /// event `cursor`.
    #[cold]
    fn too_big(&self, cursor: u64) -> Failure {
        let error = crate::error::result_too_big();
        let name = self.name.as_str().unwrap_or_default();
        Failure::new(crate::error::name_state(error, name), cursor)
    }

    /// The line of iteration `index` (durable runs).
    fn line(&self, index: usize) -> Option<String> {
        let name = self.name.as_str().unwrap_or_default();
        (self.durable.as_ref()).map(|_| checkpoint::child_line(&self.parent.line, name, index))
    }

    /// The thread of iteration `index`, starting after event `cursor`.
    fn thread(&self, index: usize, cursor: u64) -> Thread<'x>
    where
        'a: 'x,
    {
        let place = (self.watch, PlaceKind::Iteration, index);
        let line = self.line(index);
        Thread::child(
            (cursor, self.sink),
            self.vars,
            &self.slots[index],
            place,
            line,
        )
    }

    /// A durable run: iteration `index` ended (its result is in
    /// `results`, its last event `cursor`), and its `MapIterationSucceeded`
    /// is out.
    #[cold]
    fn ended(&mut self, index: usize, cursor: u64) {
        let Some(d) = self.durable.as_mut() else {
            return;
        };
        if let Position::Inside {
            last, prev_start, ..
        } = &mut d.at
        {
            *last = self.last_succeeded;
            *prev_start = self.prev_start;
        }
        let name = self.name.as_str().unwrap_or_default();
        let line = checkpoint::child_line(&self.parent.line, name, index);
        let output = self.results.get(index).unwrap_or(&Value::Null);
        let done = (Position::Done, output, cursor);
        checkpoint::record_done(self.run, d.sink, line, done, None);
        checkpoint::record(self.run, d.sink, d.at.clone(), d.state_input, self.parent);
    }

    /// A resumed durable attempt: the iterations its checkpoints name,
    /// ended (their results taken) or under way (resumed in `running`);
    /// gives which items they are.
    fn resumed(&mut self, running: &mut FuturesUnordered<Iteration<'a>>) -> Vec<bool>
    where
        'a: 'x,
    {
        let n = self.done.len();
        let mut loaded = vec![false; n];
        if !self.durable.as_ref().is_some_and(|d| d.resumed) {
            return loaded;
        }
        for (index, seen) in loaded.iter_mut().enumerate() {
            let Some(checkpoint) = self.line(index).and_then(|l| self.run.take_line(&l)) else {
                continue;
            };
            *seen = true;
            if checkpoint.at == Position::Done {
                self.done[index] = true;
                let bound = self.run.measure(&checkpoint.input);
                let results = &self.results;
                if self
                    .taken
                    .take((index, &checkpoint.input, bound), |j| results.get(j))
                {
                    self.results[index] = checkpoint.input;
                }
                continue;
            }
            let th = self.thread(index, checkpoint.cursor);
            let future = checkpoint::resume_sub(self.run, self.machine, checkpoint, th);
            running.push(Iteration { index, future });
        }
        loaded
    }

    /// Runs every item; gives the first failure (index `usize::MAX` when
    /// the ItemSelector failed).
    async fn iterate(
        &mut self,
        selector: &Selector<'_>,
        items: Items<'_>,
    ) -> Option<(usize, Failure)>
    where
        'a: 'x,
    {
        let limit = items.limit();
        let item_bound = items.item_bound;
        let mut running: FuturesUnordered<Iteration<'a>> = FuturesUnordered::new();
        let loaded = self.resumed(&mut running);
        let mut pending = (items.items.into_iter().enumerate())
            .filter(|(index, _)| !loaded.get(*index).copied().unwrap_or(false));
        let mut failure: Option<(usize, Failure)> = None;
        // kept from one batch to the next (a batch may end after a few
        // iterations, at every pause)
        let mut completed = Completed::default();
        // iterations are launched in batches, each polled once at once: one
        // that completes without waiting never enters the FuturesUnordered
        let mut batch = VecDeque::new();
        // the inputs of the iterations running (or about to) are held to
        // the build cap: past it, the next iteration waits for one to end
        let cap = self
            .run
            .limits
            .max_payload_bytes
            .map_or(usize::MAX, build_cap);
        loop {
            while running.len() + batch.len() < limit && failure.is_none() {
                if self.inputs.1 > cap && !(running.is_empty() && batch.is_empty()) {
                    break;
                }
                let Some((index, item)) = pending.next() else {
                    break;
                };
                let item = (index, Payload::new(item, item_bound));
                match selector.input(self.vars, item) {
                    Ok(input) => {
                        let (sizes, held) = &mut self.inputs;
                        sizes[index] = input.bound.bytes;
                        *held = held.saturating_add(input.bound.bytes);
                        let id = self.event(
                            "MapIterationStarted",
                            "mapIterationStartedEventDetails",
                            self.prev_start,
                            index,
                        );
                        // the iteration is a line from its first event on
                        if let Some(d) = &self.durable {
                            let at = Position::Enter {
                                state: self.machine.0.start_at.clone(),
                            };
                            let th = self.thread(index, id);
                            checkpoint::record(self.run, d.sink, at, &input.value, &th);
                        }
                        batch.push_back((index, input, id));
                    }
                    Err(e) => {
                        failure = Some((usize::MAX, self.selector_failed(selector, e)));
                        break;
                    }
                }
            }
            let launched = !batch.is_empty();
            self.launch(&mut batch, &mut running, &mut completed, failure.is_some())
                .await;
            if completed.succeeded.is_empty() && completed.failed.is_none() && failure.is_none() {
                match running.next().await {
                    Some((index, outcome)) => self.complete(&mut completed, index, outcome),
                    None if launched => continue,
                    None => break,
                }
            }
            for (index, cursor) in completed.succeeded.drain(..) {
                self.last_succeeded = self.event(
                    "MapIterationSucceeded",
                    "mapIterationSucceededEventDetails",
                    cursor,
                    index,
                );
                self.prev_start = cursor;
                if self.durable.is_some() {
                    self.ended(index, cursor);
                }
            }
            if let Some(f) = completed.failed.take() {
                failure = Some(f);
            }
            if failure.is_some() {
                break;
            }
        }
        failure
    }

    /// Starts the iterations of `batch`, one future at a time (iterations
    /// that do not wait never live at the same time); adds those done in
    /// their first poll to `completed` (empty on entry). Their outputs go
    /// to the results at once, their events follow the batch. An iteration
    /// that pauses (see [`Run::pause_due`]) leaves the rest of the batch
    /// for later: they would pause at once too, and all live at the same
    /// time. A failure drops the rest.
    async fn launch(
        &mut self,
        batch: &mut VecDeque<(usize, Payload, u64)>,
        running: &mut FuturesUnordered<Iteration<'a>>,
        completed: &mut Completed,
        failed: bool,
    ) {
        let (processor, plan) = self.machine;
        while let Some((index, input, id)) = batch.pop_front() {
            if failed || completed.failed.is_some() {
                batch.clear();
                break;
            }
            let mut child = self.thread(index, id);
            let mut fut = if plan.settles && self.durable.is_none() {
                match run_sub_now(self.run, (processor, plan), input, &mut child) {
                    Settled::Done(outcome) => {
                        self.complete(completed, index, outcome);
                        continue;
                    }
                    // the rest runs as an iteration that waits
                    Settled::Paused(next, input) => {
                        run_rest(self.run, (processor, plan), (next, input), child)
                    }
                }
            } else {
                run_sub(self.run, (processor, plan), input, child)
            };
            if self.run.pause_due() {
                // its first poll pauses: left to the FuturesUnordered, whose
                // poll then returns Pending to the caller's executor
                running.push(Iteration { index, future: fut });
                break;
            }
            match futures::poll!(&mut fut) {
                Poll::Ready(outcome) => self.complete(completed, index, outcome),
                Poll::Pending => running.push(Iteration { index, future: fut }),
            }
        }
    }

    /// The failure of the ItemSelector of the next iteration, following the
    /// last event of the Map's line: a JSONata one records `EvaluationFailed`
    /// first (AWS's recordings show it for the Map's `Items`; that it follows
    /// that event for the ItemSelector is inferred).
    fn selector_failed(&self, selector: &Selector<'_>, error: StatesError) -> Failure {
        let f = selector.error(error, self.prev_start);
        if f.error.name != ErrorName::QueryEvaluationError {
            return f;
        }
        let event = evaluation_failed(self.run, self.sink, selector.name, &f.error, f.event);
        Failure { event, ..f }
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

/// The id of the attempt's `MapStateStarted` (`n` items): emitted now, or,
/// in an attempt resumed from a checkpoint, the one emitted before.
pub(super) fn map_started(cx: &mut StateCx<'_, '_>, attempt: &Attempt<'_>, n: usize) -> u64 {
    match &attempt.inside {
        Some(inside) => inside.started,
        None => cx.emit_next(
            "MapStateStarted",
            Some("mapStateStartedEventDetails"),
            || details([("length", Value::from(n))]),
        ),
    }
}

#[cfg(test)]
mod tests;
