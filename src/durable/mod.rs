//! Durable executions: the store seam and the driver.
//!
//! A durable execution keeps a checkpoint per transition in an
//! [`ExecutionStore`], so that it survives the death of its process and
//! resumes on any process that shares the store; a long Wait holds nothing
//! in memory, and StopExecution, SendTaskSuccess/Failure/Heartbeat and
//! RedriveExecution work from any process. This module holds the seam and
//! its stores:
//!
//! * [`ExecutionStore`]: create (idempotent by name), claim with a lease
//!   and a fencing token, load, commit (one transition, atomically, fenced),
//!   renew, release, signal, redrive, describe, list, history, next due
//!   time; the plain data it carries ([`Transition`], [`Snapshot`],
//!   [`ExecutionRecord`], [`StoredEvent`], …) and [`StoreError`], with
//!   AWS's error names.
//! * [`Durable`]: the driver. [`Durable::start`] is StartExecution;
//!   [`Durable::run_due`] and [`Durable::run_until_idle`] are a worker:
//!   claim what is due, resume it from its last checkpoint, commit every
//!   transition, park it in a Wait, a retry's back-off or a callback
//!   awaited, end it (or, when what is stored can never go on, shelve it:
//!   [`WorkResult::Stuck`]); a redriven execution starts again at the
//!   state it stopped in. See the
//!   crate docs' "Durable executions" for what runs durably so far.
//! * [`MemoryStore`]: in memory, for tests and for embedders without a
//!   database.
//! * `SqliteStore` (feature `sqlite`): one SQLite file (bundled SQLite, no
//!   system library), for one host.
//! * `PostgresStore` (feature `postgres`): a PostgreSQL database shared by
//!   many processes on many hosts; work claimed with `FOR UPDATE SKIP
//!   LOCKED`, its connection driven on a thread of its own (no runtime
//!   imposed).
//!
//! The store knows nothing of ASL: a [`Frame`]'s data is the engine's
//! snapshot of one line of states, opaque to the store. Time is passed in
//! (`now`), never read from the system clock, so tests drive leases and due
//! times without sleeping.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use stepfn::durable::{ExecutionStore, MemoryStore, NewExecution, Transition};
//!
//! # futures::executor::block_on(async {
//! let store = MemoryStore::new();
//! let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
//! let arn = "arn:aws:states:us-east-1:123456789012:execution:M:first";
//! store.create(NewExecution {
//!     execution_arn: arn.into(),
//!     state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:M".into(),
//!     name: "first".into(),
//!     definition: r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#.into(),
//!     input: "{}".into(),
//!     start_date: now,
//!     frames: vec![],
//!     events: vec![],
//!     run_at: Some(now),
//! }).await?;
//!
//! // a worker claims it for 30 seconds: nobody else can until then
//! let claims = store.claim("worker-1", now, Duration::from_secs(30), 10).await?;
//! assert_eq!(claims.len(), 1);
//! assert!(store.claim("worker-2", now, Duration::from_secs(30), 10).await?.is_empty());
//!
//! // its commits are fenced by the claim's token
//! store.commit(&claims[0], Transition { run_at: Some(now), ..Transition::default() }).await?;
//! # Ok::<(), stepfn::durable::StoreError>(())
//! # }).unwrap();
//! ```

#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod columns;
mod driver;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;
mod store;

pub use driver::{
    Durable, StartError, StartExecution, WorkResult, Worked, DEFAULT_BATCH, DEFAULT_LEASE,
};
pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::PostgresStore;
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteStore, SCHEMA_VERSION};
pub use store::{
    Claim, Ending, ExecutionRecord, ExecutionStatus, ExecutionStore, ExecutionSummary, Frame,
    HistoryQuery, ListFilter, NewExecution, Page, PendingSignal, Redriven, Renewal, Signal,
    Snapshot, Started, StopRequest, StoreError, StoredEvent, TaskMessage, Transition,
    DEFAULT_PAGE_SIZE, MAX_EXECUTION_TIME, MAX_HISTORY_EVENTS, MAX_PAGE_SIZE, REDRIVABLE_PERIOD,
};
