//! History events in AWS's shape: the sequences and `previousEventId`
//! links AWS records for each state type (see the recorded executions in
//! ../shared/conformance), and the JSON of single events.

use serde_json::{json, Value};
use stepfn::{sync_task_fn, StateMachine, StatesError, TaskRequest};

use crate::common::{machine, run_recorded};

fn history(definition: Value, input: Value, fail_tasks: bool) -> Vec<Value> {
    let m = machine(definition);
    let executor = sync_task_fn(move |r: TaskRequest<'_>| {
        if fail_tasks {
            Err(StatesError::new("Boom", "boom"))
        } else {
            Ok(r.parameters)
        }
    });
    let outcome = run_recorded(&m, &executor, input);
    outcome
        .history
        .expect("history was asked for")
        .iter()
        .map(|e| e.to_json())
        .collect()
}

/// `"Type id prev"` per event.
fn shape(definition: Value, input: Value, fail_tasks: bool) -> Vec<String> {
    history(definition, input, fail_tasks)
        .iter()
        .map(|e| {
            format!(
                "{} {} {}",
                e["type"].as_str().unwrap(),
                e["id"],
                e["previousEventId"]
            )
        })
        .collect()
}

#[test]
fn pass_succeed_and_execution_events() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Next": "S"}, "S": {"Type": "Succeed"}}});
    assert_eq!(
        shape(def, json!({}), false),
        [
            "ExecutionStarted 1 0",
            "PassStateEntered 2 0",
            "PassStateExited 3 2",
            "SucceedStateEntered 4 3",
            "SucceedStateExited 5 4",
            "ExecutionSucceeded 6 5"
        ]
    );
}

#[test]
fn event_json_is_shaped_like_get_execution_history() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"a": 1}, "Assign": {"v": 2}, "End": true}}});
    let events = history(def, json!({"in": true}), false);
    let mut started = events[0].clone();
    started.as_object_mut().unwrap().remove("timestamp");
    assert_eq!(
        started,
        json!({"type": "ExecutionStarted", "id": 1, "previousEventId": 0, "executionStartedEventDetails": {
            "input": "{\"in\":true}", "inputDetails": {"truncated": false}, "roleArn": "arn:aws:iam::123456789012:role/stepfn"}})
    );
    assert_eq!(
        events[2]["stateExitedEventDetails"],
        json!({"name": "P", "output": "{\"a\":1}", "outputDetails": {"truncated": false},
               "assignedVariables": {"v": "2"}, "assignedVariablesDetails": {"truncated": false}})
    );
    assert!(events[0]["timestamp"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
}

/// An empty `Assign` assigns nothing: AWS's `...StateExited` then carries
/// no `assignedVariables` (test_assign_base.py BASE_EMPTY), while an Assign
/// of a null value still lists it.
#[test]
fn empty_assign_leaves_assigned_variables_out() {
    let exited = |assign: Value| {
        let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Assign": assign, "End": true}}});
        history(def, json!({}), false)[2]["stateExitedEventDetails"].clone()
    };
    assert_eq!(
        exited(json!({})),
        json!({"name": "P", "output": "{}", "outputDetails": {"truncated": false}})
    );
    assert_eq!(
        exited(json!({"v": null}))["assignedVariables"],
        json!({"v": "null"})
    );
}

#[test]
fn lambda_task_with_retry_and_catch() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f",
              "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}],
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H"}], "End": true},
        "H": {"Type": "Pass", "End": true}}});
    assert_eq!(
        shape(def, json!({}), true),
        [
            "ExecutionStarted 1 0",
            "TaskStateEntered 2 0",
            "LambdaFunctionScheduled 3 2",
            "LambdaFunctionStarted 4 3",
            "LambdaFunctionFailed 5 4",
            "LambdaFunctionScheduled 6 5",
            "LambdaFunctionStarted 7 6",
            "LambdaFunctionFailed 8 7",
            "TaskStateExited 9 8",
            "PassStateEntered 10 9",
            "PassStateExited 11 10",
            "ExecutionSucceeded 12 11"
        ]
    );
}

#[test]
fn service_task_events_name_resource_type_and_resource() {
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:putItem", "Parameters": {"a": 1}, "TimeoutSeconds": 9, "End": true}}});
    let events = history(def, json!({}), false);
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    assert_eq!(
        events[2]["taskScheduledEventDetails"],
        json!({"resourceType": "aws-sdk:dynamodb", "resource": "putItem", "region": "us-east-1", "parameters": "{\"a\":1}", "timeoutInSeconds": 9})
    );
}

#[test]
fn uncaught_task_failure_links_execution_failed_to_the_task_event() {
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}});
    let events = history(def, json!({}), true);
    assert_eq!(
        events[4]["taskFailedEventDetails"],
        json!({"resourceType": "lambda", "resource": "invoke", "error": "Boom", "cause": "boom"})
    );
    assert_eq!(events[5], {
        let mut e = json!({"type": "ExecutionFailed", "id": 6, "previousEventId": 5, "executionFailedEventDetails": {"error": "Boom", "cause": "boom"}});
        e["timestamp"] = events[5]["timestamp"].clone();
        e
    });
}

#[test]
fn choice_wait_and_fail() {
    let def = json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.go", "BooleanEquals": true, "Next": "W"}], "Default": "F"},
        "W": {"Type": "Wait", "Seconds": 10, "Next": "F"},
        "F": {"Type": "Fail", "Error": "E"}}});
    assert_eq!(
        shape(def, json!({"go": true}), false),
        [
            "ExecutionStarted 1 0",
            "ChoiceStateEntered 2 0",
            "ChoiceStateExited 3 2",
            "WaitStateEntered 4 3",
            "WaitStateExited 5 4",
            "FailStateEntered 6 5",
            "ExecutionFailed 7 6"
        ]
    );
}

#[test]
fn inline_map_links_iterations_as_aws_does() {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 1, "End": true,
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}});
    assert_eq!(
        shape(def, json!([1, 2]), false),
        [
            "ExecutionStarted 1 0",
            "MapStateEntered 2 0",
            "MapStateStarted 3 2",
            "MapIterationStarted 4 3",
            "PassStateEntered 5 4",
            "PassStateExited 6 5",
            "MapIterationSucceeded 7 6",
            "MapIterationStarted 8 6",
            "PassStateEntered 9 8",
            "PassStateExited 10 9",
            "MapIterationSucceeded 11 10",
            "MapStateSucceeded 12 11",
            "MapStateExited 13 11",
            "ExecutionSucceeded 14 13"
        ]
    );
}

#[test]
fn failing_map_iteration_then_catch() {
    let def = json!({"StartAt": "M", "States": {
        "M": {"Type": "Map", "MaxConcurrency": 1, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "D"}], "Next": "D",
              "ItemProcessor": {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}}},
        "D": {"Type": "Pass", "End": true}}});
    assert_eq!(
        shape(def, json!([1]), false),
        [
            "ExecutionStarted 1 0",
            "MapStateEntered 2 0",
            "MapStateStarted 3 2",
            "MapIterationStarted 4 3",
            "FailStateEntered 5 4",
            "MapIterationFailed 6 5",
            "MapStateFailed 7 5",
            "MapStateExited 8 7",
            "PassStateEntered 9 8",
            "PassStateExited 10 9",
            "ExecutionSucceeded 11 10"
        ]
    );
}

#[test]
fn parallel_retry_restarts_the_branches() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true,
        "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1, "IntervalSeconds": 1}],
        "Branches": [{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}}]}}});
    assert_eq!(
        shape(def, json!({}), false),
        [
            "ExecutionStarted 1 0",
            "ParallelStateEntered 2 0",
            "ParallelStateStarted 3 2",
            "FailStateEntered 4 3",
            "ParallelStateStarted 5 4",
            "FailStateEntered 6 5",
            "ParallelStateFailed 7 6",
            "ExecutionFailed 8 7"
        ]
    );
}

#[test]
fn parallel_success_links_to_the_last_branch_event() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true,
        "Branches": [{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}]}}});
    assert_eq!(
        shape(def, json!({}), false),
        [
            "ExecutionStarted 1 0",
            "ParallelStateEntered 2 0",
            "ParallelStateStarted 3 2",
            "PassStateEntered 4 3",
            "PassStateExited 5 4",
            "ParallelStateSucceeded 6 5",
            "ParallelStateExited 7 5",
            "ExecutionSucceeded 8 7"
        ]
    );
}

#[test]
fn distributed_map_records_map_run_events_only() {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}});
    assert_eq!(
        shape(def, json!([1, 2, 3]), false),
        // MapStateExited follows MapRunStarted: AWS's history since November 2024
        // (older recordings link it to MapRunSucceeded; they are superseded)
        [
            "ExecutionStarted 1 0",
            "MapStateEntered 2 0",
            "MapStateStarted 3 2",
            "MapRunStarted 4 3",
            "MapRunSucceeded 5 4",
            "MapStateSucceeded 6 5",
            "MapStateExited 7 4",
            "ExecutionSucceeded 8 7"
        ]
    );
}

#[test]
fn history_is_absent_unless_asked_for() {
    let m = StateMachine::from_value(
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
    )
    .unwrap();
    let o = futures::executor::block_on(m.execute(&sync_task_fn(|r| Ok(r.parameters)), json!({})));
    assert_eq!(o.history, None);
}
