//! Worker processes killed with SIGKILL while they run durable executions
//! on one SQLite file: every execution still ends, with the outcome and
//! history of an uninterrupted in-memory run, and no task call is lost
//! (calls made again after a kill carry the same idempotency key).
//!
//! The worker processes are this test binary again, started with
//! `STEPFN_KILL_WORKER` set: the test then works as a worker until killed.
//! Every wait is bounded in count; nothing is asserted about time.

use crate::common::durable::MACHINE;
use crate::common::{TempDir, LAMBDA};
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Child, Command};
use std::sync::Mutex;
use std::time::Duration;
use stepfn::durable::{
    Durable, ExecutionStatus, ExecutionStore, HistoryQuery, SqliteStore, StartExecution,
};
use stepfn::{sync_task_fn, ExecutionIdentity, StateMachine, StatesError, VirtualClock};

const WORKER: &str = "STEPFN_KILL_WORKER";
const KEYS: &str = "STEPFN_KILL_KEYS";
const EXECUTIONS: i64 = 24;

fn machine() -> StateMachine {
    let f = |name: &str| LAMBDA.replace(":function:f", &format!(":function:{name}"));
    crate::common::machine(json!({
        "StartAt": "Init",
        "States": {
            "Init": {"Type": "Pass", "Parameters": {"n.$": "$.start"}, "Next": "Flaky"},
            "Flaky": {"Type": "Task", "Resource": f("flaky"),
                      "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1}], "Next": "Add"},
            "Add": {"Type": "Task", "Resource": f("add"), "Next": "Check"},
            "Check": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 100, "Next": "Big"}], "Default": "Done"},
            "Big": {"Type": "Fail", "Error": "Big"},
            "Done": {"Type": "Succeed"}
        }
    }))
}

/// `flaky` fails its first attempt, then adds one to `n`; `add` adds one.
fn answer(resource: &str, retry_count: u32, parameters: &Value) -> Result<Value, StatesError> {
    if resource.ends_with(":flaky") && retry_count == 0 {
        return Err(StatesError::new("Flaky", "try again"));
    }
    let n = parameters["n"].as_i64().unwrap_or_default();
    Ok(json!({"n": n + 1}))
}

fn execution_arn(name: &str) -> String {
    format!("arn:aws:states:us-east-1:123456789012:execution:M:{name}")
}

/// A worker process: runs what is due until it is killed (or, bounded,
/// after 3,000 idle turns), logging every task call's idempotency key.
fn work(db: &str, keys: &str) {
    let log = Mutex::new(
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(keys)
            .expect("key log"),
    );
    let executor = sync_task_fn(move |request| {
        let key = request.idempotency_key().unwrap_or_default();
        let _ = writeln!(log.lock().unwrap(), "{key}");
        // some work, so that kills land inside calls too
        std::thread::sleep(Duration::from_millis(15));
        answer(
            &request.resource.arn,
            request.retry_count,
            &request.parameters,
        )
    });
    futures::executor::block_on(async {
        let store = SqliteStore::open(db).await.expect("open");
        let durable = Durable::new(&store)
            .with_worker_id(format!("pid-{}", std::process::id()))
            .with_lease(Duration::from_millis(300));
        let mut idle = 0;
        while idle < 3_000 {
            match durable.run_due(&executor).await {
                Ok(worked) if !worked.is_empty() => idle = 0,
                _ => {
                    idle += 1;
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }
    });
}

fn spawn(db: &str, keys: &str) -> Child {
    Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "kill::killed_workers_lose_no_execution",
            "--test-threads=1",
        ])
        .env(WORKER, db)
        .env(KEYS, keys)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn a worker")
}

/// The in-memory run of execution `name` on `start`: its outcome, its
/// history without timestamps, its task calls' keys.
fn reference(name: &str, start: i64) -> (stepfn::Outcome, Vec<Value>, Vec<String>) {
    let mut identity = ExecutionIdentity::new();
    identity.state_machine_arn = Some(MACHINE.into());
    identity.execution_arn = Some(execution_arn(name));
    identity.execution_name = Some(name.into());
    let keys = Mutex::new(Vec::new());
    let executor = sync_task_fn(|request| {
        keys.lock()
            .unwrap()
            .push(request.idempotency_key().unwrap_or_default());
        answer(
            &request.resource.arn,
            request.retry_count,
            &request.parameters,
        )
    });
    let outcome = futures::executor::block_on(
        machine()
            .execution()
            .with_clock(VirtualClock::new())
            .with_identity(identity)
            .with_history(true)
            .run(&executor, json!({"start": start})),
    );
    let history = outcome
        .history
        .iter()
        .flatten()
        .map(|e| untimed(e.to_json()))
        .collect();
    let keys = keys.into_inner().unwrap();
    (outcome, history, keys)
}

/// The history events stored for every execution.
fn stored_events(store: &SqliteStore) -> u64 {
    (0..EXECUTIONS)
        .map(|i| {
            let arn = execution_arn(&format!("k{i}"));
            futures::executor::block_on(store.describe(&arn)).map_or(0, |r| r.last_event_id)
        })
        .sum()
}

fn untimed(mut event: Value) -> Value {
    if let Some(e) = event.as_object_mut() {
        e.remove("timestamp");
    }
    event
}

#[test]
fn killed_workers_lose_no_execution() {
    if let (Ok(db), Ok(keys)) = (std::env::var(WORKER), std::env::var(KEYS)) {
        return work(&db, &keys);
    }
    let dir = TempDir::new("kill");
    let db = dir.join("stepfn.db").to_string_lossy().into_owned();
    let keys = dir.join("keys.log").to_string_lossy().into_owned();
    futures::executor::block_on(async {
        let store = SqliteStore::open(&db).await.unwrap();
        let starter = Durable::new(&store);
        for i in 0..EXECUTIONS {
            let request = StartExecution {
                state_machine_arn: MACHINE.into(),
                name: format!("k{i}"),
                input: json!({"start": i * 10}),
            };
            starter.start(&machine(), request).await.unwrap();
        }
        store.close().await.unwrap();
    });
    // two workers at a time, killed once they have made progress, six
    // times over
    let store = futures::executor::block_on(SqliteStore::open(&db)).unwrap();
    let mut kills = 0;
    let mut events = stored_events(&store);
    for round in 0..6u64 {
        let mut workers = [spawn(&db, &keys), spawn(&db, &keys)];
        for _ in 0..1_000 {
            if stored_events(&store) > events + 4 {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(7 * round));
        events = stored_events(&store);
        for w in workers.iter_mut() {
            w.kill().expect("SIGKILL");
            w.wait().expect("reaped");
            kills += 1;
        }
    }
    // then two that are let finish
    let mut workers = [spawn(&db, &keys), spawn(&db, &keys)];
    let mut running = EXECUTIONS;
    for _ in 0..3_000 {
        running = 0;
        for i in 0..EXECUTIONS {
            let record =
                futures::executor::block_on(store.describe(&execution_arn(&format!("k{i}"))))
                    .unwrap();
            running += i64::from(record.status == ExecutionStatus::Running);
        }
        if running == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    for w in workers.iter_mut() {
        w.kill().expect("SIGKILL");
        w.wait().expect("reaped");
    }
    assert_eq!(running, 0, "executions still running after the workers");
    let logged = std::fs::read_to_string(&keys).unwrap_or_default();
    let logged: Vec<&str> = logged.lines().collect();
    let mut expected_calls = 0;
    let mut needed = std::collections::HashSet::new();
    for i in 0..EXECUTIONS {
        let name = format!("k{i}");
        let (outcome, history, want_keys) = reference(&name, i * 10);
        let record = futures::executor::block_on(store.describe(&execution_arn(&name))).unwrap();
        assert_eq!(record.status, outcome.status.into(), "{name}");
        assert_eq!(
            record
                .output
                .map(|o| serde_json::from_str::<Value>(&o).unwrap()),
            outcome.output,
            "{name}"
        );
        let query = HistoryQuery {
            max_results: 1000,
            ..HistoryQuery::default()
        };
        let page = futures::executor::block_on(store.history(&execution_arn(&name), &query, None))
            .unwrap();
        let got: Vec<Value> = page.items.iter().map(|e| untimed(e.to_json())).collect();
        assert_eq!(got, history, "{name}");
        // every call the run needs was made, at least once
        for key in &want_keys {
            assert!(logged.contains(&key.as_str()), "{name}: {key} never called");
        }
        expected_calls += want_keys.len();
        needed.extend(want_keys);
    }
    // no call the runs do not need
    for key in &logged {
        assert!(
            needed.contains(*key),
            "{key} is no call of an uninterrupted run"
        );
    }
    eprintln!(
        "kill -9: {EXECUTIONS} executions, {kills} workers killed, {} task calls for {expected_calls} needed ({} made again)",
        logged.len(),
        logged.len() - expected_calls
    );
    futures::executor::block_on(store.close()).unwrap();
}
