//! Checkpoints: the snapshot of a line of states at a transition, the hook
//! that hands each one (with the history events of its transition) to a
//! [`CheckpointSink`], and the walk that resumes from one.
//!
//! A checkpoint holds what a line of states needs to go on in another
//! process: where it is ([`Position`]: the state it enters next, or the
//! Wait it sleeps in with the absolute time the Wait ends), the effective
//! input, the line's variables, and the execution's counters (history
//! event ids, the event the line last emitted, transitions used), so that a
//! resumed run continues the history with the same ids and events as an
//! uninterrupted one. Everything between two checkpoints is recomputed
//! after a crash: the engine is deterministic given its task results and
//! its clock, so the only thing done twice is a task call (at-least-once;
//! [`TaskRequest::idempotency_key`](crate::TaskRequest::idempotency_key)
//! names the attempt).
//!
//! A run without a sink pays one branch on an `Option` per transition (the
//! hook's future is boxed, so the walk's future does not grow); Wait and
//! Retry check for a sink only when they are about to sleep.
//!
//! What is covered: the top-level line of states with Pass, Task, Choice,
//! Wait, Succeed and Fail, Retry and Catch, Parallel and inline Map. The
//! line is checkpointed before each state it enters, when a Wait starts
//! to sleep and when a Task's retry starts to back off (with the
//! retriers' counters and the absolute time the back-off ends). A task
//! attempt in flight is not: a crash during a call makes the call again
//! (at-least-once), with the same idempotency key; except a
//! `.waitForTaskToken` attempt of the top level, checkpointed with its
//! token before its call and, once the call answered, parked with its
//! absolute deadlines ([`Position::Callback`], `states/callback.rs`).
//!
//! The lines of a Parallel or Map state (its branches, its iterations)
//! are not checkpointed ([`Thread::checkpointed`] is set on the top level
//! only): the state is one transition of the top level, checkpointed when
//! it is entered and after it ends, the events of all its lines in the
//! commit after it. Interrupted inside, it runs again whole from the
//! checkpoint of its entry, its events committed once, with the ids an
//! uninterrupted run gives them (when its lines' calls end in the same
//! order); a retry inside it backs off in memory; a redrive enters it
//! again whole. Each state its lines enter tells the sink the execution
//! is alive ([`CheckpointSink::alive`]: the driver renews its lease
//! there as a commit would), so a long Parallel or Map keeps its lease
//! (and the driver renews it during task calls). Distributed Maps, and
//! Wait states and callback tasks inside branches and iterations (which
//! would hold the worker instead of parking), are refused by
//! [`unsupported`].
//!
//! A checkpoint records the execution's redrive count; one taken before
//! the latest redrive is re-armed by [`super::redrive::rearm`] before the
//! line resumes.

use super::drive::{BusyGuard, Run};
use super::plan::{Next, SubPlan};
use super::states;
use super::walk::{self, Failure, StateCx, Thread};
use super::HistoryEvent;
use crate::definition::{Definition, ProcessingMode, StateKind, SubMachine};
use crate::error::StatesError;
use crate::executor::CallbackMessage;
use crate::json::Payload;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::atomic::Ordering;
use std::time::SystemTime;

/// The version of the [`Checkpoint`] format; a checkpoint of another
/// version is refused rather than guessed at.
pub(crate) const CHECKPOINT_VERSION: u32 = 1;

/// The snapshot of one line of states at a transition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Checkpoint {
    /// [`CHECKPOINT_VERSION`].
    pub version: u32,
    /// Which line of states: `""` for the top level.
    pub line: String,
    /// Where the line is.
    pub at: Position,
    /// The effective input: the input of the state entered next, or (in a
    /// Wait) the value the Wait's output is made of once it ends.
    pub input: Value,
    /// The line's own workflow variables.
    pub variables: Map<String, Value>,
    /// History events emitted so far in the execution (the last id).
    pub events: u64,
    /// The event this line emitted last (the next event's
    /// `previousEventId`).
    pub cursor: u64,
    /// State transitions used so far (the execution's budget).
    pub transitions: u64,
    /// With no depth limit set: the deepest value the embedder gave so far
    /// (the ceiling of what the machine may build rises with it).
    pub given_depth: usize,
    /// When the line needs a worker again if it is let go now: `None` at
    /// once; else the end of its Wait or back-off, or the end of the
    /// execution's `TimeoutSeconds` if that comes first.
    pub wake_at: Option<SystemTime>,
    /// The execution's redrive count when the checkpoint was taken: one
    /// below the stored count means the execution was redriven since, and
    /// the line is re-armed ([`super::redrive::rearm`]) before it resumes.
    #[serde(default)]
    pub redrives: u32,
}

/// Where a line of states is at a [`Checkpoint`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "phase", deny_unknown_fields)]
pub(crate) enum Position {
    /// About to enter `state` (nothing of it has happened yet).
    Enter {
        /// The state's name.
        state: String,
    },
    /// Inside the Wait state `state`, which ends at `until`.
    Waiting {
        /// The state's name.
        state: String,
        /// Its `WaitStateEntered` event.
        entered: u64,
        /// The event before it.
        before_entered: u64,
        /// When it was entered (`$$.State.EnteredTime`).
        entered_time: SystemTime,
        /// When the Wait ends: an absolute time, so that it survives the
        /// process.
        until: SystemTime,
        /// The variables its `Assign` sets when it ends.
        assigned: Option<Map<String, Value>>,
        /// The state input, when it is not the checkpoint's input (a
        /// JSONPath `InputPath`): a redrive enters the Wait again with it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        state_input: Option<Value>,
    },
    /// Inside the Task state `state`, backing off before its next attempt
    /// until `until`.
    BackingOff {
        /// The state's name.
        state: String,
        /// Its `TaskStateEntered` event.
        entered: u64,
        /// The event before it.
        before_entered: u64,
        /// When it was entered (`$$.State.EnteredTime`).
        entered_time: SystemTime,
        /// The retries each retrier has made (this one included).
        counters: Vec<u64>,
        /// The retry count of the next attempt (`$$.State.RetryCount`).
        retry_count: u32,
        /// When the back-off ends (the jitter drawn is in it).
        until: SystemTime,
    },
    /// Inside the Task state `state`, in an attempt that waits for a
    /// callback (`.waitForTaskToken`) with `token`: calling its resource
    /// (a resumed run makes the call again, with the same token:
    /// at-least-once), or, once the call answered, waiting for SendTask*
    /// until its deadlines.
    Callback {
        /// The state's name.
        state: String,
        /// Its `TaskStateEntered` event.
        entered: u64,
        /// The event before it.
        before_entered: u64,
        /// When it was entered (`$$.State.EnteredTime`).
        entered_time: SystemTime,
        /// The retries each retrier has made so far.
        counters: Vec<u64>,
        /// The attempt's retry count (`$$.State.RetryCount`).
        retry_count: u32,
        /// The attempt's task token, open in the store from this
        /// checkpoint on.
        token: String,
        /// The call answered (`TaskSubmitted` is recorded): the attempt
        /// waits for its callback.
        submitted: bool,
        /// When the attempt times out (`TimeoutSeconds` after its call
        /// started).
        timeout_at: Option<SystemTime>,
        /// When it times out without a heartbeat (`HeartbeatSeconds` after
        /// the call answered or the last heartbeat).
        heartbeat_at: Option<SystemTime>,
    },
}

impl Position {
    /// When the line needs a worker again: `None` at once, else the end of
    /// its Wait or back-off.
    pub(crate) fn wake_at(&self) -> Option<SystemTime> {
        match self {
            Position::Enter { .. } => None,
            Position::Waiting { until, .. } | Position::BackingOff { until, .. } => Some(*until),
            Position::Callback {
                submitted: false, ..
            } => None,
            Position::Callback {
                timeout_at,
                heartbeat_at,
                ..
            } => match (timeout_at, heartbeat_at) {
                (Some(a), Some(b)) => Some(*a.min(b)),
                (a, b) => a.or(*b),
            },
        }
    }

    /// True when the line lets go of its worker here (a Wait, a back-off,
    /// a callback awaited): due again at [`wake_at`](Self::wake_at), or
    /// (`None`) only when a message arrives.
    pub(crate) fn parks(&self) -> bool {
        match self {
            Position::Enter { .. } => false,
            Position::Waiting { .. } | Position::BackingOff { .. } => true,
            Position::Callback { submitted, .. } => *submitted,
        }
    }

    /// The task token a callback attempt holds open here.
    pub(crate) fn token(&self) -> Option<&str> {
        match self {
            Position::Callback { token, .. } => Some(token),
            _ => None,
        }
    }

    /// The state the line is in or enters next.
    pub(crate) fn state(&self) -> &str {
        match self {
            Position::Enter { state }
            | Position::Waiting { state, .. }
            | Position::BackingOff { state, .. }
            | Position::Callback { state, .. } => state,
        }
    }
}

/// A Task's retry loop in a durable run: the state input a back-off is
/// checkpointed with, and the point the loop resumes from.
pub(crate) struct RetryPoint<'a> {
    pub input: &'a Value,
    pub resume: Option<RetryResume>,
}

/// Where a Task's retry loop resumes: its counters, and the end of the
/// back-off it was in (waited out before the Task resumes), or the
/// callback attempt it was in.
pub(crate) struct RetryResume {
    pub counters: Vec<u64>,
    pub retry_count: u32,
    pub until: SystemTime,
    pub in_flight: Option<Box<super::states::callback::InFlight>>,
}

impl RetryResume {
    /// Waits out what is left of the back-off.
    pub(crate) async fn wait_out(&self, clock: &dyn crate::clock::Clock) {
        if let Ok(left) = self.until.duration_since(clock.now()) {
            if !left.is_zero() {
                clock.sleep(left).await;
            }
        }
    }
}

/// What a [`CheckpointSink`] says after it has taken a checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Go on.
    Continue,
    /// Stop the execution here: the checkpoint parked it (a Wait), or it
    /// could not be kept (the lease was lost, the store failed), and the
    /// run's outcome (aborted) means nothing; or a StopExecution was
    /// honoured (the sink aborted the run with its error and cause first),
    /// and the outcome is the execution's end.
    Halt,
}

/// Where an execution's checkpoints go: the durable driver commits each
/// one, with the history events of its transition, to its store.
pub(crate) trait CheckpointSink: Send + Sync {
    /// Takes the checkpoint of one transition and its history events (in
    /// id order).
    fn transition<'a>(
        &'a self,
        checkpoint: Checkpoint,
        events: Vec<HistoryEvent>,
    ) -> BoxFuture<'a, Verdict>;

    /// The task messages (SendTaskSuccess/Failure/Heartbeat) stored for
    /// `token` when the execution was loaded, oldest first, with the time
    /// each arrived. Each is consumed by the next commit.
    fn task_messages(&self, _token: &str) -> Vec<(SystemTime, CallbackMessage)> {
        Vec::new()
    }

    /// The attempt that held `token` ended (answered, failed, timed out):
    /// the next commit closes the token, and later answers are refused.
    fn close_token(&self, _token: &str) {}

    /// A transition of a line that is not checkpointed (a Parallel
    /// branch, a Map iteration): nothing to keep, but the execution is
    /// alive (the driver renews its lease when it runs low).
    fn alive(&self) -> BoxFuture<'_, Verdict>;
}

/// Why a definition cannot run durably yet: the message names the first
/// state stepfn cannot checkpoint. `None` when every state can.
///
/// Parallel and inline Map states run durably as one transition of their
/// line (see the module docs); the states of their branches and
/// iterations are checked too, and a Wait state among them is refused: it
/// would hold the worker (and outlast its lease) instead of parking.
pub(crate) fn unsupported(definition: &Definition) -> Option<String> {
    unsupported_in(&definition.machine, false)
}

/// [`unsupported`] over the states of `sm`; `nested`: `sm` is a Parallel
/// branch or a Map iteration.
fn unsupported_in(sm: &SubMachine, nested: bool) -> Option<String> {
    sm.states.iter().find_map(|state| {
        let what = match &state.kind {
            StateKind::Parallel(p) => {
                return p.branches.iter().find_map(|b| unsupported_in(b, true))
            }
            StateKind::Map(m) if m.processor_config.mode == ProcessingMode::Distributed => {
                "Map states in DISTRIBUTED mode are"
            }
            StateKind::Map(m) => return unsupported_in(&m.item_processor, true),
            StateKind::Wait(_) if nested => {
                "Wait states inside Parallel branches and Map iterations are"
            }
            StateKind::Task(t) if nested => {
                let names = super::plan::task_names(&t.resource);
                if names.callback || names.family == super::plan::TaskFamily::Activity {
                    "Task states that wait for a callback (.waitForTaskToken, activities) inside Parallel branches and Map iterations are"
                } else {
                    return None;
                }
            }
            _ => return None,
        };
        Some(format!(
            "{what} not yet supported in durable executions (state '{}')",
            state.name
        ))
    })
}

/// A state of line `th` has ended, `next` is entered with `input`: the
/// checkpoint of a checkpointed line ([`enter`]), else a sign of life
/// ([`keep_alive`]).
pub(super) async fn stepped(
    run: &Run<'_>,
    sink: &dyn CheckpointSink,
    sm: &SubMachine,
    next: Next,
    input: &Value,
    th: &Thread<'_>,
) {
    if th.checkpointed {
        enter(run, sink, sm, next, input, th).await;
    } else {
        keep_alive(run, sink).await;
    }
}

/// The checkpoint of `th` about to enter `next` with `input`, handed to
/// `sink` with the events since the last one; halts the execution when
/// the sink says so. The end of the line (`Next::End`) is not
/// checkpointed: the execution's last commit carries it.
pub(super) async fn enter(
    run: &Run<'_>,
    sink: &dyn CheckpointSink,
    sm: &SubMachine,
    next: Next,
    input: &Value,
    th: &Thread<'_>,
) {
    let Next::State(i) = next else { return };
    let Some(state) = sm.states.get(i) else {
        return;
    };
    let at = Position::Enter {
        state: state.name.clone(),
    };
    hand_over(run, sink, at, input, th).await;
}

/// The checkpoint of a Wait about to sleep until `until`: `input` is what
/// its output is made of when it ends, `assigned` what it assigns then,
/// `state_input` the state input when it differs from `input`.
pub(crate) async fn waiting(
    cx: &StateCx<'_, '_>,
    sink: &dyn CheckpointSink,
    (input, state_input): (&Value, Option<Value>),
    assigned: &Option<Map<String, Value>>,
    until: SystemTime,
) {
    let at = Position::Waiting {
        state: cx.state.name.clone(),
        entered: cx.entered,
        before_entered: cx.before_entered,
        entered_time: cx.entered_time,
        until,
        assigned: assigned.clone(),
        state_input,
    };
    hand_over(cx.run, sink, at, input, cx.th).await;
}

/// The checkpoint of a Task about to back off for `delay` before its
/// next attempt (`counters` and `retry_count` already count it); `input`
/// is the state input.
pub(crate) async fn backing_off(
    cx: &StateCx<'_, '_>,
    sink: &dyn CheckpointSink,
    input: &Value,
    (counters, retry_count, delay): (&[u64], u32, std::time::Duration),
) {
    let Some(until) = cx.run.clock.now().checked_add(delay) else {
        return;
    };
    let at = Position::BackingOff {
        state: cx.state.name.clone(),
        entered: cx.entered,
        before_entered: cx.before_entered,
        entered_time: cx.entered_time,
        counters: counters.to_vec(),
        retry_count,
        until,
    };
    hand_over(cx.run, sink, at, input, cx.th).await;
}

pub(crate) async fn hand_over(
    run: &Run<'_>,
    sink: &dyn CheckpointSink,
    at: Position,
    input: &Value,
    th: &Thread<'_>,
) {
    let wake_at = match (at.wake_at(), run.deadline) {
        (Some(until), Some(deadline)) => Some(until.min(deadline)),
        // a callback awaited without deadlines of its own
        (None, Some(deadline)) if at.parks() => Some(deadline),
        (until, _) => until,
    };
    let checkpoint = Checkpoint {
        version: CHECKPOINT_VERSION,
        line: String::new(),
        wake_at,
        at,
        input: input.clone(),
        variables: th.vars.local().clone(),
        events: th.sink.count(),
        cursor: th.cursor,
        transitions: run.transitions.load(Ordering::Relaxed),
        given_depth: run.given_depth.load(Ordering::Relaxed),
        redrives: run.identity.redrive_count,
    };
    let events = th.sink.drain();
    // the commit is work in flight: a virtual clock must not move meanwhile
    let _busy = BusyGuard::new(&run.busy);
    let verdict = sink.transition(checkpoint, events).await;
    obey(run, verdict).await;
}

/// A transition of a line inside a Parallel or Map state (not
/// checkpointed): tells `sink` the execution is alive, and halts it when
/// the sink says so (its lease was lost).
async fn keep_alive(run: &Run<'_>, sink: &dyn CheckpointSink) {
    let _busy = BusyGuard::new(&run.busy);
    let verdict = sink.alive().await;
    obey(run, verdict).await;
}

/// Goes on, or stops the execution for good, as the sink said.
async fn obey(run: &Run<'_>, verdict: Verdict) {
    if verdict == Verdict::Halt {
        run.shared.aborted.store(true, Ordering::SeqCst);
        run.shared.waker.wake();
        // never resumes: the abort drops this future
        futures::future::pending::<()>().await;
    }
}

/// Walks the top level from `checkpoint` to its end on `th`.
pub(super) async fn resume<'x>(
    run: &'x Run<'x>,
    (sm, plan): (&'x SubMachine, &'x SubPlan),
    at: Position,
    input: Payload,
    th: &mut Thread<'x>,
) -> Result<Payload, Failure> {
    let mut states = sm.states.iter().zip(&plan.states).enumerate();
    let Some((i, (state, sp))) = states.find(|(_, (s, _))| s.name == at.state()) else {
        return Err(Failure::new(
            StatesError::runtime(format!(
                "the checkpoint names a state the definition does not have: '{}'",
                at.state()
            )),
            th.cursor,
        ));
    };
    // inside a state: its context as it was when it was entered
    let inside = |th, entered, before_entered, entered_time| StateCx {
        run,
        state,
        plan: sp,
        entered,
        before_entered,
        entered_time,
        context: sp
            .needs_context
            .then(|| run.context(&state.name, entered_time, None, None, None)),
        th,
    };
    let step = match (at, &state.kind) {
        (Position::Enter { .. }, _) => {
            return walk::walk_from(run, (sm, plan), Next::State(i), input, th).await
        }
        (
            Position::Waiting {
                entered,
                before_entered,
                entered_time,
                until,
                assigned,
                ..
            },
            StateKind::Wait(s),
        ) => {
            let mut cx = inside(th, entered, before_entered, entered_time);
            if let Ok(left) = until.duration_since(run.clock.now()) {
                if !left.is_zero() {
                    run.clock.sleep(left).await;
                }
            }
            states::wait::ended(&mut cx, s, input, assigned)?
        }
        (
            Position::BackingOff {
                entered,
                before_entered,
                entered_time,
                counters,
                retry_count,
                until,
                ..
            },
            StateKind::Task(s),
        ) => {
            let mut cx = inside(th, entered, before_entered, entered_time);
            let resume = RetryResume {
                counters,
                retry_count,
                until,
                in_flight: None,
            };
            resume.wait_out(run.clock).await;
            states::task::task(&mut cx, s, input, Some(resume)).await?
        }
        (
            Position::Callback {
                entered,
                before_entered,
                entered_time,
                counters,
                retry_count,
                token,
                submitted,
                timeout_at,
                heartbeat_at,
                ..
            },
            StateKind::Task(s),
        ) => {
            let mut cx = inside(th, entered, before_entered, entered_time);
            let resume = RetryResume {
                counters,
                retry_count,
                // no back-off to wait out: the attempt is under way
                until: entered_time,
                in_flight: Some(Box::new(states::callback::InFlight {
                    token,
                    submitted,
                    timeout_at,
                    heartbeat_at,
                })),
            };
            states::task::task(&mut cx, s, input, Some(resume)).await?
        }
        _ => {
            return Err(Failure::new(
                StatesError::runtime(format!(
                    "the checkpoint is inside a state of another type: '{}'",
                    state.name
                )),
                th.cursor,
            ))
        }
    };
    // the state resumed in has ended: that is a transition too
    if let Some(sink) = run.checkpoints {
        enter(run, sink, sm, step.next, &step.output.value, th).await;
    }
    walk::walk_from(run, (sm, plan), step.next, step.output, th).await
}

/// The first checkpoint of a durable execution of `definition` on `input`
/// started at `start` (about to enter `StartAt`), and its
/// `ExecutionStarted` event (id 1), as an in-memory run records it.
pub(crate) fn started(
    definition: &Definition,
    identity: &super::ExecutionIdentity,
    input: &Value,
    start: SystemTime,
) -> (Checkpoint, HistoryEvent) {
    let role_arn = super::drive::resolve_identity(identity, start).role_arn;
    let mut details = super::events::payload_details("input", input);
    details.insert("roleArn".into(), Value::from(role_arn));
    let event = HistoryEvent {
        id: 1,
        previous_event_id: 0,
        timestamp: start,
        event_type: "ExecutionStarted",
        details_key: Some("executionStartedEventDetails"),
        details,
    };
    let checkpoint = Checkpoint {
        version: CHECKPOINT_VERSION,
        line: String::new(),
        at: Position::Enter {
            state: definition.machine.start_at.clone(),
        },
        input: input.clone(),
        variables: Map::new(),
        events: 1,
        // AWS links the first state entered to no event (0), as the
        // in-memory run does
        cursor: 0,
        transitions: 0,
        given_depth: 0,
        wake_at: None,
        redrives: 0,
    };
    (checkpoint, event)
}

/// The `ExecutionAborted` event of a StopExecution honoured between two
/// transitions (after event `last`), as an in-memory run records an abort.
pub(crate) fn aborted(
    last: u64,
    error: Option<&str>,
    cause: Option<&str>,
    now: SystemTime,
) -> HistoryEvent {
    HistoryEvent {
        id: last + 1,
        previous_event_id: last,
        timestamp: now,
        event_type: "ExecutionAborted",
        details_key: Some("executionAbortedEventDetails"),
        details: super::events::error_details(error, cause),
    }
}
