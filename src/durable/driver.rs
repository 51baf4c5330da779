//! The durable driver: starts executions in an [`ExecutionStore`], and
//! runs them as a worker, claiming each with a lease, committing a
//! checkpoint per transition, parking Waits, resuming what a dead worker
//! left.

use super::store::{Claim, Ending, ExecutionStore, Frame, NewExecution, Started, StoreError};
use super::store::{ExecutionRecord, Snapshot, StopRequest, StoredEvent, Transition};
use crate::clock::{Clock, SystemClock};
use crate::engine::checkpoint::{self, Checkpoint, CHECKPOINT_VERSION};
use crate::engine::redrive;
use crate::engine::{ExecutionIdentity, Limits, Status};
use crate::executor::TaskExecutor;
use crate::state_machine::StateMachine;
use futures::future::Either;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

mod commit;

use commit::{Committer, Halt};

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
    /// It waits (a Wait state, a retry's back-off) until this time; the
    /// lease is released.
    Parked(SystemTime),
    /// It waits for the callback of a `.waitForTaskToken` task
    /// (SendTaskSuccess, SendTaskFailure or SendTaskHeartbeat through the
    /// store, from any process), or at the latest until this time (the
    /// task's `TimeoutSeconds` or `HeartbeatSeconds`, the execution's
    /// timeout); the lease is released.
    Awaiting(Option<SystemTime>),
    /// The worker could not go on with it for now: it lost its lease
    /// (another worker claimed the execution: [`StoreError::LeaseLost`];
    /// the worker stops quietly), the store failed, or its checkpoint has
    /// a version this stepfn does not read (a newer worker may). Nothing
    /// more was written; the execution resumes from its last commit once
    /// its lease ends.
    Dropped(StoreError),
    /// The execution can never go on from what is stored: a commit was
    /// refused for good ([`StoreError::Conflict`]: the history already
    /// holds the events of the transition, the stored state moved on
    /// without its checkpoint), or its definition, checkpoint or input
    /// cannot be read. The worker took it off the schedule (no due time,
    /// its pending task messages dropped) and released it, so that no
    /// worker claims it again and again: it stays RUNNING until a
    /// StopExecution ends it (ABORTED).
    Stuck(StoreError),
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
    /// a worker renews it as it commits, and every third of it while a run
    /// goes on (a long task call); once it lapses (the worker died, or was
    /// paused past it) any worker may claim the execution and resume it
    /// from its last commit, and the first worker's commits are refused (a
    /// renewal refused during a call drops the call and its result).
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
    /// execution already there (`created: false`). Every definition runs
    /// durably: every line of states is checkpointed, the branches of
    /// Parallel states, the iterations of inline Maps and the child
    /// executions of distributed Maps included.
    pub async fn start(
        &self,
        machine: &StateMachine,
        request: StartExecution,
    ) -> Result<Started, StartError> {
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
    /// `ExecutionAborted` and the stop's error and cause: when it is
    /// claimed, or, when the stop arrives while a worker runs it, at its
    /// next transition (the commit reports the stop:
    /// [`ExecutionStore::commit_and_check`]) or at the next renewal of the
    /// lease during a task call (the call is dropped).
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
            let result = self.work(executor, claim).await;
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

    /// Runs one claimed execution from its last commit; an execution that
    /// can never go on is taken off the schedule ([`WorkResult::Stuck`]).
    async fn work<E>(&self, executor: &E, claim: Claim) -> WorkResult
    where
        E: TaskExecutor + ?Sized,
    {
        let snapshot = match self.store.load(&claim).await {
            Ok(snapshot) => snapshot,
            Err(e) => return WorkResult::Dropped(e),
        };
        let pending = snapshot.signals.iter().map(|s| s.id).collect();
        match self.resume(executor, claim.clone(), snapshot).await {
            Ok(result) => result,
            Err(Trouble::Again(e)) => WorkResult::Dropped(e),
            Err(Trouble::Never(e)) => self.shelve(&claim, pending, e).await,
        }
    }

    /// Takes an execution that can never go on off the schedule: no due
    /// time, its pending task messages consumed (else they would keep it
    /// due), its lease released. A StopExecution still makes it due, and
    /// is honoured before anything else is read.
    async fn shelve(&self, claim: &Claim, pending: Vec<u64>, why: StoreError) -> WorkResult {
        let off = Transition {
            consumed_signals: pending,
            run_at: None,
            ..Transition::default()
        };
        if let Err(e) = self.store.commit(claim, off).await {
            // the lease is lost (another worker has it), or the store fails
            return WorkResult::Dropped(e);
        }
        if let Err(e) = self.store.release(claim).await {
            return WorkResult::Dropped(e);
        }
        WorkResult::Stuck(why)
    }

    /// Resumes a claimed execution from `snapshot`.
    async fn resume<E>(
        &self,
        executor: &E,
        claim: Claim,
        snapshot: Snapshot,
    ) -> Result<WorkResult, Trouble>
    where
        E: TaskExecutor + ?Sized,
    {
        let record = snapshot.record;
        if let Some(stop) = snapshot.stop {
            return self.stop(claim, &record, stop).await;
        }
        let machine = self.machine(&record.definition)?;
        let (root, lines) = lines_of(&record, snapshot.frames)?;
        let input = crate::json::from_text(&record.input, crate::json::MAX_TEXT_DEPTH)
            .map_err(|_| unreadable("its input is not JSON text"))?;
        let consumed = snapshot.signals.iter().map(|s| s.id).collect();
        let committer = Committer::new(
            (&self.store, &*self.clock, self.lease),
            claim,
            (snapshot.signals, consumed),
            std::iter::once(&root).chain(&lines),
        );
        let mut identity = identity(
            &record.state_machine_arn,
            &record.execution_arn,
            &record.name,
            record.start_date,
        );
        identity.redrive_count = record.redrive_count;
        identity.redrive_time = record.redrive_date;
        let execution = machine
            .execution()
            .with_clock(self.clock.clone())
            .with_limits(self.limits.clone())
            .with_time_overrides(self.time.clone())
            .with_identity(identity)
            .with_history(true)
            .with_checkpoints(&committer)
            .resuming(root, lines);
        committer.set_handle(execution.handle());
        let outcome = {
            // the commits go on in a loop of their own, which ends once the
            // run has ended and every commit it queued is done
            let run = async {
                let outcome = execution.run(executor, input).await;
                committer.close();
                outcome
            };
            let work = futures::future::join(run, committer.commit_loop());
            // the watch never ends: it aborts the run when it must; it is
            // polled first, so that its clock starts with the run
            let watch = committer.watch();
            futures::pin_mut!(work, watch);
            match futures::future::select(watch, work).await {
                Either::Left(((), work)) => work.await.0,
                Either::Right(((outcome, ()), _)) => outcome,
            }
        };
        match committer.take_halt() {
            Some(Halt::Parked(until, callback)) => {
                let parking = committer.parking(until)?;
                let claim = committer.claim();
                if let Some(last) = parking {
                    self.store.commit(&claim, last).await?;
                }
                self.store.release(&claim).await?;
                return Ok(match (until, callback) {
                    (until, true) => WorkResult::Awaiting(until),
                    (Some(until), false) => WorkResult::Parked(until),
                    // (a Wait or back-off always has its end)
                    (None, false) => WorkResult::Awaiting(None),
                });
            }
            Some(Halt::Dropped(e)) => return Err(e.into()),
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
        // the lines as they were, for a redrive
        let (frames, removed_frames) = committer.lines().take()?;
        let last = Transition {
            frames,
            removed_frames,
            events,
            end: Some(end),
            ..Transition::default()
        };
        let claim = committer.claim();
        self.store.commit(&claim, last).await?;
        Ok(WorkResult::Ended(outcome.status))
    }

    /// Ends a claimed execution a StopExecution asked to stop: aborted,
    /// with the request's error and cause.
    async fn stop(
        &self,
        claim: Claim,
        record: &ExecutionRecord,
        stop: StopRequest,
    ) -> Result<WorkResult, Trouble> {
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
        Ok(WorkResult::Ended(Status::Aborted))
    }

    /// The state machine of a stored definition, parsed once per driver.
    fn machine(&self, definition: &str) -> Result<Arc<StateMachine>, Trouble> {
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

/// The lines of a claimed execution as its frames hold them: the top
/// level's (with the counters of the latest commit, whichever line made
/// it) and the others; a line redriven since its checkpoint starts again
/// at the state it stopped in.
fn lines_of(
    record: &ExecutionRecord,
    frames: Vec<Frame>,
) -> Result<(Checkpoint, Vec<Checkpoint>), Trouble> {
    let mut root = None;
    let mut lines = Vec::new();
    for frame in frames {
        let checkpoint = read_frame(frame)?;
        // redriven since this checkpoint: the line starts again at the
        // state it stopped in
        let checkpoint = if record.redrive_count > checkpoint.redrives {
            match redrive::rearm(checkpoint, record.redrive_count, record.last_event_id) {
                Some(checkpoint) => checkpoint,
                // a line that starts again from nothing
                None => continue,
            }
        } else {
            checkpoint
        };
        if checkpoint.line.is_empty() {
            root = Some(checkpoint);
        } else {
            lines.push(checkpoint);
        }
    }
    let mut root =
        root.ok_or_else(|| unreadable("the execution has no checkpoint of its top level"))?;
    // the counters of the latest commit, whichever line made it
    for line in lines.iter().filter(|l| !l.child_execution) {
        root.events = root.events.max(line.events);
        root.transitions = root.transitions.max(line.transitions);
        root.given_depth = root.given_depth.max(line.given_depth);
    }
    Ok((root, lines))
}

/// The checkpoint a frame holds, of this stepfn's version.
fn read_frame(frame: Frame) -> Result<Checkpoint, Trouble> {
    let version = frame.data.get("version").and_then(Value::as_u64);
    if let Some(version) = version.filter(|&v| v != u64::from(CHECKPOINT_VERSION)) {
        // a newer worker may read it: dropped, not stuck
        return Err(Trouble::Again(StoreError::Backend(format!(
            "the stored execution cannot be resumed: its checkpoint has version {version}, this stepfn reads version {CHECKPOINT_VERSION}"
        ))));
    }
    serde_json::from_value(frame.data)
        .map_err(|e| unreadable(&format!("its checkpoint cannot be read: {e}")))
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

/// A stored execution no worker can run.
fn unreadable(why: &str) -> Trouble {
    Trouble::Never(StoreError::Backend(format!(
        "the stored execution cannot be resumed: {why}"
    )))
}

/// Why a worker let an execution go without ending or parking it.
enum Trouble {
    /// For now (the lease lost, the store failing): it is dropped, and
    /// resumed once its lease ends.
    Again(StoreError),
    /// For good: what is stored can never commit or be read.
    Never(StoreError),
}

impl From<StoreError> for Trouble {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(_) => Trouble::Never(e),
            e => Trouble::Again(e),
        }
    }
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
