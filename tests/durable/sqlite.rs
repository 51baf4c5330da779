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
