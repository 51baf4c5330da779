//! Where AWS recordings disagreed with stepfn (issue 13, item 8): the
//! executions of `fixtures/fidelity.json`, one test per group. Every case
//! names its source there; the `inferred` and `stepfn` ones are in the
//! Compatibility section of the crate docs.

use serde_json::{json, Value};
use std::path::PathBuf;
use stepfn::testing::{MockConfig, MockExecutor};
use stepfn::{sync_task_fn, task_fn, Outcome, TaskExecutor};

use crate::common::{machine, run_recorded};

fn fixture(group: &str) -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/fidelity.json");
    let text = std::fs::read_to_string(path).expect("fixtures/fidelity.json");
    let all: Value = serde_json::from_str(&text).expect("fixtures/fidelity.json is JSON");
    all[group].as_array().expect("a group of cases").clone()
}

/// The executor a case asks for (see the fixture's `about`).
fn executor(spec: &Value) -> Box<dyn TaskExecutor> {
    match spec {
        Value::Null => Box::new(sync_task_fn(|_| {
            Err(stepfn::StatesError::new("Unexpected", "no task expected"))
        })),
        Value::String(s) if s == "never" => Box::new(task_fn(|_| {
            futures::future::pending::<stepfn::TaskResult>()
        })),
        Value::String(s) if s == "callback" => Box::new(sync_task_fn(|_| Ok(json!({})))),
        other => {
            let config = json!({
                "StateMachines": {"M": {"TestCases": {"T": other["mocks"]
                    .as_object()
                    .expect("mocks")
                    .keys()
                    .map(|state| (state.clone(), Value::from(format!("{state}Mock"))))
                    .collect::<serde_json::Map<String, Value>>()}}},
                "MockedResponses": other["mocks"]
                    .as_object()
                    .expect("mocks")
                    .iter()
                    .map(|(state, r)| (format!("{state}Mock"), r.clone()))
                    .collect::<serde_json::Map<String, Value>>(),
            });
            let config = MockConfig::from_value(&config).expect("mock config");
            Box::new(MockExecutor::new(
                config.test_case(Some("M"), "T").expect("test case"),
            ))
        }
    }
}

/// The outcome as the fixture writes it, and the history's shape.
fn observed(o: &Outcome) -> (Value, Vec<String>) {
    let mut seen = json!({"status": o.status.as_str()});
    match &o.output {
        Some(output) => seen["output"] = output.clone(),
        None => {
            seen["error"] = json!(o.error);
            seen["cause"] = json!(o.cause);
        }
    }
    let events = o
        .history
        .iter()
        .flatten()
        .map(|e| format!("{} {} {}", e.event_type, e.id, e.previous_event_id))
        .collect();
    (seen, events)
}

/// Runs every case of `group`; gives the cases that differ.
fn run_group(group: &str) {
    let mut wrong = Vec::new();
    for case in fixture(group) {
        let sm = machine(case["definition"].clone());
        let exec = executor(&case["executor"]);
        let o = if case["executor"] == "never" {
            let execution = sm.execution().with_history(true);
            futures::executor::block_on(execution.run(exec.as_ref(), case["input"].clone()))
        } else {
            run_recorded(&sm, exec.as_ref(), case["input"].clone())
        };
        let (seen, events) = observed(&o);
        let mut expected = case["expect"].clone();
        if expected["status"] != "SUCCEEDED" && expected.get("cause").is_none() {
            expected["cause"] = Value::Null;
        }
        if seen != expected {
            wrong.push(format!("{}: got {seen}", case["about"]));
        }
        if let Some(want) = case["events"].as_array() {
            let want: Vec<&str> = want.iter().filter_map(Value::as_str).collect();
            if events != want {
                wrong.push(format!("{}: events {events:?}", case["about"]));
            }
        }
    }
    assert!(wrong.is_empty(), "{group}:\n{}", wrong.join("\n"));
}

#[test]
fn map_number_paths_read_strings_as_aws_does() {
    run_group("map_number_paths");
}

#[test]
fn a_caught_timeout_has_an_empty_cause() {
    run_group("caught_timeouts");
}

#[test]
fn mocks_answer_inside_parallel_branches_and_map_iterations() {
    run_group("mocks_in_branches_and_iterations");
}

#[test]
fn item_reader_batcher_and_writer_fail_as_not_supported() {
    // a divergence until they are implemented (Compatibility: "Map ItemReader,
    // ItemBatcher, ResultWriter")
    run_group("unsupported_map_fields");
}

#[test]
fn distributed_map_exits_after_map_run_started() {
    run_group("distributed_map_history");
}

#[test]
fn wait_timestamp_path_formats() {
    let sm = machine(json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "TimestampPath": "$.t", "End": true}}}));
    let mut wrong = Vec::new();
    for case in fixture("wait_timestamps_at_run_time") {
        let value = &case["value"];
        let o = run_recorded(&sm, executor(&Value::Null).as_ref(), json!({"t": value}));
        let shown = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let expected = if case["accepted"] == true {
            (Some("SUCCEEDED".to_owned()), None, None)
        } else {
            (
                Some("FAILED".to_owned()),
                Some("States.Runtime".to_owned()),
                Some(format!("An error occurred while executing the state 'W' (entered at the event id #2). The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: $.t == {shown}")),
            )
        };
        let seen = (Some(o.status.as_str().to_owned()), o.error, o.cause);
        if seen != expected {
            wrong.push(format!("{shown} ({}): got {seen:?}", case["source"]));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
