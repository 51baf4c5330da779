//! The durable driver: starts executions in an [`ExecutionStore`], and
//! runs them as a worker, claiming each with a lease, committing a
//! checkpoint per transition, parking Waits, resuming what a dead worker
//! left.

use super::store::{Claim, Ending, ExecutionStore, Frame, NewExecution, Started, StoreError};
use super::store::{PendingSignal, Snapshot, StopRequest, StoredEvent, TaskMessage, Transition};
use crate::clock::{Clock, SystemClock};
use crate::engine::checkpoint::{self, Checkpoint, CheckpointSink, Verdict, CHECKPOINT_VERSION};
use crate::engine::redrive;
use crate::engine::{ExecutionHandle, ExecutionIdentity, HistoryEvent, Limits, Status};
use crate::executor::{CallbackMessage, TaskExecutor};
use crate::state_machine::StateMachine;
use futures::channel::oneshot;
use futures::future::BoxFuture;
use futures::future::Either;
use futures::task::AtomicWaker;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::Poll;
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
        let mut root = None;
        let mut lines = Vec::new();
        for frame in snapshot.frames {
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
        let input = crate::json::from_text(&record.input, crate::json::MAX_TEXT_DEPTH)
            .map_err(|_| unreadable("its input is not JSON text"))?;
        let mut known = Lines::default();
        for checkpoint in std::iter::once(&root).chain(&lines) {
            known.note(checkpoint);
        }
        let committer = Committer {
            store: &self.store,
            clock: &*self.clock,
            lease: self.lease,
            claim: Mutex::new(claim),
            halted: Mutex::new(None),
            tokens: Mutex::new(Tokens {
                consumed: snapshot.signals.iter().map(|s| s.id).collect(),
                closed: Vec::new(),
            }),
            signals: snapshot.signals,
            handle: OnceLock::new(),
            lines: Mutex::new(known),
            jobs: Mutex::new(VecDeque::new()),
            queued: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            waker: AtomicWaker::new(),
            last_run_at: Mutex::new(None),
            parked_events: Mutex::new(Vec::new()),
        };
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
        let _ = committer.handle.set(execution.handle());
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
        let halted = committer
            .halted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        match halted {
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

/// Why a run stopped without ending.
enum Halt {
    /// Due again at this time (`None`: only when a message comes); `true`
    /// when a callback is awaited.
    Parked(Option<SystemTime>, bool),
    Dropped(StoreError),
}

/// What the next commit of a run consumes and closes.
struct Tokens {
    /// Signals handed to the run: every one loaded (a message nobody
    /// awaits any more must not keep the execution due).
    consumed: Vec<u64>,
    /// Tokens whose attempt ended.
    closed: Vec<String>,
}

/// Commits each checkpoint of one claimed execution, in order, on a
/// future of its own ([`commit_loop`](Self::commit_loop)): a line whose
/// future is dropped while its commit is under way (a sibling failed, the
/// execution was stopped) does not take the commit with it, so the
/// history stays whole.
struct Committer<'a, S> {
    store: &'a S,
    clock: &'a dyn Clock,
    lease: Duration,
    claim: Mutex<Claim>,
    halted: Mutex<Option<Halt>>,
    /// The task messages stored when the execution was loaded.
    signals: Vec<PendingSignal>,
    tokens: Mutex<Tokens>,
    /// The run's handle: a StopExecution aborts it through it.
    handle: OnceLock<ExecutionHandle>,
    /// Where every line is, and what the next commit writes.
    lines: Mutex<Lines>,
    /// Commits waiting their turn.
    jobs: Mutex<VecDeque<Job>>,
    /// Commits waiting or under way.
    queued: AtomicUsize,
    /// No more commits will come (the run ended).
    closed: AtomicBool,
    /// The commit loop, waiting for a commit.
    waker: AtomicWaker,
    /// When the last commit said the execution is due again.
    last_run_at: Mutex<Option<Option<SystemTime>>>,
    /// The events not yet committed when the execution parked.
    parked_events: Mutex<Vec<HistoryEvent>>,
}

/// One commit waiting its turn.
struct Job {
    transition: Transition,
    /// Every line is parked after it: due again then.
    parked: Option<Option<SystemTime>>,
    /// The task token the committed line opens.
    opened: Option<String>,
    answer: oneshot::Sender<Verdict>,
}

/// Every line of an execution as its checkpoints left it (committed or
/// recorded), and what the next commit writes.
#[derive(Default)]
struct Lines {
    known: BTreeMap<String, Place>,
    /// Checkpoints recorded since the last commit, by line.
    pending: BTreeMap<String, Checkpoint>,
    /// Lines gone since the last commit.
    removed: BTreeSet<String>,
}

/// What the driver needs of a line's checkpoint to tell whether the
/// execution can park.
#[derive(Clone, Copy)]
struct Place {
    /// It runs states itself.
    leaf: bool,
    /// It waits for time or a callback.
    parks: bool,
    wake_at: Option<SystemTime>,
    callback: bool,
}

impl Lines {
    fn note(&mut self, checkpoint: &Checkpoint) {
        let place = Place {
            leaf: checkpoint.at.is_leaf(),
            parks: checkpoint.at.parks(),
            wake_at: checkpoint.wake_at,
            callback: checkpoint.at.token().is_some(),
        };
        self.known.insert(checkpoint.line.clone(), place);
        self.removed.remove(&checkpoint.line);
    }

    fn record(&mut self, checkpoint: Checkpoint) {
        self.note(&checkpoint);
        self.pending.insert(checkpoint.line.clone(), checkpoint);
    }

    fn remove(&mut self, prefix: &str) {
        let gone: Vec<String> = (self.known.range(prefix.to_owned()..))
            .map(|(line, _)| line)
            .take_while(|line| line.starts_with(prefix))
            .cloned()
            .collect();
        for line in gone {
            self.known.remove(&line);
            self.pending.remove(&line);
            self.removed.insert(line);
        }
    }

    /// The frames and removals of the next commit.
    fn take(&mut self) -> Result<(Vec<Frame>, Vec<String>), StoreError> {
        let frames = std::mem::take(&mut self.pending)
            .into_values()
            .map(|c| frame(&c))
            .collect::<Result<_, _>>()?;
        Ok((
            frames,
            std::mem::take(&mut self.removed).into_iter().collect(),
        ))
    }

    /// When every line that runs states waits for time or a callback: when
    /// the execution is due again (`None`: only when a message comes), and
    /// whether a callback is awaited.
    fn parked(&self) -> Option<(Option<SystemTime>, bool)> {
        let mut leaves = self.known.values().filter(|p| p.leaf).peekable();
        leaves.peek()?;
        let mut wake: Option<SystemTime> = None;
        let mut callback = false;
        for place in leaves {
            if !place.parks {
                return None;
            }
            callback |= place.callback;
            if let Some(at) = place.wake_at {
                wake = Some(wake.map_or(at, |w| w.min(at)));
            }
        }
        Some((wake, callback))
    }
}

impl<S: ExecutionStore> Committer<'_, S> {
    fn claim(&self) -> Claim {
        self.claim.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn lines(&self) -> std::sync::MutexGuard<'_, Lines> {
        self.lines.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Aborts the run with a StopExecution's error and cause.
    fn stop(&self, stop: StopRequest) {
        if let Some(handle) = self.handle.get() {
            handle.abort_with(stop.error.as_deref(), stop.cause.as_deref());
        }
    }

    /// While the run goes on (a task call longer than a fraction of the
    /// lease, say), renews the lease every third of it. A StopExecution
    /// the renewal reports aborts the run (a task call in flight is
    /// dropped); a lease lost to another worker drops the run, and the
    /// call's result with it. Never ends.
    async fn watch(&self) {
        let every = self.lease / 3;
        if every.is_zero() {
            // a zero lease: nothing to keep
            return futures::future::pending().await;
        }
        loop {
            self.clock.sleep(every).await;
            let claim = self.claim();
            let until = self
                .clock
                .now()
                .checked_add(self.lease)
                .unwrap_or(claim.lease_until);
            match self.store.renew(&claim, until).await {
                Ok(renewal) => {
                    self.claim
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .lease_until = renewal.lease_until;
                    if let Some(stop) = renewal.stop {
                        self.stop(stop);
                        return futures::future::pending().await;
                    }
                }
                Err(e @ StoreError::LeaseLost(_)) => {
                    self.halt(Halt::Dropped(e));
                    if let Some(handle) = self.handle.get() {
                        handle.abort();
                    }
                    return futures::future::pending().await;
                }
                // the store fails: the next commit or renewal tells
                Err(_) => {}
            }
        }
    }

    fn halt(&self, why: Halt) -> Verdict {
        *self.halted.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
        Verdict::Halt
    }

    fn dropped(&self) -> bool {
        matches!(
            *self.halted.lock().unwrap_or_else(|e| e.into_inner()),
            Some(Halt::Dropped(_))
        )
    }

    /// Queues the commit of `checkpoint` (with every checkpoint recorded
    /// since the last commit) and `events`; the future answers once it is
    /// done.
    fn enqueue(
        &self,
        checkpoint: Checkpoint,
        events: Vec<HistoryEvent>,
    ) -> BoxFuture<'static, Verdict> {
        let (answer, answered) = oneshot::channel();
        let opened = checkpoint.at.token().map(str::to_owned);
        let taken = {
            let mut lines = self.lines();
            lines.record(checkpoint);
            let parked = lines.parked();
            lines
                .take()
                .map(|(frames, removed)| (frames, removed, parked))
        };
        let (frames, removed_frames, parked) = match taken {
            Ok(taken) => taken,
            Err(e) => {
                self.halt(Halt::Dropped(e));
                return Box::pin(async { Verdict::Halt });
            }
        };
        let job = Job {
            transition: Transition {
                frames,
                removed_frames,
                events: events.into_iter().map(StoredEvent::from).collect(),
                ..Transition::default()
            },
            parked: parked.map(|(wake, _)| wake),
            opened,
            answer,
        };
        self.queued.fetch_add(1, Ordering::SeqCst);
        self.jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(job);
        self.waker.wake();
        Box::pin(async move { answered.await.unwrap_or(Verdict::Halt) })
    }

    /// Commits the queued commits in order until the run ends
    /// ([`close`](Self::close)) and none is left.
    async fn commit_loop(&self) {
        loop {
            let next = futures::future::poll_fn(|cx| {
                let pop = || {
                    self.jobs
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .pop_front()
                };
                if let Some(job) = pop() {
                    return Poll::Ready(Some(job));
                }
                self.waker.register(cx.waker());
                match pop() {
                    Some(job) => Poll::Ready(Some(job)),
                    None if self.closed.load(Ordering::SeqCst) => Poll::Ready(None),
                    None => Poll::Pending,
                }
            })
            .await;
            let Some(job) = next else {
                return;
            };
            let verdict = if self.dropped() {
                Verdict::Halt
            } else {
                self.commit(job.transition, job.opened, job.parked).await
            };
            let _ = job.answer.send(verdict);
            if self.queued.fetch_sub(1, Ordering::SeqCst) == 1 {
                // the run may be idle now that nothing is in flight
                if let Some(handle) = self.handle.get() {
                    handle.wake();
                }
            }
        }
    }

    /// No more commits will come: the commit loop ends once the queue is
    /// empty.
    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.waker.wake();
    }

    /// Commits one transition: due again at `parked` when every line is
    /// parked after it (`Some(None)`: only a message can move it), else
    /// now.
    async fn commit(
        &self,
        mut transition: Transition,
        opened: Option<String>,
        parked: Option<Option<SystemTime>>,
    ) -> Verdict {
        let now = self.clock.now();
        let (consumed, closed) = {
            let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
            (tokens.consumed.clone(), tokens.closed.clone())
        };
        transition.opened_tokens = opened.into_iter().collect();
        transition.closed_tokens = closed;
        transition.consumed_signals = consumed;
        transition.run_at = parked.unwrap_or(Some(now));
        let run_at = transition.run_at;
        let claim = self.claim();
        let stop = match self.store.commit_and_check(&claim, transition).await {
            Ok(stop) => stop,
            Err(e) => return self.halt(Halt::Dropped(e)),
        };
        *self.last_run_at.lock().unwrap_or_else(|e| e.into_inner()) = Some(run_at);
        {
            let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
            tokens.consumed.clear();
            tokens.closed.clear();
        }
        if let Some(stop) = stop {
            // StopExecution, honoured at this transition: the run ends
            // ABORTED, and its end is committed as any end
            self.stop(stop);
            return Verdict::Halt;
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

    /// The last commit of a parked execution: what was recorded since the
    /// last commit, and the time it is due again (`until`), unless the
    /// last commit said all of it already.
    fn parking(&self, until: Option<SystemTime>) -> Result<Option<Transition>, StoreError> {
        let (frames, removed_frames) = self.lines().take()?;
        let events: Vec<StoredEvent> =
            std::mem::take(&mut *self.parked_events.lock().unwrap_or_else(|e| e.into_inner()))
                .into_iter()
                .map(StoredEvent::from)
                .collect();
        let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        let last = *self.last_run_at.lock().unwrap_or_else(|e| e.into_inner());
        let said = frames.is_empty()
            && events.is_empty()
            && removed_frames.is_empty()
            && tokens.closed.is_empty()
            && tokens.consumed.is_empty()
            && last == Some(until);
        if said {
            return Ok(None);
        }
        Ok(Some(Transition {
            frames,
            removed_frames,
            events,
            closed_tokens: tokens.closed.clone(),
            consumed_signals: tokens.consumed.clone(),
            run_at: until,
            ..Transition::default()
        }))
    }
}

impl<S: ExecutionStore> CheckpointSink for Committer<'_, S> {
    fn transition<'a>(
        &'a self,
        checkpoint: Checkpoint,
        events: Vec<HistoryEvent>,
    ) -> BoxFuture<'a, Verdict> {
        self.enqueue(checkpoint, events)
    }

    fn record(&self, checkpoint: Checkpoint) {
        self.lines().record(checkpoint);
    }

    fn remove_lines(&self, prefix: &str) {
        self.lines().remove(prefix);
    }

    fn idle(&self, events: &dyn Fn() -> Vec<HistoryEvent>) -> bool {
        if self.queued.load(Ordering::SeqCst) > 0 {
            return false;
        }
        let parked = self.lines().parked();
        match parked {
            Some((until, callback)) => {
                // what happened since the last commit goes with the parking
                *self.parked_events.lock().unwrap_or_else(|e| e.into_inner()) = events();
                self.halt(Halt::Parked(until, callback));
                true
            }
            None => false,
        }
    }

    fn task_messages(&self, token: &str) -> Vec<(SystemTime, CallbackMessage)> {
        self.signals
            .iter()
            .filter(|s| s.token == token)
            .map(|s| (s.received, callback_message(&s.message)))
            .collect()
    }

    fn close_token(&self, token: &str) {
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if !tokens.closed.iter().any(|t| t == token) {
            tokens.closed.push(token.to_owned());
        }
    }
}

/// A stored task message as the engine takes it. A success whose output
/// is not JSON text (the store takes what it is given) fails the task, as
/// SendTaskSuccess refuses such an output.
fn callback_message(message: &TaskMessage) -> CallbackMessage {
    match message {
        TaskMessage::Success { output } => {
            match crate::json::from_text(output, crate::json::MAX_TEXT_DEPTH) {
                Ok(value) => CallbackMessage::Success(value),
                Err(_) => CallbackMessage::failure(
                    Some("States.Runtime"),
                    Some("the task's output is not JSON text"),
                ),
            }
        }
        TaskMessage::Failure { error, cause } => {
            CallbackMessage::failure(error.as_deref(), cause.as_deref())
        }
        TaskMessage::Heartbeat => CallbackMessage::Heartbeat,
    }
}
