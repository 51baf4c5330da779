//! Generators of hostile inputs for stepfn and the properties every input
//! must keep: shared by the `stepfn-fuzz` campaign runner (fuzz/src/main.rs)
//! and the property tests of tests/hardening.rs (which include this file), so
//! that the CI's properties and a long campaign check the same things.
//!
//! Each target is a strategy (`*_case`) and a check (`check_*`) returning a
//! proptest failure instead of panicking where it can.

#![allow(dead_code)] // each includer uses a part

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{json, Map, Number, Value};
use std::time::{Duration, SystemTime};
use stepfn::jsonpath::{Condition, Env, IntrinsicCall, Path};
use stepfn::{sync_task_fn, Limits, Outcome, StateMachine, VirtualClock};

/// Default limits with a transition budget of `transitions`.
pub fn fuel(transitions: u64) -> Limits {
    let mut limits = Limits::default();
    limits.max_transitions = Some(transitions);
    limits
}

// ---------------------------------------------------------------------------
// arbitrary values

pub fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        Just(json!(0)),
        Just(json!(-1)),
        Just(json!(1.5)),
        Just(json!(-2.5)),
        Just(json!(2147483647)),
        Just(json!(2147483648u64)),
        Just(json!(-2147483649i64)),
        Just(json!(i64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(u64::MAX)),
        Just(json!(1e308)),
        Just(json!(-1e308)),
        Just(json!(5e-324)),
        Just(json!(99999999999u64)),
    ]
}

pub fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,12}",
        "[a-c{}\\\\' ,.*$]{0,8}",
        Just(String::new()),
        Just("2016-08-18T17:33:00Z".to_owned()),
        Just("9999-12-31T23:59:59.999999999+23:59".to_owned()),
        Just("0000-01-01T00:00:00-23:59".to_owned()),
        Just("2024-02-29T23:59:60Z".to_owned()),
        Just("MD5".to_owned()),
        Just("SHA-512".to_owned()),
        Just("{}".to_owned()),
        Just("[1,2]".to_owned()),
        Just("\u{1F600}é\u{0}".to_owned()),
        Just("aGVsbG8=".to_owned()),
        Just("====".to_owned()),
    ]
}

pub fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        string().prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

pub fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a".to_owned()),
        Just("b".to_owned()),
        Just("x".to_owned()),
        "\\PC{0,4}"
    ]
}

/// Data with the fields the generated paths name: `a`, `b`, `x`, `rest`
/// anything; `arr`, `str`, `num`, `obj` of their type.
pub fn data() -> impl Strategy<Value = Value> {
    (
        (json_value(), json_value(), json_value(), json_value()),
        prop::collection::vec(json_value(), 0..8),
        string(),
        prop_oneof![2 => (0..20u64).prop_map(Value::from), 1 => number()],
        prop::collection::vec((key(), json_value()), 0..4),
    )
        .prop_map(|((a, b, x, rest), arr, str, num, obj)| {
            let obj: Map<String, Value> = obj.into_iter().collect();
            json!({"a": a, "b": b, "x": x, "rest": rest, "arr": arr, "str": str, "num": num, "obj": obj})
        })
}

// ---------------------------------------------------------------------------
// paths

pub fn path_text() -> impl Strategy<Value = String> {
    let root = prop_oneof![Just("$"), Just("$$"), Just("$v")];
    let step = prop_oneof![
        Just(".a".to_owned()),
        Just(".b".to_owned()),
        Just(".x".to_owned()),
        Just("['a']".to_owned()),
        Just("[0]".to_owned()),
        Just("[-1]".to_owned()),
        Just("[*]".to_owned()),
        Just("..a".to_owned()),
        Just("..*".to_owned()),
        Just(".*".to_owned()),
        Just("[0,1]".to_owned()),
        Just("['a','b']".to_owned()),
        Just("[?(@.a > 1)]".to_owned()),
        Just("[?(@.a == 'x' || @.b < -1.5)]".to_owned()),
        Just("[?(@ > 1)]".to_owned()),
        Just("[?($.x == @.a)]".to_owned()),
        Just("[2147483647]".to_owned()),
        Just("[-2147483648]".to_owned()),
        Just("[9223372036854775807]".to_owned()),
        Just("[-9223372036854775808]".to_owned()),
        Just("[99999999999999999999]".to_owned()),
        Just("[0:2147483647]".to_owned()),
        Just("[-2147483648:]".to_owned()),
        Just("[:-2147483648]".to_owned()),
        Just("[::2147483647]".to_owned()),
        Just("[1:0]".to_owned()),
        Just("[-1:]".to_owned()),
        Just("[:-1]".to_owned()),
        Just("[::1]".to_owned()),
        Just("[2:1:1]".to_owned()),
        Just("[-5:-2147483648:3]".to_owned()),
        "[\\[\\]().*?@,:'\"$0-9a\\- ]{0,6}",
    ];
    (root, prop::collection::vec(step, 0..5)).prop_map(|(r, s)| format!("{r}{}", s.concat()))
}

/// Paths: any path text that parses evaluates (and, as a Reference Path,
/// writes) without panicking.
pub fn check_path((text, data, var): (String, Value, Value)) -> Result<(), TestCaseError> {
    if let Ok(path) = Path::parse(&text) {
        let mut vars = Map::new();
        vars.insert("v".to_owned(), var);
        let context = json!({"Execution": {"Id": "x"}});
        let env = Env {
            data: &data,
            context: &context,
            variables: &vars,
        };
        let _ = path.eval(&env);
        if let Some(reference) = path.as_reference() {
            let mut target = data.clone();
            let _ = reference.write(&mut target, json!(1));
        }
    }
    Ok(())
}

/// The inputs of the check above.
pub fn path_case() -> impl Strategy<Value = (String, Value, Value)> {
    (path_text(), data(), json_value())
}

// ---------------------------------------------------------------------------
// intrinsic functions

pub fn literal_arg() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0".to_owned()),
        Just("1".to_owned()),
        Just("-1".to_owned()),
        Just("2.5".to_owned()),
        Just("-2.5".to_owned()),
        Just("1000".to_owned()),
        Just("2147483647".to_owned()),
        Just("-2147483648".to_owned()),
        Just("9223372036854775807".to_owned()),
        Just("-9223372036854775808".to_owned()),
        Just("18446744073709551615".to_owned()),
        Just("1e308".to_owned()),
        Just("-1e308".to_owned()),
        Just("9.223372036854776e18".to_owned()),
        Just("true".to_owned()),
        Just("null".to_owned()),
        Just("'MD5'".to_owned()),
        Just("'SHA-256'".to_owned()),
        Just("'{}'".to_owned()),
        Just("'{} and {}'".to_owned()),
        Just("'\\{}'".to_owned()),
        Just("','".to_owned()),
        Just("''".to_owned()),
        Just("'\\''".to_owned()),
        Just("'\u{1F600}é'".to_owned()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:e}")),
        "[a-z,{}. ]{0,6}".prop_map(|s| format!("'{s}'")),
    ]
}

pub fn path_arg() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("$".to_owned()),
        Just("$.a".to_owned()),
        Just("$.b".to_owned()),
        Just("$.x".to_owned()),
        Just("$.rest".to_owned()),
        Just("$.arr".to_owned()),
        Just("$.arr".to_owned()),
        Just("$.str".to_owned()),
        Just("$.str".to_owned()),
        Just("$.num".to_owned()),
        Just("$.num".to_owned()),
        Just("$.obj".to_owned()),
        Just("$.a[*]".to_owned()),
        Just("$$".to_owned()),
        Just("$v".to_owned()),
    ]
}

/// The 39 Choice comparison operators, as AWS spells them.
pub const OPERATORS: [&str; 39] = [
    "StringEquals",
    "StringEqualsPath",
    "StringLessThan",
    "StringLessThanPath",
    "StringGreaterThan",
    "StringGreaterThanPath",
    "StringLessThanEquals",
    "StringLessThanEqualsPath",
    "StringGreaterThanEquals",
    "StringGreaterThanEqualsPath",
    "StringMatches",
    "NumericEquals",
    "NumericEqualsPath",
    "NumericLessThan",
    "NumericLessThanPath",
    "NumericGreaterThan",
    "NumericGreaterThanPath",
    "NumericLessThanEquals",
    "NumericLessThanEqualsPath",
    "NumericGreaterThanEquals",
    "NumericGreaterThanEqualsPath",
    "BooleanEquals",
    "BooleanEqualsPath",
    "TimestampEquals",
    "TimestampEqualsPath",
    "TimestampLessThan",
    "TimestampLessThanPath",
    "TimestampGreaterThan",
    "TimestampGreaterThanPath",
    "TimestampLessThanEquals",
    "TimestampLessThanEqualsPath",
    "TimestampGreaterThanEquals",
    "TimestampGreaterThanEqualsPath",
    "IsNull",
    "IsPresent",
    "IsNumeric",
    "IsString",
    "IsBoolean",
    "IsTimestamp",
];

/// The 18 intrinsic functions with their least and most argument counts.
pub const FUNCTIONS: [(&str, usize, Option<usize>); 18] = [
    ("States.Format", 1, None),
    ("States.StringToJson", 1, Some(1)),
    ("States.JsonToString", 1, Some(1)),
    ("States.Array", 0, None),
    ("States.ArrayPartition", 2, Some(2)),
    ("States.ArrayContains", 2, Some(2)),
    ("States.ArrayRange", 3, Some(3)),
    ("States.ArrayGetItem", 2, Some(2)),
    ("States.ArrayLength", 1, Some(1)),
    ("States.ArrayUnique", 1, Some(1)),
    ("States.Base64Encode", 1, Some(1)),
    ("States.Base64Decode", 1, Some(1)),
    ("States.Hash", 2, Some(2)),
    ("States.JsonMerge", 3, Some(3)),
    ("States.MathRandom", 2, Some(3)),
    ("States.MathAdd", 2, Some(2)),
    ("States.StringSplit", 2, Some(2)),
    ("States.UUID", 0, Some(0)),
];

/// A call with the function's own number of arguments (most of the time).
pub fn call_with(arg: BoxedStrategy<String>) -> impl Strategy<Value = String> {
    (
        0..FUNCTIONS.len(),
        prop::collection::vec(arg, 4),
        0..10usize,
    )
        .prop_map(|(f, args, n)| {
            let (name, lo, hi) = FUNCTIONS[f];
            // `hi` None: any number of arguments from `lo` on
            let count = match hi {
                Some(hi) => lo + n % (hi - lo + 1),
                None => lo + n % 3,
            };
            let args: Vec<String> = args.into_iter().cycle().take(count).collect();
            let args = match (name, args.split_first()) {
                // most Format calls get a template with a fitting placeholder count
                ("States.Format", Some((_, rest))) if n < 7 => {
                    let template = vec!["{}"; rest.len()].join("-");
                    format!(
                        "'{template}'{}{}",
                        if rest.is_empty() { "" } else { ", " },
                        rest.join(", ")
                    )
                }
                _ => args.join(", "),
            };
            format!("{name}({args})")
        })
}

pub fn call_text() -> impl Strategy<Value = String> {
    let arg = prop_oneof![literal_arg(), path_arg()].boxed();
    call_with(arg).prop_recursive(2, 8, 3, |inner| {
        call_with(prop_oneof![2 => literal_arg(), 2 => path_arg(), 1 => inner].boxed())
    })
}

/// Intrinsic calls: any call that parses evaluates to a value or to
/// `States.IntrinsicFailure`/`States.Runtime`.
pub fn check_intrinsic((text, data, var): (String, Value, Value)) -> Result<(), TestCaseError> {
    if let Ok(call) = IntrinsicCall::parse(&text) {
        let mut vars = Map::new();
        vars.insert("v".to_owned(), var);
        let context = json!({"Execution": {"Id": "x"}});
        let env = Env {
            data: &data,
            context: &context,
            variables: &vars,
        };
        if let Err(e) = call.eval(&env) {
            let name = e.name.as_str();
            prop_assert!(
                name == "States.IntrinsicFailure" || name == "States.Runtime",
                "{name}"
            );
        }
    }
    Ok(())
}

/// The inputs of the check above.
pub fn intrinsic_case() -> impl Strategy<Value = (String, Value, Value)> {
    (call_text(), data(), json_value())
}

// ---------------------------------------------------------------------------
// choice rules

pub fn choice_rule() -> impl Strategy<Value = Value> {
    let operators: Vec<&'static str> = OPERATORS.to_vec();
    let operand = prop_oneof![
        json_value(),
        path_arg().prop_map(Value::String),
        Just(json!("2016-08-18T17:33:00Z")),
        Just(json!("*a\\*b*")),
    ];
    let test =
        (path_arg(), prop::sample::select(operators), operand).prop_map(|(var, op, operand)| {
            let operand = if op.starts_with("Is") {
                Value::Bool(operand.as_bool().unwrap_or(true))
            } else {
                operand
            };
            json!({"Variable": var, op: operand})
        });
    test.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..3).prop_map(|v| json!({"And": v})),
            prop::collection::vec(inner.clone(), 1..3).prop_map(|v| json!({"Or": v})),
            inner.prop_map(|v| json!({"Not": v})),
        ]
    })
}

/// Choice rules: any rule that compiles evaluates to a boolean or to
/// `States.Runtime`.
pub fn check_choice((rule, data, var): (Value, Value, Value)) -> Result<(), TestCaseError> {
    if let Ok(condition) = Condition::compile(&rule, "/States/C/Choices[0]") {
        let mut vars = Map::new();
        vars.insert("v".to_owned(), var);
        let context = json!({"Execution": {"Id": "x"}});
        let env = Env {
            data: &data,
            context: &context,
            variables: &vars,
        };
        if let Err(e) = condition.eval(&env) {
            prop_assert_eq!(e.name.as_str(), "States.Runtime");
        }
    }
    Ok(())
}

/// The inputs of the check above.
pub fn choice_case() -> impl Strategy<Value = (Value, Value, Value)> {
    (choice_rule(), data(), json_value())
}

// ---------------------------------------------------------------------------
// whole executions

pub const LAMBDA: &str = "arn:aws:lambda:us-east-1:123456789012:function:f";

/// Machines that between them use every state type and data-flow field,
/// reading the typed fields of [`data`].
pub fn machines() -> &'static [StateMachine] {
    static MACHINES: std::sync::OnceLock<Vec<StateMachine>> = std::sync::OnceLock::new();
    MACHINES.get_or_init(|| {
        [
            // data flow and intrinsics
            json!({"StartAt": "P", "States": {
                "P": {"Type": "Pass", "InputPath": "$", "Parameters": {
                    "len.$": "States.ArrayLength($.arr)",
                    "item.$": "States.ArrayGetItem($.arr, $.num)",
                    "sum.$": "States.MathAdd($.num, $.num)",
                    "rand.$": "States.MathRandom($.num, 100)",
                    "range.$": "States.ArrayRange($.num, 10, 3)",
                    "parts.$": "States.ArrayPartition($.arr, $.num)",
                    "split.$": "States.StringSplit($.str, ',')",
                    "fmt.$": "States.Format('{} and {}', $.a, $.obj)",
                    "json.$": "States.JsonToString($)",
                    "back.$": "States.StringToJson($.str)",
                    "hash.$": "States.Hash($.str, 'SHA-256')",
                    "b64.$": "States.Base64Decode(States.Base64Encode($.str))",
                    "merged.$": "States.JsonMerge($.obj, $.b, false)",
                    "unique.$": "States.ArrayUnique($.arr)",
                    "has.$": "States.ArrayContains($.arr, $.a)",
                    "all.$": "$..a",
                    "ctx.$": "$$.Execution.Input.x"},
                  "ResultPath": "$.out", "OutputPath": "$.out", "Assign": {"kept.$": "$.out.len"},
                  "Next": "Q"},
                "Q": {"Type": "Pass", "Parameters": {"k.$": "$kept"}, "ResultPath": "$.a.b.c", "End": true}}}),
            // a task with every data-flow field, retries and catchers
            json!({"StartAt": "T", "States": {
                "T": {"Type": "Task", "Resource": LAMBDA, "InputPath": "$.obj",
                  "Parameters": {"in.$": "$", "x": 1},
                  "ResultSelector": {"r.$": "$", "first.$": "$[0]"},
                  "ResultPath": "$.res", "OutputPath": "$",
                  "TimeoutSecondsPath": "$.num", "HeartbeatSecondsPath": "$.num",
                  "Retry": [
                    {"ErrorEquals": ["Custom"], "IntervalSeconds": 99999999, "MaxAttempts": 3,
                     "BackoffRate": 1e300, "JitterStrategy": "FULL"},
                    {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 2,
                     "MaxDelaySeconds": 31622400}],
                  "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "F"}],
                  "Next": "S"},
                "F": {"Type": "Fail", "ErrorPath": "$.err.Error", "CausePath": "$.err.Cause"},
                "S": {"Type": "Succeed"}}}),
            // choice, wait
            json!({"StartAt": "C", "States": {
                "C": {"Type": "Choice", "Choices": [
                    {"Variable": "$.num", "NumericGreaterThan": 1e300, "Next": "W1"},
                    {"And": [{"Variable": "$.a", "IsPresent": true},
                             {"Variable": "$.a", "NumericLessThanPath": "$.num"}], "Next": "W1"},
                    {"Variable": "$.str", "TimestampLessThan": "2016-08-18T17:33:00Z", "Next": "W2"},
                    {"Variable": "$.str", "IsTimestamp": true, "Next": "W2"},
                    {"Variable": "$.str", "StringMatches": "*a*\\*", "Next": "W3"},
                    {"Not": {"Variable": "$.x", "StringGreaterThanEqualsPath": "$.str"}, "Next": "W3"}],
                  "Default": "W4"},
                "W1": {"Type": "Wait", "SecondsPath": "$.num", "Next": "W4"},
                "W2": {"Type": "Wait", "TimestampPath": "$.str", "Next": "W4"},
                "W3": {"Type": "Wait", "Seconds": 99999999, "Next": "W4"},
                "W4": {"Type": "Wait", "Timestamp": "2016-08-18T17:33:00+23:59", "End": true}}}),
            // map and parallel
            json!({"StartAt": "M", "States": {
                "M": {"Type": "Map", "ItemsPath": "$.arr", "MaxConcurrencyPath": "$.num",
                  "ItemSelector": {"v.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index", "s.$": "$.str"},
                  "ItemProcessor": {"StartAt": "T", "States": {
                    "T": {"Type": "Task", "Resource": LAMBDA, "End": true}}},
                  "ResultSelector": {"n.$": "States.ArrayLength($)"},
                  "ResultPath": "$.mapped", "Next": "P"},
                "P": {"Type": "Parallel", "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": LAMBDA,
                      "Assign": {"seen.$": "$"}, "End": true}}},
                    {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}}],
                  "ResultPath": "$.branches", "End": true}}}),
            // a distributed map with tolerated failures
            json!({"StartAt": "D", "States": {
                "D": {"Type": "Map", "ItemsPath": "$.arr",
                  "ToleratedFailureCountPath": "$.num", "ToleratedFailurePercentagePath": "$.num",
                  "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA, "End": true}}},
                  "End": true}}}),
            // a callback task: answered through the callback, or not at all
            json!({"StartAt": "T", "States": {
                "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                  "Parameters": {"token.$": "$$.Task.Token", "in.$": "$"},
                  "TimeoutSecondsPath": "$.num", "HeartbeatSeconds": 5,
                  "Retry": [{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 1}],
                  "Catch": [{"ErrorEquals": ["Custom"], "Next": "S"}], "End": true},
                "S": {"Type": "Succeed"}}}),
        ]
        .into_iter()
        .map(|d| StateMachine::from_value(d).expect("valid machine"))
        .collect()
    })
}

/// A task answer: a result, or an error raised with a name and cause.
pub fn task_answer() -> impl Strategy<Value = Result<Value, (String, String)>> {
    prop_oneof![
        3 => json_value().prop_map(Ok),
        1 => (prop_oneof![Just("Custom".to_owned()), Just("States.Timeout".to_owned()), "\\PC{1,6}"], "\\PC{0,8}")
            .prop_map(Err),
    ]
}

pub fn execute(
    machine: &StateMachine,
    input: Value,
    answers: Vec<Result<Value, (String, String)>>,
) -> Outcome {
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let executor = sync_task_fn(move |request| {
        let i = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let answer = match answers.get(i % answers.len().max(1)) {
            Some(Ok(v)) => Ok(v.clone()),
            Some(Err((name, cause))) => {
                Err(stepfn::StatesError::new(name.as_str(), cause.as_str()))
            }
            None => Ok(Value::Null),
        };
        let Some(callback) = request.callback() else {
            return answer;
        };
        // a callback task: answered late through its token, or (every
        // third call) never, to time out
        if i % 3 != 2 {
            let _ = callback.send_heartbeat();
            let _ = match answer {
                Ok(v) => callback.send_success(v),
                Err(e) => callback.send_failure(Some(e.name.as_str()), e.cause.as_deref()),
            };
        }
        Ok(json!({}))
    });
    futures::executor::block_on(
        machine
            .execution()
            .with_clock(VirtualClock::starting_at(
                SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            ))
            .with_limits(fuel(10_000))
            .with_history(true)
            .run(&executor, input),
    )
}

/// Whole executions with hostile task answers end SUCCEEDED with a
/// serializable output or FAILED with an error, with a history.
pub fn check_execution(
    (which, input, answers): (usize, Value, Answers),
) -> Result<(), TestCaseError> {
    let outcome = execute(&machines()[which], input, answers);
    match outcome.status {
        stepfn::Status::Succeeded => {
            let output = outcome
                .output
                .as_ref()
                .expect("a succeeded execution has an output");
            let text = serde_json::to_string(output).expect("serializable");
            prop_assert!(serde_json::from_str::<Value>(&text).is_ok(), "{}", text);
        }
        stepfn::Status::Failed => {
            prop_assert!(outcome.output.is_none());
            prop_assert!(outcome.error.is_some(), "{:?}", outcome);
        }
        other => prop_assert!(false, "unexpected status {:?}", other),
    }
    let history = outcome.history.expect("history");
    prop_assert!(!history.is_empty());
    for event in &history {
        let _ = serde_json::to_string(&event.to_json()).expect("history serializes");
    }
    Ok(())
}

/// The inputs of the check above.
/// An answer list for [`check_execution`].
pub type Answers = Vec<Result<Value, (String, String)>>;

pub fn execution_case() -> impl Strategy<Value = (usize, Value, Answers)> {
    (
        0..6usize,
        prop_oneof![3 => data(), 1 => json_value()],
        prop::collection::vec(task_answer(), 0..4),
    )
}

/// Nothing the embedder gives is lost: an input passed through every kind
/// of state, and a task result passed back, come out unchanged (big
/// integers, float bits, key order, unicode).
pub fn check_pass_through((input, result): (Value, Value)) -> Result<(), TestCaseError> {
    static ECHO: std::sync::OnceLock<StateMachine> = std::sync::OnceLock::new();
    let machine = ECHO.get_or_init(|| StateMachine::from_value(json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Next": "W"},
        "W": {"Type": "Wait", "Seconds": 0, "Next": "C"},
        "C": {"Type": "Choice", "Choices": [{"Variable": "$", "IsNull": false, "Next": "Par"}], "Default": "Par"},
        "Par": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}}],
                "OutputPath": "$[0]", "Next": "M"},
        "M": {"Type": "Map", "ItemsPath": "$$.Execution.Input", "ItemSelector": {"v.$": "$$.Execution.Input"},
              "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}},
              "ResultPath": null, "Next": "T"},
        "T": {"Type": "Task", "Resource": LAMBDA, "ResultPath": "$", "Next": "S"},
        "S": {"Type": "Succeed"}}})).expect("valid machine"));
    // the Map needs an array: wrap the input in one
    let input = json!([input]);
    let outcome = execute(machine, input.clone(), vec![Ok(result.clone())]);
    prop_assert_eq!(outcome.output, Some(result));
    let outcome = execute(machine, input.clone(), vec![Ok(input.clone())]);
    prop_assert_eq!(outcome.output, Some(input));
    Ok(())
}

/// The inputs of the check above.
pub fn pass_through_case() -> impl Strategy<Value = (Value, Value)> {
    (json_value(), json_value())
}

// ---------------------------------------------------------------------------
// definitions

/// A definition using every state type and most fields, to mutate.
pub fn base_definition() -> Value {
    json!({"Comment": "c", "StartAt": "P", "TimeoutSeconds": 100, "States": {
        "P": {"Type": "Pass", "InputPath": "$", "Parameters": {"a.$": "$.a", "f.$": "States.Format('{}', $.a)", "l": [1]},
              "ResultPath": "$.p", "OutputPath": "$", "Assign": {"v.$": "$.a"}, "Next": "T"},
        "T": {"Type": "Task", "Resource": LAMBDA, "Parameters": {"x.$": "$"}, "ResultSelector": {"r.$": "$"},
              "ResultPath": "$.t", "TimeoutSeconds": 10, "HeartbeatSeconds": 5,
              "Retry": [{"ErrorEquals": ["E"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 2.0,
                         "MaxDelaySeconds": 10, "JitterStrategy": "FULL"}],
              "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.e", "Next": "F"}], "Next": "C"},
        "C": {"Type": "Choice", "Choices": [
                {"Variable": "$.a", "NumericGreaterThan": 1, "Next": "W"},
                {"And": [{"Variable": "$.s", "StringMatches": "a*"}, {"Not": {"Variable": "$.b", "IsNull": true}}], "Next": "M"}],
              "Default": "Par"},
        "W": {"Type": "Wait", "SecondsPath": "$.a", "Next": "M"},
        "M": {"Type": "Map", "ItemsPath": "$.l", "MaxConcurrency": 2, "ItemSelector": {"i.$": "$$.Map.Item.Value"},
              "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}},
              "ResultPath": "$.m", "Next": "Par"},
        "Par": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}],
                "ResultPath": "$.par", "Next": "S"},
        "F": {"Type": "Fail", "Error": "X", "Cause": "y"},
        "S": {"Type": "Succeed"}}})
}

/// Every JSON pointer into `value`.
pub fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                pointers(v, p.clone(), out);
                out.push(p);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let p = format!("{at}/{i}");
                pointers(v, p.clone(), out);
                out.push(p);
            }
        }
        _ => {}
    }
}

/// A definition value: mostly the kinds of values definitions hold.
pub fn definition_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        json_value(),
        path_text().prop_map(Value::String),
        call_text().prop_map(Value::String),
        Just(json!("P")),
        Just(json!("Nope")),
        Just(json!("States.ALL")),
        Just(json!(LAMBDA)),
        Just(json!("arn:aws:states:::lambda:invoke")),
        Just(json!({"Type": "Pass", "End": true})),
        Just(json!({"StartAt": "X", "States": {"X": {"Type": "Wait", "Seconds": 1, "End": true}}})),
    ]
}

/// Mutated definitions load or fail with diagnostics; a loaded one writes
/// back to a definition that loads, and runs.
pub fn check_mutated_definition(
    (edits, input): (Vec<(prop::sample::Index, Value, u8)>, Value),
) -> Result<(), TestCaseError> {
    let mut definition = base_definition();
    for (index, value, how) in edits {
        let mut all = Vec::new();
        pointers(&definition, String::new(), &mut all);
        let at = &all[index.index(all.len())];
        let (parent, last) = at.rsplit_once('/').expect("a pointer");
        match (how, definition.pointer_mut(parent)) {
            (0, Some(Value::Object(map))) => {
                map.remove(&last.replace("~1", "/").replace("~0", "~"));
            }
            (1, Some(Value::Object(map))) => {
                map.insert(format!("{last}Path"), value);
            }
            _ => {
                if let Some(slot) = definition.pointer_mut(at) {
                    *slot = value;
                }
            }
        }
    }
    let _ =
        StateMachine::validate_value(&definition, stepfn::definition::StateMachineType::Express);
    let loaded = StateMachine::from_value(definition);
    if let Ok(machine) = loaded {
        let written = machine.to_value();
        prop_assert!(
            StateMachine::from_value(written.clone()).is_ok(),
            "{}",
            written
        );
        let _ = execute(&machine, input, vec![Ok(json!({"a": 1}))]);
    }
    Ok(())
}

/// The inputs of the check above.
/// Edits for [`check_mutated_definition`]: where, what, how.
pub type Edits = Vec<(prop::sample::Index, Value, u8)>;

pub fn mutated_definition_case() -> impl Strategy<Value = (Edits, Value)> {
    (
        prop::collection::vec(
            (any::<prop::sample::Index>(), definition_value(), 0..3u8),
            1..4,
        ),
        data(),
    )
}

/// Any text, and a valid definition cut anywhere or with a character
/// swapped in, loads or fails with diagnostics.
pub fn check_definition_text(
    (text, cut, insert): (String, prop::sample::Index, String),
) -> Result<(), TestCaseError> {
    let _ = StateMachine::from_str(&text);
    let _ = StateMachine::validate(&text, stepfn::definition::StateMachineType::Standard);
    let full = base_definition().to_string();
    let mut at = cut.index(full.len() + 1);
    while !full.is_char_boundary(at) {
        at -= 1;
    }
    let _ = StateMachine::from_str(&full[..at]);
    let _ = StateMachine::from_slice(&full.as_bytes()[..at]);
    let spliced = format!("{}{insert}{}", &full[..at], &full[at..]);
    let _ = StateMachine::from_str(&spliced);
    let mut bytes = full.into_bytes();
    if let Some(b) = bytes.get_mut(at) {
        *b = 0xff;
    }
    let _ = StateMachine::from_slice(&bytes);
    Ok(())
}

/// The inputs of the check above.
pub fn definition_text_case() -> impl Strategy<Value = (String, prop::sample::Index, String)> {
    ("\\PC{0,40}", any::<prop::sample::Index>(), "\\PC{0,2}")
}

/// What TestState is asked in [`check_test_state`].
#[derive(Clone, Debug)]
pub struct TestStateCase {
    pub which: usize,
    pub state: prop::sample::Index,
    pub input: Value,
    pub context: Value,
    pub variables: Vec<(String, Value)>,
    pub mock: Option<Result<Value, (String, String)>>,
    pub retries: u32,
}

/// TestState takes any input, context, variables and mock for every state
/// of the test machines.
pub fn check_test_state(case: TestStateCase) -> Result<(), TestCaseError> {
    let machine = if case.which == 6 {
        StateMachine::from_value(base_definition()).expect("valid machine")
    } else {
        machines()[case.which].clone()
    };
    let mut names = Vec::new();
    collect_states(&machine.to_value(), &mut names);
    let mut request = stepfn::testing::TestStateRequest::new(case.input);
    request.state_name = Some(names[case.state.index(names.len())].clone());
    request.context = case.context;
    request.variables = case.variables.into_iter().collect();
    request.retrier_retry_count = case.retries;
    request.mock = case.mock.map(|m| match m {
        Ok(v) => stepfn::testing::TestStateMock::Result(v),
        Err((name, cause)) => stepfn::testing::TestStateMock::Error(stepfn::StatesError::new(
            name.as_str(),
            cause.as_str(),
        )),
    });
    let executor = sync_task_fn(|request| Ok(request.parameters));
    if let Ok(result) = stepfn::testing::test_state(&machine, &request, Some(&executor)) {
        let _ = result.to_json();
    }
    Ok(())
}

/// The inputs of the check above.
pub fn test_state_case() -> impl Strategy<Value = TestStateCase> {
    (
        0..7usize,
        any::<prop::sample::Index>(),
        prop_oneof![data(), json_value()],
        json_value(),
        prop::collection::vec((key(), json_value()), 0..3),
        prop::option::of(task_answer()),
        any::<u32>(),
    )
        .prop_map(
            |(which, state, input, context, variables, mock, retries)| TestStateCase {
                which,
                state,
                input,
                context,
                variables,
                mock,
                retries,
            },
        )
}

/// The names of every state of a definition, nested ones included.
pub fn collect_states(definition: &Value, out: &mut Vec<String>) {
    if let Some(states) = definition.get("States").and_then(Value::as_object) {
        for (name, state) in states {
            out.push(name.clone());
            for branch in state
                .get("Branches")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                collect_states(branch, out);
            }
            if let Some(processor) = state.get("ItemProcessor") {
                collect_states(processor, out);
            }
        }
    }
}
