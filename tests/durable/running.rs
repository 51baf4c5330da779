//! A worker in the middle of an execution: a StopExecution written to the
//! store is honoured at its next transition, or at once while a task call
//! is in flight (the call is dropped); a long task call keeps its lease
//! renewed, and a worker fenced out during the call abandons its result.
//! The executor moves a virtual clock (nothing sleeps) and plays the other
//! process. On every store.

use crate::common::durable::{store_suite, t, MACHINE};
use crate::common::LAMBDA;
use async_trait::async_trait;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use stepfn::durable::{
    Durable, ExecutionStatus, ExecutionStore, HistoryQuery, Signal, StartExecution, StoreError,
    StoredEvent, WorkResult,
};
use stepfn::{Clock, StateMachine, StatesError, Status, TaskExecutor, TaskRequest, VirtualClock};

store_suite!(
    "running";
    a_stop_is_honoured_at_the_next_transition,
    a_stop_aborts_a_task_call_in_flight,
    a_long_task_call_keeps_its_lease,
    a_worker_fenced_out_during_a_call_abandons_its_result,
);

const LEASE: Duration = Duration::from_secs(30);

/// Pass, a slow Task, another Task, Succeed.
fn machine() -> StateMachine {
    crate::common::machine(json!({
        "StartAt": "Init",
        "States": {
            "Init": {"Type": "Pass", "Next": "Slow"},
            "Slow": {"Type": "Task", "Resource": LAMBDA.replace(":f", ":slow"), "Next": "Then"},
            "Then": {"Type": "Task", "Resource": LAMBDA, "Next": "Done"},
            "Done": {"Type": "Succeed"}
        }
    }))
}

/// What the first call (to `slow`) does; later calls answer at once.
#[derive(Clone, Copy)]
enum Play {
    /// Writes a StopExecution to the store, then answers.
    StopThenAnswer,
    /// Writes a StopExecution, lets half a lease pass, then waits.
    StopThenWait,
    /// Takes 100 s in steps of 5 s; at each step another worker tries to
    /// claim the execution.
    Slow,
    /// Another worker claims the execution 40 s on (past the lease); then
    /// 40 s pass at once, and the call waits.
    Outlive,
}

struct Executor<'s> {
    store: &'s dyn ExecutionStore,
    clock: VirtualClock,
    play: Play,
    calls: AtomicUsize,
    /// The first call ran to its end.
    finished: AtomicBool,
    /// What the other worker's claims got, in turn.
    thefts: Mutex<Vec<bool>>,
}

impl<'s> Executor<'s> {
    fn new(store: &'s dyn ExecutionStore, clock: &VirtualClock, play: Play) -> Self {
        Executor {
            store,
            clock: clock.clone(),
            play,
            calls: AtomicUsize::new(0),
            finished: AtomicBool::new(false),
            thefts: Mutex::new(Vec::new()),
        }
    }

    async fn stop(&self) {
        let stop = Signal::Stop {
            execution_arn: execution_arn(),
            error: Some("Halt".into()),
            cause: Some("by hand".into()),
        };
        self.store.signal(stop, self.clock.now()).await.unwrap();
    }

    /// Another worker's claim at `now` (which may be ahead of the clock
    /// the first worker sees).
    async fn steal_at(&self, now: std::time::SystemTime) {
        let claims = self.store.claim("thief", now, LEASE, 1).await.unwrap();
        self.thefts.lock().unwrap().push(!claims.is_empty());
    }

    /// Waits (yielding to the worker, a store on a thread answering in its
    /// own time) until the call is dropped, or gives up after a while.
    async fn wait(&self) {
        for _ in 0..10_000 {
            yield_now().await;
            std::thread::sleep(Duration::from_micros(200));
        }
    }
}

#[async_trait]
impl TaskExecutor for Executor<'_> {
    async fn execute(&self, request: TaskRequest<'_>) -> Result<Value, StatesError> {
        if self.calls.fetch_add(1, Ordering::SeqCst) > 0 || !request.resource.arn.ends_with(":slow")
        {
            return Ok(json!({}));
        }
        match self.play {
            Play::StopThenAnswer => self.stop().await,
            Play::StopThenWait => {
                self.stop().await;
                self.clock.advance(LEASE / 2);
                self.wait().await;
            }
            Play::Slow => {
                for _ in 0..20 {
                    self.clock.advance(Duration::from_secs(5));
                    self.steal_at(self.clock.now()).await;
                    yield_now().await;
                }
            }
            Play::Outlive => {
                // the other worker claims 40 s on, past the lease, before
                // the first worker's clock gets there
                let later = Duration::from_secs(40);
                self.steal_at(self.clock.now() + later).await;
                self.clock.advance(later);
                self.wait().await;
            }
        }
        self.finished.store(true, Ordering::SeqCst);
        Ok(json!({"slow": true}))
    }
}

/// Returns `Pending` once (waking itself), so that the worker's other
/// futures get a turn.
async fn yield_now() {
    let mut yielded = false;
    futures::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}

fn execution_arn() -> String {
    "arn:aws:states:us-east-1:123456789012:execution:M:run".to_owned()
}

/// The execution started, and a worker for it.
async fn started<'s>(
    s: &'s dyn ExecutionStore,
    clock: &VirtualClock,
) -> Durable<&'s dyn ExecutionStore> {
    let w = Durable::new(s)
        .with_clock(clock.clone())
        .with_worker_id("w")
        .with_lease(LEASE);
    let request = StartExecution {
        state_machine_arn: MACHINE.into(),
        name: "run".into(),
        input: json!({}),
    };
    w.start(&machine(), request).await.unwrap();
    w
}

/// The stored history: each event's type and previous event id.
async fn history(s: &dyn ExecutionStore) -> Vec<(String, u64)> {
    let page = s
        .history(&execution_arn(), &HistoryQuery::default(), None)
        .await
        .unwrap();
    page.items
        .iter()
        .map(|e: &StoredEvent| (e.event_type.clone(), e.previous_event_id))
        .collect()
}

fn events(list: &[(&str, u64)]) -> Vec<(String, u64)> {
    list.iter().map(|(t, p)| ((*t).to_owned(), *p)).collect()
}

/// Asserts the execution ended ABORTED with the stop's error and cause.
async fn assert_aborted(s: &dyn ExecutionStore) {
    let record = s.describe(&execution_arn()).await.unwrap();
    assert_eq!(record.status, ExecutionStatus::Aborted);
    assert_eq!(
        (record.error.as_deref(), record.cause.as_deref()),
        (Some("Halt"), Some("by hand"))
    );
    let page = s
        .history(&execution_arn(), &HistoryQuery::default(), None)
        .await
        .unwrap();
    let last = page.items.last().unwrap().to_json();
    assert_eq!(
        last["executionAbortedEventDetails"],
        json!({"error": "Halt", "cause": "by hand"})
    );
}

// ---------------------------------------------------------------------------
// Cases

/// The stop arrives while the worker runs (here: from inside a task call
/// that then answers): the commit of the next transition reports it, and
/// the execution ends there, ABORTED; the next Task is never called.
async fn a_stop_is_honoured_at_the_next_transition(s: &dyn ExecutionStore) {
    let clock = VirtualClock::starting_at(t(0));
    let w = started(s, &clock).await;
    let executor = Executor::new(s, &clock, Play::StopThenAnswer);
    let worked = w.run_due(&executor).await.unwrap();
    assert_eq!(worked[0].result, WorkResult::Ended(Status::Aborted));
    assert_eq!(executor.calls.load(Ordering::SeqCst), 1);
    assert_aborted(s).await;
    assert_eq!(
        history(s).await,
        events(&[
            ("ExecutionStarted", 0),
            ("PassStateEntered", 0),
            ("PassStateExited", 2),
            ("TaskStateEntered", 3),
            ("TaskScheduled", 4),
            ("TaskStarted", 5),
            ("TaskSucceeded", 6),
            ("TaskStateExited", 7),
            ("ExecutionAborted", 8),
        ])
    );
}

/// The stop arrives while a task call runs: the lease renewal during the
/// call reports it, the call is dropped, and the execution ends ABORTED
/// right after `TaskStarted`, as on AWS.
async fn a_stop_aborts_a_task_call_in_flight(s: &dyn ExecutionStore) {
    let clock = VirtualClock::starting_at(t(0));
    let w = started(s, &clock).await;
    let executor = Executor::new(s, &clock, Play::StopThenWait);
    let worked = w.run_due(&executor).await.unwrap();
    assert_eq!(worked[0].result, WorkResult::Ended(Status::Aborted));
    assert!(!executor.finished.load(Ordering::SeqCst), "the call ran on");
    assert_aborted(s).await;
    assert_eq!(
        history(s).await,
        events(&[
            ("ExecutionStarted", 0),
            ("PassStateEntered", 0),
            ("PassStateExited", 2),
            ("TaskStateEntered", 3),
            ("TaskScheduled", 4),
            ("TaskStarted", 5),
            ("ExecutionAborted", 6),
        ])
    );
}

/// A call of 100 s under a lease of 30 s: the worker renews its lease
/// during the call, so no other worker can claim the execution, and its
/// commits after the call are accepted.
async fn a_long_task_call_keeps_its_lease(s: &dyn ExecutionStore) {
    let clock = VirtualClock::starting_at(t(0));
    let w = started(s, &clock).await;
    let executor = Executor::new(s, &clock, Play::Slow);
    let worked = w.run_due(&executor).await.unwrap();
    assert_eq!(worked[0].result, WorkResult::Ended(Status::Succeeded));
    assert_eq!(*executor.thefts.lock().unwrap(), vec![false; 20]);
    let record = s.describe(&execution_arn()).await.unwrap();
    assert_eq!(record.status, ExecutionStatus::Succeeded);
}

/// The worker is paused past its lease during a call and another worker
/// claims the execution: the renewal is refused, and the first worker
/// drops the call and its result, writing nothing more.
async fn a_worker_fenced_out_during_a_call_abandons_its_result(s: &dyn ExecutionStore) {
    let clock = VirtualClock::starting_at(t(0));
    let w = started(s, &clock).await;
    let executor = Executor::new(s, &clock, Play::Outlive);
    let before = history(s).await;
    let worked = w.run_due(&executor).await.unwrap();
    assert_eq!(
        worked[0].result,
        WorkResult::Dropped(StoreError::LeaseLost(execution_arn()))
    );
    assert_eq!(*executor.thefts.lock().unwrap(), [true]);
    assert!(!executor.finished.load(Ordering::SeqCst), "the call ran on");
    // the first worker's only commit was the Task's entry, before the call
    let after = history(s).await;
    assert_eq!(after.len(), before.len() + 2);
    let record = s.describe(&execution_arn()).await.unwrap();
    assert_eq!(record.status, ExecutionStatus::Running);
}
