//! Every state type run end to end through the public API, under
//! `futures::executor::block_on` and under tokio.

use serde_json::{json, Value};
use std::sync::Arc;
use stepfn::definition::ResourceKind;
use stepfn::{
    sync_task_fn, task_fn, ExecutionIdentity, Outcome, StatesError, Status, TaskExecutor,
    TaskRequest, TaskResult,
};

use crate::common::{machine, one, run_virtual};

/// The bench contract: echo the input with `handled: true` and `count + 1`.
fn handler(request: TaskRequest<'_>) -> TaskResult {
    let mut input = request.parameters;
    let count = input.get("count").and_then(Value::as_i64).unwrap_or(0);
    if let Value::Object(o) = &mut input {
        o.insert("handled".into(), json!(true));
        o.insert("count".into(), json!(count + 1));
    }
    Ok(input)
}

fn run(definition: Value, input: Value) -> Outcome {
    run_virtual(&machine(definition), &sync_task_fn(handler), input)
}

fn output(definition: Value, input: Value) -> Value {
    let outcome = run(definition, input);
    assert_eq!(outcome.status, Status::Succeeded, "{outcome:?}");
    outcome.output.expect("output")
}

// ---------------------------------------------------------------------------
// Pass

#[test]
fn pass_passes_its_input_through() {
    assert_eq!(
        output(one(json!({"Type": "Pass", "End": true})), json!({"a": 1})),
        json!({"a": 1})
    );
}

#[test]
fn pass_result_lands_at_result_path() {
    let state = json!({"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.r", "End": true});
    assert_eq!(
        output(one(state), json!({"a": 1})),
        json!({"a": 1, "r": {"x": 1}})
    );
}

#[test]
fn pass_parameters_input_path_and_output_path_apply_in_order() {
    let state = json!({
        "Type": "Pass", "InputPath": "$.in", "Parameters": {"v.$": "$.value", "k": "lit"},
        "ResultPath": "$.out", "OutputPath": "$.out", "End": true
    });
    assert_eq!(
        output(one(state), json!({"in": {"value": 7}})),
        json!({"v": 7, "k": "lit"})
    );
}

/// A Pass that moves its parameters out of the input (InputPath and
/// ResultPath `$`) and misses a later path reports the input untouched.
#[test]
fn a_moving_pass_that_misses_a_path_shows_the_whole_input() {
    let state = json!({
        "Type": "Pass", "InputPath": "$", "Parameters": {"a.$": "$.x", "b.$": "$.y.z", "c.$": "$.missing"},
        "ResultPath": "$", "End": true
    });
    let outcome = run(one(state), json!({"x": [1], "y": {"z": "s"}}));
    assert_eq!(
        outcome.cause.as_deref(),
        Some(
            r#"An error occurred while executing the state 'S' (entered at the event id #2). The JSONPath '$.missing' specified for the field 'c.$' could not be found in the input '{"x":[1],"y":{"z":"s"}}'"#
        )
    );
}

#[test]
fn pass_result_path_null_keeps_the_input() {
    let state = json!({"Type": "Pass", "Result": 1, "ResultPath": null, "End": true});
    assert_eq!(output(one(state), json!({"a": 1})), json!({"a": 1}));
}

#[test]
fn pass_reads_the_context_object() {
    let state = json!({"Type": "Pass", "Parameters": {"name.$": "$$.State.Name", "exec.$": "$$.Execution.Name", "input.$": "$$.Execution.Input"}, "End": true});
    let executor = sync_task_fn(handler);
    let identity = ExecutionIdentity::from_value(&json!({"executionName": "run-1"})).unwrap();
    let outcome = futures::executor::block_on(
        machine(one(state))
            .execution()
            .with_identity(identity)
            .run(&executor, json!({"q": 1})),
    );
    assert_eq!(
        outcome.output,
        Some(json!({"name": "S", "exec": "run-1", "input": {"q": 1}}))
    );
}

// ---------------------------------------------------------------------------
// Task

#[test]
fn task_result_goes_through_result_selector_result_path_output_path() {
    let state = json!({
        "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "InputPath": "$.state", "ResultSelector": {"c.$": "$.count", "h.$": "$.handled"},
        "ResultPath": "$.wrap.state", "OutputPath": "$.wrap", "End": true
    });
    assert_eq!(
        output(one(state), json!({"state": {"count": 1}})),
        json!({"state": {"c": 2, "h": true}})
    );
}

/// A ResultSelector taking values out of the result leaves Assign (which
/// reads the raw result) and a missing path's cause untouched.
#[test]
fn result_selector_sees_and_leaves_the_whole_result() {
    let lambda = "arn:aws:lambda:us-east-1:123456789012:function:f";
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": lambda, "ResultSelector": {"c.$": "$.count", "k": 1},
              "Assign": {"raw.$": "$"}, "Next": "P"},
        "P": {"Type": "Pass", "Parameters": {"sel.$": "$", "raw.$": "$raw"}, "End": true}
    }});
    assert_eq!(
        output(def, json!({"count": 1})),
        json!({"sel": {"c": 2, "k": 1}, "raw": {"count": 2, "handled": true}})
    );
    let missing = one(json!({"Type": "Task", "Resource": lambda,
        "ResultSelector": {"c.$": "$.count", "m.$": "$.missing"}, "End": true}));
    assert_eq!(
        run(missing, json!({"count": 1})).cause.as_deref(),
        Some(
            r#"An error occurred while executing the state 'S' (entered at the event id #2). The JSONPath '$.missing' specified for the field 'm.$' could not be found in the input '{"count":2,"handled":true}'"#
        )
    );
}

#[test]
fn map_items_path_may_read_a_variable() {
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Assign": {"items": [1, 2, 3]}, "Next": "M"},
        "M": {"Type": "Map", "ItemsPath": "$items",
              "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true}
    }});
    assert_eq!(output(def, json!({"x": 1})), json!([1, 2, 3]));
}

#[test]
fn task_request_carries_resource_state_name_and_parameters() {
    let def = one(json!({
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
        "Parameters": {"QueueUrl": "q", "MessageBody.$": "$.m"},
        "Credentials": {"RoleArn": "arn:aws:iam::1:role/r"}, "TimeoutSeconds": 30, "End": true
    }));
    let executor = sync_task_fn(|r: TaskRequest<'_>| {
        let ResourceKind::Service {
            service, action, ..
        } = &r.resource.kind
        else {
            return Err(StatesError::new("Wrong", "not a service integration"));
        };
        Ok(json!({
            "service": service, "action": action, "state": r.state_name, "params": r.parameters,
            "role": r.credentials, "timeout": r.timeout_seconds, "retry": r.retry_count,
            "ctx_state": r.context()["State"]["Name"],
        }))
    });
    let outcome = futures::executor::block_on(machine(def).execute(&executor, json!({"m": "hi"})));
    assert_eq!(
        outcome.output,
        Some(json!({
            "service": "sqs", "action": "sendMessage", "state": "S",
            "params": {"QueueUrl": "q", "MessageBody": "hi"}, "role": "arn:aws:iam::1:role/r",
            "timeout": 30, "retry": 0, "ctx_state": "S"
        }))
    );
}

#[test]
fn executors_work_by_reference_box_arc_and_dyn() {
    let def = one(
        json!({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "End": true}),
    );
    let m = machine(def);
    let plain = sync_task_fn(handler);
    let boxed: Box<dyn TaskExecutor> = Box::new(sync_task_fn(handler));
    let shared: Arc<dyn TaskExecutor> = Arc::new(sync_task_fn(handler));
    let expected = Some(json!({"count": 1, "handled": true}));
    futures::executor::block_on(async {
        assert_eq!(m.execute(&plain, json!({})).await.output, expected);
        assert_eq!(m.execute(&&plain, json!({})).await.output, expected);
        assert_eq!(m.execute(&boxed, json!({})).await.output, expected);
        assert_eq!(m.execute(&shared, json!({})).await.output, expected);
        assert_eq!(m.execute(&*shared, json!({})).await.output, expected);
    });
}

#[test]
fn async_closures_are_executors() {
    let def = one(
        json!({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "End": true}),
    );
    let executor = task_fn(|r: TaskRequest<'_>| {
        let p = r.parameters;
        async move { Ok(json!({"got": p})) }
    });
    let outcome = futures::executor::block_on(machine(def).execute(&executor, json!(5)));
    assert_eq!(outcome.output, Some(json!({"got": 5})));
}

// ---------------------------------------------------------------------------
// Choice, Succeed, Fail

fn choice_machine() -> Value {
    json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [
            {"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"},
            {"Variable": "$.n", "NumericLessThan": 0, "Next": "Negative"}
        ], "Default": "Small"},
        "Big": {"Type": "Pass", "Result": "big", "End": true},
        "Negative": {"Type": "Fail", "Error": "Negative", "Cause": "n < 0"},
        "Small": {"Type": "Succeed", "OutputPath": "$.n"}
    }})
}

#[test]
fn choice_takes_the_first_matching_rule() {
    assert_eq!(output(choice_machine(), json!({"n": 11})), json!("big"));
}

#[test]
fn choice_falls_back_to_default() {
    assert_eq!(output(choice_machine(), json!({"n": 3})), json!(3));
}

#[test]
fn fail_state_sets_error_and_cause() {
    let outcome = run(choice_machine(), json!({"n": -1}));
    assert_eq!(
        (
            outcome.status,
            outcome.error.as_deref(),
            outcome.cause.as_deref()
        ),
        (Status::Failed, Some("Negative"), Some("n < 0"))
    );
}

#[test]
fn fail_state_error_path_and_cause_path() {
    let state =
        json!({"Type": "Fail", "ErrorPath": "$.e", "CausePath": "States.Format('bad {}', $.c)"});
    let outcome = run(one(state), json!({"e": "E1", "c": 7}));
    assert_eq!(
        (outcome.error.as_deref(), outcome.cause.as_deref()),
        (Some("E1"), Some("bad 7"))
    );
}

#[test]
fn choice_without_match_or_default_fails_no_choice_matched() {
    let def = json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "D"}]},
        "D": {"Type": "Succeed"}}});
    let outcome = run(def, json!({"n": 2}));
    assert_eq!(
        (outcome.error.as_deref(), outcome.cause.as_deref()),
        (Some("States.NoChoiceMatched"), Some("No Matches!"))
    );
}

// ---------------------------------------------------------------------------
// Wait

#[test]
fn wait_an_hour_completes_at_once_on_virtual_time() {
    let start = std::time::Instant::now();
    assert_eq!(
        output(
            one(json!({"Type": "Wait", "Seconds": 3600, "End": true})),
            json!({"a": 1})
        ),
        json!({"a": 1})
    );
    assert!(start.elapsed() < std::time::Duration::from_secs(60));
}

#[test]
fn wait_seconds_path_and_timestamp_path() {
    assert_eq!(
        output(
            one(json!({"Type": "Wait", "SecondsPath": "$.s", "End": true})),
            json!({"s": 5})
        ),
        json!({"s": 5})
    );
    let past = json!({"t": "2001-01-01T00:00:00Z"});
    assert_eq!(
        output(
            one(json!({"Type": "Wait", "TimestampPath": "$.t", "End": true})),
            past.clone()
        ),
        past
    );
}

#[test]
fn wait_advances_the_entered_time_of_later_states() {
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Parameters": {"t.$": "$$.State.EnteredTime"}, "ResultPath": "$.a", "Next": "W"},
        "W": {"Type": "Wait", "Seconds": 86400, "Next": "B"},
        "B": {"Type": "Pass", "Parameters": {"t.$": "$$.State.EnteredTime"}, "ResultPath": "$.b", "End": true}
    }});
    let clock = stepfn::VirtualClock::starting_at(std::time::SystemTime::UNIX_EPOCH);
    let executor = sync_task_fn(handler);
    let outcome = futures::executor::block_on(
        machine(def)
            .execution()
            .with_clock(clock)
            .run(&executor, json!({})),
    );
    assert_eq!(
        outcome.output,
        Some(
            json!({"a": {"t": "1970-01-01T00:00:00.000Z"}, "b": {"t": "1970-01-02T00:00:00.000Z"}})
        )
    );
}

// ---------------------------------------------------------------------------
// Parallel and Map

#[test]
fn parallel_results_are_in_branch_order() {
    let def = one(json!({"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": 10, "Next": "A2"}, "A2": {"Type": "Pass", "Result": "a", "End": true}}},
        {"StartAt": "B", "States": {"B": {"Type": "Pass", "Result": "b", "End": true}}}
    ]}));
    assert_eq!(output(def, json!({})), json!(["a", "b"]));
}

#[test]
fn map_runs_items_with_item_selector_and_keeps_index_order() {
    let def = one(json!({
        "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2,
        "ItemSelector": {"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value", "k.$": "$.k"},
        "ItemProcessor": {"StartAt": "W", "States": {
            "W": {"Type": "Wait", "SecondsPath": "$.v", "Next": "P"},
            "P": {"Type": "Pass", "End": true}}},
        "End": true
    }));
    assert_eq!(
        output(def, json!({"items": [3, 1, 2], "k": "x"})),
        json!([{"i": 0, "v": 3, "k": "x"}, {"i": 1, "v": 1, "k": "x"}, {"i": 2, "v": 2, "k": "x"}])
    );
}

// Divergence (crate docs, Compatibility): AWS's guide now describes a Map
// over a JSON object as one iteration per key-value pair, but no recording
// shows the pair's shape, so an object is refused as before.
#[test]
fn map_over_a_non_array_is_a_runtime_error() {
    let def = one(
        json!({"Type": "Map", "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}),
    );
    let outcome = run(def, json!({"a": 1}));
    assert_eq!(outcome.error.as_deref(), Some("States.Runtime"));
    assert_eq!(
        outcome.cause.as_deref(),
        Some("An error occurred while executing the state 'S' (entered at the event id #2). Map state input must be an array but was: {\"a\":1}")
    );
}

#[test]
fn distributed_map_runs_items_as_child_executions() {
    let def = one(json!({
        "Type": "Map", "Label": "L",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "End": true}}},
        "End": true
    }));
    assert_eq!(
        output(def, json!([{"count": 1}, {"count": 5}])),
        json!([{"count": 2, "handled": true}, {"count": 6, "handled": true}])
    );
}

#[test]
fn distributed_map_tolerates_failures_up_to_the_count() {
    let def = |tolerated: u64| {
        one(json!({
            "Type": "Map", "ToleratedFailureCount": tolerated,
            "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "C", "States": {
                    "C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 0, "Next": "F"}], "Default": "P"},
                    "F": {"Type": "Fail", "Error": "Zero", "Cause": "zero"},
                    "P": {"Type": "Pass", "End": true}}},
            "End": true
        }))
    };
    assert_eq!(
        output(def(1), json!([0, 1])),
        json!([{"Error": "Zero", "Cause": "zero"}, 1])
    );
    let outcome = run(def(0), json!([0, 1]));
    assert_eq!(
        (outcome.error.as_deref(), outcome.cause.as_deref()),
        (
            Some("States.ExceedToleratedFailureThreshold"),
            Some("The specified tolerated failure threshold was exceeded")
        )
    );
}

// ---------------------------------------------------------------------------
// Variables

#[test]
fn assign_is_visible_to_later_states_not_to_its_own_output() {
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Result": {"v": 1}, "Assign": {"x.$": "$.v", "lit": "s"}, "OutputPath": "$", "Next": "B"},
        "B": {"Type": "Pass", "Parameters": {"x.$": "$x", "lit.$": "$lit"}, "End": true}
    }});
    assert_eq!(output(def, json!({})), json!({"x": 1, "lit": "s"}));
}

#[test]
fn branch_and_iteration_scopes_read_outer_variables_and_keep_their_own() {
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Assign": {"outer": 10}, "Next": "M"},
        "M": {"Type": "Map", "ItemProcessor": {"StartAt": "I", "States": {
            "I": {"Type": "Pass", "Assign": {"inner.$": "$"}, "Next": "J"},
            "J": {"Type": "Pass", "Parameters": {"o.$": "$outer", "i.$": "$inner"}, "End": true}}},
          "Next": "After"},
        "After": {"Type": "Pass", "Parameters": {"o.$": "$outer", "r.$": "$"}, "End": true}
    }});
    assert_eq!(
        output(def, json!([1, 2])),
        json!({"o": 10, "r": [{"o": 10, "i": 1}, {"o": 10, "i": 2}]})
    );
}

#[test]
fn catcher_assign_sees_the_error_output() {
    let def = json!({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Branches": [{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}}],
              "Catch": [{"ErrorEquals": ["States.ALL"], "Assign": {"err.$": "$.Error"}, "ResultPath": null, "Next": "Q"}], "End": true},
        "Q": {"Type": "Pass", "Parameters": {"err.$": "$err"}, "End": true}
    }});
    assert_eq!(output(def, json!({})), json!({"err": "E"}));
}

// ---------------------------------------------------------------------------
// Runtimes

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_under_tokio_sharing_one_machine_across_tasks() {
    let m = Arc::new(machine(json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 0, "Next": "T"},
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "End": true}}})));
    let executor: Arc<dyn TaskExecutor> = Arc::new(task_fn(|r: TaskRequest<'_>| {
        let p = r.parameters;
        async move {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            Ok(p)
        }
    }));
    let runs: Vec<_> = (0..8)
        .map(|i| {
            let (m, executor) = (m.clone(), executor.clone());
            tokio::spawn(async move { m.execute(&executor, json!(i)).await })
        })
        .collect();
    for (i, run) in runs.into_iter().enumerate() {
        assert_eq!(run.await.unwrap().output, Some(json!(i)));
    }
}

#[tokio::test]
async fn system_clock_waits_under_tokio() {
    let m = machine(one(json!({"Type": "Wait", "Seconds": 1, "End": true})));
    let outcome = m.execute(&sync_task_fn(handler), json!({})).await;
    assert_eq!(outcome.status, Status::Succeeded);
}

#[test]
fn system_clock_waits_under_block_on() {
    let m = machine(one(json!({"Type": "Wait", "Seconds": 1, "End": true})));
    let outcome = futures::executor::block_on(m.execute(&sync_task_fn(handler), json!({})));
    assert_eq!(outcome.status, Status::Succeeded);
}
