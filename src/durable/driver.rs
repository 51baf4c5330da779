//! The durable driver: starts executions in an [`ExecutionStore`], and
//! runs them as a worker, claiming each with a lease, committing a
//! checkpoint per transition, parking Waits, resuming what a dead worker
//! left.

use super::store::{Claim, Ending, ExecutionStore, Frame, NewExecution, Started, StoreError};
use super::store::{StoredEvent, Transition};
use crate::clock::{Clock, SystemClock};
use crate::engine::checkpoint::{self, Checkpoint, CheckpointSink, Verdict, CHECKPOINT_VERSION};
use crate::engine::redrive;
use crate::engine::{ExecutionIdentity, HistoryEvent, Limits, Status};
use crate::executor::TaskExecutor;
use crate::state_machine::StateMachine;
use futures::future::BoxFuture;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// The lease a worker takes on an execution unless told otherwise
/// ([`Durable::with_lease`]): 30 seconds.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// How many due executions one [`Durable::run_due`] claims at most unless
/// told otherwise ([`Durable::with_batch`]): one, so that no execution
/// waits under this worker's lease while it runs another.
pub const DEFAULT_BATCH: usize = 1;

/// Durable executions over a store: StartExecution, and a worker that runs
/// what is due. See the [module docs](crate::durable) for what it covers.
///
/// Every process that shares a store may start executions and run them; a
/// worker must be able to serve the tasks of every execution it may claim
/// (its executor answers the same resources).
pub struct Durable<S> {
    store: S,
    clock: Arc<dyn Clock>,
    worker: String,
    lease: Duration,
    batch: usize,
    limits: Limits,
    time: crate::TimeOverrides,
    /// Definitions parsed, by their text.
    machines: Mutex<HashMap<String, Arc<StateMachine>>>,
}

impl<S> fmt::Debug for Durable<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Durable")
            .field("worker", &self.worker)
            .field("lease", &self.lease)
            .field("batch", &self.batch)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// A StartExecution request for [`Durable::start`].
#[derive(Clone, Debug, PartialEq)]
pub struct StartExecution {
    /// The state machine's ARN (`arn:aws:states:REGION:ACCOUNT:stateMachine:NAME`);
    /// the execution's ARN is made from it and the name, as AWS makes it.
    pub state_machine_arn: String,
    /// The execution's name, unique among the state machine's executions:
    /// starting a running execution again with the same input answers with
    /// it (AWS's idempotent StartExecution).
    pub name: String,
    /// The execution input.
    pub input: Value,
}

/// Why [`Durable::start`] refused a request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The definition has states stepfn cannot yet run durably (the
    /// message names the first): Map states in DISTRIBUTED mode, Wait
    /// states inside Parallel branches and Map iterations, and Task states
    /// that wait for a callback.
    #[error("{0}")]
    Unsupported(String),
    /// The store refused (e.g. `ExecutionAlreadyExists`).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a worker did with one execution it claimed ([`Durable::run_due`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Worked {
    /// The execution.
    pub execution_arn: String,
    /// How the worker left it.
    pub result: WorkResult,
}

/// How a worker left an execution it claimed.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum WorkResult {
    /// It ended, with this status; the end is committed.
    Ended(Status),
    /// It waits (a Wait state) until this time; the lease is released.
    Parked(SystemTime),
    /// The worker could not go on with it: it lost its lease (another
    /// worker claimed the execution: [`StoreError::LeaseLost`]), the store
    /// failed, or the stored execution cannot be run here (an unreadable
    /// checkpoint or definition). Nothing more was written; the execution
    /// resumes from its last commit once its lease ends.
    Dropped(StoreError),
}

impl<S: ExecutionStore> Durable<S> {
    /// A driver over `store`, on the system clock, with a random worker id,
    /// a [`DEFAULT_LEASE`] and AWS's [`Limits`].
    pub fn new(store: S) -> Self {
        Durable {
            store,
            clock: Arc::new(SystemClock),
            worker: format!("worker-{}", uuid::Uuid::new_v4().simple()),
            lease: DEFAULT_LEASE,
            batch: DEFAULT_BATCH,
            limits: Limits::default(),
            time: crate::TimeOverrides::default(),
            machines: Mutex::new(HashMap::new()),
        }
    }

    /// Runs on `clock`: start dates, leases, Waits and the history's
    /// timestamps. With a [`VirtualClock`](crate::VirtualClock) nothing
    /// sleeps: a worker that finds nothing due moves it to the next due
    /// time.
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Names this worker in its claims (default: `worker-` and a random
    /// UUID).
    pub fn with_worker_id(mut self, worker: impl Into<String>) -> Self {
        self.worker = worker.into();
        self
    }

    /// How long a claim holds without a commit (default [`DEFAULT_LEASE`]):
    /// a worker renews it as it commits; once it lapses (the worker died,
    /// or a task call outlasted it) any worker may claim the execution and
    /// resume it from its last commit, and the first worker's commits are
    /// refused.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How many due executions one [`run_due`](Self::run_due) claims at
    /// most (default [`DEFAULT_BATCH`], at least 1). They are run in turn:
    /// a claimed execution waits under this worker's lease until the ones
    /// before it park or end, so a batch suits short transitions (run
    /// several drivers, on threads or processes, to run executions at the
    /// same time).
    pub fn with_batch(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// The limits every execution runs under (default: AWS's).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Wait and retry durations per state, and the time scale, for every
    /// execution this driver runs (see [`TimeOverrides`](crate::TimeOverrides)).
    /// A Wait or back-off is checkpointed with the time it ends as
    /// overridden, so a parked execution is due then, whichever worker
    /// resumes it.
    pub fn with_time_overrides(mut self, overrides: crate::TimeOverrides) -> Self {
        self.time = overrides;
        self
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// StartExecution: stores the execution (its definition, input,
    /// `ExecutionStarted` event and first checkpoint), due now. Idempotent
    /// by name: the same name and input while it runs answer with the
    /// execution already there (`created: false`).
    ///
    /// Definitions with states stepfn cannot yet checkpoint are refused
    /// here, before anything is stored ([`StartError::Unsupported`]).
    pub async fn start(
        &self,
        machine: &StateMachine,
        request: StartExecution,
    ) -> Result<Started, StartError> {
        if let Some(why) = checkpoint::unsupported(machine.definition()) {
            return Err(StartError::Unsupported(why));
        }
        let execution_arn = format!(
            "{}:{}",
            request
                .state_machine_arn
                .replacen(":stateMachine:", ":execution:", 1),
            request.name
        );
        let now = self.clock.now();
        let identity = identity(
            &request.state_machine_arn,
            &execution_arn,
            &request.name,
            now,
        );
        let (first, started) =
            checkpoint::started(machine.definition(), &identity, &request.input, now);
        let start = NewExecution {
            execution_arn,
            state_machine_arn: request.state_machine_arn,
            name: request.name,
            definition: machine.to_value().to_string(),
            input: request.input.to_string(),
            start_date: now,
            frames: vec![frame(&first)?],
            events: vec![StoredEvent::from(started)],
            run_at: Some(now),
        };
        Ok(self.store.create(start).await?)
    }

    /// Claims the executions due now (at most the batch size) and runs each
    /// in turn until it ends, parks or is dropped; says what became of
    /// each. An empty answer: nothing was due.
    ///
    /// An execution with a StopExecution waiting
    /// ([`ExecutionStore::signal`]) ends ABORTED, with
    /// `ExecutionAborted` and the stop's error and cause; a stop that
    /// arrives while a worker runs the execution is honoured when it is next
    /// claimed (after it parks, or after the worker's lease ends).
    pub async fn run_due<E>(&self, executor: &E) -> Result<Vec<Worked>, StoreError>
    where
        E: TaskExecutor + ?Sized,
    {
        let now = self.clock.now();
        let claims = self
            .store
            .claim(&self.worker, now, self.lease, self.batch)
            .await?;
        let mut worked = Vec::with_capacity(claims.len());
        for claim in claims {
            let execution_arn = claim.execution_arn.clone();
            let result = match self.work(executor, claim).await {
                Ok(result) => result,
                Err(e) => WorkResult::Dropped(e),
            };
            worked.push(Worked {
                execution_arn,
                result,
            });
        }
        Ok(worked)
    }

    /// Runs what is due, again and again, moving on to the next due time
    /// (sleeping on the clock; a virtual clock jumps there) until nothing
    /// is left but executions waiting for a callback, or nothing at all.
    /// Gives every execution it worked on, in order.
    pub async fn run_until_idle<E>(&self, executor: &E) -> Result<Vec<Worked>, StoreError>
    where
        E: TaskExecutor + ?Sized,
    {
        let mut all = Vec::new();
        loop {
            let worked = self.run_due(executor).await?;
            if !worked.is_empty() {
                all.extend(worked);
                continue;
            }
            let Some(due) = self.store.next_due().await? else {
                return Ok(all);
            };
            let now = self.clock.now();
            match due.duration_since(now) {
                Ok(left) if !left.is_zero() => sleep(&*self.clock, left).await,
                // due already, yet nothing was claimable: another worker
                // holds it, or the store compares on a clock of its own
                _ => return Ok(all),
            }
        }
    }

    /// Runs one claimed execution from its last commit.
    async fn work<E>(&self, executor: &E, claim: Claim) -> Result<WorkResult, StoreError>
    where
        E: TaskExecutor + ?Sized,
    {
        let snapshot = self.store.load(&claim).await?;
        let record = snapshot.record;
        if let Some(stop) = snapshot.stop {
            // StopExecution: the execution ends here, aborted
            let now = self.clock.now();
            let (error, cause) = (stop.error, stop.cause);
            let event = checkpoint::aborted(
                record.last_event_id,
                error.as_deref(),
                cause.as_deref(),
                now,
            );
            let end = Ending {
                status: Status::Aborted,
                output: None,
                error,
                cause,
                stop_date: now,
            };
            let last = Transition {
                events: vec![StoredEvent::from(event)],
                end: Some(end),
                ..Transition::default()
            };
            self.store.commit(&claim, last).await?;
            return Ok(WorkResult::Ended(Status::Aborted));
        }
        let machine = self.machine(&record.definition)?;
        let root = snapshot
            .frames
            .into_iter()
            .find(|f| f.path.is_empty())
            .ok_or_else(|| unreadable("the execution has no checkpoint of its top level"))?;
        let checkpoint: Checkpoint = serde_json::from_value(root.data)
            .map_err(|e| unreadable(&format!("its checkpoint cannot be read: {e}")))?;
        if checkpoint.version != CHECKPOINT_VERSION {
            return Err(unreadable(&format!(
                "its checkpoint has version {}, this stepfn reads version {CHECKPOINT_VERSION}",
                checkpoint.version
            )));
        }
        // redriven since this checkpoint: the line starts again at the
        // state it stopped in
        let checkpoint = if record.redrive_count > checkpoint.redrives {
            redrive::rearm(checkpoint, record.redrive_count, record.last_event_id)
        } else {
            checkpoint
        };
        let input = crate::json::from_text(&record.input, crate::json::MAX_TEXT_DEPTH)
            .map_err(|_| unreadable("its input is not JSON text"))?;
        let committer = Committer {
            store: &self.store,
            clock: &*self.clock,
            lease: self.lease,
            claim: Mutex::new(claim),
            halted: Mutex::new(None),
        };
        let mut identity = identity(
            &record.state_machine_arn,
            &record.execution_arn,
            &record.name,
            record.start_date,
        );
        identity.redrive_count = record.redrive_count;
        identity.redrive_time = record.redrive_date;
        let outcome = machine
            .execution()
            .with_clock(self.clock.clone())
            .with_limits(self.limits.clone())
            .with_time_overrides(self.time.clone())
            .with_identity(identity)
            .with_history(true)
            .with_checkpoints(&committer)
            .resuming(checkpoint)
            .run(executor, input)
            .await;
        let halted = committer
            .halted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let claim = committer
            .claim
            .into_inner()
            .unwrap_or_else(|e| e.into_inner());
        match halted {
            Some(Halt::Parked(until)) => {
                self.store.release(&claim).await?;
                return Ok(WorkResult::Parked(until));
            }
            Some(Halt::Dropped(e)) => return Ok(WorkResult::Dropped(e)),
            None => {}
        }
        let events = outcome
            .history
            .unwrap_or_default()
            .into_iter()
            .map(StoredEvent::from)
            .collect();
        let end = Ending {
            status: outcome.status,
            output: outcome.output.map(|o| o.to_string()),
            error: outcome.error,
            cause: outcome.cause,
            stop_date: self.clock.now(),
        };
        let last = Transition {
            events,
            end: Some(end),
            ..Transition::default()
        };
        self.store.commit(&claim, last).await?;
        Ok(WorkResult::Ended(outcome.status))
    }

    /// The state machine of a stored definition, parsed once per driver.
    fn machine(&self, definition: &str) -> Result<Arc<StateMachine>, StoreError> {
        let mut machines = self.machines.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = machines.get(definition) {
            return Ok(m.clone());
        }
        let machine = StateMachine::from_str(definition)
            .map_err(|e| unreadable(&format!("its definition does not load: {e}")))?;
        let machine = Arc::new(machine);
        machines.insert(definition.to_owned(), machine.clone());
        Ok(machine)
    }
}

/// The identity of a stored execution, as its context object and history
/// show it.
fn identity(
    state_machine_arn: &str,
    execution_arn: &str,
    name: &str,
    start: SystemTime,
) -> ExecutionIdentity {
    let mut identity = ExecutionIdentity::new();
    identity.state_machine_arn = Some(state_machine_arn.to_owned());
    identity.execution_arn = Some(execution_arn.to_owned());
    identity.execution_name = Some(name.to_owned());
    identity.start_time = Some(start);
    identity
}

/// The frame of a checkpoint.
fn frame(checkpoint: &Checkpoint) -> Result<Frame, StoreError> {
    let data = serde_json::to_value(checkpoint)
        .map_err(|e| StoreError::Backend(format!("a checkpoint does not serialise: {e}")))?;
    Ok(Frame {
        path: checkpoint.line.clone(),
        data,
    })
}

/// A stored execution this worker cannot run.
fn unreadable(why: &str) -> StoreError {
    StoreError::Backend(format!("the stored execution cannot be resumed: {why}"))
}

/// Sleeps `duration` on `clock`; a virtual clock is moved to the end of it
/// (nothing else runs on this worker meanwhile).
async fn sleep(clock: &dyn Clock, duration: Duration) {
    let mut sleeping = clock.sleep(duration);
    futures::future::poll_fn(|cx| loop {
        if sleeping.as_mut().poll(cx).is_ready() {
            return std::task::Poll::Ready(());
        }
        if !clock.advance_when_idle() {
            return std::task::Poll::Pending;
        }
    })
    .await
}

/// Why a run stopped without ending.
enum Halt {
    Parked(SystemTime),
    Dropped(StoreError),
}

/// Commits each checkpoint of one claimed execution.
struct Committer<'a, S> {
    store: &'a S,
    clock: &'a dyn Clock,
    lease: Duration,
    claim: Mutex<Claim>,
    halted: Mutex<Option<Halt>>,
}

impl<S: ExecutionStore> Committer<'_, S> {
    fn claim(&self) -> Claim {
        self.claim.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn halt(&self, why: Halt) -> Verdict {
        *self.halted.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
        Verdict::Halt
    }

    async fn commit(&self, checkpoint: Checkpoint, events: Vec<HistoryEvent>) -> Verdict {
        let wake = checkpoint.wake_at;
        let frame = match frame(&checkpoint) {
            Ok(frame) => frame,
            Err(e) => return self.halt(Halt::Dropped(e)),
        };
        let now = self.clock.now();
        let transition = Transition {
            frames: vec![frame],
            events: events.into_iter().map(StoredEvent::from).collect(),
            run_at: Some(wake.unwrap_or(now)),
            ..Transition::default()
        };
        let claim = self.claim();
        if let Err(e) = self.store.commit(&claim, transition).await {
            return self.halt(Halt::Dropped(e));
        }
        if let Some(until) = wake {
            return self.halt(Halt::Parked(until));
        }
        self.keep_lease(&claim, now).await
    }

    /// Renews the lease once half of it is gone (`claim` as held, at
    /// `now`); halts when it cannot.
    async fn keep_lease(&self, claim: &Claim, now: SystemTime) -> Verdict {
        let half_gone = claim
            .lease_until
            .checked_sub(self.lease / 2)
            .is_some_and(|t| now >= t);
        if half_gone {
            let until = now.checked_add(self.lease).unwrap_or(claim.lease_until);
            match self.store.renew(claim, until).await {
                Ok(renewal) => {
                    self.claim
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .lease_until = renewal.lease_until;
                }
                Err(e) => return self.halt(Halt::Dropped(e)),
            }
        }
        Verdict::Continue
    }

    /// A transition inside a Parallel or Map state (nothing committed):
    /// the lease is renewed as a commit renews it, so that a long state
    /// keeps its execution.
    async fn alive(&self) -> Verdict {
        // a zero lease lapses at once: renewing it keeps nothing
        if self.lease.is_zero() {
            return Verdict::Continue;
        }
        let claim = self.claim();
        self.keep_lease(&claim, self.clock.now()).await
    }
}

impl<S: ExecutionStore> CheckpointSink for Committer<'_, S> {
    fn transition<'a>(
        &'a self,
        checkpoint: Checkpoint,
        events: Vec<HistoryEvent>,
    ) -> BoxFuture<'a, Verdict> {
        Box::pin(self.commit(checkpoint, events))
    }

    fn alive(&self) -> BoxFuture<'_, Verdict> {
        Box::pin(Committer::alive(self))
    }
}
