//! What only `SqliteStore` has: a file that outlives the store, a schema
//! version, several connections on one file.

use crate::common::durable::{arn, claim_one, new_execution, t};
use crate::common::TempDir;
use std::time::Duration;
use stepfn::durable::{ExecutionStore, HistoryQuery, SqliteStore, StoredEvent, SCHEMA_VERSION};

fn block<T>(f: impl std::future::Future<Output = T>) -> T {
    futures::executor::block_on(f)
}

#[test]
fn executions_outlive_the_store() {
    let dir = TempDir::new("sqlite-reopen");
    let path = dir.join("stepfn.db");
    block(async {
        let store = SqliteStore::open(&path).await.unwrap();
        store
            .create(new_execution("a", "{\"x\":1}", 0))
            .await
            .unwrap();
        let c = claim_one(&store, "w", 0).await;
        drop(store); // as a killed process would: no release, no close
        let store = SqliteStore::open(&path).await.unwrap();
        assert_eq!(store.describe(&arn("a")).await.unwrap().input, "{\"x\":1}");
        // the lease survived too: free only when it expires
        assert!(store
            .claim("w2", t(29), Duration::from_secs(30), 1)
            .await
            .unwrap()
            .is_empty());
        assert!(claim_one(&store, "w2", 30).await.fencing_token > c.fencing_token);
        store.close().await.unwrap();
    });
}

#[test]
fn the_schema_is_versioned() {
    let dir = TempDir::new("sqlite-schema");
    let path = dir.join("stepfn.db");
    block(async {
        SqliteStore::open(&path)
            .await
            .unwrap()
            .close()
            .await
            .unwrap()
    });
    let db = rusqlite::Connection::open(&path).unwrap();
    let version: u32 = db
        .query_row("SELECT MAX(version) FROM stepfn_schema", [], |r| r.get(0))
        .unwrap();
    assert_eq!((version, SCHEMA_VERSION), (1, 1));
    db.execute("INSERT INTO stepfn_schema (version) VALUES (2)", [])
        .unwrap();
    drop(db);
    let newer = block(SqliteStore::open(&path)).unwrap_err();
    assert_eq!(
        newer.to_string(),
        "the database's stepfn schema is version 2; this stepfn knows versions up to 1"
    );
    assert_eq!(newer.name(), "StoreFailure");
}

#[test]
fn two_stores_on_one_file_share_claims() {
    let dir = TempDir::new("sqlite-shared");
    let path = dir.join("stepfn.db");
    block(async {
        let one = SqliteStore::open(&path).await.unwrap();
        let two = SqliteStore::open(&path).await.unwrap();
        one.create(new_execution("a", "{}", 0)).await.unwrap();
        claim_one(&two, "w2", 0).await;
        assert!(one
            .claim("w1", t(1), Duration::from_secs(30), 1)
            .await
            .unwrap()
            .is_empty());
        one.close().await.unwrap();
        two.close().await.unwrap();
    });
}

/// The history of a real run, stored and read back: the same events,
/// to the nanosecond.
#[test]
fn engine_history_round_trips() {
    let sm = crate::common::machine(serde_json::json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 3, "Next": "P"},
        "P": {"Type": "Pass", "Result": {"b": [1, "x"], "a": null}, "End": true}}}));
    let executor = stepfn::task_fn(|_| async { Ok(serde_json::json!(null)) });
    let outcome = crate::common::run_recorded(&sm, &executor, serde_json::json!({"z": 1, "y": 2}));
    let history = outcome.history.expect("recorded");
    let dir = TempDir::new("sqlite-history");
    block(async {
        let store = SqliteStore::open(dir.join("stepfn.db")).await.unwrap();
        let mut start = new_execution("a", "{}", 0);
        start.events = history.iter().map(StoredEvent::from).collect();
        store.create(start).await.unwrap();
        let page = store
            .history(&arn("a"), &HistoryQuery::default(), None)
            .await
            .unwrap();
        assert_eq!(page.items, history);
        let json: Vec<_> = page.items.iter().map(StoredEvent::to_json).collect();
        assert_eq!(
            json,
            history.iter().map(|e| e.to_json()).collect::<Vec<_>>()
        );
        store.close().await.unwrap();
    });
}

/// Four processes opening a new file and starting the same name at once:
/// one schema, one execution.
#[test]
fn concurrent_starts_of_one_name_create_one_execution() {
    let dir = TempDir::new("sqlite-race");
    let path = dir.join("stepfn.db");
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || {
                block(async {
                    let store = SqliteStore::open(&path).await.unwrap();
                    let started = store.create(new_execution("a", "{}", 0)).await.unwrap();
                    store.close().await.unwrap();
                    started.created
                })
            })
        })
        .collect();
    let created: Vec<bool> = starts.into_iter().map(|s| s.join().unwrap()).collect();
    assert_eq!(created.iter().filter(|c| **c).count(), 1, "{created:?}");
}

/// A row that is not what stepfn wrote is an error, not a panic.
#[test]
fn a_corrupt_row_is_a_store_failure() {
    let dir = TempDir::new("sqlite-corrupt");
    let path = dir.join("stepfn.db");
    block(async {
        let store = SqliteStore::open(&path).await.unwrap();
        store.create(new_execution("a", "{}", 0)).await.unwrap();
        let c = claim_one(&store, "w", 0).await;
        let db = rusqlite::Connection::open(&path).unwrap();
        db.execute("INSERT INTO stepfn_frames VALUES (1, '', '{not json')", [])
            .unwrap();
        let frame = store.load(&c).await.unwrap_err();
        assert_eq!(frame.to_string(), "SQLite: a stored frame is not valid");
        db.execute("UPDATE stepfn_executions SET status = 'SLEEPING'", [])
            .unwrap();
        let status = store.describe(&arn("a")).await.unwrap_err();
        assert_eq!(
            (status.name(), status.to_string().as_str()),
            ("StoreFailure", "SQLite: a stored status is not valid")
        );
        drop(db);
        store.close().await.unwrap();
    });
}

/// The store needs no particular runtime: here tokio's single thread.
#[test]
fn runs_under_a_single_threaded_tokio() {
    let dir = TempDir::new("sqlite-tokio");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = SqliteStore::open(dir.join("stepfn.db")).await.unwrap();
        store.create(new_execution("a", "{}", 0)).await.unwrap();
        assert_eq!(store.describe(&arn("a")).await.unwrap().name, "a");
        store.close().await.unwrap();
    });
}
