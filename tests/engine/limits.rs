//! The payload limits at their edges: a payload exactly at the byte or
//! depth limit passes, one byte or level more fails with
//! States.DataLimitExceeded, whichever way the engine bounded the payload
//! (moved pieces, ResultPath, InputPath/OutputPath, Parallel and Map
//! outputs, task results, catchers, assigned variables).

use serde_json::{json, Value};
use stepfn::{sync_task_fn, Limits, Outcome, StateMachine, StatesError, Status, TaskRequest};

use crate::common::{
    bytes, deep, depth_cause, error_of, len, machine, run_virtual, size_cause, LAMBDA,
};

/// Runs with `limits`; Task states answer with their input plus
/// `{"done": "...."}` (or fail when the input has `fail`).
fn run(sm: &StateMachine, input: Value, limits: Limits) -> Outcome {
    let executor = sync_task_fn(|r: TaskRequest<'_>| {
        let mut v = r.parameters;
        if v.get("fail").is_some() {
            return Err(StatesError::new("Custom.Error", "it failed \"here\"\n"));
        }
        if let Value::Object(o) = &mut v {
            o.insert("done".into(), json!("task result text"));
        }
        Ok(v)
    });
    futures::executor::block_on(sm.execution().with_limits(limits).run(&executor, input))
}

/// A machine of `states` (an array of `[name, state]`, chained in order).
fn chain(states: Value) -> Value {
    let list = states.as_array().unwrap();
    let mut map = serde_json::Map::new();
    for (i, pair) in list.iter().enumerate() {
        let mut state = pair[1].clone();
        let o = state.as_object_mut().unwrap();
        match list.get(i + 1) {
            Some(next) => o.insert("Next".into(), next[0].clone()),
            None => o.insert("End".into(), json!(true)),
        };
        map.insert(pair[0].as_str().unwrap().to_owned(), state);
    }
    json!({"StartAt": list[0][0], "States": map})
}

/// A last state that makes the output the largest payload of the run, so
/// that the limit is passed there and not before: the bounds carried from
/// the earlier states decide whether it is measured.
fn grow() -> Value {
    let pad = format!("\"grow\"\n{}", "past every earlier payload ".repeat(10));
    json!(["Grow", {"Type": "Pass", "Parameters": {"pad": pad}, "ResultPath": "$.grown"}])
}

/// The run of `definition` on `input` succeeds with a byte limit of exactly
/// its output's length and fails one byte below, in state `last`.
fn assert_byte_edge(definition: Value, input: Value, last: &str) {
    let sm = machine(definition);
    let free = run(
        &sm,
        input.clone(),
        Limits::default().with_max_payload_bytes(None),
    );
    assert_eq!(free.status, Status::Succeeded, "{:?}", free.cause);
    let output = free.output.unwrap();
    let limit = len(&output);
    assert!(len(&input) < limit, "the input must be below the limit");
    let at = run(&sm, input.clone(), bytes(limit));
    assert_eq!(at.output.as_ref(), Some(&output), "{:?}", at.cause);
    let below = run(&sm, input, bytes(limit - 1));
    assert_eq!(
        error_of(&below),
        (
            Some("States.DataLimitExceeded"),
            Some(size_cause(last).as_str())
        )
    );
}

fn doc() -> Value {
    json!({"doc": {"header": {"v": 1, "k\"ey": "t\u{1}"}, "records": [1, -2.5, {"x": "y\n"}, [null, true]], "extra": "dropped"}, "keep": [true, null, "é"]})
}

// --- Pass moving its Parameters out of the input

#[test]
fn pass_moving_a_document_through_result_path() {
    let s = |stage: &str| json!({"Type": "Pass", "InputPath": "$.doc", "Parameters": {"header.$": "$.header", "records.$": "$.records", "stage": stage}, "ResultPath": "$.doc"});
    let def = chain(json!([
        ["S1", s("one")],
        ["S2", s("second \"stage\"")],
        ["S3", s("the third and longest stage name")]
    ]));
    assert_byte_edge(def, doc(), "S3");
}

/// Moved values are bounded without a walk: each state's bound grows by
/// its object's own bytes, past the limit long before the payload is, and
/// is measured exactly there (not refused).
#[test]
fn pass_moving_many_times_keeps_to_the_exact_limit() {
    let s = json!({"Type": "Pass", "Parameters": {"doc.$": "$.doc", "keep.$": "$.keep", "stage": "a stage name of some length"}});
    let mut states: Vec<Value> = (0..40).map(|i| json!([format!("S{i}"), s])).collect();
    states.push(grow());
    assert_byte_edge(chain(Value::Array(states)), doc(), "Grow");
}

#[test]
fn pass_moving_at_the_root() {
    let def = chain(
        json!([["P", {"Type": "Pass", "InputPath": "$", "Parameters": {"a.$": "$.doc.records", "n": 12345678901u64, "f": -0.5, "b": false, "z": null, "s": "a literal string longer than what is left behind"}, "ResultPath": "$"}]]),
    );
    assert_byte_edge(def, doc(), "P");
}

#[test]
fn pass_moving_from_below_the_result_path() {
    let def = chain(
        json!([["P", {"Type": "Pass", "InputPath": "$.doc.header", "Parameters": {"v.$": "$.v", "lit": "a literal long enough to grow the document"}, "ResultPath": "$.doc"}], grow()]),
    );
    assert_byte_edge(def, doc(), "Grow");
}

#[test]
fn pass_moving_then_selecting_with_output_path() {
    let def = chain(
        json!([["P", {"Type": "Pass", "InputPath": "$.doc", "Parameters": {"records.$": "$.records"}, "ResultPath": "$.doc", "OutputPath": "$.doc"}], grow()]),
    );
    assert_byte_edge(def, doc(), "Grow");
}

// --- ResultPath writing a copy into the input

#[test]
fn result_path_replacing_an_existing_value() {
    let def = chain(
        json!([["P", {"Type": "Pass", "Parameters": {"r.$": "$.doc.header"}, "ResultPath": "$.doc.records"}], grow()]),
    );
    assert_byte_edge(def, doc(), "Grow");
}

#[test]
fn result_path_adding_a_key_to_an_empty_object() {
    let def =
        chain(json!([["P", {"Type": "Pass", "Result": "x", "ResultPath": "$.empty.k"}], grow()]));
    assert_byte_edge(def, json!({"empty": {}}), "Grow");
}

#[test]
fn result_path_adding_a_key_to_an_object() {
    let def = chain(
        json!([["P", {"Type": "Pass", "Result": {"a": [1]}, "ResultPath": "$.doc.new"}], grow()]),
    );
    assert_byte_edge(def, doc(), "Grow");
}

#[test]
fn result_path_creating_nested_objects() {
    let def =
        chain(json!([["P", {"Type": "Pass", "Result": 7, "ResultPath": "$.a['b\"c'].d"}], grow()]));
    assert_byte_edge(def, doc(), "Grow");
}

#[test]
fn result_path_writing_into_array_elements() {
    let def = chain(json!([
        ["P1", {"Type": "Pass", "Result": {"first": true}, "ResultPath": "$.keep[0]"}],
        ["P2", {"Type": "Pass", "Result": "last", "ResultPath": "$.keep[-1]"}],
        grow()
    ]));
    assert_byte_edge(def, doc(), "Grow");
}

#[test]
fn a_copied_input_path_written_back() {
    let def = chain(
        json!([["P", {"Type": "Pass", "InputPath": "$.doc.records[2]", "ResultPath": "$.copy"}]]),
    );
    assert_byte_edge(def, doc(), "P");
}

// --- InputPath / OutputPath moving nodes out

#[test]
fn output_path_selecting_a_node() {
    let def = chain(json!([["P", {"Type": "Pass", "OutputPath": "$.doc"}], grow()]));
    assert_byte_edge(def, doc(), "Grow");
}

#[test]
fn output_path_selecting_an_array_element() {
    let def = chain(json!([["P", {"Type": "Pass", "OutputPath": "$.doc.records[-2]"}], grow()]));
    assert_byte_edge(def, doc(), "Grow");
}

#[test]
fn output_path_querying_with_jsonpath() {
    let def = chain(json!([["P", {"Type": "Pass", "OutputPath": "$..x"}], grow()]));
    // `$..x` yields an array, which the growing state cannot write into
    let def = {
        let mut d = def;
        d["States"]["Grow"]["ResultPath"] = json!("$[0]");
        d
    };
    assert_byte_edge(def, doc(), "Grow");
}

#[test]
fn choice_and_succeed_selecting_nodes() {
    let def = json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "InputPath": "$.doc", "OutputPath": "$.header", "Choices": [{"Variable": "$.extra", "IsPresent": true, "Next": "Grow"}]},
        "Grow": {"Type": "Pass", "Parameters": {"pad": "a string long enough to grow the payload past every earlier one"}, "ResultPath": "$.grown", "Next": "S"},
        "S": {"Type": "Succeed", "InputPath": "$.grown", "OutputPath": "$.pad"}
    }});
    let sm = machine(def.clone());
    let o = run(&sm, doc(), bytes(1000));
    assert_eq!(
        o.output,
        Some(json!(
            "a string long enough to grow the payload past every earlier one"
        ))
    );
    let def = {
        let mut d = def;
        d["States"]["Grow"]["Parameters"] = grow()[1]["Parameters"].clone();
        d
    };
    let def = {
        let mut d = def;
        d["States"]["S"]["OutputPath"] = json!("$");
        d["States"]["S"]["InputPath"] = json!("$");
        d
    };
    assert_byte_edge(def, doc(), "Grow");
}

#[test]
fn a_selection_that_misses_is_still_a_runtime_error() {
    let sm = machine(chain(
        json!([["P", {"Type": "Pass", "OutputPath": "$.doc.missing"}]]),
    ));
    let o = run(&sm, doc(), bytes(1000));
    assert_eq!(o.error.as_deref(), Some("States.Runtime"));
}

// --- Tasks

#[test]
fn task_moving_its_input_and_selecting_its_output() {
    let t = json!({"Type": "Task", "Resource": LAMBDA, "InputPath": "$.state", "ResultSelector": {"done.$": "$.done", "v.$": "$.v"}, "ResultPath": "$.wrap.state", "OutputPath": "$.wrap"});
    let def = chain(json!([["T1", t], ["T2", t], ["T3", t], grow()]));
    assert_byte_edge(def, json!({"state": {"v": [1, 2, 3]}}), "Grow");
}

#[test]
fn task_result_written_into_the_input() {
    let def = chain(json!([["T", {"Type": "Task", "Resource": LAMBDA, "ResultPath": "$.result"}]]));
    assert_byte_edge(def, json!({"in": "put"}), "T");
}

#[test]
fn a_task_result_at_the_limit_passes_and_one_byte_more_fails() {
    let def = chain(json!([["T", {"Type": "Task", "Resource": LAMBDA, "ResultPath": null}]]));
    let sm = machine(def);
    let input = json!({"in": "put"});
    let result = json!({"in": "put", "done": "task result text"});
    let o = run(&sm, input.clone(), bytes(len(&result)));
    assert_eq!(o.output, Some(input.clone()));
    let o = run(&sm, input, bytes(len(&result) - 1));
    assert_eq!(
        error_of(&o),
        (
            Some("States.DataLimitExceeded"),
            Some(size_cause(LAMBDA).as_str())
        )
    );
}

#[test]
fn a_catcher_writing_the_error_into_the_input() {
    let def = chain(
        json!([["T", {"Type": "Task", "Resource": LAMBDA, "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Grow"}]}], grow()]),
    );
    assert_byte_edge(def, json!({"fail": 1}), "Grow");
    let def = chain(
        json!([["T", {"Type": "Task", "Resource": LAMBDA, "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "End"}]}], ["End", {"Type": "Pass"}]]),
    );
    let sm = machine(def);
    let input = json!({"fail": 1});
    let caught =
        json!({"fail": 1, "error": {"Error": "Custom.Error", "Cause": "it failed \"here\"\n"}});
    assert_eq!(
        run(&sm, input.clone(), bytes(len(&caught))).output,
        Some(caught.clone())
    );
    let o = run(&sm, input, bytes(len(&caught) - 1));
    assert_eq!(
        error_of(&o),
        (
            Some("States.DataLimitExceeded"),
            Some(size_cause("T").as_str())
        )
    );
}

// --- Parallel and Map

#[test]
fn parallel_output_is_the_branch_outputs() {
    let branch = |name: &str, pad: &str| json!({"StartAt": name, "States": {name: {"Type": "Pass", "Parameters": {"v.$": "$.v", "pad": pad}, "End": true}}});
    let def = chain(
        json!([["Par", {"Type": "Parallel", "Branches": [branch("B1", "first"), branch("B2", "the second branch")]}]]),
    );
    assert_byte_edge(def.clone(), json!({"v": [1, 2]}), "Par");
    let with_path = {
        let mut d = def;
        d["States"]["Par"]["ResultPath"] = json!("$.branches");
        d["States"]["Par"]["InputPath"] = json!("$.inner");
        d
    };
    assert_byte_edge(
        with_path,
        json!({"inner": {"v": [1, 2]}, "other": "x"}),
        "Par",
    );
}

#[test]
fn result_selectors_taking_values_out_of_the_results() {
    let branch = |name: &str| json!({"StartAt": name, "States": {name: {"Type": "Pass", "Parameters": {"v.$": "$.v", "pad": "padding"}, "End": true}}});
    let def = chain(
        json!([["Par", {"Type": "Parallel", "Branches": [branch("B1"), branch("B2")], "ResultSelector": {"first.$": "$[0]", "lit": "selected"}, "ResultPath": "$.sel"}], grow()]),
    );
    // `$[0]` is not a plain field path: this selector copies
    assert_byte_edge(def, json!({"v": [1, 2]}), "Grow");
    let def = chain(
        json!([["T", {"Type": "Task", "Resource": LAMBDA, "ResultSelector": {"done.$": "$.done", "n": 12345}, "ResultPath": "$.sel"}], grow()]),
    );
    assert_byte_edge(
        def,
        json!({"v": [1, 2], "big": "dropped from the selection"}),
        "Grow",
    );
    let def = chain(
        json!([["T", {"Type": "Task", "Resource": LAMBDA, "ResultSelector": {"done.$": "$.done", "v.$": "$.v", "pad": "a literal longer than the rest of the result"}, "ResultPath": "$"}]]),
    );
    assert_byte_edge(def, json!({"v": [1, 2]}), "T");
}

#[test]
fn map_output_is_the_iteration_outputs() {
    let processor = json!({"StartAt": "I", "States": {"I": {"Type": "Pass", "Parameters": {"item.$": "$", "pad": "grown"}, "End": true}}});
    let def =
        chain(json!([["M", {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": processor}]]));
    assert_byte_edge(def, json!({"items": [1, "two", {"three": 3}, [4]]}), "M");
    let def = chain(
        json!([["M", {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "ResultPath": "$.out"}], grow()]),
    );
    assert_byte_edge(def, json!({"items": [1, "two", {"three": 3}, [4]]}), "Grow");
    let def = chain(
        json!([["M", {"Type": "Map", "ItemsPath": "$.items", "ItemSelector": {"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value"}, "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}}]]),
    );
    assert_byte_edge(def, json!({"items": [1, "two", {"three": 3}, [4]]}), "M");
    let def = chain(
        json!([["M", {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "I", "States": {"I": {"Type": "Pass", "Parameters": {"item.$": "$", "pad": "grown"}, "End": true}}}}]]),
    );
    assert_byte_edge(def, json!({"items": [1, "two", {"three": 3}, [4]]}), "M");
}

// --- Nesting depth

fn depth(max: usize) -> Limits {
    Limits::default().with_max_depth(Some(max))
}

#[test]
fn the_execution_input_at_the_depth_limit_passes() {
    let sm = machine(chain(json!([["P", {"Type": "Pass"}]])));
    assert_eq!(run(&sm, deep(5), depth(5)).output, Some(deep(5)));
    let o = run(&sm, deep(6), depth(5));
    assert_eq!(
        error_of(&o),
        (
            Some("States.DataLimitExceeded"),
            Some("The execution input has a nesting depth exceeding the maximum of 5 levels.")
        )
    );
}

#[test]
fn a_parallel_output_one_level_deeper_than_the_limit_fails() {
    let def = chain(
        json!([["Par", {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}}]}]]),
    );
    let sm = machine(def);
    assert_eq!(run(&sm, deep(4), depth(5)).output, Some(json!([deep(4)])));
    let o = run(&sm, deep(5), depth(5));
    assert_eq!(
        error_of(&o),
        (
            Some("States.DataLimitExceeded"),
            Some(depth_cause("Par", 5).as_str())
        )
    );
}

#[test]
fn a_result_path_nesting_past_the_limit_fails() {
    let def = chain(json!([["P", {"Type": "Pass", "InputPath": "$.v", "ResultPath": "$.a.b"}]]));
    let sm = machine(def);
    // the copy of `v` (depth 2) lands two objects deep
    assert!(run(&sm, json!({"v": deep(2)}), depth(4)).is_success());
    let o = run(&sm, json!({"v": deep(2)}), depth(3));
    assert_eq!(
        error_of(&o),
        (
            Some("States.DataLimitExceeded"),
            Some(depth_cause("P", 3).as_str())
        )
    );
}

#[test]
fn a_map_output_one_level_deeper_than_the_limit_fails() {
    // each iteration wraps its item in an object
    let def = chain(
        json!([["M", {"Type": "Map", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "Parameters": {"v.$": "$"}, "End": true}}}}]]),
    );
    let sm = machine(def);
    assert_eq!(
        run(&sm, json!([deep(3), 1]), depth(5)).output,
        Some(json!([{"v": deep(3)}, {"v": 1}]))
    );
    let o = run(&sm, json!([deep(4), 1]), depth(5));
    assert_eq!(
        error_of(&o),
        (
            Some("States.DataLimitExceeded"),
            Some(depth_cause("M", 5).as_str())
        )
    );
}

#[test]
fn a_task_result_past_the_depth_limit_names_the_resource() {
    // the executor answers with its parameters: `v` three objects deep
    let def = chain(
        json!([["T", {"Type": "Task", "Resource": LAMBDA, "Parameters": {"a": {"b": {"c.$": "$.v"}}}, "ResultPath": null}]]),
    );
    let sm = machine(def);
    let o = run(&sm, json!({"v": deep(2)}), depth(5));
    assert!(o.is_success(), "{:?}", o.cause);
    let o = run(&sm, json!({"v": deep(3)}), depth(5));
    assert_eq!(
        error_of(&o),
        (
            Some("States.DataLimitExceeded"),
            Some(depth_cause(LAMBDA, 5).as_str())
        )
    );
}

/// A loop nesting a variable inside itself: each assigned value is
/// checked, so the loop ends with States.DataLimitExceeded instead of
/// building a value deep enough to overflow the stack. AWS's cause for an
/// assignment past Jackson's limit is not recorded: the cause is ours.
fn wrapping_loop(iterations: u64) -> Value {
    json!({"StartAt": "Init", "States": {
        "Init": {"Type": "Pass", "Parameters": {"n": 0}, "Assign": {"x": []}, "Next": "Wrap"},
        "Wrap": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)"}, "Assign": {"x.$": "States.Array($x)"}, "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericLessThan": iterations, "Next": "Wrap"}], "Default": "Done"},
        "Done": {"Type": "Pass", "Parameters": {"x.$": "$x"}, "End": true}
    }})
}

#[test]
fn assigned_values_are_held_to_the_depth_limit() {
    let sm = machine(wrapping_loop(4));
    // `[]` wrapped four times: depth 5
    assert_eq!(
        run(&sm, json!({}), depth(6)).output,
        Some(json!({"x": [[[[[]]]]]}))
    );
    // at 5 the last assignment (depth 5) passes; the output holding it
    // (depth 6) does not
    let o = run(&sm, json!({}), depth(5));
    assert_eq!(
        error_of(&o),
        (
            Some("States.DataLimitExceeded"),
            Some(depth_cause("Done", 5).as_str())
        )
    );
    let o = run(&sm, json!({}), depth(4));
    assert_eq!(
        error_of(&o),
        (
            Some("States.DataLimitExceeded"),
            Some("The state/task 'Wrap' assigned the variable 'x' a value with a nesting depth exceeding the maximum of 4 levels.")
        )
    );
}

#[test]
fn an_endless_wrapping_loop_stops_at_the_default_depth_limit() {
    std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(|| {
            let sm = machine(wrapping_loop(100_000));
            let o = run(&sm, json!({}), Limits::default().with_max_history_events(None));
            assert_eq!(
                error_of(&o),
                (
                    Some("States.DataLimitExceeded"),
                    Some("The state/task 'Wrap' assigned the variable 'x' a value with a nesting depth exceeding the maximum of 1000 levels.")
                )
            );
        })
        .unwrap()
        .join()
        .unwrap();
}

// --- Limits off

#[test]
fn without_a_depth_limit_deep_values_are_trusted() {
    let sm = machine(chain(
        json!([["Par", {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}}]}]]),
    ));
    let o = run(&sm, deep(1500), Limits::default().with_max_depth(None));
    assert_eq!(o.output, Some(json!([deep(1500)])));
    let o = run(&sm, deep(1500), Limits::unlimited());
    assert!(o.is_success());
    let o = run(&sm, deep(1500), Limits::default());
    assert_eq!(
        error_of(&o),
        (
            Some("States.DataLimitExceeded"),
            Some("The execution input has a nesting depth exceeding the maximum of 1000 levels.")
        )
    );
    assert_eq!(Limits::default().max_depth, Some(1000));
    assert_eq!(Limits::unlimited().max_depth, None);
}

/// A Pass that wraps its input one level deeper on each turn of a Choice
/// loop (the loop runs until `n` reaches 30,000).
fn input_wrapping_loop() -> StateMachine {
    machine(json!({"StartAt": "Wrap", "States": {
        "Wrap": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)", "in.$": "$"}, "Next": "Loop"},
        "Loop": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericLessThan": 30000, "Next": "Wrap"}], "Default": "Done"},
        "Done": {"Type": "Succeed"}
    }}))
}

// Without a depth limit a value the machine builds still stops at 1,000
// levels (the default limit, safe on a 2 MiB stack in a debug build: this
// test runs on one), or 64 past the deepest value the embedder gave.
#[test]
fn without_a_depth_limit_the_machine_cannot_nest_past_the_ceiling() {
    let limits = Limits::unlimited().with_max_transitions(Some(100_000));
    let o = run(&input_wrapping_loop(), json!({"n": 0}), limits.clone());
    assert_eq!(
        error_of(&o),
        (
            Some("States.DataLimitExceeded"),
            Some(depth_cause("Wrap", 1000).as_str())
        )
    );
    let o = run(
        &input_wrapping_loop(),
        json!({"n": 0, "given": deep(1049)}),
        limits,
    );
    assert_eq!(
        error_of(&o),
        (
            Some("States.DataLimitExceeded"),
            Some(depth_cause("Wrap", 1114).as_str())
        )
    );
}

#[test]
fn without_a_depth_limit_variables_cannot_nest_past_the_ceiling() {
    let limits = Limits::unlimited().with_max_transitions(Some(100_000));
    let o = run(&machine(wrapping_loop(30_000)), json!({}), limits);
    assert_eq!(
        error_of(&o),
        (
            Some("States.DataLimitExceeded"),
            Some("The state/task 'Wrap' assigned the variable 'x' a value with a nesting depth exceeding the maximum of 1000 levels.")
        )
    );
}

#[test]
fn without_a_depth_limit_a_deep_task_result_raises_the_ceiling() {
    let sm = machine(chain(json!([
        ["T", {"Type": "Task", "Resource": LAMBDA, "ResultPath": "$.r"}],
        ["P", {"Type": "Pass", "Parameters": {"again.$": "$.r"}}]
    ])));
    let executor = sync_task_fn(|_: TaskRequest<'_>| Ok(deep(1100)));
    let run = |limits| {
        futures::executor::block_on(sm.execution().with_limits(limits).run(&executor, json!({})))
    };
    // the result is the deepest value given: what is built on it may nest
    // 64 levels deeper (here 2)
    assert_eq!(
        run(Limits::unlimited()).output,
        Some(json!({"again": deep(1100)}))
    );
    let o = run(Limits::default());
    assert_eq!(
        error_of(&o),
        (
            Some("States.DataLimitExceeded"),
            Some(depth_cause(LAMBDA, 1000).as_str())
        )
    );
}

#[test]
fn without_a_byte_limit_the_depth_is_still_checked() {
    let sm = machine(chain(
        json!([["P", {"Type": "Pass", "Result": {"big": "x"}, "ResultPath": "$.r"}]]),
    ));
    let limits = Limits::default()
        .with_max_payload_bytes(None)
        .with_max_depth(Some(2));
    let big = json!({"s": "x".repeat(300_000)});
    assert!(run(&sm, big, limits.clone()).is_success());
    let o = run(&sm, json!({"v": [[1]]}), limits);
    assert_eq!(
        error_of(&o),
        (
            Some("States.DataLimitExceeded"),
            Some("The execution input has a nesting depth exceeding the maximum of 2 levels.")
        )
    );
}

#[test]
fn without_a_depth_limit_the_size_is_still_checked() {
    let sm = machine(chain(
        json!([["P", {"Type": "Pass", "Result": [[[[1]]]], "ResultPath": "$.r"}]]),
    ));
    let limits = Limits::default()
        .with_max_depth(None)
        .with_max_payload_bytes(Some(20));
    assert_eq!(
        run(&sm, json!({}), limits.clone()).output,
        Some(json!({"r": [[[[1]]]]}))
    );
    let o = run(&sm, json!({"pad": "long"}), limits);
    assert_eq!(
        error_of(&o),
        (
            Some("States.DataLimitExceeded"),
            Some(size_cause("P").as_str())
        )
    );
}

#[test]
fn when_both_limits_are_passed_the_depth_is_reported() {
    let sm = machine(chain(
        json!([["P", {"Type": "Pass", "Result": [[["a long string"]]], "ResultPath": "$.r"}]]),
    ));
    let o = run(&sm, json!({}), depth(3).with_max_payload_bytes(Some(10)));
    assert_eq!(
        error_of(&o),
        (
            Some("States.DataLimitExceeded"),
            Some(depth_cause("P", 3).as_str())
        )
    );
}

// Divergence (crate docs, Compatibility): AWS refuses a StartExecution
// whose input passes 256 KiB; stepfn runs it, and the first state whose
// output carries the input fails.
#[test]
fn an_oversize_execution_input_fails_at_the_first_state_that_outputs_it() {
    let input = json!({"pad": "x".repeat(300)});
    let limit = len(&input) - 1;
    let pass = machine(chain(json!([["P", {"Type": "Pass"}]])));
    let o = run(&pass, input.clone(), bytes(limit));
    assert_eq!(o.status, Status::Failed);
    assert_eq!(
        error_of(&o),
        (
            Some("States.DataLimitExceeded"),
            Some(size_cause("P").as_str())
        )
    );
    // a first state whose output drops the input succeeds
    let drop = machine(chain(
        json!([["P", {"Type": "Pass", "OutputPath": "$.none_such_but_result", "Result": {"small": 1}, "ResultPath": "$.none_such_but_result"}]]),
    ));
    assert_eq!(
        run(&drop, input, bytes(limit)).output,
        Some(json!({"small": 1}))
    );
}

/// The size bound carried from state to state holds for an object built
/// from literals over a scalar payload (a debug assertion checks every
/// state's bound against the real size, so a wrong bound panics here).
#[test]
fn built_objects_over_scalars_keep_a_true_bound() {
    let map = machine(
        json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass",
            "Parameters": {"a": 1, "b": "x"}, "End": true}}}}}}),
    );
    let outcome = run_virtual(
        &map,
        &sync_task_fn(|_| Ok(json!(null))),
        json!([1, "s", null]),
    );
    assert_eq!(
        outcome.output,
        Some(json!([{"a": 1, "b": "x"}, {"a": 1, "b": "x"}, {"a": 1, "b": "x"}]))
    );
    let task = machine(
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA,
        "ResultSelector": {"n": 2, "v.$": "$"}, "End": true}}}),
    );
    let outcome = run_virtual(&task, &sync_task_fn(|_| Ok(json!(7))), json!({}));
    assert_eq!(outcome.output, Some(json!({"n": 2, "v": 7})));
}

// --- Retries count

/// A retrier that never gives up: AWS's largest MaxAttempts, one second
/// apart (virtual time: no real waiting).
fn endless_retry() -> Value {
    json!([{"ErrorEquals": ["States.ALL"], "MaxAttempts": 99_999_999, "IntervalSeconds": 1, "BackoffRate": 1.0}])
}

/// Runs `definition` on virtual time under `limits` with an executor that
/// fails until its call number `until` (then succeeds: an execution that
/// outlives its budgets ends SUCCEEDED); the input holds the items of a
/// Map. Gives the outcome and the calls.
fn run_failing(definition: Value, limits: Limits, until: u64) -> (Outcome, u64) {
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = calls.clone();
    let executor = sync_task_fn(move |_r: TaskRequest<'_>| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        if n < until {
            return Err(StatesError::new("Custom.Error", "again"));
        }
        Ok(json!("done"))
    });
    let sm = machine(definition);
    let execution = sm.execution().with_virtual_time().with_limits(limits);
    let o = futures::executor::block_on(execution.run(&executor, json!({"items": [1]})));
    (o, calls.load(std::sync::atomic::Ordering::SeqCst))
}

fn failing_task() -> Value {
    json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA, "Retry": endless_retry(), "End": true}}})
}

fn transitions(max: u64) -> Limits {
    Limits::default().with_max_transitions(Some(max))
}

fn transition_error(max: u64) -> (Option<&'static str>, Option<String>) {
    let cause = format!("the execution exceeded its budget of {max} state transitions");
    (Some("States.Runtime"), Some(cause))
}

fn error_owned(o: &Outcome) -> (Option<&str>, Option<String>) {
    (o.error.as_deref(), o.cause.clone())
}

/// Each retry is a transition (AWS bills retries as transitions): entering
/// T is the first of the 1000, each retry one more, so the executor is
/// called 1000 times and the 1000th retry ends the execution with the
/// Choice loop's error.
#[test]
fn task_retries_end_at_the_transition_budget() {
    let (o, calls) = run_failing(failing_task(), transitions(1000), 5000);
    assert_eq!((error_owned(&o), calls), (transition_error(1000), 1000));
}

/// Each attempt records TaskScheduled, TaskStarted and TaskFailed: after
/// ExecutionStarted and TaskStateEntered, the 16th attempt brings the
/// history to 50 events and the next retry is refused.
#[test]
fn task_retries_end_at_the_history_event_limit() {
    let limits = Limits::default().with_max_history_events(Some(50));
    let (o, calls) = run_failing(failing_task(), limits, 5000);
    let cause = "the execution exceeded the limit of 50 history events".to_owned();
    assert_eq!(
        (error_owned(&o), calls),
        ((Some("States.Runtime"), Some(cause)), 16)
    );
}

/// With the default limits (AWS's 25,000 events) the history-event limit
/// ends an always-failing task first: 2 + 3 x 8,333 events.
#[test]
fn task_retries_end_at_the_default_event_limit() {
    let (o, calls) = run_failing(failing_task(), Limits::default(), 100_000);
    let cause = "the execution exceeded the limit of 25000 history events".to_owned();
    assert_eq!(
        (error_owned(&o), calls),
        ((Some("States.Runtime"), Some(cause)), 8_333)
    );
}

/// A retried Parallel counts its retries too: each attempt is the branch's
/// Task and the retry, two transitions, so 500 calls fit in 1000.
#[test]
fn parallel_retries_count_as_transitions() {
    let branch =
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA, "End": true}}});
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": [branch], "Retry": endless_retry(), "End": true}}});
    let (o, calls) = run_failing(def, transitions(1000), 5000);
    assert_eq!((error_owned(&o), calls), (transition_error(1000), 500));
}

/// As for Parallel: each Map attempt is its iteration's Task and the retry.
#[test]
fn map_retries_count_as_transitions() {
    let processor =
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA, "End": true}}});
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": processor, "Retry": endless_retry(), "End": true}}});
    let (o, calls) = run_failing(def, transitions(1000), 5000);
    assert_eq!((error_owned(&o), calls), (transition_error(1000), 500));
}
