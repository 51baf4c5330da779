//! One execution from its input to its [`Outcome`]: what its states share
//! ([`Run`]: the executor, the clock, the limits, the identity and the
//! context object), the top-level walk under the definition's timeout, and
//! the future that stops it when aborted and moves a virtual clock when
//! only time can make progress.

use super::checkpoint::Checkpoint;
use super::events::{self, EventSink};
use super::walk::{self, Thread, Vars};
use super::{Execution, ExecutionIdentity, Limits, Outcome, Shared, Status};
use crate::clock::Clock;
use crate::definition::StateMachineType;
use crate::error::{ErrorName, StatesError};
use crate::executor::TaskExecutor;
use crate::json::{Bounds, Measure, Payload};
use crate::timestamp::write_rfc3339_millis;
use rand::rngs::SmallRng;
use rand::Rng;
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::SystemTime;

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
    /// A hash of `exec_arn` (FNV-1a): what JSONata's `$random()` and
    /// `$uuid()` are seeded from, with the state entered.
    pub seed: u64,
}

/// Everything one execution shares between its states.
pub(crate) struct Run<'a> {
    pub executor: &'a dyn TaskExecutor,
    pub clock: &'a dyn Clock,
    pub limits: &'a Limits,
    pub shared: &'a std::sync::Arc<Shared>,
    pub rng: Mutex<SmallRng>,
    /// Task calls in flight and [`Pause`]s: a virtual clock does not move
    /// while any is.
    pub busy: AtomicUsize,
    pub transitions: AtomicU64,
    /// Who the execution is, resolved when first needed (context object,
    /// history, Map Run ARNs): an execution that needs none of them makes
    /// no ARN strings.
    pub ident: OnceLock<Ident>,
    pub identity: &'a ExecutionIdentity,
    pub start_time: SystemTime,
    /// The execution input, kept for `$$.Execution.Input` when some state
    /// may read it.
    pub exec_input: Option<Value>,
    pub exec_context: OnceLock<Value>,
    /// With no depth limit set: the deepest value the embedder has given
    /// so far (the execution input, task results), which raises the
    /// ceiling of what the machine may build ([`depth_limit`](Self::depth_limit)).
    pub given_depth: AtomicUsize,
    /// Durable runs: where each transition's checkpoint goes.
    pub checkpoints: Option<&'a dyn super::checkpoint::CheckpointSink>,
    /// Waits and back-offs overridden or scaled (`None`: as defined).
    pub time: Option<&'a super::TimeOverrides>,
    /// Durable runs: when the definition's `TimeoutSeconds` ends the
    /// execution (a parked execution is due then at the latest).
    pub deadline: Option<SystemTime>,
    /// A resumed durable run: the checkpoints of the lines below the top
    /// level (branches, iterations), by path, each taken by the Parallel
    /// or Map attempt that goes on with it.
    pub lines: Mutex<std::collections::HashMap<String, Checkpoint>>,
    /// The execution's event sink (its history), when the run has one set
    /// (durable runs drain it at each commit).
    pub events: Option<&'a EventSink>,
}

/// With no depth limit set ([`Limits::max_depth`] `None`), values the
/// machine builds may still nest at most this deep, or
/// [`GIVEN_DEPTH_MARGIN`] levels deeper than the deepest value the embedder
/// gave: a state machine that wraps its input in a loop would otherwise
/// build a value deep enough to overflow the stack of the thread that
/// clones, serialises or drops it.
pub(crate) const BUILT_DEPTH_CEILING: usize = 1000;

/// See [`BUILT_DEPTH_CEILING`].
pub(crate) const GIVEN_DEPTH_MARGIN: usize = 64;

/// Which payload limit a value passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exceeded {
    Bytes,
    Depth,
}

impl<'a> Run<'a> {
    /// The shared part of `execution`, run by `executor` on `input`, whose
    /// depth is `given_depth` (see [`given_depth`]).
    fn new(
        execution: &'a Execution<'_>,
        executor: &'a dyn TaskExecutor,
        input: &Value,
        given_depth: usize,
    ) -> Self {
        use rand::SeedableRng;
        let clock: &dyn Clock = &*execution.clock;
        let rng = match execution.random_seed {
            Some(seed) => SmallRng::seed_from_u64(seed),
            None => SmallRng::seed_from_u64(fast_random()),
        };
        let start_time = execution.identity.start_time.unwrap_or_else(|| clock.now());
        // a redrive restarts the definition's timeout
        let timed_from = execution.identity.redrive_time.unwrap_or(start_time);
        let deadline = execution
            .checkpoints
            .and(execution.definition.timeout_seconds)
            .and_then(|t| timed_from.checked_add(std::time::Duration::from_secs(t)));
        Run {
            executor,
            clock,
            limits: &execution.limits,
            shared: &execution.shared,
            rng: Mutex::new(rng),
            busy: Default::default(),
            transitions: Default::default(),
            ident: Default::default(),
            identity: &execution.identity,
            start_time,
            exec_input: execution.plan.wants_context.then(|| input.clone()),
            exec_context: Default::default(),
            given_depth: AtomicUsize::new(given_depth),
            checkpoints: execution.checkpoints,
            time: (!execution.time.is_empty()).then_some(&execution.time),
            deadline,
            lines: Mutex::default(),
            events: None,
        }
    }

    /// The execution's event sink, when set: see [`Run::events`].
    pub(crate) fn history(&self) -> Option<&'a EventSink> {
        self.events
    }

    /// The checkpoint of line `path` of a resumed run, taken once.
    pub(crate) fn take_line(&self, path: &str) -> Option<Checkpoint> {
        self.lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(path)
    }

    /// The depth a value may nest to: the limit when one is set; without
    /// one, [`BUILT_DEPTH_CEILING`] or [`GIVEN_DEPTH_MARGIN`] levels past
    /// the deepest value the embedder has given, whichever is deeper.
    #[inline]
    pub(crate) fn depth_limit(&self) -> usize {
        match self.limits.max_depth {
            Some(limit) => limit,
            None => BUILT_DEPTH_CEILING.max(
                self.given_depth
                    .load(Ordering::Relaxed)
                    .saturating_add(GIVEN_DEPTH_MARGIN),
            ),
        }
    }

    /// Checks a value the embedder gave (a task result) against the payload
    /// limits: as [`check`](Self::check), except that with no depth limit
    /// set its depth is not judged but raises the ceiling of what the
    /// machine may build.
    pub(crate) fn check_given(&self, value: &Value) -> Result<Measure, Exceeded> {
        if self.limits.max_depth.is_some() {
            return self.check(value, Measure::UNKNOWN);
        }
        // one pass measures the depth (and the bytes, when they are judged)
        let scan = crate::json::scan(value, self.limits.max_payload_bytes, Some(usize::MAX));
        if scan.too_big {
            return Err(Exceeded::Bytes);
        }
        self.given_depth
            .fetch_max(scan.measure.depth, Ordering::Relaxed);
        Ok(scan.measure)
    }

    pub(crate) fn emit(
        &self,
        th: &Thread<'_>,
        prev: u64,
        ty: &'static str,
        key: Option<&'static str>,
        details: impl FnOnce() -> Map<String, Value>,
    ) -> u64 {
        th.sink.emit(self.clock, prev, ty, key, details)
    }

    /// Durable runs: where the checkpoints of line `th` go (`None` for a
    /// run without a store).
    #[inline]
    pub(crate) fn checkpoints_on(
        &self,
        th: &Thread<'_>,
    ) -> Option<&'a dyn super::checkpoint::CheckpointSink> {
        self.checkpoints.filter(|_| th.checkpointed)
    }

    /// Emits on the thread's line and moves its cursor.
    #[inline]
    pub(crate) fn emit_next(
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
            .get_or_init(|| resolve_identity(self.identity, self.start_time))
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
                    "RedriveCount": self.identity.redrive_count,
                },
                "StateMachine": {"Id": self.ident().sm_arn, "Name": self.ident().sm_name},
            });
            if let (Some(at), Some(e)) = (
                self.identity.redrive_time,
                context["Execution"].as_object_mut(),
            ) {
                let mut text = String::with_capacity(24);
                write_rfc3339_millis(&mut text, at);
                e.insert("RedriveTime".into(), Value::String(text));
            }
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
    pub(crate) fn context(
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

    /// The payload limits the bounds are kept for.
    #[inline]
    pub(crate) fn bounds(&self) -> Bounds {
        Bounds {
            max_bytes: self.limits.max_payload_bytes,
            max_depth: Some(self.depth_limit()),
        }
    }

    /// The measure of a value the engine just built by copying.
    pub(crate) fn measure(&self, value: &Value) -> Measure {
        self.bounds().measure(value)
    }

    /// Checks `value`, bounded by `bound`, against the payload limits: the
    /// value is measured only when the bound passes a limit. Gives the
    /// (possibly tighter) bound, or which limit the value passes.
    #[inline]
    pub(crate) fn check(&self, value: &Value, bound: Measure) -> Result<Measure, Exceeded> {
        let (max_bytes, max_depth) = (self.limits.max_payload_bytes, Some(self.depth_limit()));
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
    pub(crate) fn exceeded(&self, name: &str, exceeded: Exceeded) -> StatesError {
        exceeded_error(name, exceeded, Some(self.depth_limit()))
    }

    /// True when the walk should [`pause`](Self::pause) before its next
    /// transition: once every [`YIELD_EVERY`] transitions, and at every
    /// transition once the execution is aborted (so that the future
    /// polling it sees the abort). One load of the counter and one of the
    /// abort flag.
    #[inline]
    pub(crate) fn pause_due(&self) -> bool {
        let transitions = self.transitions.load(Ordering::Relaxed);
        transitions % YIELD_EVERY == YIELD_EVERY - 1 || self.shared.aborted.load(Ordering::Relaxed)
    }

    /// Gives the caller's executor a turn: see [`Pause`].
    pub(crate) fn pause(&self) -> Pause<'_> {
        Pause {
            busy: &self.busy,
            aborted: &self.shared.aborted,
            held: None,
        }
    }

    pub(crate) fn random(&self) -> f64 {
        self.rng
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .gen::<f64>()
    }
}

/// The `States.DataLimitExceeded` of `name` (a state, or a task's
/// resource) returning a value past a limit (`max_depth` names the depth
/// limit).
pub(crate) fn exceeded_error(
    name: &str,
    exceeded: Exceeded,
    max_depth: Option<usize>,
) -> StatesError {
    let cause = match exceeded {
        Exceeded::Bytes => format!(
            "The state/task '{name}' returned a result with a size exceeding the maximum number of bytes service limit."
        ),
        Exceeded::Depth => format!(
            "The state/task '{name}' returned a result with a nesting depth exceeding the maximum of {} levels.",
            max_depth.unwrap_or_default()
        ),
    };
    StatesError::new(ErrorName::DataLimitExceeded, cause)
}

/// Counts a task call in flight. As for [`bump`](super::events::bump), the futures of one
/// execution are never polled (or dropped) at the same time: a load and a
/// store suffice.
pub(crate) struct BusyGuard<'a>(&'a AtomicUsize);

impl<'a> BusyGuard<'a> {
    pub(crate) fn new(counter: &'a AtomicUsize) -> Self {
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

/// How many transitions an execution makes, at most, before it yields to
/// the caller's executor (states that never wait, such as a Pass/Choice
/// loop, would otherwise run inside one poll for as long as they loop).
/// A power of two: the check is a mask and a compare.
pub(crate) const YIELD_EVERY: u64 = 256;

/// Returns `Pending` once, waking its task at once, then `Ready`: a
/// runtime-agnostic yield, after which the [`Drive`] sees an abort. It
/// counts as busy meanwhile, so a virtual clock does not move: the
/// execution is not idle, it is letting others run. Once the execution is
/// aborted it never ends (the abort woke the [`Drive`], which drops the
/// execution): no line of states enters another state, even when an
/// enclosing Map or Parallel polls it again before the [`Drive`] does.
pub(crate) struct Pause<'a> {
    busy: &'a AtomicUsize,
    aborted: &'a std::sync::atomic::AtomicBool,
    held: Option<BusyGuard<'a>>,
}

impl std::future::Future for Pause<'_> {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.aborted.load(Ordering::Relaxed) {
            return std::task::Poll::Pending;
        }
        if self.held.take().is_some() {
            return std::task::Poll::Ready(());
        }
        self.held = Some(BusyGuard::new(self.busy));
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
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

/// The identity of an execution with every default filled in.
pub(crate) fn resolve_identity(identity: &ExecutionIdentity, start_time: SystemTime) -> Ident {
    let last_segment = |arn: &Option<String>| {
        arn.as_deref()
            .and_then(|a| a.rsplit(':').next())
            .map(str::to_owned)
    };
    let sm_name = identity
        .state_machine_name
        .clone()
        .or_else(|| last_segment(&identity.state_machine_arn))
        .unwrap_or_else(|| "StateMachine".to_owned());
    let sm_arn = identity
        .state_machine_arn
        .clone()
        .unwrap_or_else(|| format!("arn:aws:states:us-east-1:123456789012:stateMachine:{sm_name}"));
    let exec_name = identity
        .execution_name
        .clone()
        .or_else(|| last_segment(&identity.execution_arn))
        .unwrap_or_else(|| fast_uuid().to_string());
    let exec_arn = identity.execution_arn.clone().unwrap_or_else(|| {
        format!(
            "{}:{exec_name}",
            sm_arn.replacen(":stateMachine:", ":execution:", 1)
        )
    });
    let region = sm_arn
        .split(':')
        .nth(3)
        .filter(|r| !r.is_empty())
        .unwrap_or("us-east-1")
        .to_owned();
    let role_arn = identity
        .role_arn
        .clone()
        .unwrap_or_else(|| "arn:aws:iam::123456789012:role/stepfn".to_owned());
    let mut seed = 0xcbf2_9ce4_8422_2325_u64;
    for b in exec_arn.bytes() {
        seed = (seed ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    Ident {
        seed,
        sm_name,
        sm_arn,
        exec_name,
        exec_arn,
        role_arn,
        start_time,
        region,
        machine_type: identity.machine_type,
        sync_execution: identity.sync_execution,
    }
}

enum Ended<T> {
    Done(T),
    TimedOut,
    Aborted,
}

/// Polls an execution: stops it when aborted, and moves a virtual clock
/// when nothing but time can make progress.
struct Drive<'r, F> {
    future: std::pin::Pin<&'r mut F>,
    /// The execution's span (feature `tracing`), entered at each poll.
    span: super::trace::Span,
    shared: &'r Shared,
    busy: &'r AtomicUsize,
    clock: &'r dyn Clock,
    /// Durable runs: told when the execution is idle (it may park there).
    checkpoints: Option<&'r dyn super::checkpoint::CheckpointSink>,
    /// The execution's events (a durable run that parks drains them).
    events: &'r EventSink,
}

impl<F: std::future::Future> std::future::Future for Drive<'_, F> {
    type Output = Option<F::Output>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        use std::task::Poll;
        loop {
            if self.shared.aborted.load(Ordering::SeqCst) {
                return Poll::Ready(None);
            }
            self.shared.waker.register(cx.waker());
            if self.shared.aborted.load(Ordering::SeqCst) {
                return Poll::Ready(None);
            }
            let this = &mut *self;
            let polled = super::trace::in_span(&this.span, || this.future.as_mut().poll(cx));
            if let Poll::Ready(v) = polled {
                return Poll::Ready(Some(v));
            }
            if self.busy.load(Ordering::SeqCst) == 0 {
                // every line waits for time or a message: a durable run
                // parks here, when its sink says every line can
                let events = self.events;
                if (self.checkpoints).is_some_and(|sink| sink.idle(&|| events.drain())) {
                    return Poll::Ready(None);
                }
                if self.clock.advance_when_idle() {
                    continue;
                }
            }
            return Poll::Pending;
        }
    }
}

/// The depth of the execution input when no depth limit is set (it then
/// raises the ceiling of what the machine may build); 0 otherwise.
fn given_depth(limits: &Limits, input: &Value) -> usize {
    if limits.max_depth.is_some() {
        0
    } else {
        crate::json::scan(input, None, Some(usize::MAX))
            .measure
            .depth
    }
}

/// Runs `execution` on `input` to its end.
///
/// An async block, not an `async fn`: an `async fn`'s future holds its
/// arguments twice (as given, and as the body's locals), and the execution
/// alone is about 500 bytes.
#[allow(clippy::manual_async_fn)]
pub(super) fn drive_execution<'a>(
    execution: Execution<'a>,
    executor: &'a dyn TaskExecutor,
    input: Value,
) -> impl std::future::Future<Output = Outcome> + 'a {
    async move {
        // the execution input is measured once: its depth is checked (its size
        // is not: AWS refuses a large input before any execution starts), and
        // the measure starts the bound the states carry
        // the streams end with the run, even when its future is dropped
        let _close = super::live::CloseOnDrop(&execution.shared.live);
        let limits = &execution.limits;
        // (without a depth limit its depth is measured too, in the same
        // pass: it raises the ceiling of what the machine may build, and a
        // known depth spares every state's output a walk)
        let depth_limit = limits.max_depth.or(Some(usize::MAX));
        let scan = crate::json::scan(&input, limits.max_payload_bytes, depth_limit);
        if scan.too_deep {
            // rejected before anything recursive (history text, clone) sees it
            crate::json::dismantle(input);
            execution.shared.live.end(Status::Failed);
            let mut outcome = Outcome::ended(Status::Failed);
            outcome.error = Some("States.DataLimitExceeded".to_owned());
            outcome.cause = Some(format!(
                "The execution input has a nesting depth exceeding the maximum of {} levels.",
                limits.max_depth.unwrap_or_default()
            ));
            return outcome;
        }
        let sink = sink(&execution);
        let given = if limits.max_depth.is_none() {
            scan.measure.depth
        } else {
            0
        };
        let mut run = Run::new(&execution, executor, &input, given);
        run.events = Some(&sink);
        sink.emit(
            run.clock,
            0,
            "ExecutionStarted",
            Some("executionStartedEventDetails"),
            || {
                let mut d = events::payload_details("input", &input);
                d.insert("roleArn".into(), Value::from(run.ident().role_arn.as_str()));
                d
            },
        );
        let mut thread = Thread::new(0, Vars::root_with(run.limits), &sink, None);
        thread.watch_top(&execution.shared.live);
        thread.checkpointed = true;
        let ended = walk_top(
            &run,
            &execution,
            Payload::new(input, scan.measure),
            &mut thread,
        )
        .await;
        let cursor = thread.cursor;
        drop(thread);
        execution.shared.finished.store(true, Ordering::SeqCst);
        let mut outcome = conclude(&run, &sink, ended, cursor);
        execution.shared.live.end(outcome.status);
        drop(run);
        outcome.history = sink.take();
        outcome
    }
}

/// The event sink of `execution`: watched when it has an observer or a
/// stream was made from its handle.
fn sink(execution: &Execution<'_>) -> EventSink {
    let shared = &execution.shared;
    let streams = shared.live.has_streams();
    if execution.observer.is_some() || streams {
        shared.live.start_watching();
        EventSink::watched(
            execution.history,
            execution.observer.clone(),
            Some(shared.clone()),
        )
    } else {
        EventSink::new(execution.history)
    }
}

/// Walks the top level under the definition's timeout, polled by [`Drive`].
/// It is walked in this future, not in a boxed one of its own: an execution
/// that never waits allocates no future at all.
async fn walk_top<'x>(
    run: &'x Run<'x>,
    execution: &'x Execution<'_>,
    input: Payload,
    thread: &mut Thread<'x>,
) -> Ended<Result<Payload, walk::Failure>> {
    let timeout = execution
        .definition
        .timeout_seconds
        .map(std::time::Duration::from_secs);
    let top = (&execution.definition.machine, &execution.plan.root);
    let events = thread.sink;
    let walked = walk::walk(run, top, input, thread);
    futures::pin_mut!(walked);
    drive_top(run, execution, timeout, walked, events).await
}

/// Polls `walked` (the top level) with [`Drive`], under `timeout` (what is
/// left of the definition's). The walk is pinned by the caller and taken
/// by reference: a future moved in here would be held twice over (as the
/// argument and inside the body), and the execution's future, which
/// `block_on` copies, would be several times the walk's size.
async fn drive_top<'x, W>(
    run: &'x Run<'x>,
    execution: &'x Execution<'_>,
    timeout: Option<std::time::Duration>,
    mut walked: std::pin::Pin<&mut W>,
    events: &'x EventSink,
) -> Ended<Result<Payload, walk::Failure>>
where
    W: std::future::Future<Output = Result<Payload, walk::Failure>>,
{
    let clock = run.clock;
    let body = async {
        match timeout {
            None => Ended::Done(walked.as_mut().await),
            // a resumed execution whose time is up does nothing more
            Some(t) if t.is_zero() => Ended::TimedOut,
            Some(t) => {
                let walked = walked.as_mut();
                let sleep = clock.sleep(t);
                match futures::future::select(walked, sleep).await {
                    futures::future::Either::Left((o, _)) => Ended::Done(o),
                    futures::future::Either::Right(_) => Ended::TimedOut,
                }
            }
        }
    };
    futures::pin_mut!(body);
    Drive {
        future: body,
        span: super::trace::execution(run),
        shared: &execution.shared,
        busy: &run.busy,
        clock,
        checkpoints: run.checkpoints,
        events,
    }
    .await
    .unwrap_or(Ended::Aborted)
}

/// Runs `execution` from `checkpoint` to its end: its history continues
/// with the checkpoint's ids, its timeout counts from the execution's start
/// (the identity's start time) or its last redrive, `exec_input` is
/// `$$.Execution.Input`.
pub(super) async fn drive_resumed(
    execution: Execution<'_>,
    executor: &dyn TaskExecutor,
    exec_input: Value,
    (checkpoint, lines): (Checkpoint, Vec<Checkpoint>),
) -> Outcome {
    let _close = super::live::CloseOnDrop(&execution.shared.live);
    let sink = sink(&execution).resumed(checkpoint.events);
    let given = given_depth(&execution.limits, &exec_input);
    let mut run = Run::new(&execution, executor, &exec_input, given);
    run.events = Some(&sink);
    *run.lines.lock().unwrap_or_else(|e| e.into_inner()) =
        lines.into_iter().map(|c| (c.line.clone(), c)).collect();
    run.transitions
        .store(checkpoint.transitions, Ordering::Relaxed);
    run.given_depth
        .fetch_max(checkpoint.given_depth, Ordering::Relaxed);
    let mut vars = Vars::root_with(run.limits);
    vars.restore(checkpoint.variables);
    let mut thread = Thread::new(checkpoint.cursor, vars, &sink, None);
    thread.watch_top(&execution.shared.live);
    thread.checkpointed = true;
    let bound = run.measure(&checkpoint.input);
    let input = Payload::new(checkpoint.input, bound);
    let timeout = execution.definition.timeout_seconds.and_then(|t| {
        let timed_from = execution.identity.redrive_time.unwrap_or(run.start_time);
        let deadline = timed_from.checked_add(std::time::Duration::from_secs(t))?;
        Some(deadline.duration_since(run.clock.now()).unwrap_or_default())
    });
    let top = (&execution.definition.machine, &execution.plan.root);
    let ended = {
        let walked = super::checkpoint::resume(&run, top, checkpoint.at, input, &mut thread);
        futures::pin_mut!(walked);
        drive_top(&run, &execution, timeout, walked, &sink).await
    };
    let cursor = thread.cursor;
    drop(thread);
    execution.shared.finished.store(true, Ordering::SeqCst);
    let mut outcome = conclude(&run, &sink, ended, cursor);
    execution.shared.live.end(outcome.status);
    drop(run);
    outcome.history = sink.take();
    outcome
}

/// The outcome of an execution that ended as `ended`, with its last event.
fn conclude(
    run: &Run<'_>,
    sink: &EventSink,
    ended: Ended<Result<Payload, walk::Failure>>,
    cursor: u64,
) -> Outcome {
    let clock = run.clock;
    let last = sink.count();
    match ended {
        Ended::Done(Ok(output)) => {
            let output = output.value;
            sink.emit(
                clock,
                cursor,
                "ExecutionSucceeded",
                Some("executionSucceededEventDetails"),
                || events::payload_details("output", &output),
            );
            let mut outcome = Outcome::ended(Status::Succeeded);
            outcome.output = Some(output);
            outcome
        }
        Ended::Done(Err(failure)) => {
            let error = failure.error.name.as_str().to_owned();
            let error = (!error.is_empty()).then_some(error);
            let cause = failure.error.cause;
            sink.emit(
                clock,
                failure.event,
                "ExecutionFailed",
                Some("executionFailedEventDetails"),
                || events::error_details(error.as_deref(), cause.as_deref()),
            );
            Outcome::failed(Status::Failed, error, cause)
        }
        Ended::TimedOut => {
            sink.emit(
                clock,
                last,
                "ExecutionTimedOut",
                Some("executionTimedOutEventDetails"),
                || events::error_details(None, None),
            );
            // AWS reports a timed-out execution without error or cause
            Outcome::ended(Status::TimedOut)
        }
        Ended::Aborted => {
            let (error, cause) = run
                .shared
                .abort_reason
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
                .unwrap_or((None, None));
            sink.emit(
                clock,
                last,
                "ExecutionAborted",
                Some("executionAbortedEventDetails"),
                || events::error_details(error.as_deref(), cause.as_deref()),
            );
            Outcome::failed(Status::Aborted, error, cause)
        }
    }
}

impl Outcome {
    /// An outcome of `status` with nothing else.
    fn ended(status: Status) -> Self {
        Outcome {
            status,
            output: None,
            error: None,
            cause: None,
            history: None,
        }
    }

    fn failed(status: Status, error: Option<String>, cause: Option<String>) -> Self {
        Outcome {
            error,
            cause,
            ..Outcome::ended(status)
        }
    }
}
