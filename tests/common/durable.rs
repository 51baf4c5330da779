//! Helpers for the durable-store tests: instants, ARNs, new executions,
//! events.

use async_trait::async_trait;
use serde_json::{json, Map, Value};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};
use stepfn::durable::{
    Claim, ExecutionRecord, ExecutionStore, ExecutionSummary, HistoryQuery, ListFilter,
    NewExecution, Page, Redriven, Renewal, Signal, Snapshot, Started, StoreError, StoredEvent,
    Transition,
};

/// The state machine the tests' executions belong to.
pub const MACHINE: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:M";

/// A one-state definition.
pub const DEFINITION: &str = r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#;

/// `secs` seconds after a fixed instant (2023-11-14T22:13:20Z).
pub fn t(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
}

/// The ARN of execution `name` of [`MACHINE`].
pub fn arn(name: &str) -> String {
    format!("arn:aws:states:us-east-1:123456789012:execution:M:{name}")
}

/// An event of type `event_type` with one detail.
pub fn event(id: u64, previous: u64, event_type: &str) -> StoredEvent {
    let mut details = Map::new();
    details.insert("n".into(), json!(id));
    StoredEvent {
        id,
        previous_event_id: previous,
        timestamp: t(id),
        event_type: event_type.into(),
        details_key: Some("someEventDetails".into()),
        details,
    }
}

/// Execution `name` of [`MACHINE`] with `input`, started and due at
/// `t(start)`, with its `ExecutionStarted` event (id 1).
pub fn new_execution(name: &str, input: &str, start: u64) -> NewExecution {
    NewExecution {
        execution_arn: arn(name),
        state_machine_arn: MACHINE.into(),
        name: name.into(),
        definition: DEFINITION.into(),
        input: input.into(),
        start_date: t(start),
        frames: vec![],
        events: vec![event(1, 0, "ExecutionStarted")],
        run_at: Some(t(start)),
    }
}

/// A transition that writes only its events (and keeps the execution due
/// at `t(0)`).
pub fn events(events: Vec<StoredEvent>) -> Transition {
    Transition {
        events,
        run_at: Some(t(0)),
        ..Transition::default()
    }
}

/// The ids of events.
pub fn ids(events: &[StoredEvent]) -> Vec<u64> {
    events.iter().map(|e| e.id).collect()
}

/// Claims the one execution due at `t(at)` for `worker` with a 30-second
/// lease.
pub async fn claim_one(store: &dyn ExecutionStore, worker: &str, at: u64) -> Claim {
    let mut claims = store
        .claim(worker, t(at), Duration::from_secs(30), 10)
        .await
        .expect("claim");
    assert_eq!(claims.len(), 1, "one execution due at t({at})");
    claims.remove(0)
}

/// The JSON of a frame snapshot.
pub fn frame(path: &str, data: Value) -> stepfn::durable::Frame {
    stepfn::durable::Frame {
        path: path.into(),
        data,
    }
}

/// One behaviour of a durable test suite, over any store.
pub type Case = for<'a> fn(&'a dyn ExecutionStore) -> Pin<Box<dyn Future<Output = ()> + 'a>>;

/// A history as its lines of states: every event (without its ids) with
/// the events that follow it (linked to it by `previousEventId`), in no
/// particular order. Two histories whose lines went through the same
/// events, whatever order they interleaved in, give the same tree. A
/// line cancelled by its sibling's failure got as far as its timing let
/// it (AWS's as much as ours), and a sibling that raced the failure may
/// have ended first in one run and been cancelled in the other: the
/// iterations a `MapIterationAborted` names in `events` or in `other` (the
/// history compared with) are left out with their events, as are the
/// `...StateAborted` events. A Map Run's ARN is compared without its
/// random id. Compare with `assert_eq!(lines(&a, &b), lines(&b, &a))`.
pub fn lines(events: &[Value], other: &[Value]) -> Value {
    let mut next: std::collections::BTreeMap<u64, Vec<&Value>> = Default::default();
    for e in events {
        let prev = e["previousEventId"].as_u64().unwrap();
        next.entry(prev).or_default().push(e);
    }
    let aborted: Vec<Value> = (events.iter().chain(other))
        .filter(|e| e["type"] == "MapIterationAborted")
        .map(|e| e["mapIterationAbortedEventDetails"].clone())
        .collect();
    fn tree(
        id: u64,
        next: &std::collections::BTreeMap<u64, Vec<&Value>>,
        aborted: &[Value],
    ) -> Vec<Value> {
        let mut children: Vec<Value> = (next.get(&id).into_iter().flatten())
            .filter(|e| !e["type"].as_str().unwrap().ends_with("StateAborted"))
            .filter(|e| {
                let details = match e["type"].as_str() {
                    Some("MapIterationStarted") => &e["mapIterationStartedEventDetails"],
                    Some("MapIterationSucceeded") => &e["mapIterationSucceededEventDetails"],
                    Some("MapIterationAborted") => &e["mapIterationAbortedEventDetails"],
                    _ => return true,
                };
                !aborted.contains(details)
            })
            .map(|e| {
                let mut node = e.as_object().unwrap().clone();
                node.remove("id");
                node.remove("previousEventId");
                // a Map Run's ARN ends with a random id
                if let Some(Value::Object(d)) = node.get_mut("mapRunStartedEventDetails") {
                    if let Some(Value::String(arn)) = d.get_mut("mapRunArn") {
                        arn.truncate(arn.rfind(':').unwrap_or(arn.len()));
                    }
                }
                let id = e["id"].as_u64().unwrap();
                node.insert("next".into(), Value::Array(tree(id, next, aborted)));
                Value::Object(node)
            })
            .collect();
        children.sort_by_key(Value::to_string);
        children
    }
    Value::Array(tree(0, &next, &aborted))
}

/// Runs `case` on a fresh `MemoryStore`.
pub fn on_memory(case: Case) {
    futures::executor::block_on(case(&stepfn::durable::MemoryStore::new()));
}

/// Runs `case` on a `SqliteStore` in a temp file named after `name`.
#[cfg(feature = "sqlite")]
pub fn on_sqlite(name: &str, case: Case) {
    let dir = super::TempDir::new(&format!("suite-{name}"));
    futures::executor::block_on(async {
        let store = stepfn::durable::SqliteStore::open(dir.join("stepfn.db"))
            .await
            .expect("open");
        case(&store).await;
        store.close().await.expect("close");
    });
}

/// Runs `case` on a `PostgresStore` in a scratch schema named after
/// `name` (skipped without a database, failing under CI).
#[cfg(feature = "postgres")]
pub fn on_postgres(name: &str, case: Case) {
    let Some(scratch) = pg::Scratch::new(&format!("suite_{name}")) else {
        return;
    };
    futures::executor::block_on(async {
        let store =
            stepfn::durable::PostgresStore::connect_in_schema(&scratch.url, &scratch.schema)
                .await
                .expect("connect");
        case(&store).await;
        store.close().await.expect("close");
    });
}

/// Runs each named `async fn(&dyn ExecutionStore)` of the calling module
/// as a test on every store: `memory::NAME`, `sqlite::NAME` (feature
/// `sqlite`), `postgres::NAME` (feature `postgres`); `store_suite!` with
/// the prefix `every`.
#[allow(unused_macros)]
macro_rules! on_every_store {
    ($($name:ident),* $(,)?) => {
        $crate::common::durable::store_suite!("every"; $($name),*);
    };
}
#[allow(unused_imports)]
pub(crate) use on_every_store;

/// Fails the `fail_at`-th commit (1-based): the commit is lost, or (with
/// `lands`) it is stored but its answer is lost. Counts commits.
pub struct Failing<'s> {
    /// The store it passes every request to.
    pub store: &'s dyn ExecutionStore,
    /// The commit that fails (1-based).
    pub fail_at: usize,
    /// The failing commit is stored, and only its answer lost.
    pub lands: bool,
    /// The commits so far.
    pub commits: AtomicUsize,
}

#[async_trait]
impl ExecutionStore for Failing<'_> {
    async fn create(&self, start: NewExecution) -> Result<Started, StoreError> {
        self.store.create(start).await
    }
    async fn claim(
        &self,
        worker: &str,
        now: SystemTime,
        lease: Duration,
        max: usize,
    ) -> Result<Vec<Claim>, StoreError> {
        self.store.claim(worker, now, lease, max).await
    }
    async fn load(&self, claim: &Claim) -> Result<Snapshot, StoreError> {
        self.store.load(claim).await
    }
    async fn commit(&self, claim: &Claim, transition: Transition) -> Result<(), StoreError> {
        let n = self.commits.fetch_add(1, Ordering::SeqCst) + 1;
        if n != self.fail_at {
            return self.store.commit(claim, transition).await;
        }
        if self.lands {
            self.store.commit(claim, transition).await?;
        }
        Err(StoreError::Backend("the connection broke".into()))
    }
    async fn commit_and_check(
        &self,
        claim: &Claim,
        transition: Transition,
    ) -> Result<Option<stepfn::durable::StopRequest>, StoreError> {
        let n = self.commits.fetch_add(1, Ordering::SeqCst) + 1;
        if n != self.fail_at {
            return self.store.commit_and_check(claim, transition).await;
        }
        if self.lands {
            self.store.commit_and_check(claim, transition).await?;
        }
        Err(StoreError::Backend("the connection broke".into()))
    }
    async fn renew(&self, claim: &Claim, until: SystemTime) -> Result<Renewal, StoreError> {
        self.store.renew(claim, until).await
    }
    async fn release(&self, claim: &Claim) -> Result<(), StoreError> {
        self.store.release(claim).await
    }
    async fn signal(&self, signal: Signal, now: SystemTime) -> Result<(), StoreError> {
        self.store.signal(signal, now).await
    }
    async fn redrive(&self, execution_arn: &str, now: SystemTime) -> Result<Redriven, StoreError> {
        self.store.redrive(execution_arn, now).await
    }
    async fn describe(&self, execution_arn: &str) -> Result<ExecutionRecord, StoreError> {
        self.store.describe(execution_arn).await
    }
    async fn list(
        &self,
        filter: &ListFilter,
        next_token: Option<&str>,
    ) -> Result<Page<ExecutionSummary>, StoreError> {
        self.store.list(filter, next_token).await
    }
    async fn history(
        &self,
        execution_arn: &str,
        query: &HistoryQuery,
        next_token: Option<&str>,
    ) -> Result<Page<StoredEvent>, StoreError> {
        self.store.history(execution_arn, query, next_token).await
    }
    async fn next_due(&self) -> Result<Option<SystemTime>, StoreError> {
        self.store.next_due().await
    }
}

/// A scratch PostgreSQL schema for one test (feature `postgres`).
#[cfg(feature = "postgres")]
pub mod pg {
    /// The database the PostgreSQL tests use: `$STEPFN_PG_URL`, a
    /// libpq-style connection string. Without it a test is skipped with a
    /// line saying so, except under CI (`CI=true`), where that is a
    /// failure: a green run must have run them (`.ci/run` starts a
    /// throwaway server and sets it).
    pub fn url() -> Option<String> {
        if let Ok(url) = std::env::var("STEPFN_PG_URL") {
            return Some(url);
        }
        let message =
            "STEPFN_PG_URL is not set: no PostgreSQL to test against (.ci/run starts one)";
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "{message} (CI=true: a missing database fails)"
        );
        println!("SKIPPED: {message}");
        None
    }

    /// A connection for the test's own SQL, on a runtime of its own
    /// (driven inside [`Admin::run`]).
    pub struct Admin {
        runtime: tokio::runtime::Runtime,
        /// The connection.
        pub client: tokio_postgres::Client,
    }

    impl Admin {
        /// Connects to `url`.
        pub fn connect(url: &str) -> Admin {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let client = runtime.block_on(async {
                let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .expect("admin connection");
                tokio::spawn(connection);
                client
            });
            Admin { runtime, client }
        }

        /// Runs `f` to its end on the admin's runtime.
        pub fn run<T>(&self, f: impl std::future::Future<Output = T>) -> T {
            self.runtime.block_on(f)
        }

        /// Runs `sql` (one batch, simple protocol).
        pub fn execute(&self, sql: &str) {
            self.run(self.client.batch_execute(sql)).expect("admin sql");
        }
    }

    /// A schema of the test's own, named after the test and the process,
    /// so that tests run in parallel (and several `cargo test` at once)
    /// never see each other's executions; dropped with everything in it
    /// at the end of the test.
    pub struct Scratch {
        /// The connection string.
        pub url: String,
        /// The schema.
        pub schema: String,
    }

    impl Scratch {
        /// A fresh schema for test `name`, or `None` (skipped) without a
        /// database.
        pub fn new(name: &str) -> Option<Scratch> {
            let url = url()?;
            let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
            let short: String = name.chars().take(32).collect();
            let schema = format!(
                "stepfn_test_{short}_{:x}_{}",
                hash & 0xffff_ffff,
                std::process::id()
            );
            let scratch = Scratch { url, schema };
            scratch.drop_schema();
            Some(scratch)
        }

        fn drop_schema(&self) {
            Admin::connect(&self.url).execute(&format!(
                "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
                self.schema
            ));
        }

        /// `sql` run in the schema (one batch, simple protocol).
        pub fn execute(&self, sql: &str) {
            Admin::connect(&self.url)
                .execute(&format!("SET search_path TO \"{}\"; {sql}", self.schema));
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            self.drop_schema();
        }
    }
}

/// `store_suite!(prefix; case, ...)`: a test per case and store (modules
/// `memory`, `sqlite` and `postgres`, the last two with their features),
/// each case an `async fn(&dyn ExecutionStore)` in the calling module.
#[allow(unused_macros)]
macro_rules! store_suite {
    ($prefix:literal; $($name:ident),* $(,)?) => {
        mod memory {
            $(#[test]
            fn $name() {
                $crate::common::durable::on_memory(|s| Box::pin(super::$name(s)));
            })*
        }
        #[cfg(feature = "sqlite")]
        mod sqlite {
            $(#[test]
            fn $name() {
                let name = concat!($prefix, "-", stringify!($name));
                $crate::common::durable::on_sqlite(name, |s| Box::pin(super::$name(s)));
            })*
        }
        #[cfg(feature = "postgres")]
        mod postgres {
            $(#[test]
            fn $name() {
                let name = concat!($prefix, "_", stringify!($name));
                $crate::common::durable::on_postgres(name, |s| Box::pin(super::$name(s)));
            })*
        }
    };
}
#[allow(unused_imports)]
pub(crate) use store_suite;
