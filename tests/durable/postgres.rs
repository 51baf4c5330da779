//! What only `PostgresStore` has: a server many connections share, a
//! schema version, a connection the server can close. Each test works in
//! a schema of its own (`Scratch`), so the tests run in parallel; without
//! `STEPFN_PG_URL` they are skipped, except under CI.

use crate::common::durable::pg::{Admin, Scratch};
use crate::common::durable::{arn, claim_one, event, events, new_execution, t};
use std::collections::BTreeMap;
use std::sync::Barrier;
use std::time::Duration;
use stepfn::durable::{ExecutionStore, PostgresStore, Signal, StoreError, TaskMessage, Transition};
use stepfn::CallbackError;

fn block<T>(f: impl std::future::Future<Output = T>) -> T {
    futures::executor::block_on(f)
}

async fn open(scratch: &Scratch) -> PostgresStore {
    PostgresStore::connect_in_schema(&scratch.url, &scratch.schema)
        .await
        .expect("connect")
}

const LOST: &str = "PostgreSQL: the connection to the server was lost (the next call reconnects)";

#[test]
fn the_schema_is_versioned() {
    let Some(scratch) = Scratch::new("pg_schema_version") else {
        return;
    };
    block(async { open(&scratch).await.close().await.unwrap() });
    assert_eq!(PostgresStore::SCHEMA_VERSION, 1);
    // a newer stepfn migrated the schema: this one refuses it
    scratch.execute("INSERT INTO stepfn_schema (version) VALUES (2)");
    let newer = block(PostgresStore::connect_in_schema(
        &scratch.url,
        &scratch.schema,
    ))
    .unwrap_err();
    assert_eq!(
        newer.to_string(),
        "the database's stepfn schema is version 2; this stepfn knows versions up to 1"
    );
    assert_eq!(newer.name(), "StoreFailure");
}

#[test]
fn executions_outlive_the_store() {
    let Some(scratch) = Scratch::new("pg_reopen") else {
        return;
    };
    block(async {
        let store = open(&scratch).await;
        store
            .create(new_execution("a", "{\"x\":1}", 0))
            .await
            .unwrap();
        let c = claim_one(&store, "w", 0).await;
        drop(store); // as a killed process would: no release, no close
        let store = open(&scratch).await;
        assert_eq!(store.describe(&arn("a")).await.unwrap().input, "{\"x\":1}");
        assert!(store
            .claim("w2", t(29), Duration::from_secs(30), 1)
            .await
            .unwrap()
            .is_empty());
        assert!(claim_one(&store, "w2", 30).await.fencing_token > c.fencing_token);
        store.close().await.unwrap();
    });
}

/// Several stores (one connection each) claiming from the same executions
/// at the same instant, as many worker processes do: every due execution
/// is claimed exactly once.
#[test]
fn racing_claimers_take_each_due_execution_once() {
    let Some(scratch) = Scratch::new("pg_racing_claims") else {
        return;
    };
    const EXECUTIONS: usize = 300;
    const CLAIMERS: usize = 6;
    block(async {
        let store = open(&scratch).await;
        for i in 0..EXECUTIONS {
            let mut start = new_execution(&format!("e{i:03}"), "{}", 0);
            start.run_at = Some(t((i % 7) as u64));
            store.create(start).await.unwrap();
        }
        store.close().await.unwrap();
    });
    let stores: Vec<PostgresStore> = (0..CLAIMERS).map(|_| block(open(&scratch))).collect();
    let start = Barrier::new(CLAIMERS);
    let taken: Vec<Vec<(String, u64)>> = std::thread::scope(|scope| {
        let workers: Vec<_> = stores
            .iter()
            .enumerate()
            .map(|(n, store)| {
                let start = &start;
                scope.spawn(move || {
                    start.wait();
                    let mut mine = Vec::new();
                    // bounded: each round claims at least one, or stops
                    for _ in 0..EXECUTIONS {
                        let claims =
                            block(store.claim(&format!("w{n}"), t(10), Duration::from_secs(30), 5))
                                .unwrap();
                        if claims.is_empty() {
                            break;
                        }
                        mine.extend(
                            claims
                                .into_iter()
                                .map(|c| (c.execution_arn, c.fencing_token)),
                        );
                    }
                    mine
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let mut times: BTreeMap<String, usize> = BTreeMap::new();
    for (arn, token) in taken.iter().flatten() {
        assert_eq!(*token, 1, "{arn} claimed once before");
        *times.entry(arn.clone()).or_default() += 1;
    }
    assert_eq!(times.len(), EXECUTIONS);
    assert!(times.values().all(|n| *n == 1), "{times:?}");
    // the claims were shared out: more than one claimer got some
    assert!(taken.iter().filter(|mine| !mine.is_empty()).count() > 1);
    // nothing due is left before the leases end
    assert!(
        block(stores[0].claim("late", t(39), Duration::from_secs(30), 1000))
            .unwrap()
            .is_empty()
    );
    for store in &stores {
        block(store.close()).unwrap();
    }
}

/// Processes starting the same name at once on a schema that does not
/// exist yet: one migration, one execution.
#[test]
fn concurrent_starts_of_one_name_create_one_execution() {
    let Some(scratch) = Scratch::new("pg_concurrent_starts") else {
        return;
    };
    const STARTERS: usize = 6;
    let start = Barrier::new(STARTERS);
    let created: Vec<bool> = std::thread::scope(|scope| {
        let starters: Vec<_> = (0..STARTERS)
            .map(|_| {
                let (start, scratch) = (&start, &scratch);
                scope.spawn(move || {
                    block(async {
                        start.wait();
                        let store = open(scratch).await;
                        let started = store.create(new_execution("a", "{}", 0)).await.unwrap();
                        store.close().await.unwrap();
                        started.created
                    })
                })
            })
            .collect();
        starters.into_iter().map(|s| s.join().unwrap()).collect()
    });
    assert_eq!(created.iter().filter(|c| **c).count(), 1, "{created:?}");
}

/// Processes answering one task token at once: one answer is stored, the
/// others are refused as AWS refuses an answered token.
#[test]
fn racing_answers_to_one_token_store_one() {
    let Some(scratch) = Scratch::new("pg_racing_answers") else {
        return;
    };
    const SENDERS: usize = 6;
    block(async {
        let store = open(&scratch).await;
        store.create(new_execution("a", "{}", 0)).await.unwrap();
        let c = claim_one(&store, "w", 0).await;
        let open_token = Transition {
            opened_tokens: vec!["tok".into()],
            ..Transition::default()
        };
        store.commit(&c, open_token).await.unwrap();
        store.close().await.unwrap();
    });
    let stores: Vec<PostgresStore> = (0..SENDERS).map(|_| block(open(&scratch))).collect();
    let start = Barrier::new(SENDERS);
    let answers: Vec<Result<(), StoreError>> = std::thread::scope(|scope| {
        let senders: Vec<_> = stores
            .iter()
            .enumerate()
            .map(|(n, store)| {
                let start = &start;
                scope.spawn(move || {
                    start.wait();
                    let answer = Signal::Task {
                        token: "tok".into(),
                        message: TaskMessage::Success {
                            output: format!("{{\"by\":{n}}}"),
                        },
                    };
                    block(store.signal(answer, t(1)))
                })
            })
            .collect();
        senders.into_iter().map(|s| s.join().unwrap()).collect()
    });
    let timed_out: StoreError = CallbackError::TaskTimedOut.into();
    assert_eq!(
        answers.iter().filter(|a| a.is_ok()).count(),
        1,
        "{answers:?}"
    );
    assert!(answers
        .iter()
        .all(|a| a.as_ref().map_or_else(|e| *e == timed_out, |_| true)));
    let c = block(claim_one(&stores[0], "w2", 31));
    assert_eq!(block(stores[0].load(&c)).unwrap().signals.len(), 1);
    for store in &stores {
        block(store.close()).unwrap();
    }
}

/// Answers arriving while the owner commits the transitions that close
/// the same tokens: every call succeeds or is refused as AWS refuses a
/// late answer, none fails on a deadlock between the two.
#[test]
fn answers_racing_commits_never_deadlock() {
    let Some(scratch) = Scratch::new("pg_answers_commits") else {
        return;
    };
    const EXECUTIONS: usize = 150;
    let (owner, sender) = (block(open(&scratch)), block(open(&scratch)));
    let claims: Vec<_> = block(async {
        for i in 0..EXECUTIONS {
            owner
                .create(new_execution(&format!("e{i:03}"), "{}", 0))
                .await
                .unwrap();
        }
        let claims = owner
            .claim("w", t(0), Duration::from_secs(30), EXECUTIONS)
            .await
            .unwrap();
        for (i, c) in claims.iter().enumerate() {
            let open_token = Transition {
                opened_tokens: vec![format!("tok{i}")],
                ..Transition::default()
            };
            owner.commit(c, open_token).await.unwrap();
        }
        claims
    });
    assert_eq!(claims.len(), EXECUTIONS);
    let start = Barrier::new(2);
    let (commits, answers) = std::thread::scope(|scope| {
        // in step: both sides work on execution i at the same moment
        let committer = scope.spawn(|| {
            claims
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    start.wait();
                    let close = Transition {
                        closed_tokens: vec![format!("tok{i}")],
                        run_at: Some(t(1)),
                        ..Transition::default()
                    };
                    block(owner.commit(c, close))
                })
                .collect::<Vec<_>>()
        });
        let answerer = scope.spawn(|| {
            (0..EXECUTIONS)
                .map(|i| {
                    start.wait();
                    let answer = Signal::Task {
                        token: format!("tok{i}"),
                        message: TaskMessage::Heartbeat,
                    };
                    block(sender.signal(answer, t(1)))
                })
                .collect::<Vec<_>>()
        });
        (committer.join().unwrap(), answerer.join().unwrap())
    });
    assert!(commits.iter().all(Result::is_ok), "{commits:?}");
    let timed_out: StoreError = CallbackError::TaskTimedOut.into();
    let refused: Vec<_> = answers
        .iter()
        .filter_map(|a| a.as_ref().err())
        .filter(|e| **e != timed_out)
        .collect();
    assert!(refused.is_empty(), "{refused:?}");
    block(owner.close()).unwrap();
    block(sender.close()).unwrap();
}

/// The server ends the connection while a commit waits for a row lock:
/// the commit fails with a clear error and lands nothing; the next call
/// connects again and works.
#[test]
fn a_closed_connection_is_a_store_error_and_the_next_call_reconnects() {
    let Some(scratch) = Scratch::new("pg_reconnect") else {
        return;
    };
    let store = block(open(&scratch));
    block(store.create(new_execution("a", "{}", 0))).unwrap();
    let claim = block(claim_one(&store, "w", 0));
    let admin = Admin::connect(&scratch.url);
    admin.execute("BEGIN");
    admin.execute(&format!(
        "SELECT 1 FROM \"{}\".stepfn_executions FOR UPDATE",
        scratch.schema
    ));
    let outcome = std::thread::scope(|scope| {
        let commit = scope
            .spawn(|| block(store.commit(&claim, events(vec![event(2, 1, "PassStateEntered")]))));
        // bounded wait until the commit is blocked on the admin's lock
        let mut blocked = None;
        for _ in 0..1000 {
            let rows = admin
                .run(admin.client.query(
                    "SELECT pid FROM pg_stat_activity
                      WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))",
                    &[],
                ))
                .unwrap();
            if let Some(row) = rows.first() {
                blocked = Some(row.get::<_, i32>(0));
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let pid = blocked.expect("the commit waits for the lock");
        let terminated: bool = admin
            .run(
                admin
                    .client
                    .query_one("SELECT pg_terminate_backend($1, 10000)", &[&pid]),
            )
            .unwrap()
            .get(0);
        assert!(terminated);
        admin.execute("ROLLBACK");
        commit.join().unwrap()
    });
    // Compatibility (lib.rs, "Execution stores"): a database failure is stepfn's own
    // StoreFailure; AWS's name and text for a failure of its service are not recorded
    let lost = outcome.unwrap_err();
    assert_eq!(lost, StoreError::Backend(LOST.into()));
    assert_eq!(lost.name(), "StoreFailure");
    // connected again: the lost commit did not land, the claim still holds
    assert_eq!(block(store.describe(&arn("a"))).unwrap().last_event_id, 1);
    block(store.commit(&claim, events(vec![event(2, 1, "PassStateEntered")]))).unwrap();
    assert_eq!(block(store.describe(&arn("a"))).unwrap().last_event_id, 2);
    block(store.close()).unwrap();
}

/// A row that is not what stepfn wrote is an error, not a panic.
#[test]
fn a_corrupt_row_is_a_store_failure() {
    let Some(scratch) = Scratch::new("pg_corrupt") else {
        return;
    };
    let store = block(open(&scratch));
    block(store.create(new_execution("a", "{}", 0))).unwrap();
    let c = block(claim_one(&store, "w", 0));
    scratch.execute("INSERT INTO stepfn_frames VALUES (1, '', '{not json')");
    let frame = block(store.load(&c)).unwrap_err();
    assert_eq!(
        frame,
        StoreError::Backend("PostgreSQL: a stored frame is not valid".into())
    );
    scratch.execute(
        "DELETE FROM stepfn_frames;
         INSERT INTO stepfn_signals (execution_id, token, kind, received) VALUES (1, 't', 'shout', 0)",
    );
    let signal = block(store.load(&c)).unwrap_err();
    assert_eq!(
        signal.to_string(),
        "PostgreSQL: a stored signal is not valid"
    );
    scratch.execute("UPDATE stepfn_executions SET status = 'SLEEPING'");
    let status = block(store.describe(&arn("a"))).unwrap_err();
    assert_eq!(
        (status.name(), status.to_string().as_str()),
        ("StoreFailure", "PostgreSQL: a stored status is not valid")
    );
    block(store.close()).unwrap();
}

/// A server that is not there, or a connection string that does not parse:
/// an error, not a panic and not a hang.
#[test]
fn an_unreachable_server_is_a_store_error() {
    // port 1 on loopback: nothing listens there
    let refused = block(PostgresStore::connect(
        "host=127.0.0.1 port=1 user=stepfn connect_timeout=5",
    ))
    .unwrap_err();
    assert_eq!(
        refused,
        StoreError::Backend(
            "PostgreSQL: cannot connect: error connecting to server: Connection refused (os error 111)"
                .into()
        )
    );
    let garbled = block(PostgresStore::connect("port=seven")).unwrap_err();
    assert_eq!(
        garbled.to_string(),
        "PostgreSQL: invalid connection string: invalid value for option `port`"
    );
    let long = "s".repeat(64);
    let schema = block(PostgresStore::connect_in_schema("host=127.0.0.1", &long)).unwrap_err();
    assert_eq!(
        schema.to_string(),
        format!("PostgreSQL: the schema name \"{long}\" is not usable (1 to 63 bytes, no NUL)")
    );
}

/// The store needs no particular runtime: here tokio's single thread,
/// whose own reactor the store does not use.
#[test]
fn runs_under_a_single_threaded_tokio() {
    let Some(scratch) = Scratch::new("pg_tokio") else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = open(&scratch).await;
        store.create(new_execution("a", "{}", 0)).await.unwrap();
        assert_eq!(store.describe(&arn("a")).await.unwrap().name, "a");
        drop(store); // dropped inside the runtime: no panic
    });
}

/// Two schemas in one database are two independent stores.
#[test]
fn schemas_keep_stores_apart() {
    let (Some(one), Some(two)) = (Scratch::new("pg_apart_one"), Scratch::new("pg_apart_two"))
    else {
        return;
    };
    block(async {
        let a = open(&one).await;
        let b = open(&two).await;
        a.create(new_execution("a", "{}", 0)).await.unwrap();
        assert_eq!(
            b.describe(&arn("a")).await.unwrap_err(),
            StoreError::ExecutionDoesNotExist(arn("a"))
        );
        assert!(b
            .claim("w", t(0), Duration::from_secs(30), 10)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(a.schema(), Some(one.schema.as_str()));
        a.close().await.unwrap();
        b.close().await.unwrap();
    });
}
