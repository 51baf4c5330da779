//! `.waitForTaskToken` tasks in durable executions: the call is made with
//! the token, the execution parks with the token and the attempt's
//! absolute deadlines, and SendTaskSuccess/Failure/Heartbeat written to
//! the store wake it. Each fixture runs in memory (answers through the
//! execution's handle) and durably (answers through the store) on the
//! same second-by-second script of virtual time, and ends with the same
//! outcome, history and answers refused; then again with the store failing
//! at every commit, resumed by another worker. On every store.

use crate::common::durable::Failing;
use crate::common::durable::{store_suite, t, MACHINE};
use async_trait::async_trait;
use futures::channel::oneshot;
use serde_json::{json, Value};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};
use stepfn::durable::{
    Durable, ExecutionStatus, ExecutionStore, HistoryQuery, MemoryStore, Signal, StartExecution,
    StoreError, StoredEvent, TaskMessage, WorkResult,
};
use stepfn::{
    Clock, ExecutionIdentity, Outcome, StateMachine, StatesError, Status, TaskExecutor,
    TaskRequest, VirtualClock,
};

store_suite!(
    "callback";
    callback_fixtures_end_as_in_memory,
    callback_fixtures_interrupted_at_every_commit_end_as_in_memory,
    an_answer_before_the_heir_resumes_is_kept,
    an_answer_after_the_owner_died_wakes_the_heir,
    tokens_unknown_or_answered_are_refused_as_in_memory,
    an_answer_the_executor_gives_in_process_is_taken,
);

// ---------------------------------------------------------------------------
// The machine, the executor, the clock

/// A `.waitForTaskToken` task (SQS) with a timeout of 100 s and a
/// heartbeat of 10 s, retried on `Again` (3 s) and once on a heartbeat
/// timeout (1 s), anything else caught.
fn machine() -> StateMachine {
    crate::common::machine(json!({
        "StartAt": "Ask",
        "States": {
            "Ask": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                    "Parameters": {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/q",
                                   "MessageBody": {"token.$": "$$.Task.Token", "n.$": "$.n"}},
                    "TimeoutSeconds": 100, "HeartbeatSeconds": 10,
                    "Retry": [{"ErrorEquals": ["Again"], "IntervalSeconds": 3},
                              {"ErrorEquals": ["States.HeartbeatTimeout"], "IntervalSeconds": 1, "MaxAttempts": 1}],
                    "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "Done"}],
                    "ResultPath": "$.answer", "Next": "Done"},
            "Done": {"Type": "Pass", "Parameters": {"in.$": "$", "at.$": "$$.State.EnteredTime"}, "End": true}
        }
    }))
}

/// Sends the message to the queue: records the token of each call.
#[derive(Default)]
struct Sqs {
    tokens: Mutex<Vec<String>>,
    calls: AtomicUsize,
    /// While set, the next call waits for it (a worker stuck in a call).
    gate: Mutex<Option<oneshot::Receiver<()>>>,
}

#[async_trait]
impl TaskExecutor for Sqs {
    async fn execute(&self, request: TaskRequest<'_>) -> Result<Value, StatesError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let token = request.task_token.expect("a token").to_owned();
        assert_eq!(request.parameters["MessageBody"]["token"], json!(token));
        self.tokens.lock().unwrap().push(token);
        let gate = self.gate.lock().unwrap().take();
        if let Some(gate) = gate {
            let _ = gate.await;
        }
        Ok(json!({"MessageId": "m-1"}))
    }
}

impl Sqs {
    /// The tokens of the calls, each once, in order.
    fn tokens(&self) -> Vec<String> {
        let mut tokens = self.tokens.lock().unwrap().clone();
        tokens.dedup();
        tokens
    }
}

/// A virtual clock only the test moves (the engine never jumps it to its
/// next deadline), so that a script can answer between two deadlines.
#[derive(Clone)]
struct Manual(VirtualClock);

#[async_trait]
impl Clock for Manual {
    fn now(&self) -> SystemTime {
        self.0.now()
    }
    async fn sleep(&self, duration: Duration) {
        self.0.sleep(duration).await
    }
}

// ---------------------------------------------------------------------------
// The fixtures: a script of answers, each at a second, to the token of an
// attempt (0 the first)

#[derive(Clone, Debug)]
enum Say {
    Success(Value),
    Failure(&'static str, &'static str),
    Heartbeat,
}

type Script = Vec<(u64, usize, Say)>;

/// Each fixture: its name, its script, the status and what the answers
/// got (`Ok` or AWS's error name).
fn fixtures() -> Vec<(&'static str, Script, Status, Vec<&'static str>)> {
    let ok = || Say::Success(json!({"ok": true}));
    vec![
        // a heartbeat at 5 moves the heartbeat deadline to 15; the answer
        // at 12 is in time
        (
            "answered",
            vec![(5, 0, Say::Heartbeat), (12, 0, ok())],
            Status::Succeeded,
            vec!["Ok", "Ok"],
        ),
        // a failure retried after 3 s; the second attempt answered
        (
            "failed-then-retried",
            vec![(2, 0, Say::Failure("Again", "not yet")), (7, 1, ok())],
            Status::Succeeded,
            vec!["Ok", "Ok"],
        ),
        // a failure no retrier takes: caught
        (
            "failed-caught",
            vec![(4, 0, Say::Failure("Nope", "no way"))],
            Status::Succeeded,
            vec!["Ok"],
        ),
        // no heartbeat: States.HeartbeatTimeout at 10, retried at 11,
        // again at 21, caught; a late answer to the first attempt is
        // refused
        (
            "heartbeat-timeout",
            vec![(12, 0, ok())],
            Status::Succeeded,
            vec!["TaskTimedOut"],
        ),
        // heartbeats every 8 s until TimeoutSeconds ends it at 100: caught
        (
            "timeout",
            (1..=13).map(|i| (8 * i, 0, Say::Heartbeat)).collect(),
            Status::Succeeded,
            vec!["Ok"; 12].into_iter().chain(["TaskTimedOut"]).collect(),
        ),
        // a second answer, and a heartbeat after the answer, are refused
        (
            "answered-twice",
            vec![(3, 0, ok()), (3, 0, ok()), (4, 0, Say::Heartbeat)],
            Status::Succeeded,
            vec!["Ok", "TaskTimedOut", "TaskTimedOut"],
        ),
    ]
}

fn execution_arn(name: &str) -> String {
    format!("arn:aws:states:us-east-1:123456789012:execution:M:{name}")
}

fn start_request(name: &str) -> StartExecution {
    StartExecution {
        state_machine_arn: MACHINE.into(),
        name: name.into(),
        input: json!({"n": 1}),
    }
}

/// The last second a script may run to.
const HORIZON: u64 = 300;

/// The fixture run in memory: answers through the execution's handle at
/// their second, the clock moved a second at a time once the run waits.
fn in_memory(name: &str, script: &Script) -> (Outcome, Vec<String>, Vec<String>) {
    let mut identity = ExecutionIdentity::new();
    identity.state_machine_arn = Some(MACHINE.into());
    identity.execution_arn = Some(execution_arn(name));
    identity.execution_name = Some(name.into());
    identity.start_time = Some(t(0));
    let clock = VirtualClock::starting_at(t(0));
    let sm = machine();
    let execution = sm
        .execution()
        .with_clock(Manual(clock.clone()))
        .with_identity(identity)
        .with_history(true);
    let handle = execution.handle();
    let sqs = Sqs::default();
    let mut answers = Vec::new();
    let mut next = 0;
    let outcome = {
        let mut run = Box::pin(execution.run(&sqs, json!({"n": 1})));
        let waker = futures::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        let mut second = 0;
        loop {
            // twice: the engine yields once every 256 transitions
            if let std::task::Poll::Ready(o) = run.as_mut().poll(&mut cx) {
                break o;
            }
            if let std::task::Poll::Ready(o) = run.as_mut().poll(&mut cx) {
                break o;
            }
            let said = next;
            while let Some((_, attempt, say)) = script.get(next).filter(|s| s.0 == second) {
                answers.push(answer(&handle, &sqs.tokens()[*attempt], say));
                next += 1;
            }
            if said == next {
                assert!(second < HORIZON, "{name}: the in-memory run never ended");
                second += 1;
                clock.advance(Duration::from_secs(1));
            }
        }
    };
    // what the script says after the end
    for (_, attempt, say) in &script[next..] {
        answers.push(answer(&handle, &sqs.tokens()[*attempt], say));
    }
    (outcome, sqs.tokens(), answers)
}

/// Says `say` for `token` through `handle`: `Ok` or the error's name.
fn answer(handle: &stepfn::ExecutionHandle, token: &str, say: &Say) -> String {
    let answer = match say {
        Say::Success(v) => handle.send_task_success(token, v.clone()),
        Say::Failure(e, c) => handle.send_task_failure(token, Some(e), Some(c)),
        Say::Heartbeat => handle.send_task_heartbeat(token),
    };
    answer.map_or_else(|e| e.name().to_owned(), |()| "Ok".to_owned())
}

/// The fixture run durably: each second, the workers run what is due,
/// then the answers of that second are written to the store, then the
/// workers run again. `workers` gives the worker for each round (the
/// first one may be dropped by a failing store: then the next takes
/// over). Gives the answers' results.
async fn durably(
    store: &dyn ExecutionStore,
    workers: &[Durable<&dyn ExecutionStore>],
    clock: &VirtualClock,
    name: &str,
    script: &Script,
    sqs: &Sqs,
) -> Vec<String> {
    let mut current = 0;
    let mut answers = Vec::new();
    let mut next = 0;
    let mut ended = false;
    for second in 0..=HORIZON {
        drain(workers, &mut current, &mut ended, sqs, name).await;
        while let Some((_, attempt, say)) = script.get(next).filter(|s| s.0 == second) {
            let token = sqs.tokens()[*attempt].clone();
            let message = match say {
                Say::Success(v) => TaskMessage::Success {
                    output: v.to_string(),
                },
                Say::Failure(e, c) => TaskMessage::Failure {
                    error: Some((*e).into()),
                    cause: Some((*c).into()),
                },
                Say::Heartbeat => TaskMessage::Heartbeat,
            };
            let answer = store
                .signal(Signal::Task { token, message }, clock.now())
                .await;
            answers.push(match answer {
                Ok(()) => "Ok".to_owned(),
                Err(StoreError::Callback(e)) => e.name().to_owned(),
                Err(e) => panic!("{name}: {e}"),
            });
            next += 1;
        }
        drain(workers, &mut current, &mut ended, sqs, name).await;
        // (a last commit that landed with its answer lost ends it too)
        let record = store.describe(&execution_arn(name)).await.unwrap();
        ended |= record.status != ExecutionStatus::Running;
        if ended && next == script.len() {
            return answers;
        }
        clock.advance(Duration::from_secs(1));
    }
    panic!("{name}: the durable run never ended");
}

/// Runs what is due until nothing is; a worker dropped by a failing store
/// hands over to the next one.
async fn drain(
    workers: &[Durable<&dyn ExecutionStore>],
    current: &mut usize,
    ended: &mut bool,
    sqs: &Sqs,
    name: &str,
) {
    loop {
        let worked = workers[*current].run_due(sqs).await.expect("run_due");
        if worked.is_empty() {
            return;
        }
        for w in worked {
            match w.result {
                WorkResult::Dropped(_) if *current + 1 < workers.len() => *current += 1,
                WorkResult::Ended(_) => *ended = true,
                WorkResult::Parked(_) | WorkResult::Awaiting(_) => {}
                other => panic!("{name}: {other:?}"),
            }
        }
    }
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

/// `events` with each token replaced by its attempt's number, and the
/// execution's name by `name`.
fn normalised(events: &[Value], tokens: &[String], from: &str, name: &str) -> Vec<Value> {
    events
        .iter()
        .map(|e| {
            let mut text = e
                .to_string()
                .replace(&format!(":M:{from}"), &format!(":M:{name}"));
            for (i, token) in tokens.iter().enumerate() {
                text = text.replace(token, &format!("TOKEN-{i}"));
            }
            serde_json::from_str(&text).unwrap()
        })
        .collect()
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

/// Asserts the stored execution `name` ended as `reference` did.
async fn assert_same_end(
    store: &dyn ExecutionStore,
    name: &str,
    (reference, reference_tokens): (&Outcome, &[String]),
    tokens: &[String],
) {
    let record = store.describe(&execution_arn(name)).await.unwrap();
    assert_eq!(record.status, reference.status.into(), "{name}");
    assert_eq!(
        record
            .output
            .as_deref()
            .map(|o| serde_json::from_str::<Value>(o).unwrap()),
        reference.output,
        "{name}"
    );
    assert_eq!(
        (record.error.as_ref(), record.cause.as_ref()),
        (reference.error.as_ref(), reference.cause.as_ref())
    );
    let want: Vec<Value> = reference
        .history
        .as_ref()
        .unwrap()
        .iter()
        .map(|e| e.to_json())
        .collect();
    let want = normalised(&want, reference_tokens, "ref", name);
    let got = normalised(&history(store, name).await, tokens, name, name);
    assert_same_events(&got, &want, name);
}

fn worker<'s>(
    store: &'s dyn ExecutionStore,
    clock: &VirtualClock,
    id: &str,
    lease: Duration,
) -> Durable<&'s dyn ExecutionStore> {
    Durable::new(store)
        .with_clock(Manual(clock.clone()))
        .with_worker_id(id)
        .with_lease(lease)
}

// ---------------------------------------------------------------------------
// Cases

async fn callback_fixtures_end_as_in_memory(s: &dyn ExecutionStore) {
    for (name, script, status, want_answers) in fixtures() {
        let (reference, reference_tokens, reference_answers) = in_memory("ref", &script);
        assert_eq!(reference.status, status, "{name}");
        assert_eq!(reference_answers, want_answers, "{name}");
        let clock = VirtualClock::starting_at(t(0));
        let w = worker(s, &clock, "w", Duration::from_secs(30));
        w.start(&machine(), start_request(name)).await.unwrap();
        let sqs = Sqs::default();
        let answers = durably(s, std::slice::from_ref(&w), &clock, name, &script, &sqs).await;
        assert_eq!(answers, want_answers, "{name}");
        // one call per attempt: none made twice without a crash
        assert_eq!(
            sqs.calls.load(Ordering::SeqCst),
            reference_tokens.len(),
            "{name}"
        );
        assert_same_end(s, name, (&reference, &reference_tokens), &sqs.tokens()).await;
    }
    // the fixtures' ends, spelled out once: a heartbeat timeout is
    // retried by a retrier of States.HeartbeatTimeout, and caught as
    // States.Timeout, as the in-memory engine reports it
    let (reference, tokens, _) = in_memory("ref", &fixtures()[3].1);
    assert_eq!(tokens.len(), 2);
    assert_eq!(
        reference.output.unwrap()["in"]["caught"],
        json!({"Error": "States.Timeout", "Cause": ""})
    );
    let (reference, _, _) = in_memory("ref", &fixtures()[4].1);
    assert_eq!(
        reference.output.unwrap()["in"]["caught"],
        json!({"Error": "States.Timeout", "Cause": ""})
    );
}

async fn callback_fixtures_interrupted_at_every_commit_end_as_in_memory(s: &dyn ExecutionStore) {
    for (fixture, script, _, want_answers) in fixtures() {
        let (reference, reference_tokens, _) = in_memory("ref", &script);
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
            let w = worker(&counting, &clock, "w", Duration::ZERO);
            w.start(&machine(), start_request("count")).await.unwrap();
            durably(&counting, &[w], &clock, "count", &script, &Sqs::default()).await;
            counting.commits.load(Ordering::SeqCst)
        };
        assert!(commits >= 3, "{fixture}: {commits} commits");
        for fail_at in 1..=commits {
            for lands in [false, true] {
                let name = format!("{fixture}-{fail_at}-{lands}");
                let failing = Failing {
                    store: s,
                    fail_at,
                    lands,
                    commits: AtomicUsize::new(0),
                };
                let clock = VirtualClock::starting_at(t(0));
                // zero leases: the second worker resumes at once, so that
                // the history's timestamps are those of an uninterrupted run
                let workers = [
                    worker(&failing, &clock, "first", Duration::ZERO),
                    worker(s, &clock, "second", Duration::ZERO),
                ];
                workers[0]
                    .start(&machine(), start_request(&name))
                    .await
                    .unwrap();
                let sqs = Sqs::default();
                let answers = durably(s, &workers, &clock, &name, &script, &sqs).await;
                assert_eq!(answers, want_answers, "{name}");
                assert_same_end(s, &name, (&reference, &reference_tokens), &sqs.tokens()).await;
            }
        }
    }
}

/// The owner dies inside the call; the answer comes while its lease
/// holds (stored: the token was opened before the call); the heir makes
/// the call again (at-least-once, same token) and takes the stored answer.
async fn an_answer_before_the_heir_resumes_is_kept(s: &dyn ExecutionStore) {
    let clock = VirtualClock::starting_at(t(0));
    let lease = Duration::from_secs(30);
    let owner = worker(s, &clock, "owner", lease);
    owner
        .start(&machine(), start_request("early"))
        .await
        .unwrap();
    let (_never, gate) = oneshot::channel::<()>();
    let stuck = Sqs::default();
    *stuck.gate.lock().unwrap() = Some(gate);
    {
        let mut run = Box::pin(owner.run_due(&stuck));
        let waker = futures::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        for _ in 0..10_000 {
            assert!(run.as_mut().poll(&mut cx).is_pending());
            if stuck.calls.load(Ordering::SeqCst) == 1 {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(stuck.calls.load(Ordering::SeqCst), 1);
    }
    let token = stuck.tokens()[0].clone();
    clock.advance(Duration::from_secs(2));
    let answer = TaskMessage::Success {
        output: r#"{"early": true}"#.into(),
    };
    s.signal(
        Signal::Task {
            token: token.clone(),
            message: answer,
        },
        clock.now(),
    )
    .await
    .unwrap();
    let heir = worker(s, &clock, "heir", lease);
    let sqs = Sqs::default();
    // not while the owner's lease holds
    assert!(heir.run_due(&sqs).await.unwrap().is_empty());
    clock.advance(lease);
    let worked = heir.run_due(&sqs).await.unwrap();
    assert_eq!(worked[0].result, WorkResult::Ended(Status::Succeeded));
    assert_eq!(sqs.tokens(), std::slice::from_ref(&token));
    let record = s.describe(&execution_arn("early")).await.unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(record.output.as_deref().unwrap()).unwrap()["in"]["answer"],
        json!({"early": true})
    );
    let types: Vec<String> = history(s, "early")
        .await
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSubmitted",
            "TaskSucceeded",
            "TaskStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
    // the token is closed: a later answer is refused
    let again = s
        .signal(
            Signal::Task {
                token,
                message: TaskMessage::Heartbeat,
            },
            clock.now(),
        )
        .await;
    assert_eq!(
        again,
        Err(StoreError::Callback(stepfn::CallbackError::TaskTimedOut))
    );
}

/// The owner parks the execution on the callback and goes away; the
/// answer, from another process, makes it due, and any worker ends it.
async fn an_answer_after_the_owner_died_wakes_the_heir(s: &dyn ExecutionStore) {
    let clock = VirtualClock::starting_at(t(0));
    let lease = Duration::from_secs(30);
    let owner = worker(s, &clock, "owner", lease);
    owner
        .start(&machine(), start_request("late"))
        .await
        .unwrap();
    let sqs = Sqs::default();
    let worked = owner.run_due(&sqs).await.unwrap();
    // parked until its heartbeat deadline, nothing held in memory
    assert_eq!(worked[0].result, WorkResult::Awaiting(Some(t(10))));
    assert_eq!(clock.pending_sleeps(), 0);
    assert_eq!(s.next_due().await.unwrap(), Some(t(10)));
    drop(owner);
    clock.advance(Duration::from_secs(4));
    let token = sqs.tokens()[0].clone();
    let failure = TaskMessage::Failure {
        error: Some("Nope".into()),
        cause: Some("no way".into()),
    };
    s.signal(
        Signal::Task {
            token,
            message: failure,
        },
        clock.now(),
    )
    .await
    .unwrap();
    assert_eq!(s.next_due().await.unwrap(), Some(t(4)));
    let heir = worker(s, &clock, "heir", lease);
    let worked = heir.run_until_idle(&sqs).await.unwrap();
    assert_eq!(worked[0].result, WorkResult::Ended(Status::Succeeded));
    assert_eq!(sqs.calls.load(Ordering::SeqCst), 1);
    let record = s.describe(&execution_arn("late")).await.unwrap();
    assert_eq!(record.status, ExecutionStatus::Succeeded);
    assert_eq!(
        serde_json::from_str::<Value>(record.output.as_deref().unwrap()).unwrap()["in"]["caught"],
        json!({"Error": "Nope", "Cause": "no way"})
    );
    let failed = history(s, "late")
        .await
        .into_iter()
        .find(|e| e["type"] == "TaskFailed")
        .unwrap();
    assert_eq!(
        failed["taskFailedEventDetails"],
        json!({"resourceType": "sqs", "resource": "sendMessage.waitForTaskToken", "error": "Nope", "cause": "no way"})
    );
}

/// A token no execution issued is InvalidToken; one whose task ended is
/// TaskTimedOut, as the in-memory handle answers.
async fn tokens_unknown_or_answered_are_refused_as_in_memory(s: &dyn ExecutionStore) {
    let clock = VirtualClock::starting_at(t(0));
    let w = worker(s, &clock, "w", Duration::from_secs(30));
    w.start(&machine(), start_request("refusals"))
        .await
        .unwrap();
    let sqs = Sqs::default();
    w.run_due(&sqs).await.unwrap();
    let send = |token: String, message| s.signal(Signal::Task { token, message }, clock.now());
    assert_eq!(
        send("no-such-token".into(), TaskMessage::Heartbeat).await,
        Err(StoreError::Callback(stepfn::CallbackError::InvalidToken))
    );
    let token = sqs.tokens()[0].clone();
    let ok = || TaskMessage::Success {
        output: "{}".into(),
    };
    send(token.clone(), ok()).await.unwrap();
    // answered, not yet taken by a worker: closed to further answers
    assert_eq!(
        send(token.clone(), ok()).await,
        Err(StoreError::Callback(stepfn::CallbackError::TaskTimedOut))
    );
    w.run_until_idle(&sqs).await.unwrap();
    assert_eq!(
        send(token, TaskMessage::Heartbeat).await,
        Err(StoreError::Callback(stepfn::CallbackError::TaskTimedOut))
    );
}

/// An executor that answers through `TaskRequest::callback` before it
/// returns (a test double, the mock configurations) ends the task without
/// parking, as in memory.
async fn an_answer_the_executor_gives_in_process_is_taken(s: &dyn ExecutionStore) {
    let answering = stepfn::sync_task_fn(|request: TaskRequest<'_>| {
        let callback = request.callback().expect("a callback");
        callback.send_success(json!({"at": "once"})).unwrap();
        Ok(json!({}))
    });
    let reference = machine()
        .execution()
        .with_clock(VirtualClock::starting_at(t(0)))
        .run(&answering, json!({"n": 1}))
        .await;
    let clock = VirtualClock::starting_at(t(0));
    let w = worker(s, &clock, "w", Duration::from_secs(30));
    w.start(&machine(), start_request("direct")).await.unwrap();
    let worked = w.run_until_idle(&answering).await.unwrap();
    assert_eq!(worked.len(), 1);
    assert_eq!(worked[0].result, WorkResult::Ended(Status::Succeeded));
    let record = s.describe(&execution_arn("direct")).await.unwrap();
    let output: Value = serde_json::from_str(record.output.as_deref().unwrap()).unwrap();
    assert_eq!(output["in"], reference.output.unwrap()["in"]);
    assert_eq!(output["in"]["answer"], json!({"at": "once"}));
}
