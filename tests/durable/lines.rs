//! Every line of states is checkpointed, the branches of Parallel states
//! and the iterations of Map states included: a Wait or a callback inside
//! them parks the execution once every line waits, a redrive reruns only
//! the lines that did not succeed, and a call in flight in one line when
//! its worker dies is made again (same key), not announced again. On
//! every store, virtual time, except where a worker is killed mid-call
//! (in-memory store).

use crate::common::durable::{lines, store_suite, t, MACHINE};
use crate::common::LAMBDA;
use async_trait::async_trait;
use futures::FutureExt;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use stepfn::durable::{
    Durable, ExecutionStatus, ExecutionStore, HistoryQuery, MemoryStore, Signal, StartExecution,
    StoredEvent, TaskMessage, WorkResult,
};
use stepfn::{
    Clock, ExecutionIdentity, StateMachine, StatesError, Status, TaskExecutor, TaskRequest,
    VirtualClock,
};

store_suite!(
    "lines";
    waits_in_branches_park_the_execution_until_the_first_ends,
    callbacks_in_iterations_are_answered_through_the_store,
    a_redriven_map_reruns_only_the_iterations_that_did_not_succeed,
    a_redriven_distributed_map_reruns_only_the_failed_child_executions,
);

fn lambda(name: &str) -> String {
    LAMBDA.replace(":function:f", &format!(":function:{name}"))
}

fn arn(name: &str) -> String {
    format!("arn:aws:states:us-east-1:123456789012:execution:M:{name}")
}

fn start_request(name: &str, input: Value) -> StartExecution {
    StartExecution {
        state_machine_arn: MACHINE.into(),
        name: name.into(),
        input,
    }
}

/// `add` adds one to `n`; `times` multiplies it by ten once `fixed`, fails
/// with `Down` before; `.waitForTaskToken` tasks keep their token and
/// answer nothing. Logs every call's key.
#[derive(Default)]
struct Services {
    fixed: AtomicBool,
    keys: Mutex<Vec<String>>,
    tokens: Mutex<Vec<String>>,
}

#[async_trait]
impl TaskExecutor for Services {
    async fn execute(&self, request: TaskRequest<'_>) -> Result<Value, StatesError> {
        self.keys
            .lock()
            .unwrap()
            .push(request.idempotency_key().expect("a key"));
        if let Some(token) = request.task_token {
            self.tokens.lock().unwrap().push(token.to_owned());
            return Ok(json!({}));
        }
        let n = request.parameters["n"].as_i64().unwrap_or_default();
        match request.resource.arn.rsplit(':').next().unwrap() {
            "add" => Ok(json!({"n": n + 1})),
            "times" if self.fixed.load(Ordering::SeqCst) => Ok(json!({"n": n * 10})),
            _ => Err(StatesError::new("Down", "no service")),
        }
    }
}

fn worker<'s>(s: &'s dyn ExecutionStore, clock: &VirtualClock) -> Durable<&'s dyn ExecutionStore> {
    Durable::new(s)
        .with_clock(clock.clone())
        .with_worker_id("w")
}

/// Redrives execution `name` 100 s on, with the failing service fixed;
/// expects it to succeed and gives the idempotency keys of every call made
/// so far.
async fn redrive_fixed(
    s: &dyn ExecutionStore,
    (w, clock): (&Durable<&dyn ExecutionStore>, &VirtualClock),
    services: &Services,
    name: &str,
) -> Vec<String> {
    clock.advance(Duration::from_secs(100));
    s.redrive(&arn(name), clock.now()).await.unwrap();
    services.fixed.store(true, Ordering::SeqCst);
    assert_eq!(
        results(w, services).await,
        [WorkResult::Ended(Status::Succeeded)]
    );
    services.keys.lock().unwrap().clone()
}

async fn results(worker: &Durable<&dyn ExecutionStore>, services: &Services) -> Vec<WorkResult> {
    let worked = worker.run_until_idle(services).await.unwrap();
    worked.into_iter().map(|w| w.result).collect()
}

async fn history(s: &dyn ExecutionStore, name: &str) -> Vec<Value> {
    let query = HistoryQuery {
        max_results: 1000,
        ..HistoryQuery::default()
    };
    let page = s.history(&arn(name), &query, None).await.unwrap();
    page.items.iter().map(StoredEvent::to_json).collect()
}

/// The in-memory run of `machine` on `input` as execution `name`.
async fn in_memory(machine: &StateMachine, input: Value, name: &str) -> Vec<Value> {
    let mut identity = ExecutionIdentity::new();
    identity.state_machine_arn = Some(MACHINE.into());
    identity.execution_arn = Some(arn(name));
    identity.execution_name = Some(name.into());
    identity.start_time = Some(t(0));
    let outcome = machine
        .execution()
        .with_clock(VirtualClock::starting_at(t(0)))
        .with_identity(identity)
        .with_history(true)
        .run(&Services::default(), input)
        .await;
    outcome
        .history
        .unwrap()
        .iter()
        .map(|e| e.to_json())
        .collect()
}

/// Two branches wait 10 s and 30 s: the execution parks until the first
/// Wait ends, then (that branch done) until the second; nothing waits in
/// memory, and each line's history is the in-memory run's.
async fn waits_in_branches_park_the_execution_until_the_first_ends(s: &dyn ExecutionStore) {
    let clock = VirtualClock::starting_at(t(0));
    let w = worker(s, &clock);
    let machine = crate::common::machine(json!({
        "StartAt": "Fan",
        "States": {"Fan": {"Type": "Parallel", "End": true, "Branches": [
            {"StartAt": "Short", "States": {
                "Short": {"Type": "Wait", "Seconds": 10, "Next": "A"},
                "A": {"Type": "Task", "Resource": lambda("add"), "End": true}}},
            {"StartAt": "Long", "States": {
                "Long": {"Type": "Wait", "Seconds": 30, "Next": "B"},
                "B": {"Type": "Task", "Resource": lambda("add"), "End": true}}}
        ]}}
    }));
    let input = json!({"n": 1});
    w.start(&machine, start_request("naps", input.clone()))
        .await
        .unwrap();
    let services = Services::default();
    assert_eq!(
        results(&w, &services).await,
        [
            WorkResult::Parked(t(10)),
            WorkResult::Parked(t(30)),
            WorkResult::Ended(Status::Succeeded)
        ]
    );
    assert_eq!(clock.pending_sleeps(), 0);
    let record = s.describe(&arn("naps")).await.unwrap();
    assert_eq!(record.output.as_deref(), Some(r#"[{"n":2},{"n":2}]"#));
    let want = in_memory(&machine, input, "naps").await;
    let got = history(s, "naps").await;
    assert_eq!(lines(&got, &want), lines(&want, &got));
}

/// Each iteration of a Map waits for a callback: the execution parks with
/// both tokens open; one answer wakes it to take that iteration on (the
/// other still waits, so it parks again), the second ends it.
async fn callbacks_in_iterations_are_answered_through_the_store(s: &dyn ExecutionStore) {
    let clock = VirtualClock::starting_at(t(0));
    let w = worker(s, &clock);
    let machine = crate::common::machine(json!({
        "StartAt": "Each",
        "States": {"Each": {"Type": "Map", "End": true, "ItemProcessor": {
            "StartAt": "Ask", "States": {"Ask": {"Type": "Task", "End": true,
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}}}}}}}
    }));
    w.start(&machine, start_request("asks", json!([1, 2])))
        .await
        .unwrap();
    let services = Services::default();
    assert_eq!(results(&w, &services).await, [WorkResult::Awaiting(None)]);
    let tokens = services.tokens.lock().unwrap().clone();
    assert_eq!(tokens.len(), 2);
    let answer = |token: &str, n: u64| Signal::Task {
        token: token.to_owned(),
        message: TaskMessage::Success {
            output: json!({"answer": n}).to_string(),
        },
    };
    s.signal(answer(&tokens[1], 2), clock.now()).await.unwrap();
    assert_eq!(results(&w, &services).await, [WorkResult::Awaiting(None)]);
    s.signal(answer(&tokens[0], 1), clock.now()).await.unwrap();
    assert_eq!(
        results(&w, &services).await,
        [WorkResult::Ended(Status::Succeeded)]
    );
    // each task called once: the answers did not make the calls again
    assert_eq!(services.keys.lock().unwrap().len(), 2);
    let record = s.describe(&arn("asks")).await.unwrap();
    assert_eq!(record.status, ExecutionStatus::Succeeded);
    assert_eq!(
        record.output.as_deref(),
        Some(r#"[{"answer":1},{"answer":2}]"#)
    );
}

/// Starts `machine` as `name` on items `[1, 2, 3]` and works it until it
/// fails (its second item's service broken); gives the services.
async fn failed_run(
    w: &Durable<&dyn ExecutionStore>,
    machine: &StateMachine,
    name: &str,
) -> Services {
    w.start(machine, start_request(name, json!([1, 2, 3])))
        .await
        .unwrap();
    let services = Services::default();
    assert_eq!(
        results(w, &services).await,
        [WorkResult::Ended(Status::Failed)]
    );
    services
}

/// A Map whose iteration 1 calls `times` (the service these tests make
/// fail) and the others `add`; `state` and `processor` add fields to the
/// Map state and to its ItemProcessor.
fn pick_map(state: Value, processor: Value) -> StateMachine {
    let mut each = json!({"Type": "Map", "End": true,
        "ItemSelector": {"n.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"},
        "ItemProcessor": {"StartAt": "Pick", "States": {
            "Pick": {"Type": "Choice", "Choices": [{"Variable": "$.i", "NumericEquals": 1, "Next": "Slow"}],
                     "Default": "Quick"},
            "Quick": {"Type": "Task", "Resource": lambda("add"), "End": true},
            "Slow": {"Type": "Task", "Resource": lambda("times"), "End": true}}}});
    for (key, value) in state.as_object().into_iter().flatten() {
        each[key] = value.clone();
    }
    for (key, value) in processor.as_object().into_iter().flatten() {
        each["ItemProcessor"][key] = value.clone();
    }
    crate::common::machine(json!({"StartAt": "Each", "States": {"Each": each}}))
}

/// The second of three iterations (one at a time) fails until its service
/// is fixed; the redrive runs it again and then the third, never started,
/// while the first keeps its result (as AWS keeps it): keys name lines.
async fn a_redriven_map_reruns_only_the_iterations_that_did_not_succeed(s: &dyn ExecutionStore) {
    let clock = VirtualClock::starting_at(t(0));
    let w = worker(s, &clock);
    let machine = pick_map(json!({"MaxConcurrency": 1}), json!({}));
    let services = failed_run(&w, &machine, "each").await;
    let first: Vec<String> = std::mem::take(&mut *services.keys.lock().unwrap());
    assert_eq!(first.len(), 2);
    let again = redrive_fixed(s, (&w, &clock), &services, "each").await;
    let line = |key: &String| {
        let rest = key.strip_prefix(&format!("{}/", arn("each"))).unwrap();
        rest.rsplitn(3, '/').nth(2).unwrap().to_owned()
    };
    let lines_called: Vec<String> = again.iter().map(line).collect();
    assert_eq!(lines_called, ["/Each/1", "/Each/2"]);
    let record = s.describe(&arn("each")).await.unwrap();
    assert_eq!(
        record.output.as_deref(),
        Some(r#"[{"n":2},{"n":20},{"n":4}]"#)
    );
    let redriven = history(s, "each").await;
    let entered = |name: &str| {
        (redriven.iter())
            .filter(|e| e["stateEnteredEventDetails"]["name"] == name)
            .count()
    };
    // Quick twice (iterations 0 and 2), Slow twice (failed, then again)
    assert_eq!((entered("Quick"), entered("Slow")), (2, 2));
}

/// A distributed Map whose second child execution fails (no failure
/// tolerated): the redrive runs that child again, from its start, and
/// only it (AWS reruns the unsuccessful child executions).
async fn a_redriven_distributed_map_reruns_only_the_failed_child_executions(
    s: &dyn ExecutionStore,
) {
    let clock = VirtualClock::starting_at(t(0));
    let w = worker(s, &clock);
    let mode = json!({"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"});
    let machine = pick_map(json!({}), json!({"ProcessorConfig": mode}));
    let services = failed_run(&w, &machine, "children").await;
    let record = s.describe(&arn("children")).await.unwrap();
    assert_eq!(
        record.error.as_deref(),
        Some("States.ExceedToleratedFailureThreshold")
    );
    assert_eq!(std::mem::take(&mut *services.keys.lock().unwrap()).len(), 3);
    let again = redrive_fixed(s, (&w, &clock), &services, "children").await;
    assert_eq!(again.len(), 1, "{again:?}");
    assert!(
        again[0].starts_with(&format!("{}//Each/1/", arn("children"))),
        "{again:?}"
    );
    let record = s.describe(&arn("children")).await.unwrap();
    assert_eq!(
        record.output.as_deref(),
        Some(r#"[{"n":2},{"n":20},{"n":4}]"#)
    );
}

/// A branch's task call is in flight when its worker dies, after the other
/// branch committed its transitions (and with them the call's
/// `TaskScheduled`): the next worker makes the call again with the same
/// key, without announcing it again.
#[test]
fn a_call_in_flight_in_a_branch_is_made_again_not_announced_again() {
    futures::executor::block_on(async {
        let store = MemoryStore::new();
        let s: &dyn ExecutionStore = &store;
        let clock = VirtualClock::starting_at(t(0));
        let machine = crate::common::machine(json!({
            "StartAt": "Fan",
            "States": {"Fan": {"Type": "Parallel", "End": true, "Branches": [
                {"StartAt": "Slow", "States": {
                    "Slow": {"Type": "Task", "Resource": lambda("slow"), "End": true}}},
                {"StartAt": "P1", "States": {
                    "P1": {"Type": "Pass", "Next": "Quick"},
                    "Quick": {"Type": "Task", "Resource": lambda("quick"), "Next": "P3"},
                    "P3": {"Type": "Pass", "End": true}}}
            ]}}
        }));
        let zero = |id: &str| {
            Durable::new(s)
                .with_clock(clock.clone())
                .with_worker_id(id)
                .with_lease(Duration::ZERO)
        };
        zero("w1")
            .start(&machine, start_request("hang", json!({"n": 1})))
            .await
            .unwrap();
        let keys = Mutex::new(Vec::new());
        let hang = AtomicBool::new(true);
        let slow = stepfn::task_fn(|request: TaskRequest<'_>| {
            if request.state_name == "Quick" {
                return futures::future::Either::Left(async { Ok(json!("quick")) });
            }
            keys.lock()
                .unwrap()
                .push(request.idempotency_key().unwrap());
            let hang = hang.load(Ordering::SeqCst);
            futures::future::Either::Right(async move {
                if hang {
                    futures::future::pending::<()>().await;
                }
                Ok(json!("done"))
            })
        });
        // the first worker runs until the other branch enters its task (a
        // commit, which stores the slow call's events too), then dies
        let w1 = zero("w1");
        let run = w1.run_due(&slow);
        let other_ended = futures::future::poll_fn(|cx| {
            let events = history(s, "hang").now_or_never().unwrap_or_default();
            if events.iter().any(|e| {
                e["type"] == "PassStateExited" && e["stateExitedEventDetails"]["name"] == "P1"
            }) {
                return std::task::Poll::Ready(());
            }
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        });
        futures::pin_mut!(run, other_ended);
        match futures::future::select(run, other_ended).await {
            futures::future::Either::Left((worked, _)) => panic!("it ended: {worked:?}"),
            futures::future::Either::Right(((), _)) => {}
        }
        hang.store(false, Ordering::SeqCst);
        let worked = zero("w2").run_until_idle(&slow).await.unwrap();
        assert_eq!(worked[0].result, WorkResult::Ended(Status::Succeeded));
        let keys = keys.lock().unwrap().clone();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0], keys[1]);
        let events = history(s, "hang").await;
        let scheduled = events
            .iter()
            .filter(|e| e["type"] == "LambdaFunctionScheduled")
            .count();
        assert_eq!(scheduled, 2);
        let ids: Vec<u64> = events.iter().map(|e| e["id"].as_u64().unwrap()).collect();
        assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>());
        let record = s.describe(&arn("hang")).await.unwrap();
        assert_eq!(record.output.as_deref(), Some(r#"["done","quick"]"#));
    });
}
