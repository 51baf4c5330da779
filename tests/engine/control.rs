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

use crate::common::{machine, LAMBDA};

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

/// A loop of states that never wait, `n` rounds long (`Inc` counts in
/// `$.i`, `Check` goes back while `$.i < n`), entered at `Inc` and
/// ending at `Done`; `tag` ends every state name (branches of a Parallel
/// need names of their own).
fn loop_states(tag: &str, n: u64) -> serde_json::Map<String, Value> {
    let (inc, check, done) = (
        format!("Inc{tag}"),
        format!("Check{tag}"),
        format!("Done{tag}"),
    );
    let mut states = serde_json::Map::new();
    states.insert(
        inc.clone(),
        json!({"Type": "Pass", "Parameters": {"i.$": "States.MathAdd($.i, 1)"}, "Next": check}),
    );
    states.insert(check, json!({"Type": "Choice", "Choices": [{"Variable": "$.i", "NumericLessThan": n, "Next": inc}], "Default": done}));
    states.insert(done, json!({"Type": "Succeed"}));
    states
}

/// [`loop_states`] as a machine (or a branch, or an item processor).
fn endless_loop(tag: &str, n: u64) -> Value {
    json!({"StartAt": format!("Inc{tag}"), "States": loop_states(tag, n)})
}

/// How many states `history` entered after its event `after` (an id).
fn entered_after(history: &[stepfn::HistoryEvent], after: u64) -> usize {
    history
        .iter()
        .filter(|e| e.id > after && e.event_type.ends_with("StateEntered"))
        .count()
}

/// Counts wakes of the task polling an execution.
struct WakeCount(AtomicUsize);

impl futures::task::ArcWake for WakeCount {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        arc_self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// States that never wait still yield to the caller's executor: once every
/// 256 transitions, waking the task first (a runtime-agnostic yield). The
/// loop makes 20,001 transitions: 78 yields.
#[test]
fn a_loop_that_never_waits_yields_every_256_transitions() {
    let sm = machine(endless_loop("", 10_000));
    let executor = sync_task_fn(|r| Ok(r.parameters));
    let execution = sm.execution().with_limits(stepfn::Limits::unlimited());
    let wakes = Arc::new(WakeCount(AtomicUsize::new(0)));
    let waker = futures::task::waker(wakes.clone());
    let mut cx = Context::from_waker(&waker);
    let mut run = Box::pin(execution.run(&executor, json!({"i": 0})));
    let mut pending = 0;
    let outcome = loop {
        match run.as_mut().poll(&mut cx) {
            Poll::Ready(o) => break o,
            Poll::Pending => pending += 1,
        }
    };
    assert_eq!(
        (outcome.error, outcome.cause, outcome.output),
        (None, None, Some(json!({"i": 10_000})))
    );
    assert_eq!((pending, wakes.0.load(Ordering::SeqCst)), (78, 78));
}

/// A pause is not idleness: a virtual clock does not move while a loop
/// that never waits yields, so a Wait in the other branch ends after the
/// loop (whose 2,001 transitions yield 7 times), as with any other clock.
#[test]
fn a_yield_does_not_move_a_virtual_clock() {
    let wait =
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 10, "End": true}}});
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true,
        "Branches": [wait, endless_loop("B", 1_000)]}}});
    let o = crate::common::run_recorded(
        &machine(def),
        &sync_task_fn(|r| Ok(r.parameters)),
        json!({"i": 0}),
    );
    let types: Vec<&str> = o.history.unwrap().iter().map(|e| e.event_type).collect();
    let position = |ty: &str| types.iter().position(|t| *t == ty);
    let (wait, loop_end) = (position("WaitStateExited"), position("SucceedStateExited"));
    assert!(
        wait > loop_end,
        "Wait exited at {wait:?}, the loop at {loop_end:?}"
    );
}

/// An executor that aborts the execution (through `handle`) at its call
/// number `at` and counts its calls in `calls`.
fn aborting_executor(
    handle: stepfn::ExecutionHandle,
    calls: Arc<AtomicUsize>,
    at: usize,
) -> impl stepfn::TaskExecutor {
    sync_task_fn(move |r: TaskRequest<'_>| {
        if calls.fetch_add(1, Ordering::SeqCst) + 1 == at {
            handle.abort();
        }
        Ok(r.parameters)
    })
}

/// Runs `definition` without limits, recording the history, with an
/// executor aborting at its call number `at`; gives the outcome, the
/// history and the calls.
fn run_aborted_by_task(
    definition: Value,
    input: Value,
    at: usize,
) -> (Status, Vec<stepfn::HistoryEvent>, usize) {
    let sm = machine(definition);
    let execution = sm
        .execution()
        .with_limits(stepfn::Limits::unlimited())
        .with_history(true);
    let calls = Arc::new(AtomicUsize::new(0));
    let executor = aborting_executor(execution.handle(), calls.clone(), at);
    let o = futures::executor::block_on(execution.run(&executor, input));
    (o.status, o.history.unwrap(), calls.load(Ordering::SeqCst))
}

/// The id of the event ending call number `at` of the executor.
fn call_ended(history: &[stepfn::HistoryEvent], at: usize) -> u64 {
    history
        .iter()
        .filter(|e| e.event_type == "TaskSucceeded")
        .nth(at - 1)
        .map_or(u64::MAX, |e| e.id)
}

/// A loop whose states never wait (its Task answers at once) is aborted
/// from inside its executor: without limits it would run its 5,000
/// rounds; it stops before another state is entered.
#[test]
fn an_abort_from_a_task_stops_a_loop_that_never_waits() {
    let mut states = loop_states("", 5_000);
    states.insert(
        "Inc".into(),
        json!({"Type": "Pass", "Parameters": {"i.$": "States.MathAdd($.i, 1)"}, "Next": "Call"}),
    );
    states.insert(
        "Call".into(),
        json!({"Type": "Task", "Resource": LAMBDA, "Next": "Check"}),
    );
    let def = json!({"StartAt": "Inc", "States": states});
    let (status, history, calls) = run_aborted_by_task(def, json!({"i": 0}), 100);
    let after = entered_after(&history, call_ended(&history, 100));
    assert_eq!((status, calls), (Status::Aborted, 100));
    assert!(after <= 1000, "{after} states entered after the abort");
}

/// An abort from a task in one Parallel branch stops the other branch's
/// loop that never waits.
#[test]
fn an_abort_from_a_branch_stops_the_other_branches() {
    let aborting = json!({"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": LAMBDA, "End": true}}});
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true,
        "Branches": [endless_loop("A", 20_000), aborting, endless_loop("B", 20_000)]}}});
    let (status, history, calls) = run_aborted_by_task(def, json!({"i": 0}), 1);
    let after = entered_after(&history, call_ended(&history, 1));
    assert_eq!((status, calls), (Status::Aborted, 1));
    assert!(after <= 1000, "{after} states entered after the abort");
}

/// An abort from a task in one Map iteration stops the iterations.
#[test]
fn an_abort_from_an_iteration_stops_the_map() {
    let mut states = loop_states("", 20_000);
    states.insert(
        "Call".into(),
        json!({"Type": "Task", "Resource": LAMBDA, "ResultPath": null, "Next": "Inc"}),
    );
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
        "ItemProcessor": {"StartAt": "Call", "States": states}}}});
    let items: Vec<Value> = (0..4).map(|_| json!({"i": 0})).collect();
    let (status, history, calls) = run_aborted_by_task(def, json!(items), 2);
    let after = entered_after(&history, call_ended(&history, 2));
    assert_eq!(status, Status::Aborted);
    assert!(calls <= 4, "{calls} calls");
    assert!(after <= 1000, "{after} states entered after the abort");
}

/// Runs `definition` without limits on a single-threaded executor beside
/// a task that aborts it when it first gets a turn; gives the outcome and
/// the states entered.
fn run_beside_an_aborter(definition: Value, input: Value) -> (Status, usize) {
    use futures::task::LocalSpawnExt;
    use std::cell::RefCell;
    use std::rc::Rc;
    let handle: Rc<RefCell<Option<stepfn::ExecutionHandle>>> = Rc::default();
    let outcome: Rc<RefCell<Option<stepfn::Outcome>>> = Rc::default();
    let mut pool = futures::executor::LocalPool::new();
    let (h, o) = (handle.clone(), outcome.clone());
    let sm = machine(definition);
    pool.spawner()
        .spawn_local(async move {
            let execution = sm
                .execution()
                .with_limits(stepfn::Limits::unlimited())
                .with_history(true);
            *h.borrow_mut() = Some(execution.handle());
            let executor = sync_task_fn(|r| Ok(r.parameters));
            *o.borrow_mut() = Some(execution.run(&executor, input).await);
        })
        .unwrap();
    pool.spawner()
        .spawn_local(async move {
            loop {
                let ready = handle.borrow().clone();
                match ready {
                    Some(h) => break h.abort(),
                    None => Yield(1).await,
                }
            }
        })
        .unwrap();
    pool.run();
    let o = outcome.borrow_mut().take().unwrap();
    (o.status, entered_after(&o.history.unwrap(), 0))
}

/// On a single-threaded executor, a loop that never waits lets the task
/// that aborts it run (without the yield the loop would end SUCCEEDED
/// after 40,001 transitions).
#[test]
fn a_loop_that_never_waits_is_aborted_by_a_task_on_the_same_thread() {
    let (status, entered) = run_beside_an_aborter(endless_loop("", 20_000), json!({"i": 0}));
    assert_eq!(status, Status::Aborted);
    assert!(entered <= 1000, "{entered} states entered");
}

/// The same for Parallel branches and Map iterations whose states never
/// wait (run without a future of their own).
#[test]
fn branches_and_iterations_that_never_wait_are_aborted_on_the_same_thread() {
    let parallel = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true,
        "Branches": [endless_loop("A", 20_000), endless_loop("B", 20_000)]}}});
    let (status, entered) = run_beside_an_aborter(parallel, json!({"i": 0}));
    assert_eq!(status, Status::Aborted);
    assert!(entered <= 1000, "Parallel: {entered} states entered");
    let map = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
        "ItemProcessor": endless_loop("", 20_000)}}});
    let items: Vec<Value> = (0..3).map(|_| json!({"i": 0})).collect();
    let (status, entered) = run_beside_an_aborter(map, json!(items));
    assert_eq!(status, Status::Aborted);
    assert!(entered <= 1000, "Map: {entered} states entered");
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
        Err(CallbackError::InvalidToken)
    );
    handle.send_task_heartbeat(&token).unwrap();
    handle
        .send_task_success(&token, json!({"done": true}))
        .unwrap();
    assert_eq!(run.await.unwrap().output, Some(json!({"done": true})));
}

/// What the executor saw when it answered its callback task more than
/// once, through the execution's handle.
#[derive(Default)]
struct Answers {
    token: Option<String>,
    results: Vec<(&'static str, Result<(), CallbackError>)>,
}

/// A task takes one answer: AWS refuses a reused token with TaskTimedOut
/// ("Provided task does not exist anymore"), whatever the second answer.
/// Compatibility (crate docs, Execution): a heartbeat after the answer is
/// refused too, which AWS's recordings do not show.
#[test]
fn a_second_answer_for_a_token_is_refused() {
    let m = machine(callback_task(json!({})));
    let execution = m.execution();
    let handle = execution.handle();
    let answers = Arc::new(Mutex::new(Answers::default()));
    let seen = answers.clone();
    let executor = sync_task_fn(move |r: TaskRequest<'_>| {
        let token = r.task_token.unwrap_or_default();
        let mut seen = seen.lock().unwrap();
        seen.token = Some(token.to_owned());
        let tries = [
            ("success", handle.send_task_success(token, json!("first"))),
            ("success", handle.send_task_success(token, json!("second"))),
            ("failure", handle.send_task_failure(token, Some("E"), None)),
            ("heartbeat", handle.send_task_heartbeat(token)),
        ];
        seen.results.extend(tries);
        Ok(json!({}))
    });
    let o = futures::executor::block_on(execution.run(&executor, json!({})));
    assert_eq!(o.output, Some(json!("first")));
    let refused = Err(CallbackError::TaskTimedOut);
    let answers = answers.lock().unwrap();
    assert_eq!(answers.results[0], ("success", Ok(())));
    assert_eq!(answers.results[1], ("success", refused.clone()));
    assert_eq!(answers.results[2], ("failure", refused.clone()));
    assert_eq!(answers.results[3], ("heartbeat", refused));
}

/// The AWS error for each token nobody waits for: one the execution never
/// issued (InvalidToken, as AWS recorded for `NoSuchTaskToken`), one whose
/// task timed out, one of an execution that ended (both TaskTimedOut: the
/// task is closed; chosen from AWS's reference, not recorded: see
/// Compatibility in the crate docs).
#[test]
fn answers_nobody_waits_for_get_aws_errors() {
    let mut def = callback_task(
        json!({"TimeoutSeconds": 5, "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": null, "Next": "Later"}]}),
    );
    def["States"]["Later"] = json!({"Type": "Task", "Resource": LAMBDA, "End": true});
    let m = machine(def);
    let execution = m.execution().with_virtual_time();
    let handle = execution.handle();
    let answers = Arc::new(Mutex::new(Answers::default()));
    let seen = answers.clone();
    let executor = sync_task_fn(move |r: TaskRequest<'_>| {
        let mut seen = seen.lock().unwrap();
        match (r.task_token, seen.token.clone()) {
            // the callback task: nobody answers, it times out
            (Some(token), _) => seen.token = Some(token.to_owned()),
            // the next state: answer the task that timed out
            (None, Some(old)) => {
                let late = handle.send_task_success(&old, json!("late"));
                seen.results.push(("timed out", late));
            }
            (None, None) => {}
        }
        Ok(json!({}))
    });
    let after_the_end = execution.handle();
    let o = futures::executor::block_on(execution.run(&executor, json!({})));
    assert_eq!(o.status, Status::Succeeded);
    let answers = answers.lock().unwrap();
    let token = answers.token.as_deref().unwrap();
    let (closed, invalid) = (
        Err(CallbackError::TaskTimedOut),
        Err(CallbackError::InvalidToken),
    );
    assert_eq!(answers.results, [("timed out", closed.clone())]);
    assert_eq!(after_the_end.send_task_success(token, json!(1)), closed);
    assert_eq!(after_the_end.send_task_failure(token, None, None), closed);
    assert_eq!(after_the_end.send_task_heartbeat(token), closed);
    assert_eq!(
        after_the_end.send_task_success("NoSuchTaskToken", json!(1)),
        invalid
    );
    assert_eq!(
        after_the_end.send_task_failure("NoSuchTaskToken", None, None),
        invalid
    );
    assert_eq!(
        after_the_end.send_task_heartbeat("NoSuchTaskToken"),
        invalid
    );
}

/// The errors carry AWS's codes and messages (the message of
/// InvalidToken as recorded, that of TaskTimedOut from public reports).
#[test]
fn callback_errors_name_themselves_as_aws_does() {
    let timed_out = CallbackError::TaskTimedOut;
    let invalid = CallbackError::InvalidToken;
    let message = "Task Timed Out: 'Provided task does not exist anymore'";
    assert_eq!(
        (timed_out.name(), timed_out.to_string().as_str()),
        ("TaskTimedOut", message)
    );
    let message = "Invalid Token: 'Invalid token'";
    assert_eq!(
        (invalid.name(), invalid.to_string().as_str()),
        ("InvalidToken", message)
    );
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
