//! The [`ExecutionStore`] trait and the plain data it carries.

use crate::engine::{HistoryEvent, Status};
use crate::executor::CallbackError;
use crate::timestamp::format_rfc3339_millis;
use async_trait::async_trait;
use serde_json::{Map, Value};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// How long after it stopped an execution can be redriven: 14 days, as on
/// AWS.
pub const REDRIVABLE_PERIOD: Duration = Duration::from_secs(14 * 24 * 60 * 60);

/// The longest a Standard execution may run, from its start to a redrive:
/// one year (365 days), as on AWS.
pub const MAX_EXECUTION_TIME: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// AWS's limit on the events of one execution's history (25,000); an
/// execution whose history reached it cannot be redriven.
pub const MAX_HISTORY_EVENTS: u64 = 25_000;

/// The page size of [`ExecutionStore::list`] and [`ExecutionStore::history`]
/// when the query asks for 0 results (AWS's default, 100).
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// The largest page [`ExecutionStore::list`] and [`ExecutionStore::history`]
/// return (AWS's maximum `maxResults`, 1000); larger requests are cut to it.
pub const MAX_PAGE_SIZE: usize = 1000;

/// Where durable executions live: [`MemoryStore`](super::MemoryStore)
/// (tests, embedders without a database), `SqliteStore` (feature `sqlite`:
/// one file, one host) and later PostgreSQL (many processes, many hosts).
///
/// A seam in the style of [`TaskExecutor`](crate::TaskExecutor) and
/// [`Clock`](crate::Clock): async, `&self`, object safe, no runtime named.
/// Plain data goes in and out; the engine owns the semantics of the
/// snapshots it writes ([`Frame::data`] is opaque to a store), the store
/// owns atomicity, claiming and fencing.
///
/// Time is always passed in (`now`), so that a test can drive leases and
/// due times without sleeping; a store with a clock of its own (a database
/// server) may compare leases on that clock instead, and says so.
///
/// Every write of a claimant ([`load`](Self::load), [`commit`](Self::commit),
/// [`renew`](Self::renew), [`release`](Self::release)) is fenced: it is
/// refused with [`StoreError::LeaseLost`] unless the claim's fencing token
/// is still the execution's latest and the execution is running, so a
/// worker that lost its lease (paused, partitioned, presumed dead) can
/// never overwrite the work of the one that claimed after it.
///
/// # Implementing a store
///
/// An execution is *due* when it is running and its run time
/// ([`NewExecution::run_at`], then each [`Transition::run_at`]) has come,
/// or a task message or a stop request waits for it (the time it arrived
/// counts as a due time until a transition consumes it); it is
/// *claimable* when due and its lease is free or ended. Each claim adds
/// one to the execution's fencing token; a redrive does too, revoking any
/// lease. A task token moves from open to answered (its one success or
/// failure was stored) to closed (a transition or the end of its
/// execution closed it). The SQLite store keeps the due time of messages
/// in a column beside the run time, so that claiming reads one row per
/// execution; a PostgreSQL store can claim with the same condition under
/// `FOR UPDATE SKIP LOCKED`. The repository's `tests/durable/store.rs` is
/// the suite every store passes: add a new store to its `suite!` list.
#[async_trait]
pub trait ExecutionStore: Send + Sync {
    /// StartExecution: the execution row, its first frames and events
    /// (`ExecutionStarted`), in one transaction. Idempotent by execution
    /// ARN, as AWS is by name: a running execution with the same ARN and
    /// the same input (as text) answers with itself (`created: false`); a
    /// different input, or an execution of that name that has ended, is
    /// [`StoreError::ExecutionAlreadyExists`].
    async fn create(&self, start: NewExecution) -> Result<Started, StoreError>;

    /// Up to `max` running executions due at `now` (their
    /// [`Transition::run_at`] has come, or a signal or a stop request
    /// waits) whose lease is free or expired (`lease_until <= now`), the
    /// earliest due first; each is leased to `worker` until `now + lease`
    /// under a fencing token greater than any before it.
    async fn claim(
        &self,
        worker: &str,
        now: SystemTime,
        lease: Duration,
        max: usize,
    ) -> Result<Vec<Claim>, StoreError>;

    /// What a claimant resumes from: the execution's record, every frame,
    /// the signals not yet consumed, a pending stop request.
    async fn load(&self, claim: &Claim) -> Result<Snapshot, StoreError>;

    /// One transition, atomically: frame writes and removals, history
    /// events, task tokens opened and closed, signals consumed, the next
    /// due time and, at the end, the outcome. All or nothing: a stale
    /// fencing token ([`StoreError::LeaseLost`]) or an event id already
    /// stored ([`StoreError::Conflict`]) leaves the store as it was.
    async fn commit(&self, claim: &Claim, transition: Transition) -> Result<(), StoreError>;

    /// [`commit`](Self::commit), answering with a StopExecution waiting
    /// for the execution (read in the same transaction, after the
    /// transition is written; `None` for a transition that ends it), so
    /// that a worker honours a stop at its next transition without another
    /// round trip. The default commits and answers `None` (the stop is
    /// then seen at the next [`renew`](Self::renew) or claim); every store
    /// of stepfn answers.
    async fn commit_and_check(
        &self,
        claim: &Claim,
        transition: Transition,
    ) -> Result<Option<StopRequest>, StoreError> {
        self.commit(claim, transition).await?;
        Ok(None)
    }

    /// Extends the lease to `until`; tells the claimant of a stop request
    /// and of signals that arrived meanwhile.
    async fn renew(&self, claim: &Claim, until: SystemTime) -> Result<Renewal, StoreError>;

    /// Drops the lease: the execution is parked until its due time or a
    /// signal, and any worker may claim it then.
    async fn release(&self, claim: &Claim) -> Result<(), StoreError>;

    /// From any process: SendTaskSuccess, SendTaskFailure,
    /// SendTaskHeartbeat or StopExecution. The message is stored and the
    /// execution becomes due at `now`.
    ///
    /// A task token the store never saw opened is
    /// [`CallbackError::InvalidToken`]; one whose task already has its
    /// answer (a token takes one success or failure), was closed or whose
    /// execution ended is [`CallbackError::TaskTimedOut`]. Stopping an
    /// execution that has ended does nothing, as AWS; one that does not
    /// exist is [`StoreError::ExecutionDoesNotExist`].
    async fn signal(&self, signal: Signal, now: SystemTime) -> Result<(), StoreError>;

    /// RedriveExecution: when AWS's rules allow it
    /// ([`ExecutionRecord::redrive_refusal`], else
    /// [`StoreError::ExecutionNotRedrivable`] with AWS's reason), the
    /// execution runs again: status RUNNING, its outcome cleared, the
    /// redrive count up by one, the redrive date `now`, an
    /// `ExecutionRedriven` event appended, due at `now`, any lease
    /// revoked. The frames are left as they are: re-arming the failed
    /// ones is the engine's work when it loads the snapshot and sees the
    /// new [`ExecutionRecord::redrive_count`].
    async fn redrive(&self, execution_arn: &str, now: SystemTime) -> Result<Redriven, StoreError>;

    /// DescribeExecution.
    async fn describe(&self, execution_arn: &str) -> Result<ExecutionRecord, StoreError>;

    /// ListExecutions: newest first (start date, then creation order), at
    /// most [`ListFilter::max_results`] a page; `next_token` is the
    /// previous page's [`Page::next_token`].
    async fn list(
        &self,
        filter: &ListFilter,
        next_token: Option<&str>,
    ) -> Result<Page<ExecutionSummary>, StoreError>;

    /// GetExecutionHistory: by event id, ascending or (with
    /// [`HistoryQuery::reverse_order`]) descending, paged as
    /// [`list`](Self::list).
    async fn history(
        &self,
        execution_arn: &str,
        query: &HistoryQuery,
        next_token: Option<&str>,
    ) -> Result<Page<StoredEvent>, StoreError>;

    /// When the next claimable work is due: the earliest due time of a
    /// running execution, or the end of its lease if that is later. `None`
    /// when nothing waits but callbacks.
    async fn next_due(&self) -> Result<Option<SystemTime>, StoreError>;
}

#[allow(dead_code)]
fn _object_safe(_: &dyn ExecutionStore) {}

macro_rules! forward {
    ($($ty:ty),*) => {$(
        #[async_trait]
        impl<S: ExecutionStore + ?Sized> ExecutionStore for $ty {
            async fn create(&self, start: NewExecution) -> Result<Started, StoreError> {
                (**self).create(start).await
            }
            async fn claim(
                &self,
                worker: &str,
                now: SystemTime,
                lease: Duration,
                max: usize,
            ) -> Result<Vec<Claim>, StoreError> {
                (**self).claim(worker, now, lease, max).await
            }
            async fn load(&self, claim: &Claim) -> Result<Snapshot, StoreError> {
                (**self).load(claim).await
            }
            async fn commit(&self, claim: &Claim, transition: Transition) -> Result<(), StoreError> {
                (**self).commit(claim, transition).await
            }
            async fn commit_and_check(
                &self,
                claim: &Claim,
                transition: Transition,
            ) -> Result<Option<StopRequest>, StoreError> {
                (**self).commit_and_check(claim, transition).await
            }
            async fn renew(&self, claim: &Claim, until: SystemTime) -> Result<Renewal, StoreError> {
                (**self).renew(claim, until).await
            }
            async fn release(&self, claim: &Claim) -> Result<(), StoreError> {
                (**self).release(claim).await
            }
            async fn signal(&self, signal: Signal, now: SystemTime) -> Result<(), StoreError> {
                (**self).signal(signal, now).await
            }
            async fn redrive(&self, execution_arn: &str, now: SystemTime) -> Result<Redriven, StoreError> {
                (**self).redrive(execution_arn, now).await
            }
            async fn describe(&self, execution_arn: &str) -> Result<ExecutionRecord, StoreError> {
                (**self).describe(execution_arn).await
            }
            async fn list(
                &self,
                filter: &ListFilter,
                next_token: Option<&str>,
            ) -> Result<Page<ExecutionSummary>, StoreError> {
                (**self).list(filter, next_token).await
            }
            async fn history(
                &self,
                execution_arn: &str,
                query: &HistoryQuery,
                next_token: Option<&str>,
            ) -> Result<Page<StoredEvent>, StoreError> {
                (**self).history(execution_arn, query, next_token).await
            }
            async fn next_due(&self) -> Result<Option<SystemTime>, StoreError> {
                (**self).next_due().await
            }
        }
    )*};
}

forward!(Arc<S>, &S, Box<S>);

// ---------------------------------------------------------------------------
// Errors

/// Why a store refused a request. [`name`](Self::name) gives AWS's error
/// code where AWS's API has one; the `Display` text is AWS's message where
/// it is known.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No execution has this ARN. AWS: `ExecutionDoesNotExist`.
    #[error("Execution Does Not Exist: '{0}'")]
    ExecutionDoesNotExist(String),
    /// An execution of this ARN exists with another input, or has ended.
    /// AWS: `ExecutionAlreadyExists`.
    #[error("Execution Already Exists: '{0}'")]
    ExecutionAlreadyExists(String),
    /// RedriveExecution refused; the text is AWS's `redriveStatusReason`
    /// (e.g. `Execution is SUCCEEDED and cannot be redriven`). AWS:
    /// `ExecutionNotRedrivable`.
    #[error("{0}")]
    ExecutionNotRedrivable(String),
    /// A callback refused, as the in-memory engine refuses it:
    /// `InvalidToken` or `TaskTimedOut`.
    #[error(transparent)]
    Callback(#[from] CallbackError),
    /// A paging token this store did not hand out. AWS: `InvalidToken`.
    #[error("Invalid Token: '{0}'")]
    InvalidToken(String),
    /// The claim no longer holds: another worker claimed the execution
    /// since (a newer fencing token), or it is no longer running. The
    /// claimant drops its work on that execution. stepfn's own.
    #[error("the lease on '{0}' is lost: another worker claimed it, or it is no longer running")]
    LeaseLost(String),
    /// A write that would break the store's invariants, refused whole: a
    /// history event id already stored, a task token opened by another
    /// execution. stepfn's own.
    #[error("{0}")]
    Conflict(String),
    /// The database failed (I/O, a corrupt row, a schema newer than this
    /// stepfn). stepfn's own.
    #[error("{0}")]
    Backend(String),
}

impl StoreError {
    /// AWS's error code (`ExecutionDoesNotExist`, `ExecutionAlreadyExists`,
    /// `ExecutionNotRedrivable`, `InvalidToken`, `TaskTimedOut`), or
    /// stepfn's for what AWS has no name for (`LeaseLost`,
    /// `StoreConflict`, `StoreFailure`).
    pub fn name(&self) -> &'static str {
        match self {
            StoreError::ExecutionDoesNotExist(_) => "ExecutionDoesNotExist",
            StoreError::ExecutionAlreadyExists(_) => "ExecutionAlreadyExists",
            StoreError::ExecutionNotRedrivable(_) => "ExecutionNotRedrivable",
            StoreError::Callback(e) => e.name(),
            StoreError::InvalidToken(_) => "InvalidToken",
            StoreError::LeaseLost(_) => "LeaseLost",
            StoreError::Conflict(_) => "StoreConflict",
            StoreError::Backend(_) => "StoreFailure",
        }
    }
}

// ---------------------------------------------------------------------------
// Executions

/// The status of a stored execution, as DescribeExecution spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExecutionStatus {
    /// `RUNNING` (also while parked on a Wait or a callback).
    Running,
    /// `SUCCEEDED`.
    Succeeded,
    /// `FAILED`.
    Failed,
    /// `TIMED_OUT`.
    TimedOut,
    /// `ABORTED`.
    Aborted,
}

impl ExecutionStatus {
    /// `"RUNNING"`, `"SUCCEEDED"`, `"FAILED"`, `"TIMED_OUT"` or `"ABORTED"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Running => "RUNNING",
            ExecutionStatus::Succeeded => "SUCCEEDED",
            ExecutionStatus::Failed => "FAILED",
            ExecutionStatus::TimedOut => "TIMED_OUT",
            ExecutionStatus::Aborted => "ABORTED",
        }
    }

    /// The status [`as_str`](Self::as_str) spells `name`.
    pub fn from_name(name: &str) -> Option<ExecutionStatus> {
        Some(match name {
            "RUNNING" => ExecutionStatus::Running,
            "SUCCEEDED" => ExecutionStatus::Succeeded,
            "FAILED" => ExecutionStatus::Failed,
            "TIMED_OUT" => ExecutionStatus::TimedOut,
            "ABORTED" => ExecutionStatus::Aborted,
            _ => return None,
        })
    }
}

impl From<Status> for ExecutionStatus {
    fn from(status: Status) -> Self {
        match status {
            Status::Succeeded => ExecutionStatus::Succeeded,
            Status::Failed => ExecutionStatus::Failed,
            Status::TimedOut => ExecutionStatus::TimedOut,
            Status::Aborted => ExecutionStatus::Aborted,
        }
    }
}

impl fmt::Display for ExecutionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A new execution for [`ExecutionStore::create`].
#[derive(Clone, Debug, PartialEq)]
pub struct NewExecution {
    /// Its ARN, unique in the store (`arn:aws:states:…:execution:MACHINE:NAME`).
    pub execution_arn: String,
    /// The ARN of its state machine.
    pub state_machine_arn: String,
    /// Its name.
    pub name: String,
    /// The definition it runs (text), pinned for resumes and redrives.
    pub definition: String,
    /// Its input, as JSON text (key order kept).
    pub input: String,
    /// When it started.
    pub start_date: SystemTime,
    /// Its first frames (often none: the engine starts from the definition).
    pub frames: Vec<Frame>,
    /// Its first history events (`ExecutionStarted`).
    pub events: Vec<StoredEvent>,
    /// When a worker should pick it up (usually `start_date`); `None`:
    /// only a signal makes it due.
    pub run_at: Option<SystemTime>,
}

/// What [`ExecutionStore::create`] answers: StartExecution's response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Started {
    /// The execution's ARN.
    pub execution_arn: String,
    /// When it started (the existing execution's date when not created).
    pub start_date: SystemTime,
    /// `false` when an identical running execution answered.
    pub created: bool,
}

/// A stored execution, as DescribeExecution shows it, with the definition
/// it runs.
#[derive(Clone, Debug, PartialEq)]
pub struct ExecutionRecord {
    /// `executionArn`.
    pub execution_arn: String,
    /// `stateMachineArn`.
    pub state_machine_arn: String,
    /// `name`.
    pub name: String,
    /// The definition it runs (text).
    pub definition: String,
    /// `input` (JSON text).
    pub input: String,
    /// `status`.
    pub status: ExecutionStatus,
    /// `output` (JSON text) once it succeeded.
    pub output: Option<String>,
    /// `error` once it failed, timed out or was aborted.
    pub error: Option<String>,
    /// `cause`, with `error`.
    pub cause: Option<String>,
    /// `startDate`.
    pub start_date: SystemTime,
    /// `stopDate` once it ended.
    pub stop_date: Option<SystemTime>,
    /// `redriveCount`.
    pub redrive_count: u32,
    /// `redriveDate`, after a redrive.
    pub redrive_date: Option<SystemTime>,
    /// The highest history event id stored (0 for none).
    pub last_event_id: u64,
}

impl ExecutionRecord {
    /// Why RedriveExecution would refuse this execution at `now`, in AWS's
    /// words (`redriveStatusReason`); `None` when it is redrivable. The
    /// rules: not RUNNING or SUCCEEDED; a history under
    /// [`MAX_HISTORY_EVENTS`]; started less than [`MAX_EXECUTION_TIME`]
    /// ago; stopped less than [`REDRIVABLE_PERIOD`] ago.
    pub fn redrive_refusal(&self, now: SystemTime) -> Option<&'static str> {
        let older_than =
            |then: SystemTime, span: Duration| now.duration_since(then).is_ok_and(|age| age > span);
        match self.status {
            ExecutionStatus::Running => Some("Execution is RUNNING and cannot be redriven"),
            ExecutionStatus::Succeeded => Some("Execution is SUCCEEDED and cannot be redriven"),
            _ if self.last_event_id >= MAX_HISTORY_EVENTS => {
                Some("Execution history event limit exceeded")
            }
            _ if older_than(self.start_date, MAX_EXECUTION_TIME) => {
                Some("Execution has exceeded the max execution time")
            }
            _ if self
                .stop_date
                .is_some_and(|stop| older_than(stop, REDRIVABLE_PERIOD)) =>
            {
                Some("Execution redrivable period exceeded")
            }
            _ => None,
        }
    }

    /// The summary [`ExecutionStore::list`] gives of this execution.
    pub fn summary(&self) -> ExecutionSummary {
        ExecutionSummary {
            execution_arn: self.execution_arn.clone(),
            state_machine_arn: self.state_machine_arn.clone(),
            name: self.name.clone(),
            status: self.status,
            start_date: self.start_date,
            stop_date: self.stop_date,
            redrive_count: self.redrive_count,
            redrive_date: self.redrive_date,
        }
    }
}

/// One execution of a [`ExecutionStore::list`] page, as ListExecutions
/// shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecutionSummary {
    /// `executionArn`.
    pub execution_arn: String,
    /// `stateMachineArn`.
    pub state_machine_arn: String,
    /// `name`.
    pub name: String,
    /// `status`.
    pub status: ExecutionStatus,
    /// `startDate`.
    pub start_date: SystemTime,
    /// `stopDate` once it ended.
    pub stop_date: Option<SystemTime>,
    /// `redriveCount`.
    pub redrive_count: u32,
    /// `redriveDate`, after a redrive.
    pub redrive_date: Option<SystemTime>,
}

// ---------------------------------------------------------------------------
// Claims, snapshots, transitions

/// An execution leased to one worker by [`ExecutionStore::claim`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    /// The execution.
    pub execution_arn: String,
    /// The fencing token: greater than that of every earlier claim of this
    /// execution. Every write of the claimant carries it.
    pub fencing_token: u64,
    /// The worker it is leased to.
    pub worker: String,
    /// When the lease ends unless renewed.
    pub lease_until: SystemTime,
}

/// The checkpoint of one line of states (the root, a Parallel branch, a
/// Map iteration), keyed by its path. The engine decides what `data`
/// holds (current state, effective input, variables, retry counters,
/// deadlines, the task attempt in flight); a store keeps it as JSON text.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    /// Where the line of states sits, e.g. `""` for the root,
    /// `Fanout#1/Process[17]` below it; unique in its execution.
    pub path: String,
    /// The snapshot.
    pub data: Value,
}

/// What a claimant resumes from ([`ExecutionStore::load`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// The execution.
    pub record: ExecutionRecord,
    /// Every frame, by path.
    pub frames: Vec<Frame>,
    /// The signals not yet consumed, oldest first.
    pub signals: Vec<PendingSignal>,
    /// A StopExecution waiting to be honoured.
    pub stop: Option<StopRequest>,
}

/// One transition for [`ExecutionStore::commit`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Transition {
    /// Frames written (inserted, or replacing the frame of the same path).
    pub frames: Vec<Frame>,
    /// Paths of frames removed.
    pub removed_frames: Vec<String>,
    /// The history events of the transition (ids not yet stored).
    pub events: Vec<StoredEvent>,
    /// Task tokens handed out in this transition: from now on any process
    /// may answer them through [`ExecutionStore::signal`]. Opening a token
    /// again is a no-op.
    pub opened_tokens: Vec<String>,
    /// Task tokens whose task ended (answered, timed out, aborted): later
    /// answers are refused with `TaskTimedOut`.
    pub closed_tokens: Vec<String>,
    /// [`PendingSignal::id`]s consumed by this transition.
    pub consumed_signals: Vec<u64>,
    /// When the execution needs a worker if its owner goes away: now while
    /// it is being worked on, the end of a Wait, back-off or timeout while
    /// parked, `None` while only a callback can move it.
    pub run_at: Option<SystemTime>,
    /// How the execution ended, in its last transition.
    pub end: Option<Ending>,
}

/// The outcome of an execution, in its last [`Transition`]. Every open
/// task token is closed and every unconsumed signal dropped with it.
#[derive(Clone, Debug, PartialEq)]
pub struct Ending {
    /// How it ended.
    pub status: Status,
    /// Its output (JSON text) when it succeeded.
    pub output: Option<String>,
    /// The error when it failed, timed out or was aborted.
    pub error: Option<String>,
    /// The cause, with the error.
    pub cause: Option<String>,
    /// When it ended.
    pub stop_date: SystemTime,
}

/// What [`ExecutionStore::renew`] tells the claimant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Renewal {
    /// The new end of the lease.
    pub lease_until: SystemTime,
    /// A StopExecution waiting to be honoured.
    pub stop: Option<StopRequest>,
    /// How many signals wait to be consumed.
    pub signals: usize,
}

/// What [`ExecutionStore::redrive`] answers: RedriveExecution's response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Redriven {
    /// The execution's redrive count, this redrive included.
    pub redrive_count: u32,
    /// `redriveDate`.
    pub redrive_date: SystemTime,
}

// ---------------------------------------------------------------------------
// Signals

/// A message for an execution from any process.
#[derive(Clone, Debug, PartialEq)]
pub enum Signal {
    /// SendTaskSuccess, SendTaskFailure or SendTaskHeartbeat for a task
    /// token.
    Task {
        /// The token.
        token: String,
        /// The answer.
        message: TaskMessage,
    },
    /// StopExecution.
    Stop {
        /// The execution.
        execution_arn: String,
        /// The error it ends with.
        error: Option<String>,
        /// The cause it ends with.
        cause: Option<String>,
    },
}

/// What a process says about a task token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskMessage {
    /// SendTaskSuccess.
    Success {
        /// The task's output, JSON text.
        output: String,
    },
    /// SendTaskFailure.
    Failure {
        /// The error (AWS names it `""` when none is given).
        error: Option<String>,
        /// The cause.
        cause: Option<String>,
    },
    /// SendTaskHeartbeat.
    Heartbeat,
}

/// A task message stored for its execution, not yet consumed by a
/// [`Transition`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingSignal {
    /// Its id, for [`Transition::consumed_signals`]; increasing in the
    /// order the store received them.
    pub id: u64,
    /// The task token it answers.
    pub token: String,
    /// The message.
    pub message: TaskMessage,
    /// When the store received it.
    pub received: SystemTime,
}

/// A StopExecution waiting for the execution's worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StopRequest {
    /// The error to end with.
    pub error: Option<String>,
    /// The cause to end with.
    pub cause: Option<String>,
    /// When it was requested (the first request, if several came).
    pub requested: SystemTime,
}

// ---------------------------------------------------------------------------
// Queries

/// What [`ExecutionStore::list`] lists: ListExecutions' filters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// Only the executions of this state machine.
    pub state_machine_arn: Option<String>,
    /// Only executions with this status (`statusFilter`).
    pub status: Option<ExecutionStatus>,
    /// Only redriven executions (`Some(true)`, `REDRIVEN`) or only those
    /// never redriven (`Some(false)`, `NOT_REDRIVEN`): `redriveFilter`.
    pub redriven: Option<bool>,
    /// `maxResults`: 0 means [`DEFAULT_PAGE_SIZE`], at most
    /// [`MAX_PAGE_SIZE`].
    pub max_results: usize,
}

/// What [`ExecutionStore::history`] returns: GetExecutionHistory's
/// options.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HistoryQuery {
    /// Newest event first.
    pub reverse_order: bool,
    /// `maxResults`: 0 means [`DEFAULT_PAGE_SIZE`], at most
    /// [`MAX_PAGE_SIZE`].
    pub max_results: usize,
}

/// One page of a listing.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The token of the next page; `None` on the last.
    pub next_token: Option<String>,
}

/// When a lease taken at `now` for `lease` ends (a store's `claim`).
pub(crate) fn lease_end(now: SystemTime, lease: Duration) -> Result<SystemTime, StoreError> {
    now.checked_add(lease)
        .ok_or_else(|| StoreError::Backend("the lease ends past the end of time".into()))
}

/// The page size a query's `max_results` asks for.
pub(crate) fn page_size(max_results: usize) -> usize {
    match max_results {
        0 => DEFAULT_PAGE_SIZE,
        n => n.min(MAX_PAGE_SIZE),
    }
}

/// A history paging token: the id of the last event of the page before.
pub(crate) fn history_token(id: u64) -> String {
    format!("e{id}")
}

/// The event id a history paging token carries.
pub(crate) fn parse_history_token(token: &str) -> Result<u64, StoreError> {
    token
        .strip_prefix('e')
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| StoreError::InvalidToken(token.to_owned()))
}

/// A list paging token: the sort key (start date in Unix nanoseconds,
/// creation sequence) of the last execution of the page before.
pub(crate) fn list_token(start_nanos: i128, seq: u64) -> String {
    format!("x{start_nanos}.{seq}")
}

/// The sort key a list paging token carries.
pub(crate) fn parse_list_token(token: &str) -> Result<(i128, u64), StoreError> {
    token
        .strip_prefix('x')
        .and_then(|rest| rest.split_once('.'))
        .and_then(|(start, seq)| Some((start.parse().ok()?, seq.parse().ok()?)))
        .ok_or_else(|| StoreError::InvalidToken(token.to_owned()))
}

// ---------------------------------------------------------------------------
// Events

/// A history event as a store keeps it: the fields of
/// [`HistoryEvent`] with owned names, so that it can be read back from a
/// database (the engine's event names are `&'static str`).
#[derive(Clone, Debug, PartialEq)]
pub struct StoredEvent {
    /// 1-based, unique in its execution.
    pub id: u64,
    /// The event this one follows from (0 for none).
    pub previous_event_id: u64,
    /// When it happened.
    pub timestamp: SystemTime,
    /// The event type, e.g. `PassStateEntered`.
    pub event_type: String,
    /// The name of the details member, e.g. `stateEnteredEventDetails`.
    pub details_key: Option<String>,
    /// The details object.
    pub details: Map<String, Value>,
}

impl StoredEvent {
    /// The event as AWS's API returns it, exactly as
    /// [`HistoryEvent::to_json`] renders the event it was made from.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert(
            "timestamp".into(),
            Value::String(format_rfc3339_millis(self.timestamp)),
        );
        map.insert("type".into(), Value::from(self.event_type.as_str()));
        map.insert("id".into(), Value::from(self.id));
        map.insert(
            "previousEventId".into(),
            Value::from(self.previous_event_id),
        );
        if let Some(key) = &self.details_key {
            map.insert(key.clone(), Value::Object(self.details.clone()));
        }
        Value::Object(map)
    }
}

impl From<&HistoryEvent> for StoredEvent {
    fn from(event: &HistoryEvent) -> Self {
        StoredEvent {
            id: event.id,
            previous_event_id: event.previous_event_id,
            timestamp: event.timestamp,
            event_type: event.event_type.to_owned(),
            details_key: event.details_key.map(str::to_owned),
            details: event.details.clone(),
        }
    }
}

impl From<HistoryEvent> for StoredEvent {
    fn from(event: HistoryEvent) -> Self {
        StoredEvent {
            id: event.id,
            previous_event_id: event.previous_event_id,
            timestamp: event.timestamp,
            event_type: event.event_type.to_owned(),
            details_key: event.details_key.map(str::to_owned),
            details: event.details,
        }
    }
}

impl PartialEq<HistoryEvent> for StoredEvent {
    fn eq(&self, other: &HistoryEvent) -> bool {
        self.id == other.id
            && self.previous_event_id == other.previous_event_id
            && self.timestamp == other.timestamp
            && self.event_type == other.event_type
            && self.details_key.as_deref() == other.details_key
            && self.details == other.details
    }
}

impl serde::Serialize for StoredEvent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

/// The `ExecutionRedriven` event a redrive appends.
pub(crate) fn redriven_event(
    last_event_id: u64,
    redrive_count: u32,
    now: SystemTime,
) -> StoredEvent {
    let mut details = Map::new();
    details.insert("redriveCount".into(), Value::from(redrive_count));
    StoredEvent {
        id: last_event_id + 1,
        previous_event_id: last_event_id,
        timestamp: now,
        event_type: "ExecutionRedriven".into(),
        details_key: Some("executionRedrivenEventDetails".into()),
        details,
    }
}
