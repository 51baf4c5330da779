//! Running executions: [`StateMachine::execute`], the [`Execution`]
//! builder for options, the [`ExecutionHandle`] to abort an execution and
//! answer its callbacks, and the [`Outcome`].
//!
//! ```
//! # futures::executor::block_on(async {
//! use serde_json::json;
//! use stepfn::{sync_task_fn, StateMachine, Status};
//!
//! let machine: StateMachine = r#"{
//!     "StartAt": "Greet",
//!     "States": {"Greet": {"Type": "Pass", "Parameters": {"greeting.$": "States.Format('hello {}', $.name)"}, "End": true}}
//! }"#.parse()?;
//! let executor = sync_task_fn(|request| Ok(request.parameters));
//! let outcome = machine.execute(&executor, json!({"name": "world"})).await;
//! assert_eq!(outcome.status, Status::Succeeded);
//! assert_eq!(outcome.output, Some(json!({"greeting": "hello world"})));
//! # Ok::<(), stepfn::Error>(())
//! # }).unwrap();
//! ```

use crate::clock::{Clock, SystemClock, VirtualClock};
use crate::definition::{Definition, StateMachineType};
use crate::error::{Error, ErrorKind, StatesError};
use crate::executor::{CallbackError, CallbackMessage, CallbackSink, TaskExecutor};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

pub(crate) use run::panic_message;
mod history;
mod plan;
pub(crate) mod retry;
mod run;

pub use history::HistoryEvent;

/// What the engine precomputes from a definition: built once, when the
/// machine is loaded, and shared by all its executions.
pub(crate) struct Plan {
    root: plan::SubPlan,
    /// Some state reads `$$` or is a Task: keep the execution input for
    /// `$$.Execution.Input`.
    wants_context: bool,
}

impl Plan {
    /// Compiles the plan of `definition`.
    pub(crate) fn new(definition: &Definition) -> Plan {
        let root = plan::plan(&definition.machine);
        let wants_context = wants_context(&definition.machine, &root);
        Plan {
            root,
            wants_context,
        }
    }
}

impl fmt::Debug for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Plan")
    }
}

// ---------------------------------------------------------------------------
// Outcome

/// How an execution ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// `SUCCEEDED`: it reached a Succeed state or an `End`.
    Succeeded,
    /// `FAILED`: an error nobody caught, or a Fail state.
    Failed,
    /// `TIMED_OUT`: the definition's top-level `TimeoutSeconds` passed.
    TimedOut,
    /// `ABORTED`: the host aborted it through its [`ExecutionHandle`].
    Aborted,
}

impl Status {
    /// `"SUCCEEDED"`, `"FAILED"`, `"TIMED_OUT"` or `"ABORTED"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Succeeded => "SUCCEEDED",
            Status::Failed => "FAILED",
            Status::TimedOut => "TIMED_OUT",
            Status::Aborted => "ABORTED",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The end of an execution: status, output or error and cause, and the
/// history when it was asked for.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// How it ended.
    pub status: Status,
    /// The execution output (SUCCEEDED only).
    pub output: Option<Value>,
    /// The error name (FAILED, TIMED_OUT, and ABORTED when given one).
    pub error: Option<String>,
    /// The cause, when AWS would report one.
    pub cause: Option<String>,
    /// The `GetExecutionHistory` events, when the execution was run with
    /// [`Execution::with_history`].
    pub history: Option<Vec<HistoryEvent>>,
}

impl Outcome {
    /// True when the execution succeeded.
    pub fn is_success(&self) -> bool {
        self.status == Status::Succeeded
    }

    /// The error as a [`StatesError`], for a failed execution.
    pub fn states_error(&self) -> Option<StatesError> {
        self.error.as_deref().map(|name| StatesError {
            name: name.into(),
            cause: self.cause.clone(),
        })
    }

    /// The outcome as one JSON object, the shape `stepfn run` prints:
    /// `{"status", "output"?, "error"?, "cause"?, "history"?}`.
    pub fn to_json(&self) -> Value {
        let mut map = serde_json::Map::new();
        map.insert("status".into(), Value::from(self.status.as_str()));
        if let Some(output) = &self.output {
            map.insert("output".into(), output.clone());
        }
        if let Some(error) = &self.error {
            map.insert("error".into(), Value::from(error.as_str()));
        }
        if let Some(cause) = &self.cause {
            map.insert("cause".into(), Value::from(cause.as_str()));
        }
        if let Some(history) = &self.history {
            map.insert(
                "history".into(),
                Value::Array(history.iter().map(HistoryEvent::to_json).collect()),
            );
        }
        Value::Object(map)
    }
}

// ---------------------------------------------------------------------------
// Options

/// Bounds on one execution. The defaults are AWS's: 256 KiB payloads
/// nested at most 1000 levels deep and 25,000 history events, plus a budget
/// of 1,000,000 state transitions.
///
/// The payload limits are checked where AWS checks them (every state
/// output, every task result, and the depth of the execution input) without
/// serialising anything: the engine keeps an upper bound of the size and
/// depth of the payload as it moves from state to state, and measures a
/// value only when that bound passes a limit or when the value comes from
/// outside (the execution input and task results are measured once, on
/// arrival: with a large input and few states, that one pass is most of
/// what the check costs). With both payload limits off nothing is measured
/// at all.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest state output or task result in bytes of compact JSON text
    /// (AWS: 262,144). The size of the execution input itself is not
    /// checked (AWS refuses a larger input before any execution starts).
    /// `None` turns the check off.
    pub max_payload_bytes: Option<usize>,
    /// Deepest nesting of arrays/objects a payload may have (AWS runs on
    /// Jackson, whose default is 1000). A deeper execution input, task
    /// result, state output or assigned variable fails with
    /// `States.DataLimitExceeded` before anything recursive (cloning,
    /// serialising, dropping) touches it. `None` turns the check off and
    /// trusts the embedder: a value nested deeper than the thread's stack
    /// allows can then overflow it when it is cloned, serialised or dropped.
    pub max_depth: Option<usize>,
    /// Most history events one execution may produce (AWS: 25,000),
    /// counted whether or not the history is recorded. `None`: no limit.
    pub max_history_events: Option<u64>,
    /// Most state transitions (states entered) one execution may make, so
    /// that a Choice loop cannot spin forever. `None`: no limit.
    pub max_transitions: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_payload_bytes: Some(262_144),
            max_depth: Some(1000),
            max_history_events: Some(25_000),
            max_transitions: Some(1_000_000),
        }
    }
}

impl Limits {
    /// No limits at all (the nesting depth is not checked either: see
    /// [`max_depth`](Self::max_depth)).
    pub fn unlimited() -> Self {
        Limits {
            max_payload_bytes: None,
            max_depth: None,
            max_history_events: None,
            max_transitions: None,
        }
    }

    /// Sets the payload limit (`None`: unchecked).
    pub fn with_max_payload_bytes(mut self, bytes: Option<usize>) -> Self {
        self.max_payload_bytes = bytes;
        self
    }

    /// Sets the nesting-depth limit (`None`: unchecked; see
    /// [`max_depth`](Self::max_depth)).
    pub fn with_max_depth(mut self, depth: Option<usize>) -> Self {
        self.max_depth = depth;
        self
    }

    /// Sets the history-event limit (`None`: unlimited).
    pub fn with_max_history_events(mut self, events: Option<u64>) -> Self {
        self.max_history_events = events;
        self
    }

    /// Sets the transition budget (`None`: unlimited).
    pub fn with_max_transitions(mut self, transitions: Option<u64>) -> Self {
        self.max_transitions = transitions;
        self
    }
}

/// Who an execution is, as the context object (`$$.Execution`,
/// `$$.StateMachine`) and the history show it. Unset fields get defaults:
/// a state machine named `StateMachine` in account `123456789012`,
/// `us-east-1`, a random execution name, the start time from the clock.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExecutionIdentity {
    /// `stateMachineName`.
    pub state_machine_name: Option<String>,
    /// `stateMachineArn`.
    pub state_machine_arn: Option<String>,
    /// `executionName`.
    pub execution_name: Option<String>,
    /// `executionArn`.
    pub execution_arn: Option<String>,
    /// `roleArn`.
    pub role_arn: Option<String>,
    /// `startTime`.
    pub start_time: Option<SystemTime>,
    /// `type`: STANDARD or EXPRESS.
    pub machine_type: StateMachineType,
    /// Started with StartSyncExecution (`api` of a conformance case): such
    /// an Express execution has no `$$.Execution.RedriveCount`.
    pub sync_execution: bool,
}

impl ExecutionIdentity {
    /// An identity with every field defaulted.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the `execution` object of a conformance case (any of
    /// `stateMachineName`, `stateMachineArn`, `executionName`,
    /// `executionArn`, `roleArn`, `startTime` (RFC 3339), `type`, `api`);
    /// other keys are ignored.
    pub fn from_value(value: &Value) -> Result<Self, Error> {
        let Some(object) = value.as_object() else {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "the execution identity must be a JSON object",
            ));
        };
        let text = |key: &str| -> Result<Option<String>, Error> {
            match object.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(Error::new(
                    ErrorKind::InvalidInput,
                    format!("`{key}` of the execution identity must be a string"),
                )),
            }
        };
        let start_time = match text("startTime")? {
            None => None,
            Some(s) => Some(crate::timestamp::parse_rfc3339(&s).ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidInput,
                    format!("`startTime` of the execution identity is not an RFC 3339 time: `{s}`"),
                )
            })?),
        };
        let machine_type = match text("type")?.as_deref() {
            None | Some("STANDARD") => StateMachineType::Standard,
            Some("EXPRESS") => StateMachineType::Express,
            Some(other) => {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    format!(
                    "`type` of the execution identity must be STANDARD or EXPRESS, not `{other}`"
                ),
                ))
            }
        };
        Ok(ExecutionIdentity {
            sync_execution: text("api")?.as_deref() == Some("StartSyncExecution"),
            state_machine_name: text("stateMachineName")?,
            state_machine_arn: text("stateMachineArn")?,
            execution_name: text("executionName")?,
            execution_arn: text("executionArn")?,
            role_arn: text("roleArn")?,
            start_time,
            machine_type,
        })
    }
}

/// One execution to run, with its options: a consuming builder started by
/// [`StateMachine::execution`](crate::StateMachine::execution) and finished by [`run`](Execution::run).
///
/// ```
/// # futures::executor::block_on(async {
/// use serde_json::json;
/// use stepfn::{sync_task_fn, StateMachine, Status};
///
/// let machine: StateMachine = r#"{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}}"#.parse()?;
/// let executor = sync_task_fn(|request| Ok(request.parameters));
/// let outcome = machine
///     .execution()
///     .with_virtual_time()
///     .with_history(true)
///     .run(&executor, json!({}))
///     .await;
/// assert_eq!(outcome.status, Status::Succeeded);
/// assert_eq!(outcome.history.unwrap().len(), 4);
/// # Ok::<(), stepfn::Error>(())
/// # }).unwrap();
/// ```
pub struct Execution<'m> {
    definition: &'m Definition,
    plan: &'m Plan,
    clock: Arc<dyn Clock>,
    limits: Limits,
    identity: ExecutionIdentity,
    history: bool,
    random_seed: Option<u64>,
    shared: Arc<Shared>,
}

impl fmt::Debug for Execution<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Execution")
            .field("limits", &self.limits)
            .field("identity", &self.identity)
            .field("history", &self.history)
            .finish_non_exhaustive()
    }
}

impl<'m> Execution<'m> {
    /// An execution of `definition` with default options (system clock,
    /// AWS limits, no history).
    pub(crate) fn new(definition: &'m Definition, plan: &'m Plan) -> Execution<'m> {
        Execution {
            definition,
            plan,
            clock: Arc::new(SystemClock),
            limits: Limits::default(),
            identity: ExecutionIdentity::default(),
            history: false,
            random_seed: None,
            shared: Arc::new(Shared::default()),
        }
    }

    /// Runs on `clock` (default: [`SystemClock`]).
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Runs on a shared clock.
    pub fn with_shared_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Runs on a fresh [`VirtualClock`] starting now: no real waiting.
    pub fn with_virtual_time(self) -> Self {
        self.with_clock(VirtualClock::new())
    }

    /// Sets the limits (default: [`Limits::default`]).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets the transition budget alone.
    pub fn with_fuel(mut self, max_transitions: u64) -> Self {
        self.limits.max_transitions = Some(max_transitions);
        self
    }

    /// Sets who the execution is (context object, ARNs in the history).
    pub fn with_identity(mut self, identity: ExecutionIdentity) -> Self {
        self.identity = identity;
        self
    }

    /// Records the `GetExecutionHistory` events into
    /// [`Outcome::history`] (default: off, and then free).
    pub fn with_history(mut self, history: bool) -> Self {
        self.history = history;
        self
    }

    /// Seeds the random source used for `JitterStrategy: FULL` (default:
    /// from entropy), for reproducible back-off.
    pub fn with_random_seed(mut self, seed: u64) -> Self {
        self.random_seed = Some(seed);
        self
    }

    /// A handle to abort this execution and answer its callbacks; clone it
    /// and move it wherever the answers come from.
    pub fn handle(&self) -> ExecutionHandle {
        ExecutionHandle {
            shared: self.shared.clone(),
        }
    }

    /// Runs the execution to its end.
    pub async fn run<E>(self, executor: &E, input: Value) -> Outcome
    where
        E: TaskExecutor + ?Sized,
    {
        let executor_ref: &E = executor;
        let executor: &dyn TaskExecutor = &executor_ref;
        drive_execution(self, executor, input).await
    }
}

pub(crate) fn resolve_identity(identity: &ExecutionIdentity, start_time: SystemTime) -> run::Ident {
    let sm_name = identity
        .state_machine_name
        .clone()
        .or_else(|| {
            identity
                .state_machine_arn
                .as_deref()
                .and_then(|a| a.rsplit(':').next())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "StateMachine".to_owned());
    let sm_arn = identity
        .state_machine_arn
        .clone()
        .unwrap_or_else(|| format!("arn:aws:states:us-east-1:123456789012:stateMachine:{sm_name}"));
    let exec_name = identity
        .execution_name
        .clone()
        .or_else(|| {
            identity
                .execution_arn
                .as_deref()
                .and_then(|a| a.rsplit(':').next())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| run::fast_uuid().to_string());
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
    run::Ident {
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

/// True when some state of `plan` reads `$$` or is a Task (whose request
/// can give the context object).
fn wants_context(sm: &crate::definition::SubMachine, plan: &plan::SubPlan) -> bool {
    sm.states.iter().zip(&plan.states).any(|(state, sp)| {
        sp.needs_context
            || sp.selector_needs_context
            || matches!(state.kind, crate::definition::StateKind::Task(_))
            || match &state.kind {
                crate::definition::StateKind::Parallel(p) => p
                    .branches
                    .iter()
                    .zip(&sp.children)
                    .any(|(b, bp)| wants_context(b, bp)),
                crate::definition::StateKind::Map(m) => sp
                    .children
                    .first()
                    .is_some_and(|cp| wants_context(&m.item_processor, cp)),
                _ => false,
            }
    })
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
    shared: &'r Shared,
    busy: &'r std::sync::atomic::AtomicUsize,
    clock: &'r dyn Clock,
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
            if let Poll::Ready(v) = self.future.as_mut().poll(cx) {
                return Poll::Ready(Some(v));
            }
            if self.busy.load(Ordering::SeqCst) == 0 && self.clock.advance_when_idle() {
                continue;
            }
            return Poll::Pending;
        }
    }
}

async fn drive_execution(
    execution: Execution<'_>,
    executor: &dyn TaskExecutor,
    input: Value,
) -> Outcome {
    use rand::SeedableRng;
    // the execution input is measured once: its depth is checked (its size
    // is not: AWS refuses a large input before any execution starts), and
    // the measure starts the bound the states carry
    let limits = &execution.limits;
    let scan = crate::json::scan(&input, limits.max_payload_bytes, limits.max_depth);
    if scan.too_deep {
        // rejected before anything recursive (history text, clone) sees it
        crate::json::dismantle(input);
        return Outcome {
            status: Status::Failed,
            output: None,
            error: Some("States.DataLimitExceeded".to_owned()),
            cause: Some(format!(
                "The execution input has a nesting depth exceeding the maximum of {} levels.",
                limits.max_depth.unwrap_or_default()
            )),
            history: None,
        };
    }
    let bound = scan.measure;
    let definition = execution.definition;
    let clock: &dyn Clock = &*execution.clock;
    let machine_plan = execution.plan;
    let plan = &machine_plan.root;
    let start_time = execution.identity.start_time.unwrap_or_else(|| clock.now());
    let exec_input = machine_plan.wants_context.then(|| input.clone());
    let rng = match execution.random_seed {
        Some(seed) => rand::rngs::SmallRng::seed_from_u64(seed),
        None => rand::rngs::SmallRng::seed_from_u64(run::fast_random()),
    };
    let sink = run::EventSink::new(execution.history);
    let run = run::Run {
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
        exec_input,
        exec_context: Default::default(),
    };
    sink.emit(
        clock,
        0,
        "ExecutionStarted",
        Some("executionStartedEventDetails"),
        || {
            let mut d = serde_json::Map::new();
            d.insert("input".into(), Value::String(input.to_string()));
            d.insert(
                "inputDetails".into(),
                serde_json::json!({"truncated": false}),
            );
            d.insert("roleArn".into(), Value::from(run.ident().role_arn.as_str()));
            d
        },
    );
    let mut thread = run::Thread {
        cursor: 0,
        vars: run::Vars::root(),
        sink: &sink,
        slot: None,
    };
    let timeout = definition.timeout_seconds;
    // the top level is walked in this future, not in a boxed one of its
    // own: an execution that never waits allocates no future at all
    let ended = {
        let body = async {
            let walked = run::walk(&run, &definition.machine, plan, input, bound, &mut thread);
            match timeout {
                None => Ended::Done(walked.await),
                Some(t) => {
                    futures::pin_mut!(walked);
                    let sleep = clock.sleep(std::time::Duration::from_secs(t));
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
            shared: &execution.shared,
            busy: &run.busy,
            clock,
        }
        .await
        .unwrap_or(Ended::Aborted)
    };
    let cursor = thread.cursor;
    drop(thread);
    execution.shared.finished.store(true, Ordering::SeqCst);
    let last = sink.count();
    let mut outcome = match ended {
        Ended::Done(result) => match result {
            Ok((output, _)) => {
                sink.emit(
                    clock,
                    cursor,
                    "ExecutionSucceeded",
                    Some("executionSucceededEventDetails"),
                    || {
                        let mut d = serde_json::Map::new();
                        d.insert("output".into(), Value::String(output.to_string()));
                        d.insert(
                            "outputDetails".into(),
                            serde_json::json!({"truncated": false}),
                        );
                        d
                    },
                );
                Outcome {
                    status: Status::Succeeded,
                    output: Some(output),
                    error: None,
                    cause: None,
                    history: None,
                }
            }
            Err(failure) => {
                let error = failure.error.name.as_str().to_owned();
                let error = (!error.is_empty()).then_some(error);
                let cause = failure.error.cause;
                sink.emit(
                    clock,
                    failure.event,
                    "ExecutionFailed",
                    Some("executionFailedEventDetails"),
                    || error_details(error.as_deref(), cause.as_deref()),
                );
                Outcome {
                    status: Status::Failed,
                    output: None,
                    error,
                    cause,
                    history: None,
                }
            }
        },
        Ended::TimedOut => {
            sink.emit(
                clock,
                last,
                "ExecutionTimedOut",
                Some("executionTimedOutEventDetails"),
                || error_details(None, None),
            );
            // AWS reports a timed-out execution without error or cause
            Outcome {
                status: Status::TimedOut,
                output: None,
                error: None,
                cause: None,
                history: None,
            }
        }
        Ended::Aborted => {
            let (error, cause) = execution
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
                || error_details(error.as_deref(), cause.as_deref()),
            );
            Outcome {
                status: Status::Aborted,
                output: None,
                error,
                cause,
                history: None,
            }
        }
    };
    drop(run);
    outcome.history = sink.take();
    outcome
}

fn error_details(error: Option<&str>, cause: Option<&str>) -> serde_json::Map<String, Value> {
    let mut d = serde_json::Map::new();
    if let Some(e) = error {
        d.insert("error".into(), Value::from(e));
    }
    if let Some(c) = cause {
        d.insert("cause".into(), Value::from(c));
    }
    d
}

// ---------------------------------------------------------------------------
// Handle and callbacks

/// State shared between a running execution and its handles.
#[derive(Default)]
pub(crate) struct Shared {
    aborted: AtomicBool,
    finished: AtomicBool,
    abort_reason: Mutex<Option<(Option<String>, Option<String>)>>,
    waker: futures::task::AtomicWaker,
    callbacks: Mutex<HashMap<String, CallbackSlot>>,
}

#[derive(Default)]
struct CallbackSlot {
    messages: std::collections::VecDeque<CallbackMessage>,
    waker: Option<std::task::Waker>,
}

impl Shared {
    fn lock_callbacks(&self) -> std::sync::MutexGuard<'_, HashMap<String, CallbackSlot>> {
        self.callbacks.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn register(&self, token: &str) {
        self.lock_callbacks()
            .insert(token.to_owned(), CallbackSlot::default());
    }

    pub(crate) fn unregister(&self, token: &str) {
        let slot = self.lock_callbacks().remove(token);
        // answers nobody read may be nested too deeply for a recursive drop
        for message in slot.into_iter().flat_map(|s| s.messages) {
            if let CallbackMessage::Success(output) = message {
                crate::json::dismantle(output);
            }
        }
    }

    /// The next message for `token` (pending until one arrives).
    pub(crate) fn next_message<'a>(
        &'a self,
        token: &'a str,
    ) -> impl std::future::Future<Output = CallbackMessage> + 'a {
        futures::future::poll_fn(move |cx| {
            let mut callbacks = self.lock_callbacks();
            match callbacks.get_mut(token) {
                Some(slot) => match slot.messages.pop_front() {
                    Some(m) => std::task::Poll::Ready(m),
                    None => {
                        slot.waker = Some(cx.waker().clone());
                        std::task::Poll::Pending
                    }
                },
                None => std::task::Poll::Pending,
            }
        })
    }
}

impl CallbackSink for Shared {
    fn send(&self, token: &str, message: CallbackMessage) -> Result<(), CallbackError> {
        let mut callbacks = self.lock_callbacks();
        let Some(slot) = callbacks.get_mut(token) else {
            drop(callbacks);
            // the output may be nested too deeply for a recursive drop
            if let CallbackMessage::Success(output) = message {
                crate::json::dismantle(output);
            }
            return Err(CallbackError::TaskDoesNotExist);
        };
        slot.messages.push_back(message);
        if let Some(w) = slot.waker.take() {
            w.wake();
        }
        Ok(())
    }
}

/// Controls a running execution from outside: abort it, answer its
/// `.waitForTaskToken` tasks. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct ExecutionHandle {
    shared: Arc<Shared>,
}

impl fmt::Debug for ExecutionHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecutionHandle")
            .field("aborted", &self.shared.aborted.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl ExecutionHandle {
    /// Aborts the execution (AWS's StopExecution): it ends ABORTED, its
    /// in-flight task futures, Map iterations and branches are dropped.
    /// Aborting before the run starts aborts it at once; aborting a
    /// finished execution does nothing.
    pub fn abort(&self) {
        self.abort_with(None, None);
    }

    /// Aborts with an error and cause, as StopExecution's `error`/`cause`.
    pub fn abort_with(&self, error: Option<&str>, cause: Option<&str>) {
        {
            let mut reason = self
                .shared
                .abort_reason
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if reason.is_none() {
                *reason = Some((error.map(str::to_owned), cause.map(str::to_owned)));
            }
        }
        self.shared.aborted.store(true, Ordering::SeqCst);
        self.shared.waker.wake();
    }

    /// True once [`abort`](Self::abort) was called.
    pub fn is_aborted(&self) -> bool {
        self.shared.aborted.load(Ordering::SeqCst)
    }

    /// Completes the task waiting for `token` with `output` (AWS's
    /// SendTaskSuccess).
    pub fn send_task_success(&self, token: &str, output: Value) -> Result<(), CallbackError> {
        self.shared.send(token, CallbackMessage::Success(output))
    }

    /// Fails the task waiting for `token` (AWS's SendTaskFailure); Retry
    /// and Catch see `error` (default `States.TaskFailed`... as AWS: an
    /// empty name when `None`) and `cause`.
    pub fn send_task_failure(
        &self,
        token: &str,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<(), CallbackError> {
        self.shared
            .send(token, CallbackMessage::failure(error, cause))
    }

    /// Keeps the task waiting for `token` alive (AWS's SendTaskHeartbeat):
    /// its `HeartbeatSeconds` starts over.
    pub fn send_task_heartbeat(&self, token: &str) -> Result<(), CallbackError> {
        self.shared.send(token, CallbackMessage::Heartbeat)
    }
}
