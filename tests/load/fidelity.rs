//! Where AWS recordings disagreed with stepfn at load time (issue 13, item
//! 8): the validation cases of `fixtures/fidelity.json`. Every case names
//! its source there; the `inferred` ones are in the Compatibility section
//! of the crate docs.

use serde_json::{json, Value};
use std::path::PathBuf;
use stepfn::definition::StateMachineType;
use stepfn::StateMachine;

fn fixture(group: &str) -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/fidelity.json");
    let text = std::fs::read_to_string(path).expect("fixtures/fidelity.json");
    let all: Value = serde_json::from_str(&text).expect("fixtures/fidelity.json is JSON");
    all[group].as_array().expect("a group of cases").clone()
}

/// `(code, message, location)` of every diagnostic of a STANDARD validation.
fn diagnostics(definition: &Value) -> Vec<(String, String, String)> {
    StateMachine::validate_value(definition, StateMachineType::Standard)
        .diagnostics
        .iter()
        .map(|d| {
            let location = d.location.clone().unwrap_or_default();
            (d.code.to_owned(), d.message.clone(), location)
        })
        .collect()
}

fn schema(message: String, location: &str) -> Vec<(String, String, String)> {
    let code = "SCHEMA_VALIDATION_FAILED".to_owned();
    vec![(code, message, location.to_owned())]
}

#[test]
fn wait_timestamp_formats_at_load_time() {
    let mut wrong = Vec::new();
    for case in fixture("wait_timestamps_at_load_time") {
        let definition = json!({"StartAt": "W", "States": {
            "W": {"Type": "Wait", "Timestamp": case["value"], "End": true}}});
        let expected = if case["accepted"] == true {
            Vec::new()
        } else {
            let message = "String does not match RFC3339 timestamp".to_owned();
            schema(message, "/States/W/Timestamp")
        };
        let seen = diagnostics(&definition);
        if seen != expected {
            wrong.push(format!("{} ({}): {seen:?}", case["value"], case["source"]));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn service_integrations_aws_does_not_offer_are_refused() {
    let mut wrong = Vec::new();
    for case in fixture("service_resources") {
        let resource = case["resource"].as_str().expect("resource");
        let definition = json!({"StartAt": "Q", "States": {
            "Q": {"Type": "Task", "Resource": resource, "End": true}}});
        let expected = if case["accepted"] == true {
            Vec::new()
        } else {
            // the wording AWS recorded for dynamodb:query, whatever the reason
            let message = format!("The resource provided {resource} is not recognized. The value is not a valid resource ARN, or the resource is not available in this region.");
            schema(message, "/States/Q/Resource")
        };
        let seen = diagnostics(&definition);
        if seen != expected {
            wrong.push(format!("{resource} ({}): {seen:?}", case["source"]));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn definitions_aws_runs_differently_still_load() {
    // ItemReader, ItemBatcher and ResultWriter load and validate as on AWS (they fail
    // at run time), and so do the Map number paths and the Distributed Map
    for group in [
        "unsupported_map_fields",
        "map_number_paths",
        "distributed_map_history",
    ] {
        for case in fixture(group) {
            let seen = diagnostics(&case["definition"]);
            assert_eq!(seen, Vec::new(), "{group}: {}", case["about"]);
        }
    }
}
