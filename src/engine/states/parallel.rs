//! The Parallel state, and what it shares with Map: the bound of an array
//! of results, the `...StateAborted` events of cancelled children, and
//! the result side (Assign, ResultSelector, ResultPath, OutputPath).

use crate::definition::{Assign, Io, Parallel, ResultHandling};
use crate::engine::checkpoint::{self, CheckpointSink, Inside, Position, RetryPoint};
use crate::engine::checkpoint::{RetryResume, UnderWay};
use crate::engine::drive::Run;
use crate::engine::events::{self, EventSink, KIND_NONE, KIND_TASK};
use crate::engine::inspect::NoInspect;
use crate::engine::io::{self, ResultFields};
use crate::engine::jsonata;
use crate::engine::live::PlaceKind;
use crate::engine::plan::StatePlan;
use crate::engine::retry::{self, retry_loop};
use crate::engine::walk::{run_rest, run_sub, run_sub_now, Failure, Settled, StateCx, Step};
use crate::engine::walk::{SubOutcome, Thread};
use crate::json::{add, build_cap, Budget, Measure, Payload};
use crate::jsonpath::data_flow;
use futures::future::FutureExt;
use futures::stream::{FuturesUnordered, StreamExt};
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicU8, Ordering};

/// Runs a Parallel state on `input`: every branch on the effective input,
/// under Retry and Catch; in a durable run, from the point of a checkpoint
/// when there is one (`resume`: the retriers' counters, and the attempt
/// under way with its branches' checkpoints).
pub(crate) async fn parallel<'x>(
    cx: &mut StateCx<'_, 'x>,
    s: &'x Parallel,
    input: Payload,
    resume: Option<RetryResume>,
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
    // the attempt is boxed apart from this future: together they passed
    // 1 KiB, a size glibc's malloc serves by first consolidating its fast
    // bins, which then made the small allocations of every state that
    // followed take its slow path (+5% instructions on a fan-out of Pass
    // states); apart, each stays below its small-request sizes
    let (mut inside, resume) = under_way(resume);
    let outcome = {
        let durable = (cx.run.checkpoints_on(cx.th)).map(|_| RetryPoint {
            input: &input.value,
            resume,
        });
        retry_loop!(cx, &s.result_handling.retry, Some("ParallelStateFailed"), durable, retry_count, counters => {
            let attempt = Attempt {
                state_input: &input.value,
                counters: &counters,
                retry_count,
                inside: inside.take(),
            };
            Box::pin(parallel_attempt(cx, s, branch_input, attempt)).await
        })
    };
    finish(
        cx,
        (&s.io, s.assign.as_ref(), &s.result_handling),
        input,
        outcome,
    )
}

/// A resumed Parallel or Map state: the attempt under way (its lines
/// below it), and the retry point.
pub(crate) fn under_way(resume: Option<RetryResume>) -> (Option<Inside>, Option<RetryResume>) {
    match resume {
        Some(RetryResume {
            counters,
            retry_count,
            until,
            under_way: UnderWay::Lines(inside),
        }) => {
            let resume = RetryResume {
                counters,
                retry_count,
                until,
                under_way: UnderWay::Nothing,
            };
            (Some(inside), Some(resume))
        }
        other => (None, other),
    }
}

/// What a Parallel or Map attempt of a durable run checkpoints: the state
/// input, the retriers' counters and the retry count, and (resumed) the
/// attempt it goes on with.
pub(crate) struct Attempt<'a> {
    pub state_input: &'a Value,
    pub counters: &'a [u64],
    pub retry_count: u32,
    pub inside: Option<Inside>,
}

impl Attempt<'_> {
    /// Where a Parallel or Map state `cx` is while its attempt runs.
    pub(crate) fn position(
        &self,
        cx: &StateCx<'_, '_>,
        started: u64,
        (last, prev_start): (u64, u64),
    ) -> Position {
        Position::Inside {
            state: cx.state.name.clone(),
            entered: cx.entered,
            before_entered: cx.before_entered,
            entered_time: cx.entered_time,
            started,
            counters: self.counters.to_vec(),
            retry_count: self.retry_count,
            last,
            prev_start,
        }
    }
}

/// The common end of a Parallel or Map state (its `io`, `assign` and
/// result handling given): a failure of its branches or iterations goes to
/// its catchers; their `results` go through Assign, ResultSelector,
/// ResultPath and OutputPath (or Output in JSONata). In a durable run, the
/// lines of its branches or iterations are done with, unless it fails
/// (a redrive goes on with them).
pub(crate) fn finish(
    cx: &mut StateCx<'_, '_>,
    fields: (&Io, Option<&Assign>, &ResultHandling),
    input: Payload,
    outcome: Result<Payload, Failure>,
) -> Result<Step, Failure> {
    let step = finish_with(cx, fields, input, outcome);
    if step.is_ok() {
        if let Some(sink) = cx.run.checkpoints_on(cx.th) {
            sink.remove_lines(&checkpoint::children_of(&cx.th.line, cx.name()));
        }
    }
    step
}

fn finish_with(
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
/// others. In a durable run each branch is a line of its own: started
/// with a checkpoint, ended with one (its result), and a resumed attempt
/// goes on with the branches as their checkpoints left them.
async fn parallel_attempt<'x>(
    cx: &mut StateCx<'_, 'x>,
    s: &'x Parallel,
    input: &Payload,
    attempt: Attempt<'_>,
) -> Result<Payload, Failure> {
    let (run, sp, s_name) = (cx.run, cx.plan, cx.name());
    let started = match attempt.inside {
        Some(inside) => inside.started,
        None => cx.emit_next("ParallelStateStarted", None, Map::new),
    };
    let durable = run.checkpoints_on(cx.th);
    let mut last = attempt.inside.map_or(started, |i| i.last);
    let position = |cx: &StateCx<'_, '_>, last| attempt.position(cx, started, (last, 0));
    if let Some(sink) = durable {
        checkpoint::record(run, sink, position(cx, last), attempt.state_input, cx.th);
    }
    let resumed = attempt.inside.is_some();
    let inside_at = durable.map(|_| position(cx, last));
    let th = &mut *cx.th;
    let n = s.branches.len();
    let slots: Vec<AtomicU8> = (0..n).map(|_| AtomicU8::new(KIND_NONE)).collect();
    let mut results: Vec<Option<Value>> = vec![None; n];
    // the results are refused once they pass the build cap, as they come in
    let mut taken = Results::new(run, n);
    let name = s_name;
    let line_of = |i: usize| durable.map(|_| checkpoint::child_line(&th.line, name, i));
    // a branch's end: its result kept in branch order, or its failure
    let mut inside_at = inside_at;
    let mut record = |i: usize, outcome: SubOutcome| match outcome.result {
        Ok(v) if !taken.take((i, &v, outcome.bound), |j| results[j].as_ref()) => {
            let error = crate::error::name_state(crate::error::result_too_big(), name);
            // no branch failed: the state did
            Some((n, Failure::new(error, outcome.cursor)))
        }
        Ok(v) => {
            if let (Some(sink), Some(line)) = (durable, line_of(i)) {
                checkpoint::record_done(
                    run,
                    sink,
                    line,
                    (Position::Done, &v, outcome.cursor),
                    None,
                );
                if let Some(Position::Inside { last, .. }) = inside_at.as_mut() {
                    *last = outcome.cursor;
                }
                if let Some(at) = inside_at.clone() {
                    checkpoint::record(run, sink, at, attempt.state_input, th);
                }
            }
            results[i] = Some(v);
            last = outcome.cursor;
            None
        }
        Err(f) => Some((i, f)),
    };
    let (vars, sink, slots_ref, watch) = (&th.vars, th.sink, &slots, th.watch.as_ref());
    let child = move |i: usize| {
        let place = (watch, PlaceKind::Branch, i);
        Thread::child((started, sink), vars, &slots_ref[i], place, line_of(i))
    };
    let failure = if durable.is_none() && sp.children.iter().all(|p| p.settles) {
        in_turn(run, (s, sp), input, &child, &mut record).await
    } else {
        let durable = durable.map(|sink| (sink, resumed));
        concurrently(run, (s, sp), input, durable, &child, &mut record).await
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
    let bound = taken.bound();
    let results = results.into_iter().map(Option::unwrap_or_default).collect();
    Ok(Payload::new(Value::Array(results), bound))
}

/// Runs the branches of a Parallel state none of which waits: each to its
/// end in turn, as the futures of [`concurrently`] would be (polled in
/// order, each done in its first poll); gives the failure that ends the
/// state.
async fn in_turn<'y>(
    run: &'y Run<'y>,
    (s, sp): (&'y Parallel, &'y StatePlan),
    input: &Payload,
    child: &impl Fn(usize) -> Thread<'y>,
    record: &mut impl FnMut(usize, SubOutcome) -> Option<(usize, Failure)>,
) -> Option<(usize, Failure)> {
    for (i, (branch, plan)) in s.branches.iter().zip(&sp.children).enumerate() {
        let input = Payload::new(input.value.clone(), input.bound);
        let mut th = child(i);
        let outcome = match run_sub_now(run, (branch, plan), input, &mut th) {
            Settled::Done(outcome) => outcome,
            Settled::Paused(next, input) => run_rest(run, (branch, plan), (next, input), th).await,
        };
        if let Some(f) = record(i, outcome) {
            return Some(f);
        }
    }
    None
}

/// Runs the branches of a Parallel state as futures polled together; in
/// a durable run (`durable`: where its checkpoints go, and whether the
/// attempt is resumed) each starts with a checkpoint, and a resumed one
/// goes on from its own. Each branch holds a copy of the input while it
/// runs: past the build cap, the next branch starts when one ends. Gives
/// the failure that ends the state.
async fn concurrently<'y>(
    run: &'y Run<'y>,
    (s, sp): (&'y Parallel, &'y StatePlan),
    input: &Payload,
    durable: Option<(&'y dyn CheckpointSink, bool)>,
    child: &impl Fn(usize) -> Thread<'y>,
    record: &mut impl FnMut(usize, SubOutcome) -> Option<(usize, Failure)>,
) -> Option<(usize, Failure)> {
    let cap = run.limits.max_payload_bytes.map_or(usize::MAX, build_cap);
    let mut branches = s.branches.iter().zip(&sp.children).enumerate();
    let mut held = 0usize;
    let mut running = FuturesUnordered::new();
    loop {
        while held <= cap || running.is_empty() {
            let Some((i, (branch, plan))) = branches.next() else {
                break;
            };
            let th = child(i);
            let line = durable.map(|(sink, resumed)| {
                let loaded = resumed.then(|| run.take_line(&th.line)).flatten();
                (sink, loaded)
            });
            let future = match line {
                Some((_, Some(done))) if done.at == Position::Done => {
                    let outcome = SubOutcome {
                        bound: run.measure(&done.input),
                        result: Ok(done.input),
                        cursor: done.cursor,
                    };
                    if let Some(f) = record(i, outcome) {
                        return Some(f);
                    }
                    continue;
                }
                Some((_, Some(checkpoint))) => {
                    checkpoint::resume_sub(run, (branch, plan), checkpoint, th)
                }
                Some((sink, None)) => {
                    let at = Position::Enter {
                        state: branch.start_at.clone(),
                    };
                    checkpoint::record(run, sink, at, &input.value, &th);
                    let input = Payload::new(input.value.clone(), input.bound);
                    run_sub(run, (branch, plan), input, th)
                }
                None => {
                    let input = Payload::new(input.value.clone(), input.bound);
                    run_sub(run, (branch, plan), input, th)
                }
            };
            held = held.saturating_add(input.bound.bytes);
            running.push(future.map(move |o| (i, o)));
        }
        let (i, outcome) = running.next().await?;
        held = held.saturating_sub(input.bound.bytes);
        if let Some(f) = record(i, outcome) {
            return Some(f);
        }
    }
}

/// Emits the `...StateAborted` event of a cancelled child in a state of
/// `kind`.
pub(crate) fn abort_events(run: &Run<'_>, sink: &EventSink, prev: u64, kind: u8) {
    if let Some(ty) = events::aborted_type(kind) {
        sink.emit(run.clock, prev, ty, None, Map::new);
    }
}

/// The results of a Parallel's branches or a Map's iterations as they
/// come in, held to the build cap of the payload limit, and the bound of
/// their array.
///
/// A result is first counted by its bound; only when the bounds counted
/// pass what the cap leaves are the results counted so far measured (each
/// once, stopping at what is left). The results are refused at the same
/// result as if each had been measured as it came in: no result past the
/// cap goes unseen, and a run whose bounds stay within it measures nothing.
pub(crate) struct Results {
    /// What the results measured leave of the cap (brackets and commas
    /// taken first).
    left: Budget,
    /// The cap: `left` taken from it is what the measured results hold.
    cap: usize,
    /// The results counted by their bounds, not measured yet: their
    /// indices and the sum of their bounds (at most `left`).
    counted: (Vec<usize>, usize),
    bound: ArrayBound,
}

impl Results {
    /// The budget of the results of `n` branches or iterations under the
    /// execution's payload limit.
    pub(crate) fn new(run: &Run<'_>, n: usize) -> Self {
        Results::within(run.limits.max_payload_bytes.map(build_cap), n)
    }

    /// The budget of the results of `n` branches or iterations held to
    /// `cap` bytes (`None`: unbounded).
    fn within(cap: Option<usize>, n: usize) -> Self {
        let mut left = Budget::new(cap);
        if !left.take(1 + n.max(1)) {
            // not even the brackets fit: every result is refused
            left = Budget::new(Some(0));
        }
        Results {
            left,
            cap: cap.unwrap_or(usize::MAX),
            counted: (Vec::new(), 0),
            bound: ArrayBound::new(n),
        }
    }

    /// Takes result `index` (`value`, bounded by `bound`); false when the
    /// results so far pass the cap. `held` gives the results taken before
    /// (by index), for measuring.
    #[inline]
    pub(crate) fn take<'v>(
        &mut self,
        (index, value, bound): (usize, &Value, Measure),
        held: impl Fn(usize) -> Option<&'v Value>,
    ) -> bool {
        if self.left.is_bounded() {
            let (indices, sum) = &mut self.counted;
            let counted = sum.saturating_add(bound.bytes);
            if counted <= self.left.left() {
                *sum = counted;
                indices.push(index);
            } else {
                // the bounds pass what is left: the results counted by
                // them are measured (they fit: each is within its bound),
                // then this one
                for i in indices.drain(..) {
                    if !held(i).is_some_and(|v| self.left.take_value(v)) {
                        return false;
                    }
                }
                *sum = 0;
                if !self.left.take_value(value) {
                    return false;
                }
            }
        }
        self.bound.add(bound);
        true
    }

    /// Bounds the array of the results taken.
    pub(crate) fn bound(&self) -> Measure {
        let mut bound = self.bound.0;
        if self.left.is_bounded() {
            // the measured results and the bounds of the others
            let known = add(self.cap - self.left.left(), self.counted.1);
            bound.bytes = bound.bytes.min(known);
        }
        bound
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

#[cfg(test)]
mod tests {
    use super::Results;
    use crate::json::Measure;
    use serde_json::{json, Value};
    use std::cell::Cell;

    fn bytes(bytes: usize) -> Measure {
        Measure { bytes, depth: 1 }
    }

    #[test]
    fn results_within_the_cap_by_their_bounds_are_not_measured() {
        let mut results = Results::within(Some(100), 3);
        let measured = Cell::new(0);
        let held = |_| {
            measured.set(measured.get() + 1);
            None::<&Value>
        };
        for i in 0..3 {
            assert!(results.take((i, &json!("x"), bytes(30)), held));
        }
        assert_eq!(measured.get(), 0);
        // brackets and commas, and the three bounds
        assert_eq!(results.bound().bytes, 4 + 90);
    }

    #[test]
    fn results_with_loose_bounds_are_refused_only_past_the_cap() {
        // 96 bytes left after the brackets and commas of 3 results of 42
        let value = json!("x".repeat(40));
        let loose = bytes(1000);
        let mut results = Results::within(Some(100), 3);
        let held: Vec<Value> = vec![value.clone(); 3];
        assert!(results.take((0, &value, loose), |i| held.get(i)));
        assert!(results.take((1, &value, loose), |i| held.get(i)));
        assert!(!results.take((2, &value, loose), |i| held.get(i)));
        // two of them fit exactly
        let mut results = Results::within(Some(88), 2);
        assert!(results.take((0, &value, loose), |i| held.get(i)));
        assert!(results.take((1, &value, loose), |i| held.get(i)));
        assert_eq!(results.bound().bytes, 3 + 84);
    }

    #[test]
    fn results_counted_by_their_bounds_are_measured_once_the_bounds_pass_the_cap() {
        let value = json!("x".repeat(40));
        let held: Vec<Value> = vec![value.clone(); 3];
        let measured = Cell::new(0);
        let counting = |i: usize| {
            measured.set(measured.get() + 1);
            held.get(i)
        };
        let mut results = Results::within(Some(200), 3);
        // 42 bytes each, bounded by 60: the third passes the 196 left
        assert!(results.take((0, &value, bytes(60)), counting));
        assert!(results.take((1, &value, bytes(60)), counting));
        assert_eq!(measured.get(), 0);
        assert!(results.take((2, &value, bytes(100)), counting));
        assert_eq!(measured.get(), 2);
        assert_eq!(results.bound().bytes, 4 + 3 * 42);
    }

    #[test]
    fn without_a_cap_no_result_is_refused_or_measured() {
        let mut results = Results::within(None, 2);
        let unknown = Measure::UNKNOWN;
        assert!(results.take((0, &json!(1), unknown), |_| None));
        assert!(results.take((1, &json!(2), unknown), |_| None));
        assert_eq!(results.bound(), Measure::UNKNOWN);
    }
}
