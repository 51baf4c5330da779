//! Loading definitions: every fixture loads and round-trips; every check
//! of the validator reports AWS's code, message and location.

use serde_json::{json, Value};
use std::path::PathBuf;
use stepfn::definition::{
    Assign, Catcher, ChoiceRules, Dynamic, IntegrationPattern, Io, JsonataCondition,
    JsonataExpression, ResourceKind, ResultHandling, Retrier, StateKind, StateMachineType,
    Transition, WaitFor,
};
use stepfn::Validation;
use stepfn::{ErrorKind, Severity, StateMachine};

use crate::common::{machine as load, one};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/machines")
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixtures().join(name)).expect("fixture exists")
}

/// `(code, message, location)` of every diagnostic of a STANDARD validation.
fn diags(definition: Value) -> Vec<(String, String, String)> {
    summarize(&StateMachine::validate_value(
        &definition,
        StateMachineType::Standard,
    ))
}

fn express(definition: Value) -> Vec<(String, String, String)> {
    summarize(&StateMachine::validate_value(
        &definition,
        StateMachineType::Express,
    ))
}

fn summarize(report: &Validation) -> Vec<(String, String, String)> {
    report
        .diagnostics
        .iter()
        .map(|d| {
            (
                d.code.to_owned(),
                d.message.clone(),
                d.location.clone().unwrap_or_default(),
            )
        })
        .collect()
}

fn d(code: &str, message: &str, location: &str) -> (String, String, String) {
    (code.to_owned(), message.to_owned(), location.to_owned())
}

fn schema(message: &str, location: &str) -> (String, String, String) {
    d("SCHEMA_VALIDATION_FAILED", message, location)
}

// ---------------------------------------------------------------- fixtures

#[test]
fn every_fixture_loads_and_round_trips() {
    let mut count = 0;
    for entry in std::fs::read_dir(fixtures()).expect("fixtures dir") {
        let path = entry.expect("entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".json") || name.ends_with(".invalid.json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let machine = StateMachine::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let json = machine.to_value();
        let again = StateMachine::from_value(json.clone())
            .unwrap_or_else(|e| panic!("{name} round trip: {e:?}"));
        assert_eq!(again.definition(), machine.definition(), "{name}");
        assert_eq!(again.to_value(), json, "{name}");
        count += 1;
    }
    assert!(count >= 10, "only {count} fixtures");
}

#[test]
fn seed_002_as_printed_is_rejected_with_line_and_column() {
    let err =
        StateMachine::from_str(&fixture("002_api_call_from_templates.invalid.json")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidDefinition);
    let diags = err.diagnostics();
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].code, "INVALID_JSON_DESCRIPTION");
    assert_eq!(diags[0].message, "trailing characters at line 1 column 10");
    assert_eq!(diags[0].location.as_deref(), Some("line: 1, column: 10"));
}

#[test]
fn from_slice_and_from_str_agree() {
    let text = fixture("004_hello_world.json");
    let a = StateMachine::from_str(&text).unwrap();
    let b = StateMachine::from_slice(text.as_bytes()).unwrap();
    let c: StateMachine = text.parse().unwrap();
    assert_eq!(a.definition(), b.definition());
    assert_eq!(a.definition(), c.definition());
}

#[test]
fn malformed_json_reports_line_and_column() {
    let err = StateMachine::from_str("{\n  \"StartAt\": \"A\",\n  \"States\": {\n}").unwrap_err();
    assert_eq!(err.diagnostics()[0].code, "INVALID_JSON_DESCRIPTION");
    assert_eq!(
        err.diagnostics()[0].location.as_deref(),
        Some("line: 4, column: 1")
    );
    let err = StateMachine::from_slice(b"{\"StartAt\": \"\xff\"}").unwrap_err();
    assert_eq!(err.diagnostics()[0].code, "INVALID_JSON_DESCRIPTION");
}

// ---------------------------------------------------------------- the model

#[test]
fn absent_paths_default_to_dollar_and_null_means_none() {
    let m = load(one(
        json!({"Type": "Pass", "InputPath": null, "ResultPath": null, "End": true}),
    ));
    let StateKind::Pass(p) = &m.definition().machine.states[0].kind else {
        panic!()
    };
    let Io::JsonPath {
        input_path,
        output_path,
        ..
    } = &p.io
    else {
        panic!("a JSONPath state has JSONPath slots: {:?}", p.io)
    };
    assert!(input_path.is_none());
    assert_eq!(output_path.as_ref().map(|p| p.as_str()), Some("$"));
    assert!(p.result_path.is_none());
    assert_eq!(p.transition, Transition::End);
}

#[test]
fn resources_are_parsed() {
    let m = load(one(
        json!({"Type": "Task", "Resource": "arn:aws:states:::ecs:runTask.sync", "End": true}),
    ));
    let StateKind::Task(t) = &m.definition().machine.states[0].kind else {
        panic!()
    };
    assert_eq!(
        t.resource.kind,
        ResourceKind::Service {
            service: "ecs".into(),
            action: "runTask".into(),
            pattern: IntegrationPattern::Sync
        }
    );
}

#[test]
fn retrier_defaults() {
    let m = load(one(
        json!({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f",
        "Retry": [{"ErrorEquals": ["States.ALL"]}], "End": true}),
    ));
    let StateKind::Task(t) = &m.definition().machine.states[0].kind else {
        panic!()
    };
    let r = &t.result_handling.retry[0];
    assert_eq!(
        (r.interval_seconds, r.max_attempts, r.backoff_rate),
        (1, 3, 2.0)
    );
}

#[test]
fn constructors_give_the_defaults_of_a_loaded_definition() {
    let m = load(json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f",
              "Retry": [{"ErrorEquals": ["A"]}],
              "Catch": [{"ErrorEquals": ["B"], "Next": "X"}], "End": true},
        "X": {"Type": "Succeed"}}}));
    let StateKind::Task(t) = &m.definition().machine.states[0].kind else {
        panic!()
    };
    let mut expected = ResultHandling::default();
    expected.retry = vec![Retrier::new(vec![stepfn::ErrorName::new("A")])];
    expected.catch = vec![Catcher::new(vec![stepfn::ErrorName::new("B")], "X")];
    assert_eq!(t.result_handling, expected);
}

#[test]
fn index_of_finds_states_by_name() {
    let m = StateMachine::from_str(&fixture("004_hello_world.json")).unwrap();
    let machine = &m.definition().machine;
    assert_eq!(machine.index_of("Wait 3 sec"), Some(4));
    assert_eq!(
        machine.get("Wait 3 sec").map(|s| s.kind.type_name()),
        Some("Wait")
    );
    assert_eq!(machine.index_of("nope"), None);
    assert_eq!(machine.start_index(), Some(0));
}

#[test]
fn jsonata_fields_are_typed_slots() {
    let m = StateMachine::from_str(&fixture("jsonata.json")).unwrap();
    let machine = &m.definition().machine;
    let StateKind::Wait(w) = &machine.get("Pause").unwrap().kind else {
        panic!()
    };
    let pause = JsonataExpression::parse("{% $states.input.pause %}").unwrap();
    assert_eq!(pause.source(), " $states.input.pause ");
    assert_eq!(w.wait, WaitFor::Seconds(Dynamic::Jsonata(pause)));
    let StateKind::Task(t) = &machine.get("Lookup").unwrap().kind else {
        panic!()
    };
    let Io::Jsonata {
        arguments: Some(arguments),
        output: Some(output),
        ..
    } = &t.io
    else {
        panic!("a JSONata Task has Arguments and Output: {:?}", t.io)
    };
    assert_eq!(output.as_value(), &json!("{% $states.input %}"));
    assert_eq!(output.expression_pointers().collect::<Vec<_>>(), [""]);
    assert_eq!(
        arguments.expression_pointers().collect::<Vec<_>>(),
        ["/Key/id/S"]
    );
    assert_eq!(
        arguments
            .expressions()
            .map(|e| e.as_str().to_owned())
            .collect::<Vec<_>>(),
        ["{% $states.input.customerId %}"]
    );
    let Some(Assign::Jsonata(assign)) = &t.assign else {
        panic!("a JSONata Assign: {:?}", t.assign)
    };
    assert_eq!(
        assign.expression_pointers().collect::<Vec<_>>(),
        ["/customer"]
    );
    let timeout = JsonataExpression::parse("{% $states.input.timeout %}").unwrap();
    assert_eq!(t.timeout_seconds, Some(Dynamic::Jsonata(timeout)));
    let StateKind::Fail(f) = &machine.get("Failed").unwrap().kind else {
        panic!()
    };
    let error = JsonataExpression::parse("{% $states.input.error %}").unwrap();
    assert_eq!(f.error, Some(Dynamic::Jsonata(error)));
    assert_eq!(
        f.cause,
        Some(Dynamic::Literal("the customer could not be read".into()))
    );
}

#[test]
fn jsonata_choice_rules_have_a_condition() {
    let m = load(
        json!({"QueryLanguage": "JSONata", "StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [
            {"Condition": " {% $states.input.ok %} ", "Next": "D", "Output": {"k": "{% 1 %}"}},
            {"Condition": false, "Next": "D", "Comment": "never"}
        ], "Default": "D"},
        "D": {"Type": "Succeed"}}}),
    );
    let StateKind::Choice(c) = &m.definition().machine.states[0].kind else {
        panic!()
    };
    let ChoiceRules::Jsonata(rules) = &c.choices else {
        panic!("JSONata rules: {:?}", c.choices)
    };
    let JsonataCondition::Expression(e) = &rules[0].condition else {
        panic!("an expression: {:?}", rules[0].condition)
    };
    assert_eq!(e.source(), " $states.input.ok ");
    assert_eq!(e.as_str(), " {% $states.input.ok %} ");
    assert_eq!(
        rules[0]
            .output
            .as_ref()
            .map(|o| o.expression_pointers().collect::<Vec<_>>()),
        Some(vec!["/k"])
    );
    assert_eq!(rules[1].condition, JsonataCondition::Literal(false));
    assert_eq!(rules[1].comment.as_deref(), Some("never"));
    assert_eq!(
        m.to_value()["States"]["C"]["Choices"][0]["Condition"],
        json!(" {% $states.input.ok %} ")
    );
}

#[test]
fn jsonata_text_is_literal_in_a_json_path_state() {
    let m = load(one(json!({"Type": "Fail", "Error": "{% 1 %}"})));
    let StateKind::Fail(f) = &m.definition().machine.states[0].kind else {
        panic!()
    };
    assert_eq!(f.error, Some(Dynamic::Literal("{% 1 %}".into())));
}

#[test]
fn jsonata_template_pointers_escape_keys() {
    let t = stepfn::definition::JsonataTemplate::new(
        json!({"a/b": ["x", "{% 1 %}"], "c~d": "{% 2 %}", "e": "{%no%"}),
    );
    assert_eq!(
        t.expression_pointers().collect::<Vec<_>>(),
        ["/a~1b/1", "/c~0d"]
    );
    assert!(!t.is_literal());
    assert!(stepfn::definition::JsonataTemplate::new(json!({"a": "{% "})).is_literal());
}

#[test]
fn query_language_is_inherited_from_the_machine_not_the_parent_state() {
    let m = load(
        json!({"StartAt": "M", "QueryLanguage": "JSONPath", "States": {"M": {
        "Type": "Map", "QueryLanguage": "JSONata",
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
        "End": true}}}),
    );
    let StateKind::Map(map) = &m.definition().machine.states[0].kind else {
        panic!()
    };
    let inner = &map.item_processor.states[0];
    assert_eq!(
        inner.query_language,
        stepfn::definition::QueryLanguage::JsonPath
    );
    assert_eq!(inner.declared_query_language, None);
}

// ---------------------------------------------------------------- structure

#[test]
fn required_top_level_fields() {
    assert_eq!(
        diags(json!({})),
        [schema("These fields are required: [States, StartAt]", "/")]
    );
    assert_eq!(
        diags(json!({"States": {"A": {"Type": "Succeed"}}})),
        [schema("These fields are required: [StartAt]", "/")]
    );
    assert_eq!(
        diags(json!([])),
        [schema("Definition must be a valid JSON object", "/")]
    );
}

#[test]
fn unknown_fields() {
    assert_eq!(
        diags(json!({"StartAt": "S", "Foo": 1, "States": {"S": {"Type": "Succeed"}}})),
        [schema("Field 'Foo' is not supported", "/")]
    );
    assert_eq!(
        diags(one(
            json!({"Type": "Pass", "TimeoutSeconds": 3, "Retry": [], "End": true})
        )),
        [
            schema("Field 'TimeoutSeconds' is not supported", "/States/S"),
            schema("Field 'Retry' is not supported", "/States/S")
        ]
    );
    assert_eq!(
        diags(one(json!({"Type": "Succeed", "End": true}))),
        [schema("Field 'End' is not supported", "/States/S")]
    );
}

#[test]
fn required_state_fields() {
    assert_eq!(
        diags(one(json!({"Type": "Task", "End": true}))),
        [schema("These fields are required: [Resource]", "/States/S")]
    );
    assert_eq!(
        diags(one(json!({"End": true}))),
        [schema("These fields are required: [Type]", "/States/S")]
    );
    assert_eq!(
        diags(one(
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Credentials": {}, "End": true})
        )),
        [schema(
            "The field 'RoleArn' is required but was missing",
            "/States/S/Credentials"
        )]
    );
}

#[test]
fn next_or_end() {
    assert_eq!(
        diags(
            json!({"StartAt": "S", "States": {"S": {"Type": "Pass", "Next": "T", "End": true}, "T": {"Type": "Succeed"}}})
        ),
        [schema(
            "There should only be one of the following fields: [Next, End]",
            "/States/S"
        )]
    );
    assert_eq!(
        diags(one(json!({"Type": "Pass"}))),
        [schema(
            "either 'Next' or 'End: true' is required",
            "/States/S"
        )]
    );
}

#[test]
fn mutually_exclusive_fields() {
    assert_eq!(
        diags(one(
            json!({"Type": "Wait", "Seconds": 1, "SecondsPath": "$.s", "End": true})
        )),
        [schema(
            "There should only be one of the following fields: [Seconds, SecondsPath]",
            "/States/S"
        )]
    );
    assert_eq!(
        diags(one(
            json!({"Type": "Fail", "Error": "E", "ErrorPath": "$.e"})
        )),
        [schema(
            "There should only be one of the following fields: [Error, ErrorPath]",
            "/States/S"
        )]
    );
    assert_eq!(
        diags(one(json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "TimeoutSeconds": 5, "TimeoutSecondsPath": "$.t", "End": true}))),
        [schema("There should only be one of the following fields: [TimeoutSeconds, TimeoutSecondsPath]", "/States/S")]
    );
}

fn map_with(fields: Value) -> Value {
    let mut state = json!({"Type": "Map", "End": true,
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}});
    for (k, v) in fields.as_object().unwrap() {
        state[k] = v.clone();
    }
    one(state)
}

#[test]
fn numeric_bounds() {
    assert_eq!(
        diags(map_with(json!({"MaxConcurrency": -1}))),
        [schema("Minimum value is 0", "/States/S/MaxConcurrency")]
    );
    assert_eq!(
        diags(map_with(json!({"ToleratedFailurePercentage": 100.5}))),
        [schema(
            "Maximum value is 100.0",
            "/States/S/ToleratedFailurePercentage"
        )]
    );
    assert_eq!(
        diags(map_with(
            json!({"ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"MaxItems": 100000001}}})
        )),
        [schema(
            "Maximum value is 100000000",
            "/States/S/ItemReader/ReaderConfig/MaxItems"
        )]
    );
    assert_eq!(
        diags(one(
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
            "Retry": [{"ErrorEquals": ["E"], "IntervalSeconds": 0, "BackoffRate": 0.5}]})
        )),
        [
            schema("Minimum value is 1", "/States/S/Retry[0]/IntervalSeconds"),
            schema("Minimum value is 1.0", "/States/S/Retry[0]/BackoffRate")
        ]
    );
    assert_eq!(
        diags(one(json!({"Type": "Wait", "Seconds": -5, "End": true}))),
        [schema("Minimum value is 0", "/States/S/Seconds")]
    );
}

#[test]
fn enum_values() {
    assert_eq!(
        diags(one(
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
            "Retry": [{"ErrorEquals": ["E"], "JitterStrategy": "SOME"}]})
        )),
        [schema(
            "Instance value (\"SOME\") not found in enum (possible values: [FULL, NONE])",
            "/States/S/Retry[0]/JitterStrategy"
        )]
    );
    assert_eq!(
        diags(one(json!({"Type": "Parse", "End": true}))),
        [schema(
            "Instance value (\"Parse\") not found in enum (possible values: [Pass, Task, Choice, Wait, Succeed, Fail, Parallel, Map])",
            "/States/S/Type"
        )]
    );
}

#[test]
fn field_types() {
    assert_eq!(
        diags(one(json!({"Type": "Pass", "Next": 5}))),
        [
            schema(
                "invalid type: integer `5`, expected a string",
                "/States/S/Next"
            ),
            schema("either 'Next' or 'End: true' is required", "/States/S")
        ]
    );
}

#[test]
fn wait_timestamp_must_be_rfc3339() {
    assert_eq!(
        diags(one(
            json!({"Type": "Wait", "Timestamp": "2016-12-05T25:29:29Z", "End": true})
        )),
        [schema(
            "String does not match RFC3339 timestamp",
            "/States/S/Timestamp"
        )]
    );
    // Not JSONata in a JSONPath state: a literal that is no timestamp.
    assert_eq!(
        diags(one(
            json!({"Type": "Wait", "Timestamp": "{% '2016-03-14T01:59:00Z' %}", "End": true})
        )),
        [schema(
            "String does not match RFC3339 timestamp",
            "/States/S/Timestamp"
        )]
    );
}

// ---------------------------------------------------------------- graph

#[test]
fn transition_targets() {
    assert_eq!(
        diags(json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "NOPE"}}})),
        [
            d(
                "MISSING_TRANSITION_TARGET",
                "Missing 'Next' target: NOPE",
                "/States/A/Next"
            ),
            d("MISSING_END_STATE", "Workflow has no terminal state", "")
        ]
    );
    assert_eq!(
        diags(json!({"StartAt": "X", "States": {"A": {"Type": "Succeed"}}})),
        [d(
            "MISSING_TRANSITION_TARGET",
            "Missing 'Next' target: X",
            "/StartAt"
        )]
    );
    assert_eq!(
        diags(json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsNull": true, "Next": "Gone"}], "Default": "Away"},
            "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Lost"}]}}})),
        [
            d(
                "MISSING_TRANSITION_TARGET",
                "Missing 'Next' target: Gone",
                "/States/C/Choices[0]/Next"
            ),
            d(
                "MISSING_TRANSITION_TARGET",
                "Missing 'Next' target: Away",
                "/States/C/Default"
            ),
            d(
                "MISSING_TRANSITION_TARGET",
                "Missing 'Next' target: Lost",
                "/States/T/Catch[0]/Next"
            ),
            d(
                "MISSING_TRANSITION_TARGET",
                "State \"T\" is not reachable.",
                "/States/T"
            ),
        ]
    );
}

#[test]
fn transitions_stay_inside_their_container() {
    assert_eq!(
        diags(json!({"StartAt": "P", "States": {
            "P": {"Type": "Parallel", "Next": "Done", "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Done"}}}]},
            "Done": {"Type": "Succeed"}}})),
        [
            d(
                "MISSING_TRANSITION_TARGET",
                "Missing 'Next' target: Done",
                "/States/P/Branches[0]/States/A/Next"
            ),
            d("MISSING_END_STATE", "Workflow has no terminal state", "")
        ]
    );
}

#[test]
fn terminal_state_and_reachability() {
    let looping = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}}});
    assert_eq!(
        diags(looping.clone()),
        [d("MISSING_END_STATE", "Workflow has no terminal state", "")]
    );
    let mut with_c = looping;
    with_c["States"]["C"] = json!({"Type": "Pass", "End": true});
    assert_eq!(
        diags(with_c),
        [d(
            "MISSING_TRANSITION_TARGET",
            "State \"C\" is not reachable.",
            "/States/C"
        )]
    );
}

#[test]
fn state_names() {
    let long = "N".repeat(81);
    assert_eq!(
        diags(json!({"StartAt": long, "States": {long.clone(): {"Type": "Succeed"}}})),
        [d(
            "INVALID_STATE_NAME",
            "State name must be between 1 and 80 characters long",
            &format!("/States/{long}")
        )]
    );
    let ok = "N".repeat(80);
    assert_eq!(
        diags(json!({"StartAt": ok, "States": {ok.clone(): {"Type": "Succeed"}}})),
        []
    );
    assert_eq!(
        diags(json!({"StartAt": "P", "States": {
            "P": {"Type": "Parallel", "End": true, "Branches": [
                {"StartAt": "P", "States": {"P": {"Type": "Succeed"}}}]}}})),
        [d(
            "DUPLICATE_STATE_NAME",
            "Duplicate State name: P",
            "/States/P/Branches[0]/States/P"
        )]
    );
}

#[test]
fn hostile_nesting_is_too_deeply_nested_not_a_crash() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let text = format!(
        r#"{{"StartAt": "S", "States": {{"S": {{"Type": "Pass", "Result": {deep}, "End": true}}}}}}"#
    );
    let err = StateMachine::from_str(&text).unwrap_err();
    assert_eq!(err.diagnostics()[0].code, "TOO_DEEPLY_NESTED");
    // A value built in memory: checked before any recursive walk.
    let mut value = json!(1);
    for _ in 0..200 {
        value = json!([value]);
    }
    let report = StateMachine::validate_value(
        &one(json!({"Type": "Pass", "Result": value, "End": true})),
        StateMachineType::Standard,
    );
    assert_eq!(report.diagnostics[0].code, "TOO_DEEPLY_NESTED");
    // Deeply nested machines stay within the limit too.
    let mut machine = json!({"StartAt": "L", "States": {"L": {"Type": "Succeed"}}});
    for i in 0..40 {
        machine = json!({"StartAt": format!("P{i}"), "States": {format!("P{i}"): {"Type": "Parallel", "End": true, "Branches": [machine]}}});
    }
    let report = StateMachine::validate_value(&machine, StateMachineType::Standard);
    assert_eq!(report.diagnostics[0].code, "TOO_DEEPLY_NESTED");
}

// ---------------------------------------------------------------- errors

#[test]
fn states_all_alone_and_last() {
    assert_eq!(
        diags(one(
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
            "Retry": [{"ErrorEquals": ["States.ALL", "E"]}, {"ErrorEquals": ["E"]}]})
        )),
        [
            schema(
                "States.ALL must appear alone in ErrorEquals",
                "/States/S/Retry[0]/ErrorEquals"
            ),
            schema(
                "States.ALL must appear in the last retrier or catcher",
                "/States/S/Retry[0]/ErrorEquals"
            )
        ]
    );
}

// ---------------------------------------------------------------- paths

#[test]
fn reference_paths_and_paths_per_field() {
    assert_eq!(
        diags(one(
            json!({"Type": "Pass", "ResultPath": "$.items[*]", "End": true})
        )),
        [schema(
            "Value is not a Reference Path",
            "/States/S/ResultPath"
        )]
    );
    assert_eq!(
        diags(one(
            json!({"Type": "Pass", "ResultPath": "$$.Execution.Id", "End": true})
        )),
        [schema(
            "Value is not a Reference Path",
            "/States/S/ResultPath"
        )]
    );
    assert_eq!(
        diags(map_with(
            json!({"MaxConcurrencyPath": "$$.Execution.Input.n"})
        )),
        [schema(
            "Value is not a Reference Path",
            "/States/S/MaxConcurrencyPath"
        )]
    );
    // A full JSONPath is fine where a Path is expected; the context object is fine in ItemsPath.
    assert_eq!(
        diags(one(
            json!({"Type": "Pass", "InputPath": "$.items[*].id", "End": true})
        )),
        []
    );
    assert_eq!(
        diags(map_with(json!({"ItemsPath": "$$.Execution.Input.items"}))),
        []
    );
    assert_eq!(
        diags(one(
            json!({"Type": "Pass", "InputPath": "items", "End": true})
        )),
        [schema(
            "The value for the field 'InputPath' must be a valid JSONPath",
            "/States/S/InputPath"
        )]
    );
}

// ---------------------------------------------------------------- query languages

#[test]
fn query_language_rules() {
    assert_eq!(
        diags(json!({"StartAt": "Pass", "QueryLanguage": "JSONata",
            "States": {"Pass": {"Type": "Pass", "End": true, "QueryLanguage": "JSONPath"}}})),
        [schema(
            "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
            "/States/Pass"
        )]
    );
    assert_eq!(
        diags(one(json!({"Type": "Pass", "Output": {}, "End": true}))),
        [schema(
            "The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the 'JSONata' QueryLanguage",
            "/States/S"
        )]
    );
    assert_eq!(
        diags(one(json!({"Type": "Pass", "QueryLanguage": "JSONata", "InputPath": "$.a", "End": true}))),
        [schema(
            "The QueryLanguage is set to 'JSONata', but field 'InputPath' is only supported for the 'JSONPath' QueryLanguage",
            "/States/S"
        )]
    );
    assert_eq!(
        diags(map_with(
            json!({"ItemProcessor": {"QueryLanguage": "JSONata", "StartAt": "P",
            "States": {"P": {"Type": "Pass", "End": true}}}})
        )),
        [schema(
            "Field 'QueryLanguage' is not supported",
            "/States/S/ItemProcessor"
        )]
    );
    assert_eq!(
        diags(one(
            json!({"Type": "Pass", "QueryLanguage": "XPath", "End": true})
        )),
        [schema(
            "Instance value (\"XPath\") not found in enum (possible values: [JSONPath, JSONata])",
            "/States/S/QueryLanguage"
        )]
    );
}

// ---------------------------------------------------------------- express

#[test]
fn express_restrictions() {
    let task = |resource: &str| one(json!({"Type": "Task", "Resource": resource, "End": true}));
    assert_eq!(
        express(task("arn:aws:states:::sqs:sendMessage.waitForTaskToken")),
        [schema(
            "Express state machine does not support '.waitForTaskToken' service integration ",
            "/States/S/Resource"
        )]
    );
    assert_eq!(
        express(task("arn:aws:states:us-east-1:111111111111:activity:a")),
        [schema(
            "Express state machine does not support Activity ARN",
            "/States/S/Resource"
        )]
    );
    assert_eq!(
        express(task("arn:aws:states:::states:startExecution.sync:2")),
        [schema(
            "Express state machine does not support '.sync:2' service integration ",
            "/States/S/Resource"
        )]
    );
    // The same definitions are fine for Standard workflows and when no type is given.
    assert_eq!(
        diags(task("arn:aws:states:::sqs:sendMessage.waitForTaskToken")),
        []
    );
    assert!(
        StateMachine::from_value(task("arn:aws:states:us-east-1:111111111111:activity:a")).is_ok()
    );
}

// ---------------------------------------------------------------- map labels

#[test]
fn map_labels() {
    assert_eq!(
        diags(map_with(json!({"Label": ""}))),
        [d(
            "INVALID_LABEL_NAME",
            "Label must not be empty",
            "/States/S/Label"
        )]
    );
    assert_eq!(
        diags(map_with(json!({"Label": "a b"}))),
        [d(
            "INVALID_LABEL_NAME",
            "Label contains an invalid character: ' '",
            "/States/S/Label"
        )]
    );
    assert_eq!(
        diags(map_with(json!({"Label": "L".repeat(41)}))),
        [d(
            "INVALID_LABEL_NAME",
            "Label must be at most 40 characters long",
            "/States/S/Label"
        )]
    );
    assert_eq!(diags(map_with(json!({"Label": "rows-2026_v1"}))), []);
}

// ---------------------------------------------------------------- warnings

#[test]
fn warnings_do_not_reject() {
    let m = load(one(
        json!({"Type": "Pass", "Parameters": {"id": "$.id"}, "End": true}),
    ));
    let w = &m.warnings()[0];
    assert_eq!(
        (w.severity, w.code, w.location.as_deref()),
        (
            Severity::Warning,
            "NO_DOLLAR",
            Some("/States/S/Parameters/id")
        )
    );
    let m = load(one(
        json!({"Type": "Pass", "Result": {"id.$": "$.id"}, "End": true}),
    ));
    assert_eq!(m.warnings()[0].code, "PASS_RESULT_IS_STATIC");
    assert_eq!(
        m.warnings()[0].location.as_deref(),
        Some("/States/S/Result")
    );
}

// ---------------------------------------------------------------- every problem

#[test]
fn every_problem_is_reported() {
    let report = StateMachine::validate_value(
        &json!({"StartAt": "A", "Bogus": true, "States": {
            "A": {"Type": "Pass", "Next": "Nowhere", "Extra": 1},
            "B": {"Type": "Wait", "Seconds": -1, "End": true},
            "C": {"Type": "Task", "End": true}}}),
        StateMachineType::Standard,
    );
    assert_eq!(
        summarize(&report),
        [
            schema("Field 'Bogus' is not supported", "/"),
            schema("Field 'Extra' is not supported", "/States/A"),
            schema("Minimum value is 0", "/States/B/Seconds"),
            schema("These fields are required: [Resource]", "/States/C"),
            d(
                "MISSING_TRANSITION_TARGET",
                "Missing 'Next' target: Nowhere",
                "/States/A/Next"
            ),
            d(
                "MISSING_TRANSITION_TARGET",
                "State \"B\" is not reachable.",
                "/States/B"
            ),
            d(
                "MISSING_TRANSITION_TARGET",
                "State \"C\" is not reachable.",
                "/States/C"
            ),
        ]
    );
    let err = report.into_result().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidDefinition);
    assert_eq!(err.diagnostics().len(), 7);
    assert_eq!(
        err.to_string(),
        "invalid state machine definition: SCHEMA_VALIDATION_FAILED: Field 'Bogus' is not supported at / (and 6 more)"
    );
}

#[test]
fn validation_report_has_aws_shape() {
    let report = StateMachine::validate("{}", StateMachineType::Standard);
    assert_eq!(
        report.to_json(false),
        json!({"result": "FAIL", "truncated": false, "diagnostics": [{"severity": "ERROR",
            "code": "SCHEMA_VALIDATION_FAILED", "message": "These fields are required: [States, StartAt]", "location": "/"}]})
    );
    let ok = StateMachine::validate(
        r#"{"StartAt": "S", "States": {"S": {"Type": "Succeed"}}}"#,
        StateMachineType::Express,
    );
    assert_eq!(
        ok.to_json(false),
        json!({"result": "OK", "diagnostics": [], "truncated": false})
    );
    assert!(ok.state_machine().is_some());
}

// ---------------------------------------------------------------- owned by other modules, reported here

#[test]
fn template_and_choice_problems_are_located() {
    assert_eq!(
        diags(one(
            json!({"Type": "Pass", "Parameters": {"a": 1, "a.$": "$.b"}, "End": true})
        )),
        [schema(
            "A duplicate field will exist after renaming to strip the \".$\" suffix: 'a'",
            "/States/S/Parameters/a.$"
        )]
    );
    let choice = |rule: Value| json!({"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [rule]}, "D": {"Type": "Succeed"}}});
    assert_eq!(
        diags(choice(
            json!({"Variable": "$.a", "IsNull": true, "IsString": true, "Next": "D"})
        )),
        [schema(
            "Each Choice Rule can only have one comparison operator",
            "/States/C/Choices[0]"
        )]
    );
    assert_eq!(
        diags(choice(
            json!({"And": [{"Variable": "$.a", "IsNull": true, "Next": "D"}], "Next": "D"})
        )),
        [schema(
            "Field 'Next' is not supported",
            "/States/C/Choices[0]/And[0]"
        )]
    );
    assert_eq!(
        diags(one(json!({"Type": "Fail", "ErrorPath": "$.a[*]"}))),
        [schema(
            "Value is not a Reference Path",
            "/States/S/ErrorPath"
        )]
    );
}

// ---------------------------------------------------------------- robustness

/// Every node of every fixture replaced by values of every JSON type: the
/// validator answers (OK or diagnostics) and never panics.
#[test]
fn mutated_fixtures_never_panic() {
    let replacements = [
        json!(null),
        json!(-1),
        json!(1.5),
        json!("$$"),
        json!("{% x %}"),
        json!([]),
        json!({}),
        json!(true),
    ];
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.to_string_lossy().into_owned();
        if !name.ends_with(".json") || name.ends_with(".invalid.json") {
            continue;
        }
        let original: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut pointers = Vec::new();
        let mut stack = vec![(String::new(), &original)];
        while let Some((at, v)) = stack.pop() {
            pointers.push(at.clone());
            match v {
                Value::Object(m) => stack.extend(m.iter().map(|(k, c)| {
                    (
                        format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                        c,
                    )
                })),
                Value::Array(a) => {
                    stack.extend(a.iter().enumerate().map(|(i, c)| (format!("{at}/{i}"), c)))
                }
                _ => {}
            }
        }
        for pointer in &pointers {
            for replacement in &replacements {
                let mut mutated = original.clone();
                if pointer.is_empty() {
                    mutated = replacement.clone();
                } else {
                    *mutated.pointer_mut(pointer).unwrap() = replacement.clone();
                }
                let report = StateMachine::validate_value(&mutated, StateMachineType::Standard);
                if let Some(machine) = report.state_machine() {
                    // What loads also round-trips.
                    let again = StateMachine::from_value(machine.to_value()).unwrap();
                    assert_eq!(again.definition(), machine.definition(), "{name} {pointer}");
                }
            }
        }
    }
}

/// Every prefix of every fixture's text is answered without a panic.
#[test]
fn truncated_text_never_panics() {
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let complete = String::from_utf8_lossy(&bytes).trim_end().len();
        for end in (0..complete).step_by(3) {
            let report = StateMachine::validate_slice(&bytes[..end], StateMachineType::Standard);
            assert!(!report.is_ok(), "{} cut at {end}", path.display());
        }
    }
}
