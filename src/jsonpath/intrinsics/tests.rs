// Intrinsic functions: grammar, every function, errors with exact causes.
//
// Expectations marked "AWS" are answers recorded on AWS (conformance corpus
// `intrinsic_functions.jsonl`), rewritten with literal arguments.

use crate::jsonpath::intrinsics::{IntrinsicCall, FUNCTIONS};
use crate::jsonpath::Env;
use crate::{ErrorName, StatesError};
use serde_json::{json, Value};

fn eval(text: &str) -> Result<Value, StatesError> {
    let call = IntrinsicCall::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    call.eval(&Env::data(&Value::Null))
}

/// `text` evaluates to `expected`.
fn gives(text: &str, expected: Value) {
    assert_eq!(
        eval(text).unwrap_or_else(|e| panic!("{text}: {e}")),
        expected,
        "{text}"
    );
}

/// `text` parses but fails with `States.IntrinsicFailure` and `cause`.
fn fails(text: &str, cause: &str) {
    let error = eval(text).expect_err(text);
    assert_eq!(error.name, ErrorName::IntrinsicFailure, "{text}");
    assert_eq!(error.cause_str(), cause, "{text}");
}

/// `text` is rejected at load time with `message`.
fn rejects(text: &str, message: &str) {
    let error = IntrinsicCall::parse(text).expect_err(text);
    assert_eq!(error.text, text);
    assert_eq!(error.message, message, "{text}");
}

#[test]
fn table_has_all_18_functions_once() {
    assert_eq!(FUNCTIONS.len(), 18);
    let mut names: Vec<&str> = FUNCTIONS.iter().map(|(n, _, _)| *n).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 18);
}

#[test]
fn grammar_literals() {
    gives("States.Array()", json!([]));
    gives("States.Array( )", json!([]));
    gives(
        "States.Array('a', 1, -2, 1.5, -0.25, 1e3, true, false, null)",
        json!(["a", 1, -2, 1.5, -0.25, 1000.0, true, false, null]),
    );
    gives("States.Array(  'a'  ,  2  )", json!(["a", 2]));
    gives("  States.Array(1)  ", json!([1]));
    gives("States.Array('')", json!([""]));
    gives("States.Array('a,b)c')", json!(["a,b)c"]));
    gives("States.Array('$.not.a.path')", json!(["$.not.a.path"]));
    gives("States.Array('States.Array()')", json!(["States.Array()"]));
    gives(
        "States.Array(18446744073709551615)",
        json!([18446744073709551615u64]),
    );
}

#[test]
fn grammar_string_escapes() {
    gives(r"States.Array('it\'s')", json!(["it's"]));
    gives(r"States.Array('\{\}')", json!(["{}"]));
    gives(r"States.Array('back\\slash')", json!(["back\\slash"]));
    gives(r"States.Array('\\')", json!(["\\"]));
    // any other backslash is an error (AWS: "an open escape backslash")
    rejects(
        r"States.Array('C:\new')",
        r"invalid escape `\n` in the string starting at position 13: only \', \{, \} and \\ are allowed",
    );
    rejects(
        r"States.Array('a\')",
        "unterminated string starting at position 13",
    );
    // braces need no escape outside States.Format (AWS: JsonMerge escaped-argument case)
    gives(
        r#"States.StringToJson('{"constant_in_literal": "false"}')"#,
        json!({"constant_in_literal": "false"}),
    );
    // a real newline inside the literal (AWS)
    gives(
        "States.StringSplit('Hello\nWorld', '\n')",
        json!(["Hello", "World"]),
    );
}

#[test]
fn grammar_nesting() {
    gives(
        "States.ArrayLength(States.Array(1, 2, States.Array()))",
        json!(3),
    );
    gives("States.ArrayGetItem(States.StringSplit('a-b-c', '-'), States.MathAdd(States.ArrayLength(States.StringSplit('a-b-c', '-')), -1))", json!("c"));
    let ten = format!("{}1{}", "States.Array(".repeat(10), ")".repeat(10));
    assert!(IntrinsicCall::parse(&ten).is_ok());
    let eleven = format!("{}1{}", "States.Array(".repeat(11), ")".repeat(11));
    rejects(
        &eleven,
        "intrinsic calls are nested more than 10 levels deep",
    );
    // hostile nesting is an error, not a stack overflow
    let deep = format!(
        "{}1{}",
        "States.Array(".repeat(100_000),
        ")".repeat(100_000)
    );
    assert!(IntrinsicCall::parse(&deep).is_err());
}

#[test]
fn grammar_errors() {
    rejects("States.Nope()", "unknown intrinsic function `States.Nope`");
    rejects(
        "States.format('x')",
        "unknown intrinsic function `States.format`",
    );
    rejects(
        "States.Array",
        "expected `(` after `States.Array` at position 12",
    );
    rejects("States.Array(1", "missing `)` to close `States.Array(`");
    rejects(
        "States.Array(1 2)",
        "expected `,` or `)` at position 15, found `2)`",
    );
    rejects("States.Array(1,)", "expected an argument at position 15");
    rejects("States.Array(,1)", "expected an argument at position 13");
    rejects(
        "States.Array('abc)",
        "unterminated string starting at position 13",
    );
    rejects("States.Array(abc)", "unexpected argument `abc`");
    rejects("States.Array(\"abc\")", "unexpected argument `\"abc\"`");
    rejects("States.Array(True)", "unexpected argument `True`");
    rejects("States.Array(+1)", "unexpected argument `+1`");
    rejects("States.Array(1.)", "unexpected argument `1.`");
    rejects(
        "States.Array(1) x",
        "unexpected `x` after the call at position 16",
    );
    rejects(
        "States.Array(1))",
        "unexpected `)` after the call at position 15",
    );
    rejects("States.UUID(1)", "`States.UUID` takes 0 arguments, got 1");
    rejects(
        "States.ArrayLength()",
        "`States.ArrayLength` takes 1 argument, got 0",
    );
    rejects(
        "States.ArrayGetItem(States.Array(1))",
        "`States.ArrayGetItem` takes 2 arguments, got 1",
    );
    rejects(
        "States.MathRandom(1)",
        "`States.MathRandom` takes 2 to 3 arguments, got 1",
    );
    rejects(
        "States.MathRandom(1, 2, 3, 4)",
        "`States.MathRandom` takes 2 to 3 arguments, got 4",
    );
    rejects(
        "States.Format()",
        "`States.Format` takes at least 1 argument, got 0",
    );
    rejects(
        "States.Format('{} and {}', 1)",
        "the template has 2 placeholders but 1 value was given",
    );
    rejects(
        "States.Format('none', 1, 2)",
        "the template has 0 placeholders but 2 values were given",
    );
    rejects(
        "States.Format(1)",
        "the template of `States.Format` must be a string, got a number",
    );
    rejects(
        "States.JsonMerge(States.StringToJson('{}'), States.StringToJson('{}'), true)",
        "`States.JsonMerge` supports only shallow merging: its third argument must be `false`",
    );
    let error = IntrinsicCall::parse("States.Nope()").unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid intrinsic function call `States.Nope()`: unknown intrinsic function `States.Nope`"
    );
}

#[test]
fn as_str_and_name() {
    let call = IntrinsicCall::parse("States.Array( 1 )").unwrap();
    assert_eq!(call.as_str(), "States.Array( 1 )");
    assert_eq!(call.name(), "States.Array");
    assert!(IntrinsicCall::looks_like_call("States.Array()"));
    assert!(!IntrinsicCall::looks_like_call("$.States"));
}

#[test]
fn format() {
    gives(
        "States.Format('Hello, my name is {}.', 'Arnav')",
        json!("Hello, my name is Arnav."),
    );
    gives("States.Format('no placeholders')", json!("no placeholders"));
    gives("States.Format('{}{}', 'a', 'b')", json!("ab"));
    // AWS
    gives(
        "States.Format('Formatting argument {}.', ' ')",
        json!("Formatting argument  ."),
    );
    gives(
        "States.Format('Formatting argument {}.', 1)",
        json!("Formatting argument 1."),
    );
    gives(
        "States.Format('Formatting argument {}.', 1.1)",
        json!("Formatting argument 1.1."),
    );
    gives(
        r#"States.Format('Formatting argument {}.', '{"Arg1": 1, "Arg2": []}')"#,
        json!(r#"Formatting argument {"Arg1": 1, "Arg2": []}."#),
    );
    gives(
        "States.Format('fst={} and snd={}.', '', '')",
        json!("fst= and snd=."),
    );
    gives(
        r#"States.Format('fst={} and snd={}.', States.StringToJson('{"Arg1": 1, "Arg2": []}'), States.StringToJson('{"Arg1": 1, "Arg2": []}'))"#,
        json!("fst={Arg1=1, Arg2=[]} and snd={Arg1=1, Arg2=[]}."),
    );
    gives("States.Format('Format:{}', 101)", json!("Format:101"));
    // rendering of other values (Java's collection style)
    gives(
        "States.Format('{} {} {} {}', null, true, false, -3)",
        json!("null true false -3"),
    );
    gives(
        "States.Format('{}', States.Array(1, 'a', null, States.Array()))",
        json!("[1, a, null, []]"),
    );
    gives(
        r#"States.Format('{}', States.StringToJson('{"a": {"b": [1.5, "x"]}, "c": null}'))"#,
        json!("{a={b=[1.5, x]}, c=null}"),
    );
    // escapes in the template stand for the character itself
    gives(r"States.Format('\{\} is {}', 'x')", json!("{} is x"));
    gives(r"States.Format('\\{}', 'x')", json!("\\x"));
    gives(r"States.Format('it\'s {}', 'x')", json!("it's x"));
    gives("States.Format('{ } {x} }{ {}', 1)", json!("{ } {x} }{ 1"));
    // a template from data is checked at run time
    fails(
        "States.Format(States.Array(), 1)",
        "States.Format: the template (first argument) must be a string, got an array",
    );
    fails(
        "States.Format(States.ArrayGetItem(States.Array('{}{}'), 0), 1)",
        "States.Format: the template has 2 placeholders but 1 value was given",
    );
}

#[test]
fn string_to_json() {
    // AWS
    gives("States.StringToJson('')", json!(null));
    gives("States.StringToJson(' ')", json!(null));
    gives("States.StringToJson('null')", json!(null));
    gives("States.StringToJson('1')", json!(1));
    gives("States.StringToJson('true')", json!(true));
    gives(
        r#"States.StringToJson('"HelloWorld"')"#,
        json!("HelloWorld"),
    );
    gives(
        r#"States.StringToJson('{"Arg1": 1, "Arg2": []}')"#,
        json!({"Arg1": 1, "Arg2": []}),
    );
    gives("States.StringToJson('1.1')", json!(1.1));
    gives("States.StringToJson('-0')", json!(0));
    gives(
        r#"States.StringToJson(' {"b": 1, "a": 2} ')"#,
        json!({"b": 1, "a": 2}),
    );
    fails("States.StringToJson('{')", "States.StringToJson: the string is not valid JSON: EOF while parsing an object at line 1 column 1");
    fails(
        "States.StringToJson(1)",
        "States.StringToJson: the first argument must be a string, got a number",
    );
}

#[test]
fn string_to_json_reads_text_up_to_the_depth_limit() {
    let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let call = IntrinsicCall::parse("States.StringToJson($.text)").unwrap();
    let data = json!({"text": nested(1000)});
    let value = call.eval(&Env::data(&data)).expect("1000 levels");
    assert_eq!(serde_json::to_string(&value).unwrap(), nested(1000));
    let data = json!({"text": nested(1001)});
    assert_eq!(
        call.eval(&Env::data(&data)).unwrap_err().cause.as_deref(),
        Some("States.StringToJson: the string is not valid JSON: arrays and objects are nested more than 1000 levels deep")
    );
}

#[test]
fn json_to_string() {
    // AWS
    gives("States.JsonToString(null)", json!("null"));
    gives("States.JsonToString(1)", json!("1"));
    gives("States.JsonToString(true)", json!("true"));
    gives("States.JsonToString('HelloWorld')", json!("\"HelloWorld\""));
    gives(
        "States.JsonToString(States.Array(1, 2, 'HelloWorld'))",
        json!("[1,2,\"HelloWorld\"]"),
    );
    gives(
        r#"States.JsonToString(States.StringToJson('{"Arg1": 1, "Arg2": []}'))"#,
        json!(r#"{"Arg1":1,"Arg2":[]}"#),
    );
    // key order is preserved
    gives(
        r#"States.JsonToString(States.StringToJson('{"z": 1, "a": {"y": 2, "b": 1.5}}'))"#,
        json!(r#"{"z":1,"a":{"y":2,"b":1.5}}"#),
    );
}

#[test]
fn json_to_string_within_stops_writing_at_the_cap() {
    use super::json::json_to_string_within;
    let value = json!({"a": [1, "two"], "b": null});
    let text = r#"{"a":[1,"two"],"b":null}"#;
    let args = vec![std::borrow::Cow::Owned(value)];
    let within = |cap| json_to_string_within(&args, cap).unwrap();
    assert_eq!(within(text.len()), Some(json!(text)));
    assert_eq!(within(text.len() - 1), None);
    assert_eq!(within(0), None);
}

#[test]
fn array() {
    // AWS
    gives("States.Array('', '')", json!(["", ""]));
    gives("States.Array(' ', ' ')", json!([" ", " "]));
    gives("States.Array(null, null)", json!([null, null]));
    gives("States.Array(1.1, 1.1)", json!([1.1, 1.1]));
    gives(
        r#"States.Array(States.StringToJson('{"Arg1": 1, "Arg2": []}'))"#,
        json!([{"Arg1": 1, "Arg2": []}]),
    );
}

/// Up to four arguments are kept on the stack, more in a vector: calls on
/// either side of that count, with arguments borrowed from the data and
/// built by nested calls, give the same values.
#[test]
fn arguments_on_the_stack_and_in_a_vector() {
    let data = json!({"a": {"x": 1}, "b": {"y": [2]}, "s": "t", "f": "{}-{}-{}"});
    let env = Env::data(&data);
    let on = |text: &str| IntrinsicCall::parse(text).map(|c| c.eval(&env));
    let cases = [
        (
            "States.Array($.a, $.b, $.s, States.Array(1))",
            json!([{"x": 1}, {"y": [2]}, "t", [1]]),
        ),
        (
            "States.Array($.a, $.b, $.s, States.Array(1), $.a)",
            json!([{"x": 1}, {"y": [2]}, "t", [1], {"x": 1}]),
        ),
        ("States.Format($.f, 1, 2, 3)", json!("1-2-3")),
        (
            "States.Format('{}{}{}{}{}', $.s, 1, $.a, 3, 'u')",
            json!("t1{x=1}3u"),
        ),
        (
            "States.JsonMerge($.a, States.StringToJson('{\"x\": 2}'), false)",
            json!({"x": 2}),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(on(text), Ok(Ok(expected)), "{text}");
    }
    // the merged objects are taken from the arguments, not the data
    assert_eq!(data["a"], json!({"x": 1}));
}

#[test]
fn array_partition() {
    // AWS
    gives("States.ArrayPartition(States.Array(), 1)", json!([]));
    gives("States.ArrayPartition(States.Array(), 5)", json!([]));
    gives("States.ArrayPartition(States.Array(0), 5)", json!([[0]]));
    gives(
        "States.ArrayPartition(States.Array(0, 1), 1)",
        json!([[0], [1]]),
    );
    gives(
        "States.ArrayPartition(States.Array(0, 1), 3)",
        json!([[0, 1]]),
    );
    gives(
        "States.ArrayPartition(States.Array(0, 1, 2, 3), 2)",
        json!([[0, 1], [2, 3]]),
    );
    gives(
        "States.ArrayPartition(States.Array(0, 1, 2, 3), 3)",
        json!([[0, 1, 2], [3]]),
    );
    gives(
        "States.ArrayPartition(States.Array(0, 1, 2, 3), 4)",
        json!([[0, 1, 2, 3]]),
    );
    gives(
        "States.ArrayPartition(States.Array(0, 1, 2), 2.0)",
        json!([[0, 1], [2]]),
    );
    fails(
        "States.ArrayPartition(States.Array(0), 0)",
        "States.ArrayPartition: the chunk size must be a positive integer, got 0",
    );
    fails(
        "States.ArrayPartition(States.Array(0), -1)",
        "States.ArrayPartition: the chunk size must be a positive integer, got -1",
    );
    // non-integers are rounded half up (AWS docs)
    gives(
        "States.ArrayPartition(States.Array(0, 1, 2), 1.5)",
        json!([[0, 1], [2]]),
    );
    fails(
        "States.ArrayPartition(States.Array(0), 0.4)",
        "States.ArrayPartition: the chunk size must be a positive integer, got 0",
    );
    fails(
        "States.ArrayPartition('abc', 1)",
        "States.ArrayPartition: the first argument must be an array, got a string",
    );
    fails(
        "States.ArrayPartition(States.Array(0), '1')",
        "States.ArrayPartition: the second argument must be a number, got a string",
    );
}

#[test]
fn array_contains() {
    // AWS
    gives("States.ArrayContains(States.Array(), null)", json!(false));
    gives(
        "States.ArrayContains(States.Array(), States.Array())",
        json!(false),
    );
    gives("States.ArrayContains(States.Array(), 1)", json!(false));
    gives(
        "States.ArrayContains(States.Array(States.Array(1, 2, 3), 2), null)",
        json!(false),
    );
    gives(
        r#"States.ArrayContains(States.StringToJson('[{"1": 2, "2": []}]'), States.Array())"#,
        json!(false),
    );
    gives(
        r#"States.ArrayContains(States.StringToJson('[{"1": 2, "2": []}]'), States.StringToJson('{"1": 2, "2": []}'))"#,
        json!(true),
    );
    gives(
        "States.ArrayContains(States.Array(true, false), true)",
        json!(true),
    );
    // deep equality ignores key order
    gives(
        r#"States.ArrayContains(States.StringToJson('[{"a": 1, "b": 2}]'), States.StringToJson('{"b": 2, "a": 1}'))"#,
        json!(true),
    );
    gives("States.ArrayContains(States.Array('1'), 1)", json!(false));
    gives(
        "States.ArrayContains(States.Array(null), null)",
        json!(true),
    );
    // numbers compare by value; unverified on AWS (divergence candidate)
    gives("States.ArrayContains(States.Array(1), 1.0)", json!(true));
    fails(
        "States.ArrayContains(null, 1)",
        "States.ArrayContains: the first argument must be an array, got null",
    );
}

#[test]
fn array_range() {
    // AWS
    gives("States.ArrayRange(0, 9, 3)", json!([0, 3, 6, 9]));
    gives("States.ArrayRange(0, 10, 3)", json!([0, 3, 6, 9]));
    gives("States.ArrayRange(1, 9, 2)", json!([1, 3, 5, 7, 9]));
    gives("States.ArrayRange(1, 9, 9)", json!([1]));
    gives("States.ArrayRange(5, 5, 1)", json!([5]));
    gives("States.ArrayRange(5, 1, -2)", json!([5, 3, 1]));
    gives("States.ArrayRange(1, 5, -1)", json!([]));
    gives("States.ArrayRange(5, 1, 1)", json!([]));
    gives("States.ArrayRange(-3, 3, 3)", json!([-3, 0, 3]));
    assert_eq!(
        eval("States.ArrayRange(1, 1000, 1)")
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1000
    );
    fails(
        "States.ArrayRange(0, 1000, 1)",
        "States.ArrayRange: the range would have 1001 items, more than the limit of 1000",
    );
    fails("States.ArrayRange(-9223372036854775808, 9223372036854775807, 1)", "States.ArrayRange: the range would have 18446744073709551616 items, more than the limit of 1000");
    fails(
        "States.ArrayRange(0, 9, 0)",
        "States.ArrayRange: the step must not be 0",
    );
    // non-integers are rounded half up (AWS docs)
    gives("States.ArrayRange(0.5, 3.4, 1.5)", json!([1, 3]));
    fails(
        "States.ArrayRange(0, 9, 0.4)",
        "States.ArrayRange: the step must not be 0",
    );
    fails(
        "States.ArrayRange(0, 9, 'x')",
        "States.ArrayRange: the third argument must be a number, got a string",
    );
}

#[test]
fn array_get_item() {
    // AWS
    gives(
        "States.ArrayGetItem(States.Array(1, 2, 3, 4, 5, 6, 7, 8, 9), 5)",
        json!(6),
    );
    gives("States.ArrayGetItem(States.Array('a'), 0)", json!("a"));
    fails(
        "States.ArrayGetItem(States.Array(1, 2, 3), 3)",
        "States.ArrayGetItem: index 3 is out of bounds for an array of length 3",
    );
    fails(
        "States.ArrayGetItem(States.Array(1, 2, 3), -1)",
        "States.ArrayGetItem: index -1 is out of bounds for an array of length 3",
    );
    fails(
        "States.ArrayGetItem(States.Array(), 0)",
        "States.ArrayGetItem: index 0 is out of bounds for an array of length 0",
    );
    // a non-integer index is rounded half up, like other integer arguments
    gives(
        "States.ArrayGetItem(States.Array('a', 'b'), 0.5)",
        json!("b"),
    );
    fails(
        "States.ArrayGetItem('abc', 0)",
        "States.ArrayGetItem: the first argument must be an array, got a string",
    );
}

#[test]
fn array_length() {
    // AWS: 20 items, duplicates included
    gives(
        r#"States.ArrayLength(States.StringToJson('[null, null, true, true, false, false, 1, 1, 1.1, 0, 0, "HelloWorld", "HelloWorld", [], [], [null], [null], {"a": 1, "b": 2}, {"a": 1, "b": 2}, {"a": 1, "b": 1}]'))"#,
        json!(20),
    );
    gives("States.ArrayLength(States.Array())", json!(0));
    fails(
        "States.ArrayLength(States.StringToJson('{}'))",
        "States.ArrayLength: the first argument must be an array, got an object",
    );
}

#[test]
fn array_unique() {
    gives(
        r#"States.ArrayUnique(States.StringToJson('[null, null, true, true, false, false, 1, 1, 1.1, 0, 0, "HelloWorld", "HelloWorld", [], [], [null], [null], {"a": 1, "b": 2}, {"a": 1, "b": 2}, {"a": 1, "b": 1}]'))"#,
        json!([null, true, false, 1, 1.1, 0, "HelloWorld", [], [null], {"a": 1, "b": 2}, {"a": 1, "b": 1}]),
    );
    gives(
        "States.ArrayUnique(States.Array(1, 2, 3, 3, 3, 3, 3, 3, 4))",
        json!([1, 2, 3, 4]),
    );
    gives(
        "States.ArrayUnique(States.Array(3, 1, 3, 2, 1))",
        json!([3, 1, 2]),
    );
    gives(
        r#"States.ArrayUnique(States.StringToJson('[{"a": 1, "b": 2}, {"b": 2, "a": 1}]'))"#,
        json!([{"a": 1, "b": 2}]),
    );
    gives("States.ArrayUnique(States.Array())", json!([]));
    fails(
        "States.ArrayUnique(1)",
        "States.ArrayUnique: the first argument must be an array, got a number",
    );
}

#[test]
fn base64() {
    // AWS
    gives("States.Base64Encode('')", json!(""));
    gives(
        "States.Base64Encode('Data to encode')",
        json!("RGF0YSB0byBlbmNvZGU="),
    );
    gives(
        "States.Base64Decode('RGF0YSB0byBlbmNvZGU=')",
        json!("Data to encode"),
    );
    gives(
        "States.Base64Decode('RGF0YSB0byBlbmNvZGU')",
        json!("Data to encode"),
    );
    gives("States.Base64Encode('héllo ✓')", json!("aMOpbGxvIOKckw=="));
    gives("States.Base64Decode('aMOpbGxvIOKckw==')", json!("héllo ✓"));
    gives("States.Base64Decode('')", json!(""));
    fails(
        "States.Base64Decode('QUJDR')",
        "States.Base64Decode: the input is not valid base64: its length is wrong",
    );
    fails(
        "States.Base64Decode('QQ=A')",
        "States.Base64Decode: the input is not valid base64: the character `=` is not allowed",
    );
    // MIME-style line breaks are skipped; unused trailing bits are ignored
    gives(
        "States.Base64Decode('RGF0YSB0\r\nbyBlbmNvZGU=')",
        json!("Data to encode"),
    );
    gives("States.Base64Decode('QR==')", json!("A"));
    gives("States.Base64Decode('/w==')", json!("\u{fffd}"));
    fails(
        "States.Base64Decode('not base64!')",
        "States.Base64Decode: the input is not valid base64: the character `!` is not allowed",
    );
    fails(
        "States.Base64Encode(1)",
        "States.Base64Encode: the first argument must be a string, got a number",
    );
    let at_limit = format!("States.Base64Encode('{}')", "a".repeat(10_000));
    assert_eq!(eval(&at_limit).unwrap().as_str().unwrap().len(), 13_336);
    let over = format!("States.Base64Encode('{}')", "é".repeat(10_001));
    fails(
        &over,
        "States.Base64Encode: the input has 10001 characters, more than the limit of 10000",
    );
    let over = format!("States.Base64Decode('{}')", "A".repeat(10_004));
    fails(
        &over,
        "States.Base64Decode: the input has 10004 characters, more than the limit of 10000",
    );
}

#[test]
fn hash() {
    // AWS
    gives(
        "States.Hash('input data', 'MD5')",
        json!("812f45842bc6d66ee14572ce20db8e86"),
    );
    gives(
        "States.Hash('input data', 'SHA-256')",
        json!("b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3"),
    );
    gives("States.Hash('input data', 'SHA-384')", json!("d28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c756511b87525bdc835ebb27e1fb9e9374a15562"));
    gives("States.Hash('input data', 'SHA-512')", json!("6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f47d4ce2deba23bf2954f0f1d593fc50283731a533d30d425402d4f91316d871303aac4"));
    // well-known digests
    gives(
        "States.Hash('input data', 'SHA-1')",
        json!("aaff4a450a104cd177d28d18d74485e8cae074b7"),
    );
    gives(
        "States.Hash('', 'SHA-256')",
        json!("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    );
    gives(
        "States.Hash('abc', 'MD5')",
        json!("900150983cd24fb0d6963f7d28e17f72"),
    );
    // inputs past one 64-byte block (the padding boundary at 56 bytes)
    gives(
        "States.Hash('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', 'SHA-256')",
        json!("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    );
    gives(
        "States.Hash('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', 'SHA-1')",
        json!("84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
    );
    gives("States.Hash('12345678901234567890123456789012345678901234567890123456789012345678901234567890', 'MD5')", json!("57edf4a22be3c955ac49da2e2107b67a"));
    fails("States.Hash('x', 'sha-256')", "States.Hash: unsupported algorithm `sha-256`; expected one of MD5, SHA-1, SHA-256, SHA-384, SHA-512");
    fails(
        "States.Hash(1, 'MD5')",
        "States.Hash: the first argument must be a string, got a number",
    );
    fails(
        "States.Hash('x', null)",
        "States.Hash: the second argument must be a string, got null",
    );
    let over = format!("States.Hash('{}', 'MD5')", "a".repeat(10_001));
    fails(
        &over,
        "States.Hash: the input has 10001 characters, more than the limit of 10000",
    );
}

#[test]
fn json_merge() {
    // AWS
    gives(
        r#"States.JsonMerge(States.StringToJson('{"constant_in_literal": "false"}'), States.StringToJson('{"constant_input_field": "constant_value"}'), false)"#,
        json!({"constant_in_literal": "false", "constant_input_field": "constant_value"}),
    );
    // right wins, shallowly, in the left key's position
    gives(
        r#"States.JsonMerge(States.StringToJson('{"a": {"x": 1}, "both": "left", "k": 1}'), States.StringToJson('{"both": "right", "a": {"y": 2}}'), false)"#,
        json!({"a": {"y": 2}, "both": "right", "k": 1}),
    );
    let merged = eval(r#"States.JsonMerge(States.StringToJson('{"b": 1, "a": 1}'), States.StringToJson('{"c": 1, "b": 2}'), false)"#).unwrap();
    assert_eq!(
        merged.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["b", "a", "c"]
    );
    fails(
        r#"States.JsonMerge(States.StringToJson('{}'), States.StringToJson('{}'), States.StringToJson('true'))"#,
        "States.JsonMerge: only shallow merging is supported: the third argument must be false",
    );
    fails(
        r#"States.JsonMerge(States.StringToJson('{}'), States.StringToJson('{}'), 'false')"#,
        "States.JsonMerge: the third argument must be a boolean, got a string",
    );
    fails(
        r#"States.JsonMerge(States.Array(), States.StringToJson('{}'), false)"#,
        "States.JsonMerge: the first argument must be an object, got an array",
    );
    fails(
        r#"States.JsonMerge(States.StringToJson('{}'), 1, false)"#,
        "States.JsonMerge: the second argument must be an object, got a number",
    );
}

#[test]
fn math_add() {
    // AWS
    gives("States.MathAdd(-9, 3)", json!(-6));
    gives("States.MathAdd(1.49, 1.5)", json!(3));
    gives("States.MathAdd(-1.5, 0)", json!(-1));
    gives("States.MathAdd(-1.51, 0)", json!(-2));
    gives("States.MathAdd(0.5, 0)", json!(1));
    gives("States.MathAdd(2.5, 0)", json!(3));
    gives("States.MathAdd(3.5, 0)", json!(4));
    gives("States.MathAdd(-0.5, 0)", json!(0));
    gives("States.MathAdd(-2.5, 0)", json!(-2));
    gives("States.MathAdd(1.5, 1.51)", json!(4));
    gives("States.MathAdd(-3.5, 0)", json!(-3));
    gives("States.MathAdd(1.49, 0)", json!(1));
    gives("States.MathAdd(1.49, -1.49)", json!(0));
    gives("States.MathAdd(1.5, 0)", json!(2));
    // Java Math.round corner: the largest double below 0.5 rounds down
    gives("States.MathAdd(0.49999999999999994, 0)", json!(0));
    gives("States.MathAdd(111, -1)", json!(110));
    // arguments must fit a 32-bit integer (AWS docs); the sum need not
    gives("States.MathAdd(2147483647, 1)", json!(2147483648i64));
    gives(
        "States.MathAdd(-2147483648, -2147483648)",
        json!(-4294967296i64),
    );
    gives("States.MathAdd(2147483647.4, 0)", json!(2147483647));
    fails(
        "States.MathAdd(2147483648, 0)",
        "States.MathAdd: the first argument 2147483648 is out of range (-2147483648 to 2147483647)",
    );
    fails("States.MathAdd(0, -2147483648.6)", "States.MathAdd: the second argument -2147483649 is out of range (-2147483648 to 2147483647)");
    fails(
        "States.MathAdd(18446744073709551615, 0)",
        "States.MathAdd: the first argument 18446744073709551615 is out of range",
    );
    fails(
        "States.MathAdd(1e300, 0)",
        "States.MathAdd: the first argument 1e+300 is out of range",
    );
    fails(
        "States.MathAdd('1', 0)",
        "States.MathAdd: the first argument must be a number, got a string",
    );
}

#[test]
fn math_random() {
    for _ in 0..200 {
        let n = eval("States.MathRandom(1, 4)").unwrap().as_i64().unwrap();
        assert!((1..4).contains(&n), "{n}");
    }
    for _ in 0..50 {
        let n = eval("States.MathRandom(-99999, -9999)")
            .unwrap()
            .as_i64()
            .unwrap();
        assert!((-99999..-9999).contains(&n), "{n}");
    }
    // non-integer bounds are rounded: [13, 45)
    for _ in 0..50 {
        let n = eval("States.MathRandom(12.5, 44.51)")
            .unwrap()
            .as_i64()
            .unwrap();
        assert!((13..45).contains(&n), "{n}");
    }
    gives("States.MathRandom(7, 8)", json!(7));
    // a seed makes the result repeatable
    let first = eval("States.MathRandom(0, 1000000, 3)").unwrap();
    for _ in 0..5 {
        assert_eq!(eval("States.MathRandom(0, 1000000, 3)").unwrap(), first);
    }
    fails(
        "States.MathRandom(5, 5)",
        "States.MathRandom: the start (5) must be less than the end (5)",
    );
    fails(
        "States.MathRandom(5, 1)",
        "States.MathRandom: the start (5) must be less than the end (1)",
    );
    fails(
        "States.MathRandom(1, 'x')",
        "States.MathRandom: the second argument must be a number, got a string",
    );
    fails(
        "States.MathRandom(1, 2, 'x')",
        "States.MathRandom: the third argument must be a number, got a string",
    );
}

#[test]
fn string_split() {
    // AWS
    gives("States.StringSplit(' , ', ',')", json!([" ", " "]));
    gives("States.StringSplit(',,,,', ',')", json!([]));
    gives(
        "States.StringSplit('This.is+a,test=string', '.+,=')",
        json!(["This", "is", "a", "test", "string"]),
    );
    gives(
        "States.StringSplit('split on T and \nnew line', 'T\n')",
        json!(["split on ", " and ", "new line"]),
    );
    gives("States.StringSplit('Value1,Value2,Value3\nValue4,Value5,Value6\n,,,\ntrue,1,\\'HelloWorld\\'\nNull,None,\n   \n', ',')",
        json!(["Value1", "Value2", "Value3\nValue4", "Value5", "Value6\n", "\ntrue", "1", "'HelloWorld'\nNull", "None", "\n   \n"]));
    gives("States.StringSplit('a-b', '')", json!(["a-b"]));
    gives("States.StringSplit('', ',')", json!([]));
    gives("States.StringSplit('a✓b', '✓')", json!(["a", "b"]));
    fails(
        "States.StringSplit(1, ',')",
        "States.StringSplit: the first argument must be a string, got a number",
    );
    fails(
        "States.StringSplit('a', null)",
        "States.StringSplit: the second argument must be a string, got null",
    );
}

#[test]
fn uuid() {
    let a = eval("States.UUID()").unwrap();
    let b = eval("States.UUID()").unwrap();
    assert_ne!(a, b);
    let text = a.as_str().unwrap();
    assert_eq!(text.len(), 36);
    assert_eq!(text.as_bytes()[14], b'4', "{text}");
    assert!(
        matches!(text.as_bytes()[19], b'8' | b'9' | b'a' | b'b'),
        "{text}"
    );
    assert!(text
        .chars()
        .all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c)));
}

#[test]
fn functions_are_callable_directly() {
    use crate::jsonpath::intrinsics::array::{array, length, partition};
    use std::borrow::Cow;
    assert_eq!(
        partition(&mut [Cow::Owned(json!([1, 2, 3])), Cow::Owned(json!(2))]),
        Ok(json!([[1, 2], [3]]))
    );
    assert_eq!(array(&mut []), Ok(json!([])));
    // too few arguments is an error, not a panic
    assert_eq!(
        length(&mut []),
        Err("the first argument is missing".to_owned())
    );
    for (name, _, function) in FUNCTIONS.iter() {
        if *name != "States.Array" && *name != "States.UUID" {
            assert!(function(&mut []).is_err(), "{name}");
        }
    }
}

/// A call whose result is `n` bytes of JSON text builds under a cap of `n`
/// and fails under `n - 1`: what is measured before the result is built
/// (States.Array, ArrayPartition, StringSplit, Format, JsonToString) is
/// exact, never more than the result.
#[test]
fn a_result_builds_exactly_up_to_its_cap() {
    let data = json!({
        "s": "a \"quoted\" \\ line\n\u{1}é🦀,b,,c",
        "list": [1, -2.5, "x\"y", {"k": [null, true]}, [], {}],
        "obj": {"a": [1, {"b": "c"}], "n": null},
        "empty": [],
    });
    let env = Env::data(&data);
    for text in [
        "States.Array($.s, $.list, $.obj, 1, 'lit')",
        "States.Array()",
        "States.ArrayPartition($.list, 1)",
        "States.ArrayPartition($.list, 4)",
        "States.ArrayPartition($.empty, 2)",
        "States.StringSplit($.s, ',')",
        "States.StringSplit($.s, ' \"')",
        "States.StringSplit('', ',')",
        "States.Format('{} and {}: {}', $.list, $.obj, $.s)",
        "States.Format($.s)",
        "States.JsonToString($.obj)",
        "States.JsonToString($.s)",
        "States.JsonToString($.list)",
        "States.JsonMerge($.obj, $.obj, false)",
        "States.ArrayUnique($.list)",
    ] {
        let call = IntrinsicCall::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let value = call.eval(&env).unwrap_or_else(|e| panic!("{text}: {e}"));
        let n = crate::json::json_len(&value);
        let (built, bytes) = call
            .eval_bounded(&env, "v.$", n)
            .unwrap_or_else(|e| panic!("{text} under {n}: {e}"));
        assert_eq!((built, bytes), (value, n), "{text}");
        let error = call.eval_bounded(&env, "v.$", n - 1).expect_err(text);
        assert_eq!(error.name, ErrorName::DataLimitExceeded, "{text}");
    }
}
