//! Watching an execution while it runs: the observer and the handle's
//! event stream see exactly the final history (every conformance case and
//! fixture machine), the states in flight and the status from the handle,
//! and what an unwatched execution gives.

use futures::channel::oneshot;
use futures::StreamExt;
use serde_json::{json, Value};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use stepfn::testing::{run_case, MockConfig, RunOptions};
use stepfn::{
    sync_task_fn, task_fn, ExecutionIdentity, HistoryEvent, Place, StateInFlight, StateMachine,
    StatesError, Status, TaskRequest,
};

use crate::common::{conformance_cases, machine};

/// `"Type id prev"`: what two runs of one case share (payloads may hold
/// random tokens and UUIDs, timestamps differ).
fn shape(events: &[HistoryEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| format!("{} {} {}", e.event_type, e.id, e.previous_event_id))
        .collect()
}

/// An observer that keeps what it sees.
fn collector() -> (Arc<Mutex<Vec<HistoryEvent>>>, RunOptionsObserver) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let observer: RunOptionsObserver = Arc::new(move |e: &HistoryEvent| {
        log.lock().unwrap().push(e.clone());
    });
    (seen, observer)
}

type RunOptionsObserver = Arc<dyn stepfn::EventObserver>;

/// Runs a conformance case as `stepfn run --virtual-time` does, with
/// `history` and an observer; `None` when it does not load.
fn run_observed(case: &Value, history: bool) -> Option<(stepfn::Outcome, Vec<HistoryEvent>)> {
    let definition = serde_json::to_string(&case["definition"]).ok()?;
    let machine = StateMachine::from_str(&definition).ok()?;
    let mut options = RunOptions::new(case.get("input").cloned().unwrap_or(json!({})));
    options.virtual_time = true;
    options.history = history;
    if let Some(execution) = case.get("execution") {
        options.identity = ExecutionIdentity::from_value(execution).ok()?;
    }
    if let Some(mocks) = case.get("mocks").filter(|m| !m.is_null()) {
        options.mocks = Some((MockConfig::from_value(mocks).ok()?, "conformance".into()));
    }
    let (seen, observer) = collector();
    options.observer = Some(observer);
    let outcome = run_case(&machine, options).ok()?;
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    Some((outcome, seen))
}

#[test]
fn the_observer_sees_exactly_the_final_history_of_every_conformance_case() {
    let Some(dir) = conformance_cases() else {
        return;
    };
    let mut cases = Vec::new();
    for entry in std::fs::read_dir(dir.join("cases")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        cases.extend(
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| serde_json::from_str::<Value>(l).unwrap()),
        );
    }
    let mut ran = 0;
    // the kinds of event the cases cover: their streams hold them too
    let mut kinds = std::collections::BTreeSet::new();
    for case in &cases {
        let Some((outcome, seen)) = run_observed(case, true) else {
            continue;
        };
        let id = case["id"].as_str().unwrap_or_default();
        let history = outcome.history.as_ref().expect("history was asked for");
        assert_eq!(&seen, history, "case {id}");
        kinds.extend(seen.iter().map(|e| e.event_type));
        // without the history the observer sees the same events
        let (unrecorded, seen_alone) = run_observed(case, false).expect("ran once");
        assert_eq!(unrecorded.history, None, "case {id}");
        assert_eq!(shape(&seen_alone), shape(history), "case {id}");
        ran += 1;
    }
    println!(
        "{ran} conformance cases streamed, {} event types",
        kinds.len()
    );
    assert!(ran > 500, "only {ran} cases ran");
    for kind in [
        "MapIterationStarted",
        "MapIterationFailed",
        "ParallelStateStarted",
        "ParallelStateFailed",
        "TaskStateAborted",
        "TaskFailed",
        "TaskSubmitted",
        "TaskStateExited",
        "ExecutionFailed",
        "ExecutionTimedOut",
    ] {
        assert!(kinds.contains(kind), "no case streams a {kind}");
    }
}

/// Every fixture machine, run on virtual time with tasks echoing (their
/// `Retry`/`Catch` paths need failures: every third task call fails).
#[test]
fn the_handle_stream_sees_exactly_the_final_history_of_every_fixture_machine() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/machines");
    let mut ran = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".json") || name.ends_with(".invalid.json") {
            continue;
        }
        let machine = StateMachine::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let executor = sync_task_fn(|r: TaskRequest<'_>| {
            let n = calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if n % 3 == 2 {
                Err(StatesError::new(
                    "States.TaskFailed",
                    "every third call fails",
                ))
            } else {
                Ok(r.parameters)
            }
        });
        let input = json!({"items": [1, 2, 3], "order": [{"itemId": "a", "quantity": 1}]});
        let execution = machine.execution().with_virtual_time().with_history(true);
        let events = execution.handle().events();
        let (outcome, seen) = futures::executor::block_on(async {
            futures::join!(execution.run(&executor, input), events.collect::<Vec<_>>())
        });
        assert_eq!(Some(seen), outcome.history, "{name}");
        ran += 1;
    }
    println!("{ran} fixture machines streamed");
    assert!(ran >= 10, "only {ran} fixtures ran");
}

/// A Parallel whose second branch runs a Map: tasks wait for answers the
/// test gives; meanwhile the handle reports the states in flight.
const NESTED: &str = r#"{
  "StartAt": "Par",
  "States": {
    "Par": {"Type": "Parallel", "End": true, "Branches": [
      {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}},
      {"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "End": true,
        "ItemProcessor": {"StartAt": "B", "States": {"B": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}}}}}
    ]}
  }
}"#;

fn iteration(index: usize) -> Place {
    Place::Iteration {
        state: "M".into(),
        index,
    }
}

fn branch(index: usize) -> Place {
    Place::Branch {
        state: "Par".into(),
        index,
    }
}

fn task(name: &str, path: Vec<Place>) -> StateInFlight {
    StateInFlight {
        name: name.into(),
        state_type: "Task",
        path,
    }
}

/// Polls `future` until it is pending or done (the engine yields now and
/// then, waking itself: that is not waiting).
fn poll<F: Future>(mut future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    let waker = futures::task::noop_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    for _ in 0..1000 {
        if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return Poll::Ready(v);
        }
    }
    Poll::Pending
}

/// Runs [`NESTED`] until every task waits, then answers them; gives what the handle said while they waited and at the end.
fn nested_in_flight(watched: bool) -> (Option<Status>, Vec<StateInFlight>, Status, usize) {
    let m = machine(serde_json::from_str(NESTED).unwrap());
    let waiting: Arc<Mutex<Vec<oneshot::Sender<Value>>>> = Arc::default();
    let answers = waiting.clone();
    let executor = task_fn(move |_r: TaskRequest<'_>| {
        let (tx, rx) = oneshot::channel();
        answers.lock().unwrap().push(tx);
        async move { rx.await.map_err(|_| StatesError::new("Gone", "no answer")) }
    });
    let mut execution = m.execution();
    if watched {
        execution = execution.with_observer(|_: &HistoryEvent| ());
    }
    let handle = execution.handle();
    let run = execution.run(&executor, json!({"items": [1, 2]}));
    futures::pin_mut!(run);
    assert!(poll(run.as_mut()).is_pending());
    let (status, in_flight) = (handle.status(), handle.states_in_flight());
    let tasks = waiting.lock().unwrap().len();
    for tx in waiting.lock().unwrap().drain(..) {
        let _ = tx.send(json!(1));
    }
    let Poll::Ready(outcome) = poll(run) else {
        panic!("still running");
    };
    assert_eq!(handle.states_in_flight(), []);
    let status_at_end = handle.status().expect("ended");
    assert_eq!(status_at_end, outcome.status);
    (status, in_flight, status_at_end, tasks)
}

#[test]
fn the_handle_reports_the_states_in_flight_with_their_branch_and_iteration() {
    let (status, in_flight, end, tasks) = nested_in_flight(true);
    assert_eq!(tasks, 3);
    assert_eq!(status, None);
    assert_eq!(
        in_flight,
        [
            task("A", vec![branch(0)]),
            task("B", vec![branch(1), iteration(0)]),
            task("B", vec![branch(1), iteration(1)]),
        ]
    );
    assert_eq!(end, Status::Succeeded);
}

#[test]
fn an_unwatched_execution_reports_its_status_but_no_states_in_flight() {
    let (status, in_flight, end, tasks) = nested_in_flight(false);
    assert_eq!(
        (status, in_flight, end, tasks),
        (None, vec![], Status::Succeeded, 3)
    );
}

#[test]
fn a_stream_made_after_the_end_ends_at_once() {
    let m = machine(json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}));
    let executor = sync_task_fn(|r: TaskRequest<'_>| Ok(r.parameters));
    let execution = m.execution();
    let handle = execution.handle();
    let outcome = futures::executor::block_on(execution.run(&executor, json!({})));
    assert_eq!(handle.status(), Some(outcome.status));
    let late: Vec<HistoryEvent> = futures::executor::block_on(handle.events().collect());
    assert_eq!(late, []);
}

#[test]
fn a_stream_made_while_a_watched_execution_runs_sees_the_events_from_then_on() {
    let m = machine(json!({"StartAt": "W", "States": {
        "W": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "P"},
        "P": {"Type": "Pass", "End": true}}}));
    let gate: Arc<Mutex<Option<oneshot::Sender<Value>>>> = Arc::default();
    let g = gate.clone();
    let executor = task_fn(move |_r: TaskRequest<'_>| {
        let (tx, rx) = oneshot::channel();
        *g.lock().unwrap() = Some(tx);
        async move { rx.await.map_err(|_| StatesError::new("Gone", "no answer")) }
    });
    let execution = m.execution().with_history(true);
    let handle = execution.handle();
    let first = handle.events();
    let run = execution.run(&executor, json!({}));
    futures::pin_mut!(run);
    assert!(poll(run.as_mut()).is_pending());
    let late = handle.events();
    let _ = gate.lock().unwrap().take().unwrap().send(json!(1));
    let Poll::Ready(outcome) = poll(run) else {
        panic!("still running");
    };
    let first: Vec<HistoryEvent> = futures::executor::block_on(first.collect());
    let late: Vec<HistoryEvent> = futures::executor::block_on(late.collect());
    let history = outcome.history.unwrap();
    assert_eq!(first, history);
    // ExecutionStarted, TaskStateEntered, LambdaFunctionScheduled,
    // LambdaFunctionStarted came before
    assert_eq!(late, history[4..]);
}

#[test]
fn an_aborted_execution_streams_its_history_to_the_aborted_event() {
    let m = machine(json!({"StartAt": "W", "States": {
        "W": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}}));
    let executor = task_fn(|_r: TaskRequest<'_>| futures::future::pending());
    let execution = m.execution().with_history(true);
    let handle = execution.handle();
    let events = handle.events();
    let run = execution.run(&executor, json!({}));
    futures::pin_mut!(run);
    assert!(poll(run.as_mut()).is_pending());
    handle.abort_with(Some("Stop"), Some("enough"));
    let Poll::Ready(outcome) = poll(run) else {
        panic!("still running");
    };
    let seen: Vec<HistoryEvent> = futures::executor::block_on(events.collect());
    assert_eq!(Some(&seen), outcome.history.as_ref());
    assert_eq!(seen.last().unwrap().event_type, "ExecutionAborted");
    assert_eq!(handle.status(), Some(Status::Aborted));
}

#[test]
fn a_stream_ends_when_the_run_is_dropped_before_its_end() {
    let m = machine(json!({"StartAt": "W", "States": {
        "W": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}}));
    let executor = task_fn(|_r: TaskRequest<'_>| futures::future::pending());
    let execution = m.execution();
    let handle = execution.handle();
    let events = handle.events();
    {
        let run = execution.run(&executor, json!({}));
        futures::pin_mut!(run);
        assert!(poll(run.as_mut()).is_pending());
        assert_eq!(handle.states_in_flight(), [task("W", vec![])]);
    }
    // the stream has ended: collecting it does not wait
    let collected = events.map(|e| e.event_type).collect::<Vec<_>>();
    futures::pin_mut!(collected);
    let Poll::Ready(seen) = poll(collected) else {
        panic!("the stream did not end");
    };
    assert_eq!(
        seen,
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted"
        ]
    );
    assert_eq!((handle.status(), handle.states_in_flight()), (None, vec![]));
}
