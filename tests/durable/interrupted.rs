//! Issue 14's item 5(a) over the fixture machines, redrives included: a
//! store that fails its k-th commit (the commit lost, or stored with its
//! answer lost), for every k, and a fresh driver that takes over, end
//! with the outcome, history and task-call keys of the uninterrupted run,
//! whose history before the redrive is the in-memory run's. Every case runs
//! on every store (`on_every_store!`); virtual time, nothing sleeps.

use crate::common::durable::{lines, on_every_store, t, Failing, MACHINE};
use crate::common::LAMBDA;
use async_trait::async_trait;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use stepfn::durable::{
    Durable, ExecutionRecord, ExecutionStore, HistoryQuery, MemoryStore, StartExecution,
    StoredEvent, WorkResult,
};
use stepfn::{Clock, ExecutionIdentity, StatesError, TaskExecutor, TaskRequest, VirtualClock};

on_every_store!(every_fixture_interrupted_at_every_commit_ends_as_if_uninterrupted);

fn lambda(name: &str) -> String {
    LAMBDA.replace(":function:f", &format!(":function:{name}"))
}

fn arn(name: &str) -> String {
    format!("arn:aws:states:us-east-1:123456789012:execution:M:{name}")
}

/// A machine, its input, and whether it is redriven once it has stopped
/// (its services are fixed then).
struct Fixture {
    name: &'static str,
    definition: Value,
    input: Value,
    redriven: bool,
    /// A Parallel or Map state in it backs off (a retry) inside: run
    /// again whole when it is interrupted there, it runs again later, so
    /// its events' timestamps are those of the rerun (compared without).
    rerun_later: bool,
}

impl Fixture {
    /// Its Parallel branches or Map iterations run at the same time: the
    /// history of each line of states is compared ([`lines`]), not the
    /// order in which the lines' events interleave.
    fn concurrent(&self) -> bool {
        let text = self.definition.to_string();
        text.contains(r#""Type":"Parallel""#) || text.contains(r#""Type":"Map""#)
    }
}

fn fixtures() -> Vec<Fixture> {
    vec![
        Fixture {
            // fails in a Task after its retry; redriven, the Task succeeds
            name: "task-redriven",
            definition: json!({
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
            }),
            input: json!({"start": 1}),
            redriven: true,
            rerun_later: false,
        },
        Fixture {
            // times out in a Wait, twice
            name: "wait-timed-out-redriven",
            definition: json!({
                "TimeoutSeconds": 10,
                "StartAt": "Nap",
                "States": {"Nap": {"Type": "Wait", "Seconds": 3600, "InputPath": "$.inner", "End": true}}
            }),
            input: json!({"inner": {"x": 1}}),
            redriven: true,
            rerun_later: false,
        },
        Fixture {
            // a retry, a catch, a Choice to a Fail state; redriven, it
            // fails in the Fail state again
            name: "caught-then-failed-redriven",
            definition: json!({
                "StartAt": "Call",
                "States": {
                    "Call": {"Type": "Task", "Resource": lambda("flaky"), "Parameters": {"n.$": "$.start"},
                             "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 2}], "Next": "Risky"},
                    "Risky": {"Type": "Task", "Resource": lambda("boom"), "Next": "Check",
                              "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "Check"}]},
                    "Check": {"Type": "Choice", "Choices": [{"Variable": "$.caught", "IsPresent": true, "Next": "Bad"}], "Default": "Good"},
                    "Good": {"Type": "Succeed"},
                    "Bad": {"Type": "Fail", "Error": "Caught", "Cause": "the call broke"}
                }
            }),
            input: json!({"start": 5}),
            redriven: true,
            rerun_later: false,
        },
        Fixture {
            // JSONata: a Choice loop through a Wait, with a variable
            name: "jsonata-loop",
            definition: json!({
                "QueryLanguage": "JSONata",
                "StartAt": "Init",
                "States": {
                    "Init": {"Type": "Pass", "Assign": {"i": 0}, "Next": "Nap"},
                    "Nap": {"Type": "Wait", "Seconds": 5, "Next": "Inc"},
                    "Inc": {"Type": "Pass", "Assign": {"i": "{% $i + 1 %}"}, "Next": "Check"},
                    "Check": {"Type": "Choice", "Choices": [{"Condition": "{% $i < 3 %}", "Next": "Nap"}], "Default": "Call"},
                    "Call": {"Type": "Task", "Resource": lambda("add"), "Arguments": {"n": "{% $i %}"}, "End": true}
                }
            }),
            input: json!({}),
            redriven: false,
            rerun_later: false,
        },
        Fixture {
            // Parallel: a retry inside a branch; a Parallel whose branch
            // always fails, retried as a whole, then caught
            name: "parallel-retried-caught",
            definition: json!({
                "StartAt": "Init",
                "States": {
                    "Init": {"Type": "Pass", "Parameters": {"n.$": "$.start"}, "Next": "Fan"},
                    "Fan": {"Type": "Parallel", "Next": "Again", "ResultSelector": {"sum.$": "$[*].n"},
                            "Branches": [
                                {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": lambda("add"), "End": true}}},
                                {"StartAt": "B", "States": {
                                    "B": {"Type": "Task", "Resource": lambda("flaky"), "Next": "B2",
                                          "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 3}]},
                                    "B2": {"Type": "Task", "Resource": lambda("add"), "End": true}}}
                            ]},
                    "Again": {"Type": "Parallel", "Next": "Done", "ResultPath": "$.results",
                              "Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 2, "MaxAttempts": 1}],
                              "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "Done"}],
                              "Branches": [
                                  {"StartAt": "C", "States": {"C": {"Type": "Task", "Resource": lambda("add"),
                                      "Parameters": {"n": 7}, "End": true}}},
                                  {"StartAt": "D", "States": {"D": {"Type": "Task", "Resource": lambda("boom"), "End": true}}}
                              ]},
                    "Done": {"Type": "Pass", "End": true}
                }
            }),
            input: json!({"start": 1}),
            redriven: false,
            rerun_later: true,
        },
        Fixture {
            // Parallel: one branch fails until its service is fixed;
            // redriven, the Parallel runs again (every branch: see the
            // crate's Compatibility section) and succeeds
            name: "parallel-redriven",
            definition: json!({
                "StartAt": "Init",
                "States": {
                    "Init": {"Type": "Pass", "Parameters": {"n.$": "$.start"}, "Assign": {"k": 3}, "Next": "Fan"},
                    "Fan": {"Type": "Parallel", "Next": "Done",
                            "Branches": [
                                {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": lambda("add"), "End": true}}},
                                {"StartAt": "B", "States": {
                                    "B": {"Type": "Pass", "Parameters": {"n.$": "$k"}, "Next": "B2"},
                                    "B2": {"Type": "Task", "Resource": lambda("times"), "End": true}}}
                            ]},
                    "Done": {"Type": "Pass", "End": true, "Parameters": {
                        "results.$": "$", "count.$": "$$.Execution.RedriveCount"}}
                }
            }),
            input: json!({"start": 1}),
            redriven: true,
            rerun_later: false,
        },
        Fixture {
            // inline Map: ItemSelector, one at a time, an iteration that
            // fails until its service is fixed; redriven, the Map runs
            // again and succeeds
            name: "map-redriven",
            definition: json!({
                "StartAt": "Init",
                "States": {
                    "Init": {"Type": "Pass", "Next": "Each"},
                    "Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1, "Next": "Done",
                             "ItemSelector": {"n.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"},
                             "ItemProcessor": {"StartAt": "Pick", "States": {
                                 "Pick": {"Type": "Choice", "Choices": [{"Variable": "$.i", "NumericEquals": 1, "Next": "Slow"}],
                                          "Default": "Quick"},
                                 "Quick": {"Type": "Task", "Resource": lambda("add"), "End": true},
                                 "Slow": {"Type": "Task", "Resource": lambda("times"), "End": true}}}},
                    "Done": {"Type": "Pass", "End": true}
                }
            }),
            input: json!({"items": [1, 2, 3]}),
            redriven: true,
            rerun_later: false,
        },
        Fixture {
            // nested lines: a Map (two at a time) whose iterations run a
            // Parallel, one branch napping in a Wait before its Task, the
            // other retrying a Task after a back-off
            name: "nested-waits",
            definition: json!({
                "StartAt": "Init",
                "States": {
                    "Init": {"Type": "Pass", "Next": "Each"},
                    "Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2, "Next": "Done",
                             "ItemSelector": {"n.$": "$$.Map.Item.Value"},
                             "ItemProcessor": {"StartAt": "Fan", "States": {
                                 "Fan": {"Type": "Parallel", "End": true, "Branches": [
                                     {"StartAt": "Nap", "States": {
                                         "Nap": {"Type": "Wait", "Seconds": 5, "Next": "Add"},
                                         "Add": {"Type": "Task", "Resource": lambda("add"), "End": true}}},
                                     {"StartAt": "Try", "States": {
                                         "Try": {"Type": "Task", "Resource": lambda("flaky"), "End": true,
                                                 "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 2}]}}}
                                 ]}}}},
                    "Done": {"Type": "Pass", "End": true}
                }
            }),
            input: json!({"items": [1, 2, 3]}),
            redriven: false,
            rerun_later: false,
        },
        Fixture {
            // distributed Map: child executions (their own histories), one
            // failing (tolerated), one waiting, two at a time
            name: "distributed-tolerated",
            definition: json!({
                "StartAt": "Each",
                "States": {
                    "Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2,
                             "ToleratedFailureCount": 1, "Next": "Done",
                             "ItemSelector": {"n.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"},
                             "ItemProcessor": {
                                 "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                                 "StartAt": "Pick", "States": {
                                 "Pick": {"Type": "Choice", "Choices": [
                                     {"Variable": "$.i", "NumericEquals": 1, "Next": "Slow"},
                                     {"Variable": "$.i", "NumericEquals": 2, "Next": "Nap"}],
                                          "Default": "Quick"},
                                 "Nap": {"Type": "Wait", "Seconds": 7, "Next": "Quick"},
                                 "Quick": {"Type": "Task", "Resource": lambda("add"), "End": true},
                                 "Slow": {"Type": "Task", "Resource": lambda("times"), "End": true}}}},
                    "Done": {"Type": "Pass", "End": true}
                }
            }),
            input: json!({"items": [1, 2, 3, 4]}),
            redriven: false,
            rerun_later: false,
        },
        Fixture {
            // JSONata inline Map: a retry in an iteration, a failure caught on
            // the Map, then a Task
            name: "jsonata-map-caught",
            definition: json!({
                "QueryLanguage": "JSONata",
                "StartAt": "Init",
                "States": {
                    "Init": {"Type": "Pass", "Assign": {"base": 10}, "Next": "Each"},
                    "Each": {"Type": "Map", "Items": "{% $states.input.items %}",
                             "Catch": [{"ErrorEquals": ["Boom"], "Next": "Call"}],
                             "ItemSelector": {"n": "{% $states.context.Map.Item.Value + $base %}"},
                             "ItemProcessor": {"StartAt": "Try", "States": {
                                 "Try": {"Type": "Task", "Resource": lambda("flaky"), "Arguments": {"n": "{% $states.input.n %}"},
                                          "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1}], "Next": "Check"},
                                 "Check": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.n = 13 %}", "Next": "Broke"}],
                                           "Default": "Fine"},
                                 "Broke": {"Type": "Task", "Resource": lambda("boom"), "End": true},
                                 "Fine": {"Type": "Succeed"}}},
                             "Next": "Call"},
                    "Call": {"Type": "Task", "Resource": lambda("add"), "Arguments": {"n": "{% $count($states.input) %}"}, "End": true}
                }
            }),
            input: json!({"items": [1, 2, 3]}),
            redriven: false,
            rerun_later: true,
        },
    ]
}

/// `add` adds one to `n`; `times` multiplies it by ten once `fixed`,
/// fails with `Down` before; `flaky` fails its first attempt (`Flaky`)
/// then adds one; `boom` always fails. Logs every call's key.
#[derive(Default)]
struct Services {
    fixed: AtomicBool,
    keys: Mutex<Vec<String>>,
}

#[async_trait]
impl TaskExecutor for Services {
    async fn execute(&self, request: TaskRequest<'_>) -> Result<Value, StatesError> {
        let key = request.idempotency_key().expect("a key");
        self.keys.lock().unwrap().push(key);
        let n = request.parameters["n"].as_i64().unwrap_or_default();
        match request.resource.arn.rsplit(':').next().unwrap() {
            "add" => Ok(json!({"n": n + 1})),
            "times" if self.fixed.load(Ordering::SeqCst) => Ok(json!({"n": n * 10})),
            "times" => Err(StatesError::new("Down", "no service")),
            "flaky" if request.retry_count == 0 => Err(StatesError::new("Flaky", "try again")),
            "flaky" => Ok(json!({"n": n + 1})),
            _ => Err(StatesError::new("Boom", "it broke")),
        }
    }
}

/// Runs `fixture` as execution `name` in `store` to its end (redriving it
/// once it stopped, when the fixture says so), with a fresh driver taking
/// over whenever one drops the execution. Gives the services (their
/// calls) and how many drivers dropped it.
async fn scenario(store: &dyn ExecutionStore, fixture: &Fixture, name: &str) -> (Services, usize) {
    let clock = VirtualClock::starting_at(t(0));
    let services = Services::default();
    // a zero lease: the next driver resumes at once, so that the
    // history's timestamps are those of an uninterrupted run
    let driver = |n: usize| {
        Durable::new(store)
            .with_clock(clock.clone())
            .with_worker_id(format!("w{n}"))
            .with_lease(Duration::ZERO)
    };
    let mut drops = 0;
    let mut worker = driver(drops);
    let machine = crate::common::machine(fixture.definition.clone());
    let request = StartExecution {
        state_machine_arn: MACHINE.into(),
        name: name.into(),
        input: fixture.input.clone(),
    };
    worker.start(&machine, request).await.unwrap();
    let mut redrive = fixture.redriven;
    for _ in 0..200 {
        let worked = worker.run_due(&services).await.unwrap();
        if worked
            .iter()
            .any(|w| matches!(w.result, WorkResult::Dropped(_)))
        {
            drops += 1;
            worker = driver(drops);
            continue;
        }
        if !worked.is_empty() {
            continue;
        }
        match store.next_due().await.unwrap() {
            Some(due) => clock.advance(due.duration_since(clock.now()).unwrap_or_default()),
            None if redrive => {
                redrive = false;
                clock.advance(Duration::from_secs(100));
                store.redrive(&arn(name), clock.now()).await.unwrap();
                services.fixed.store(true, Ordering::SeqCst);
            }
            None => return (services, drops),
        }
    }
    panic!("{name}: the drivers did not end it in 200 rounds");
}

/// The stored execution and its whole history, `name` written as `ref`.
async fn ended(store: &dyn ExecutionStore, name: &str) -> (ExecutionRecord, Vec<Value>) {
    let query = HistoryQuery {
        max_results: 1000,
        ..HistoryQuery::default()
    };
    let page = store.history(&arn(name), &query, None).await.unwrap();
    assert_eq!(page.next_token, None);
    let events = page
        .items
        .iter()
        .map(|e| renamed(&StoredEvent::to_json(e), name))
        .collect();
    (store.describe(&arn(name)).await.unwrap(), events)
}

/// `value` with execution `name` written as `ref`.
fn renamed(value: &Value, name: &str) -> Value {
    let text = value.to_string().replace(&format!(":M:{name}"), ":M:ref");
    serde_json::from_str(&text).unwrap()
}

/// The in-memory run of `fixture` (its services not fixed): its history.
async fn in_memory(fixture: &Fixture) -> Vec<Value> {
    let mut identity = ExecutionIdentity::new();
    identity.state_machine_arn = Some(MACHINE.into());
    identity.execution_arn = Some(arn("ref"));
    identity.execution_name = Some("ref".into());
    identity.start_time = Some(t(0));
    let outcome = crate::common::machine(fixture.definition.clone())
        .execution()
        .with_clock(VirtualClock::starting_at(t(0)))
        .with_identity(identity)
        .with_history(true)
        .run(&Services::default(), fixture.input.clone())
        .await;
    let events = outcome.history.expect("recorded");
    events.iter().map(|e| e.to_json()).collect()
}

async fn every_fixture_interrupted_at_every_commit_ends_as_if_uninterrupted(
    s: &dyn ExecutionStore,
) {
    for fixture in fixtures() {
        // the uninterrupted run, and how many commits it makes
        let memory = MemoryStore::new();
        let counting = Failing {
            store: &memory,
            fail_at: usize::MAX,
            lands: false,
            commits: AtomicUsize::new(0),
        };
        let (services, drops) = scenario(&counting, &fixture, "ref").await;
        assert_eq!(drops, 0);
        let commits = counting.commits.load(Ordering::SeqCst);
        assert!(commits >= 3, "{}: {commits} commits", fixture.name);
        let (want, want_events) = ended(&memory, "ref").await;
        let want_keys = services.keys.lock().unwrap().clone();
        // until its redrive, it is the in-memory run
        let before = want_events
            .iter()
            .take_while(|e| e["type"] != "ExecutionRedriven")
            .cloned()
            .collect::<Vec<_>>();
        let memory_run = in_memory(&fixture).await;
        if fixture.concurrent() {
            let (got, want) = (lines(&before, &memory_run), lines(&memory_run, &before));
            assert_eq!(got, want, "{}", fixture.name);
        } else {
            assert_eq!(before, memory_run, "{}", fixture.name);
        }
        assert_eq!(
            before.len() < want_events.len(),
            fixture.redriven,
            "{}",
            fixture.name
        );
        for fail_at in 1..=commits {
            for lands in [false, true] {
                let name = format!("{}-{fail_at}-{lands}", fixture.name);
                let failing = Failing {
                    store: s,
                    fail_at,
                    lands,
                    commits: AtomicUsize::new(0),
                };
                let (services, drops) = scenario(&failing, &fixture, &name).await;
                assert_eq!(drops, 1, "{name}");
                let (got, mut got_events) = ended(s, &name).await;
                let mut want_events = want_events.clone();
                if fixture.rerun_later {
                    for e in got_events.iter_mut().chain(want_events.iter_mut()) {
                        e.as_object_mut().unwrap().remove("timestamp");
                    }
                }
                assert_eq!(
                    (got.status, &got.output, &got.error, &got.cause),
                    (want.status, &want.output, &want.error, &want.cause),
                    "{name}"
                );
                assert_eq!(got.redrive_count, want.redrive_count, "{name}");
                if fixture.concurrent() {
                    let got = lines(&got_events, &want_events);
                    assert_eq!(got, lines(&want_events, &got_events), "{name}");
                    // no call lost: every call of the uninterrupted run
                    // (its line and attempt) was made
                    let calls = |keys: &[String]| {
                        let mut calls: Vec<String> = keys
                            .iter()
                            .map(|k| {
                                let (head, attempt) = k.rsplit_once('/').unwrap();
                                let (line, _entered) = head.rsplit_once('/').unwrap();
                                format!("{line}/{attempt}").replace(&format!(":M:{name}"), ":M:ref")
                            })
                            .collect();
                        calls.sort();
                        calls.dedup();
                        calls
                    };
                    let got_calls = calls(&services.keys.lock().unwrap());
                    assert_eq!(got_calls, calls(&want_keys), "{name}");
                    continue;
                }
                let first = got_events
                    .iter()
                    .zip(&want_events)
                    .position(|(g, w)| g != w);
                if let Some(i) = first {
                    panic!(
                        "{name}: event {i} differs:\n got {}\nwant {}",
                        got_events[i], want_events[i]
                    );
                }
                assert_eq!(got_events.len(), want_events.len(), "{name}");
                // a call made again after the failure has the same key (a
                // Parallel or Map state interrupted runs again whole: its
                // calls are made again, in the same order, with the same
                // keys)
                let mut keys: Vec<String> = Vec::new();
                for key in services.keys.lock().unwrap().iter() {
                    let key = key.replace(&format!(":M:{name}"), ":M:ref");
                    if !keys.contains(&key) {
                        keys.push(key);
                    }
                }
                assert_eq!(keys, want_keys, "{name}");
            }
        }
    }
}
