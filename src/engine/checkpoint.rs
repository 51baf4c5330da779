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
//! What is covered: every line of states (the top level, each Parallel
//! branch, each inline Map iteration, nested to any depth) with every
//! state type, the child executions of a distributed Map included (lines
//! whose event ids count their own history). A line
//! is checkpointed before each state it enters (committed before a state
//! that works: a Task, Wait, Parallel or Map; only recorded before a Pass,
//! Choice, Succeed or Fail, so that the transitions between two states that
//! work share one commit, at most [`SHARED_COMMIT`] in a row), when a Wait starts to
//! sleep, when a retry starts to back off (with the retriers' counters
//! and the absolute time the back-off ends), and around a
//! `.waitForTaskToken` attempt (its token before the call; once the call
//! answered, its absolute deadlines: [`Position::Callback`],
//! `states/callback.rs`). A task call in flight is made again after a
//! crash (at-least-once), with the same idempotency key.
//!
//! Lines run side by side, one commit at a time: a commit takes every
//! event emitted so far, of every line, so every line must be at a place
//! its checkpoint names whenever another line commits. A line waits only
//! at such places: in a commit of its own, in a task call (recorded as
//! [`Position::Calling`] before the call, without a commit: see
//! [`CheckpointSink::record`]), asleep in a Wait or back-off (committed
//! before), awaiting a callback (committed before), or, in a Parallel or
//! Map state, while its branches or iterations run ([`Position::Inside`],
//! recorded when the attempt starts and as each branch or iteration ends;
//! a line that ended is [`Position::Done`] with its result, until its
//! state ends and [`CheckpointSink::remove_lines`] drops its lines). A
//! branch or iteration is recorded when it starts (a Map's with its
//! `MapIterationStarted`). The periodic yield of a walk comes right after
//! a commit; a retry does not yield in a durable run.
//!
//! When no line can go on (every one sleeps or awaits a callback, nothing
//! is in flight), the execution is idle: the sink is asked
//! ([`CheckpointSink::idle`]) and parks it when every line that runs
//! states waits, due when the first one wakes. A resumed run takes the
//! checkpoints of the lines below the top level by path
//! ([`Run::take_line`](super::drive::Run::take_line)) as each Parallel or
//! Map attempt goes on: a line that ended gives its result, the others
//! resume where they were; a line not yet started starts.
//!
//! A checkpoint records the execution's redrive count; one taken before
//! the latest redrive is re-armed by [`super::redrive::rearm`] before the
//! line resumes.

use super::drive::{BusyGuard, Run};
use super::plan::{Next, SubPlan};
use super::states;
use super::walk::{self, Failure, StateCx, Thread};
use super::HistoryEvent;
use crate::definition::{Definition, StateKind, SubMachine};
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
pub(crate) const CHECKPOINT_VERSION: u32 = 2;

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
    /// The line is a child execution of a distributed Map: its event ids
    /// (`events`, `cursor`) count its own history, not the execution's.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub child_execution: bool,
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
    /// Inside the Task state `state`, its attempt's call in flight
    /// (`...Scheduled` and `...Started` recorded): a resumed run makes the
    /// call again (at-least-once) without announcing it again. Recorded,
    /// not committed: it goes with the next commit of any line.
    Calling {
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
        /// The attempt's task token (`.sync` jobs), if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
    },
    /// Inside the Parallel or Map state `state`, an attempt under way: its
    /// branches or iterations are lines of their own, below this one
    /// ([`child_line`]); the checkpoint's input is the state input.
    Inside {
        /// The state's name.
        state: String,
        /// Its `...StateEntered` event.
        entered: u64,
        /// The event before it.
        before_entered: u64,
        /// When it was entered (`$$.State.EnteredTime`).
        entered_time: SystemTime,
        /// Its `ParallelStateStarted` or `MapStateStarted` event.
        started: u64,
        /// The retries each retrier has made so far.
        counters: Vec<u64>,
        /// The attempt's retry count.
        retry_count: u32,
        /// The last event of the branch that ended last (Parallel), the
        /// last `MapIterationSucceeded` (Map).
        last: u64,
        /// Map: the event the next `MapIterationStarted` follows.
        prev_start: u64,
    },
    /// A branch or iteration that has ended: the checkpoint's input is its
    /// output, its cursor its last event. Kept until its Parallel or Map
    /// state ends, so that a resumed or redriven state does not run it
    /// again.
    Done,
    /// A child execution of a distributed Map that failed: the
    /// checkpoint's input is its error output (`{"Error", "Cause"}`),
    /// counted against the tolerated failures. A redrive runs it again.
    Failed,
}

impl Position {
    /// When the line needs a worker again: `None` at once, else the end of
    /// its Wait or back-off.
    pub(crate) fn wake_at(&self) -> Option<SystemTime> {
        match self {
            Position::Enter { .. }
            | Position::Calling { .. }
            | Position::Inside { .. }
            | Position::Done
            | Position::Failed => None,
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
            Position::Enter { .. }
            | Position::Calling { .. }
            | Position::Inside { .. }
            | Position::Done
            | Position::Failed => false,
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

    /// The state the line is in or enters next (`""` for a line that
    /// ended).
    pub(crate) fn state(&self) -> &str {
        match self {
            Position::Enter { state }
            | Position::Waiting { state, .. }
            | Position::BackingOff { state, .. }
            | Position::Callback { state, .. }
            | Position::Calling { state, .. }
            | Position::Inside { state, .. } => state,
            Position::Done | Position::Failed => "",
        }
    }

    /// True for a line that runs states itself (not one that ended, nor
    /// one whose branches or iterations run below it).
    pub(crate) fn is_leaf(&self) -> bool {
        !matches!(
            self,
            Position::Inside { .. } | Position::Done | Position::Failed
        )
    }
}

/// The line of branch or iteration `index` of the Parallel or Map state
/// `state` of line `parent` (`""`: the top level), e.g. `/Fanout/1` or
/// `/Fanout/1/Process/17`. A `/` or `\` in a state name is escaped with a
/// `\`, so that a line's path names it alone.
pub(crate) fn child_line(parent: &str, state: &str, index: usize) -> String {
    let mut line = children_of(parent, state);
    line.push_str(&index.to_string());
    line
}

/// What the lines of `state`'s branches or iterations (of line `parent`)
/// begin with: [`child_line`] without the index.
pub(crate) fn children_of(parent: &str, state: &str) -> String {
    let mut line = String::with_capacity(parent.len() + state.len() + 2);
    line.push_str(parent);
    line.push('/');
    for c in state.chars() {
        if c == '/' || c == '\\' {
            line.push('\\');
        }
        line.push(c);
    }
    line.push('/');
    line
}

/// A Task's retry loop in a durable run: the state input a back-off is
/// checkpointed with, and the point the loop resumes from.
pub(crate) struct RetryPoint<'a> {
    pub input: &'a Value,
    pub resume: Option<RetryResume>,
}

/// Where a state's retry loop resumes: its counters, and the end of the
/// back-off it was in (waited out before the state resumes), or the
/// attempt under way.
pub(crate) struct RetryResume {
    pub counters: Vec<u64>,
    pub retry_count: u32,
    pub until: SystemTime,
    pub under_way: UnderWay,
}

/// The attempt a resumed state was in the middle of.
pub(crate) enum UnderWay {
    /// None: the next attempt starts afresh (after the back-off).
    Nothing,
    /// A Task's callback attempt.
    Callback(Box<super::states::callback::InFlight>),
    /// A Task's call (its token, if it has one): made again, not announced
    /// again.
    Call(Option<String>),
    /// A Parallel or Map attempt, its lines below it.
    Lines(Inside),
}

/// A Parallel or Map attempt resumed: the events it links to.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Inside {
    pub started: u64,
    pub last: u64,
    pub prev_start: u64,
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

    /// Records the checkpoint of a line without a commit of its own: it
    /// goes with the next commit of any line (a call in flight, a line
    /// started or ended, a Parallel or Map attempt under way). The events
    /// emitted so far agree with it: they too go with that commit.
    fn record(&self, checkpoint: Checkpoint);

    /// The lines whose path begins with `prefix` are gone (their Parallel
    /// or Map state ended, or starts a new attempt): removed by the next
    /// commit.
    fn remove_lines(&self, prefix: &str);

    /// The execution is idle: every line waits for time to pass or for a
    /// message, nothing else is in flight. True when the sink parks the
    /// execution here (every line that runs states is at a Wait, a
    /// back-off or a callback awaited): the run is then dropped, and the
    /// sink takes the events not yet committed (`events` drains them).
    fn idle(&self, events: &dyn Fn() -> Vec<HistoryEvent>) -> bool;
}

/// The checkpoint of `th` about to enter `next` with `input`, handed to
/// `sink` with the events since the last one; halts the execution when
/// the sink says so. The end of the line (`Next::End`) is not
/// checkpointed: the execution's last commit carries it.
///
/// Entering a state that does no work (a Pass, Choice, Succeed or Fail,
/// which a resumed line recomputes at no cost), the checkpoint is recorded,
/// not committed: it goes with the next commit, so the transitions between
/// two states that work (a Task, Wait, Parallel, Map) share one commit (at
/// most [`SHARED_COMMIT`] of them in a row). A state that works is entered
/// with a commit, so its call, timer or lines start from stored ground.
pub(super) async fn enter(
    run: &Run<'_>,
    sink: &dyn CheckpointSink,
    sm: &SubMachine,
    next: Next,
    input: &Value,
    th: &mut Thread<'_>,
) {
    let Next::State(i) = next else { return };
    let Some(state) = sm.states.get(i) else {
        return;
    };
    let at = Position::Enter {
        state: state.name.clone(),
    };
    if walk::settles_at_once(&state.kind) && th.uncommitted < SHARED_COMMIT {
        th.uncommitted += 1;
        record(run, sink, at, input, th);
        return;
    }
    th.uncommitted = 0;
    hand_over(run, sink, at, input, th).await;
}

/// How many transitions in a row, after states that did no work, share
/// one commit at most: a worker that dies redoes at most as many (and
/// renews its lease at least that often, besides its own renewals).
pub(crate) const SHARED_COMMIT: u32 = 64;

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
    // the lines of a Parallel or Map attempt that failed are done with
    sink.remove_lines(&children_of(&cx.th.line, cx.name()));
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
    let checkpoint = snapshot(run, at, input, th);
    // every event of the execution so far, whichever line emitted it (a
    // child execution's own events are not the execution's history)
    let events = run.history().unwrap_or(th.sink).drain();
    // the commit is work in flight: a virtual clock must not move, and
    // the execution is not idle, meanwhile
    let _busy = BusyGuard::new(&run.busy);
    let verdict = sink.transition(checkpoint, events).await;
    obey(run, verdict).await;
}

/// Records where line `th` is (`at`, with `input`) without a commit of
/// its own: see [`CheckpointSink::record`].
pub(crate) fn record(
    run: &Run<'_>,
    sink: &dyn CheckpointSink,
    at: Position,
    input: &Value,
    th: &Thread<'_>,
) {
    sink.record(snapshot(run, at, input, th));
}

/// Records that the branch or iteration `line` ended (`at`: Done, or
/// Failed for a child execution of a distributed Map) with `output`, its
/// last event `cursor`; `child`: the events the child execution of a
/// distributed Map emitted in its own history (`None`: the line's events
/// are the execution's).
pub(crate) fn record_done(
    run: &Run<'_>,
    sink: &dyn CheckpointSink,
    line: String,
    (at, output, cursor): (Position, &Value, u64),
    child: Option<u64>,
) {
    sink.record(Checkpoint {
        version: CHECKPOINT_VERSION,
        line,
        at,
        input: output.clone(),
        variables: Map::new(),
        events: child.unwrap_or_else(|| run.history().map_or(0, |h| h.count())),
        cursor,
        transitions: run.transitions.load(Ordering::Relaxed),
        given_depth: run.given_depth.load(Ordering::Relaxed),
        wake_at: None,
        redrives: run.identity.redrive_count,
        child_execution: child.is_some(),
    });
}

/// The checkpoint of line `th` at `at`, with `input`.
fn snapshot(run: &Run<'_>, at: Position, input: &Value, th: &Thread<'_>) -> Checkpoint {
    let wake_at = match (at.wake_at(), run.deadline) {
        (Some(until), Some(deadline)) => Some(until.min(deadline)),
        // a callback awaited without deadlines of its own
        (None, Some(deadline)) if at.parks() => Some(deadline),
        (until, _) => until,
    };
    Checkpoint {
        version: CHECKPOINT_VERSION,
        line: th.line.clone(),
        wake_at,
        at,
        input: input.clone(),
        variables: th.vars.local().clone(),
        events: th.sink.count(),
        cursor: th.cursor,
        transitions: run.transitions.load(Ordering::Relaxed),
        given_depth: run.given_depth.load(Ordering::Relaxed),
        redrives: run.identity.redrive_count,
        child_execution: run.history().is_some_and(|h| !std::ptr::eq(h, th.sink)),
    }
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

/// Walks a line of states (`sm`, the top level or a branch or iteration)
/// from where its checkpoint left it (`at`, with `input`) to its end on
/// `th`.
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
    if let Position::Enter { .. } = at {
        return walk::walk_from(run, (sm, plan), Next::State(i), input, th).await;
    }
    if let Some(slot) = th.slot {
        // the state's kind, for the `...StateAborted` event of a cancel
        slot.store(walk::slot_kind(&state.kind), Ordering::Relaxed);
    }
    let step = Box::pin(resume_state(run, (state, sp), at, input, th)).await?;
    // the state resumed in has ended: that is a transition too
    if let Some(sink) = run.checkpoints {
        enter(run, sink, sm, step.next, &step.output.value, th).await;
    }
    walk::walk_from(run, (sm, plan), step.next, step.output, th).await
}

/// Goes on with `state`, in which line `th` was at `at`, to its end.
async fn resume_state<'x>(
    run: &'x Run<'x>,
    (state, sp): (&'x crate::definition::State, &'x super::plan::StatePlan),
    at: Position,
    input: Payload,
    th: &mut Thread<'x>,
) -> Result<walk::Step, Failure> {
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
    if let Position::Waiting {
        entered,
        before_entered,
        entered_time,
        until,
        assigned,
        ..
    } = at
    {
        let StateKind::Wait(s) = &state.kind else {
            return Err(elsewhere(state, th));
        };
        let mut cx = inside(th, entered, before_entered, entered_time);
        if let Ok(left) = until.duration_since(run.clock.now()) {
            if !left.is_zero() {
                run.clock.sleep(left).await;
            }
        }
        return states::wait::ended(&mut cx, s, input, assigned);
    }
    let Some(((entered, before_entered, entered_time), resume)) = retry_resume(at) else {
        return Err(elsewhere(state, th));
    };
    if matches!(resume.under_way, UnderWay::Nothing) {
        // backing off: the back-off waited out first
        resume.wait_out(run.clock).await;
    }
    let mut cx = inside(th, entered, before_entered, entered_time);
    match (&state.kind, &resume.under_way) {
        (StateKind::Task(s), UnderWay::Nothing | UnderWay::Callback(_) | UnderWay::Call(_)) => {
            states::task::task(&mut cx, s, input, Some(resume)).await
        }
        (StateKind::Parallel(s), UnderWay::Nothing | UnderWay::Lines(_)) => {
            states::parallel::parallel(&mut cx, s, input, Some(resume)).await
        }
        (StateKind::Map(s), UnderWay::Nothing | UnderWay::Lines(_)) => {
            states::map::map(&mut cx, s, input, Some(resume)).await
        }
        _ => Err(elsewhere(state, cx.th)),
    }
}

/// Where a Task, Parallel or Map state whose line was at `at` goes on
/// from: when it was entered (its `...StateEntered` event, the one before
/// and the time) and its retries and what was under way; `None` for a
/// position that is not inside such a state.
fn retry_resume(at: Position) -> Option<((u64, u64, SystemTime), RetryResume)> {
    let (entered, resume) = match at {
        Position::BackingOff {
            entered,
            before_entered,
            entered_time,
            counters,
            retry_count,
            until,
            ..
        } => {
            let resume = RetryResume {
                counters,
                retry_count,
                until,
                under_way: UnderWay::Nothing,
            };
            ((entered, before_entered, entered_time), resume)
        }
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
        } => {
            let in_flight = states::callback::InFlight {
                token,
                submitted,
                timeout_at,
                heartbeat_at,
            };
            let resume = RetryResume {
                counters,
                retry_count,
                // no back-off to wait out: the attempt is under way
                until: entered_time,
                under_way: UnderWay::Callback(Box::new(in_flight)),
            };
            ((entered, before_entered, entered_time), resume)
        }
        Position::Calling {
            entered,
            before_entered,
            entered_time,
            counters,
            retry_count,
            token,
            ..
        } => {
            let resume = RetryResume {
                counters,
                retry_count,
                until: entered_time,
                under_way: UnderWay::Call(token),
            };
            ((entered, before_entered, entered_time), resume)
        }
        Position::Inside {
            entered,
            before_entered,
            entered_time,
            started,
            counters,
            retry_count,
            last,
            prev_start,
            ..
        } => {
            let resume = RetryResume {
                counters,
                retry_count,
                until: entered_time,
                under_way: UnderWay::Lines(Inside {
                    started,
                    last,
                    prev_start,
                }),
            };
            ((entered, before_entered, entered_time), resume)
        }
        Position::Enter { .. } | Position::Waiting { .. } | Position::Done | Position::Failed => {
            return None
        }
    };
    Some((entered, resume))
}

/// A checkpoint inside a state of a type it cannot be in.
fn elsewhere(state: &crate::definition::State, th: &Thread<'_>) -> Failure {
    Failure::new(
        StatesError::runtime(format!(
            "the checkpoint is inside a state of another type: '{}'",
            state.name
        )),
        th.cursor,
    )
}

/// Runs a branch or iteration from its checkpoint `checkpoint` on `th`
/// (whose variables, cursor and line are the checkpoint's) to its end.
pub(crate) fn resume_sub<'x>(
    run: &'x Run<'x>,
    machine: (&'x SubMachine, &'x SubPlan),
    checkpoint: Checkpoint,
    mut th: Thread<'x>,
) -> BoxFuture<'x, walk::SubOutcome> {
    // the line is under way before its first poll: a sibling's failure
    // before then cancels it as it cancels a line that ran
    if let Some(slot) = th.slot {
        let (sm, _) = machine;
        let kind = (sm.states.iter().find(|s| s.name == checkpoint.at.state()))
            .map_or(super::events::KIND_OTHER, |s| walk::slot_kind(&s.kind));
        slot.store(kind, Ordering::Relaxed);
    }
    Box::pin(async move {
        th.vars.restore(checkpoint.variables);
        th.cursor = checkpoint.cursor;
        let bound = run.measure(&checkpoint.input);
        let input = Payload::new(checkpoint.input, bound);
        let result = resume(run, machine, checkpoint.at, input, &mut th).await;
        walk::SubOutcome::ended(result, &th)
    })
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
        child_execution: false,
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
