// Choice rules: compile-time checks and the 39 operators with AWS semantics.

use crate::jsonpath::choice::{ChoiceRule, Condition, MAX_NESTING_DEPTH};
use crate::jsonpath::Env;
use crate::{ErrorName, StatesError};
use serde_json::{json, Value};

const LOC: &str = "/States/C/Choices/0";

fn compile(rule: Value) -> ChoiceRule {
    ChoiceRule::compile(&rule, LOC, false).expect("rule compiles")
}

/// Evaluates `{"Variable": "$.v", op: operand}` against `{"v": value}`.
fn eval(op: &str, operand: Value, value: Value) -> bool {
    try_eval(op, operand, json!({ "v": value })).expect("evaluates")
}

fn try_eval(op: &str, operand: Value, input: Value) -> Result<bool, StatesError> {
    let mut rule = json!({"Variable": "$.v", "Next": "N"});
    rule[op] = operand;
    compile(rule).condition.eval(&Env::data(&input))
}

/// `{op}Path: "$.w"` against `{"v": value, "w": other}`.
fn eval_path(op: &str, value: Value, other: Value) -> bool {
    try_eval(op, json!("$.w"), json!({"v": value, "w": other})).expect("evaluates")
}

fn eval_rule(rule: Value, input: Value) -> Result<bool, StatesError> {
    compile(rule).condition.eval(&Env::data(&input))
}

/// The diagnostics of a rule that must not compile, as (message, location).
fn problems(rule: Value) -> Vec<(String, String)> {
    problems_in(rule, false)
}

fn problems_in(rule: Value, jsonata: bool) -> Vec<(String, String)> {
    let diagnostics = ChoiceRule::compile(&rule, LOC, jsonata).expect_err("rule is rejected");
    diagnostics
        .into_iter()
        .inspect(|d| assert_eq!(d.code, "SCHEMA_VALIDATION_FAILED"))
        .map(|d| (d.message, d.location.unwrap_or_default()))
        .collect()
}

fn one(message: &str, location: &str) -> Vec<(String, String)> {
    vec![(message.to_owned(), location.to_owned())]
}

fn runtime(cause: &str) -> StatesError {
    StatesError::runtime(cause)
}

// ---- string operators ----

#[test]
fn string_equals() {
    assert!(eval("StringEquals", json!("Hello"), json!("Hello")));
    assert!(!eval("StringEquals", json!("Hello"), json!("hello")));
    assert!(!eval("StringEquals", json!("1"), json!(1)));
    assert!(!eval("StringEquals", json!(""), json!(null)));
    assert!(eval_path("StringEqualsPath", json!("a"), json!("a")));
    assert!(!eval_path(
        "StringEqualsPath",
        json!("\t\n"),
        json!("\t\r\n")
    ));
    assert!(!eval_path("StringEqualsPath", json!("a"), json!(["a"])));
}

#[test]
fn string_ordering_is_by_code_points() {
    assert!(eval("StringLessThan", json!("AB"), json!("A")));
    assert!(!eval("StringLessThan", json!("A"), json!("A")));
    assert!(eval("StringLessThan", json!("a"), json!("Z")));
    assert!(eval("StringLessThan", json!("é"), json!("z")));
    assert!(eval("StringGreaterThan", json!("A"), json!("A ")));
    assert!(!eval("StringGreaterThan", json!(""), json!("")));
    assert!(eval("StringLessThanEquals", json!("A"), json!("A")));
    assert!(!eval("StringLessThanEquals", json!("A"), json!("AB")));
    assert!(eval("StringGreaterThanEquals", json!(""), json!("")));
    assert!(eval("StringGreaterThanEquals", json!("A"), json!("AB")));
    assert!(!eval("StringGreaterThanEquals", json!("A"), json!(1)));
    assert!(eval_path("StringLessThanPath", json!("A"), json!("AB")));
    assert!(!eval_path(
        "StringGreaterThanPath",
        json!("AB"),
        json!("ABC")
    ));
    assert!(eval_path(
        "StringLessThanEqualsPath",
        json!("A"),
        json!("AB")
    ));
    assert!(eval_path(
        "StringGreaterThanEqualsPath",
        json!("AB"),
        json!("A")
    ));
    assert!(!eval_path(
        "StringGreaterThanEqualsPath",
        json!(1),
        json!(0)
    ));
}

#[test]
fn string_matches() {
    assert!(eval(
        "StringMatches",
        json!("log-*.txt"),
        json!("log-2024.txt")
    ));
    assert!(eval("StringMatches", json!("log-*.txt"), json!("log-.txt")));
    assert!(!eval(
        "StringMatches",
        json!("log-*.txt"),
        json!("log-2024.txt.gz")
    ));
    assert!(eval("StringMatches", json!("*"), json!("")));
    assert!(eval("StringMatches", json!("a*b*c"), json!("a-b-b-c")));
    assert!(!eval("StringMatches", json!("a*b*c"), json!("acb")));
    assert!(eval("StringMatches", json!("exact"), json!("exact")));
    assert!(!eval("StringMatches", json!("exact"), json!("exactly")));
    assert!(eval("StringMatches", json!(r"a\*"), json!("a*")));
    assert!(!eval("StringMatches", json!(r"a\*"), json!("ab")));
    assert!(eval("StringMatches", json!(r"a\\*"), json!(r"a\anything")));
    assert!(!eval("StringMatches", json!("*"), json!(1)));
}

// ---- numeric operators ----

#[test]
fn numeric_equals() {
    assert!(eval("NumericEquals", json!(0), json!(0.0)));
    assert!(eval("NumericEquals", json!(1.0), json!(1)));
    assert!(eval("NumericEquals", json!(2.22), json!(2.22)));
    assert!(!eval("NumericEquals", json!(1), json!(1.1)));
    assert!(!eval("NumericEquals", json!(0), json!(null)));
    assert!(!eval("NumericEquals", json!(0), json!(false)));
    assert!(!eval("NumericEquals", json!(1), json!(true)));
    assert!(!eval("NumericEquals", json!(0), json!("0")));
    assert!(!eval("NumericEquals", json!(0), json!([0])));
    assert!(!eval("NumericEquals", json!(0), json!({"A": 0})));
    assert!(eval_path("NumericEqualsPath", json!(0), json!(0.0)));
    assert!(!eval_path("NumericEqualsPath", json!(1), json!("1")));
}

#[test]
fn numeric_equality_keeps_big_integer_precision() {
    assert!(!eval(
        "NumericEquals",
        json!(9007199254740992u64),
        json!(9007199254740993u64)
    ));
    assert!(eval("NumericEquals", json!(u64::MAX), json!(u64::MAX)));
    assert!(eval(
        "NumericGreaterThan",
        json!(9007199254740992.0),
        json!(9007199254740993u64)
    ));
    assert!(eval("NumericLessThan", json!(i64::MAX), json!(i64::MIN)));
}

#[test]
fn numeric_ordering() {
    assert!(eval("NumericLessThan", json!(1), json!(0)));
    assert!(!eval("NumericLessThan", json!(0), json!(0.0)));
    assert!(eval("NumericLessThan", json!(1.5), json!(1)));
    assert!(eval("NumericGreaterThan", json!(0), json!(1)));
    assert!(!eval("NumericGreaterThan", json!(1), json!(1)));
    assert!(eval("NumericLessThanEquals", json!(0), json!(0.0)));
    assert!(!eval("NumericLessThanEquals", json!(0), json!(1)));
    assert!(eval("NumericGreaterThanEquals", json!(0), json!(0.0)));
    assert!(!eval("NumericGreaterThanEquals", json!(1), json!(0)));
    assert!(!eval("NumericGreaterThanEquals", json!(0), json!("1")));
    assert!(eval("NumericLessThan", json!(-1), json!(-1.5)));
    assert!(eval_path("NumericLessThanPath", json!(0), json!(1)));
    assert!(eval_path("NumericGreaterThanPath", json!(1), json!(0)));
    assert!(eval_path("NumericLessThanEqualsPath", json!(0.0), json!(0)));
    assert!(eval_path(
        "NumericGreaterThanEqualsPath",
        json!(1),
        json!(0)
    ));
    assert!(!eval_path(
        "NumericGreaterThanEqualsPath",
        json!(null),
        json!(0)
    ));
}

// ---- boolean operators ----

#[test]
fn boolean_equals() {
    assert!(eval("BooleanEquals", json!(true), json!(true)));
    assert!(eval("BooleanEquals", json!(false), json!(false)));
    assert!(!eval("BooleanEquals", json!(true), json!(false)));
    assert!(!eval("BooleanEquals", json!(false), json!(0)));
    assert!(!eval("BooleanEquals", json!(true), json!("true")));
    assert!(!eval("BooleanEquals", json!(false), json!(null)));
    assert!(eval_path("BooleanEqualsPath", json!(true), json!(true)));
    assert!(!eval_path("BooleanEqualsPath", json!(true), json!(1)));
    assert!(!eval_path("BooleanEqualsPath", json!(false), json!("")));
}

// ---- timestamp operators ----

#[test]
fn timestamp_equals() {
    let t = json!("2012-10-09T19:00:55Z");
    assert!(eval(
        "TimestampEquals",
        t.clone(),
        json!("2012-10-09T19:00:55Z")
    ));
    assert!(eval(
        "TimestampEquals",
        t.clone(),
        json!("2012-10-09T21:00:55+02:00")
    ));
    assert!(eval(
        "TimestampEquals",
        t.clone(),
        json!("2012-10-09T19:00:55.000Z")
    ));
    assert!(!eval(
        "TimestampEquals",
        t.clone(),
        json!("2012-10-09T19:00:56Z")
    ));
    assert!(!eval(
        "TimestampEquals",
        t.clone(),
        json!("2012-10-09T19:00:55")
    ));
    assert!(!eval(
        "TimestampEquals",
        t.clone(),
        json!("2023-02-24 12:15:56.832957")
    ));
    assert!(!eval("TimestampEquals", t.clone(), json!("")));
    assert!(!eval("TimestampEquals", t.clone(), json!(1)));
    assert!(!eval("TimestampEquals", t, json!(null)));
    assert!(eval_path(
        "TimestampEqualsPath",
        json!("2012-10-09T19:00:55Z"),
        json!("2012-10-09T19:00:55Z")
    ));
    assert!(!eval_path(
        "TimestampEqualsPath",
        json!("2012-10-09T19:00:55Z"),
        json!("not a time")
    ));
}

#[test]
fn timestamp_ordering() {
    let t = json!("2012-10-09T19:00:55Z");
    let later = json!("2012-10-09T19:00:55.5Z");
    assert!(eval(
        "TimestampLessThan",
        t.clone(),
        json!("2012-10-09T19:00:54Z")
    ));
    assert!(!eval("TimestampLessThan", t.clone(), t.clone()));
    assert!(eval("TimestampGreaterThan", t.clone(), later.clone()));
    assert!(!eval("TimestampGreaterThan", t.clone(), t.clone()));
    assert!(eval("TimestampLessThanEquals", t.clone(), t.clone()));
    assert!(!eval("TimestampLessThanEquals", t.clone(), later.clone()));
    assert!(eval("TimestampGreaterThanEquals", t.clone(), t.clone()));
    assert!(!eval(
        "TimestampGreaterThanEquals",
        t.clone(),
        json!("2012-10-09T19:00:54Z")
    ));
    assert!(eval_path(
        "TimestampLessThanPath",
        json!("2012-10-09T19:00:55Z"),
        json!("2012-10-09T19:00:56Z")
    ));
    assert!(eval_path(
        "TimestampGreaterThanPath",
        json!("2012-10-09T19:00:56Z"),
        json!("2012-10-09T19:00:55Z")
    ));
    assert!(!eval_path(
        "TimestampLessThanEqualsPath",
        json!("2012-10-09T19:00:56Z"),
        json!("2012-10-09T19:00:55Z")
    ));
    assert!(eval_path(
        "TimestampGreaterThanEqualsPath",
        json!("2012-10-09T19:00:55Z"),
        json!("2012-10-09T19:00:55Z")
    ));
}

// ---- type tests ----

#[test]
fn type_tests() {
    assert!(eval("IsNull", json!(true), json!(null)));
    assert!(!eval("IsNull", json!(true), json!(0)));
    assert!(eval("IsNull", json!(false), json!("")));
    assert!(eval("IsNumeric", json!(true), json!(1.5)));
    assert!(!eval("IsNumeric", json!(true), json!("1")));
    assert!(eval("IsNumeric", json!(false), json!(null)));
    assert!(eval("IsString", json!(true), json!("")));
    assert!(!eval("IsString", json!(true), json!(["a"])));
    assert!(eval("IsBoolean", json!(true), json!(false)));
    assert!(eval("IsBoolean", json!(false), json!(0)));
    assert!(!eval("IsBoolean", json!(false), json!(true)));
    assert!(eval(
        "IsTimestamp",
        json!(true),
        json!("2016-08-18T17:33:00Z")
    ));
    assert!(!eval("IsTimestamp", json!(true), json!("2016-08-18")));
    assert!(eval("IsTimestamp", json!(false), json!(1)));
}

#[test]
fn is_present_tolerates_a_missing_variable() {
    assert_eq!(
        try_eval("IsPresent", json!(true), json!({"v": null})),
        Ok(true)
    );
    assert_eq!(try_eval("IsPresent", json!(true), json!({})), Ok(false));
    assert_eq!(try_eval("IsPresent", json!(false), json!({})), Ok(true));
    assert_eq!(
        try_eval("IsPresent", json!(false), json!({"v": 1})),
        Ok(false)
    );
}

#[test]
fn a_missing_variable_is_a_runtime_error() {
    let cause =
        "Invalid path '$.v': The choice state's condition path references an invalid value.";
    assert_eq!(
        try_eval("StringEquals", json!("a"), json!({})),
        Err(runtime(cause))
    );
    assert_eq!(
        try_eval("IsNull", json!(true), json!({})),
        Err(runtime(cause))
    );
    assert_eq!(
        try_eval("NumericEquals", json!(1), json!({"w": 1})),
        Err(runtime(cause))
    );
}

#[test]
fn a_missing_property_on_the_way_is_the_same_runtime_error() {
    let cause =
        "Invalid path '$.a.b.c': The choice state's condition path references an invalid value.";
    let rule = json!({"Variable": "$.a.b.c", "IsNull": true, "Next": "N"});
    assert_eq!(eval_rule(rule.clone(), json!({})), Err(runtime(cause)));
    assert_eq!(eval_rule(rule, json!({"a": 1})), Err(runtime(cause)));
    let present = json!({"Variable": "$.a.b.c", "IsPresent": true, "Next": "N"});
    assert_eq!(eval_rule(present, json!({"a": {}})), Ok(false));
}

#[test]
fn an_undefined_variable_is_the_same_runtime_error() {
    let cause =
        "Invalid path '$nope': The choice state's condition path references an invalid value.";
    let rule = json!({"Variable": "$nope", "IsNull": true, "Next": "N"});
    assert_eq!(eval_rule(rule, json!({})), Err(runtime(cause)));
    let present = json!({"Variable": "$nope", "IsPresent": true, "Next": "N"});
    assert_eq!(eval_rule(present, json!({})), Ok(false));
}

#[test]
fn a_missing_path_operand_is_a_runtime_error() {
    let cause =
        "Invalid path '$.w': The choice state's condition path references an invalid value.";
    assert_eq!(
        try_eval("NumericEqualsPath", json!("$.w"), json!({"v": 1})),
        Err(runtime(cause))
    );
}

#[test]
fn variables_and_context_are_paths() {
    let context = json!({"Execution": {"Name": "run-1"}});
    let mut variables = serde_json::Map::new();
    variables.insert("limit".into(), json!(10));
    let data = json!({"n": 3});
    let env = Env {
        data: &data,
        context: &context,
        variables: &variables,
    };
    let rule = |r: Value| compile(r).condition.eval(&env);
    assert_eq!(
        rule(json!({"Variable": "$$.Execution.Name", "StringEquals": "run-1", "Next": "N"})),
        Ok(true)
    );
    assert_eq!(
        rule(json!({"Variable": "$limit", "NumericGreaterThanPath": "$.n", "Next": "N"})),
        Ok(true)
    );
    assert_eq!(
        rule(json!({"Variable": "$.n", "NumericLessThanPath": "$limit", "Next": "N"})),
        Ok(true)
    );
}

// ---- boolean combinations ----

#[test]
fn and_or_not() {
    let input = json!({"a": 1, "b": "x"});
    let a1 = json!({"Variable": "$.a", "NumericEquals": 1});
    let bx = json!({"Variable": "$.b", "StringEquals": "x"});
    let by = json!({"Variable": "$.b", "StringEquals": "y"});
    assert_eq!(
        eval_rule(json!({"And": [a1, bx], "Next": "N"}), input.clone()),
        Ok(true)
    );
    assert_eq!(
        eval_rule(json!({"And": [a1, by], "Next": "N"}), input.clone()),
        Ok(false)
    );
    assert_eq!(
        eval_rule(json!({"Or": [by, a1], "Next": "N"}), input.clone()),
        Ok(true)
    );
    assert_eq!(
        eval_rule(json!({"Or": [by, by], "Next": "N"}), input.clone()),
        Ok(false)
    );
    assert_eq!(
        eval_rule(json!({"Not": by, "Next": "N"}), input.clone()),
        Ok(true)
    );
    assert_eq!(
        eval_rule(json!({"Not": {"Not": a1}, "Next": "N"}), input),
        Ok(true)
    );
}

#[test]
fn and_or_short_circuit_before_a_missing_path() {
    let missing = json!({"Variable": "$.missing", "IsNull": true});
    let no = json!({"Variable": "$.a", "IsPresent": false});
    let yes = json!({"Variable": "$.a", "IsPresent": true});
    assert_eq!(
        eval_rule(json!({"And": [no, missing], "Next": "N"}), json!({"a": 1})),
        Ok(false)
    );
    assert_eq!(
        eval_rule(json!({"Or": [yes, missing], "Next": "N"}), json!({"a": 1})),
        Ok(true)
    );
    assert!(eval_rule(json!({"Or": [no, missing], "Next": "N"}), json!({"a": 1})).is_err());
}

#[test]
fn nested_condition_compiles_alone() {
    let c = Condition::compile(&json!({"Variable": "$.a", "IsPresent": true}), "/x").unwrap();
    assert_eq!(c.eval(&Env::data(&json!({"a": 0}))), Ok(true));
}

// ---- compile-time problems ----

#[test]
fn next_is_required_on_top_level_rules() {
    assert_eq!(
        problems(json!({"Variable": "$.a", "IsNull": true})),
        one("These fields are required: [Next]", LOC)
    );
}

#[test]
fn next_is_forbidden_on_nested_rules() {
    assert_eq!(
        problems(json!({"Not": {"Variable": "$.a", "IsNull": true, "Next": "X"}, "Next": "N"})),
        one("Field 'Next' is not supported", "/States/C/Choices/0/Not")
    );
}

#[test]
fn one_comparison_operator_per_rule() {
    let msg = "Each Choice Rule can only have one comparison operator";
    assert_eq!(
        problems(json!({"Variable": "$.a", "IsNull": true, "IsString": true, "Next": "N"})),
        one(msg, LOC)
    );
    assert_eq!(
        problems(
            json!({"And": [{"Variable": "$.a", "IsNull": true}], "Not": {"Variable": "$.a", "IsNull": true}, "Next": "N"})
        ),
        one(msg, LOC)
    );
}

#[test]
fn a_rule_needs_an_operator() {
    assert_eq!(
        problems(json!({"Variable": "$.a", "Next": "N"})),
        one(
            "A Choice Rule must have a comparison operator or one of the fields [And, Or, Not]",
            LOC
        )
    );
}

#[test]
fn variable_is_required_for_data_tests() {
    assert_eq!(
        problems(json!({"IsNull": true, "Next": "N"})),
        one("These fields are required: [Variable]", LOC)
    );
}

#[test]
fn variable_must_be_a_path() {
    assert_eq!(
        problems(json!({"Variable": "a.b", "IsNull": true, "Next": "N"})),
        one(
            "The value for the field 'Variable' must be a valid JSONPath",
            "/States/C/Choices/0/Variable"
        )
    );
    assert_eq!(
        problems(json!({"Variable": 3, "IsNull": true, "Next": "N"})),
        one(
            "The value for the field 'Variable' must be a valid JSONPath",
            "/States/C/Choices/0/Variable"
        )
    );
}

#[test]
fn unknown_fields_are_rejected() {
    assert_eq!(
        problems(json!({"Variable": "$.a", "StringEqual": "x", "IsNull": true, "Next": "N"})),
        one("Field 'StringEqual' is not supported", LOC)
    );
    assert_eq!(
        problems(json!({"Variable": "$.a", "StringMatchesPath": "$.b", "Next": "N"})),
        vec![
            (
                "Field 'StringMatchesPath' is not supported".to_owned(),
                LOC.to_owned()
            ),
            (
                "A Choice Rule must have a comparison operator or one of the fields [And, Or, Not]"
                    .to_owned(),
                LOC.to_owned()
            ),
        ]
    );
}

#[test]
fn operand_types_are_checked() {
    let at = |op: &str| format!("{LOC}/{op}");
    let bad =
        |op: &str, operand: Value| problems(json!({"Variable": "$.a", op: operand, "Next": "N"}));
    assert_eq!(
        bad("StringEquals", json!(1)),
        one(
            "The value for the field 'StringEquals' must be a string",
            &at("StringEquals")
        )
    );
    assert_eq!(
        bad("StringMatches", json!(null)),
        one(
            "The value for the field 'StringMatches' must be a string",
            &at("StringMatches")
        )
    );
    assert_eq!(
        bad("NumericEquals", json!("1")),
        one(
            "The value for the field 'NumericEquals' must be a number",
            &at("NumericEquals")
        )
    );
    assert_eq!(
        bad("BooleanEquals", json!("true")),
        one(
            "The value for the field 'BooleanEquals' must be a boolean",
            &at("BooleanEquals")
        )
    );
    assert_eq!(
        bad("IsNull", json!(1)),
        one(
            "The value for the field 'IsNull' must be a boolean",
            &at("IsNull")
        )
    );
    assert_eq!(
        bad("TimestampEquals", json!(0)),
        one(
            "The value for the field 'TimestampEquals' must be a string",
            &at("TimestampEquals")
        )
    );
    assert_eq!(
        bad("TimestampEquals", json!("2016-08-18")),
        one(
            "String does not match RFC3339 timestamp",
            &at("TimestampEquals")
        )
    );
    assert_eq!(
        bad("NumericEqualsPath", json!("x")),
        one(
            "The value for the field 'NumericEqualsPath' must be a valid JSONPath",
            &at("NumericEqualsPath")
        )
    );
    assert_eq!(
        bad("StringEqualsPath", json!(1)),
        one(
            "The value for the field 'StringEqualsPath' must be a valid JSONPath",
            &at("StringEqualsPath")
        )
    );
}

#[test]
fn and_or_need_non_empty_arrays_and_not_an_object() {
    assert_eq!(
        problems(json!({"And": [], "Next": "N"})),
        one(
            "The field 'And' must be a non-empty array of Choice Rules",
            "/States/C/Choices/0/And"
        )
    );
    assert_eq!(
        problems(json!({"Or": {}, "Next": "N"})),
        one(
            "The field 'Or' must be a non-empty array of Choice Rules",
            "/States/C/Choices/0/Or"
        )
    );
    assert_eq!(
        problems(json!({"Not": [], "Next": "N"})),
        one(
            "A Choice Rule must be a JSON object",
            "/States/C/Choices/0/Not"
        )
    );
}

#[test]
fn nested_problems_are_all_reported_with_their_location() {
    assert_eq!(
        problems(
            json!({"And": [{"Variable": "$.a", "IsNull": 1}, {"Variable": "$.b"}], "Next": "N"})
        ),
        vec![
            (
                "The value for the field 'IsNull' must be a boolean".to_owned(),
                "/States/C/Choices/0/And[0]/IsNull".to_owned()
            ),
            (
                "A Choice Rule must have a comparison operator or one of the fields [And, Or, Not]"
                    .to_owned(),
                "/States/C/Choices/0/And[1]".to_owned()
            ),
        ]
    );
}

/// `{"Not": rule}` without `json!` (which would re-serialize `rule` recursively).
fn wrap_in_not(rule: Value) -> Value {
    let mut map = serde_json::Map::new();
    map.insert("Not".into(), rule);
    Value::Object(map)
}

#[test]
fn hostile_nesting_depth_is_a_diagnostic() {
    let mut rule = json!({"Variable": "$.a", "IsNull": true});
    for _ in 0..5_000 {
        rule = wrap_in_not(rule);
    }
    rule["Next"] = json!("N");
    let found: Vec<_> = ChoiceRule::compile(&rule, LOC, false)
        .expect_err("too deep")
        .into_iter()
        .map(|d| (d.message, d.location.unwrap_or_default()))
        .collect();
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].0,
        format!("Choice Rules are nested too deeply (the limit is {MAX_NESTING_DEPTH} levels)")
    );
    // Drop the deep value without recursing 5,000 frames deep.
    let mut v = rule;
    while let Some(inner) = v.get_mut("Not").map(Value::take) {
        v = inner;
    }
}

#[test]
fn nesting_up_to_the_limit_is_accepted() {
    let mut rule = json!({"Variable": "$.a", "IsNull": true});
    for _ in 0..MAX_NESTING_DEPTH - 1 {
        rule = wrap_in_not(rule);
    }
    let mut top = rule.clone();
    top["Next"] = json!("N");
    let expected = (MAX_NESTING_DEPTH - 1) % 2 == 0;
    assert_eq!(eval_rule(top, json!({"a": null})), Ok(expected));
    let mut deeper = wrap_in_not(rule);
    deeper["Next"] = json!("N");
    assert!(ChoiceRule::compile(&deeper, LOC, false).is_err());
}

// ---- rule fields, round trip, JSONata ----

#[test]
fn rule_fields_are_kept() {
    let r = compile(
        json!({"Variable": "$.a", "IsNull": true, "Next": "N", "Comment": "c", "Assign": {"x": 1}}),
    );
    assert_eq!(r.next, "N");
    assert_eq!(r.comment.as_deref(), Some("c"));
    assert!(r.assign.is_some());
    assert_eq!(r.output, None);
}

#[test]
fn to_value_round_trips() {
    for rule in [
        json!({"Variable": "$.a", "TimestampEquals": "2012-10-09T19:00:55Z", "Next": "N"}),
        json!({"Not": {"Variable": "$$.Execution.Name", "StringMatches": "a\\*b*", "Comment": "inner"}, "Next": "N", "Comment": "outer"}),
        json!({"And": [{"Variable": "$.a", "NumericEquals": 1.5}, {"Or": [{"Variable": "$.b", "IsPresent": false}]}], "Next": "N", "Assign": {"x.$": "$.a"}}),
    ] {
        assert_eq!(compile(rule.clone()).to_value(), rule);
    }
    let jsonata = json!({"Condition": "{% $states.input.a > 1 %}", "Next": "N", "Output": {"o": 1}, "Comment": "c"});
    let r = ChoiceRule::compile(&jsonata, LOC, true).unwrap();
    assert_eq!(r.to_value(), jsonata);
}

#[test]
fn jsonata_conditions_are_kept_and_not_evaluated_yet() {
    let r = ChoiceRule::compile(&json!({"Condition": "{% $x %}", "Next": "N"}), LOC, true).unwrap();
    assert!(r.condition.is_jsonata());
    let err = r.condition.eval(&Env::data(&json!({}))).unwrap_err();
    assert_eq!(err.name, ErrorName::QueryEvaluationError);
    assert_eq!(
        err.cause_str(),
        "JSONata is not supported yet: cannot evaluate the Condition \"{% $x %}\""
    );
    let literal = ChoiceRule::compile(&json!({"Condition": true, "Next": "N"}), LOC, true).unwrap();
    assert_eq!(literal.condition.eval(&Env::data(&json!({}))), Ok(true));
}

#[test]
fn jsonata_rule_problems() {
    assert_eq!(
        problems_in(json!({"Next": "N"}), true),
        one("These fields are required: [Condition]", LOC)
    );
    assert_eq!(
        problems_in(json!({"Condition": "$.a", "Variable": "$.a", "Next": "N"}), true),
        vec![
            ("Field 'Variable' is not supported".to_owned(), LOC.to_owned()),
            ("The value for the field 'Condition' must be a boolean or a JSONata expression enclosed in {% %}".to_owned(), format!("{LOC}/Condition")),
        ]
    );
    assert_eq!(
        problems(json!({"Condition": true, "Next": "N"})),
        vec![
            ("The QueryLanguage is set to 'JSONPath', but field 'Condition' is only supported for the 'JSONata' QueryLanguage".to_owned(), LOC.to_owned()),
            ("A Choice Rule must have a comparison operator or one of the fields [And, Or, Not]".to_owned(), LOC.to_owned()),
        ]
    );
}

// ---- properties ----

mod properties {
    use super::*;
    use crate::jsonpath::choice::compare_numbers;
    use proptest::prelude::*;
    use std::cmp::Ordering;

    fn number(v: Value) -> serde_json::Number {
        match v {
            Value::Number(n) => n,
            other => panic!("not a number: {other}"),
        }
    }

    /// Escapes `*` and `\` so the text matches itself literally.
    fn literal(text: &str) -> String {
        text.replace('\\', "\\\\").replace('*', "\\*")
    }

    proptest! {
        #[test]
        fn a_pattern_with_a_star_in_place_of_any_substring_matches(
            s in "[a-c*\\\\]{0,12}", cut in any::<(prop::sample::Index, prop::sample::Index)>()
        ) {
            let chars: Vec<char> = s.chars().collect();
            let (mut i, mut j) = (cut.0.index(chars.len() + 1), cut.1.index(chars.len() + 1));
            if i > j { std::mem::swap(&mut i, &mut j); }
            let prefix: String = chars[..i].iter().collect();
            let suffix: String = chars[j..].iter().collect();
            let pattern = format!("{}*{}", literal(&prefix), literal(&suffix));
            prop_assert!(eval("StringMatches", json!(pattern), json!(s)));
            prop_assert!(eval("StringMatches", json!(literal(&s)), json!(s)));
        }

        #[test]
        fn integers_compare_like_integers(a in any::<i64>(), b in any::<u64>()) {
            let expected = i128::from(a).cmp(&i128::from(b));
            prop_assert_eq!(compare_numbers(&number(json!(a)), &number(json!(b))), Some(expected));
        }

        #[test]
        fn an_integer_and_a_float_compare_exactly(a in -1_000_000i64..1_000_000, f in -1.0e6f64..1.0e6) {
            // Both are exact in f64 here, so f64 comparison is the reference.
            let expected = (a as f64).partial_cmp(&f).unwrap_or(Ordering::Equal);
            prop_assert_eq!(compare_numbers(&number(json!(a)), &number(json!(f))), Some(expected));
        }
    }
}
