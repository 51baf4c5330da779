//! The state loop: one execution walking its states, with Map and
//! Parallel concurrency from polling many futures at once.

use super::history::HistoryEvent;
use super::plan::{Next, StatePlan, SubPlan, TaskFamily};
use super::{Limits, Shared};
use crate::clock::Clock;
use crate::definition::{
    Assign, Catcher, Dynamic, Fail, Io, Map as MapState, Parallel, Pass, ProcessingMode,
    QueryLanguage, Retrier, State, StateKind, StateMachineType, SubMachine, Task, Wait, WaitFor,
};
use crate::engine::retry;
use crate::error::{ErrorName, StatesError};
use crate::executor::{CallbackMessage, CallbackSender};
use crate::executor::{TaskExecutor, TaskRequest};
use crate::json::{add, sub, Measure};
use crate::jsonpath::data_flow;
use crate::jsonpath::path::{Path, ReferencePath, Root, Scope, Step as PathStep, Variables};
use crate::jsonpath::template::{Expression, PayloadTemplate};
use crate::timestamp::write_rfc3339_millis;
use futures::future::{BoxFuture, Either, FutureExt};
use futures::stream::{FuturesUnordered, StreamExt};
use rand::rngs::SmallRng;
use rand::Rng;
use serde_json::{json, Map, Value};
use std::borrow::Cow;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::task::Poll;
use std::time::{Duration, SystemTime};

// ---------------------------------------------------------------------------
// Events

/// Where the events of one execution go: ids, the limit, and the history
/// when it is recorded. A distributed Map child has its own.
pub(crate) struct EventSink {
    count: AtomicU64,
    history: Option<Mutex<Vec<HistoryEvent>>>,
}

impl EventSink {
    pub(crate) fn new(record: bool) -> Self {
        EventSink {
            count: AtomicU64::new(0),
            history: record.then(|| Mutex::new(Vec::new())),
        }
    }

    pub(crate) fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    pub(crate) fn recording(&self) -> bool {
        self.history.is_some()
    }

    pub(crate) fn take(self) -> Option<Vec<HistoryEvent>> {
        self.history.map(|h| {
            let mut events = h.into_inner().unwrap_or_else(|e| e.into_inner());
            events.sort_by_key(|e| e.id);
            events
        })
    }

    /// Records one event; `details` is only built when the history is on.
    pub(crate) fn emit(
        &self,
        clock: &dyn Clock,
        prev: u64,
        event_type: &'static str,
        details_key: Option<&'static str>,
        details: impl FnOnce() -> Map<String, Value>,
    ) -> u64 {
        let id = bump(&self.count);
        if let Some(history) = &self.history {
            let event = HistoryEvent {
                id,
                previous_event_id: prev,
                timestamp: clock.now(),
                event_type,
                details_key,
                details: if details_key.is_some() {
                    details()
                } else {
                    Map::new()
                },
            };
            history
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(event);
        }
        id
    }
}

/// Adds one to an execution's counter and gives the new value. The futures
/// of one execution are only ever polled one at a time (all from the poll of
/// the execution's own future), so a plain load and store does what an
/// atomic read-modify-write would, without its cost on every state.
fn bump(counter: &AtomicU64) -> u64 {
    let n = counter.load(Ordering::Relaxed) + 1;
    counter.store(n, Ordering::Relaxed);
    n
}

/// JSON text, as AWS puts payloads in events.
fn text(v: &Value) -> Value {
    Value::String(serde_json::to_string(v).unwrap_or_default())
}

fn details(pairs: impl IntoIterator<Item = (&'static str, Value)>) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn not_truncated() -> Value {
    json!({"truncated": false})
}

// ---------------------------------------------------------------------------
// The execution

/// The resolved identity of an execution.
pub(crate) struct Ident {
    pub sm_name: String,
    pub sm_arn: String,
    pub exec_name: String,
    pub exec_arn: String,
    pub role_arn: String,
    pub start_time: SystemTime,
    pub region: String,
    pub machine_type: StateMachineType,
    pub sync_execution: bool,
}

/// Everything one execution shares between its states.
pub(crate) struct Run<'a> {
    pub executor: &'a dyn TaskExecutor,
    pub clock: &'a dyn Clock,
    pub limits: &'a Limits,
    pub shared: &'a std::sync::Arc<Shared>,
    pub rng: Mutex<SmallRng>,
    /// Task calls in flight: a virtual clock does not move while any is.
    pub busy: AtomicUsize,
    pub transitions: AtomicU64,
    /// Who the execution is, resolved when first needed (context object,
    /// history, Map Run ARNs): an execution that needs none of them makes
    /// no ARN strings.
    pub ident: OnceLock<Ident>,
    pub identity: &'a super::ExecutionIdentity,
    pub start_time: SystemTime,
    /// The execution input, kept for `$$.Execution.Input` when some state
    /// may read it.
    pub exec_input: Option<Value>,
    pub exec_context: OnceLock<Value>,
}

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
    fn new(error: StatesError, event: u64) -> Self {
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
}

/// Workflow variables of one scope: the top level, a Parallel branch or a
/// Map iteration (which read their parents' variables).
pub(crate) struct Vars<'p> {
    local: Map<String, Value>,
    parent: Option<&'p Vars<'p>>,
}

impl<'p> Vars<'p> {
    pub(crate) fn root() -> Self {
        Vars {
            local: Map::new(),
            parent: None,
        }
    }

    fn child(parent: &'p Vars<'p>) -> Self {
        Vars {
            local: Map::new(),
            parent: Some(parent),
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
}

const KIND_NONE: u8 = 0;
const KIND_TASK: u8 = 1;
const KIND_WAIT: u8 = 2;
const KIND_OTHER: u8 = 3;

/// What a finished sub-machine gives back.
pub(crate) struct SubOutcome {
    pub result: Result<Value, Failure>,
    /// Bounds the output (when there is one).
    pub bound: Measure,
    pub cursor: u64,
}

struct Step {
    output: Value,
    /// Bounds `output`.
    bound: Measure,
    next: Next,
}

/// Per-state values used by the helpers.
struct Here<'s> {
    name: &'s str,
    entered: u64,
    entered_time: SystemTime,
    context: Option<Value>,
}

impl Here<'_> {
    fn scope<'v>(&'v self, vars: &'v Vars<'_>) -> Scope<'v> {
        Scope {
            context: self.context.as_ref().unwrap_or(&Value::Null),
            variables: vars,
        }
    }

    /// A runtime error of this state, with AWS's prefix.
    fn error(&self, error: StatesError, event: u64) -> Failure {
        Failure::new(prefixed(self.name, self.entered, error), event)
    }
}

/// Adds `An error occurred while executing the state ...` to errors the
/// engine raises while evaluating a state.
pub(crate) fn prefixed(state: &str, entered: u64, mut error: StatesError) -> StatesError {
    if error.name == ErrorName::DataLimitExceeded {
        return error;
    }
    let cause = error.cause.take().unwrap_or_default();
    error.cause = Some(format!(
        "An error occurred while executing the state '{state}' (entered at the event id #{entered}). {cause}"
    ));
    error
}

impl<'a> Run<'a> {
    fn emit(
        &self,
        th: &Thread<'_>,
        prev: u64,
        ty: &'static str,
        key: Option<&'static str>,
        details: impl FnOnce() -> Map<String, Value>,
    ) -> u64 {
        th.sink.emit(self.clock, prev, ty, key, details)
    }

    /// Emits on the thread's line and moves its cursor.
    fn emit_next(
        &self,
        th: &mut Thread<'_>,
        ty: &'static str,
        key: Option<&'static str>,
        details: impl FnOnce() -> Map<String, Value>,
    ) -> u64 {
        let id = th.sink.emit(self.clock, th.cursor, ty, key, details);
        th.cursor = id;
        id
    }

    pub(crate) fn ident(&self) -> &Ident {
        self.ident
            .get_or_init(|| super::resolve_identity(self.identity, self.start_time))
    }

    fn exec_context(&self) -> &Value {
        self.exec_context.get_or_init(|| {
            let mut start = String::with_capacity(24);
            write_rfc3339_millis(&mut start, self.ident().start_time);
            let mut context = json!({
                "Execution": {
                    "Id": self.ident().exec_arn,
                    "Input": self.exec_input.clone().unwrap_or(Value::Null),
                    "StartTime": start,
                    "Name": self.ident().exec_name,
                    "RoleArn": self.ident().role_arn,
                    "RedriveCount": 0,
                },
                "StateMachine": {"Id": self.ident().sm_arn, "Name": self.ident().sm_name},
            });
            // synchronous Express executions cannot be redriven: AWS leaves
            // the count out
            if self.ident().machine_type == StateMachineType::Express && self.ident().sync_execution
            {
                if let Some(e) = context["Execution"].as_object_mut() {
                    e.remove("RedriveCount");
                }
            }
            context
        })
    }

    /// The context object of a state.
    fn context(
        &self,
        state: &str,
        entered: SystemTime,
        retry_count: Option<u32>,
        token: Option<&str>,
        item: Option<(usize, &Value)>,
    ) -> Value {
        let mut ctx = self.exec_context().clone();
        let mut entered_text = String::with_capacity(24);
        write_rfc3339_millis(&mut entered_text, entered);
        let mut st = Map::new();
        st.insert("Name".into(), Value::from(state));
        st.insert("EnteredTime".into(), Value::String(entered_text));
        if let Some(n) = retry_count {
            st.insert("RetryCount".into(), Value::from(n));
        }
        if let Value::Object(o) = &mut ctx {
            o.insert("State".into(), Value::Object(st));
            if let Some(token) = token {
                o.insert("Task".into(), json!({ "Token": token }));
            }
            if let Some((index, value)) = item {
                o.insert(
                    "Map".into(),
                    json!({"Item": {"Index": index, "Value": value.clone()}}),
                );
            }
        }
        ctx
    }

    /// The measure of a value the engine just built by copying (a
    /// template's output, an intrinsic's result): exact within the limits,
    /// nothing traversed when both payload limits are off.
    fn measure(&self, value: &Value) -> Measure {
        crate::json::bound(value, self.limits.max_payload_bytes, self.limits.max_depth)
    }

    /// True when the byte limit is on (lower bounds of what leaves a
    /// payload are worth measuring).
    fn counts_bytes(&self) -> bool {
        self.limits.max_payload_bytes.is_some()
    }

    /// Checks `value`, bounded by `bound`, against the payload limits: the
    /// value is measured only when the bound passes a limit. Gives the
    /// (possibly tighter) bound, or which limit the value passes.
    fn check(&self, value: &Value, bound: Measure) -> Result<Measure, Exceeded> {
        let (max_bytes, max_depth) = (self.limits.max_payload_bytes, self.limits.max_depth);
        let over = max_bytes.is_some_and(|l| bound.bytes > l)
            || max_depth.is_some_and(|l| bound.depth > l);
        if !over {
            return Ok(bound);
        }
        let scan = crate::json::scan(value, max_bytes, max_depth);
        if scan.too_deep {
            Err(Exceeded::Depth)
        } else if scan.too_big {
            Err(Exceeded::Bytes)
        } else {
            Ok(scan.measure)
        }
    }

    /// The `States.DataLimitExceeded` of `name` (a state, or a task's
    /// resource) returning a value past a limit.
    fn exceeded(&self, name: &str, exceeded: Exceeded) -> StatesError {
        let cause = match exceeded {
            Exceeded::Bytes => format!(
                "The state/task '{name}' returned a result with a size exceeding the maximum number of bytes service limit."
            ),
            Exceeded::Depth => format!(
                "The state/task '{name}' returned a result with a nesting depth exceeding the maximum of {} levels.",
                self.limits.max_depth.unwrap_or_default()
            ),
        };
        StatesError::new(ErrorName::DataLimitExceeded, cause)
    }

    fn random(&self) -> f64 {
        self.rng
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .gen::<f64>()
    }
}

/// Which payload limit a value passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Exceeded {
    Bytes,
    Depth,
}

// ---------------------------------------------------------------------------
// The state loop

/// Runs a sub-machine from its start to its end.
pub(crate) fn run_sub<'x>(
    run: &'x Run<'x>,
    sm: &'x SubMachine,
    plan: &'x SubPlan,
    input: Value,
    bound: Measure,
    mut th: Thread<'x>,
) -> BoxFuture<'x, SubOutcome> {
    Box::pin(async move {
        let result = walk(run, sm, plan, input, bound, &mut th).await;
        SubOutcome::ended(result, &th)
    })
}

impl SubOutcome {
    /// The end of a sub-machine run on `th`: a success clears the thread's
    /// slot: a finished thread has no state left to report as aborted.
    fn ended(result: Result<(Value, Measure), Failure>, th: &Thread<'_>) -> SubOutcome {
        if let Some(slot) = th.slot {
            if result.is_ok() {
                slot.store(KIND_NONE, Ordering::Relaxed);
            }
        }
        let (result, bound) = match result {
            Ok((output, bound)) => (Ok(output), bound),
            Err(f) => (Err(f), Measure::UNKNOWN),
        };
        SubOutcome {
            result,
            bound,
            cursor: th.cursor,
        }
    }
}

pub(crate) async fn walk<'x>(
    run: &'x Run<'x>,
    sm: &'x SubMachine,
    plan: &'x SubPlan,
    mut input: Value,
    mut bound: Measure,
    th: &mut Thread<'x>,
) -> Result<(Value, Measure), Failure> {
    let mut next = plan.start;
    loop {
        let Some((state, sp)) = lookup(sm, plan, next, th.cursor)? else {
            return Ok((input, bound));
        };
        let here = arrive(run, state, sp, &input, th)?;
        let step = if settles_at_once(&state.kind) {
            settle(run, state, sp, &here, input, bound, th)?
        } else {
            enter(run, state, sp, &here, input, bound, th).await?
        };
        input = step.output;
        bound = step.bound;
        next = step.next;
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

/// Runs a sub-machine whose states never wait (its plan is
/// [`settles`](SubPlan::settles)) from its start to its end, without a
/// future.
pub(crate) fn run_sub_now<'x>(
    run: &'x Run<'x>,
    sm: &'x SubMachine,
    plan: &'x SubPlan,
    mut input: Value,
    mut bound: Measure,
    mut th: Thread<'x>,
) -> SubOutcome {
    let mut next = plan.start;
    let result = loop {
        let (state, sp) = match lookup(sm, plan, next, th.cursor) {
            Ok(Some(found)) => found,
            Ok(None) => break Ok((input, bound)),
            Err(f) => break Err(f),
        };
        let step = arrive(run, state, sp, &input, &mut th)
            .and_then(|here| settle(run, state, sp, &here, input, bound, &mut th));
        match step {
            Ok(step) => {
                input = step.output;
                bound = step.bound;
                next = step.next;
            }
            Err(f) => break Err(f),
        }
    };
    SubOutcome::ended(result, &th)
}

fn entered_type(kind: &StateKind) -> &'static str {
    match kind {
        StateKind::Pass(_) => "PassStateEntered",
        StateKind::Task(_) => "TaskStateEntered",
        StateKind::Choice(_) => "ChoiceStateEntered",
        StateKind::Wait(_) => "WaitStateEntered",
        StateKind::Succeed(_) => "SucceedStateEntered",
        StateKind::Fail(_) => "FailStateEntered",
        StateKind::Parallel(_) => "ParallelStateEntered",
        StateKind::Map(_) => "MapStateEntered",
    }
}

fn exited_type(kind: &StateKind) -> &'static str {
    match kind {
        StateKind::Pass(_) => "PassStateExited",
        StateKind::Task(_) => "TaskStateExited",
        StateKind::Choice(_) => "ChoiceStateExited",
        StateKind::Wait(_) => "WaitStateExited",
        StateKind::Succeed(_) => "SucceedStateExited",
        StateKind::Fail(_) => "FailStateExited",
        StateKind::Parallel(_) => "ParallelStateExited",
        StateKind::Map(_) => "MapStateExited",
    }
}

/// The start of every state: the limits, the `...StateEntered` event, the
/// context object.
fn arrive<'s>(
    run: &Run<'_>,
    state: &'s State,
    sp: &StatePlan,
    input: &Value,
    th: &mut Thread<'_>,
) -> Result<Here<'s>, Failure> {
    // limits
    let transitions = bump(&run.transitions);
    if let Some(max) = run.limits.max_transitions {
        if transitions > max {
            return Err(Failure::new(
                StatesError::runtime(format!(
                    "the execution exceeded its budget of {max} state transitions"
                )),
                th.cursor,
            ));
        }
    }
    if let Some(max) = run.limits.max_history_events {
        if th.sink.count() >= max {
            return Err(Failure::new(
                StatesError::runtime(format!(
                    "the execution exceeded the limit of {max} history events"
                )),
                th.cursor,
            ));
        }
    }
    if let Some(slot) = th.slot {
        let kind = match state.kind {
            StateKind::Task(_) => KIND_TASK,
            StateKind::Wait(_) => KIND_WAIT,
            _ => KIND_OTHER,
        };
        slot.store(kind, Ordering::Relaxed);
    }
    let entered = run.emit_next(
        th,
        entered_type(&state.kind),
        Some("stateEnteredEventDetails"),
        || {
            details([
                ("name", Value::from(state.name.as_str())),
                ("input", text(input)),
                ("inputDetails", not_truncated()),
            ])
        },
    );
    let entered_time = if sp.needs_context || run.exec_input.is_some() {
        run.clock.now()
    } else {
        SystemTime::UNIX_EPOCH
    };
    let context = sp
        .needs_context
        .then(|| run.context(&state.name, entered_time, None, None, None));
    let here = Here {
        name: &state.name,
        entered,
        entered_time,
        context,
    };
    if state.query_language == QueryLanguage::Jsonata && state.uses_jsonata() {
        return Err(here.error(
            StatesError::new(
                ErrorName::QueryEvaluationError,
                "JSONata expressions are not supported by this version of stepfn",
            ),
            th.cursor,
        ));
    }
    Ok(here)
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
fn settle(
    run: &Run<'_>,
    state: &State,
    sp: &StatePlan,
    here: &Here<'_>,
    input: Value,
    bound: Measure,
    th: &mut Thread<'_>,
) -> Result<Step, Failure> {
    match &state.kind {
        StateKind::Pass(s) => pass(run, state, sp, s, here, input, bound, th),
        StateKind::Choice(s) => choice(run, state, sp, s, here, input, bound, th),
        StateKind::Succeed(s) => {
            let scope = here.scope(&th.vars);
            let out = (|| {
                let (effective, bound) =
                    select_owned(run, s.io.input_path(), input, bound, &scope)?;
                select_owned(run, s.io.output_path(), effective, bound, &scope)
            })()
            .map_err(|e| here.error(e, th.cursor))?;
            finish(run, state, here, out, Next::End, None, th)
        }
        StateKind::Fail(s) => Err(fail(s, here, &input, th)),
        StateKind::Task(_) | StateKind::Wait(_) | StateKind::Parallel(_) | StateKind::Map(_) => {
            Err(here.error(
                StatesError::runtime("a state that waits was run as one that does not"),
                th.cursor,
            ))
        }
    }
}

/// Runs a state that may wait (Task, Wait, Parallel, Map).
async fn enter<'x>(
    run: &'x Run<'x>,
    state: &'x State,
    sp: &'x StatePlan,
    here: &Here<'_>,
    input: Value,
    bound: Measure,
    th: &mut Thread<'x>,
) -> Result<Step, Failure> {
    match &state.kind {
        StateKind::Task(s) => task(run, state, sp, s, here, input, bound, th).await,
        // the handlers that wait longer are boxed so that the future of a
        // line of states stays small
        StateKind::Wait(s) => Box::pin(wait(run, state, sp, s, here, input, bound, th)).await,
        StateKind::Parallel(s) => {
            Box::pin(parallel(run, state, sp, s, here, input, bound, th)).await
        }
        StateKind::Map(s) => Box::pin(map(run, state, sp, s, here, input, bound, th)).await,
        _ => settle(run, state, sp, here, input, bound, th),
    }
}

/// Checks the payload limits on the output (bounded by `bound`) and the
/// depth of the assigned values, commits the variables, emits
/// `...StateExited`.
fn finish(
    run: &Run<'_>,
    state: &State,
    here: &Here<'_>,
    (output, bound): (Value, Measure),
    next: Next,
    assigned: Option<Map<String, Value>>,
    th: &mut Thread<'_>,
) -> Result<Step, Failure> {
    #[cfg(debug_assertions)]
    {
        // the bound must never be below the real size
        let real = crate::json::measure_exact(&output);
        debug_assert!(
            real.bytes <= bound.bytes && (real.depth <= bound.depth),
            "state '{}': bound {bound:?} below the real {real:?}",
            state.name
        );
    }
    let bound = match run.check(&output, bound) {
        Ok(bound) => bound,
        Err(exceeded) => {
            if exceeded == Exceeded::Depth {
                crate::json::dismantle(output);
            }
            return Err(Failure::new(run.exceeded(&state.name, exceeded), th.cursor));
        }
    };
    // assigned values are copies: a Choice loop could otherwise nest a
    // variable inside itself without end
    if let (Some(max), Some(values)) = (run.limits.max_depth, &assigned) {
        if let Some(name) = values
            .iter()
            .find(|(_, v)| crate::json::too_deep(v, max))
            .map(|(k, _)| k.clone())
        {
            for (_, v) in assigned.into_iter().flatten() {
                crate::json::dismantle(v);
            }
            return Err(Failure::new(
                StatesError::new(
                    ErrorName::DataLimitExceeded,
                    format!(
                        "The state/task '{}' assigned the variable '{name}' a value with a nesting depth exceeding the maximum of {max} levels.",
                        state.name
                    ),
                ),
                th.cursor,
            ));
        }
    }
    let _ = here;
    let recording = th.sink.recording();
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
        for (k, v) in assigned {
            th.vars.local.insert(k, v);
        }
    }
    run.emit_next(
        th,
        exited_type(&state.kind),
        Some("stateExitedEventDetails"),
        || {
            let mut d = details([
                ("name", Value::from(state.name.as_str())),
                ("output", text(&output)),
                ("outputDetails", not_truncated()),
            ]);
            if let Some(a) = assigned_text {
                d.insert("assignedVariables".into(), Value::Object(a));
                d.insert("assignedVariablesDetails".into(), not_truncated());
            }
            d
        },
    );
    Ok(Step {
        output,
        bound,
        next,
    })
}

/// Evaluates an `Assign` over `data` (committed later).
fn assign(
    a: Option<&Assign>,
    data: &Value,
    scope: &Scope<'_>,
) -> Result<Option<Map<String, Value>>, StatesError> {
    match a {
        None => Ok(None),
        Some(Assign::JsonPath(t)) => match t.eval(&scope.env(data))? {
            Value::Object(o) => Ok(Some(o)),
            _ => Ok(None),
        },
        Some(Assign::Jsonata(_)) => Err(StatesError::new(
            ErrorName::QueryEvaluationError,
            "JSONata expressions are not supported by this version of stepfn",
        )),
    }
}

fn merge_assign(
    a: Option<Map<String, Value>>,
    b: Option<Map<String, Value>>,
) -> Option<Map<String, Value>> {
    match (a, b) {
        (None, b) => b,
        (a, None) => a,
        (Some(mut a), Some(b)) => {
            a.extend(b);
            Some(a)
        }
    }
}

fn is_identity(path: Option<&Path>) -> bool {
    path.is_some_and(|p| p.as_str() == "$")
}

fn ref_is_identity(path: Option<&ReferencePath>) -> bool {
    path.is_some_and(|p| p.as_str() == "$")
}

/// InputPath over a borrowed input (no copy for `$` or a definite path).
fn select<'v>(
    path: Option<&Path>,
    raw: &'v Value,
    scope: &Scope<'v>,
) -> Result<Cow<'v, Value>, StatesError> {
    match path {
        None => Ok(Cow::Owned(Value::Object(Map::new()))),
        Some(p) if p.as_str() == "$" => Ok(Cow::Borrowed(raw)),
        Some(p) => match p.eval(&scope.env(raw)) {
            Ok(v) => Ok(v),
            Err(e) => Err(data_flow::input_path(Some(p), raw, scope)
                .err()
                .unwrap_or_else(|| StatesError::runtime(e.to_string()))),
        },
    }
}

/// Parameters over borrowed data.
fn template(
    t: Option<&PayloadTemplate>,
    data: Cow<'_, Value>,
    scope: &Scope<'_>,
) -> Result<Value, StatesError> {
    match t {
        None => Ok(data.into_owned()),
        Some(t) => t.eval(&scope.env(&data)),
    }
}

/// InputPath then Parameters, consuming the raw input when ResultPath
/// will not need it.
fn effective_input(
    io: &Io,
    parameters: Option<&PayloadTemplate>,
    raw: &Value,
    scope: &Scope<'_>,
) -> Result<Value, StatesError> {
    let selected = select(io.input_path(), raw, scope)?;
    template(parameters, selected, scope)
}

/// [`effective_input`] with a bound of its result: a copy of the raw
/// input is bounded as the raw input, any other copy is measured.
fn effective_input_bounded(
    run: &Run<'_>,
    io: &Io,
    parameters: Option<&PayloadTemplate>,
    (raw, raw_bound): (&Value, Measure),
    scope: &Scope<'_>,
) -> Result<(Value, Measure), StatesError> {
    let selected = select(io.input_path(), raw, scope)?;
    match parameters {
        Some(t) => {
            let value = t.eval(&scope.env(&selected))?;
            let bound = run.measure(&value);
            Ok((value, bound))
        }
        None => {
            let bound = match io.input_path() {
                None => Measure::EMPTY_OBJECT,
                Some(p) if p.is_identity() => raw_bound,
                Some(_) => run.measure(&selected),
            };
            Ok((selected.into_owned(), bound))
        }
    }
}

/// InputPath or OutputPath over an owned payload (bounded by `bound`): a
/// Reference Path into the data moves its node out, bounded by the payload
/// less what the selection drops (measured: it is dropped anyway); any other
/// path copies, and the copy is measured.
fn select_owned(
    run: &Run<'_>,
    path: Option<&Path>,
    value: Value,
    bound: Measure,
    scope: &Scope<'_>,
) -> Result<(Value, Measure), StatesError> {
    if path.is_some_and(Path::is_identity) {
        return Ok((value, bound));
    }
    let known = match path {
        None => Some(Measure::EMPTY_OBJECT),
        Some(p) => match p.as_reference() {
            Some(r) if *r.root() == Root::Data => Some(if r.is_identity() || !run.counts_bytes() {
                bound
            } else {
                Measure {
                    bytes: sub(bound.bytes, dropped_around(r.steps(), &value)),
                    depth: bound.depth,
                }
            }),
            _ => None,
        },
    };
    let selected = data_flow::output_path(path, value, scope)?;
    let bound = known.unwrap_or_else(|| run.measure(&selected));
    Ok((selected, bound))
}

/// The JSON length of what selecting the node at `steps` drops from
/// `value`: the containers on the way with their other entries (a lower
/// bound when the steps do not resolve).
fn dropped_around(steps: &[PathStep], value: &Value) -> usize {
    let mut dropped = 0usize;
    let mut node = value;
    for step in steps {
        node = match (step, node) {
            (PathStep::Field(name), Value::Object(map)) => {
                let Some(index) = map.keys().position(|k| k == name) else {
                    return dropped;
                };
                // braces, commas, colons, keys, the other values
                dropped += 1 + map.len().max(1) + map.len();
                let mut child = node;
                for (i, (k, v)) in map.iter().enumerate() {
                    dropped += crate::json::str_len(k);
                    if i == index {
                        child = v;
                    } else {
                        dropped += crate::json::json_len(v);
                    }
                }
                child
            }
            (PathStep::Index(index), Value::Array(items)) => {
                let Some(index) = resolve_index(*index, items.len()) else {
                    return dropped;
                };
                dropped += 1 + items.len().max(1);
                for (i, v) in items.iter().enumerate() {
                    if i != index {
                        dropped += crate::json::json_len(v);
                    }
                }
                &items[index]
            }
            _ => return dropped,
        };
    }
    dropped
}

/// An index step as Reference Paths resolve it (negative from the end).
fn resolve_index(index: i64, len: usize) -> Option<usize> {
    if index >= 0 {
        usize::try_from(index).ok().filter(|&i| i < len)
    } else {
        len.checked_sub(usize::try_from(index.unsigned_abs()).ok()?)
    }
}

/// Bounds what ResultPath `path` gives when it writes `result` (bounded by
/// `result_bound`) into `raw` (bounded by `raw_bound`); computed before the
/// write. The value it replaces is measured (the write drops it), the keys
/// and objects it creates are counted.
fn result_path_bound(
    run: &Run<'_>,
    path: Option<&ReferencePath>,
    (raw, raw_bound): (&Value, Measure),
    result_bound: Measure,
) -> Measure {
    let Some(path) = path else {
        return raw_bound;
    };
    if path.is_identity() {
        return result_bound;
    }
    let steps = path.steps();
    let depth = raw_bound.depth.max(add(steps.len(), result_bound.depth));
    if !run.counts_bytes() {
        return Measure {
            bytes: usize::MAX,
            depth,
        };
    }
    let mut node = raw;
    for (i, step) in steps.iter().enumerate() {
        node = match (step, node) {
            (PathStep::Field(name), Value::Object(map)) => match map.get(name.as_str()) {
                Some(child) => child,
                None => {
                    // `,"name":` here, then `{"next":` ... `}` around the result
                    let mut added = usize::from(!map.is_empty()) + crate::json::str_len(name) + 1;
                    for rest in &steps[i + 1..] {
                        if let PathStep::Field(key) = rest {
                            added += 3 + crate::json::str_len(key);
                        }
                    }
                    return Measure {
                        bytes: add(add(raw_bound.bytes, added), result_bound.bytes),
                        depth,
                    };
                }
            },
            (PathStep::Index(index), Value::Array(items)) => {
                match resolve_index(*index, items.len()) {
                    Some(j) => &items[j],
                    None => return Measure::UNKNOWN,
                }
            }
            // the write fails
            _ => return Measure::UNKNOWN,
        };
    }
    Measure {
        bytes: add(
            sub(raw_bound.bytes, crate::json::json_len(node)),
            result_bound.bytes,
        ),
        depth,
    }
}

// ---------------------------------------------------------------------------
// Pass

#[allow(clippy::too_many_arguments)]
fn pass(
    run: &Run<'_>,
    state: &State,
    sp: &StatePlan,
    s: &Pass,
    here: &Here<'_>,
    input: Value,
    bound: Measure,
    th: &mut Thread<'_>,
) -> Result<Step, Failure> {
    let mut input = input;
    if let Some(m) = &sp.pass_move {
        if let Some(result) = take_template(&mut input, m) {
            // the taken values move from the input into the result, each
            // leaving a null behind; ResultPath then replaces (and drops)
            // the node holding those nulls: the bound stays exact
            let bound = if run.counts_bytes() {
                let holes = 4 * m.takes();
                let replaced = node_at(&input, &m.result).map_or(0, crate::json::json_len);
                Measure {
                    bytes: add(sub(add(bound.bytes, holes), replaced), m.skeleton_bytes),
                    depth: bound.depth,
                }
            } else {
                bound
            };
            let scope = here.scope(&th.vars);
            let r = (|| {
                let assigned = assign(s.assign.as_ref(), &result, &scope)?;
                let out = data_flow::result_path(s.result_path.as_ref(), input, result)?;
                let out = select_owned(run, s.io.output_path(), out, bound, &scope)?;
                Ok::<_, StatesError>((out, assigned))
            })();
            let (out, assigned) = r.map_err(|e| here.error(e, th.cursor))?;
            return finish(run, state, here, out, sp.next, assigned, th);
        }
    }
    let scope = here.scope(&th.vars);
    let r = (|| {
        let keeps_input = !ref_is_identity(s.result_path.as_ref());
        let ((result, result_bound), raw) = if let Some(result) = &s.result {
            let bound_of_result = sp.result_measure.unwrap_or(Measure::UNKNOWN);
            ((result.clone(), bound_of_result), (input, bound))
        } else if keeps_input {
            let effective =
                effective_input_bounded(run, &s.io, s.io.parameters(), (&input, bound), &scope)?;
            (effective, (input, bound))
        } else if s.io.parameters().is_some() || !is_identity(s.io.input_path()) {
            let effective =
                effective_input_bounded(run, &s.io, s.io.parameters(), (&input, bound), &scope)?;
            (effective, (Value::Null, Measure::NULL))
        } else {
            ((input, bound), (Value::Null, Measure::NULL))
        };
        let assigned = assign(s.assign.as_ref(), &result, &scope)?;
        let out_bound =
            result_path_bound(run, s.result_path.as_ref(), (&raw.0, raw.1), result_bound);
        let out = data_flow::result_path(s.result_path.as_ref(), raw.0, result)?;
        let out = select_owned(run, s.io.output_path(), out, out_bound, &scope)?;
        Ok::<_, StatesError>((out, assigned))
    })();
    let (out, assigned) = r.map_err(|e| here.error(e, th.cursor))?;
    finish(run, state, here, out, sp.next, assigned, th)
}

/// ResultSelector over an owned result (bounded by `bound`): with a
/// [`MoveTemplate`](super::plan::MoveTemplate) from the plan, the values
/// are taken out of the result (nothing reads it afterwards) and the bound
/// stays exact (what is left of the result is measured: it is dropped);
/// otherwise the template copies and the copy is measured.
fn select_result(
    run: &Run<'_>,
    selector: Option<&PayloadTemplate>,
    moving: Option<&super::plan::MoveTemplate>,
    (result, bound): (Value, Measure),
    scope: &Scope<'_>,
) -> Result<(Value, Measure), StatesError> {
    let Some(selector) = selector else {
        return Ok((result, bound));
    };
    let mut result = result;
    if let Some(m) = moving {
        if let Some(selected) = take_template(&mut result, m) {
            let bytes = if run.counts_bytes() {
                let left = crate::json::json_len(&result);
                add(sub(add(bound.bytes, 4 * m.takes()), left), m.skeleton_bytes)
            } else {
                usize::MAX
            };
            let depth = bound.depth.max(1);
            return Ok((selected, Measure { bytes, depth }));
        }
    }
    let selected = selector.eval(&scope.env(&result))?;
    let bound = run.measure(&selected);
    Ok((selected, bound))
}

/// The node at `keys` (object steps) inside `value`.
fn node_at<'v>(value: &'v Value, keys: &[String]) -> Option<&'v Value> {
    let mut node = value;
    for key in keys {
        node = node.as_object()?.get(key.as_str())?;
    }
    Some(node)
}

// ---------------------------------------------------------------------------
// Choice

#[allow(clippy::too_many_arguments)]
fn choice(
    run: &Run<'_>,
    state: &State,
    sp: &StatePlan,
    s: &crate::definition::Choice,
    here: &Here<'_>,
    input: Value,
    bound: Measure,
    th: &mut Thread<'_>,
) -> Result<Step, Failure> {
    let scope = here.scope(&th.vars);
    let r = (|| {
        let (effective, bound) = select_owned(run, s.io.input_path(), input, bound, &scope)?;
        let env = scope.env(&effective);
        let mut chosen = None;
        for (i, rule) in s.choices.json_path().iter().enumerate() {
            if rule.condition.eval(&env)? {
                chosen = Some(i);
                break;
            }
        }
        let (next, rule_assign) = match chosen {
            Some(i) => {
                let rule = &s.choices.json_path()[i];
                let a = match &rule.assign {
                    Some(t) => match t.eval(&env)? {
                        Value::Object(o) => Some(o),
                        _ => None,
                    },
                    None => None,
                };
                (sp.choice_next.get(i).copied().unwrap_or(Next::Missing), a)
            }
            None => match sp.default {
                Some(d) => (d, None),
                None => {
                    return Err(StatesError::new(ErrorName::NoChoiceMatched, "No Matches!"));
                }
            },
        };
        let assigned = merge_assign(assign(s.assign.as_ref(), &effective, &scope)?, rule_assign);
        let out = select_owned(run, s.io.output_path(), effective, bound, &scope)?;
        Ok((out, next, assigned))
    })();
    match r {
        Ok((out, next, assigned)) => finish(run, state, here, out, next, assigned, th),
        Err(e) if e.name == ErrorName::NoChoiceMatched => {
            // AWS reports it without the runtime prefix
            Err(Failure::new(e, th.cursor))
        }
        Err(e) => Err(here.error(e, th.cursor)),
    }
}

// ---------------------------------------------------------------------------
// Fail

fn fail(s: &Fail, here: &Here<'_>, input: &Value, th: &Thread<'_>) -> Failure {
    let scope = here.scope(&th.vars);
    let field = |f: &Option<Dynamic<String, Expression>>,
                 name: &str|
     -> Result<Option<String>, StatesError> {
        match f {
            None => Ok(None),
            Some(Dynamic::Literal(s)) => Ok(Some(s.clone())),
            Some(Dynamic::Path(e)) => match e.eval(&scope.env(input), name)? {
                Value::String(s) => Ok(Some(s)),
                other => Err(StatesError::runtime(format!(
                    "The {name} parameter must resolve to a string value: {}",
                    serde_json::to_string(&other).unwrap_or_default()
                ))),
            },
            Some(Dynamic::Jsonata(_)) => Err(StatesError::new(
                ErrorName::QueryEvaluationError,
                "JSONata expressions are not supported by this version of stepfn",
            )),
        }
    };
    let error = field(&s.error, "ErrorPath");
    let cause = field(&s.cause, "CausePath");
    match (error, cause) {
        (Ok(error), Ok(cause)) => Failure::new(
            StatesError {
                name: ErrorName::Custom(String::new()).with_text(error),
                cause,
            },
            th.cursor,
        ),
        (Err(e), _) | (_, Err(e)) => here.error(e, th.cursor),
    }
}

trait WithText {
    fn with_text(self, text: Option<String>) -> ErrorName;
}

impl WithText for ErrorName {
    fn with_text(self, text: Option<String>) -> ErrorName {
        match text {
            Some(t) => ErrorName::new(&t),
            None => self,
        }
    }
}

// ---------------------------------------------------------------------------
// Wait

#[allow(clippy::too_many_arguments)]
async fn wait<'x>(
    run: &'x Run<'x>,
    state: &'x State,
    sp: &'x StatePlan,
    s: &'x Wait,
    here: &Here<'_>,
    input: Value,
    bound: Measure,
    th: &mut Thread<'x>,
) -> Result<Step, Failure> {
    let computed = {
        let scope = here.scope(&th.vars);
        (|| {
            let effective = select_owned(run, s.io.input_path(), input, bound, &scope)?;
            let now = run.clock.now();
            let delay = wait_duration(&s.wait, &effective.0, &scope, now)?;
            let assigned = assign(s.assign.as_ref(), &effective.0, &scope)?;
            Ok::<_, StatesError>((effective, delay, assigned))
        })()
    };
    let (effective, delay, assigned) = computed.map_err(|e| here.error(e, th.cursor))?;
    if !delay.is_zero() {
        run.clock.sleep(delay).await;
    }
    let scope = here.scope(&th.vars);
    let (effective, bound) = effective;
    let out = select_owned(run, s.io.output_path(), effective, bound, &scope)
        .map_err(|e| here.error(e, th.cursor))?;
    finish(run, state, here, out, sp.next, assigned, th)
}

const MAX_WAIT_SECONDS: u64 = 1 << 31;

fn wait_duration(
    w: &WaitFor,
    input: &Value,
    scope: &Scope<'_>,
    now: SystemTime,
) -> Result<Duration, StatesError> {
    let delay = |d: Duration| -> Result<Duration, StatesError> {
        if d.as_secs() >= MAX_WAIT_SECONDS {
            return Err(StatesError::runtime("Wait state delay is too long."));
        }
        Ok(d)
    };
    // in nanoseconds since the epoch: any RFC 3339 time compares with any
    // clock time, on any platform
    let until = |t: i128| {
        let ahead = (t - crate::timestamp::unix_nanos(now)).max(0);
        let seconds = u64::try_from(ahead / 1_000_000_000).unwrap_or(u64::MAX);
        delay(Duration::new(seconds, (ahead % 1_000_000_000) as u32))
    };
    match w {
        WaitFor::Seconds(Dynamic::Literal(n)) => delay(Duration::from_secs(*n)),
        WaitFor::Timestamp(Dynamic::Literal(t)) => match crate::timestamp::parse_rfc3339_nanos(t) {
            Some(t) => until(t),
            None => Err(StatesError::runtime(format!(
                "The Timestamp parameter does not reference a valid ISO-8601 extended offset date-time format string: {t}"
            ))),
        },
        WaitFor::Seconds(Dynamic::Path(p)) => {
            let v = p.eval(&scope.env(input)).map_err(|_| {
                StatesError::runtime(format!(
                    "The SecondsPath parameter does not reference an input value: {}",
                    p.as_str()
                ))
            })?;
            let shown = || match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            match v.as_i64() {
                Some(n) if n < 0 => Err(StatesError::runtime(format!(
                    "The SecondsPath parameter references a negative value: {} == {}",
                    p.as_str(),
                    shown()
                ))),
                Some(n) => delay(Duration::from_secs(n.unsigned_abs())),
                // beyond a long (AWS parses a Java long) or not an integer
                None => Err(StatesError::runtime(format!(
                    "The SecondsPath parameter cannot be parsed as a long value: {} == {}",
                    p.as_str(),
                    shown()
                ))),
            }
        }
        WaitFor::Timestamp(Dynamic::Path(p)) => {
            let v = p.eval(&scope.env(input)).map_err(|_| {
                StatesError::runtime(format!(
                    "The TimestampPath parameter does not reference an input value: {}",
                    p.as_str()
                ))
            })?;
            let parsed = v.as_str().and_then(crate::timestamp::parse_rfc3339_nanos);
            match parsed {
                Some(t) => until(t),
                None => {
                    let shown = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    Err(StatesError::runtime(format!(
                        "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {} == {}",
                        p.as_str(),
                        shown
                    )))
                }
            }
        }
        WaitFor::Seconds(Dynamic::Jsonata(_)) | WaitFor::Timestamp(Dynamic::Jsonata(_)) => Err(StatesError::new(
            ErrorName::QueryEvaluationError,
            "JSONata expressions are not supported by this version of stepfn",
        )),
    }
}

// ---------------------------------------------------------------------------
// Retry and Catch

/// Runs `$attempt` (an expression awaiting one attempt, with `$rc` the
/// retry count) under `$retriers`, each with its own attempt counter,
/// until it succeeds or no retrier takes the error; then emits `$failed`
/// (Map/Parallel) and gives the final failure.
macro_rules! retry_loop {
    ($run:expr, $retriers:expr, $failed:expr, $th:ident, $rc:ident => $attempt:expr) => {
        'retry: {
            let retriers: &[Retrier] = $retriers;
            let mut counters = vec![0u64; retriers.len()];
            #[allow(unused_mut)]
            let mut $rc: u32 = 0;
            let failure: Failure = loop {
                let failure = match $attempt {
                    Ok(v) => break 'retry Ok(v),
                    Err(f) => f,
                };
                $th.cursor = failure.event;
                if !failure.catchable {
                    break 'retry Err(failure);
                }
                let Some(i) = retry::find_retrier(retriers, &failure.error, failure.heartbeat)
                else {
                    break failure;
                };
                let r = &retriers[i];
                if counters[i] >= r.max_attempts {
                    break failure;
                }
                let delay = retry::delay(r, counters[i], $run.random());
                counters[i] += 1;
                $rc = $rc.saturating_add(1);
                if !delay.is_zero() {
                    $run.clock.sleep(delay).await;
                }
            };
            let failed: Option<&'static str> = $failed;
            if let Some(ty) = failed {
                let id = $run.emit_next($th, ty, None, Map::new);
                break 'retry Err(Failure {
                    event: id,
                    ..failure
                });
            }
            Err(failure)
        }
    };
}

// ---------------------------------------------------------------------------
// Task

fn resolve_seconds(
    n: Option<&Dynamic<u64>>,
    field: &str,
    input: &Value,
    scope: &Scope<'_>,
) -> Result<Option<u64>, StatesError> {
    number_field(
        n,
        field,
        input,
        scope,
        |v| v,
        |v| v.as_u64().filter(|&n| n > 0),
        "positive integer",
    )
}

/// Counts a task call in flight. As for [`bump`], the futures of one
/// execution are never polled (or dropped) at the same time: a load and a
/// store suffice.
struct BusyGuard<'a>(&'a AtomicUsize);

impl<'a> BusyGuard<'a> {
    fn new(counter: &'a AtomicUsize) -> Self {
        counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        BusyGuard(counter)
    }
}

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        let n = self.0.load(Ordering::Relaxed);
        self.0.store(n.saturating_sub(1), Ordering::Relaxed);
    }
}

/// Removes a callback registration when the waiting task ends.
struct CallbackGuard<'a> {
    shared: &'a Shared,
    token: &'a str,
}

impl Drop for CallbackGuard<'_> {
    fn drop(&mut self) {
        self.shared.unregister(self.token);
    }
}

pub(crate) fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "the task panicked".to_owned()
    }
}

enum TaskEnd {
    Done(Result<Value, StatesError>),
    TimedOutWith(StatesError),
    TimedOut { heartbeat: bool },
}

#[allow(clippy::too_many_arguments)]
async fn task<'x>(
    run: &'x Run<'x>,
    state: &'x State,
    sp: &'x StatePlan,
    s: &'x Task,
    here: &Here<'_>,
    input: Value,
    bound: Measure,
    th: &mut Thread<'x>,
) -> Result<Step, Failure> {
    // resolve timeouts and credentials once, against the state input
    let prep = {
        let scope = here.scope(&th.vars);
        (|| {
            let needs_input = matches!(s.timeout_seconds, Some(Dynamic::Path(_)))
                || matches!(s.heartbeat_seconds, Some(Dynamic::Path(_)))
                || matches!(
                    s.credentials.as_ref().map(|c| &c.role_arn),
                    Some(Dynamic::Path(_))
                );
            let effective = if needs_input {
                select(s.io.input_path(), &input, &scope)?
            } else {
                Cow::Owned(Value::Null)
            };
            let timeout = resolve_seconds(
                s.timeout_seconds.as_ref(),
                "TimeoutSecondsPath",
                &effective,
                &scope,
            )?;
            let heartbeat = resolve_seconds(
                s.heartbeat_seconds.as_ref(),
                "HeartbeatSecondsPath",
                &effective,
                &scope,
            )?;
            let role = match &s.credentials {
                None => None,
                Some(c) => match &c.role_arn {
                    Dynamic::Literal(r) => Some(r.clone()),
                    Dynamic::Jsonata(_) => {
                        return Err(StatesError::new(
                            ErrorName::QueryEvaluationError,
                            "JSONata expressions are not supported by this version of stepfn",
                        ))
                    }
                    Dynamic::Path(e) => match e.eval(&scope.env(&effective), "RoleArn.$")? {
                        Value::String(s) => Some(s),
                        other => Some(other.to_string()),
                    },
                },
            };
            Ok::<_, StatesError>((timeout, heartbeat, role))
        })()
    };
    let (timeout, heartbeat, role) = prep.map_err(|e| here.error(e, th.cursor))?;

    // without Retry or Catch, the effective input can be moved out of the
    // state input when nothing reads it afterwards
    let mut input = input;
    let mut taken = match &sp.task_move {
        Some(super::plan::Move::Whole) => Some(std::mem::take(&mut input)),
        Some(super::plan::Move::Node(steps)) => take_node(&mut input, steps),
        None => None,
    };
    // a moved node leaves a null (4 bytes) behind
    let bound = if taken.is_some() {
        Measure {
            bytes: add(bound.bytes, 4),
            depth: bound.depth,
        }
    } else {
        bound
    };
    let role = role.as_deref();
    let outcome: Result<_, Failure> = {
        let input = &input;
        retry_loop!(run, &s.result_handling.retry, None, th, retry_count => {
            task_attempt(
                run, state, s, sp, here, input, taken.take(), th, retry_count, timeout, heartbeat, role,
            )
            .await
        })
    };
    let ((selected, selected_bound), assigned) = match outcome {
        Ok(r) => r,
        Err(failure) => {
            return catch(
                run,
                state,
                sp,
                &s.result_handling.catch,
                here,
                (&input, bound),
                th,
                failure,
            )
        }
    };
    // ResultPath, written in place
    let out_bound = result_path_bound(
        run,
        s.result_handling.result_path.as_ref(),
        (&input, bound),
        selected_bound,
    );
    let out = match &s.result_handling.result_path {
        None => input,
        Some(p) if p.is_identity() => selected,
        Some(p) => match p.write(&mut input, selected) {
            Ok(()) => input,
            Err(_) => {
                let e = StatesError::new(
                    ErrorName::ResultPathMatchFailure,
                    data_flow::result_path_cause(p.as_str(), &input),
                );
                let failure = here.error(e, th.cursor);
                return catch(
                    run,
                    state,
                    sp,
                    &s.result_handling.catch,
                    here,
                    (&input, bound),
                    th,
                    failure,
                );
            }
        },
    };
    let out = {
        let scope = here.scope(&th.vars);
        select_owned(run, s.io.output_path(), out, out_bound, &scope)
    }
    .map_err(|e| here.error(e, th.cursor))?;
    finish(run, state, here, out, sp.next, assigned, th)
}

/// Evaluates a [`MoveTemplate`](super::plan::MoveTemplate) by moving its
/// values out of `input`; `None` (input untouched) when a path does not
/// resolve, so that the regular evaluation reports it.
fn take_template(input: &mut Value, m: &super::plan::MoveTemplate) -> Option<Value> {
    use super::plan::MoveField;
    let mut node = &mut *input;
    for step in &m.input {
        node = node.as_object_mut()?.get_mut(step.as_str())?;
    }
    let mut out = Map::with_capacity(m.fields.len());
    for (i, (key, field)) in m.fields.iter().enumerate() {
        let value = match field {
            MoveField::Literal(v) => v.clone(),
            MoveField::Take(steps) => match take_node(node, steps) {
                Some(v) => v,
                None => {
                    // put back what was taken: the input is as it was
                    for (key, field) in &m.fields[..i] {
                        if let MoveField::Take(steps) = field {
                            if let (Some(slot), Some(v)) =
                                (node_at_mut(node, steps), out.remove(key.as_str()))
                            {
                                *slot = v;
                            }
                        }
                    }
                    return None;
                }
            },
        };
        out.insert(key.clone(), value);
    }
    Some(Value::Object(out))
}

/// The node at `keys` (object steps) inside `value`, mutably.
fn node_at_mut<'v>(value: &'v mut Value, keys: &[String]) -> Option<&'v mut Value> {
    let mut node = value;
    for key in keys {
        node = node.as_object_mut()?.get_mut(key.as_str())?;
    }
    Some(node)
}

/// Moves the node at `steps` (object keys) out of `value`.
fn take_node(value: &mut Value, steps: &[String]) -> Option<Value> {
    node_at_mut(value, steps).map(std::mem::take)
}

#[allow(clippy::too_many_arguments)]
fn catch(
    run: &Run<'_>,
    state: &State,
    sp: &StatePlan,
    catchers: &[Catcher],
    here: &Here<'_>,
    (raw_input, raw_bound): (&Value, Measure),
    th: &mut Thread<'_>,
    failure: Failure,
) -> Result<Step, Failure> {
    let found = failure
        .catchable
        .then(|| retry::find_catcher(catchers, &failure.error, failure.heartbeat))
        .flatten();
    let Some(ci) = found else {
        return Err(Failure {
            event: th.cursor,
            ..failure
        });
    };
    let catcher = &catchers[ci];
    let error_output = json!({
        "Error": if failure.error.name.as_str().is_empty() { Value::Null } else { Value::from(failure.error.name.as_str()) },
        "Cause": failure.error.cause.as_deref().map_or(Value::Null, Value::from),
    });
    let scope = here.scope(&th.vars);
    let r = (|| {
        let assigned = assign(catcher.assign.as_ref(), &error_output, &scope)?;
        let bound = result_path_bound(
            run,
            catcher.result_path.as_ref(),
            (raw_input, raw_bound),
            run.measure(&error_output),
        );
        let out = data_flow::result_path(
            catcher.result_path.as_ref(),
            raw_input.clone(),
            error_output,
        )?;
        Ok::<_, StatesError>(((out, bound), assigned))
    })();
    let (out, assigned) = r.map_err(|e| here.error(e, th.cursor))?;
    let next = sp.catch_next.get(ci).copied().unwrap_or(Next::Missing);
    finish(run, state, here, out, next, assigned, th)
}

/// Task tokens come from the OS random source: a host may hand them to
/// other systems.
fn new_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

thread_local! {
    static FAST_RNG: std::cell::RefCell<SmallRng> =
        std::cell::RefCell::new(rand::SeedableRng::from_entropy());
}

/// A random number from a per-thread generator seeded once from the OS
/// (no system call per execution).
pub(crate) fn fast_random() -> u64 {
    FAST_RNG.with(|r| r.borrow_mut().gen())
}

/// A random (v4) UUID from [`fast_random`]: for names and tokens, not for
/// secrets.
pub(crate) fn fast_uuid() -> uuid::Uuid {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&fast_random().to_le_bytes());
    bytes[8..].copy_from_slice(&fast_random().to_le_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

#[allow(clippy::too_many_arguments)]
async fn task_attempt<'x>(
    run: &'x Run<'x>,
    state: &'x State,
    s: &'x Task,
    sp: &'x StatePlan,
    here: &Here<'_>,
    raw: &Value,
    taken: Option<Value>,
    th: &mut Thread<'x>,
    retry_count: u32,
    timeout: Option<u64>,
    heartbeat: Option<u64>,
    role: Option<&str>,
) -> Result<((Value, Measure), Option<Map<String, Value>>), Failure> {
    let selector_move = sp.selector_move.as_ref();
    let fallback;
    let names = match sp.task.as_ref() {
        Some(n) => n,
        None => {
            fallback = super::plan::task_names(&s.resource);
            &fallback
        }
    };
    let callback = names.callback;
    let token = (callback || names.sync || names.family == TaskFamily::Activity).then(new_token);
    // the context object of this attempt (RetryCount, Task.Token)
    let context = here.context.as_ref().map(|_| {
        run.context(
            here.name,
            here.entered_time,
            Some(retry_count),
            token.as_deref(),
            None,
        )
    });
    let parameters = {
        let scope = Scope {
            context: context.as_ref().unwrap_or(&Value::Null),
            variables: &th.vars,
        };
        match taken {
            Some(effective) => template(s.io.parameters(), Cow::Owned(effective), &scope),
            None => effective_input(&s.io, s.io.parameters(), raw, &scope),
        }
        .map_err(|e| here.error(e, th.cursor))?
    };

    // Scheduled / Started
    let lambda = names.family == TaskFamily::Lambda;
    let activity = names.family == TaskFamily::Activity;
    let (sched, started, succeeded, failed, timed_out, prefix) = if lambda {
        (
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted",
            "LambdaFunctionSucceeded",
            "LambdaFunctionFailed",
            "LambdaFunctionTimedOut",
            "lambdaFunction",
        )
    } else if activity {
        (
            "ActivityScheduled",
            "ActivityStarted",
            "ActivitySucceeded",
            "ActivityFailed",
            "ActivityTimedOut",
            "activity",
        )
    } else {
        (
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskFailed",
            "TaskTimedOut",
            "task",
        )
    };
    let key = |suffix: &'static str| -> &'static str { event_key(prefix, suffix) };
    let resource_pair = |d: &mut Map<String, Value>| {
        if !lambda && !activity {
            d.insert(
                "resourceType".into(),
                Value::from(names.resource_type.as_str()),
            );
            d.insert("resource".into(), Value::from(names.resource.as_str()));
        }
    };
    run.emit_next(th, sched, Some(key("Scheduled")), || {
        let mut d = Map::new();
        if lambda || activity {
            d.insert("resource".into(), Value::from(s.resource.arn.as_str()));
            d.insert("input".into(), text(&parameters));
            d.insert("inputDetails".into(), not_truncated());
        } else {
            resource_pair(&mut d);
            d.insert("region".into(), Value::from(run.ident().region.as_str()));
            d.insert("parameters".into(), text(&parameters));
        }
        if let Some(t) = timeout {
            d.insert("timeoutInSeconds".into(), Value::from(t));
        }
        if let Some(h) = heartbeat {
            if !lambda {
                d.insert("heartbeatInSeconds".into(), Value::from(h));
            }
        }
        if let Some(role) = role {
            d.insert("taskCredentials".into(), json!({ "roleArn": role }));
        }
        d
    });
    let started_key = if lambda { None } else { Some(key("Started")) };
    run.emit_next(th, started, started_key, || {
        let mut d = Map::new();
        if activity {
            d.insert("workerName".into(), Value::from("stepfn"));
        } else {
            resource_pair(&mut d);
        }
        d
    });

    // the call
    let callback_sender = token.as_ref().filter(|_| callback).map(|t| {
        run.shared.register(t);
        CallbackSender::new(run.shared.clone(), t)
    });
    let _unregister = token
        .as_deref()
        .filter(|_| callback)
        .map(|t| CallbackGuard {
            shared: run.shared,
            token: t,
        });
    let lazy_context = || {
        context.clone().unwrap_or_else(|| {
            run.context(
                here.name,
                here.entered_time,
                Some(retry_count),
                token.as_deref(),
                None,
            )
        })
    };
    let end = {
        let mut request = TaskRequest::new(&s.resource, parameters)
            .with_state_name(&state.name)
            .with_retry_count(retry_count)
            .with_lazy_context(&lazy_context);
        request.timeout_seconds = timeout;
        request.heartbeat_seconds = heartbeat;
        request.task_token = token.as_deref();
        request.credentials = role;
        if let Some(cb) = callback_sender {
            request = request.with_callback(cb);
        }
        let call = async {
            let _busy = BusyGuard::new(&run.busy);
            match AssertUnwindSafe(run.executor.execute(request))
                .catch_unwind()
                .await
            {
                Ok(r) => r,
                Err(panic) => Err(StatesError::new(
                    ErrorName::TaskFailed,
                    panic_message(panic),
                )),
            }
        };
        let call = async {
            let submitted = call.await;
            if names.sync {
                // stepfn sees only the job's final result: the submission
                // is recorded without the service's answer
                run.emit_next(th, "TaskSubmitted", Some(key("Submitted")), || {
                    let mut d = Map::new();
                    resource_pair(&mut d);
                    d.insert("output".into(), Value::from("{}"));
                    d.insert("outputDetails".into(), not_truncated());
                    d
                });
            }
            if !callback {
                return TaskEnd::Done(submitted);
            }
            match submitted {
                Err(e) => TaskEnd::Done(Err(e)),
                Ok(out) => {
                    run.emit_next(th, "TaskSubmitted", Some(key("Submitted")), || {
                        let mut d = Map::new();
                        resource_pair(&mut d);
                        d.insert("output".into(), text(&out));
                        d.insert("outputDetails".into(), not_truncated());
                        d
                    });
                    let token = token.as_deref().unwrap_or_default();
                    wait_callback(run, token, heartbeat).await
                }
            }
        };
        match timeout {
            None => call.await,
            Some(t) => {
                let sleep = run.clock.sleep(Duration::from_secs(t));
                futures::pin_mut!(call);
                match futures::future::select(call, sleep).await {
                    Either::Left((end, _)) => end,
                    Either::Right(((), _)) => TaskEnd::TimedOut { heartbeat: false },
                }
            }
        }
    };
    // a result over the payload limit fails the task (catchable, as AWS
    // recorded), naming the resource
    // (measured on arrival: it comes from outside)
    let mut result_bound = Measure::UNKNOWN;
    let end = match end {
        TaskEnd::Done(Ok(result)) => match run.check(&result, Measure::UNKNOWN) {
            Ok(bound) => {
                result_bound = bound;
                TaskEnd::Done(Ok(result))
            }
            Err(exceeded) => {
                if exceeded == Exceeded::Depth {
                    crate::json::dismantle(result);
                }
                let name = match names.family {
                    TaskFamily::Service => names.resource_type.as_str(),
                    _ => s.resource.arn.as_str(),
                };
                TaskEnd::Done(Err(run.exceeded(name, exceeded)))
            }
        },
        // an executor answering States.Timeout is recorded as a timeout
        TaskEnd::Done(Err(e)) if e.name == ErrorName::Timeout => TaskEnd::TimedOutWith(e),
        other => other,
    };
    match end {
        TaskEnd::Done(Ok(result)) => {
            run.emit_next(th, succeeded, Some(key("Succeeded")), || {
                let mut d = Map::new();
                resource_pair(&mut d);
                d.insert("output".into(), text(&result));
                d.insert("outputDetails".into(), not_truncated());
                d
            });
            let scope = here.scope(&th.vars);
            #[allow(clippy::redundant_closure_call)]
            let r = (|| {
                let assigned = assign(s.assign.as_ref(), &result, &scope)?;
                let selected = select_result(
                    run,
                    s.result_handling.result_selector.as_ref(),
                    selector_move,
                    (result, result_bound),
                    &scope,
                )?;
                Ok::<_, StatesError>((selected, assigned))
            })();
            r.map_err(|e| {
                if e.name == ErrorName::DataLimitExceeded {
                    Failure::new(e, th.cursor)
                } else {
                    here.error(e, th.cursor)
                }
            })
        }
        TaskEnd::Done(Err(error)) => {
            let id = run.emit_next(th, failed, Some(key("Failed")), || {
                let mut d = Map::new();
                resource_pair(&mut d);
                if !error.name.as_str().is_empty() {
                    d.insert("error".into(), Value::from(error.name.as_str()));
                }
                if let Some(c) = &error.cause {
                    d.insert("cause".into(), Value::from(c.as_str()));
                }
                d
            });
            Err(Failure {
                catchable: true,
                error,
                event: id,
                heartbeat: false,
                in_task: true,
            })
        }
        TaskEnd::TimedOutWith(error) => {
            let id = run.emit_next(th, timed_out, Some(key("TimedOut")), || {
                let mut d = Map::new();
                resource_pair(&mut d);
                d.insert("error".into(), Value::from("States.Timeout"));
                if let Some(c) = &error.cause {
                    d.insert("cause".into(), Value::from(c.as_str()));
                }
                d
            });
            Err(Failure {
                catchable: true,
                error,
                event: id,
                heartbeat: false,
                in_task: true,
            })
        }
        TaskEnd::TimedOut { heartbeat } => {
            let id = run.emit_next(th, timed_out, Some(key("TimedOut")), || {
                let mut d = Map::new();
                resource_pair(&mut d);
                d.insert("error".into(), Value::from("States.Timeout"));
                d
            });
            Err(Failure {
                catchable: true,
                error: StatesError::without_cause(ErrorName::Timeout),
                event: id,
                heartbeat,
                in_task: true,
            })
        }
    }
}

fn event_key(prefix: &str, suffix: &str) -> &'static str {
    match (prefix, suffix) {
        ("lambdaFunction", "Scheduled") => "lambdaFunctionScheduledEventDetails",
        ("lambdaFunction", "Started") => "lambdaFunctionStartedEventDetails",
        ("lambdaFunction", "Succeeded") => "lambdaFunctionSucceededEventDetails",
        ("lambdaFunction", "Failed") => "lambdaFunctionFailedEventDetails",
        ("lambdaFunction", "TimedOut") => "lambdaFunctionTimedOutEventDetails",
        ("activity", "Scheduled") => "activityScheduledEventDetails",
        ("activity", "Started") => "activityStartedEventDetails",
        ("activity", "Succeeded") => "activitySucceededEventDetails",
        ("activity", "Failed") => "activityFailedEventDetails",
        ("activity", "TimedOut") => "activityTimedOutEventDetails",
        ("task", "Scheduled") => "taskScheduledEventDetails",
        ("task", "Started") => "taskStartedEventDetails",
        ("task", "Submitted") => "taskSubmittedEventDetails",
        ("task", "Succeeded") => "taskSucceededEventDetails",
        ("task", "Failed") => "taskFailedEventDetails",
        _ => "taskTimedOutEventDetails",
    }
}

/// Waits for the callback of `token`: success, failure, or heartbeat
/// expiry.
async fn wait_callback(run: &Run<'_>, token: &str, heartbeat: Option<u64>) -> TaskEnd {
    loop {
        let message = run.shared.next_message(token);
        let message = match heartbeat {
            None => message.await,
            Some(h) => {
                let sleep = run.clock.sleep(Duration::from_secs(h));
                futures::pin_mut!(message);
                match futures::future::select(message, sleep).await {
                    Either::Left((m, _)) => m,
                    Either::Right(((), _)) => return TaskEnd::TimedOut { heartbeat: true },
                }
            }
        };
        match message {
            CallbackMessage::Success(v) => return TaskEnd::Done(Ok(v)),
            CallbackMessage::Failure(e) => return TaskEnd::Done(Err(e)),
            CallbackMessage::Heartbeat => continue,
        }
    }
}

// ---------------------------------------------------------------------------
// Parallel

/// Emits the `...StateAborted` events of cancelled children.
fn abort_events(run: &Run<'_>, sink: &EventSink, prev: u64, kind: u8) {
    let ty = match kind {
        KIND_TASK => "TaskStateAborted",
        KIND_WAIT => "WaitStateAborted",
        _ => return,
    };
    sink.emit(run.clock, prev, ty, None, Map::new);
}

#[allow(clippy::too_many_arguments)]
async fn parallel<'x>(
    run: &'x Run<'x>,
    state: &'x State,
    sp: &'x StatePlan,
    s: &'x Parallel,
    here: &Here<'_>,
    input: Value,
    bound: Measure,
    th: &mut Thread<'x>,
) -> Result<Step, Failure> {
    let branch_input = {
        let scope = here.scope(&th.vars);
        effective_input_bounded(run, &s.io, s.io.parameters(), (&input, bound), &scope)
            .map_err(|e| here.error(e, th.cursor))?
    };
    let branch_input = (&branch_input.0, branch_input.1);
    let outcome: Result<(Vec<Value>, Measure), Failure> = retry_loop!(run, &s.result_handling.retry, Some("ParallelStateFailed"), th, _retry_count => {
        parallel_attempt(run, sp, s, branch_input, th).await
    });
    let results = match outcome {
        Ok((r, results_bound)) => (Value::Array(r), results_bound),
        Err(failure) => {
            return catch(
                run,
                state,
                sp,
                &s.result_handling.catch,
                here,
                (&input, bound),
                th,
                failure,
            )
        }
    };
    let fields = ResultFields {
        assign: s.assign.as_ref(),
        result_selector: s.result_handling.result_selector.as_ref(),
        result_path: s.result_handling.result_path.as_ref(),
        output_path: s.io.output_path(),
    };
    complete(run, state, sp, here, (input, bound), results, fields, th)
}

/// The result-side fields of a Parallel or Map state.
struct ResultFields<'a> {
    assign: Option<&'a Assign>,
    result_selector: Option<&'a PayloadTemplate>,
    result_path: Option<&'a ReferencePath>,
    output_path: Option<&'a Path>,
}

/// The common end of a Parallel or Map state once its branches or
/// iterations produced `results`: Assign over the raw results (committed
/// when the state finishes), ResultSelector, ResultPath into the raw input,
/// OutputPath.
#[allow(clippy::too_many_arguments)]
fn complete(
    run: &Run<'_>,
    state: &State,
    sp: &StatePlan,
    here: &Here<'_>,
    (input, bound): (Value, Measure),
    (results, results_bound): (Value, Measure),
    fields: ResultFields<'_>,
    th: &mut Thread<'_>,
) -> Result<Step, Failure> {
    let scope = here.scope(&th.vars);
    let r = (|| {
        let assigned = assign(fields.assign, &results, &scope)?;
        let (selected, selected_bound) = select_result(
            run,
            fields.result_selector,
            sp.selector_move.as_ref(),
            (results, results_bound),
            &scope,
        )?;
        let out_bound = result_path_bound(run, fields.result_path, (&input, bound), selected_bound);
        let out = data_flow::result_path(fields.result_path, input, selected)?;
        let out = select_owned(run, fields.output_path, out, out_bound, &scope)?;
        Ok::<_, StatesError>((out, assigned))
    })();
    match r {
        Ok((out, assigned)) => finish(run, state, here, out, sp.next, assigned, th),
        Err(e) => Err(here.error(e, th.cursor)),
    }
}

async fn parallel_attempt<'x>(
    run: &'x Run<'x>,
    sp: &'x StatePlan,
    s: &'x Parallel,
    (input, input_bound): (&Value, Measure),
    th: &mut Thread<'x>,
) -> Result<(Vec<Value>, Measure), Failure> {
    let started = run.emit_next(th, "ParallelStateStarted", None, Map::new);
    let n = s.branches.len();
    let slots: Vec<AtomicU8> = (0..n).map(|_| AtomicU8::new(KIND_NONE)).collect();
    let mut results: Vec<Option<Value>> = vec![None; n];
    let mut results_bound = ArrayBound::new(n);
    let mut last = started;
    // a branch's end: its result kept in branch order, or its failure
    let mut record = |i: usize, outcome: SubOutcome| match outcome.result {
        Ok(v) => {
            results[i] = Some(v);
            results_bound.add(outcome.bound);
            last = outcome.cursor;
            None
        }
        Err(f) => Some((i, f)),
    };
    let failure = if sp.children.iter().all(|p| p.settles) {
        // no branch waits: each runs to its end in turn, as the futures
        // below would be (polled in order, each done in its first poll)
        let mut failure = None;
        for (i, (branch, plan)) in s.branches.iter().zip(&sp.children).enumerate() {
            let child = Thread {
                cursor: started,
                vars: Vars::child(&th.vars),
                sink: th.sink,
                slot: Some(&slots[i]),
            };
            let outcome = run_sub_now(run, branch, plan, input.clone(), input_bound, child);
            if let Some(f) = record(i, outcome) {
                failure = Some(f);
                break;
            }
        }
        failure
    } else {
        let vars = &th.vars;
        let sink = th.sink;
        let slots = &slots;
        let mut running: FuturesUnordered<_> = s
            .branches
            .iter()
            .zip(&sp.children)
            .enumerate()
            .map(|(i, (branch, plan))| {
                let child = Thread {
                    cursor: started,
                    vars: Vars::child(vars),
                    sink,
                    slot: Some(&slots[i]),
                };
                let input = input.clone();
                run_sub(run, branch, plan, input, input_bound, child).map(move |o| (i, o))
            })
            .collect();
        let mut failure = None;
        while let Some((i, outcome)) = running.next().await {
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
    let id = run.emit(th, last, "ParallelStateSucceeded", None, Map::new);
    let _ = id;
    Ok((
        results.into_iter().map(Option::unwrap_or_default).collect(),
        results_bound.0,
    ))
}

/// Bounds an array from bounds of its items.
struct ArrayBound(Measure);

impl ArrayBound {
    /// Brackets and commas of `n` items.
    fn new(n: usize) -> Self {
        ArrayBound(Measure {
            bytes: 1 + n.max(1),
            depth: 1,
        })
    }

    fn add(&mut self, item: Measure) {
        self.0.bytes = add(self.0.bytes, item.bytes);
        self.0.depth = self.0.depth.max(add(item.depth, 1));
    }
}

// ---------------------------------------------------------------------------
// Map

fn number_field<T: Copy, R>(
    n: Option<&Dynamic<T>>,
    field: &str,
    input: &Value,
    scope: &Scope<'_>,
    literal: impl Fn(T) -> R,
    read: impl Fn(&Value) -> Option<R>,
    kind: &str,
) -> Result<Option<R>, StatesError> {
    match n {
        None => Ok(None),
        Some(Dynamic::Literal(v)) => Ok(Some(literal(*v))),
        Some(Dynamic::Path(p)) => {
            let v = p
                .eval(&scope.env(input))
                .map_err(|e| StatesError::runtime(e.to_string()))?;
            match read(v) {
                Some(n) => Ok(Some(n)),
                None => Err(StatesError::runtime(format!(
                    "The {field} field refers to value \"{}\" which is not a valid {kind}: {}",
                    match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    },
                    p.as_str()
                ))),
            }
        }
        Some(Dynamic::Jsonata(_)) => Err(StatesError::new(
            ErrorName::QueryEvaluationError,
            "JSONata expressions are not supported by this version of stepfn",
        )),
    }
}

struct MapPrep {
    effective: Value,
    items: Vec<Value>,
    /// Bounds every item.
    item_bound: Measure,
    max_concurrency: usize,
    /// ToleratedFailureCount/Percentage; an error in them shows after
    /// MapStateStarted, as on AWS.
    tolerance: Result<(Option<u64>, Option<f64>), StatesError>,
}

fn map_prepare(
    run: &Run<'_>,
    s: &MapState,
    (input, bound): (Value, Measure),
    keep_input: bool,
    scope: &Scope<'_>,
) -> Result<(MapPrep, Value), StatesError> {
    // the raw input survives only when ResultPath merges into it
    let ((selected, selected_bound), raw) = if keep_input {
        (
            effective_input_bounded(run, &s.io, None, (&input, bound), scope)?,
            input,
        )
    } else {
        (
            select_owned(run, s.io.input_path(), input, bound, scope)?,
            Value::Null,
        )
    };
    let max_concurrency = number_field(
        s.max_concurrency.as_ref(),
        "MaxConcurrencyPath",
        &selected,
        scope,
        |v| v,
        Value::as_u64,
        "integer",
    )?
    .unwrap_or(0);
    let tolerance = (|| {
        let tolerated_count = number_field(
            s.tolerated_failure_count.as_ref(),
            "ToleratedFailureCountPath",
            &selected,
            scope,
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
        let tolerated_percentage = number_field(
            s.tolerated_failure_percentage.as_ref(),
            "ToleratedFailurePercentagePath",
            &selected,
            scope,
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
    })();
    // the items; moved out of the effective input when nothing else reads it
    let needs_effective = s.item_selector.is_some();
    let mut effective = selected;
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
                    items_bound = run.measure(&copy);
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
        None => {
            let p = s
                .items_path
                .as_ref()
                .map(ReferencePath::as_str)
                .unwrap_or("$");
            return Err(
                match s
                    .items_path
                    .as_ref()
                    .map(|p| p.eval(&scope.env(&effective)))
                {
                    Some(Err(e)) => StatesError::runtime(e.to_string()),
                    _ => StatesError::runtime(format!("Invalid path '{p}'")),
                },
            );
        }
    };
    Ok((
        MapPrep {
            effective,
            items,
            item_bound: Measure {
                bytes: sub(items_bound.bytes, 2),
                depth: sub(items_bound.depth, 1),
            },
            max_concurrency: usize::try_from(max_concurrency).unwrap_or(usize::MAX),
            tolerance,
        },
        raw,
    ))
}

#[allow(clippy::too_many_arguments)]
async fn map<'x>(
    run: &'x Run<'x>,
    state: &'x State,
    sp: &'x StatePlan,
    s: &'x MapState,
    here: &Here<'_>,
    input: Value,
    bound: Measure,
    th: &mut Thread<'x>,
) -> Result<Step, Failure> {
    // the raw input is needed again by ResultPath or a catcher
    let keep_input = !ref_is_identity(s.result_handling.result_path.as_ref())
        || !s.result_handling.catch.is_empty();
    let (prep, input) = {
        let scope = here.scope(&th.vars);
        map_prepare(run, s, (input, bound), keep_input, &scope)
            .map_err(|e| here.error(e, th.cursor))?
    };
    let bound = if keep_input { bound } else { Measure::NULL };
    let distributed = s.processor_config.mode == ProcessingMode::Distributed;
    let MapPrep {
        effective,
        items,
        item_bound,
        max_concurrency,
        tolerance,
    } = prep;
    let tolerance = &tolerance;
    let effective = &effective;
    let mut items = Some(items);
    let retries = !s.result_handling.retry.is_empty();
    let outcome: Result<(Vec<Value>, Measure), Failure> = retry_loop!(run, &s.result_handling.retry, Some("MapStateFailed"), th, _retry_count => {
        let these = if retries {
            items.clone().unwrap_or_default()
        } else {
            items.take().unwrap_or_default()
        };
        let these = (these, item_bound);
        if distributed {
            distributed_attempt(run, state, sp, s, here, effective, these, max_concurrency, tolerance, th).await
        } else {
            map_attempt(run, state, sp, s, here, effective, these, max_concurrency, th).await
        }
    });
    let results = match outcome {
        Ok((r, results_bound)) => (Value::Array(r), results_bound),
        Err(failure) => {
            return catch(
                run,
                state,
                sp,
                &s.result_handling.catch,
                here,
                (&input, bound),
                th,
                failure,
            )
        }
    };
    let fields = ResultFields {
        assign: s.assign.as_ref(),
        result_selector: s.result_handling.result_selector.as_ref(),
        result_path: s.result_handling.result_path.as_ref(),
        output_path: s.io.output_path(),
    };
    complete(run, state, sp, here, (input, bound), results, fields, th)
}

/// The input of iteration `index`: the item, or the ItemSelector over it.
#[allow(clippy::too_many_arguments)]
fn item_input(
    run: &Run<'_>,
    sp: &StatePlan,
    s: &MapState,
    here: &Here<'_>,
    effective: &Value,
    vars: &Vars<'_>,
    index: usize,
    (item, item_bound): (Value, Measure),
) -> Result<(Value, Measure), StatesError> {
    match &s.item_selector {
        None => Ok((item, item_bound)),
        Some(t) => {
            let context = if sp.selector_needs_context {
                run.context(
                    here.name,
                    here.entered_time,
                    None,
                    None,
                    Some((index, &item)),
                )
            } else {
                Value::Null
            };
            let scope = Scope {
                context: &context,
                variables: vars,
            };
            let input = t.eval(&scope.env(effective))?;
            let bound = run.measure(&input);
            Ok((input, bound))
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn map_attempt<'x>(
    run: &'x Run<'x>,
    _state: &'x State,
    sp: &'x StatePlan,
    s: &'x MapState,
    here: &Here<'_>,
    effective: &Value,
    (items, item_bound): (Vec<Value>, Measure),
    max_concurrency: usize,
    th: &mut Thread<'x>,
) -> Result<(Vec<Value>, Measure), Failure> {
    let n = items.len();
    let started = run.emit_next(
        th,
        "MapStateStarted",
        Some("mapStateStartedEventDetails"),
        || details([("length", Value::from(n))]),
    );
    let limit = if max_concurrency == 0 {
        usize::MAX
    } else {
        max_concurrency
    };
    let (Some(processor), Some(plan)) = (Some(&s.item_processor), sp.children.first()) else {
        return Ok((Vec::new(), ArrayBound::new(0).0));
    };
    let name = Value::from(here.name);
    let iteration_event = |ty: &'static str, key: &'static str, prev: u64, index: usize| {
        th_sink_emit(run, ty, key, prev, index, &name)
    };
    let sink = th.sink;
    let vars = &th.vars;
    let slots: Vec<AtomicU8> = (0..n).map(|_| AtomicU8::new(KIND_NONE)).collect();
    let slots = &slots;
    let mut results: Vec<Value> = Vec::with_capacity(n);
    results.resize(n, Value::Null);
    let mut results_bound = ArrayBound::new(n);
    let mut done = vec![false; n];
    let mut pending = items.into_iter().enumerate();
    let mut running = FuturesUnordered::new();
    let mut prev_start = started;
    let mut last_succeeded = started;
    let mut failure: Option<(usize, Failure)> = None;
    // iterations are launched in batches, each polled once at once: one that
    // completes without waiting never enters the FuturesUnordered
    let mut batch = Vec::new();
    loop {
        while running.len() + batch.len() < limit && failure.is_none() {
            let Some((index, item)) = pending.next() else {
                break;
            };
            let input =
                match item_input(run, sp, s, here, effective, vars, index, (item, item_bound)) {
                    Ok(v) => v,
                    Err(e) => {
                        failure = Some((usize::MAX, here.error(e, prev_start)));
                        break;
                    }
                };
            let id = iteration_event(
                "MapIterationStarted",
                "mapIterationStartedEventDetails",
                prev_start,
                index,
            )(sink);
            batch.push((index, input, id));
        }
        // the iterations done, in the order they finished: their outputs
        // go to `results` at once, their events follow the batch
        let mut completed = Completed {
            succeeded: Vec::new(),
            failed: None,
        };
        let mut complete = |completed: &mut Completed, index: usize, outcome: SubOutcome| {
            done[index] = true;
            match outcome.result {
                Ok(v) => {
                    results[index] = v;
                    results_bound.add(outcome.bound);
                    completed.succeeded.push((index, outcome.cursor));
                }
                Err(f) => completed.failed = Some((index, f)),
            }
        };
        let launched = !batch.is_empty();
        // the futures are made one at a time, so that iterations that do
        // not wait never live at the same time
        for (index, input, id) in batch.drain(..) {
            if failure.is_some() || completed.failed.is_some() {
                break;
            }
            let child = Thread {
                cursor: id,
                vars: Vars::child(vars),
                sink,
                slot: Some(&slots[index]),
            };
            if plan.settles {
                complete(
                    &mut completed,
                    index,
                    run_sub_now(run, processor, plan, input.0, input.1, child),
                );
                continue;
            }
            let mut fut = run_sub(run, processor, plan, input.0, input.1, child);
            match futures::poll!(&mut fut) {
                Poll::Ready(outcome) => complete(&mut completed, index, outcome),
                Poll::Pending => running.push(fut.map(move |o| (index, o))),
            }
        }
        if completed.succeeded.is_empty() && completed.failed.is_none() && failure.is_none() {
            match running.next().await {
                Some((index, outcome)) => complete(&mut completed, index, outcome),
                None if launched => continue,
                None => break,
            }
        }
        for (index, cursor) in completed.succeeded {
            last_succeeded = iteration_event(
                "MapIterationSucceeded",
                "mapIterationSucceededEventDetails",
                cursor,
                index,
            )(sink);
            prev_start = cursor;
        }
        if let Some(f) = completed.failed {
            failure = Some(f);
        }
        if failure.is_some() {
            break;
        }
    }
    drop(running);
    if let Some((index, f)) = failure {
        if index != usize::MAX {
            iteration_event(
                "MapIterationFailed",
                "mapIterationFailedEventDetails",
                f.event,
                index,
            )(sink);
            if f.in_task {
                abort_events(run, sink, f.event, KIND_TASK);
            }
            for (j, slot) in slots.iter().enumerate() {
                let kind = slot.load(Ordering::Relaxed);
                if !done[j] && kind != KIND_NONE {
                    iteration_event(
                        "MapIterationAborted",
                        "mapIterationAbortedEventDetails",
                        f.event,
                        j,
                    )(sink);
                    abort_events(run, sink, f.event, kind);
                }
            }
        }
        return Err(Failure {
            in_task: false,
            ..f
        });
    }
    th.cursor = last_succeeded;
    run.emit(th, last_succeeded, "MapStateSucceeded", None, Map::new);
    Ok((results, results_bound.0))
}

/// The iterations of one batch of a Map that are done: those that succeeded
/// (index, last event) in the order they finished, and the one that failed.
struct Completed {
    succeeded: Vec<(usize, u64)>,
    failed: Option<(usize, Failure)>,
}

fn th_sink_emit<'r>(
    run: &'r Run<'_>,
    ty: &'static str,
    key: &'static str,
    prev: u64,
    index: usize,
    name: &'r Value,
) -> impl FnOnce(&EventSink) -> u64 + 'r {
    move |sink: &EventSink| {
        sink.emit(run.clock, prev, ty, Some(key), || {
            details([("index", Value::from(index)), ("name", name.clone())])
        })
    }
}

/// A distributed Map: every item runs as a child execution with its own
/// history and no access to the parent's variables.
#[allow(clippy::too_many_arguments)]
async fn distributed_attempt<'x>(
    run: &'x Run<'x>,
    _state: &'x State,
    sp: &'x StatePlan,
    s: &'x MapState,
    here: &Here<'_>,
    effective: &Value,
    (items, item_bound): (Vec<Value>, Measure),
    max_concurrency: usize,
    tolerance: &Result<(Option<u64>, Option<f64>), StatesError>,
    th: &mut Thread<'x>,
) -> Result<(Vec<Value>, Measure), Failure> {
    let n = items.len();
    run.emit_next(
        th,
        "MapStateStarted",
        Some("mapStateStartedEventDetails"),
        || details([("length", Value::from(n))]),
    );
    let (tolerated_count, tolerated_percentage) = match tolerance {
        Ok(t) => *t,
        Err(e) => return Err(here.error(e.clone(), th.cursor)),
    };
    let map_run_arn = format!(
        "{}/{}:{}",
        run.ident().sm_arn.replacen(":stateMachine:", ":mapRun:", 1),
        s.label.as_deref().unwrap_or(here.name),
        fast_uuid()
    );
    run.emit_next(
        th,
        "MapRunStarted",
        Some("mapRunStartedEventDetails"),
        || details([("mapRunArn", Value::from(map_run_arn.as_str()))]),
    );
    let (Some(processor), Some(plan)) = (Some(&s.item_processor), sp.children.first()) else {
        return Ok((Vec::new(), ArrayBound::new(0).0));
    };
    let limit = if max_concurrency == 0 {
        usize::MAX
    } else {
        max_concurrency
    };
    let empty_vars = Vars::root();
    let mut results: Vec<Value> = vec![Value::Null; n];
    let mut results_bound = ArrayBound::new(n);
    let mut failures = 0u64;
    let mut first_failure: Option<StatesError> = None;
    {
        let mut pending = items.into_iter().enumerate();
        let mut running = FuturesUnordered::new();
        loop {
            while running.len() < limit {
                let Some((index, item)) = pending.next() else {
                    break;
                };
                let (input, input_bound) = item_input(
                    run,
                    sp,
                    s,
                    here,
                    effective,
                    &empty_vars,
                    index,
                    (item, item_bound),
                )
                .map_err(|e| here.error(e, th.cursor))?;
                let fut = async move {
                    let sink = EventSink::new(false);
                    let child = Thread {
                        cursor: 0,
                        vars: Vars::root(),
                        sink: &sink,
                        slot: None,
                    };
                    let outcome = run_sub(run, processor, plan, input, input_bound, child).await;
                    (index, outcome.result, outcome.bound)
                };
                running.push(fut.boxed());
            }
            let Some((index, result, bound)) = running.next().await else {
                break;
            };
            match result {
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
                    first_failure.get_or_insert(f.error);
                }
            }
        }
    }
    let tolerated = failures == 0
        || tolerated_count.is_some_and(|c| failures <= c)
        || tolerated_percentage
            .is_some_and(|p| n > 0 && (failures as f64) * 100.0 / (n as f64) <= p);
    if !tolerated {
        let error = StatesError::new(
            ErrorName::ExceedToleratedFailureThreshold,
            "The specified tolerated failure threshold was exceeded",
        );
        let id = run.emit_next(th, "MapRunFailed", Some("mapRunFailedEventDetails"), || {
            details([
                ("error", Value::from(error.name.as_str())),
                ("cause", Value::from(error.cause_str())),
            ])
        });
        let _ = first_failure;
        return Err(Failure::new(error, id));
    }
    // MapStateSucceeded and MapStateExited both follow MapRunSucceeded
    // (AWS recorded MapStateExited after MapRunStarted a few times too)
    let id = run.emit_next(th, "MapRunSucceeded", None, Map::new);
    run.emit(th, id, "MapStateSucceeded", None, Map::new);
    Ok((results, results_bound.0))
}
