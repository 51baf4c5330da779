//! Durable executions: checkpointed state transitions per second (issue
//! 14, item 6), for pass_chain_1000 and task_chain_1000 of the shared
//! benchmark workloads (`$STEPFN_BENCH_DIR/workloads`, by default
//! `shared/bench/workloads` beside the repository), on every store, with
//! one worker and with four, beside the same executions run in memory.
//!
//! A durable execution commits one checkpoint (the line's state, its
//! history events) per transition; a worker is a [`Durable`] driver on a
//! store connection of its own, run on a thread of its own (the four
//! workers of a row share one store: one `MemoryStore`, one SQLite file,
//! one PostgreSQL schema). Each row starts its executions (not timed),
//! then times the workers from their start until every execution has
//! ended, checks that each succeeded with the workload's expected output
//! (`expected_sha256.json`), and gives:
//! - transitions/s: the executions' state transitions over that time;
//! - commit share: the time the workers spent inside `ExecutionStore::commit`
//!   over the time they ran (workers x wall time): how much the commits
//!   dominate. The driver commits every transition on its own; sharing one
//!   commit among transitions without a task call between them (allowed by
//!   the issue) is not done yet;
//! - µs per commit, and the workers' time per transition outside `commit`
//!   (running the machine, building and serialising the checkpoint,
//!   claiming; in memory: the whole time per transition). With more
//!   workers than cores it includes the time waiting for a core.
//!
//! The in-memory rows run the same executions with no store on as many
//! threads. Stores: `MemoryStore` always; SQLite (a fresh file in the temp
//! directory per row, WAL, `synchronous = FULL`) with feature `sqlite`;
//! PostgreSQL with feature `postgres` and `$STEPFN_PG_URL` set (a fresh
//! schema per row, dropped after it; without the variable a line says the
//! rows are skipped; `.ci/postgres.sh` starts a throwaway server).
//!
//! `cargo bench --bench durable --all-features`; `STEPFN_BENCH_QUICK=1`
//! runs one execution per worker instead of two, `STEPFN_BENCH_ONLY=<name>`
//! picks a workload, `STEPFN_BENCH_TABLE_ONLY=1` skips criterion (which
//! times one execution on `MemoryStore` beside one in memory).

use async_trait::async_trait;
use criterion::{BatchSize, Criterion, Throughput};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use stepfn::durable::{
    Claim, Durable, ExecutionRecord, ExecutionStatus, ExecutionStore, ExecutionSummary,
    HistoryQuery, ListFilter, MemoryStore, NewExecution, Page, Redriven, Renewal, Signal, Snapshot,
    StartExecution, Started, StoreError, StoredEvent, Transition,
};
use stepfn::{sync_task_fn, Limits, StateMachine, Status, TaskExecutor, TaskRequest, TaskResult};

const WORKLOADS: [&str; 2] = ["pass_chain_1000", "task_chain_1000"];

struct Workload {
    name: String,
    machine: StateMachine,
    input: Value,
    transitions: u64,
    sha256: Option<String>,
}

fn bench_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("STEPFN_BENCH_DIR") {
        let dir = PathBuf::from(dir);
        return dir.join("workloads").is_dir().then_some(dir);
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/bench");
    dir.join("workloads").is_dir().then_some(dir)
}

fn workloads(only: Option<&str>) -> Vec<Workload> {
    let Some(dir) = bench_dir() else {
        eprintln!("benchmark workloads not found: set STEPFN_BENCH_DIR");
        return Vec::new();
    };
    let read = |file: &str| -> Option<Value> {
        serde_json::from_str(&std::fs::read_to_string(dir.join("workloads").join(file)).ok()?).ok()
    };
    let expected = read("expected_sha256.json").unwrap_or(Value::Null);
    WORKLOADS
        .iter()
        .filter(|name| only.is_none_or(|o| o.split(',').any(|n| n == **name)))
        .filter_map(|name| {
            let data = read(&format!("{name}.json"))?;
            Some(Workload {
                name: (*name).to_owned(),
                machine: StateMachine::from_value(data["definition"].clone())
                    .expect("workload loads"),
                input: data["input"].clone(),
                transitions: data["transitions"].as_u64().unwrap_or(1).max(1),
                sha256: expected[*name].as_str().map(str::to_owned),
            })
        })
        .collect()
}

/// The bench contract's task: its input with `handled: true` and `count`
/// one more.
fn handler(request: TaskRequest<'_>) -> TaskResult {
    let mut input = request.parameters;
    let count = input["count"].as_i64().unwrap_or(0);
    if let Value::Object(o) = &mut input {
        o.insert("handled".into(), Value::Bool(true));
        o.insert("count".into(), Value::from(count + 1));
    }
    Ok(input)
}

/// AWS's limits, but for the history's 25,000 events (as benches/run.rs).
fn limits() -> Limits {
    Limits::default().with_max_history_events(None)
}

fn sha256_canonical(v: &Value) -> String {
    fn canonical(v: &Value) -> Value {
        match v {
            Value::Object(o) => {
                let mut entries: Vec<_> = o.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.clone(), canonical(v)))
                        .collect(),
                )
            }
            Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
            other => other.clone(),
        }
    }
    let text = serde_json::to_string(&canonical(v)).expect("JSON");
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn check_output(w: &Workload, output: &Value) {
    if let Some(expected) = &w.sha256 {
        assert_eq!(
            &sha256_canonical(output),
            expected,
            "{}: wrong output",
            w.name
        );
    }
}

fn block<T>(f: impl std::future::Future<Output = T>) -> T {
    futures::executor::block_on(f)
}

// ---------------------------------------------------------------------------
// A store that times its commits.

/// `S`, with the time spent in [`ExecutionStore::commit`] added up.
struct Timed<S> {
    inner: S,
    commit_nanos: AtomicU64,
    commits: AtomicU64,
}

impl<S> Timed<S> {
    fn new(inner: S) -> Self {
        Timed {
            inner,
            commit_nanos: AtomicU64::new(0),
            commits: AtomicU64::new(0),
        }
    }
}

#[async_trait]
impl<S: ExecutionStore> ExecutionStore for Timed<S> {
    async fn create(&self, start: NewExecution) -> Result<Started, StoreError> {
        self.inner.create(start).await
    }
    async fn claim(
        &self,
        worker: &str,
        now: SystemTime,
        lease: Duration,
        max: usize,
    ) -> Result<Vec<Claim>, StoreError> {
        self.inner.claim(worker, now, lease, max).await
    }
    async fn load(&self, claim: &Claim) -> Result<Snapshot, StoreError> {
        self.inner.load(claim).await
    }
    async fn commit(&self, claim: &Claim, transition: Transition) -> Result<(), StoreError> {
        let start = Instant::now();
        let result = self.inner.commit(claim, transition).await;
        let nanos = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.commit_nanos.fetch_add(nanos, Ordering::Relaxed);
        self.commits.fetch_add(1, Ordering::Relaxed);
        result
    }
    async fn renew(&self, claim: &Claim, until: SystemTime) -> Result<Renewal, StoreError> {
        self.inner.renew(claim, until).await
    }
    async fn release(&self, claim: &Claim) -> Result<(), StoreError> {
        self.inner.release(claim).await
    }
    async fn signal(&self, signal: Signal, now: SystemTime) -> Result<(), StoreError> {
        self.inner.signal(signal, now).await
    }
    async fn redrive(&self, execution_arn: &str, now: SystemTime) -> Result<Redriven, StoreError> {
        self.inner.redrive(execution_arn, now).await
    }
    async fn describe(&self, execution_arn: &str) -> Result<ExecutionRecord, StoreError> {
        self.inner.describe(execution_arn).await
    }
    async fn list(
        &self,
        filter: &ListFilter,
        next_token: Option<&str>,
    ) -> Result<Page<ExecutionSummary>, StoreError> {
        self.inner.list(filter, next_token).await
    }
    async fn history(
        &self,
        execution_arn: &str,
        query: &HistoryQuery,
        next_token: Option<&str>,
    ) -> Result<Page<StoredEvent>, StoreError> {
        self.inner.history(execution_arn, query, next_token).await
    }
    async fn next_due(&self) -> Result<Option<SystemTime>, StoreError> {
        self.inner.next_due().await
    }
}

// ---------------------------------------------------------------------------
// The measurements.

/// One row of the table.
struct Figures {
    transitions: u64,
    wall: Duration,
    workers: usize,
    /// Time inside `commit`, all workers together; `None` in memory.
    commit: Option<(Duration, u64)>,
}

impl Figures {
    fn per_second(&self) -> f64 {
        self.transitions as f64 / self.wall.as_secs_f64().max(1e-9)
    }

    fn commit_share(&self) -> String {
        match self.commit {
            Some((time, _)) => format!(
                "{:.0}%",
                100.0 * time.as_secs_f64() / (self.wall.as_secs_f64() * self.workers as f64)
            ),
            None => "-".to_owned(),
        }
    }

    /// The workers' time per transition outside `commit` (running the
    /// machine, building and serialising checkpoints, claiming), in µs.
    fn outside_commit(&self) -> String {
        match self.commit {
            Some((time, _)) => {
                let busy = self.wall.as_secs_f64() * self.workers as f64;
                format!(
                    "{:.1}",
                    1e6 * (busy - time.as_secs_f64()).max(0.0) / self.transitions as f64
                )
            }
            None => format!(
                "{:.1}",
                1e6 * self.wall.as_secs_f64() * self.workers as f64 / self.transitions as f64
            ),
        }
    }

    fn per_commit(&self) -> String {
        match self.commit {
            Some((time, commits)) if commits > 0 => {
                format!("{:.0}", time.as_micros() as f64 / commits as f64)
            }
            _ => "-".to_owned(),
        }
    }
}

/// `workers` threads, each running `per_worker` executions in memory.
fn in_memory(
    w: &Workload,
    executor: &dyn TaskExecutor,
    workers: usize,
    per_worker: usize,
) -> Figures {
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                for _ in 0..per_worker {
                    let outcome = block(
                        w.machine
                            .execution()
                            .with_limits(limits())
                            .run(executor, w.input.clone()),
                    );
                    assert_eq!(outcome.status, Status::Succeeded, "{}", w.name);
                }
            });
        }
    });
    Figures {
        transitions: w.transitions * (workers * per_worker) as u64,
        wall: start.elapsed(),
        workers,
        commit: None,
    }
}

/// `workers` durable workers, each on a store `open` gives, running
/// `workers * per_worker` executions started beforehand; each execution is
/// checked once they have all ended.
fn durable<S>(
    w: &Workload,
    executor: &(dyn TaskExecutor + Sync),
    workers: usize,
    per_worker: usize,
    open: impl Fn() -> S,
) -> Figures
where
    S: ExecutionStore + Send + Sync,
{
    let starter = open();
    let driver = Durable::new(&starter).with_limits(limits());
    let state_machine_arn = format!(
        "arn:aws:states:us-east-1:123456789012:stateMachine:{}",
        w.name
    );
    let mut arns = Vec::new();
    for k in 0..workers * per_worker {
        let request = StartExecution {
            state_machine_arn: state_machine_arn.clone(),
            name: format!("bench-{k}"),
            input: w.input.clone(),
        };
        arns.push(
            block(driver.start(&w.machine, request))
                .expect("start")
                .execution_arn,
        );
    }
    let stores: Vec<Timed<S>> = (0..workers).map(|_| Timed::new(open())).collect();
    let start = Instant::now();
    std::thread::scope(|s| {
        for store in &stores {
            s.spawn(move || {
                let worker = Durable::new(store)
                    .with_limits(limits())
                    .with_lease(Duration::from_secs(600));
                // until nothing is left to claim (`run_until_idle` would
                // wait for the leases the other workers hold)
                while !block(worker.run_due(executor)).expect("worker").is_empty() {}
            });
        }
    });
    let wall = start.elapsed();
    for arn in &arns {
        let record = block(starter.describe(arn)).expect("describe");
        assert_eq!(
            record.status,
            ExecutionStatus::Succeeded,
            "{}: {:?} {:?}",
            w.name,
            record.error,
            record.cause
        );
        let output: Value =
            serde_json::from_str(record.output.as_deref().unwrap_or("null")).expect("JSON output");
        check_output(w, &output);
    }
    let commit = stores.iter().fold((Duration::ZERO, 0), |(time, n), s| {
        (
            time + Duration::from_nanos(s.commit_nanos.load(Ordering::Relaxed)),
            n + s.commits.load(Ordering::Relaxed),
        )
    });
    Figures {
        transitions: w.transitions * arns.len() as u64,
        wall,
        workers,
        commit: Some(commit),
    }
}

/// A fresh SQLite file per row, removed after it.
#[cfg(feature = "sqlite")]
fn on_sqlite(
    w: &Workload,
    executor: &(dyn TaskExecutor + Sync),
    workers: usize,
    per_worker: usize,
) -> Figures {
    use std::sync::atomic::AtomicUsize;
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "stepfn-bench-durable-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("store.db");
    let figures = durable(w, executor, workers, per_worker, || {
        block(stepfn::durable::SqliteStore::open(&path)).expect("open SQLite")
    });
    let _ = std::fs::remove_dir_all(&dir);
    figures
}

/// A fresh schema of `$STEPFN_PG_URL` per row, dropped after it; `None`
/// without the variable.
#[cfg(feature = "postgres")]
fn on_postgres(
    w: &Workload,
    executor: &(dyn TaskExecutor + Sync),
    workers: usize,
    per_worker: usize,
) -> Option<Figures> {
    use std::sync::atomic::AtomicUsize;
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let url = std::env::var("STEPFN_PG_URL").ok()?;
    let schema = format!(
        "stepfn_bench_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let figures = durable(w, executor, workers, per_worker, || {
        block(stepfn::durable::PostgresStore::connect_in_schema(
            &url, &schema,
        ))
        .expect("connect to PostgreSQL")
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("admin connection");
        tokio::spawn(connection);
        client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
            .await
            .expect("schema dropped");
    });
    Some(figures)
}

const HEADER: &str = "| workload | store | workers | executions | transitions/s | commit share | µs per commit | µs per transition outside commit |\n|---|---|---|---|---|---|---|---|";

fn row(w: &Workload, store: &str, f: &Figures) -> String {
    format!(
        "| {} | {store} | {} | {} | {:.0} | {} | {} | {} |",
        w.name,
        f.workers,
        f.transitions / w.transitions,
        f.per_second(),
        f.commit_share(),
        f.per_commit(),
        f.outside_commit()
    )
}

fn main() {
    let quick = std::env::var_os("STEPFN_BENCH_QUICK").is_some();
    let only = std::env::var("STEPFN_BENCH_ONLY").ok();
    let workloads = workloads(only.as_deref());
    let executor = sync_task_fn(handler);
    let per_worker = if quick { 1 } else { 2 };

    if std::env::var_os("STEPFN_BENCH_TABLE_ONLY").is_none() {
        let mut criterion = Criterion::default()
            .configure_from_args()
            .sample_size(10)
            .warm_up_time(Duration::from_millis(if quick { 100 } else { 500 }))
            .measurement_time(Duration::from_millis(if quick { 300 } else { 2000 }));
        let mut group = criterion.benchmark_group("durable");
        for w in &workloads {
            group.throughput(Throughput::Elements(w.transitions));
            group.bench_function(format!("{}/in_memory", w.name), |b| {
                b.iter_batched(
                    || w.input.clone(),
                    |input| {
                        block(
                            w.machine
                                .execution()
                                .with_limits(limits())
                                .run(&executor, input),
                        )
                    },
                    BatchSize::LargeInput,
                )
            });
            group.bench_function(format!("{}/memory_store", w.name), |b| {
                b.iter_batched(
                    || {
                        let store = MemoryStore::new();
                        let request = StartExecution {
                            state_machine_arn:
                                "arn:aws:states:us-east-1:123456789012:stateMachine:B".into(),
                            name: "b".into(),
                            input: w.input.clone(),
                        };
                        block(Durable::new(&store).start(&w.machine, request)).expect("start");
                        store
                    },
                    |store| {
                        let worker = Durable::new(&store).with_limits(limits());
                        block(worker.run_until_idle(&executor)).expect("worker")
                    },
                    BatchSize::LargeInput,
                )
            });
        }
        group.finish();
        criterion.final_summary();
    }

    let mut lines = Vec::new();
    let mut notes = Vec::new();
    for w in &workloads {
        for workers in [1, 4] {
            let f = in_memory(w, &executor, workers, per_worker);
            lines.push(row(w, "in memory (no store)", &f));
            let memory = Arc::new(MemoryStore::new());
            let f = durable(w, &executor, workers, per_worker, || memory.clone());
            lines.push(row(w, "MemoryStore", &f));
            #[cfg(feature = "sqlite")]
            {
                let f = on_sqlite(w, &executor, workers, per_worker);
                lines.push(row(w, "SQLite (file)", &f));
            }
            #[cfg(feature = "postgres")]
            match on_postgres(w, &executor, workers, per_worker) {
                Some(f) => lines.push(row(w, "PostgreSQL", &f)),
                None => notes.push("PostgreSQL rows skipped: STEPFN_PG_URL is not set"),
            }
        }
    }
    #[cfg(not(feature = "sqlite"))]
    notes.push("SQLite rows skipped: feature `sqlite` is off");
    #[cfg(not(feature = "postgres"))]
    notes.push("PostgreSQL rows skipped: feature `postgres` is off");
    notes.dedup();
    println!("\nDurable executions: checkpointed state transitions per second\n{HEADER}");
    for line in &lines {
        println!("{line}");
    }
    for note in notes {
        println!("{note}");
    }
}
