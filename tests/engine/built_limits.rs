//! The limits on what a state builds: workflow variables (each value, the
//! values of one `Assign`, the variables of the whole execution, at their
//! edges) and the build cap that stops a payload template, an intrinsic
//! call or a Map's results while they are built (four times the payload
//! limit, at least 1 MiB). The heap these bounds save is measured by
//! `tests/memory.rs`.
//!
//! AWS documents the variable limits (256 KiB per variable and per
//! `Assign`, 10 MiB per execution) but no recording shows its error text:
//! the causes pinned here are stepfn's (see the Compatibility section of
//! the crate docs).

use serde_json::{json, Value};
use stepfn::{sync_task_fn, Limits, Outcome, StateMachine, Status};

use crate::common::{error_of, len, machine, one, size_cause};

fn run(sm: &StateMachine, input: Value, limits: Limits) -> Outcome {
    let executor = sync_task_fn(|r| Ok(r.parameters));
    let execution = sm.execution().with_virtual_time().with_limits(limits);
    futures::executor::block_on(execution.run(&executor, input))
}

/// Limits whose variable limits are `each`, `assign` and `total` bytes.
fn vars(each: usize, assign: usize, total: usize) -> Limits {
    Limits::default()
        .with_max_variable_bytes(Some(each))
        .with_max_assign_bytes(Some(assign))
        .with_max_variables_total_bytes(Some(total))
}

fn variable_cause(state: &str, variable: &str, max: usize) -> String {
    format!("The state/task '{state}' assigned the variable '{variable}' a value with a size exceeding the maximum of {max} bytes.")
}

fn assign_cause(state: &str, max: usize) -> String {
    format!("The state/task '{state}' assigned variables with a combined size exceeding the maximum of {max} bytes.")
}

fn total_cause(state: &str, max: usize) -> String {
    format!("The state/task '{state}' assigned variables that would bring the variables of the execution to a size exceeding the maximum of {max} bytes.")
}

fn failed_with(o: &Outcome, cause: &str) {
    assert_eq!(o.status, Status::Failed, "{:?}", o.output);
    assert_eq!(
        error_of(o),
        (Some("States.DataLimitExceeded"), Some(cause)),
        "{o:?}"
    );
}

/// A string whose JSON text is `bytes` long.
fn text(bytes: usize) -> Value {
    Value::String("v".repeat(bytes - 2))
}

#[test]
fn the_defaults_are_aws_variable_limits() {
    let l = Limits::default();
    assert_eq!(
        (
            l.max_variable_bytes,
            l.max_assign_bytes,
            l.max_variables_total_bytes
        ),
        (Some(262_144), Some(262_144), Some(10_485_760))
    );
    let off = Limits::unlimited();
    assert_eq!(
        (
            off.max_variable_bytes,
            off.max_assign_bytes,
            off.max_variables_total_bytes
        ),
        (None, None, None)
    );
}

#[test]
fn a_variable_at_its_limit_is_stored_one_byte_more_fails() {
    let sm = machine(one(
        json!({"Type": "Pass", "Assign": {"x.$": "$.v"}, "OutputPath": "$.n", "End": true}),
    ));
    let at = run(&sm, json!({"v": text(100), "n": 1}), vars(100, 1000, 1000));
    assert_eq!(at.output, Some(json!(1)), "{:?}", at.cause);
    let over = run(&sm, json!({"v": text(101), "n": 1}), vars(100, 1000, 1000));
    failed_with(&over, &variable_cause("S", "x", 100));
}

#[test]
fn a_literal_variable_past_its_limit_fails() {
    let sm = machine(one(
        json!({"Type": "Pass", "Assign": {"small": 1, "big": "v".repeat(99)}, "End": true}),
    ));
    failed_with(
        &run(&sm, json!({}), vars(100, 1000, 1000)),
        &variable_cause("S", "big", 100),
    );
}

#[test]
fn the_values_of_one_assign_are_held_together() {
    let sm = machine(one(
        json!({"Type": "Pass", "Assign": {"a.$": "$.v", "b.$": "$.v"}, "End": true}),
    ));
    // 2 x 50 bytes: at the combined limit; 2 x 51: past it
    let at = run(&sm, json!({"v": text(50)}), vars(100, 100, 1000));
    assert_eq!(at.status, Status::Succeeded, "{:?}", at.cause);
    let over = run(&sm, json!({"v": text(51)}), vars(100, 100, 1000));
    failed_with(&over, &assign_cause("S", 100));
}

#[test]
fn a_choice_rule_assign_counts_with_its_states_assign() {
    let sm = machine(json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Assign": {"a.$": "$.v"},
              "Choices": [{"Variable": "$.v", "IsString": true, "Assign": {"b.$": "$.v"}, "Next": "Done"}],
              "Default": "Done"},
        "Done": {"Type": "Succeed"}
    }}));
    let over = run(&sm, json!({"v": text(51)}), vars(100, 100, 1000));
    failed_with(&over, &assign_cause("C", 100));
}

#[test]
fn the_variables_of_an_execution_are_held_together() {
    let sm = machine(json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Assign": {"a.$": "$.v"}, "Next": "B"},
        "B": {"Type": "Pass", "Assign": {"b.$": "$.v"}, "Next": "C"},
        "C": {"Type": "Pass", "Assign": {"c.$": "$.v"}, "End": true}
    }}));
    // 3 x 40 bytes: 120 at most (passes), past 119 in state C
    let at = run(&sm, json!({"v": text(40)}), vars(100, 100, 120));
    assert_eq!(at.status, Status::Succeeded, "{:?}", at.cause);
    let over = run(&sm, json!({"v": text(40)}), vars(100, 100, 119));
    failed_with(&over, &total_cause("C", 119));
}

#[test]
fn a_variable_assigned_again_replaces_its_bytes() {
    let sm = machine(json!({"StartAt": "Init", "States": {
        "Init": {"Type": "Pass", "Assign": {"n": 0}, "Next": "Loop"},
        "Loop": {"Type": "Choice", "Choices": [{"Variable": "$n", "NumericLessThan": 20, "Next": "Again"}], "Default": "Done"},
        "Again": {"Type": "Pass", "Assign": {"x.$": "$.v", "n.$": "States.MathAdd($n, 1)"}, "Next": "Loop"},
        "Done": {"Type": "Succeed"}
    }}));
    // 20 assignments of 40 bytes in an execution holding 60 at most
    let o = run(&sm, json!({"v": text(40)}), vars(100, 100, 60));
    assert_eq!(o.status, Status::Succeeded, "{:?}", o.cause);
}

#[test]
fn the_variables_of_a_finished_map_iteration_are_given_back() {
    let sm = machine(one(json!({
        "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1,
        "ItemSelector": {"v.$": "$.v"},
        "ItemProcessor": {"StartAt": "Keep", "States": {
            "Keep": {"Type": "Pass", "Assign": {"kept.$": "$.v"}, "End": true}
        }},
        "ResultPath": null,
        "End": true
    })));
    let items: Vec<Value> = (0..10).map(Value::from).collect();
    // ten iterations of 40 bytes each in an execution holding 60 at most
    let input = json!({"v": text(40), "items": items});
    let o = run(&sm, input.clone(), vars(100, 100, 60));
    assert_eq!(o.status, Status::Succeeded, "{:?}", o.cause);
    // at most 39: the first iteration's variable is already too much
    let o = run(&sm, input, vars(100, 100, 39));
    failed_with(&o, &total_cause("Keep", 39));
}

#[test]
fn a_variable_built_by_intrinsics_stops_at_the_variable_limit() {
    // the doubling stops at the limit, with the variable's error
    let sm = machine(one(json!({"Type": "Pass",
        "Assign": {"x.$": "States.Format('{}{}{}{}', $.v, $.v, $.v, $.v)"}, "End": true})));
    let o = run(&sm, json!({"v": "v".repeat(30)}), vars(100, 1000, 1000));
    failed_with(&o, &variable_cause("S", "x", 100));
}

#[test]
fn without_variable_limits_large_variables_are_stored() {
    let sm = machine(one(
        json!({"Type": "Pass", "Assign": {"x.$": "$.v"}, "OutputPath": "$.n", "End": true}),
    ));
    let input = json!({"v": "v".repeat(300 * 1024), "n": 1});
    assert_eq!(
        run(&sm, input.clone(), Limits::unlimited()).output,
        Some(json!(1))
    );
    let o = run(&sm, input, Limits::default());
    failed_with(&o, &variable_cause("S", "x", 262_144));
}

/// A Pass copying a 250 KiB string `copies` times into its Parameters,
/// keeping only a small literal (OutputPath), under a payload limit of
/// 300,000 bytes (a build cap of 1,200,000).
fn copies(copies: usize) -> Outcome {
    let mut parameters = serde_json::Map::new();
    for i in 0..copies {
        parameters.insert(format!("c{i}.$"), json!("$.s"));
    }
    parameters.insert("small".into(), json!(1));
    let sm = machine(one(json!({"Type": "Pass", "Parameters": parameters,
        "OutputPath": "$.small", "End": true})));
    let input = json!({"s": "x".repeat(250 * 1024)});
    let limits = Limits::default().with_max_payload_bytes(Some(300_000));
    run(&sm, input, limits)
}

#[test]
fn a_template_may_build_up_to_four_times_the_payload_limit() {
    // 4 copies (about 1,024,000 bytes): past the limit but within the
    // build cap; OutputPath keeps a small output, as before
    assert_eq!(copies(4).output, Some(json!(1)));
}

#[test]
fn a_template_past_four_times_the_payload_limit_fails_while_it_is_built() {
    // 5 copies (about 1,280,000 bytes): past the build cap
    failed_with(&copies(5), &size_cause("S"));
}

#[test]
fn a_map_whose_results_pass_the_build_cap_fails_even_if_a_selector_drops_them() {
    let sm = machine(one(json!({
        "Type": "Map", "ItemsPath": "$.items",
        "ItemSelector": {"all.$": "$.s"},
        "ItemProcessor": {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": true}}},
        "ResultSelector": {"n.$": "States.ArrayLength($)"},
        "End": true
    })));
    let items = |n: usize| (0..n).map(Value::from).collect::<Vec<_>>();
    let s = "x".repeat(100 * 1024);
    // 10 results of 100 KiB: within the 1 MiB build cap
    let o = run(&sm, json!({"s": s, "items": items(10)}), Limits::default());
    assert_eq!(o.output, Some(json!({"n": 10})), "{:?}", o.cause);
    // 11: past it
    let o = run(&sm, json!({"s": s, "items": items(11)}), Limits::default());
    failed_with(&o, &size_cause("S"));
}

/// A Map over `n` items of 2,008 bytes (`{"s": <2,000 letters>}`) without
/// ItemSelector, each iteration adding six copies of its string beside it
/// (14,065 bytes): the results are bounded from each item's bound, which
/// is its whole array's, far above their size.
fn loosely_bounded_results(n: usize) -> Outcome {
    let copies: serde_json::Map<String, Value> =
        (0..6).map(|i| (format!("c{i}.$"), json!("$.s"))).collect();
    let sm = machine(one(json!({
        "Type": "Map", "ItemsPath": "$.items",
        "ItemProcessor": {"StartAt": "Copy", "States": {
            "Copy": {"Type": "Pass", "Parameters": copies, "ResultPath": "$.copy", "End": true}
        }},
        "ResultSelector": {"n.$": "States.ArrayLength($)"},
        "End": true
    })));
    let items = vec![json!({"s": "x".repeat(2000)}); n];
    run(&sm, json!({ "items": items }), Limits::default())
}

#[test]
fn a_map_whose_loosely_bounded_results_fit_the_build_cap_succeeds() {
    // 74 results: 1,040,885 bytes, within the 1 MiB build cap
    assert_eq!(loosely_bounded_results(74).output, Some(json!({"n": 74})));
}

#[test]
fn a_map_whose_loosely_bounded_results_pass_the_build_cap_fails() {
    // 75 results: 1,054,951 bytes
    failed_with(&loosely_bounded_results(75), &size_cause("S"));
}

#[test]
fn a_map_of_many_small_items_keeps_their_results_whatever_their_bounds() {
    // 10,000 items reshaped by a Pass that moves their fields: each bounded
    // by the whole array (about 200 KB) before it is measured
    let sm = machine(one(json!({
        "Type": "Map", "ItemsPath": "$.items",
        "ItemProcessor": {"StartAt": "Reshape", "States": {
            "Reshape": {"Type": "Pass", "Parameters": {"k.$": "$.id", "s.$": "$.v"}, "End": true}
        }},
        "End": true
    })));
    let items: Vec<Value> = (0..10_000).map(|i| json!({"id": i, "v": 7 * i})).collect();
    let expected: Vec<Value> = (0..10_000).map(|i| json!({"k": i, "s": 7 * i})).collect();
    let limits = Limits::default().with_max_history_events(None);
    let o = run(&sm, json!({ "items": items }), limits);
    assert!(o.output == Some(Value::Array(expected)), "{:?}", o.cause);
}

#[test]
fn a_parallel_whose_results_pass_the_build_cap_fails() {
    let branch = |i: usize| json!({"StartAt": format!("Echo{i}"), "States": {format!("Echo{i}"): {"Type": "Pass", "End": true}}});
    let branches: Vec<Value> = (0..5).map(branch).collect();
    let sm = machine(one(json!({"Type": "Parallel", "Branches": branches,
        "ResultSelector": {"n.$": "States.ArrayLength($)"}, "End": true})));
    // five copies of a 250 KiB input: past the 1 MiB build cap
    let o = run(&sm, json!({"s": "x".repeat(250 * 1024)}), Limits::default());
    failed_with(&o, &size_cause("S"));
    // four: within it
    let sm = machine(one(json!({"Type": "Parallel", "Branches": branches[..4],
        "ResultSelector": {"n.$": "States.ArrayLength($)"}, "End": true})));
    let o = run(&sm, json!({"s": "x".repeat(250 * 1024)}), Limits::default());
    assert_eq!(o.output, Some(json!({"n": 4})), "{:?}", o.cause);
}

#[test]
fn intrinsic_results_past_the_build_cap_fail_before_they_are_built() {
    let s = "x".repeat(300 * 1024);
    let input = json!({ "s": s, "csv": "a,".repeat(200 * 1024) });
    let field = |call: &str| {
        let sm = machine(one(json!({"Type": "Pass",
            "Parameters": {"n.$": format!("States.ArrayLength({call})")}, "End": true})));
        run(&sm, input.clone(), Limits::default())
    };
    // four arguments of 300 KiB: 1.2 MB, past the 1 MiB build cap
    failed_with(&field("States.Array($.s, $.s, $.s, $.s)"), &size_cause("S"));
    assert_eq!(
        field("States.Array($.s, $.s, $.s)").output,
        Some(json!({"n": 3}))
    );
    // 204,800 one-letter pieces: 819,202 bytes of JSON text, within it
    assert_eq!(
        field("States.StringSplit($.csv, ',')").output,
        Some(json!({"n": 204_800}))
    );
    // partitioned into single items: 1,228,802 bytes, past it
    failed_with(
        &field("States.ArrayPartition(States.StringSplit($.csv, ','), 1)"),
        &size_cause("S"),
    );
    // the format of four copies: past it
    let sm = machine(one(json!({"Type": "Pass",
        "Parameters": {"n.$": "States.Format('{}{}{}{}', $.s, $.s, $.s, $.s)"}, "OutputPath": "$.none", "End": true})));
    failed_with(
        &run(&sm, input.clone(), Limits::default()),
        &size_cause("S"),
    );
    assert!(len(&input) > 0);
}

#[test]
fn a_distributed_map_whose_results_pass_the_build_cap_fails() {
    let sm = machine(one(json!({
        "Type": "Map", "ItemsPath": "$.items",
        "ItemSelector": {"all.$": "$.s"},
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": true}}
        },
        "ResultSelector": {"n.$": "States.ArrayLength($)"},
        "End": true
    })));
    let items = |n: usize| (0..n).map(Value::from).collect::<Vec<_>>();
    let s = "x".repeat(100 * 1024);
    let o = run(&sm, json!({"s": s, "items": items(10)}), Limits::default());
    assert_eq!(o.output, Some(json!({"n": 10})), "{:?}", o.cause);
    let o = run(&sm, json!({"s": s, "items": items(11)}), Limits::default());
    failed_with(&o, &size_cause("S"));
}
