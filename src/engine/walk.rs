//! The state loop: a line of states (the top level, a Parallel branch, a
//! Map iteration) walked from its start to its end, one state at a time,
//! and what every state shares: its arrival (limits, `...StateEntered`,
//! the context object) and its end (payload limits, variables,
//! `...StateExited`).

use super::drive::{Exceeded, Run};
use super::events::{self, bump, details, text, EventSink};
use super::events::{KIND_NONE, KIND_OTHER, KIND_TASK, KIND_WAIT};
use super::live::{LineGuard, Live, PlaceKind};
use super::plan::{Next, StatePlan, SubPlan};
use super::{states, Limits};
use crate::definition::{State, StateKind, SubMachine};
use crate::error::{self, ErrorName, StatesError};
use crate::json::{Bounds, Measure, Payload};
use crate::jsonpath::path::{Scope, Variables};
use crate::jsonpath::BuildLimits;
use futures::future::BoxFuture;
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::SystemTime;

/// A failure travelling up: the error, and the event it happened at (for
/// `previousEventId` linkage).
#[derive(Debug)]
pub(crate) struct Failure {
    pub error: StatesError,
    pub event: u64,
    /// A heartbeat expiry (raised as `States.Timeout`).
    pub heartbeat: bool,
    /// The failing state was a Task that did not exit.
    pub in_task: bool,
    /// Retry and Catch may take it: false for `States.Runtime` and for a
    /// state output over the payload limit.
    pub catchable: bool,
}

impl Failure {
    pub(crate) fn new(error: StatesError, event: u64) -> Self {
        Failure {
            catchable: !matches!(
                error.name,
                ErrorName::Runtime | ErrorName::DataLimitExceeded
            ),
            error,
            event,
            heartbeat: false,
            in_task: false,
        }
    }

    /// A task timeout (`States.Timeout` or `States.HeartbeatTimeout`
    /// without a cause) that one of `catchers` takes gets an empty cause:
    /// AWS's catcher receives `{"Error": "States.Timeout", "Cause": ""}`
    /// (recorded for `lambda:invoke`), while the history and an uncaught
    /// failure keep no cause. Any other failure is unchanged.
    pub(crate) fn caught_timeout(mut self, catchers: &[crate::definition::Catcher]) -> Self {
        let timeout = matches!(
            self.error.name,
            ErrorName::Timeout | ErrorName::HeartbeatTimeout
        );
        if timeout
            && self.error.cause.is_none()
            && super::retry::catcher_for(catchers, &self).is_some()
        {
            self.error.cause = Some(String::new());
        }
        self
    }
}

/// Workflow variables of one scope: the top level, a Parallel branch or a
/// Map iteration (which read their parents' variables).
pub(crate) struct Vars<'p> {
    local: Map<String, Value>,
    parent: Option<&'p Vars<'p>>,
    /// The execution's limits (a scope has its parent's): what expressions
    /// over these variables may build.
    limits: Option<&'p Limits>,
    /// Bytes of the values in `local` (counted while a variable byte limit
    /// is on).
    bytes: usize,
    /// At the root: the bytes of the variables of every scope alive.
    total: AtomicUsize,
}

impl<'p> Vars<'p> {
    fn new(parent: Option<&'p Vars<'p>>, limits: Option<&'p Limits>) -> Self {
        Vars {
            local: Map::new(),
            parent,
            limits,
            bytes: 0,
            total: AtomicUsize::new(0),
        }
    }

    /// The variables of an execution under `limits`.
    pub(crate) fn root_with(limits: &'p Limits) -> Self {
        Vars::new(None, Some(limits))
    }

    /// The variables of this scope alone.
    pub(crate) fn local(&self) -> &Map<String, Value> {
        &self.local
    }

    /// Puts back the variables of a checkpoint, counted as a state's
    /// `Assign` counts them.
    pub(crate) fn restore(&mut self, values: Map<String, Value>) {
        let counted = self.limits.is_some_and(|l| {
            l.max_variable_bytes.is_some()
                || l.max_assign_bytes.is_some()
                || l.max_variables_total_bytes.is_some()
        });
        let added = if counted {
            values
                .values()
                .fold(0usize, |n, v| n.saturating_add(crate::json::json_len(v)))
        } else {
            0
        };
        self.store(values, (added, 0));
    }

    pub(crate) fn child(parent: &'p Vars<'p>) -> Self {
        Vars::new(Some(parent), parent.limits)
    }

    /// The bytes of the variables of every scope alive, kept at the root.
    fn total(&self) -> &AtomicUsize {
        match self.parent {
            Some(parent) => parent.total(),
            None => &self.total,
        }
    }

    /// Stores `values`, which add `added` bytes and replace values of
    /// `replaced` bytes.
    fn store(&mut self, values: Map<String, Value>, (added, replaced): (usize, usize)) {
        for (k, v) in values {
            self.local.insert(k, v);
        }
        self.bytes = self.bytes.saturating_add(added).saturating_sub(replaced);
        let total = self.total();
        let now = total.load(Ordering::Relaxed);
        total.store(
            now.saturating_add(added).saturating_sub(replaced),
            Ordering::Relaxed,
        );
    }
}

impl Drop for Vars<'_> {
    /// A branch or iteration that ends gives its variables' bytes back.
    fn drop(&mut self) {
        if self.parent.is_some() && self.bytes > 0 {
            let total = self.total();
            let now = total.load(Ordering::Relaxed);
            total.store(now.saturating_sub(self.bytes), Ordering::Relaxed);
        }
    }
}

impl Variables for Vars<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        match self.local.get(name) {
            Some(v) => Some(v),
            None => self.parent.and_then(|p| p.get(name)),
        }
    }

    fn build_limits(&self) -> BuildLimits {
        match self.limits {
            Some(l) => BuildLimits::new()
                .with_payload_bytes(l.max_payload_bytes)
                .with_variable_bytes(l.max_variable_bytes)
                .with_assign_bytes(l.max_assign_bytes),
            None => BuildLimits::new(),
        }
    }
}

/// One line of states being walked: the top level, a branch, an
/// iteration.
pub(crate) struct Thread<'x> {
    pub cursor: u64,
    pub vars: Vars<'x>,
    pub sink: &'x EventSink,
    /// The kind of state this thread is in (for the `...StateAborted`
    /// events of a cancelled sibling).
    pub slot: Option<&'x AtomicU8>,
    /// In a watched execution: this line, for the states in flight.
    pub watch: Option<LineGuard<'x>>,
    /// Durable runs: this line is checkpointed (every line is, the
    /// branches of Parallel states and the iterations of Map states too).
    pub checkpointed: bool,
    /// Durable runs: the line's path (`""` for the top level, see
    /// [`child_line`](super::checkpoint::child_line)).
    pub line: String,
    /// Durable runs: transitions recorded since the line's last commit
    /// (see [`SHARED_COMMIT`](super::checkpoint::SHARED_COMMIT)).
    pub uncommitted: u32,
}

impl<'x> Thread<'x> {
    /// A line of states starting after event `cursor`, with variables
    /// `vars`, reporting its state's kind in `slot`.
    pub(crate) fn new(
        cursor: u64,
        vars: Vars<'x>,
        sink: &'x EventSink,
        slot: Option<&'x AtomicU8>,
    ) -> Self {
        Thread {
            cursor,
            vars,
            sink,
            slot,
            watch: None,
            checkpointed: false,
            line: String::new(),
            uncommitted: 0,
        }
    }

    /// In a durable run, makes this the checkpointed line `line`.
    pub(crate) fn durable(mut self, line: Option<String>) -> Self {
        if let Some(line) = line {
            self.checkpointed = true;
            self.line = line;
        }
        self
    }

    /// Makes this the top-level line of a watched execution.
    pub(crate) fn watch_top(&mut self, live: &'x Live) {
        self.watch = live.open_line(None).map(|line| LineGuard { live, line });
    }

    /// Branch or iteration `index` (`kind`) of a Parallel or Map state on
    /// line `parent`: starts after event `cursor`, reads its parent's
    /// variables through `vars`, reports its state's kind in `slot`; a line
    /// of its own when the parent's is watched, checkpointed as `line` in a
    /// durable run. Built in one piece: a Map builds one per item.
    pub(crate) fn child(
        (cursor, sink): (u64, &'x EventSink),
        vars: &'x Vars<'x>,
        slot: &'x AtomicU8,
        (parent, kind, index): (Option<&LineGuard<'x>>, PlaceKind, usize),
        line: Option<String>,
    ) -> Self {
        Thread {
            cursor,
            vars: Vars::child(vars),
            sink,
            slot: Some(slot),
            watch: parent.and_then(|p| p.child(kind, index)),
            checkpointed: line.is_some(),
            line: line.unwrap_or_default(),
            uncommitted: 0,
        }
    }
}

/// What a finished sub-machine gives back.
pub(crate) struct SubOutcome {
    pub result: Result<Value, Failure>,
    /// Bounds the output (when there is one).
    pub bound: Measure,
    pub cursor: u64,
}

impl SubOutcome {
    /// The end of a sub-machine run on `th`: a success clears the thread's
    /// slot: a finished thread has no state left to report as aborted.
    pub(crate) fn ended(result: Result<Payload, Failure>, th: &Thread<'_>) -> SubOutcome {
        if let Some(slot) = th.slot {
            if result.is_ok() {
                slot.store(KIND_NONE, Ordering::Relaxed);
            }
        }
        let (result, bound) = match result {
            Ok(output) => (Ok(output.value), output.bound),
            Err(f) => (Err(f), Measure::UNKNOWN),
        };
        SubOutcome {
            result,
            bound,
            cursor: th.cursor,
        }
    }
}

/// The end of one state: its output and where to go next.
pub(crate) struct Step {
    pub output: Payload,
    pub next: Next,
}

/// What the handler of one state needs: the execution, the state and its
/// plan, when it was entered (and its context object), and the line of
/// states it runs on (cursor, variables, events).
pub(crate) struct StateCx<'c, 'x> {
    pub run: &'x Run<'x>,
    pub state: &'x State,
    pub plan: &'x StatePlan,
    /// The `...StateEntered` event.
    pub entered: u64,
    /// The event before `...StateEntered` (AWS links `EvaluationFailed` to
    /// it).
    pub before_entered: u64,
    pub entered_time: SystemTime,
    /// The context object, when the state reads it.
    pub context: Option<Value>,
    pub th: &'c mut Thread<'x>,
}

impl<'x> StateCx<'_, 'x> {
    /// The state's name.
    pub(crate) fn name(&self) -> &'x str {
        &self.state.name
    }

    /// What the state's expressions see besides the data.
    #[inline]
    pub(crate) fn scope(&self) -> Scope<'_> {
        Scope {
            context: self.context.as_ref().unwrap_or(&Value::Null),
            variables: &self.th.vars,
        }
    }

    /// The payload limits the bounds are kept for.
    #[inline]
    pub(crate) fn bounds(&self) -> Bounds {
        self.run.bounds()
    }

    /// A runtime error of this state, with AWS's prefix, at the cursor.
    #[inline]
    pub(crate) fn error(&self, error: StatesError) -> Failure {
        self.error_at(error, self.th.cursor)
    }

    /// A runtime error of this state, with AWS's prefix, at `event`.
    pub(crate) fn error_at(&self, error: StatesError, event: u64) -> Failure {
        let error = prefixed(&self.state.name, self.entered, error);
        let event = if error.name == ErrorName::QueryEvaluationError {
            // AWS links it to the event before the state was entered (to
            // the entered event in a Wait state), as recorded
            let prev = match self.state.kind {
                StateKind::Wait(_) => self.entered,
                _ => self.before_entered,
            };
            self.evaluation_failed(&error, prev)
        } else {
            event
        };
        Failure::new(error, event)
    }

    /// The `EvaluationFailed` event AWS records when a JSONata field fails
    /// (with the field as `location` when the cause names one).
    pub(crate) fn evaluation_failed(&self, error: &StatesError, prev: u64) -> u64 {
        evaluation_failed(self.run, self.th.sink, &self.state.name, error, prev)
    }

    /// Emits on the state's line and moves its cursor.
    #[inline]
    pub(crate) fn emit_next(
        &mut self,
        ty: &'static str,
        key: Option<&'static str>,
        details: impl FnOnce() -> Map<String, Value>,
    ) -> u64 {
        self.run.emit_next(self.th, ty, key, details)
    }

    /// The context object of a task attempt or a Map item.
    pub(crate) fn context_with(
        &self,
        retry_count: Option<u32>,
        token: Option<&str>,
        item: Option<(usize, &Value)>,
    ) -> Value {
        self.run.context(
            &self.state.name,
            self.entered_time,
            retry_count,
            token,
            item,
        )
    }
}

/// The `EvaluationFailed` event of `state` for `error` (its cause already
/// prefixed), following event `prev`, with the field as `location` when
/// the cause names one.
pub(crate) fn evaluation_failed(
    run: &Run<'_>,
    sink: &EventSink,
    state: &str,
    error: &StatesError,
    prev: u64,
) -> u64 {
    sink.emit(
        run.clock,
        prev,
        "EvaluationFailed",
        Some("evaluationFailedEventDetails"),
        || {
            let cause = error.cause.as_deref().unwrap_or_default();
            let mut d = details([
                ("cause", Value::from(cause)),
                ("error", Value::from(error.name.as_str())),
            ]);
            if let Some(at) = super::jsonata::location_of(cause) {
                d.insert("location".into(), Value::from(at));
            }
            d.insert("state".into(), Value::from(state));
            d
        },
    )
}

/// Adds `An error occurred while executing the state ...` to errors the
/// engine raises while evaluating a state.
pub(crate) fn prefixed(state: &str, entered: u64, mut error: StatesError) -> StatesError {
    if error.name == ErrorName::DataLimitExceeded {
        return crate::error::name_state(error, state);
    }
    let cause = error.cause.take().unwrap_or_default();
    error.cause = Some(format!(
        "An error occurred while executing the state '{state}' (entered at the event id #{entered}). {cause}"
    ));
    error
}

/// Runs a sub-machine from its start to its end.
pub(crate) fn run_sub<'x>(
    run: &'x Run<'x>,
    (sm, plan): (&'x SubMachine, &'x SubPlan),
    input: Payload,
    mut th: Thread<'x>,
) -> BoxFuture<'x, SubOutcome> {
    Box::pin(async move {
        let result = walk(run, (sm, plan), input, &mut th).await;
        SubOutcome::ended(result, &th)
    })
}

/// Walks `sm` from its start to its end on `th`.
pub(crate) async fn walk<'x>(
    run: &'x Run<'x>,
    machine: (&'x SubMachine, &'x SubPlan),
    input: Payload,
    th: &mut Thread<'x>,
) -> Result<Payload, Failure> {
    walk_from(run, machine, machine.1.start, input, th).await
}

/// Walks `sm` from state `next` to its end on `th`, pausing when
/// [`pause_due`](Run::pause_due) (so that the caller's executor gets a
/// turn and an abort is seen); in a durable run, each transition is
/// checkpointed.
pub(crate) async fn walk_from<'x>(
    run: &'x Run<'x>,
    (sm, plan): (&'x SubMachine, &'x SubPlan),
    mut next: Next,
    mut input: Payload,
    th: &mut Thread<'x>,
) -> Result<Payload, Failure> {
    loop {
        let Some((state, sp)) = lookup(sm, plan, next, th.cursor)? else {
            return Ok(input);
        };
        if run.pause_due() {
            run.pause().await;
        }
        if settles_at_once(&state.kind) && run.checkpoints_on(th).is_none() {
            // states that never wait, walked without the future up to the
            // next one that may (or a due pause); a durable run checkpoints
            // each transition below instead
            match settle_from(run, (sm, plan), (next, input), th, true) {
                Walked::Ended(result) => return result,
                Walked::Paused(at, rest) => {
                    (next, input) = (at, rest);
                    continue;
                }
            }
        }
        let span = super::trace::state(state);
        // the context borrowed where `arrive` returned it, not moved out
        let step = match super::trace::in_span(&span, || arrive(run, (state, sp), &input.value, th))
        {
            Err(f) => return Err(f),
            Ok(ref mut cx) if settles_at_once(&state.kind) => {
                super::trace::in_span(&span, || settle(cx, input))?
            }
            Ok(ref mut cx) => {
                #[cfg(feature = "tracing")]
                let step = tracing::Instrument::instrument(enter(cx, input), span).await?;
                #[cfg(not(feature = "tracing"))]
                let step = enter(cx, input).await?;
                step
            }
        };
        input = step.output;
        next = step.next;
        if let Some(sink) = run.checkpoints_on(th) {
            // boxed: the walk's future stays as small as without it
            Box::pin(super::checkpoint::enter(
                run,
                sink,
                sm,
                next,
                &input.value,
                th,
            ))
            .await;
        }
    }
}

/// A sub-machine run without a future: its end, or where it had to
/// pause (the rest of its walk is [`run_rest`]'s).
pub(crate) enum Settled {
    Done(SubOutcome),
    Paused(Next, Payload),
}

/// Runs a sub-machine whose states never wait (its plan is
/// [`settles`](SubPlan::settles)) from its start to its end, without a
/// future; when a [pause](Run::pause_due) is due, stops before the state it
/// would enter next (the caller gives it and the thread to [`run_rest`]).
/// The thread is borrowed, not moved: the caller builds it in place and
/// keeps it, so the hot path of a Map iteration copies no thread.
pub(crate) fn run_sub_now<'x>(
    run: &'x Run<'x>,
    machine: (&'x SubMachine, &'x SubPlan),
    input: Payload,
    th: &mut Thread<'x>,
) -> Settled {
    match settle_from(run, machine, (machine.1.start, input), th, false) {
        Walked::Ended(result) => Settled::Done(SubOutcome::ended(result, th)),
        Walked::Paused(next, input) => Settled::Paused(next, input),
    }
}

/// The rest of a walk [`run_sub_now`] paused before `at`, as a future that
/// pauses first. It holds the walk's place, not a walk of states that may
/// wait: it stays small (no large allocation at every pause).
#[cold]
pub(crate) fn run_rest<'x>(
    run: &'x Run<'x>,
    machine: (&'x SubMachine, &'x SubPlan),
    at: (Next, Payload),
    mut th: Thread<'x>,
) -> BoxFuture<'x, SubOutcome> {
    Box::pin(async move {
        let mut at = at;
        loop {
            run.pause().await;
            match settle_from(run, machine, at, &mut th, true) {
                Walked::Ended(result) => return SubOutcome::ended(result, &th),
                Walked::Paused(next, input) => at = (next, input),
            }
        }
    })
}

/// Where [`settle_from`] stopped.
enum Walked {
    /// At the end of the sub-machine, or at a failure.
    Ended(Result<Payload, Failure>),
    /// Before this state and its input: a pause is due, or the state may
    /// wait (a Task, Wait, Parallel or Map).
    Paused(Next, Payload),
}

/// Walks states that never wait from `next` on `input` until the end of
/// the sub-machine, a due pause (not checked before the first state when
/// `resumed`: the pause has just been taken) or a state that may wait.
/// Without a future: the hot loop of a workflow of Pass and Choice states
/// stays in one frame.
#[inline(always)]
fn settle_from<'x>(
    run: &'x Run<'x>,
    (sm, plan): (&'x SubMachine, &'x SubPlan),
    (mut next, mut input): (Next, Payload),
    th: &mut Thread<'x>,
    mut resumed: bool,
) -> Walked {
    loop {
        let (state, sp) = match lookup(sm, plan, next, th.cursor) {
            Ok(Some(found)) => found,
            Ok(None) => return Walked::Ended(Ok(input)),
            Err(f) => return Walked::Ended(Err(f)),
        };
        if (!std::mem::take(&mut resumed) && run.pause_due()) || !settles_at_once(&state.kind) {
            return Walked::Paused(next, input);
        }
        // matched in place, not chained: the context is not moved through
        // a `Result` at every state (nor out of it: borrowed where it is)
        let step = super::trace::in_span(&super::trace::state(state), || {
            match arrive(run, (state, sp), &input.value, th) {
                Ok(ref mut cx) => settle(cx, input),
                Err(f) => Err(f),
            }
        });
        match step {
            Ok(step) => {
                input = step.output;
                next = step.next;
            }
            Err(f) => return Walked::Ended(Err(f)),
        }
    }
}

/// The state `next` names and its plan; `None` at the end of the
/// sub-machine. A name outside it (which validation refuses) is a runtime
/// error.
fn lookup<'x>(
    sm: &'x SubMachine,
    plan: &'x SubPlan,
    next: Next,
    cursor: u64,
) -> Result<Option<(&'x State, &'x StatePlan)>, Failure> {
    let found = match next {
        Next::End => return Ok(None),
        Next::State(i) => sm.states.get(i).zip(plan.states.get(i)),
        Next::Missing => None,
    };
    match found {
        Some(found) => Ok(Some(found)),
        None => Err(Failure::new(
            StatesError::runtime("the next state is not defined in this state machine"),
            cursor,
        )),
    }
}

/// The start of every state: the limits, the `...StateEntered` event, the
/// context object.
fn arrive<'c, 'x>(
    run: &'x Run<'x>,
    (state, sp): (&'x State, &'x StatePlan),
    input: &Value,
    th: &'c mut Thread<'x>,
) -> Result<StateCx<'c, 'x>, Failure> {
    run.check_budgets(th)?;
    if let Some(slot) = th.slot {
        slot.store(slot_kind(&state.kind), Ordering::Relaxed);
    }
    if let Some(w) = &th.watch {
        w.live
            .enter(w.line, &state.name, super::live::type_name(&state.kind));
    }
    let before_entered = th.cursor;
    let entered = run.emit_next(
        th,
        events::entered_type(&state.kind),
        Some("stateEnteredEventDetails"),
        || {
            details([
                ("name", Value::from(state.name.as_str())),
                ("input", text(input)),
                ("inputDetails", events::not_truncated()),
            ])
        },
    );
    let entered_time = if sp.needs_context || sp.jsonata || run.exec_input.is_some() {
        run.clock.now()
    } else {
        SystemTime::UNIX_EPOCH
    };
    let context = sp
        .needs_context
        .then(|| run.context(&state.name, entered_time, None, None, None));
    let cx = StateCx {
        run,
        state,
        plan: sp,
        entered,
        before_entered,
        entered_time,
        context,
        th,
    };
    Ok(cx)
}

/// What a line's slot says while it is in a state of `kind`.
pub(crate) fn slot_kind(kind: &StateKind) -> u8 {
    match kind {
        StateKind::Task(_) => KIND_TASK,
        StateKind::Wait(_) => KIND_WAIT,
        _ => KIND_OTHER,
    }
}

/// True for the states that never wait: Pass, Choice, Succeed, Fail.
pub(crate) fn settles_at_once(kind: &StateKind) -> bool {
    matches!(
        kind,
        StateKind::Pass(_) | StateKind::Choice(_) | StateKind::Succeed(_) | StateKind::Fail(_)
    )
}

/// Runs a state that never waits (see [`settles_at_once`]), without a
/// future.
fn settle(cx: &mut StateCx<'_, '_>, input: Payload) -> Result<Step, Failure> {
    let state = cx.state;
    match &state.kind {
        StateKind::Pass(s) => states::pass::pass(cx, s, input),
        StateKind::Choice(s) => states::choice::choice(cx, s, input),
        StateKind::Succeed(s) => states::fail::succeed(cx, s, input),
        StateKind::Fail(s) => Err(states::fail::fail(cx, s, &input.value)),
        StateKind::Task(_) | StateKind::Wait(_) | StateKind::Parallel(_) | StateKind::Map(_) => {
            Err(cx.error(StatesError::runtime(
                "a state that waits was run as one that does not",
            )))
        }
    }
}

/// Runs a state that may wait (Task, Wait, Parallel, Map).
async fn enter<'x>(cx: &mut StateCx<'_, 'x>, input: Payload) -> Result<Step, Failure> {
    let state = cx.state;
    match &state.kind {
        StateKind::Task(s) => states::task::task(cx, s, input, None).await,
        // the handlers that wait longer are boxed so that the future of a
        // line of states stays small
        StateKind::Wait(s) => Box::pin(states::wait::wait(cx, s, input)).await,
        StateKind::Parallel(s) => Box::pin(states::parallel::parallel(cx, s, input, None)).await,
        StateKind::Map(s) => Box::pin(states::map::map(cx, s, input, None)).await,
        _ => settle(cx, input),
    }
}

impl StateCx<'_, '_> {
    /// The end of a state: checks the payload limits on the output and the
    /// depth of the assigned values, commits the variables, emits
    /// `...StateExited`.
    pub(crate) fn finish(
        &mut self,
        output: Payload,
        next: Next,
        assigned: Option<Map<String, Value>>,
    ) -> Result<Step, Failure> {
        let mut output = output;
        self.check_output(&mut output)?;
        let sizes = match &assigned {
            Some(values) => match self.check_assigned(values) {
                Ok(sizes) => sizes,
                Err(failure) => {
                    for (_, v) in assigned.into_iter().flatten() {
                        crate::json::dismantle(v);
                    }
                    return Err(failure);
                }
            },
            None => (0, 0),
        };
        let recording = self.th.sink.recording();
        // AWS leaves `assignedVariables` out when the Assign is empty (`{}`)
        let assigned_text = if recording {
            assigned.as_ref().filter(|a| !a.is_empty()).map(|a| {
                a.iter()
                    .map(|(k, v)| (k.clone(), text(v)))
                    .collect::<Map<String, Value>>()
            })
        } else {
            None
        };
        if let Some(assigned) = assigned {
            self.th.vars.store(assigned, sizes);
        }
        let state = self.state;
        let value = &output.value;
        self.emit_next(
            events::exited_type(&state.kind),
            Some("stateExitedEventDetails"),
            || {
                let mut d = details([
                    ("name", Value::from(state.name.as_str())),
                    ("output", text(value)),
                    ("outputDetails", events::not_truncated()),
                ]);
                if let Some(a) = assigned_text {
                    d.insert("assignedVariables".into(), Value::Object(a));
                    d.insert("assignedVariablesDetails".into(), events::not_truncated());
                }
                d
            },
        );
        Ok(Step { output, next })
    }

    /// Checks the output against the payload limits and tightens its
    /// bound (in place: a payload is not moved through a `Result` at every
    /// state).
    fn check_output(&self, output: &mut Payload) -> Result<(), Failure> {
        #[cfg(debug_assertions)]
        {
            // the bound must never be below the real size
            let real = crate::json::measure_exact(&output.value);
            debug_assert!(
                real.bytes <= output.bound.bytes && (real.depth <= output.bound.depth),
                "state '{}': bound {:?} below the real {real:?}",
                self.state.name,
                output.bound
            );
        }
        match self.run.check(&output.value, output.bound) {
            Ok(bound) => {
                output.bound = bound;
                Ok(())
            }
            Err(exceeded) => {
                if exceeded == Exceeded::Depth {
                    crate::json::dismantle(std::mem::take(&mut output.value));
                }
                Err(Failure::new(
                    self.run.exceeded(&self.state.name, exceeded),
                    self.th.cursor,
                ))
            }
        }
    }

    /// The variable limits on the values a state assigns (its `Assign`
    /// with a Choice rule's): the nesting depth and size of each value
    /// (assigned values are copies: a Choice loop could otherwise nest or
    /// double a variable without end), their combined size, and the size of
    /// the execution's variables once they are stored. Gives the bytes the
    /// values add and the bytes of the values they replace (both 0 when no
    /// byte limit is on).
    fn check_assigned(&self, values: &Map<String, Value>) -> Result<(usize, usize), Failure> {
        let limits = self.run.limits;
        let state = self.state.name.as_str();
        let fail = |error| Err(Failure::new(error, self.th.cursor));
        {
            let max = self.run.depth_limit();
            if let Some((name, _)) = values.iter().find(|(_, v)| crate::json::too_deep(v, max)) {
                return fail(StatesError::new(
                    ErrorName::DataLimitExceeded,
                    format!(
                        "The state/task '{state}' assigned the variable '{name}' a value with a nesting depth exceeding the maximum of {max} levels."
                    ),
                ));
            }
        }
        let (per_value, combined, total) = (
            limits.max_variable_bytes,
            limits.max_assign_bytes,
            limits.max_variables_total_bytes,
        );
        if per_value.is_none() && combined.is_none() && total.is_none() {
            return Ok((0, 0));
        }
        // a value past every limit on is not measured further
        let cap = per_value.or(combined).or(total).unwrap_or(usize::MAX);
        let mut added = 0usize;
        for (name, value) in values {
            let bytes = crate::json::len_within(value, cap);
            match (bytes, per_value) {
                (None, Some(max)) => return fail(error::variable_too_big(state, name, max)),
                (Some(b), Some(max)) if b > max => {
                    return fail(error::variable_too_big(state, name, max))
                }
                _ => {}
            }
            added = added.saturating_add(bytes.unwrap_or(usize::MAX));
            if let Some(max) = combined.filter(|&max| added > max) {
                return fail(error::assign_too_big(state, max));
            }
        }
        let local = &self.th.vars.local;
        let replaced = values
            .keys()
            .filter_map(|k| local.get(k))
            .fold(0usize, |n, v| n.saturating_add(crate::json::json_len(v)));
        if let Some(max) = total {
            let now = self.th.vars.total().load(Ordering::Relaxed);
            if now.saturating_add(added).saturating_sub(replaced) > max {
                return fail(error::variables_too_big(state, max));
            }
        }
        Ok((added, replaced))
    }
}

impl Run<'_> {
    /// Counts a transition (a state entered on `th`, or a retry) and
    /// checks the execution's budgets: transitions and history events.
    pub(crate) fn check_budgets(&self, th: &Thread<'_>) -> Result<(), Failure> {
        let transitions = bump(&self.transitions);
        if let Some(max) = self.limits.max_transitions {
            if transitions > max {
                return Err(Failure::new(
                    StatesError::runtime(format!(
                        "the execution exceeded its budget of {max} state transitions"
                    )),
                    th.cursor,
                ));
            }
        }
        if let Some(max) = self.limits.max_history_events {
            if th.sink.count() >= max {
                return Err(Failure::new(
                    StatesError::runtime(format!(
                        "the execution exceeded the limit of {max} history events"
                    )),
                    th.cursor,
                ));
            }
        }
        Ok(())
    }
}
