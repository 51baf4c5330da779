//! The conformance suite of `ExecutionStore`: each behaviour is one async
//! function over `&dyn ExecutionStore`; `store_suite!` runs every one against
//! `MemoryStore`, (feature `sqlite`) a `SqliteStore` in a temp file and
//! (feature `postgres`) a `PostgresStore` in a schema of its own in the
//! database `$STEPFN_PG_URL` names (skipped without it, failing under CI).
//! Time is passed in explicitly: nothing sleeps.

use crate::common::durable::{
    arn, claim_one, event, events, frame, ids, new_execution, t, MACHINE,
};
use serde_json::json;
use std::time::Duration;
use stepfn::durable::{
    Ending, ExecutionStatus, ExecutionStore, HistoryQuery, ListFilter, Signal, StopRequest,
    StoreError, TaskMessage, Transition,
};
use stepfn::{CallbackError, Status};

crate::common::durable::store_suite!(
    "store";
    create_is_idempotent_by_name,
    create_refuses_another_input_or_an_ended_execution,
    describe_shows_the_record,
    unknown_executions_do_not_exist,
    claim_excludes_a_second_claimant_until_the_lease_expires,
    claim_takes_only_due_executions_earliest_first,
    a_lease_past_the_end_of_time_is_refused,
    stale_fencing_token_is_refused,
    commit_writes_frames_and_events,
    commit_is_atomic,
    ending_closes_the_execution,
    signals_are_visible_to_the_claimant,
    task_tokens_take_one_answer,
    a_signal_makes_a_parked_execution_due,
    stop_reaches_the_claimant,
    history_pages_in_both_orders,
    list_filters_and_pages_newest_first,
    next_due_is_the_earliest_due_time,
    redrive_runs_a_failed_execution_again,
    redrive_follows_aws_rules,
);

const LEASE: Duration = Duration::from_secs(30);

/// Ends the claimed execution with `status`.
fn ending(status: Status, at: u64) -> Transition {
    Transition {
        end: Some(Ending {
            status,
            output: (status == Status::Succeeded).then(|| "{\"done\":true}".into()),
            error: (status != Status::Succeeded).then(|| "Boom".into()),
            cause: (status != Status::Succeeded).then(|| "it broke".into()),
            stop_date: t(at),
        }),
        ..Transition::default()
    }
}

/// A transition that opens task token `token`.
fn opening(token: &str) -> Transition {
    Transition {
        opened_tokens: vec![token.into()],
        run_at: None,
        ..Transition::default()
    }
}

fn success(token: &str) -> Signal {
    Signal::Task {
        token: token.into(),
        message: TaskMessage::Success {
            output: "{\"ok\":1}".into(),
        },
    }
}

fn heartbeat(token: &str) -> Signal {
    Signal::Task {
        token: token.into(),
        message: TaskMessage::Heartbeat,
    }
}

async fn create_is_idempotent_by_name(s: &dyn ExecutionStore) {
    let first = s.create(new_execution("a", "{\"x\":1}", 0)).await.unwrap();
    assert!(first.created);
    let again = s.create(new_execution("a", "{\"x\":1}", 5)).await.unwrap();
    assert_eq!((again.created, again.start_date), (false, t(0)));
    let page = s.list(&ListFilter::default(), None).await.unwrap();
    assert_eq!(page.items.len(), 1);
}

async fn create_refuses_another_input_or_an_ended_execution(s: &dyn ExecutionStore) {
    s.create(new_execution("a", "{\"x\":1}", 0)).await.unwrap();
    let other = s
        .create(new_execution("a", "{\"x\":2}", 0))
        .await
        .unwrap_err();
    assert_eq!(other, StoreError::ExecutionAlreadyExists(arn("a")));
    assert_eq!(other.name(), "ExecutionAlreadyExists");
    assert_eq!(
        other.to_string(),
        "Execution Already Exists: 'arn:aws:states:us-east-1:123456789012:execution:M:a'"
    );
    // AWS: a closed execution's name is not reusable (for 90 days), even with the same input
    let claim = claim_one(s, "w", 0).await;
    s.commit(&claim, ending(Status::Succeeded, 1))
        .await
        .unwrap();
    let closed = s
        .create(new_execution("a", "{\"x\":1}", 2))
        .await
        .unwrap_err();
    assert_eq!(closed, StoreError::ExecutionAlreadyExists(arn("a")));
}

async fn describe_shows_the_record(s: &dyn ExecutionStore) {
    s.create(new_execution("a", "{\"x\":1}", 7)).await.unwrap();
    let r = s.describe(&arn("a")).await.unwrap();
    assert_eq!(
        (
            r.execution_arn.as_str(),
            r.state_machine_arn.as_str(),
            r.name.as_str()
        ),
        (arn("a").as_str(), MACHINE, "a")
    );
    assert_eq!(
        (r.input.as_str(), r.status),
        ("{\"x\":1}", ExecutionStatus::Running)
    );
    assert_eq!(
        (r.start_date, r.stop_date, r.redrive_count),
        (t(7), None, 0)
    );
    assert_eq!((r.output, r.error, r.last_event_id), (None, None, 1));
    assert_eq!(r.definition, crate::common::durable::DEFINITION);
}

async fn unknown_executions_do_not_exist(s: &dyn ExecutionStore) {
    let missing = StoreError::ExecutionDoesNotExist(arn("nope"));
    assert_eq!(s.describe(&arn("nope")).await.unwrap_err(), missing);
    assert_eq!(
        missing.to_string(),
        "Execution Does Not Exist: 'arn:aws:states:us-east-1:123456789012:execution:M:nope'"
    );
    assert_eq!(missing.name(), "ExecutionDoesNotExist");
    let q = HistoryQuery::default();
    assert_eq!(
        s.history(&arn("nope"), &q, None).await.unwrap_err(),
        missing
    );
    assert_eq!(s.redrive(&arn("nope"), t(0)).await.unwrap_err(), missing);
    let stop = Signal::Stop {
        execution_arn: arn("nope"),
        error: None,
        cause: None,
    };
    assert_eq!(s.signal(stop, t(0)).await.unwrap_err(), missing);
}

async fn claim_excludes_a_second_claimant_until_the_lease_expires(s: &dyn ExecutionStore) {
    s.create(new_execution("a", "{}", 0)).await.unwrap();
    let first = claim_one(s, "w1", 0).await;
    assert_eq!((first.worker.as_str(), first.lease_until), ("w1", t(30)));
    assert!(s.claim("w2", t(29), LEASE, 10).await.unwrap().is_empty());
    let second = claim_one(s, "w2", 30).await;
    assert!(second.fencing_token > first.fencing_token);
    // a renewed lease keeps excluding others
    s.renew(&second, t(100)).await.unwrap();
    assert!(s.claim("w3", t(99), LEASE, 10).await.unwrap().is_empty());
    // a released one is free at once
    s.release(&second).await.unwrap();
    let third = claim_one(s, "w3", 50).await;
    assert!(third.fencing_token > second.fencing_token);
}

async fn a_lease_past_the_end_of_time_is_refused(s: &dyn ExecutionStore) {
    s.create(new_execution("a", "{}", 0)).await.unwrap();
    let refused = s.claim("w1", t(0), Duration::MAX, 10).await.unwrap_err();
    let past = StoreError::Backend("the lease ends past the end of time".into());
    assert_eq!(refused, past);
    // nothing was claimed
    assert_eq!(claim_one(s, "w2", 0).await.worker, "w2");
}

async fn claim_takes_only_due_executions_earliest_first(s: &dyn ExecutionStore) {
    let mut later = new_execution("later", "{}", 0);
    later.run_at = Some(t(20));
    let mut never = new_execution("callback-only", "{}", 0);
    never.run_at = None;
    s.create(later).await.unwrap();
    s.create(never).await.unwrap();
    s.create(new_execution("b", "{}", 10)).await.unwrap();
    s.create(new_execution("a", "{}", 5)).await.unwrap();
    let names = |claims: Vec<stepfn::durable::Claim>| {
        claims
            .into_iter()
            .map(|c| c.execution_arn)
            .collect::<Vec<_>>()
    };
    assert!(s.claim("w", t(4), LEASE, 10).await.unwrap().is_empty());
    assert_eq!(
        names(s.claim("w", t(30), LEASE, 2).await.unwrap()),
        [arn("a"), arn("b")]
    );
    assert_eq!(
        names(s.claim("w", t(30), LEASE, 2).await.unwrap()),
        [arn("later")]
    );
    assert!(s.claim("w", t(59), LEASE, 10).await.unwrap().is_empty());
    // leases lapsed: due again, in due order; the callback-only one never
    let lapsed = s.claim("w", t(10_000), LEASE, 10).await.unwrap();
    assert_eq!(names(lapsed), [arn("a"), arn("b"), arn("later")]);
}

async fn stale_fencing_token_is_refused(s: &dyn ExecutionStore) {
    s.create(new_execution("a", "{}", 0)).await.unwrap();
    let stale = claim_one(s, "w1", 0).await;
    let fresh = claim_one(s, "w2", 31).await;
    let lost = StoreError::LeaseLost(arn("a"));
    let late = events(vec![event(2, 1, "PassStateEntered")]);
    assert_eq!(s.commit(&stale, late).await.unwrap_err(), lost);
    assert_eq!(s.load(&stale).await.unwrap_err(), lost);
    assert_eq!(s.renew(&stale, t(90)).await.unwrap_err(), lost);
    assert_eq!(s.release(&stale).await.unwrap_err(), lost);
    assert_eq!(lost.name(), "LeaseLost");
    // nothing of the stale commit landed; the fresh claimant commits
    assert_eq!(s.describe(&arn("a")).await.unwrap().last_event_id, 1);
    let ok = events(vec![event(2, 1, "PassStateEntered")]);
    s.commit(&fresh, ok).await.unwrap();
    assert_eq!(s.describe(&arn("a")).await.unwrap().last_event_id, 2);
}

async fn commit_writes_frames_and_events(s: &dyn ExecutionStore) {
    s.create(new_execution("a", "{}", 0)).await.unwrap();
    let c = claim_one(s, "w", 0).await;
    let first = Transition {
        frames: vec![
            frame("", json!({"state": "P"})),
            frame("F#0", json!({"state": "Q"})),
        ],
        events: vec![event(2, 1, "ParallelStateEntered")],
        run_at: Some(t(1)),
        ..Transition::default()
    };
    s.commit(&c, first).await.unwrap();
    let second = Transition {
        frames: vec![frame("", json!({"state": "R", "k": [1, 2]}))],
        removed_frames: vec!["F#0".into()],
        events: vec![event(3, 2, "ParallelStateExited")],
        run_at: Some(t(2)),
        ..Transition::default()
    };
    s.commit(&c, second).await.unwrap();
    let snap = s.load(&c).await.unwrap();
    assert_eq!(snap.frames, [frame("", json!({"state": "R", "k": [1, 2]}))]);
    assert_eq!(
        (snap.record.last_event_id, snap.signals.len(), snap.stop),
        (3, 0, None)
    );
    let all = s
        .history(&arn("a"), &HistoryQuery::default(), None)
        .await
        .unwrap();
    assert_eq!(
        all.items,
        [
            event(1, 0, "ExecutionStarted"),
            event(2, 1, "ParallelStateEntered"),
            event(3, 2, "ParallelStateExited")
        ]
    );
}

async fn commit_is_atomic(s: &dyn ExecutionStore) {
    s.create(new_execution("a", "{}", 0)).await.unwrap();
    let c = claim_one(s, "w", 0).await;
    s.commit(&c, events(vec![event(2, 1, "PassStateEntered")]))
        .await
        .unwrap();
    // a replayed transition: event 2 again with a new event 3 and a frame
    let replay = Transition {
        frames: vec![frame("", json!({"state": "Q"}))],
        events: vec![
            event(3, 2, "PassStateExited"),
            event(2, 1, "PassStateEntered"),
        ],
        opened_tokens: vec!["tok".into()],
        run_at: Some(t(5)),
        ..Transition::default()
    };
    let refused = s.commit(&c, replay).await.unwrap_err();
    assert_eq!(
        refused,
        StoreError::Conflict("history event 2 is already stored".into())
    );
    assert_eq!(refused.name(), "StoreConflict");
    let snap = s.load(&c).await.unwrap();
    assert_eq!((snap.frames.len(), snap.record.last_event_id), (0, 2));
    let history = s
        .history(&arn("a"), &HistoryQuery::default(), None)
        .await
        .unwrap();
    assert_eq!(ids(&history.items), [1, 2]);
    assert_eq!(
        s.signal(success("tok"), t(1)).await.unwrap_err(),
        CallbackError::InvalidToken.into()
    );
}

async fn ending_closes_the_execution(s: &dyn ExecutionStore) {
    s.create(new_execution("a", "{}", 0)).await.unwrap();
    let c = claim_one(s, "w", 0).await;
    s.commit(&c, opening("tok")).await.unwrap();
    let mut end = ending(Status::Succeeded, 9);
    end.events = vec![event(2, 1, "ExecutionSucceeded")];
    s.commit(&c, end).await.unwrap();
    let r = s.describe(&arn("a")).await.unwrap();
    assert_eq!(
        (r.status, r.output.as_deref(), r.stop_date),
        (
            ExecutionStatus::Succeeded,
            Some("{\"done\":true}"),
            Some(t(9))
        )
    );
    assert!(s.claim("w", t(10_000), LEASE, 10).await.unwrap().is_empty());
    assert_eq!(s.next_due().await.unwrap(), None);
    assert_eq!(
        s.signal(success("tok"), t(10)).await.unwrap_err(),
        CallbackError::TaskTimedOut.into()
    );
    assert_eq!(
        s.commit(&c, Transition::default()).await.unwrap_err(),
        StoreError::LeaseLost(arn("a"))
    );
}

async fn signals_are_visible_to_the_claimant(s: &dyn ExecutionStore) {
    s.create(new_execution("a", "{}", 0)).await.unwrap();
    let c = claim_one(s, "w", 0).await;
    s.commit(&c, opening("tok")).await.unwrap();
    // another process answers and beats
    s.signal(heartbeat("tok"), t(3)).await.unwrap();
    s.signal(success("tok"), t(4)).await.unwrap();
    let renewal = s.renew(&c, t(40)).await.unwrap();
    assert_eq!(
        (renewal.lease_until, renewal.signals, renewal.stop),
        (t(40), 2, None)
    );
    let snap = s.load(&c).await.unwrap();
    let messages: Vec<_> = snap
        .signals
        .iter()
        .map(|p| (p.token.as_str(), &p.message, p.received))
        .collect();
    assert_eq!(
        messages,
        [
            ("tok", &TaskMessage::Heartbeat, t(3)),
            (
                "tok",
                &TaskMessage::Success {
                    output: "{\"ok\":1}".into()
                },
                t(4)
            )
        ]
    );
    assert!(snap.signals[0].id < snap.signals[1].id);
    // consumed in the transition that completes the task
    let done = Transition {
        consumed_signals: snap.signals.iter().map(|p| p.id).collect(),
        closed_tokens: vec!["tok".into()],
        run_at: Some(t(5)),
        ..Transition::default()
    };
    s.commit(&c, done).await.unwrap();
    assert!(s.load(&c).await.unwrap().signals.is_empty());
    assert_eq!(s.renew(&c, t(41)).await.unwrap().signals, 0);
}

async fn task_tokens_take_one_answer(s: &dyn ExecutionStore) {
    s.create(new_execution("a", "{}", 0)).await.unwrap();
    let c = claim_one(s, "w", 0).await;
    s.commit(&c, opening("tok")).await.unwrap();
    s.commit(&c, opening("tok")).await.unwrap(); // re-opening is a no-op
    let timed_out: StoreError = CallbackError::TaskTimedOut.into();
    let failure = Signal::Task {
        token: "tok".into(),
        message: TaskMessage::Failure {
            error: Some("E".into()),
            cause: None,
        },
    };
    s.signal(failure, t(1)).await.unwrap();
    assert_eq!(s.signal(success("tok"), t(2)).await.unwrap_err(), timed_out);
    assert_eq!(
        s.signal(heartbeat("tok"), t(2)).await.unwrap_err(),
        timed_out
    );
    assert_eq!(
        (timed_out.name(), timed_out.to_string().as_str()),
        (
            "TaskTimedOut",
            "Task Timed Out: 'Provided task does not exist anymore'"
        )
    );
    let invalid = s.signal(success("never-issued"), t(2)).await.unwrap_err();
    assert_eq!(
        (invalid.name(), invalid.to_string().as_str()),
        ("InvalidToken", "Invalid Token: 'Invalid token'")
    );
    // a closed token refuses a heartbeat too
    s.commit(&c, opening("tok2")).await.unwrap();
    let close = Transition {
        closed_tokens: vec!["tok2".into()],
        ..Transition::default()
    };
    s.commit(&c, close).await.unwrap();
    assert_eq!(
        s.signal(heartbeat("tok2"), t(3)).await.unwrap_err(),
        timed_out
    );
}

async fn a_signal_makes_a_parked_execution_due(s: &dyn ExecutionStore) {
    s.create(new_execution("a", "{}", 0)).await.unwrap();
    let c = claim_one(s, "w1", 0).await;
    s.commit(&c, opening("tok")).await.unwrap(); // waits for the callback only
    s.release(&c).await.unwrap();
    assert!(s.claim("w2", t(1_000), LEASE, 10).await.unwrap().is_empty());
    assert_eq!(s.next_due().await.unwrap(), None);
    s.signal(success("tok"), t(1_001)).await.unwrap();
    assert_eq!(s.next_due().await.unwrap(), Some(t(1_001)));
    let resumed = claim_one(s, "w2", 1_001).await;
    let signals = s.load(&resumed).await.unwrap().signals;
    assert_eq!(signals.len(), 1);
    // consumed, and waiting for another callback: due no more
    let consumed = Transition {
        consumed_signals: vec![signals[0].id],
        opened_tokens: vec!["tok2".into()],
        ..Transition::default()
    };
    s.commit(&resumed, consumed).await.unwrap();
    s.release(&resumed).await.unwrap();
    assert_eq!(s.next_due().await.unwrap(), None);
    assert!(s.claim("w3", t(5_000), LEASE, 10).await.unwrap().is_empty());
}

async fn stop_reaches_the_claimant(s: &dyn ExecutionStore) {
    s.create(new_execution("a", "{}", 0)).await.unwrap();
    let c = claim_one(s, "w", 0).await;
    let stop = |error: &str| Signal::Stop {
        execution_arn: arn("a"),
        error: Some(error.into()),
        cause: Some("by hand".into()),
    };
    s.signal(stop("Halt"), t(2)).await.unwrap();
    s.signal(stop("Second"), t(3)).await.unwrap(); // the first request stands
    let expected = Some(StopRequest {
        error: Some("Halt".into()),
        cause: Some("by hand".into()),
        requested: t(2),
    });
    assert_eq!(s.renew(&c, t(40)).await.unwrap().stop, expected);
    assert_eq!(s.load(&c).await.unwrap().stop, expected);
    // parked far in the future, the stop makes it due at once for the next claimer
    let park = Transition {
        run_at: Some(t(100_000)),
        ..Transition::default()
    };
    s.commit(&c, park).await.unwrap();
    s.release(&c).await.unwrap();
    let next = claim_one(s, "w2", 4).await;
    s.commit(&next, ending(Status::Aborted, 5)).await.unwrap();
    // stopping an ended execution does nothing
    s.signal(stop("Late"), t(6)).await.unwrap();
    let r = s.describe(&arn("a")).await.unwrap();
    assert_eq!(
        (r.status, r.error.as_deref(), r.stop_date),
        (ExecutionStatus::Aborted, Some("Boom"), Some(t(5)))
    );
}

async fn history_pages_in_both_orders(s: &dyn ExecutionStore) {
    s.create(new_execution("a", "{}", 0)).await.unwrap();
    let c = claim_one(s, "w", 0).await;
    let more = (2..=5)
        .map(|id| event(id, id - 1, "PassStateEntered"))
        .collect();
    s.commit(&c, events(more)).await.unwrap();
    let pages = |reverse_order: bool| async move {
        let query = HistoryQuery {
            reverse_order,
            max_results: 2,
        };
        let mut token = None;
        let mut pages = Vec::new();
        loop {
            let page = s
                .history(&arn("a"), &query, token.as_deref())
                .await
                .unwrap();
            pages.push(ids(&page.items));
            match page.next_token {
                Some(next) => token = Some(next),
                None => return pages,
            }
        }
    };
    assert_eq!(pages(false).await, [vec![1, 2], vec![3, 4], vec![5]]);
    assert_eq!(pages(true).await, [vec![5, 4], vec![3, 2], vec![1]]);
    let whole = s
        .history(&arn("a"), &HistoryQuery::default(), None)
        .await
        .unwrap();
    assert_eq!(
        (ids(&whole.items), whole.next_token),
        (vec![1, 2, 3, 4, 5], None)
    );
    // Compatibility (lib.rs, "Execution stores"): AWS's text for a bad paging token is not recorded
    let bad = s
        .history(&arn("a"), &HistoryQuery::default(), Some("garbage"))
        .await
        .unwrap_err();
    assert_eq!(
        (bad.name(), bad.to_string().as_str()),
        ("InvalidToken", "Invalid Token: 'garbage'")
    );
}

async fn list_filters_and_pages_newest_first(s: &dyn ExecutionStore) {
    for (name, start) in [("e1", 1), ("e2", 2), ("e3", 3), ("e4", 3), ("e5", 5)] {
        s.create(new_execution(name, "{}", start)).await.unwrap();
    }
    let mut other = new_execution("o1", "{}", 4);
    other.state_machine_arn = "arn:aws:states:us-east-1:123456789012:stateMachine:Other".into();
    other.execution_arn = "arn:aws:states:us-east-1:123456789012:execution:Other:o1".into();
    s.create(other).await.unwrap();
    // e5 fails, e1 succeeds
    for c in s.claim("w", t(100), LEASE, 10).await.unwrap() {
        match c.execution_arn.rsplit(':').next() {
            Some("e5") => s.commit(&c, ending(Status::Failed, 6)).await.unwrap(),
            Some("e1") => s.commit(&c, ending(Status::Succeeded, 6)).await.unwrap(),
            _ => s.release(&c).await.unwrap(),
        }
    }
    let names = |filter: ListFilter| async move {
        let mut token = None;
        let mut pages = Vec::new();
        loop {
            let page = s.list(&filter, token.as_deref()).await.unwrap();
            pages.push(
                page.items
                    .iter()
                    .map(|e| e.name.clone())
                    .collect::<Vec<_>>(),
            );
            match page.next_token {
                Some(next) => token = Some(next),
                None => return pages,
            }
        }
    };
    let mine = |max_results| ListFilter {
        state_machine_arn: Some(MACHINE.into()),
        max_results,
        ..ListFilter::default()
    };
    // same start date: the later created first
    assert_eq!(
        names(mine(2)).await,
        [vec!["e5", "e4"], vec!["e3", "e2"], vec!["e1"]]
    );
    assert_eq!(
        names(ListFilter::default()).await,
        [vec!["e5", "o1", "e4", "e3", "e2", "e1"]]
    );
    let running = ListFilter {
        status: Some(ExecutionStatus::Running),
        ..mine(0)
    };
    assert_eq!(names(running).await, [vec!["e4", "e3", "e2"]]);
    let failed = ListFilter {
        status: Some(ExecutionStatus::Failed),
        ..ListFilter::default()
    };
    let page = s.list(&failed, None).await.unwrap();
    assert_eq!(
        (
            page.items[0].name.as_str(),
            page.items[0].stop_date,
            page.items[0].status
        ),
        ("e5", Some(t(6)), ExecutionStatus::Failed)
    );
    s.redrive(&arn("e5"), t(7)).await.unwrap();
    let redriven = ListFilter {
        redriven: Some(true),
        ..ListFilter::default()
    };
    assert_eq!(names(redriven).await, [vec!["e5"]]);
    let not_redriven = ListFilter {
        redriven: Some(false),
        ..mine(0)
    };
    assert_eq!(names(not_redriven).await, [vec!["e4", "e3", "e2", "e1"]]);
    let bad = s
        .list(&ListFilter::default(), Some("e3"))
        .await
        .unwrap_err();
    assert_eq!(bad, StoreError::InvalidToken("e3".into()));
}

async fn next_due_is_the_earliest_due_time(s: &dyn ExecutionStore) {
    assert_eq!(s.next_due().await.unwrap(), None);
    let mut a = new_execution("a", "{}", 0);
    a.run_at = Some(t(50));
    s.create(a).await.unwrap();
    assert_eq!(s.next_due().await.unwrap(), Some(t(50)));
    s.create(new_execution("b", "{}", 10)).await.unwrap();
    assert_eq!(s.next_due().await.unwrap(), Some(t(10)));
    // b leased until t(40) and still due: claimable again when the lease ends
    let c = claim_one(s, "w", 10).await;
    assert_eq!(s.next_due().await.unwrap(), Some(t(40)));
    // b waits for a callback only: a is next
    s.commit(&c, opening("tok")).await.unwrap();
    assert_eq!(s.next_due().await.unwrap(), Some(t(50)));
}

async fn redrive_runs_a_failed_execution_again(s: &dyn ExecutionStore) {
    s.create(new_execution("a", "{}", 0)).await.unwrap();
    let c = claim_one(s, "w", 0).await;
    let mut fail = ending(Status::Failed, 10);
    fail.frames = vec![frame("", json!({"state": "Charge", "failed": true}))];
    fail.events = vec![event(2, 1, "ExecutionFailed")];
    s.commit(&c, fail).await.unwrap();
    let r = s.redrive(&arn("a"), t(20)).await.unwrap();
    assert_eq!((r.redrive_count, r.redrive_date), (1, t(20)));
    let rec = s.describe(&arn("a")).await.unwrap();
    assert_eq!(
        (rec.status, rec.redrive_count, rec.redrive_date),
        (ExecutionStatus::Running, 1, Some(t(20)))
    );
    assert_eq!(
        (rec.stop_date, rec.error, rec.cause, rec.last_event_id),
        (None, None, None, 3)
    );
    let last = s
        .history(
            &arn("a"),
            &HistoryQuery {
                reverse_order: true,
                max_results: 1,
            },
            None,
        )
        .await
        .unwrap();
    let redriven = &last.items[0];
    // Compatibility (lib.rs, "Execution stores"): previousEventId = the last event is our reading
    assert_eq!(
        (redriven.id, redriven.previous_event_id, redriven.timestamp),
        (3, 2, t(20))
    );
    assert_eq!(
        redriven.to_json(),
        json!({"timestamp": "2023-11-14T22:13:40.000Z", "type": "ExecutionRedriven", "id": 3, "previousEventId": 2, "executionRedrivenEventDetails": {"redriveCount": 1}})
    );
    // the old claim is fenced; a new claimer sees the frames to re-arm
    assert_eq!(
        s.commit(&c, Transition::default()).await.unwrap_err(),
        StoreError::LeaseLost(arn("a"))
    );
    let again = claim_one(s, "w2", 20).await;
    let snap = s.load(&again).await.unwrap();
    assert_eq!(
        (snap.record.redrive_count, snap.frames),
        (
            1,
            vec![frame("", json!({"state": "Charge", "failed": true}))]
        )
    );
}

/// Compatibility (lib.rs, "Execution stores"): the refusal texts are AWS's documented
/// redriveStatusReason strings; how AWS measures the periods and the event limit is our reading.
async fn redrive_follows_aws_rules(s: &dyn ExecutionStore) {
    let refusal = |reason: &str| StoreError::ExecutionNotRedrivable(reason.into());
    for (name, status) in [
        ("ok", Status::Succeeded),
        ("timed-out", Status::TimedOut),
        ("aborted", Status::Aborted),
    ] {
        s.create(new_execution(name, "{}", 0)).await.unwrap();
        let c = claim_one(s, "w", 0).await;
        s.commit(&c, ending(status, 10)).await.unwrap();
    }
    let mut running = new_execution("running", "{}", 0);
    running.run_at = None;
    s.create(running).await.unwrap();
    assert_eq!(
        s.redrive(&arn("running"), t(20)).await.unwrap_err(),
        refusal("Execution is RUNNING and cannot be redriven")
    );
    let succeeded = s.redrive(&arn("ok"), t(20)).await.unwrap_err();
    assert_eq!(
        succeeded,
        refusal("Execution is SUCCEEDED and cannot be redriven")
    );
    assert_eq!(
        (succeeded.name(), succeeded.to_string().as_str()),
        (
            "ExecutionNotRedrivable",
            "Execution is SUCCEEDED and cannot be redriven"
        )
    );
    // 14 days after it stopped: still redrivable; a second later, not
    let fourteen_days = 14 * 24 * 3600;
    assert_eq!(
        s.redrive(&arn("timed-out"), t(10 + fourteen_days + 1))
            .await
            .unwrap_err(),
        refusal("Execution redrivable period exceeded")
    );
    assert_eq!(
        s.redrive(&arn("timed-out"), t(10 + fourteen_days))
            .await
            .unwrap()
            .redrive_count,
        1
    );
    // a year after it started
    assert_eq!(
        s.redrive(&arn("aborted"), t(365 * 24 * 3600 + 1))
            .await
            .unwrap_err(),
        refusal("Execution has exceeded the max execution time")
    );
    // a history at AWS's event limit
    s.create(new_execution("long", "{}", 0)).await.unwrap();
    let c = claim_one(s, "w", 0).await;
    let mut end = ending(Status::Failed, 10);
    end.events = vec![event(25_000, 1, "ExecutionFailed")];
    s.commit(&c, end).await.unwrap();
    assert_eq!(
        s.redrive(&arn("long"), t(20)).await.unwrap_err(),
        refusal("Execution history event limit exceeded")
    );
}
