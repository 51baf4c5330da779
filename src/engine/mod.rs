//! Running executions: [`StateMachine::execution`](crate::StateMachine::execution), the [`Execution`]
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
use crate::error::{Error, ErrorKind};
use crate::executor::TaskExecutor;
use serde_json::Value;
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

pub(crate) mod checkpoint;
mod drive;
mod events;
mod handle;
mod inspect;
mod io;
mod jsonata;
mod live;
mod outcome;
mod plan;
pub(crate) mod redrive;
pub(crate) mod retry;
mod states;
pub(crate) mod test_state;
mod time;
mod trace;
mod walk;

pub use events::HistoryEvent;
pub use handle::ExecutionHandle;
pub(crate) use handle::Shared;
pub use live::{EventObserver, EventStream, Place, StateInFlight};
pub use outcome::{Outcome, Status};
pub use time::TimeOverrides;

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
// Options

/// Bounds on one execution. The defaults are AWS's: 256 KiB payloads
/// nested at most 1000 levels deep, 256 KiB per workflow variable and per
/// `Assign`, 10 MiB of variables per execution and 25,000 history events,
/// plus a budget of 1,000,000 state transitions.
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
///
/// The payload limit also bounds what a state builds, while it is built: a
/// payload template (`Parameters`, `ItemSelector`, `ResultSelector`), the
/// intrinsic calls inside one (each intermediate value, and the arguments
/// one call holds at once) and the results a Map or Parallel collects stop
/// with `States.DataLimitExceeded` as soon as they pass four times the
/// payload limit (at least 1 MiB), each part measured before it is copied.
/// A value past the limit but within that cap is judged where AWS judges
/// it (ResultPath or OutputPath may still drop it before the state output
/// is measured); one past the cap could only fail later, and is stopped
/// before it takes much memory. An `Assign` is built within the variable
/// limits themselves (a variable is stored as it is built). A JSONata
/// expression is held to the same cap: the strings it builds and the
/// parts of its result it copies out of its input (an `Assign`'s to the
/// larger variable limit). With the payload limit off nothing is measured
/// while it is built.
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
    /// serialising, dropping) touches it.
    ///
    /// `None` trusts the embedder: the execution input and task results
    /// are not judged (one nested deeper than the thread's stack allows can
    /// then overflow it when it is cloned, serialised or dropped). What the
    /// machine builds is still held to a ceiling, so that a loop wrapping
    /// its input cannot nest a value without end: a state output or
    /// assigned variable may nest 1,000 levels, or 64 levels deeper than the
    /// deepest value the embedder gave, whichever is deeper; past that it
    /// fails with `States.DataLimitExceeded` naming that ceiling.
    pub max_depth: Option<usize>,
    /// Largest value one workflow variable may hold, in bytes of compact
    /// JSON text (AWS: 262,144). `None` turns the check off.
    pub max_variable_bytes: Option<usize>,
    /// Largest combined size of the values one `Assign` sets (a Choice
    /// rule's together with its state's), in bytes of compact JSON text
    /// (AWS: 262,144). `None` turns the check off.
    pub max_assign_bytes: Option<usize>,
    /// Largest combined size of the variables one execution holds at once
    /// (every scope: the top level, and the Parallel branches and Map
    /// iterations running), in bytes of compact JSON text (AWS: 10 MiB,
    /// 10,485,760). `None` turns the check off.
    pub max_variables_total_bytes: Option<usize>,
    /// Most history events one execution may produce (AWS: 25,000),
    /// counted whether or not the history is recorded, and checked before
    /// each state is entered and each retry. `None`: no limit.
    pub max_history_events: Option<u64>,
    /// Most state transitions one execution may make (states entered, and
    /// retries: AWS counts a retry as a transition), so that neither a
    /// Choice loop nor a retrier with a huge `MaxAttempts` can spin
    /// forever. `None`: no limit.
    pub max_transitions: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_payload_bytes: Some(262_144),
            max_depth: Some(1000),
            max_variable_bytes: Some(262_144),
            max_assign_bytes: Some(262_144),
            max_variables_total_bytes: Some(10_485_760),
            max_history_events: Some(25_000),
            max_transitions: Some(1_000_000),
        }
    }
}

impl Limits {
    /// No limits at all, but the ceiling on how deep the machine itself may
    /// nest what it builds (see [`max_depth`](Self::max_depth)), which keeps
    /// the stack safe.
    pub fn unlimited() -> Self {
        Limits {
            max_payload_bytes: None,
            max_depth: None,
            max_variable_bytes: None,
            max_assign_bytes: None,
            max_variables_total_bytes: None,
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

    /// Sets the limit of one variable's value (`None`: unchecked).
    pub fn with_max_variable_bytes(mut self, bytes: Option<usize>) -> Self {
        self.max_variable_bytes = bytes;
        self
    }

    /// Sets the limit of the values one `Assign` sets (`None`: unchecked).
    pub fn with_max_assign_bytes(mut self, bytes: Option<usize>) -> Self {
        self.max_assign_bytes = bytes;
        self
    }

    /// Sets the limit of the variables one execution holds (`None`:
    /// unchecked).
    pub fn with_max_variables_total_bytes(mut self, bytes: Option<usize>) -> Self {
        self.max_variables_total_bytes = bytes;
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
    /// How many times the execution was redriven
    /// (`$$.Execution.RedriveCount`; 0 before any redrive).
    pub redrive_count: u32,
    /// When it was last redriven (`$$.Execution.RedriveTime`, only after a
    /// redrive). A redrive restarts the definition's `TimeoutSeconds`: it
    /// counts from this time, as on AWS.
    pub redrive_time: Option<SystemTime>,
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
            ..ExecutionIdentity::default()
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
    observer: Option<Arc<dyn EventObserver>>,
    random_seed: Option<u64>,
    time: TimeOverrides,
    shared: Arc<Shared>,
    /// Durable runs: where each transition's checkpoint goes.
    checkpoints: Option<&'m dyn checkpoint::CheckpointSink>,
    /// Durable runs: the checkpoints the run resumes from, its top level's
    /// and those of the lines below it (boxed: an execution without a
    /// store carries a pointer, not a checkpoint).
    resume: Option<Box<(checkpoint::Checkpoint, Vec<checkpoint::Checkpoint>)>>,
}

impl fmt::Debug for Execution<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Execution")
            .field("limits", &self.limits)
            .field("identity", &self.identity)
            .field("history", &self.history)
            .field("observed", &self.observer.is_some())
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
            observer: None,
            random_seed: None,
            time: TimeOverrides::default(),
            shared: Arc::new(Shared::default()),
            checkpoints: None,
            resume: None,
        }
    }

    /// Hands every transition's checkpoint to `sink` (durable runs).
    pub(crate) fn with_checkpoints(mut self, sink: &'m dyn checkpoint::CheckpointSink) -> Self {
        self.checkpoints = Some(sink);
        self
    }

    /// Resumes from `checkpoint` instead of starting at `StartAt` (durable
    /// runs); [`run`](Self::run)'s input is then the execution's input
    /// (`$$.Execution.Input`), not the input of the state resumed.
    /// `lines` are the checkpoints of the branches and iterations under
    /// way below the top level.
    pub(crate) fn resuming(
        mut self,
        checkpoint: checkpoint::Checkpoint,
        lines: Vec<checkpoint::Checkpoint>,
    ) -> Self {
        self.resume = Some(Box::new((checkpoint, lines)));
        self
    }

    /// Runs on `clock` (default: [`SystemClock`]). A clock shared with
    /// other executions or with the host is an `Arc<C>` or an
    /// `Arc<dyn Clock>`, which are clocks too:
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use serde_json::json;
    /// use stepfn::{sync_task_fn, Clock, StateMachine, VirtualClock};
    ///
    /// let machine: StateMachine = r#"{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": true}}}"#.parse()?;
    /// let executor = sync_task_fn(|request| Ok(request.parameters));
    /// let clock = Arc::new(VirtualClock::new());
    /// let start = clock.now();
    /// machine.execution().with_clock(clock.clone()).run(&executor, json!({})).await;
    /// assert_eq!(clock.now().duration_since(start).unwrap(), Duration::from_secs(60));
    /// # Ok::<(), stepfn::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Runs on a fresh [`VirtualClock`] starting now: no real waiting.
    pub fn with_virtual_time(self) -> Self {
        self.with_clock(VirtualClock::new())
    }

    /// Overrides how long Wait states and retry back-offs wait, state by
    /// state, and scales the rest (default: as the definition says); see
    /// [`TimeOverrides`]. Composes with any clock: on a virtual clock the
    /// history's timestamps move by the overridden durations.
    pub fn with_time_overrides(mut self, overrides: TimeOverrides) -> Self {
        self.time = overrides;
        self
    }

    /// Sets the limits (default: [`Limits::default`]).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets who the execution is (context object, ARNs in the history).
    pub fn with_identity(mut self, identity: ExecutionIdentity) -> Self {
        self.identity = identity;
        self
    }

    /// Records the `GetExecutionHistory` events into
    /// [`Outcome::history`] (default: off, and then free). An observer
    /// ([`with_observer`](Self::with_observer)) or a stream
    /// ([`ExecutionHandle::events`]) sees the events either way.
    pub fn with_history(mut self, history: bool) -> Self {
        self.history = history;
        self
    }

    /// Hands every history event to `observer` as it happens: the same
    /// events, ids and order as [`Outcome::history`] holds at the end,
    /// those of Parallel branches and Map iterations included (in the
    /// order the engine records them), whether or not the history is
    /// recorded: with [`with_history(false)`](Self::with_history) the
    /// observer still sees every event, and the outcome has none. The
    /// observer makes the execution *watched*: it builds its events (as a
    /// recorded history does) and keeps track of the states in flight
    /// ([`ExecutionHandle::states_in_flight`]); without an observer or an
    /// [`EventStream`] none of that is done.
    ///
    /// The observer is called synchronously, while the engine runs: it
    /// should not block. Nothing is buffered for it.
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use std::sync::{Arc, Mutex};
    /// use serde_json::json;
    /// use stepfn::{sync_task_fn, HistoryEvent, StateMachine};
    ///
    /// let machine: StateMachine = r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#.parse()?;
    /// let executor = sync_task_fn(|request| Ok(request.parameters));
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let log = seen.clone();
    /// let outcome = machine
    ///     .execution()
    ///     .with_observer(move |e: &HistoryEvent| log.lock().unwrap().push(e.id))
    ///     .run(&executor, json!({}))
    ///     .await;
    /// assert_eq!(outcome.history, None);
    /// assert_eq!(*seen.lock().unwrap(), [1, 2, 3, 4]);
    /// # Ok::<(), stepfn::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn with_observer(mut self, observer: impl EventObserver + 'static) -> Self {
        self.observer = Some(Arc::new(observer));
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

    /// Runs the execution to its end. The future yields (wakes its task
    /// and returns `Pending` once) every 256 state transitions, so that a
    /// long run of states that never wait shares the caller's executor
    /// with other tasks; it is otherwise pending only while a task, a
    /// Wait or a retry's back-off waits.
    pub async fn run<E>(mut self, executor: &E, input: Value) -> Outcome
    where
        E: TaskExecutor + ?Sized,
    {
        let executor_ref: &E = executor;
        let executor: &dyn TaskExecutor = &executor_ref;
        match self.resume.take() {
            None => drive::drive_execution(self, executor, input).await,
            // boxed: a resumed run's future is the larger, and the future
            // of every run (which `block_on` and the like copy) would
            // otherwise be as large
            Some(resume) => Box::pin(drive::drive_resumed(self, executor, input, *resume)).await,
        }
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
