//! Controlling executions from outside: abort, callbacks, concurrency
//! bounds, virtual time.

use serde_json::{json, Value};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use stepfn::{sync_task_fn, task_fn, CallbackError, StatesError, Status, TaskRequest};

use crate::common::machine;

const CALLBACK: &str = "arn:aws:states:::sqs:sendMessage.waitForTaskToken";

fn callback_task(extra: Value) -> Value {
    let mut state = json!({"Type": "Task", "Resource": CALLBACK, "Parameters": {"token.$": "$$.Task.Token"}, "End": true});
    if let (Value::Object(s), Value::Object(e)) = (&mut state, extra) {
        s.extend(e);
    }
    json!({"StartAt": "T", "States": {"T": state}})
}

/// Returns Pending `n` times (waking itself), then Ready.
struct Yield(u32);

impl Future for Yield {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 == 0 {
            return Poll::Ready(());
        }
        self.0 -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

// ---------------------------------------------------------------------------
// Abort

#[test]
fn abort_before_running_ends_aborted() {
    let m = machine(json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}));
    let execution = m.execution();
    execution.handle().abort_with(Some("Stop"), Some("by test"));
    let o =
        futures::executor::block_on(execution.run(&sync_task_fn(|r| Ok(r.parameters)), json!({})));
    assert_eq!(
        (o.status, o.error.as_deref(), o.cause.as_deref()),
        (Status::Aborted, Some("Stop"), Some("by test"))
    );
}

#[test]
fn abort_stops_a_waiting_execution_and_drops_its_tasks() {
    struct DropFlag(Arc<AtomicBool>);
    impl Drop for DropFlag {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicBool::new(false));
    let started = Arc::new(AtomicBool::new(false));
    let (d, s) = (dropped.clone(), started.clone());
    let executor = task_fn(move |_r: TaskRequest<'_>| {
        let flag = DropFlag(d.clone());
        s.store(true, Ordering::SeqCst);
        async move {
            let _flag = flag;
            futures::future::pending::<stepfn::TaskResult>().await
        }
    });
    let m = machine(
        json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
            {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "End": true}}},
            {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}}
        ]}}}),
    );
    let execution = m.execution().with_history(true);
    let handle = execution.handle();
    let aborter = std::thread::spawn(move || {
        while !started.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(5));
        }
        handle.abort();
    });
    let o = futures::executor::block_on(execution.run(&executor, json!({})));
    aborter.join().unwrap();
    assert_eq!(o.status, Status::Aborted);
    assert!(
        dropped.load(Ordering::SeqCst),
        "the in-flight task future was dropped"
    );
    let last = o.history.unwrap().pop().unwrap();
    assert_eq!(last.event_type, "ExecutionAborted");
}

// ---------------------------------------------------------------------------
// Callbacks

#[test]
fn an_executor_can_answer_its_own_callback() {
    let executor = sync_task_fn(|r: TaskRequest<'_>| {
        let token = r.parameters["token"].clone();
        r.callback()
            .expect("a callback task")
            .send_success(json!({"echo": token}))
            .unwrap();
        Ok(json!({"MessageId": "m"}))
    });
    let o = futures::executor::block_on(
        machine(callback_task(json!({}))).execute(&executor, json!({})),
    );
    let output = o.output.unwrap();
    assert!(output["echo"].as_str().is_some_and(|t| !t.is_empty()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_completes_callbacks_through_the_handle() {
    let m = Arc::new(machine(callback_task(json!({}))));
    let token = Arc::new(Mutex::new(None::<String>));
    let t = token.clone();
    let executor = Arc::new(sync_task_fn(move |r: TaskRequest<'_>| {
        *t.lock().unwrap() = r.task_token.map(str::to_owned);
        Ok(json!({}))
    }));
    let execution_machine = m.clone();
    let (handle_tx, handle_rx) = tokio::sync::oneshot::channel();
    let run = tokio::spawn(async move {
        let execution = execution_machine.execution();
        handle_tx.send(execution.handle()).ok();
        execution.run(&executor, json!({})).await
    });
    let handle = handle_rx.await.unwrap();
    let token = loop {
        if let Some(t) = token.lock().unwrap().clone() {
            break t;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    assert_eq!(
        handle.send_task_success("no-such-token", json!(1)),
        Err(CallbackError::TaskDoesNotExist)
    );
    handle.send_task_heartbeat(&token).unwrap();
    handle
        .send_task_success(&token, json!({"done": true}))
        .unwrap();
    assert_eq!(run.await.unwrap().output, Some(json!({"done": true})));
}

#[test]
fn callback_failure_is_a_task_error() {
    let executor = sync_task_fn(|r: TaskRequest<'_>| {
        r.callback()
            .unwrap()
            .send_failure(Some("Rejected"), Some("no"))
            .unwrap();
        Ok(json!({}))
    });
    let o = futures::executor::block_on(
        machine(callback_task(json!({}))).execute(&executor, json!({})),
    );
    assert_eq!(
        (o.error.as_deref(), o.cause.as_deref()),
        (Some("Rejected"), Some("no"))
    );
}

#[test]
fn a_missed_heartbeat_times_out_on_virtual_time() {
    let def = callback_task(json!({"HeartbeatSeconds": 5, "TimeoutSeconds": 600,
        "Catch": [{"ErrorEquals": ["States.HeartbeatTimeout"], "Next": "Caught"}]}));
    let mut def = def;
    def["States"]["Caught"] = json!({"Type": "Pass", "End": true});
    let o = futures::executor::block_on(
        machine(def)
            .execution()
            .with_virtual_time()
            .run(&sync_task_fn(|_r| Ok(json!({}))), json!({})),
    );
    // AWS raises States.Timeout for a heartbeat expiry; States.HeartbeatTimeout catches it too.
    // The caught cause is "" as for a recorded task timeout (inferred for heartbeats:
    // Compatibility, "Caught timeouts")
    assert_eq!(
        o.output,
        Some(json!({"Error": "States.Timeout", "Cause": ""}))
    );
}

// ---------------------------------------------------------------------------
// Concurrency

fn counting_executor(
    in_flight: Arc<AtomicUsize>,
    max_seen: Arc<AtomicUsize>,
) -> impl stepfn::TaskExecutor {
    task_fn(move |r: TaskRequest<'_>| {
        let (in_flight, max_seen) = (in_flight.clone(), max_seen.clone());
        let p = r.parameters;
        async move {
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            max_seen.fetch_max(now, Ordering::SeqCst);
            Yield(3).await;
            in_flight.fetch_sub(1, Ordering::SeqCst);
            Ok(p)
        }
    })
}

fn map_with(max_concurrency: u64) -> Value {
    json!({"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": max_concurrency, "End": true,
        "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "End": true}}}}}})
}

#[test]
fn map_max_concurrency_bounds_calls_in_flight() {
    for (limit, expected) in [(1, 1), (3, 3), (0, 10)] {
        let (in_flight, max_seen) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let executor = counting_executor(in_flight, max_seen.clone());
        let items: Vec<u64> = (0..10).collect();
        let o =
            futures::executor::block_on(machine(map_with(limit)).execute(&executor, json!(items)));
        assert_eq!(o.output, Some(json!(items)));
        assert_eq!(
            max_seen.load(Ordering::SeqCst),
            expected,
            "MaxConcurrency {limit}"
        );
    }
}

#[test]
fn parallel_branches_run_concurrently() {
    let (in_flight, max_seen) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let executor = counting_executor(in_flight, max_seen.clone());
    let branch = |n: &str| json!({"StartAt": n, "States": {n: {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "End": true}}});
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [branch("A"), branch("B"), branch("C")]}}});
    let o = futures::executor::block_on(machine(def).execute(&executor, json!(1)));
    assert_eq!(o.output, Some(json!([1, 1, 1])));
    assert_eq!(max_seen.load(Ordering::SeqCst), 3);
}

#[test]
fn a_failing_branch_stops_the_others() {
    let finished = Arc::new(AtomicUsize::new(0));
    let f = finished.clone();
    let executor = task_fn(move |r: TaskRequest<'_>| {
        let f = f.clone();
        let fail = r.parameters == json!("fail");
        async move {
            if fail {
                return Err(StatesError::new("Bad", "bad"));
            }
            Yield(10).await;
            f.fetch_add(1, Ordering::SeqCst);
            Ok(json!(null))
        }
    });
    let branch = |p: &str| json!({"StartAt": p, "States": {p: {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "Parameters": p, "End": true}}});
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [branch("slow"), branch("fail")]}}});
    let o = futures::executor::block_on(machine(def).execute(&executor, json!({})));
    assert_eq!(o.error.as_deref(), Some("Bad"));
    assert_eq!(finished.load(Ordering::SeqCst), 0);
}
