//! The Parallel state, and what it shares with Map: the bound of an array
//! of results, the `...StateAborted` events of cancelled children, and
//! the result side (Assign, ResultSelector, ResultPath, OutputPath).

use crate::definition::{Assign, Io, Parallel, ResultHandling};
use crate::engine::drive::Run;
use crate::engine::events::{self, EventSink, KIND_NONE, KIND_TASK};
use crate::engine::inspect::NoInspect;
use crate::engine::io::{self, ResultFields};
use crate::engine::jsonata;
use crate::engine::retry::{self, retry_loop};
use crate::engine::walk::{run_sub, run_sub_now, Failure, Settled, StateCx, Step, SubOutcome};
use crate::engine::walk::{Thread, Vars};
use crate::json::{add, build_cap, Budget, Measure, Payload};
use crate::jsonpath::data_flow;
use futures::future::FutureExt;
use futures::stream::{FuturesUnordered, StreamExt};
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicU8, Ordering};

/// Runs a Parallel state on `input`: every branch on the effective input,
/// under Retry and Catch.
pub(crate) async fn parallel<'x>(
    cx: &mut StateCx<'_, 'x>,
    s: &'x Parallel,
    input: Payload,
) -> Result<Step, Failure> {
    let bounds = cx.bounds();
    let fields = (s.io.input_path(), s.io.parameters());
    let raw = (&input.value, input.bound);
    let branch_input = if cx.plan.jsonata {
        jsonata::arguments(&s.io, &input.value, &cx.jx()).map(|v| bounds.measured(v))
    } else {
        data_flow::effective_input(bounds, fields, raw, &cx.scope())
    }
    .map_err(|e| cx.error(e))?;
    let branch_input = &branch_input;
    let outcome = retry_loop!(cx, &s.result_handling.retry, Some("ParallelStateFailed"), _retry_count => {
        parallel_attempt(cx, s, branch_input).await
    });
    finish(
        cx,
        (&s.io, s.assign.as_ref(), &s.result_handling),
        input,
        outcome,
    )
}

/// The common end of a Parallel or Map state (its `io`, `assign` and
/// result handling given): a failure of its branches or iterations goes to
/// its catchers; their `results` go through Assign, ResultSelector,
/// ResultPath and OutputPath (or Output in JSONata).
pub(crate) fn finish(
    cx: &mut StateCx<'_, '_>,
    (io, assign, handling): (&Io, Option<&Assign>, &ResultHandling),
    input: Payload,
    outcome: Result<Payload, Failure>,
) -> Result<Step, Failure> {
    let results = match outcome {
        Ok(results) => results,
        Err(failure) => {
            return retry::catch(cx, &handling.catch, (&input.value, input.bound), failure)
        }
    };
    let fields = &ResultFields {
        output: jsonata::io_output(io),
        assign,
        result_selector: handling.result_selector.as_ref(),
        selector_move: cx.plan.selector_move.as_ref(),
        result_path: handling.result_path.as_ref(),
        output_path: io.output_path(),
    };
    let r = if cx.plan.jsonata {
        let fields = (fields.assign, fields.output);
        jsonata::result_output(cx.bounds(), fields, (&input.value, results), &cx.jx())
    } else {
        io::results_to_output(
            cx.bounds(),
            fields,
            (input, results),
            &cx.scope(),
            &mut NoInspect,
        )
    };
    match r {
        Ok((out, assigned)) => cx.finish(out, cx.plan.next, assigned),
        Err(e) => Err(cx.error(e)),
    }
}

/// One attempt: every branch on `input`; the first failure cancels the
/// others.
async fn parallel_attempt<'x>(
    cx: &mut StateCx<'_, 'x>,
    s: &'x Parallel,
    input: &Payload,
) -> Result<Payload, Failure> {
    let (run, sp, s_name) = (cx.run, cx.plan, cx.name());
    let started = cx.emit_next("ParallelStateStarted", None, Map::new);
    let th = &mut *cx.th;
    let n = s.branches.len();
    let slots: Vec<AtomicU8> = (0..n).map(|_| AtomicU8::new(KIND_NONE)).collect();
    let mut results: Vec<Option<Value>> = vec![None; n];
    let mut results_bound = ArrayBound::new(n);
    // the results are refused once they pass the build cap, as they come in
    let mut results_budget = Budget::new(run.limits.max_payload_bytes.map(build_cap));
    let brackets = results_budget.take(1 + n.max(1));
    let name = s_name;
    let mut last = started;
    // a branch's end: its result kept in branch order, or its failure
    let mut record = |i: usize, outcome: SubOutcome| match outcome.result {
        Ok(v) if !brackets || !results_budget.take_value(&v) => {
            let error = crate::error::name_state(crate::error::result_too_big(), name);
            // no branch failed: the state did
            Some((n, Failure::new(error, outcome.cursor)))
        }
        Ok(v) => {
            results[i] = Some(v);
            results_bound.add(outcome.bound);
            last = outcome.cursor;
            None
        }
        Err(f) => Some((i, f)),
    };
    let branches = s.branches.iter().zip(&sp.children).enumerate();
    let (vars, sink, slots_ref) = (&th.vars, th.sink, &slots);
    let child = move |i: usize| Thread::new(started, Vars::child(vars), sink, Some(&slots_ref[i]));
    let failure = if sp.children.iter().all(|p| p.settles) {
        // no branch waits: each runs to its end in turn, as the futures
        // below would be (polled in order, each done in its first poll)
        let mut failure = None;
        for (i, (branch, plan)) in branches {
            let input = Payload::new(input.value.clone(), input.bound);
            let outcome = match run_sub_now(run, (branch, plan), input, child(i)) {
                Settled::Done(outcome) => outcome,
                Settled::Paused(rest) => rest.await,
            };
            if let Some(f) = record(i, outcome) {
                failure = Some(f);
                break;
            }
        }
        failure
    } else {
        // each branch holds a copy of the input while it runs: past the
        // build cap, the next branch starts when one ends
        let cap = run.limits.max_payload_bytes.map_or(usize::MAX, build_cap);
        let (mut branches, mut held) = (branches, 0usize);
        let mut running = FuturesUnordered::new();
        let mut failure = None;
        loop {
            while held <= cap || running.is_empty() {
                let Some((i, (branch, plan))) = branches.next() else {
                    break;
                };
                held = held.saturating_add(input.bound.bytes);
                let input = Payload::new(input.value.clone(), input.bound);
                running.push(run_sub(run, (branch, plan), input, child(i)).map(move |o| (i, o)));
            }
            let Some((i, outcome)) = running.next().await else {
                break;
            };
            held = held.saturating_sub(input.bound.bytes);
            if let Some(f) = record(i, outcome) {
                failure = Some(f);
                break;
            }
        }
        failure
    };
    if let Some((i, f)) = failure {
        if f.in_task {
            abort_events(run, th.sink, f.event, KIND_TASK);
        }
        for (j, slot) in slots.iter().enumerate() {
            if j != i && results[j].is_none() {
                abort_events(run, th.sink, f.event, slot.load(Ordering::Relaxed));
            }
        }
        return Err(Failure {
            in_task: false,
            ..f
        });
    }
    th.cursor = last;
    run.emit(th, last, "ParallelStateSucceeded", None, Map::new);
    let results = results.into_iter().map(Option::unwrap_or_default).collect();
    Ok(Payload::new(Value::Array(results), results_bound.0))
}

/// Emits the `...StateAborted` event of a cancelled child in a state of
/// `kind`.
pub(crate) fn abort_events(run: &Run<'_>, sink: &EventSink, prev: u64, kind: u8) {
    if let Some(ty) = events::aborted_type(kind) {
        sink.emit(run.clock, prev, ty, None, Map::new);
    }
}

/// Bounds an array from bounds of its items.
pub(crate) struct ArrayBound(pub Measure);

impl ArrayBound {
    /// Brackets and commas of `n` items.
    pub(crate) fn new(n: usize) -> Self {
        ArrayBound(Measure {
            bytes: 1 + n.max(1),
            depth: 1,
        })
    }

    pub(crate) fn add(&mut self, item: Measure) {
        self.0.bytes = add(self.0.bytes, item.bytes);
        self.0.depth = self.0.depth.max(add(item.depth, 1));
    }
}
