//! The durable driver (`Durable`): executions started in a store, run by
//! workers that commit a checkpoint per transition, interrupted at every
//! commit and resumed by another worker, parked in a Wait, fenced when a
//! stale worker comes back. Each case runs on `MemoryStore` and (feature
//! `sqlite`) on a `SqliteStore` in a temp file. Virtual time: nothing
//! sleeps.

use crate::common::durable::{t, Failing, MACHINE};
use crate::common::LAMBDA;
use async_trait::async_trait;
use futures::channel::oneshot;
use serde_json::{json, Value};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use stepfn::durable::{
    Durable, ExecutionStore, HistoryQuery, ListFilter, MemoryStore, Signal, StartError,
    StartExecution, StoreError, StoredEvent, WorkResult,
};
use stepfn::{
    Clock, ExecutionIdentity, Outcome, StateMachine, StatesError, Status, TaskExecutor,
    TaskRequest, TimeOverrides, VirtualClock,
};

crate::common::durable::store_suite!(
    "driver";
    a_durable_run_has_the_output_and_history_of_an_in_memory_run,
    a_failing_durable_run_has_the_outcome_and_history_of_an_in_memory_run,
    interrupted_at_every_commit_it_resumes_to_the_same_end,
    a_parked_wait_is_resumed_by_another_worker,
    a_stale_claimant_is_fenced_off,
    a_dead_worker_is_replaced_once_its_lease_ends,
    start_is_idempotent_by_name,
    a_parked_execution_times_out_on_time,
    a_stop_ends_a_parked_execution,
    a_durable_jsonata_run_has_the_output_and_history_of_an_in_memory_run,
    overridden_waits_and_back_offs_park_until_their_overridden_end,
    a_checkpoint_that_can_never_commit_is_shelved_not_retried,
    an_unreadable_execution_is_shelved_not_retried,
);

// ---------------------------------------------------------------------------
// The machine, its executor, the in-memory reference run

fn lambda(name: &str) -> String {
    LAMBDA.replace(":function:f", &format!(":function:{name}"))
}

/// Pass (with Assign), Task with Retry (a back-off of 2 s), Wait of an
/// hour, Choice, Task with Catch, Pass reading variables and the context
/// object, Succeed or Fail.
fn machine() -> StateMachine {
    crate::common::machine(json!({
        "StartAt": "Init",
        "States": {
            "Init": {"Type": "Pass", "Parameters": {"n.$": "$.start"}, "Assign": {"greeting": "hi"}, "Next": "Call"},
            "Call": {"Type": "Task", "Resource": lambda("flaky"),
                     "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 2}], "Next": "Nap"},
            "Nap": {"Type": "Wait", "Seconds": 3600, "Next": "Check"},
            "Check": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Risky"}], "Default": "Bad"},
            "Risky": {"Type": "Task", "Resource": lambda("boom"),
                      "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "Done"}], "Next": "Done"},
            "Done": {"Type": "Pass", "Parameters": {"n.$": "$.n", "caught.$": "$.caught", "greeting.$": "$greeting", "at.$": "$$.State.EnteredTime"}, "Next": "End"},
            "End": {"Type": "Succeed"},
            "Bad": {"Type": "Fail", "Error": "Bad", "Cause": "n is too small"}
        }
    }))
}

/// [`machine`] in JSONata: Arguments, Output, Assign, a Wait with an
/// Output, a catcher's Output, `$states.context`.
fn machine_jsonata() -> StateMachine {
    crate::common::machine(json!({
        "QueryLanguage": "JSONata",
        "StartAt": "Init",
        "States": {
            "Init": {"Type": "Pass", "Output": {"n": "{% $states.input.start %}"}, "Assign": {"greeting": "hi"}, "Next": "Call"},
            "Call": {"Type": "Task", "Resource": lambda("flaky"), "Arguments": {"n": "{% $states.input.n %}"},
                     "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 2}], "Next": "Nap"},
            "Nap": {"Type": "Wait", "Seconds": 3600, "Output": {"n": "{% $states.input.n %}", "slept": true}, "Next": "Check"},
            "Check": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.n > 1 %}", "Next": "Risky"}], "Default": "Bad"},
            "Risky": {"Type": "Task", "Resource": lambda("boom"), "Arguments": {"n": "{% $states.input.n %}"},
                      "Catch": [{"ErrorEquals": ["States.ALL"], "Output": {"n": "{% $states.input.n %}", "caught": "{% $states.errorOutput %}"}, "Next": "Done"}], "Next": "Done"},
            "Done": {"Type": "Pass", "Output": {"n": "{% $states.input.n %}", "caught": "{% $states.input.caught %}", "greeting": "{% $greeting %}", "at": "{% $states.context.State.EnteredTime %}"}, "Next": "End"},
            "End": {"Type": "Succeed"},
            "Bad": {"Type": "Fail", "Error": "Bad", "Cause": "n is too small"}
        }
    }))
}

/// `flaky` fails its first attempt (`Flaky`) and then adds one to `n`;
/// `boom` always fails. Every call's idempotency key is logged.
#[derive(Default)]
struct Lambdas {
    keys: Mutex<Vec<String>>,
    /// While set, the next call waits for it (a worker stuck in a call).
    gate: Mutex<Option<oneshot::Receiver<()>>>,
    calls: AtomicUsize,
}

#[async_trait]
impl TaskExecutor for Lambdas {
    async fn execute(&self, request: TaskRequest<'_>) -> Result<Value, StatesError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let key = request.idempotency_key().expect("a key");
        self.keys.lock().unwrap().push(key);
        let gate = self.gate.lock().unwrap().take();
        if let Some(gate) = gate {
            let _ = gate.await;
        }
        if request.resource.arn.ends_with(":boom") {
            return Err(StatesError::new("Boom", "it broke"));
        }
        if request.retry_count == 0 {
            return Err(StatesError::new("Flaky", "try again"));
        }
        let n = request.parameters["n"].as_i64().unwrap_or_default();
        Ok(json!({"n": n + 1}))
    }
}

impl Lambdas {
    fn keys(&self) -> Vec<String> {
        self.keys.lock().unwrap().clone()
    }
}

fn execution_arn(name: &str) -> String {
    format!("arn:aws:states:us-east-1:123456789012:execution:M:{name}")
}

fn start_request(name: &str, start: i64) -> StartExecution {
    StartExecution {
        state_machine_arn: MACHINE.into(),
        name: name.into(),
        input: json!({"start": start}),
    }
}

/// The same execution run in memory, uninterrupted, from `t(0)`.
async fn in_memory(name: &str, start: i64) -> (Outcome, Vec<String>) {
    in_memory_of(&machine(), name, start).await
}

/// [`in_memory`] for `sm`.
async fn in_memory_of(sm: &StateMachine, name: &str, start: i64) -> (Outcome, Vec<String>) {
    let mut identity = ExecutionIdentity::new();
    identity.state_machine_arn = Some(MACHINE.into());
    identity.execution_arn = Some(execution_arn(name));
    identity.execution_name = Some(name.into());
    identity.start_time = Some(t(0));
    let lambdas = Lambdas::default();
    let outcome = sm
        .execution()
        .with_clock(VirtualClock::starting_at(t(0)))
        .with_identity(identity)
        .with_history(true)
        .run(&lambdas, json!({"start": start}))
        .await;
    (outcome, lambdas.keys())
}

/// The whole stored history of an execution, as JSON.
async fn history(store: &dyn ExecutionStore, name: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut token = None;
    loop {
        let page = store
            .history(
                &execution_arn(name),
                &HistoryQuery::default(),
                token.as_deref(),
            )
            .await
            .expect("history");
        all.extend(page.items.iter().map(StoredEvent::to_json));
        match page.next_token {
            Some(next) => token = Some(next),
            None => return all,
        }
    }
}

/// Asserts two histories are equal, showing the first event that differs.
fn assert_same_events(got: &[Value], want: &[Value], name: &str) {
    let first = got.iter().zip(want).position(|(g, w)| g != w);
    if let Some(i) = first {
        panic!(
            "{name}: event {i} differs:\n got {}\nwant {}",
            got[i], want[i]
        );
    }
    assert_eq!(got.len(), want.len(), "{name}");
}

fn json_history(outcome: &Outcome) -> Vec<Value> {
    let events = outcome.history.as_ref().expect("recorded");
    events.iter().map(|e| e.to_json()).collect()
}

/// Polls `run` until it calls `lambdas` (a store on a thread of its own
/// answers in its own time), and asserts it is stuck in that call.
fn poll_until_called<F: Future>(mut run: Pin<&mut F>, lambdas: &Lambdas) {
    let waker = futures::task::noop_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    for _ in 0..10_000 {
        assert!(run.as_mut().poll(&mut cx).is_pending());
        if lambdas.calls.load(Ordering::SeqCst) == 1 {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    panic!("the worker never called its executor");
}

/// A worker on `clock`, with `lease`.
fn worker<'s>(
    store: &'s dyn ExecutionStore,
    clock: &VirtualClock,
    id: &str,
    lease: Duration,
) -> Durable<&'s dyn ExecutionStore> {
    Durable::new(store)
        .with_clock(clock.clone())
        .with_worker_id(id)
        .with_lease(lease)
}

/// Asserts the stored execution ended as the in-memory run did, with the
/// same history.
async fn assert_same_end(store: &dyn ExecutionStore, name: &str, reference: &Outcome) {
    let record = store
        .describe(&execution_arn(name))
        .await
        .expect("describe");
    assert_eq!(record.status, reference.status.into());
    assert_eq!(
        record
            .output
            .as_deref()
            .map(|o| serde_json::from_str::<Value>(o).unwrap()),
        reference.output
    );
    assert_eq!(record.error, reference.error);
    assert_eq!(record.cause, reference.cause);
    assert_eq!(history(store, name).await, json_history(reference));
}

// ---------------------------------------------------------------------------
// Cases

async fn a_durable_run_has_the_output_and_history_of_an_in_memory_run(s: &dyn ExecutionStore) {
    let (reference, keys) = in_memory("ok", 1).await;
    assert_eq!(reference.status, Status::Succeeded);
    let clock = VirtualClock::starting_at(t(0));
    let worker = worker(s, &clock, "w1", Duration::from_secs(30));
    worker
        .start(&machine(), start_request("ok", 1))
        .await
        .unwrap();
    let lambdas = Lambdas::default();
    let worked = worker.run_until_idle(&lambdas).await.unwrap();
    let results: Vec<_> = worked.into_iter().map(|w| w.result).collect();
    assert_eq!(
        results,
        [
            WorkResult::Parked(t(2)),
            WorkResult::Parked(t(2 + 3600)),
            WorkResult::Ended(Status::Succeeded)
        ]
    );
    assert_same_end(s, "ok", &reference).await;
    assert_eq!(lambdas.keys(), keys);
    // the keys name the execution, the top level, the state entered, the attempt
    let arn = execution_arn("ok");
    assert_eq!(
        keys,
        [
            format!("{arn}//4/0"),
            format!("{arn}//4/1"),
            format!("{arn}//16/0")
        ]
    );
}

async fn a_durable_jsonata_run_has_the_output_and_history_of_an_in_memory_run(
    s: &dyn ExecutionStore,
) {
    let (reference, _) = in_memory_of(&machine_jsonata(), "ok", 1).await;
    assert_eq!(reference.status, Status::Succeeded);
    let clock = VirtualClock::starting_at(t(0));
    let worker = worker(s, &clock, "w1", Duration::from_secs(30));
    worker
        .start(&machine_jsonata(), start_request("ok", 1))
        .await
        .unwrap();
    worker.run_until_idle(&Lambdas::default()).await.unwrap();
    assert_same_events(&history(s, "ok").await, &json_history(&reference), "ok");
    assert_same_end(s, "ok", &reference).await;
}

async fn a_failing_durable_run_has_the_outcome_and_history_of_an_in_memory_run(
    s: &dyn ExecutionStore,
) {
    let (reference, _) = in_memory("bad", -5).await;
    assert_eq!(reference.status, Status::Failed);
    let clock = VirtualClock::starting_at(t(0));
    let worker = worker(s, &clock, "w1", Duration::from_secs(30));
    worker
        .start(&machine(), start_request("bad", -5))
        .await
        .unwrap();
    worker.run_until_idle(&Lambdas::default()).await.unwrap();
    assert_same_end(s, "bad", &reference).await;
}

async fn interrupted_at_every_commit_it_resumes_to_the_same_end(s: &dyn ExecutionStore) {
    let forms = [("path", machine()), ("jsonata", machine_jsonata())];
    for ((form, sm), start) in forms.iter().flat_map(|f| [(f, 1), (f, -5)]) {
        let (reference, reference_keys) = in_memory_of(sm, "ref", start).await;
        // how many commits an uninterrupted durable run makes
        let commits = {
            let store = MemoryStore::new();
            let counting = Failing {
                store: &store,
                fail_at: usize::MAX,
                lands: false,
                commits: AtomicUsize::new(0),
            };
            let clock = VirtualClock::starting_at(t(0));
            let w = Durable::new(&counting).with_clock(clock);
            w.start(sm, start_request("ref", start)).await.unwrap();
            let worked = w.run_until_idle(&Lambdas::default()).await.unwrap();
            assert!(
                matches!(worked.last().unwrap().result, WorkResult::Ended(_)),
                "{worked:?}"
            );
            counting.commits.load(Ordering::SeqCst)
        };
        assert!(commits >= 5, "{commits} commits");
        for fail_at in 1..=commits {
            for lands in [false, true] {
                let name = format!("crash-{form}-{start}-{fail_at}-{lands}");
                let failing = Failing {
                    store: s,
                    fail_at,
                    lands,
                    commits: AtomicUsize::new(0),
                };
                let clock = VirtualClock::starting_at(t(0));
                // a zero lease: the second worker resumes at once, so that
                // the history's timestamps are those of an uninterrupted run
                let first = Durable::new(&failing)
                    .with_clock(clock.clone())
                    .with_worker_id("first")
                    .with_lease(Duration::ZERO);
                first.start(sm, start_request(&name, start)).await.unwrap();
                let lambdas = Lambdas::default();
                let mut dropped = false;
                while !dropped {
                    let worked = first.run_due(&lambdas).await.unwrap();
                    if worked.is_empty() {
                        let due = s.next_due().await.unwrap().expect("due");
                        clock.advance(due.duration_since(clock.now()).unwrap_or_default());
                        continue;
                    }
                    dropped = worked
                        .iter()
                        .any(|w| matches!(w.result, WorkResult::Dropped(_)));
                    if worked
                        .iter()
                        .any(|w| matches!(w.result, WorkResult::Ended(_)))
                    {
                        break;
                    }
                }
                assert!(dropped, "commit {fail_at} was not interrupted");
                let second = worker(s, &clock, "second", Duration::ZERO);
                second.run_until_idle(&lambdas).await.unwrap();
                let record = s.describe(&execution_arn(&name)).await.unwrap();
                assert_eq!(record.status, reference.status.into(), "{name}");
                let mut want = json_history(&reference);
                let got = history(s, &name).await;
                // the reference ran under the name "ref"
                for e in want.iter_mut() {
                    let text = e.to_string().replace(":M:ref", &format!(":M:{name}"));
                    *e = serde_json::from_str(&text).unwrap();
                }
                assert_same_events(&got, &want, &name);
                // a call made again after the crash has the same key
                let mut keys = lambdas.keys();
                keys.dedup();
                let want_keys: Vec<String> = reference_keys
                    .iter()
                    .map(|k| k.replace(":M:ref", &format!(":M:{name}")))
                    .collect();
                assert_eq!(keys, want_keys, "{name}");
            }
        }
    }
}

async fn a_parked_wait_is_resumed_by_another_worker(s: &dyn ExecutionStore) {
    let (reference, _) = in_memory("nap", 1).await;
    let arn = execution_arn("nap");
    let clock = VirtualClock::starting_at(t(0));
    let lease = Duration::from_secs(30);
    // the first worker parks the execution in its retry's back-off (2 s)
    let first = worker(s, &clock, "first", lease);
    first
        .start(&machine(), start_request("nap", 1))
        .await
        .unwrap();
    let lambdas = Lambdas::default();
    let worked = first.run_due(&lambdas).await.unwrap();
    assert_eq!(worked[0].result, WorkResult::Parked(t(2)));
    assert_eq!(lambdas.keys(), [format!("{arn}//4/0")]);
    // nothing of it is left in memory: no sleep, no lease
    assert_eq!(clock.pending_sleeps(), 0);
    assert_eq!(s.next_due().await.unwrap(), Some(t(2)));
    drop(first);
    // a second worker makes the retry (its counters restored) and parks
    // it in the Wait of an hour
    let second = worker(s, &clock, "second", lease);
    let lambdas = Lambdas::default();
    assert!(second.run_due(&lambdas).await.unwrap().is_empty());
    clock.advance(Duration::from_secs(2));
    let worked = second.run_due(&lambdas).await.unwrap();
    assert_eq!(worked[0].result, WorkResult::Parked(t(3602)));
    assert_eq!(lambdas.keys(), [format!("{arn}//4/1")]);
    assert_eq!(clock.pending_sleeps(), 0);
    drop(second);
    // a third one wakes it when it is due, and ends it
    let third = worker(s, &clock, "third", lease);
    let lambdas = Lambdas::default();
    let worked = third.run_until_idle(&lambdas).await.unwrap();
    assert_eq!(worked[0].result, WorkResult::Ended(Status::Succeeded));
    assert_eq!(clock.now(), t(3602));
    assert_eq!(lambdas.keys(), [format!("{arn}//16/0")]);
    assert_same_end(s, "nap", &reference).await;
}

async fn overridden_waits_and_back_offs_park_until_their_overridden_end(s: &dyn ExecutionStore) {
    let overrides = TimeOverrides::new()
        .with_retry_interval("Call", Duration::from_secs(1))
        .with_wait("Nap", Duration::from_secs(60));
    let clock = VirtualClock::starting_at(t(0));
    let w = worker(s, &clock, "w", Duration::from_secs(30)).with_time_overrides(overrides.clone());
    w.start(&machine(), start_request("quick", 2))
        .await
        .unwrap();
    let worked = w.run_until_idle(&Lambdas::default()).await.unwrap();
    let results: Vec<_> = worked.into_iter().map(|w| w.result).collect();
    assert_eq!(
        results,
        [
            WorkResult::Parked(t(1)),
            WorkResult::Parked(t(61)),
            WorkResult::Ended(Status::Succeeded)
        ]
    );
    // the stored history is that of an in-memory run with the overrides
    let mut identity = ExecutionIdentity::new();
    identity.state_machine_arn = Some(MACHINE.into());
    identity.execution_arn = Some(execution_arn("quick"));
    identity.execution_name = Some("quick".into());
    identity.start_time = Some(t(0));
    let reference = machine()
        .execution()
        .with_clock(VirtualClock::starting_at(t(0)))
        .with_identity(identity)
        .with_history(true)
        .with_time_overrides(overrides)
        .run(&Lambdas::default(), json!({"start": 2}))
        .await;
    assert_same_end(s, "quick", &reference).await;
}

async fn a_stale_claimant_is_fenced_off(s: &dyn ExecutionStore) {
    let (reference, _) = in_memory("fenced", 1).await;
    let clock = VirtualClock::starting_at(t(0));
    let lease = Duration::from_secs(30);
    let stale = worker(s, &clock, "stale", lease);
    stale
        .start(&machine(), start_request("fenced", 1))
        .await
        .unwrap();
    // the stale worker gets stuck in its first task call
    let (open, gate) = oneshot::channel();
    let stuck = Lambdas::default();
    *stuck.gate.lock().unwrap() = Some(gate);
    let mut stale_run = Box::pin(stale.run_due(&stuck));
    poll_until_called(stale_run.as_mut(), &stuck);
    // its lease lapses; another worker resumes and ends the execution
    clock.advance(lease);
    let fresh = worker(s, &clock, "fresh", lease);
    let worked = fresh.run_until_idle(&Lambdas::default()).await.unwrap();
    assert_eq!(
        worked.last().unwrap().result,
        WorkResult::Ended(Status::Succeeded)
    );
    let ended = history(s, "fenced").await;
    // the stale worker's call answers at last: its commit is refused and
    // it writes nothing
    open.send(()).unwrap();
    let worked = stale_run.await.unwrap();
    assert_eq!(
        worked[0].result,
        WorkResult::Dropped(StoreError::LeaseLost(execution_arn("fenced")))
    );
    assert_eq!(history(s, "fenced").await, ended);
    let record = s.describe(&execution_arn("fenced")).await.unwrap();
    assert_eq!(
        record
            .output
            .map(|o| serde_json::from_str::<Value>(&o).unwrap()["n"].clone()),
        reference.output.map(|o| o["n"].clone())
    );
}

async fn a_dead_worker_is_replaced_once_its_lease_ends(s: &dyn ExecutionStore) {
    let clock = VirtualClock::starting_at(t(0));
    let lease = Duration::from_secs(30);
    let dead = worker(s, &clock, "dead", lease);
    dead.start(&machine(), start_request("dead", 1))
        .await
        .unwrap();
    // the worker dies inside its first call: its future is dropped
    let (_never, gate) = oneshot::channel::<()>();
    let stuck = Lambdas::default();
    *stuck.gate.lock().unwrap() = Some(gate);
    {
        let mut run = Box::pin(dead.run_due(&stuck));
        poll_until_called(run.as_mut(), &stuck);
    }
    // nobody else may claim it while the lease holds
    let heir = worker(s, &clock, "heir", lease);
    let lambdas = Lambdas::default();
    assert!(heir.run_due(&lambdas).await.unwrap().is_empty());
    // then the heir resumes it from its last commit (the Task's entry)
    let worked = heir.run_until_idle(&lambdas).await.unwrap();
    assert_eq!(
        worked.last().unwrap().result,
        WorkResult::Ended(Status::Succeeded)
    );
    let arn = execution_arn("dead");
    // the call the dead worker made is made again, with the same key:
    // at-least-once, where AWS promises Standard tasks run at most once
    // unless retried (a deliberate divergence, in the crate's Compatibility)
    assert_eq!(stuck.keys(), [format!("{arn}//4/0")]);
    assert_eq!(lambdas.keys()[0], format!("{arn}//4/0"));
    let record = s.describe(&arn).await.unwrap();
    assert_eq!(record.status, stepfn::durable::ExecutionStatus::Succeeded);
    // one history, without gaps or repeats
    let ids: Vec<u64> = history(s, "dead")
        .await
        .iter()
        .map(|e| e["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>());
}

async fn start_is_idempotent_by_name(s: &dyn ExecutionStore) {
    let clock = VirtualClock::starting_at(t(0));
    let w = worker(s, &clock, "w", Duration::from_secs(30));
    let first = w.start(&machine(), start_request("once", 1)).await.unwrap();
    assert!(first.created);
    let again = w.start(&machine(), start_request("once", 1)).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.execution_arn, execution_arn("once"));
    let other = w.start(&machine(), start_request("once", 2)).await;
    assert!(matches!(
        other,
        Err(StartError::Store(StoreError::ExecutionAlreadyExists(a))) if a == execution_arn("once")
    ));
}

async fn a_parked_execution_times_out_on_time(s: &dyn ExecutionStore) {
    let sm = crate::common::machine(json!({
        "TimeoutSeconds": 10,
        "StartAt": "Nap",
        "States": {"Nap": {"Type": "Wait", "Seconds": 3600, "End": true}}
    }));
    let mut identity = ExecutionIdentity::new();
    identity.state_machine_arn = Some(MACHINE.into());
    identity.execution_arn = Some(execution_arn("late"));
    identity.start_time = Some(t(0));
    let reference = sm
        .execution()
        .with_clock(VirtualClock::starting_at(t(0)))
        .with_identity(identity)
        .with_history(true)
        .run(&Lambdas::default(), json!({"start": 1}))
        .await;
    assert_eq!(reference.status, Status::TimedOut);
    let clock = VirtualClock::starting_at(t(0));
    let w = worker(s, &clock, "w", Duration::from_secs(30));
    w.start(&sm, start_request("late", 1)).await.unwrap();
    let worked = w.run_until_idle(&Lambdas::default()).await.unwrap();
    // parked until the execution's timeout, not the end of the Wait
    assert_eq!(worked[0].result, WorkResult::Parked(t(10)));
    assert_eq!(worked[1].result, WorkResult::Ended(Status::TimedOut));
    assert_same_end(s, "late", &reference).await;
}

async fn a_stop_ends_a_parked_execution(s: &dyn ExecutionStore) {
    let clock = VirtualClock::starting_at(t(0));
    let w = worker(s, &clock, "w", Duration::from_secs(30));
    w.start(&machine(), start_request("stopped", 1))
        .await
        .unwrap();
    let lambdas = Lambdas::default();
    let worked = w.run_due(&lambdas).await.unwrap();
    assert_eq!(worked[0].result, WorkResult::Parked(t(2)));
    let stop = Signal::Stop {
        execution_arn: execution_arn("stopped"),
        error: Some("Halt".into()),
        cause: Some("by hand".into()),
    };
    s.signal(stop, clock.now()).await.unwrap();
    // due at once, and ended without another task call
    let worked = w.run_due(&lambdas).await.unwrap();
    assert_eq!(worked[0].result, WorkResult::Ended(Status::Aborted));
    assert_eq!(lambdas.calls.load(Ordering::SeqCst), 1);
    let record = s.describe(&execution_arn("stopped")).await.unwrap();
    assert_eq!(record.status, stepfn::durable::ExecutionStatus::Aborted);
    assert_eq!(
        (record.error.as_deref(), record.cause.as_deref()),
        (Some("Halt"), Some("by hand"))
    );
    let events = history(s, "stopped").await;
    let last = events.last().unwrap();
    assert_eq!(
        *last,
        json!({"timestamp": "2023-11-14T22:13:20.000Z", "type": "ExecutionAborted", "id": 8, "previousEventId": 7,
               "executionAbortedEventDetails": {"error": "Halt", "cause": "by hand"}})
    );
}

/// The stored history moved on without the checkpoint (here by a meddling
/// claimant: in the wild a store bug, a hand edit, a redrive the driver
/// does not know): the worker's first commit is refused for good. It ends
/// its work on it at once, takes it off the schedule and lets it go: no
/// worker claims it again, and a StopExecution still ends it.
async fn a_checkpoint_that_can_never_commit_is_shelved_not_retried(s: &dyn ExecutionStore) {
    use crate::common::durable::{claim_one, event, events};
    let clock = VirtualClock::starting_at(t(0));
    let lease = Duration::from_secs(30);
    let w = worker(s, &clock, "w", lease);
    w.start(&machine(), start_request("stale", 1))
        .await
        .unwrap();
    let meddler = claim_one(s, "meddler", 0).await;
    s.commit(&meddler, events(vec![event(2, 1, "PassStateEntered")]))
        .await
        .unwrap();
    s.release(&meddler).await.unwrap();
    let lambdas = Lambdas::default();
    let worked = w.run_due(&lambdas).await.unwrap();
    assert_eq!(
        worked[0].result,
        WorkResult::Stuck(StoreError::Conflict(
            "history event 2 is already stored".into()
        ))
    );
    // nothing is due, now or once the lease would have ended
    assert_eq!(s.next_due().await.unwrap(), None);
    clock.advance(lease * 2);
    assert!(w.run_until_idle(&lambdas).await.unwrap().is_empty());
    let record = s.describe(&execution_arn("stale")).await.unwrap();
    assert_eq!(record.status, stepfn::durable::ExecutionStatus::Running);
    // a stop is honoured before the checkpoint is read
    let stop = Signal::Stop {
        execution_arn: execution_arn("stale"),
        error: None,
        cause: None,
    };
    s.signal(stop, clock.now()).await.unwrap();
    let worked = w.run_until_idle(&lambdas).await.unwrap();
    assert_eq!(worked.len(), 1);
    assert_eq!(worked[0].result, WorkResult::Ended(Status::Aborted));
    assert_eq!(lambdas.calls.load(Ordering::SeqCst), 0);
}

/// A stored execution without a checkpoint (or with a definition, a
/// checkpoint or an input that does not load) is shelved as a refused
/// commit is.
async fn an_unreadable_execution_is_shelved_not_retried(s: &dyn ExecutionStore) {
    use crate::common::durable::new_execution;
    let clock = VirtualClock::starting_at(t(0));
    let lease = Duration::from_secs(30);
    let w = worker(s, &clock, "w", lease);
    let mut start = new_execution("bare", "{}", 0);
    start.definition = machine().to_value().to_string();
    s.create(start).await.unwrap();
    let worked = w.run_due(&Lambdas::default()).await.unwrap();
    assert_eq!(
        worked[0].result,
        WorkResult::Stuck(StoreError::Backend(
            "the stored execution cannot be resumed: the execution has no checkpoint of its top level".into()
        ))
    );
    assert_eq!(s.next_due().await.unwrap(), None);
    clock.advance(lease * 2);
    assert!(w.run_due(&Lambdas::default()).await.unwrap().is_empty());
}

/// Every definition starts: a distributed Map, Waits and callbacks inside
/// branches and iterations all run durably (see `lines.rs` and
/// `interrupted.rs` for how).
#[test]
fn distributed_maps_nested_waits_and_callbacks_all_start() {
    let store = MemoryStore::new();
    let w = Durable::new(&store).with_clock(VirtualClock::starting_at(t(0)));
    let start = |name: &str, definition: Value| {
        let sm = crate::common::machine(definition);
        futures::executor::block_on(w.start(&sm, start_request(name, 1)))
    };
    let distributed = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}});
    let napping =
        json!({"StartAt": "N", "States": {"N": {"Type": "Wait", "Seconds": 1, "End": true}}});
    let calling = json!({"StartAt": "S", "States": {"S": {"Type": "Task", "End": true,
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken"}}});
    assert!(start("a", distributed).is_ok());
    assert!(start("b", json!({"StartAt": "F", "States": {"F": {"Type": "Parallel", "End": true,
        "Branches": [napping, {"StartAt": "M", "States": {"M": {"Type": "Map", "ItemProcessor": calling, "End": true}}}]}}}))
    .is_ok());
    let page = futures::executor::block_on(store.list(&ListFilter::default(), None)).unwrap();
    assert_eq!(page.items.len(), 2);
}

/// Refuses a commit made after the claimant's lease ended (as a store
/// would once another worker claimed the execution), on `clock`.
struct StrictLease<'s> {
    store: &'s dyn ExecutionStore,
    clock: VirtualClock,
    until: Mutex<Option<std::time::SystemTime>>,
}

#[async_trait]
impl ExecutionStore for StrictLease<'_> {
    async fn create(
        &self,
        start: stepfn::durable::NewExecution,
    ) -> Result<stepfn::durable::Started, StoreError> {
        self.store.create(start).await
    }
    async fn claim(
        &self,
        worker: &str,
        now: std::time::SystemTime,
        lease: Duration,
        max: usize,
    ) -> Result<Vec<stepfn::durable::Claim>, StoreError> {
        let claims = self.store.claim(worker, now, lease, max).await?;
        if let Some(c) = claims.first() {
            *self.until.lock().unwrap() = Some(c.lease_until);
        }
        Ok(claims)
    }
    async fn load(
        &self,
        claim: &stepfn::durable::Claim,
    ) -> Result<stepfn::durable::Snapshot, StoreError> {
        self.store.load(claim).await
    }
    async fn commit(
        &self,
        claim: &stepfn::durable::Claim,
        transition: stepfn::durable::Transition,
    ) -> Result<(), StoreError> {
        if self
            .until
            .lock()
            .unwrap()
            .is_some_and(|u| self.clock.now() > u)
        {
            return Err(StoreError::LeaseLost(claim.execution_arn.clone()));
        }
        self.store.commit(claim, transition).await
    }
    async fn renew(
        &self,
        claim: &stepfn::durable::Claim,
        until: std::time::SystemTime,
    ) -> Result<stepfn::durable::Renewal, StoreError> {
        let renewal = self.store.renew(claim, until).await?;
        *self.until.lock().unwrap() = Some(renewal.lease_until);
        Ok(renewal)
    }
    async fn release(&self, claim: &stepfn::durable::Claim) -> Result<(), StoreError> {
        self.store.release(claim).await
    }
    async fn signal(&self, signal: Signal, now: std::time::SystemTime) -> Result<(), StoreError> {
        self.store.signal(signal, now).await
    }
    async fn redrive(
        &self,
        execution_arn: &str,
        now: std::time::SystemTime,
    ) -> Result<stepfn::durable::Redriven, StoreError> {
        self.store.redrive(execution_arn, now).await
    }
    async fn describe(
        &self,
        execution_arn: &str,
    ) -> Result<stepfn::durable::ExecutionRecord, StoreError> {
        self.store.describe(execution_arn).await
    }
    async fn list(
        &self,
        filter: &ListFilter,
        next_token: Option<&str>,
    ) -> Result<stepfn::durable::Page<stepfn::durable::ExecutionSummary>, StoreError> {
        self.store.list(filter, next_token).await
    }
    async fn history(
        &self,
        execution_arn: &str,
        query: &HistoryQuery,
        next_token: Option<&str>,
    ) -> Result<stepfn::durable::Page<StoredEvent>, StoreError> {
        self.store.history(execution_arn, query, next_token).await
    }
    async fn next_due(&self) -> Result<Option<std::time::SystemTime>, StoreError> {
        self.store.next_due().await
    }
}

/// A Map whose iterations back off for a minute in all, under a 30-second
/// lease: each back-off parks the execution (its one running iteration
/// waits), so no lease runs out while a worker holds it, and it ends on
/// time.
#[test]
fn a_map_whose_iterations_back_off_parks_at_each_back_off() {
    futures::executor::block_on(async {
        let clock = VirtualClock::starting_at(t(0));
        let memory = MemoryStore::new();
        let store = StrictLease {
            store: &memory,
            clock: clock.clone(),
            until: Mutex::new(None),
        };
        let worker = Durable::new(&store as &dyn ExecutionStore)
            .with_clock(clock.clone())
            .with_lease(Duration::from_secs(30));
        let machine = crate::common::machine(json!({
            "StartAt": "Items",
            "States": {
              "Items": {"Type": "Pass", "Result": [1, 2, 3], "Next": "Each"},
              "Each": {"Type": "Map", "MaxConcurrency": 1, "End": true,
                "ItemProcessor": {"StartAt": "Nap", "States": {
                    "Nap": {"Type": "Pass", "Next": "Call"},
                    "Call": {"Type": "Task", "Resource": LAMBDA, "End": true,
                             "Retry": [{"ErrorEquals": ["Again"], "IntervalSeconds": 20}]}}}}}
        }));
        worker
            .start(&machine, start_request("long", 1))
            .await
            .unwrap();
        // every first attempt fails: three back-offs of 20 s
        let executor = |request: TaskRequest<'_>| {
            let again = request.retry_count == 0;
            async move {
                if again {
                    Err(StatesError::new("Again", "once more"))
                } else {
                    Ok(json!(1))
                }
            }
        };
        let executor = stepfn::task_fn(executor);
        let worked = worker.run_until_idle(&executor).await.unwrap();
        let results: Vec<WorkResult> = worked.into_iter().map(|w| w.result).collect();
        assert_eq!(
            results,
            [
                WorkResult::Parked(t(20)),
                WorkResult::Parked(t(40)),
                WorkResult::Parked(t(60)),
                WorkResult::Ended(Status::Succeeded)
            ]
        );
        assert_eq!(clock.now(), t(60));
    });
}
