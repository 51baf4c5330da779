//! RedriveExecution run by the durable driver: a failed (or timed-out)
//! execution redriven in the store is resumed by a worker at the state
//! that failed, with its input and variables, its retriers from zero, the
//! history continuing after `ExecutionRedriven`, and `RedriveCount` /
//! `RedriveTime` in the context object. Every case runs on every store
//! (`on_every_store!`). Virtual time: nothing sleeps.

use crate::common::durable::{on_every_store, t, MACHINE};
use crate::common::LAMBDA;
use async_trait::async_trait;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use stepfn::durable::{
    Durable, ExecutionStatus, ExecutionStore, HistoryQuery, Signal, StartExecution, StoredEvent,
    WorkResult,
};
use stepfn::{
    Clock, ExecutionIdentity, StateMachine, StatesError, Status, TaskExecutor, TaskRequest,
    VirtualClock,
};

on_every_store!(
    a_redriven_execution_reruns_the_failed_state_and_ends,
    a_stopped_execution_is_redriven_twice_each_time_from_its_state,
    a_redriven_execution_is_timed_from_its_redrive_and_enters_its_wait_again,
    a_redriven_parallel_runs_only_the_branches_that_did_not_succeed,
);

fn lambda(name: &str) -> String {
    LAMBDA.replace(":function:f", &format!(":function:{name}"))
}

fn arn(name: &str) -> String {
    format!("arn:aws:states:us-east-1:123456789012:execution:M:{name}")
}

/// Pass (with Assign), a Task that succeeds, a Task with one retry that
/// fails while its service is down, a Pass reading the variable and the
/// redrive's context.
fn machine() -> StateMachine {
    crate::common::machine(json!({
        "StartAt": "Init",
        "States": {
            "Init": {"Type": "Pass", "Parameters": {"n.$": "$.start"}, "Assign": {"greeting": "hi"}, "Next": "First"},
            "First": {"Type": "Task", "Resource": lambda("add"), "Next": "Risky"},
            "Risky": {"Type": "Task", "Resource": lambda("times"), "Next": "Done",
                      "Retry": [{"ErrorEquals": ["Down"], "IntervalSeconds": 1, "MaxAttempts": 1}]},
            "Done": {"Type": "Pass", "End": true, "Parameters": {
                "n.$": "$.n", "greeting.$": "$greeting",
                "count.$": "$$.Execution.RedriveCount", "time.$": "$$.Execution.RedriveTime"}}
        }
    }))
}

/// `add` adds one to `n`; `times` multiplies it by ten, or fails with
/// `Down` while `down`. Logs each call as (function, retry count, key).
#[derive(Default)]
struct Service {
    down: AtomicBool,
    calls: Mutex<Vec<(String, u32, String)>>,
}

#[async_trait]
impl TaskExecutor for Service {
    async fn execute(&self, request: TaskRequest<'_>) -> Result<Value, StatesError> {
        let function = request.resource.arn.rsplit(':').next().unwrap().to_owned();
        let key = request.idempotency_key().expect("a key");
        self.calls
            .lock()
            .unwrap()
            .push((function.clone(), request.retry_count, key));
        let n = request.parameters["n"].as_i64().unwrap_or_default();
        match function.as_str() {
            "add" => Ok(json!({"n": n + 1})),
            _ if self.down.load(Ordering::SeqCst) => Err(StatesError::new("Down", "no service")),
            _ => Ok(json!({"n": n * 10})),
        }
    }
}

impl Service {
    fn take_calls(&self) -> Vec<(String, u32, String)> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }
}

/// What `worker` does with the store's due executions, moving `clock` to
/// the next due time while nothing is due, until nothing is left; at most
/// 20 rounds (a worker that cannot end an execution would go on forever).
async fn work(
    worker: &Durable<&dyn ExecutionStore>,
    clock: &VirtualClock,
    executor: &Service,
) -> Vec<WorkResult> {
    let mut results = Vec::new();
    for _ in 0..20 {
        let worked = worker.run_due(executor).await.unwrap();
        if worked.is_empty() {
            let Some(due) = worker.store().next_due().await.unwrap() else {
                return results;
            };
            clock.advance(due.duration_since(clock.now()).unwrap_or_default());
        }
        results.extend(worked.into_iter().map(|w| w.result));
    }
    panic!("the worker did not end its executions in 20 rounds: {results:?}");
}

fn call(function: &str, retry_count: u32, key: String) -> (String, u32, String) {
    (function.to_owned(), retry_count, key)
}

fn start_request(name: &str, input: Value) -> StartExecution {
    StartExecution {
        state_machine_arn: MACHINE.into(),
        name: name.into(),
        input,
    }
}

async fn history(store: &dyn ExecutionStore, name: &str) -> Vec<Value> {
    let query = HistoryQuery {
        max_results: 1000,
        ..HistoryQuery::default()
    };
    let page = store.history(&arn(name), &query, None).await.unwrap();
    assert_eq!(page.next_token, None);
    page.items.iter().map(StoredEvent::to_json).collect()
}

/// The events' (type, id, previousEventId).
fn links(events: &[Value]) -> Vec<(String, u64, u64)> {
    events
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_owned(),
                e["id"].as_u64().unwrap(),
                e["previousEventId"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn link(event_type: &str, id: u64, previous: u64) -> (String, u64, u64) {
    (event_type.to_owned(), id, previous)
}

async fn a_redriven_execution_reruns_the_failed_state_and_ends(s: &dyn ExecutionStore) {
    let clock = VirtualClock::starting_at(t(0));
    let worker = Durable::new(s)
        .with_clock(clock.clone())
        .with_worker_id("w");
    worker
        .start(&machine(), start_request("again", json!({"start": 1})))
        .await
        .unwrap();
    let service = Service::default();
    service.down.store(true, Ordering::SeqCst);
    let worked = worker.run_until_idle(&service).await.unwrap();
    assert_eq!(
        worked.last().unwrap().result,
        WorkResult::Ended(Status::Failed)
    );
    let a = arn("again");
    assert_eq!(
        service.take_calls(),
        [
            call("add", 0, format!("{a}//4/0")),
            call("times", 0, format!("{a}//9/0")),
            call("times", 1, format!("{a}//9/1")),
        ]
    );
    // redriven later, once the service is back
    clock.advance(Duration::from_secs(100));
    let redriven = s.redrive(&a, clock.now()).await.unwrap();
    assert_eq!(redriven.redrive_count, 1);
    service.down.store(false, Ordering::SeqCst);
    let results = work(&worker, &clock, &service).await;
    assert_eq!(results, [WorkResult::Ended(Status::Succeeded)]);
    // only the state that failed runs again, from its first attempt
    assert_eq!(
        service.take_calls(),
        [call("times", 0, format!("{a}//18/0"))]
    );
    let record = s.describe(&a).await.unwrap();
    assert_eq!(record.status, ExecutionStatus::Succeeded);
    assert_eq!((record.error, record.cause), (None, None));
    // the variable assigned before the failure, the redrive's context
    assert_eq!(
        serde_json::from_str::<Value>(record.output.as_deref().unwrap()).unwrap(),
        json!({"n": 20, "greeting": "hi", "count": 1, "time": "2023-11-14T22:15:01.000Z"})
    );
    let events = history(s, "again").await;
    assert_eq!(
        links(&events),
        [
            link("ExecutionStarted", 1, 0),
            link("PassStateEntered", 2, 0),
            link("PassStateExited", 3, 2),
            link("TaskStateEntered", 4, 3),
            link("LambdaFunctionScheduled", 5, 4),
            link("LambdaFunctionStarted", 6, 5),
            link("LambdaFunctionSucceeded", 7, 6),
            link("TaskStateExited", 8, 7),
            link("TaskStateEntered", 9, 8),
            link("LambdaFunctionScheduled", 10, 9),
            link("LambdaFunctionStarted", 11, 10),
            link("LambdaFunctionFailed", 12, 11),
            link("LambdaFunctionScheduled", 13, 12),
            link("LambdaFunctionStarted", 14, 13),
            link("LambdaFunctionFailed", 15, 14),
            link("ExecutionFailed", 16, 15),
            // both links are stepfn's choice (not shown by AWS: the crate
            // docs' Compatibility)
            link("ExecutionRedriven", 17, 16),
            // the failed state entered again, with its input of the first time
            link("TaskStateEntered", 18, 17),
            link("LambdaFunctionScheduled", 19, 18),
            link("LambdaFunctionStarted", 20, 19),
            link("LambdaFunctionSucceeded", 21, 20),
            link("TaskStateExited", 22, 21),
            link("PassStateEntered", 23, 22),
            link("PassStateExited", 24, 23),
            link("ExecutionSucceeded", 25, 24),
        ]
    );
    assert_eq!(
        events[16],
        json!({"timestamp": "2023-11-14T22:15:01.000Z", "type": "ExecutionRedriven", "id": 17,
               "previousEventId": 16, "executionRedrivenEventDetails": {"redriveCount": 1}})
    );
    assert_eq!(
        events[17]["stateEnteredEventDetails"],
        events[8]["stateEnteredEventDetails"]
    );
    assert_eq!(events[17]["timestamp"], json!("2023-11-14T22:15:01.000Z"));
}

async fn a_stopped_execution_is_redriven_twice_each_time_from_its_state(s: &dyn ExecutionStore) {
    let clock = VirtualClock::starting_at(t(0));
    let worker = Durable::new(s)
        .with_clock(clock.clone())
        .with_worker_id("w");
    worker
        .start(&machine(), start_request("twice", json!({"start": 1})))
        .await
        .unwrap();
    let service = Service::default();
    service.down.store(true, Ordering::SeqCst);
    // parked in the retry's back-off, then stopped
    let worked = worker.run_due(&service).await.unwrap();
    assert_eq!(worked[0].result, WorkResult::Parked(t(1)));
    let a = arn("twice");
    let stop = Signal::Stop {
        execution_arn: a.clone(),
        error: None,
        cause: None,
    };
    s.signal(stop, clock.now()).await.unwrap();
    assert_eq!(
        work(&worker, &clock, &service).await,
        [WorkResult::Ended(Status::Aborted)]
    );
    service.take_calls();
    // redriven while the service is still down: the Task is entered
    // again, its retrier from zero, and fails
    clock.advance(Duration::from_secs(10));
    s.redrive(&a, clock.now()).await.unwrap();
    assert_eq!(
        work(&worker, &clock, &service).await,
        [WorkResult::Parked(t(11)), WorkResult::Ended(Status::Failed)]
    );
    let retries: Vec<u32> = service.take_calls().iter().map(|c| c.1).collect();
    assert_eq!(retries, [0, 1]);
    // redriven again once it is back: the second redrive's context
    clock.advance(Duration::from_secs(10));
    s.redrive(&a, clock.now()).await.unwrap();
    service.down.store(false, Ordering::SeqCst);
    assert_eq!(
        work(&worker, &clock, &service).await,
        [WorkResult::Ended(Status::Succeeded)]
    );
    let record = s.describe(&a).await.unwrap();
    assert_eq!(record.redrive_count, 2);
    assert_eq!(
        serde_json::from_str::<Value>(record.output.as_deref().unwrap()).unwrap(),
        json!({"n": 20, "greeting": "hi", "count": 2, "time": "2023-11-14T22:13:41.000Z"})
    );
    let events = history(s, "twice").await;
    let after_stop: Vec<(String, u64, u64)> = links(&events)
        .into_iter()
        .skip_while(|(event_type, _, _)| event_type != "ExecutionAborted")
        .collect();
    assert_eq!(
        after_stop,
        [
            link("ExecutionAborted", 13, 12),
            link("ExecutionRedriven", 14, 13),
            link("TaskStateEntered", 15, 14),
            link("LambdaFunctionScheduled", 16, 15),
            link("LambdaFunctionStarted", 17, 16),
            link("LambdaFunctionFailed", 18, 17),
            link("LambdaFunctionScheduled", 19, 18),
            link("LambdaFunctionStarted", 20, 19),
            link("LambdaFunctionFailed", 21, 20),
            link("ExecutionFailed", 22, 21),
            link("ExecutionRedriven", 23, 22),
            link("TaskStateEntered", 24, 23),
            link("LambdaFunctionScheduled", 25, 24),
            link("LambdaFunctionStarted", 26, 25),
            link("LambdaFunctionSucceeded", 27, 26),
            link("TaskStateExited", 28, 27),
            link("PassStateEntered", 29, 28),
            link("PassStateExited", 30, 29),
            link("ExecutionSucceeded", 31, 30),
        ]
    );
    assert_eq!(
        events[22]["executionRedrivenEventDetails"],
        json!({"redriveCount": 2})
    );
}

async fn a_redriven_execution_is_timed_from_its_redrive_and_enters_its_wait_again(
    s: &dyn ExecutionStore,
) {
    let sm = crate::common::machine(json!({
        "TimeoutSeconds": 10,
        "StartAt": "Nap",
        "States": {"Nap": {"Type": "Wait", "Seconds": 3600, "InputPath": "$.inner", "End": true}}
    }));
    let clock = VirtualClock::starting_at(t(0));
    let worker = Durable::new(s)
        .with_clock(clock.clone())
        .with_worker_id("w");
    let input = json!({"inner": {"x": 1}});
    worker
        .start(&sm, start_request("late", input))
        .await
        .unwrap();
    let service = Service::default();
    let worked = worker.run_until_idle(&service).await.unwrap();
    assert_eq!(
        worked.last().unwrap().result,
        WorkResult::Ended(Status::TimedOut)
    );
    assert_eq!(clock.now(), t(10));
    clock.advance(Duration::from_secs(40));
    s.redrive(&arn("late"), clock.now()).await.unwrap();
    let results = work(&worker, &clock, &service).await;
    // the timeout counts from the redrive (t(50)), as AWS resets it
    assert_eq!(
        results,
        [
            WorkResult::Parked(t(60)),
            WorkResult::Ended(Status::TimedOut)
        ]
    );
    let events = history(s, "late").await;
    assert_eq!(
        links(&events),
        [
            link("ExecutionStarted", 1, 0),
            link("WaitStateEntered", 2, 0),
            link("ExecutionTimedOut", 3, 2),
            link("ExecutionRedriven", 4, 3),
            link("WaitStateEntered", 5, 4),
            link("ExecutionTimedOut", 6, 5),
        ]
    );
    // the Wait is entered again with its state input, not what its
    // InputPath selected, and waits its whole time again (AWS's handling
    // of a Wait is not recorded: the crate docs' Compatibility)
    assert_eq!(
        events[4]["stateEnteredEventDetails"],
        events[1]["stateEnteredEventDetails"]
    );
    assert_eq!(events[5]["timestamp"], json!("2023-11-14T22:14:20.000Z"));
}

/// The context object of an execution that was redriven (an embedder
/// sets it in the identity; the durable driver sets it from the store).
#[test]
fn the_context_object_has_the_redrive_count_and_time() {
    let sm = crate::common::machine(crate::common::one(json!({
        "Type": "Pass", "End": true,
        "Parameters": {"count.$": "$$.Execution.RedriveCount", "time.$": "$$.Execution.RedriveTime"}
    })));
    let mut identity = ExecutionIdentity::new();
    identity.redrive_count = 2;
    identity.redrive_time = Some(t(101));
    let outcome = futures::executor::block_on(
        sm.execution()
            .with_virtual_time()
            .with_identity(identity)
            .run(&Service::default(), json!({})),
    );
    assert_eq!(
        outcome.output,
        Some(json!({"count": 2, "time": "2023-11-14T22:15:01.000Z"}))
    );
    // never redriven: the count is 0 and there is no time
    let sm = crate::common::machine(crate::common::one(json!({
        "Type": "Pass", "End": true, "Parameters": {"e.$": "$$.Execution"}
    })));
    let outcome = crate::common::run_virtual(&sm, &Service::default(), json!({}));
    let execution = &outcome.output.unwrap()["e"];
    assert_eq!(execution["RedriveCount"], json!(0));
    assert_eq!(execution.get("RedriveTime"), None);
}

/// As AWS does, a redrive reruns only the branches of a Parallel that did
/// not succeed: the branch that had succeeded keeps its result and calls
/// nothing again. Each branch is a line of states of its own, named in
/// the task's key.
async fn a_redriven_parallel_runs_only_the_branches_that_did_not_succeed(s: &dyn ExecutionStore) {
    let clock = VirtualClock::starting_at(t(0));
    let worker = Durable::new(s)
        .with_clock(clock.clone())
        .with_worker_id("w");
    let machine = crate::common::machine(json!({
        "StartAt": "Fan",
        "States": {"Fan": {"Type": "Parallel", "End": true, "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": lambda("add"), "End": true}}},
            {"StartAt": "B", "States": {"B": {"Type": "Task", "Resource": lambda("times"), "End": true}}}
        ]}}
    }));
    worker
        .start(&machine, start_request("fan", json!({"n": 2})))
        .await
        .unwrap();
    let service = Service::default();
    service.down.store(true, Ordering::SeqCst);
    let results = work(&worker, &clock, &service).await;
    assert_eq!(results, [WorkResult::Ended(Status::Failed)]);
    let a = arn("fan");
    assert_eq!(
        service.take_calls(),
        [
            call("add", 0, format!("{a}//Fan/0/4/0")),
            call("times", 0, format!("{a}//Fan/1/9/0")),
        ]
    );
    clock.advance(Duration::from_secs(100));
    s.redrive(&a, clock.now()).await.unwrap();
    service.down.store(false, Ordering::SeqCst);
    let results = work(&worker, &clock, &service).await;
    assert_eq!(results, [WorkResult::Ended(Status::Succeeded)]);
    assert_eq!(
        service.take_calls(),
        [call("times", 0, format!("{a}//Fan/1/17/0"))]
    );
    let record = s.describe(&a).await.unwrap();
    assert_eq!(record.output.as_deref(), Some(r#"[{"n":3},{"n":20}]"#));
    let events = history(s, "fan").await;
    // after ExecutionRedriven, only the failed branch enters its state
    // again; the Parallel goes on where it was
    assert_eq!(
        links(&events)[15..],
        [
            link("ExecutionRedriven", 16, 15),
            link("TaskStateEntered", 17, 16),
            link("LambdaFunctionScheduled", 18, 17),
            link("LambdaFunctionStarted", 19, 18),
            link("LambdaFunctionSucceeded", 20, 19),
            link("TaskStateExited", 21, 20),
            link("ParallelStateSucceeded", 22, 21),
            link("ParallelStateExited", 23, 21),
            link("ExecutionSucceeded", 24, 23),
        ]
    );
}
