//! JSONata states end to end: every JSONata field, `$states` as AWS binds
//! it, workflow variables, defaults, and `States.QueryEvaluationError` with
//! AWS's causes and the `EvaluationFailed` event.

use serde_json::{json, Value};
use stepfn::definition::StateMachineType;
use stepfn::{sync_task_fn, Outcome, StateMachine, StatesError, Status, TaskRequest, TaskResult};

use crate::common::{machine, run_recorded, run_virtual, LAMBDA};

/// Echoes its parameters as `{"got": parameters}`; fails with `Boom` when
/// they hold `"fail": true`.
fn handler(request: TaskRequest<'_>) -> TaskResult {
    if request.parameters.get("fail") == Some(&json!(true)) {
        return Err(StatesError::new("Boom", "it broke"));
    }
    Ok(json!({"got": request.parameters}))
}

/// A JSONata machine over `states` starting at `S`.
fn jsonata(states: Value) -> Value {
    json!({"QueryLanguage": "JSONata", "StartAt": "S", "States": states})
}

fn run(states: Value, input: Value) -> Outcome {
    run_virtual(&machine(jsonata(states)), &sync_task_fn(handler), input)
}

fn output(states: Value, input: Value) -> Value {
    let outcome = run(states, input);
    assert_eq!(outcome.status, Status::Succeeded, "{outcome:?}");
    outcome.output.expect("output")
}

/// The error and cause of a failed run.
fn failure(states: Value, input: Value) -> (String, String) {
    let outcome = run(states, input);
    assert_eq!(outcome.status, Status::Failed, "{outcome:?}");
    (
        outcome.error.unwrap_or_default(),
        outcome.cause.unwrap_or_default(),
    )
}

/// AWS's cause for expression `expr` in `field` of state `S` (entered at
/// event 2).
fn cause(expr: &str, field: &str, what: &str) -> (String, String) {
    (
        "States.QueryEvaluationError".into(),
        format!("An error occurred while executing the state 'S' (entered at the event id #2). The JSONata expression '{expr}' specified for the field '{field}' {what}"),
    )
}

// ---------------------------------------------------------------- Pass

#[test]
fn pass_output_reads_states_input_and_defaults_to_the_input() {
    let s = |pass: Value| json!({"S": pass});
    assert_eq!(
        output(
            s(
                json!({"Type": "Pass", "Output": {"sum": "{% $states.input.a + $states.input.b %}", "lit": [1, "x"]}, "End": true})
            ),
            json!({"a": 1, "b": 2})
        ),
        json!({"sum": 3, "lit": [1, "x"]})
    );
    assert_eq!(
        output(s(json!({"Type": "Pass", "End": true})), json!({"a": 1})),
        json!({"a": 1})
    );
}

#[test]
fn assign_sees_the_values_from_before_it_and_output_too() {
    let states = json!({
        "S": {"Type": "Pass", "Assign": {"x": 1, "y": 2}, "Next": "T"},
        "T": {"Type": "Pass", "Assign": {"x": "{% $y %}", "y": "{% $x %}"}, "Output": {"x": "{% $x %}", "y": "{% $y %}"}, "Next": "U"},
        "U": {"Type": "Pass", "Output": ["{% $x %}", "{% $y %}"], "End": true}
    });
    assert_eq!(output(states.clone(), json!({})), json!([2, 1]));
    // T's own Output saw the values from before its Assign
    let outcome = run_recorded(&machine(jsonata(states)), &sync_task_fn(handler), json!({}));
    let exited: Vec<Value> = outcome
        .history
        .unwrap()
        .iter()
        .filter(|e| e.event_type == "PassStateExited")
        .map(|e| Value::Object(e.details.clone()))
        .collect();
    assert_eq!(exited[1]["output"], json!("{\"x\":1,\"y\":2}"));
    assert_eq!(exited[1]["assignedVariables"], json!({"x": "2", "y": "1"}));
}

// ---------------------------------------------------------------- Task

#[test]
fn task_arguments_result_and_output() {
    let task = |extra: Value| {
        let mut t = json!({"Type": "Task", "Resource": LAMBDA, "End": true});
        t.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({"S": t})
    };
    // Arguments default to the input, Output to the result
    assert_eq!(
        output(task(json!({})), json!({"a": 1})),
        json!({"got": {"a": 1}})
    );
    assert_eq!(
        output(
            task(json!({"Arguments": {"v": "{% $states.input.a * 10 %}"}})),
            json!({"a": 1})
        ),
        json!({"got": {"v": 10}})
    );
    assert_eq!(
        output(
            task(
                json!({"Arguments": {"v": 1}, "Output": {"in": "{% $states.input %}", "res": "{% $states.result.got.v %}"}})
            ),
            json!({"a": 1})
        ),
        json!({"in": {"a": 1}, "res": 1})
    );
}

#[test]
fn task_assign_reads_the_result_and_the_next_state_reads_the_variable() {
    let states = json!({
        "S": {"Type": "Task", "Resource": LAMBDA, "Assign": {"r": "{% $states.result.got %}"}, "Next": "T"},
        "T": {"Type": "Pass", "Output": "{% $r %}", "End": true}
    });
    assert_eq!(output(states, json!({"a": 1})), json!({"a": 1}));
}

#[test]
fn catcher_output_defaults_to_the_error_output_and_reads_states_error_output() {
    let states = |catcher: Value| {
        json!({
            "S": {"Type": "Task", "Resource": LAMBDA, "Arguments": {"fail": true}, "Catch": [catcher], "End": true},
            "C": {"Type": "Pass", "Output": {"out": "{% $states.input %}", "v": "{% $v %}"}, "End": true}
        })
    };
    let mut base = json!({"ErrorEquals": ["States.ALL"], "Next": "C", "Assign": {"v": "{% $states.errorOutput.Error %}"}});
    assert_eq!(
        output(states(base.clone()), json!({"a": 1})),
        json!({"out": {"Error": "Boom", "Cause": "it broke"}, "v": "Boom"})
    );
    base["Output"] =
        json!({"cause": "{% $states.errorOutput.Cause %}", "in": "{% $states.input.a %}"});
    assert_eq!(
        output(states(base), json!({"a": 1})),
        json!({"out": {"cause": "it broke", "in": 1}, "v": "Boom"})
    );
}

#[test]
fn task_settings_are_expressions_over_the_input() {
    let states = json!({"S": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "TimeoutSeconds": "{% $states.input.t %}", "HeartbeatSeconds": "{% $states.input.t - 1 %}", "Credentials": {"RoleArn": "{% 'arn:aws:iam::123456789012:role/' & $states.input.r %}"}, "End": true}});
    let outcome = run_recorded(
        &machine(jsonata(states.clone())),
        &sync_task_fn(handler),
        json!({"t": 5, "r": "x"}),
    );
    let scheduled = outcome
        .history
        .unwrap()
        .into_iter()
        .find(|e| e.event_type.ends_with("Scheduled"))
        .unwrap();
    assert_eq!(scheduled.details["timeoutInSeconds"], json!(5));
    assert_eq!(scheduled.details["heartbeatInSeconds"], json!(4));
    assert_eq!(
        scheduled.details["taskCredentials"],
        json!({"roleArn": "arn:aws:iam::123456789012:role/x"})
    );
    // the cause of an out-of-range value is ours (crate docs, Compatibility)
    assert_eq!(
        failure(states, json!({"t": 0, "r": "x"})),
        cause(
            "$states.input.t",
            "TimeoutSeconds",
            "returned a value out of range. Expected an integer of at least 1, but was: 0"
        )
    );
}

// ---------------------------------------------------------------- Choice, Wait, Succeed, Fail

#[test]
fn choice_conditions_rule_output_and_assign() {
    let states = json!({
        "S": {"Type": "Choice", "Choices": [
            {"Condition": "{% $states.input.n > 10 %}", "Next": "Big", "Output": {"big": "{% $states.input.n %}"}, "Assign": {"kind": "big"}},
            {"Condition": false, "Next": "Big"}
        ], "Default": "Small", "Output": {"small": "{% $states.input.n %}"}},
        "Big": {"Type": "Pass", "Output": {"in": "{% $states.input %}", "kind": "{% $kind %}"}, "End": true},
        "Small": {"Type": "Succeed"}
    });
    assert_eq!(
        output(states.clone(), json!({"n": 11})),
        json!({"in": {"big": 11}, "kind": "big"})
    );
    assert_eq!(output(states, json!({"n": 1})), json!({"small": 1}));
}

#[test]
fn a_condition_that_is_not_a_boolean_fails() {
    let states = json!({"S": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.n %}", "Next": "E"}]}, "E": {"Type": "Succeed"}});
    assert_eq!(
        failure(states, json!({"n": 1})),
        cause(
            "$states.input.n",
            "Choices[0]/Condition",
            "returned an unexpected result type. Expected 'boolean', but was 'number' for value: 1"
        )
    );
}

#[test]
fn wait_seconds_and_timestamp_are_expressions() {
    let wait = |field: &str, v: &str| json!({"S": {"Type": "Wait", field: v, "Output": "{% $states.input.n %}", "End": true}});
    assert_eq!(
        output(wait("Seconds", "{% $states.input.n %}"), json!({"n": 3})),
        json!(3)
    );
    assert_eq!(
        output(
            wait("Timestamp", "{% '2016-03-14T01:59:00Z' %}"),
            json!({"n": 4})
        ),
        json!(4)
    );
    assert_eq!(
        failure(wait("Timestamp", "{% $states.input.t %}"), json!({"t": "05-12-2016T21:29:29Z"})),
        (
            "States.QueryEvaluationError".into(),
            "An error occurred while executing the state 'S' (entered at the event id #2). The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: 05-12-2016T21:29:29Z".into()
        )
    );
}

#[test]
fn fail_error_and_cause_are_expressions() {
    let states = json!({"S": {"Type": "Fail", "Error": "{% $states.input.e %}", "Cause": "{% 'because ' & $states.input.c %}"}});
    assert_eq!(
        failure(states, json!({"e": "E", "c": "x"})),
        ("E".into(), "because x".into())
    );
}

#[test]
fn succeed_output_and_states_context() {
    let states = json!({"S": {"Type": "Succeed", "Output": {"name": "{% $states.context.State.Name %}", "input": "{% $states.context.Execution.Input %}"}}});
    assert_eq!(
        output(states, json!({"a": 1})),
        json!({"name": "S", "input": {"a": 1}})
    );
}

// ---------------------------------------------------------------- Map, Parallel

#[test]
fn map_items_item_selector_and_settings_are_expressions() {
    let states = json!({"S": {
        "Type": "Map",
        "Items": "{% $states.input.list %}",
        "ItemSelector": {"v": "{% $states.context.Map.Item.Value %}", "i": "{% $states.context.Map.Item.Index %}", "k": "{% $states.input.k %}", "o": "{% $outer %}"},
        "MaxConcurrency": "{% 1 %}",
        "ToleratedFailureCount": "{% 0 %}",
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
        "Output": {"n": "{% $count($states.result) %}", "r": "{% $states.result %}"},
        "End": true
    }, "Z": {"Type": "Pass", "End": true}});
    let mut with_outer = states.clone();
    with_outer["S"]["Next"] = json!("Z");
    let states = json!({
        "S": {"Type": "Pass", "Assign": {"outer": "o"}, "Next": "M"},
        "M": states["S"]
    });
    assert_eq!(
        output(states, json!({"list": ["a", "b"], "k": 7})),
        json!({"n": 2, "r": [{"v": "a", "i": 0, "k": 7, "o": "o"}, {"v": "b", "i": 1, "k": 7, "o": "o"}]})
    );
}

#[test]
fn map_items_must_be_an_array() {
    let states = |items: &str| json!({"S": {"Type": "Map", "Items": items, "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}});
    assert_eq!(
        failure(states("{% {'foo': 'bar'} %}"), json!({})),
        cause("{'foo': 'bar'}", "Items", "returned an unexpected result type. Expected 'array', but was 'object' for value: {\"foo\":\"bar\"}")
    );
    let no_items = json!({"S": {"Type": "Map", "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}});
    assert_eq!(
        failure(no_items, json!({"a": 1})),
        ("States.QueryEvaluationError".into(), "An error occurred while executing the state 'S' (entered at the event id #2). Map state input must be an array but was: {\"a\":1}".into())
    );
}

/// The history of a run as (type, id, previous id, EvaluationFailed
/// location), from the Map state's entry on.
fn map_events(definition: Value, input: Value) -> (Outcome, Vec<(&'static str, u64, u64, String)>) {
    let outcome = run_recorded(&machine(definition), &sync_task_fn(handler), input);
    let events = (outcome.history.as_ref().unwrap().iter().skip(1))
        .map(|e| {
            let at = e.details.get("location").and_then(Value::as_str);
            (
                e.event_type,
                e.id,
                e.previous_event_id,
                at.unwrap_or_default().to_owned(),
            )
        })
        .collect();
    (outcome, events)
}

#[test]
fn a_failing_item_selector_records_evaluation_failed_then_map_state_failed() {
    // as AWS records a failing Items (the recordings have no failing
    // ItemSelector): EvaluationFailed with the field as location, then
    // MapStateFailed; it follows the Map's last event, before any
    // MapIterationStarted of the item (crate docs, Compatibility)
    let processor = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
    let map = json!({"S": {"Type": "Map", "Items": [1, 2], "ItemSelector": {"v": "{% $nope %}"}, "ItemProcessor": processor, "End": true}});
    let (outcome, events) = map_events(jsonata(map), json!({}));
    let e = |t, id, prev, at: &str| (t, id, prev, at.to_owned());
    assert_eq!(
        events,
        [
            e("MapStateEntered", 2, 0, ""),
            e("MapStateStarted", 3, 2, ""),
            e("EvaluationFailed", 4, 3, "ItemSelector/v"),
            e("MapStateFailed", 5, 4, ""),
            e("ExecutionFailed", 6, 5, "")
        ]
    );
    let expected = cause("$nope", "ItemSelector/v", "returned nothing (undefined).");
    assert_eq!((outcome.error.unwrap(), outcome.cause.unwrap()), expected);
    // after an iteration succeeded, it follows that iteration's last event
    let map = json!({"S": {"Type": "Map", "Items": [1, 2], "MaxConcurrency": 1, "ItemSelector": "{% $states.context.Map.Item.Index = 1 ? $nope : 5 %}", "ItemProcessor": processor, "End": true}});
    let (_, events) = map_events(jsonata(map), json!({}));
    assert_eq!(
        events[5..],
        [
            e("MapIterationSucceeded", 7, 6, ""),
            e("EvaluationFailed", 8, 6, "ItemSelector"),
            e("MapStateFailed", 9, 8, ""),
            e("ExecutionFailed", 10, 9, "")
        ]
    );
    // a JSONPath ItemSelector's missing path is States.Runtime: no
    // EvaluationFailed and no MapStateFailed, as AWS records a Map's other
    // States.Runtime failures after MapStateStarted
    let map = json!({"StartAt": "S", "States": {"S": {"Type": "Map", "ItemSelector": {"v.$": "$.nope"}, "ItemProcessor": processor, "End": true}}});
    let (outcome, events) = map_events(map, json!([1]));
    assert_eq!(
        events,
        [
            e("MapStateEntered", 2, 0, ""),
            e("MapStateStarted", 3, 2, ""),
            e("ExecutionFailed", 4, 3, "")
        ]
    );
    assert_eq!(outcome.error.as_deref(), Some("States.Runtime"));
}

#[test]
fn parallel_arguments_and_output() {
    let states = json!({"S": {
        "Type": "Parallel",
        "Arguments": {"x": "{% $states.input.a %}"},
        "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass", "Output": "{% $states.input.x + 1 %}", "End": true}}}],
        "Output": {"first": "{% $states.result[0] %}", "in": "{% $states.input.a %}"},
        "End": true
    }});
    assert_eq!(
        output(states, json!({"a": 1})),
        json!({"first": 2, "in": 1})
    );
}

// ---------------------------------------------------------------- errors

#[test]
fn an_undefined_result_fails_with_the_field_and_an_evaluation_failed_event() {
    let states =
        json!({"S": {"Type": "Pass", "Output": {"result": "{% $doesNotExist %}"}, "End": true}});
    assert_eq!(
        failure(states.clone(), json!({})),
        cause(
            "$doesNotExist",
            "Output/result",
            "returned nothing (undefined)."
        )
    );
    let outcome = run_recorded(&machine(jsonata(states)), &sync_task_fn(handler), json!({}));
    let types: Vec<&str> = outcome
        .history
        .as_ref()
        .unwrap()
        .iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "PassStateEntered",
            "EvaluationFailed",
            "ExecutionFailed"
        ]
    );
    let failed = &outcome.history.unwrap()[2];
    assert_eq!(failed.details["location"], json!("Output/result"));
    assert_eq!(failed.details["state"], json!("S"));
    assert_eq!(
        failed.details["error"],
        json!("States.QueryEvaluationError")
    );
    // linked, as AWS records it, to the event before the state was entered
    let states = json!({"S": {"Type": "Pass", "Next": "T"}, "T": {"Type": "Pass", "Output": "{% $nope %}", "End": true}});
    let outcome = run_recorded(&machine(jsonata(states)), &sync_task_fn(handler), json!({}));
    let history = outcome.history.unwrap();
    let links: Vec<(&str, u64, u64)> = history
        .iter()
        .skip(3)
        .map(|e| (e.event_type, e.id, e.previous_event_id))
        .collect();
    assert_eq!(
        links,
        [
            ("PassStateEntered", 4, 3),
            ("EvaluationFailed", 5, 3),
            ("ExecutionFailed", 6, 5)
        ]
    );
}

#[test]
fn evaluation_errors_and_function_results_fail_with_aws_causes() {
    let pass = |out: &str| json!({"S": {"Type": "Pass", "Output": out, "End": true}});
    assert_eq!(
        failure(pass("{% $nothing() %}"), json!({})),
        cause(
            "$nothing()",
            "Output",
            "threw an error during evaluation. T1006: Attempted to invoke a non-function"
        )
    );
    assert_eq!(
        failure(pass("{% function($x){$x} %}"), json!({})),
        cause(
            "function($x){$x}",
            "Output",
            "returned an unsupported result type."
        )
    );
}

#[test]
fn query_evaluation_errors_are_caught() {
    let states = json!({
        "S": {"Type": "Task", "Resource": LAMBDA, "Arguments": "{% $missing %}", "Catch": [{"ErrorEquals": ["States.QueryEvaluationError"], "Next": "C"}], "End": true},
        "C": {"Type": "Pass", "Output": "{% $states.input.Error %}", "End": true}
    });
    assert_eq!(
        output(states, json!({})),
        json!("States.QueryEvaluationError")
    );
}

#[test]
fn an_expression_that_does_not_parse_is_refused_at_load() {
    let definition =
        jsonata(json!({"S": {"Type": "Pass", "Output": {"a": "{% 1 + %}"}, "End": true}}));
    let report = StateMachine::validate_value(&definition, StateMachineType::Standard);
    let d = &report.diagnostics[0];
    assert_eq!(
        (d.code, d.message.as_str(), d.location.as_deref()),
        (
            "INVALID_JSONATA_EXPRESSION",
            "Unexpected end of expression",
            Some("/States/S/Output/a")
        )
    );
    // a state's expressions have no input: a bare field is refused
    let definition =
        jsonata(json!({"S": {"Type": "Pass", "Output": {"p": "{% phone %}"}, "End": true}}));
    let report = StateMachine::validate_value(&definition, StateMachineType::Standard);
    let d = &report.diagnostics[0];
    assert_eq!(
        (d.code, d.message.as_str(), d.location.as_deref()),
        (
            "UNSUPPORTED_JSONATA_EXPRESSION",
            "Reference to 'phone' at the top level is not supported.",
            Some("/States/S/Output/p")
        )
    );
}

/// The diagnostics of a JSONata machine over `states`: code, message and
/// location of each.
fn refused(states: Value) -> Vec<(&'static str, String, String)> {
    let report = StateMachine::validate_value(&jsonata(states), StateMachineType::Standard);
    let found = report.diagnostics.iter();
    found
        .map(|d| {
            (
                d.code,
                d.message.clone(),
                d.location.clone().unwrap_or_default(),
            )
        })
        .collect()
}

/// AWS's `UNSUPPORTED_JSONATA_EXPRESSION` with `message` at `location`.
fn unsupported(message: &str, location: &str) -> Vec<(&'static str, String, String)> {
    vec![(
        "UNSUPPORTED_JSONATA_EXPRESSION",
        message.into(),
        location.into(),
    )]
}

/// A Task with `fields`, a catcher with `catcher` (its `Next` added) and a
/// Pass `C` it goes to.
fn task(fields: Value, catcher: Value) -> Value {
    let mut t = json!({"Type": "Task", "Resource": LAMBDA, "End": true});
    t.as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    let mut c = json!({"ErrorEquals": ["States.ALL"], "Next": "C"});
    c.as_object_mut()
        .unwrap()
        .extend(catcher.as_object().unwrap().clone());
    t["Catch"] = json!([c]);
    json!({"S": t, "C": {"Type": "Pass", "End": true}})
}

#[test]
fn the_2_1_operators_are_refused_at_load() {
    // AWS runs JSONata 2.0.6, where `??` and `?:` do not exist: the parser's
    // message, as AWS gives its INVALID_JSONATA_EXPRESSION messages (their
    // wording for these two is not recorded)
    let pass = |e: &str| json!({"S": {"Type": "Pass", "Output": {"v": e}, "End": true}});
    let invalid = |m: &str| {
        vec![(
            "INVALID_JSONATA_EXPRESSION",
            m.into(),
            "/States/S/Output/v".into(),
        )]
    };
    assert_eq!(
        refused(pass("{% $a ?? 1 %}")),
        invalid("The symbol \"?\" cannot be used as a unary operator")
    );
    assert_eq!(
        refused(pass("{% $a ?: 1 %}")),
        invalid("The symbol \":\" cannot be used as a unary operator")
    );
}

#[test]
fn the_context_item_and_the_root_are_refused_at_load() {
    let pass = |e: &str| json!({"S": {"Type": "Pass", "Output": {"v": e}, "End": true}});
    assert_eq!(
        refused(pass("{% $ %}")),
        unsupported(
            "Reference to '$' at the top level is not supported.",
            "/States/S/Output/v"
        )
    );
    assert_eq!(
        refused(pass("{% $$ %}")),
        unsupported("Reference to '$$' is not supported.", "/States/S/Output/v")
    );
    assert_eq!(
        refused(pass("{% $$.phone & 'x' %}")),
        unsupported("Reference to '$$' is not supported.", "/States/S/Output/v")
    );
    // `$` inside a predicate is the item at hand, not the missing input
    assert_eq!(refused(pass("{% $states.input.a[$ > 1] %}")), []);
}

#[test]
fn states_error_output_outside_a_catcher_is_refused_at_load() {
    let field = |e: &str| "Field '$states.errorOutput' does not exist.".replace("errorOutput", e);
    let pass = |e: &str| json!({"S": {"Type": "Pass", "Output": {"v": e}, "End": true}});
    assert_eq!(
        refused(pass("{% $states.errorOutput %}")),
        unsupported(&field("errorOutput"), "/States/S/Output/v")
    );
    let args = json!({"Arguments": {"a": "{% $states.errorOutput.Cause %}"}});
    assert_eq!(
        refused(task(args, json!({}))),
        unsupported(&field("errorOutput"), "/States/S/Arguments/a")
    );
    let own = json!({"Output": "{% [$states.result, $states.errorOutput] %}"});
    assert_eq!(
        refused(task(own, json!({}))),
        unsupported(&field("errorOutput"), "/States/S/Output")
    );
    let deep = pass("{% $map([1], function($v){ $states.errorOutput }) %}");
    assert_eq!(
        refused(deep),
        unsupported(&field("errorOutput"), "/States/S/Output/v")
    );
    // a catcher's Output and Assign read it
    let catcher = json!({"Output": {"e": "{% $states.errorOutput.Error %}"}, "Assign": {"c": "{% $states.errorOutput.Cause %}"}});
    assert_eq!(refused(task(json!({}), catcher)), []);
    // a `$states` the expression binds itself is its own
    let own = pass("{% ($states := {'errorOutput': 1}; $states.errorOutput) %}");
    assert_eq!(refused(own), []);
}

#[test]
fn other_states_members_load_wherever_they_are_read() {
    // AWS accepts `$states.error` (floci's measurements); its answer for
    // `result` outside a Task/Parallel/Map Output or Assign is not recorded
    // (crate docs, Compatibility): both load and read nothing
    let args = json!({"Arguments": {"a": "{% $states.result %}"}});
    assert_eq!(refused(task(args, json!({}))), []);
    let pass = |e: &str| json!({"S": {"Type": "Pass", "Output": {"v": e}, "End": true}});
    assert_eq!(refused(pass("{% $states.error %}")), []);
    assert_eq!(
        failure(pass("{% $states.result %}"), json!({})),
        cause(
            "$states.result",
            "Output/v",
            "returned nothing (undefined)."
        )
    );
}

#[test]
fn eval_is_not_offered_and_fails_as_on_aws() {
    // AWS answers `$eval` as an unbound name (floci issue #2737, measured):
    // the definition loads, the call fails
    let states =
        json!({"S": {"Type": "Pass", "Output": {"r": "{% $eval(\"1+1\") %}"}, "End": true}});
    assert_eq!(refused(states.clone()), []);
    assert_eq!(
        failure(states, json!({})),
        cause(
            "$eval(\"1+1\")",
            "Output/r",
            "threw an error during evaluation. T1006: Attempted to invoke a non-function"
        )
    );
    // a `$eval` of the definition's own is an ordinary function
    let own = json!({"S": {"Type": "Pass", "Output": "{% ($eval := function($s){ $s & '!' }; $eval('hi')) %}", "End": true}});
    assert_eq!(output(own, json!({})), json!("hi!"));
}

#[test]
fn now_is_the_time_the_state_was_entered() {
    // one value for the whole state, on the execution's clock (crate docs,
    // Compatibility)
    let states = json!({"S": {"Type": "Wait", "Seconds": 5, "Output": ["{% $now() = $states.context.State.EnteredTime %}", "{% $millis() = $toMillis($now()) %}"], "End": true}});
    assert_eq!(output(states, json!({})), json!([true, true]));
}

#[test]
fn a_runaway_expression_ends_the_state_with_a_query_evaluation_error() {
    // stepfn's evaluation budget (crate docs, Compatibility: JSONata, the
    // language); AWS's own bound is not recorded
    let pass = json!({"S": {"Type": "Pass", "Output": "{% ($f := function(){$f()}; $f()) %}", "End": true}});
    assert_eq!(
        failure(pass, json!({})),
        cause(
            "($f := function(){$f()}; $f())",
            "Output",
            "threw an error during evaluation. U1001: Expression evaluation timeout: Check for infinite loop"
        )
    );
}

#[test]
fn a_distributed_map_runs_its_jsonata_fields() {
    let states = json!({"S": {
        "Type": "Map",
        "Items": "{% $states.input.list %}",
        "ItemSelector": {"v": "{% $states.context.Map.Item.Value * 2 %}"},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "P", "States": {"P": {"Type": "Pass", "Output": "{% $states.input.v + 1 %}", "End": true}}},
        "ToleratedFailurePercentage": "{% 10 %}",
        "Output": "{% $sum($states.result) %}",
        "End": true
    }});
    assert_eq!(output(states, json!({"list": [1, 2, 3]})), json!(15));
}

#[test]
fn a_value_built_past_a_million_items_ends_the_evaluation() {
    // stepfn's bound on values built during evaluation (crate docs,
    // Compatibility: JSONata states); AWS's is not recorded
    let pass = json!({"S": {"Type": "Pass", "Output": "{% $count([1..2000000]) %}", "End": true}});
    assert_eq!(
        failure(pass, json!({})),
        cause(
            "$count([1..2000000])",
            "Output",
            "threw an error during evaluation. U1002: Evaluation built a value of 2000000 items or characters, over the limit of 1000000"
        )
    );
    let pass = json!({"S": {"Type": "Pass", "Output": "{% $count([1..1000000]) %}", "End": true}});
    assert_eq!(output(pass, json!({})), json!(1000000));
}

// ------------------------------------------------ outputs moving the input

/// An Output that takes parts of the input (moved into it, not copied)
/// gives the same value however often and however nested it takes them:
/// a part taken twice, a part beside the whole input, members of a large
/// object and of an array.
#[test]
fn an_output_taking_parts_of_the_input_several_times_gets_each_whole() {
    let pass = |expr: &str| json!({"S": {"Type": "Pass", "Output": expr, "End": true}});
    let input = json!({"a": {"b": [1, 2]}, "s": "text", "n": 5, "list": [{"x": 1}, "y"]});
    let cases = [
        (
            "{% $merge([$states.input, {'n': 6}]) %}",
            json!({"a": {"b": [1, 2]}, "s": "text", "n": 6, "list": [{"x": 1}, "y"]}),
        ),
        (
            "{% [$states.input.a, $states.input.a, $states.input.s] %}",
            json!([{"b": [1, 2]}, {"b": [1, 2]}, "text"]),
        ),
        (
            "{% {'all': $states.input, 'a': $states.input.a, 'again': $states.input} %}",
            json!({"all": input.clone(), "a": {"b": [1, 2]}, "again": input.clone()}),
        ),
        // an array inside an array constructor is spread, as JSONata does
        (
            "{% [$states.input.list[0], $states.input.list[1], $states.input.list] %}",
            json!([{"x": 1}, "y", {"x": 1}, "y"]),
        ),
        (
            "{% {'l': $states.input.list, 'first': $states.input.list[0]} %}",
            json!({"l": [{"x": 1}, "y"], "first": {"x": 1}}),
        ),
        ("{% $states.input.a %}", json!({"b": [1, 2]})),
        // a hole ten levels down
        (
            "{% {'a':{'b':{'c':{'d':{'e':{'f':{'g':{'h':{'i':{'j': [$states.input.a]}}}}}}}}}} %}",
            json!({"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":{"j": [{"b": [1, 2]}]}}}}}}}}}}),
        ),
        // more than eight holes: filled in one pass
        (
            "{% [1..10].($states.input.a) %}",
            json!(vec![json!({"b": [1, 2]}); 10]),
        ),
        // more than sixteen: which part moves decided on the holes sorted
        (
            "{% [1..20].($states.input.a) %}",
            json!(vec![json!({"b": [1, 2]}); 20]),
        ),
        ("{% [[1..9].($states.input.s), [$states.input]] %}", {
            let mut all = vec![json!("text"); 9];
            all.push(json!([input.clone()]));
            Value::Array(all)
        }),
        ("{% $states.input %}", input.clone()),
    ];
    for (expr, want) in cases {
        assert_eq!(output(pass(expr), input.clone()), want, "{expr}");
    }
    let wide: serde_json::Map<String, Value> =
        (0..100).map(|i| (format!("k{i}"), json!([i]))).collect();
    let wide = Value::Object(wide);
    let mut want = wide.clone();
    want["k99"] = json!(0);
    assert_eq!(
        output(
            pass("{% $merge([$states.input, {'k99': 0}]) %}"),
            wide.clone()
        ),
        want
    );
    let templated = json!({"S": {"Type": "Pass", "Output": {"x": "{% $states.input.a %}", "y": ["{% $states.input.a %}", "{% $states.input.s %}"]}, "End": true}});
    assert_eq!(
        output(templated, input.clone()),
        json!({"x": {"b": [1, 2]}, "y": [{"b": [1, 2]}, "text"]})
    );
}

/// A Task's Output moves what it keeps of the result, and still reads the
/// state input beside it.
#[test]
fn a_task_output_taking_parts_of_the_result_twice_gets_each_whole() {
    let task = json!({"S": {"Type": "Task", "Resource": LAMBDA, "Arguments": {"v": [1, 2]},
        "Output": "{% [$states.result.got, $states.result.got.v, $states.input.k, $states.result] %}", "End": true}});
    assert_eq!(
        output(task, json!({"k": "in"})),
        json!([{"v": [1, 2]}, 1, 2, "in", {"got": {"v": [1, 2]}}])
    );
}
