//! Payload templates: compile-time checks (all problems, with locations),
//! evaluation, AWS's cause strings, round-trips.

use serde_json::{json, Map, Value};
use stepfn::jsonpath::Env;
use stepfn::jsonpath::{Expression, PayloadTemplate, TemplateError};
use stepfn::{ErrorName, StatesError};

fn compile(template: Value) -> PayloadTemplate {
    PayloadTemplate::compile(&template).unwrap_or_else(|e| panic!("{template}: {e:?}"))
}

fn run(template: Value, input: Value) -> Result<Value, StatesError> {
    compile(template).eval(&Env::data(&input))
}

/// `template` over `input` builds `expected`.
fn builds(template: Value, input: Value, expected: Value) {
    assert_eq!(
        run(template.clone(), input).unwrap_or_else(|e| panic!("{template}: {e}")),
        expected,
        "{template}"
    );
}

/// `template` over `input` fails with `name` and `cause`.
fn fails(template: Value, input: Value, name: ErrorName, cause: &str) {
    let error = run(template.clone(), input).expect_err("should fail");
    assert_eq!(
        (&error.name, error.cause_str()),
        (&name, cause),
        "{template}"
    );
}

/// `template` is rejected with exactly these (location, message) problems.
fn rejects(template: Value, problems: &[(&str, &str)]) {
    let errors = PayloadTemplate::compile(&template).expect_err("should be rejected");
    let got: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.location.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(got, problems, "{template}");
}

// templates without paths

#[test]
fn literals_are_copied_as_written() {
    builds(
        json!({"a": 1, "b": [true, null, {"c": "$.not.a.path"}]}),
        json!({}),
        json!({"a": 1, "b": [true, null, {"c": "$.not.a.path"}]}),
    );
    builds(json!("just a string"), json!({}), json!("just a string"));
    builds(json!([1, 2]), json!({}), json!([1, 2]));
    builds(json!({}), json!({"x": 1}), json!({}));
    builds(json!(null), json!({}), json!(null));
}

#[test]
fn intrinsic_keys_are_evaluated_and_stripped() {
    builds(
        json!({"list.$": "States.Array(1, 'two')", "keep": "States.Array()"}),
        json!({}),
        json!({"list": [1, "two"], "keep": "States.Array()"}),
    );
    builds(
        json!({"outer": {"inner.$": "States.MathAdd(1, 2)"}}),
        json!({}),
        json!({"outer": {"inner": 3}}),
    );
    builds(
        json!({"items": [{"n.$": "States.MathAdd(1, 1)"}, 5, [{"m.$": "States.Array()"}]]}),
        json!({}),
        json!({"items": [{"n": 2}, 5, [{"m": []}]]}),
    );
    // key order is kept
    let out = run(json!({"z": 1, "y.$": "States.Array()", "x": 2}), json!({})).unwrap();
    assert_eq!(
        out.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["z", "y", "x"]
    );
    // a template that is an array is walked too
    builds(
        json!([{"n.$": "States.ArrayLength(States.Array(1))"}]),
        json!({}),
        json!([{"n": 1}]),
    );
}

#[test]
fn intrinsic_failures_surface_unchanged() {
    fails(
        json!({"v.$": "States.ArrayGetItem(States.Array(), 0)"}),
        json!({}),
        ErrorName::IntrinsicFailure,
        "States.ArrayGetItem: index 0 is out of bounds for an array of length 0",
    );
}

#[test]
fn rejects_non_string_expressions() {
    rejects(json!({"a.$": 1}), &[("/a.$", "The value for the field 'a.$' must be a STRING that contains a JSONPath but was a NUMBER")]);
    rejects(json!({"a.$": {"b": 1}}), &[("/a.$", "The value for the field 'a.$' must be a STRING that contains a JSONPath but was an OBJECT")]);
    rejects(json!({"a.$": [1]}), &[("/a.$", "The value for the field 'a.$' must be a STRING that contains a JSONPath but was an ARRAY")]);
    rejects(json!({"a.$": null}), &[("/a.$", "The value for the field 'a.$' must be a STRING that contains a JSONPath but was a NULL")]);
    rejects(json!({"a.$": true}), &[("/a.$", "The value for the field 'a.$' must be a STRING that contains a JSONPath but was a BOOLEAN")]);
}

#[test]
fn rejects_bad_intrinsic_calls() {
    rejects(json!({"x": {"y.$": "States.Nope()"}}), &[("/x/y.$", "The value for the field 'y.$' must be a valid JSONPath or a valid intrinsic function call (invalid intrinsic function call `States.Nope()`: unknown intrinsic function `States.Nope`)")]);
    rejects(json!({"l": [0, {"y.$": "States.ArrayLength()"}]}), &[("/l/1/y.$", "The value for the field 'y.$' must be a valid JSONPath or a valid intrinsic function call (invalid intrinsic function call `States.ArrayLength()`: `States.ArrayLength` takes 1 argument, got 0)")]);
}

#[test]
fn rejects_duplicates_after_stripping() {
    rejects(
        json!({"a": 1, "a.$": "States.Array()"}),
        &[(
            "/a.$",
            "A duplicate field will exist after renaming to strip the \".$\" suffix: 'a'",
        )],
    );
}

#[test]
fn reports_every_problem_with_escaped_locations() {
    rejects(
        json!({"a.$": 1, "b": {"c/d.$": 2, "e~f.$": 3}, "g": [{"h.$": "States.X()"}]}),
        &[
            ("/a.$", "The value for the field 'a.$' must be a STRING that contains a JSONPath but was a NUMBER"),
            ("/b/c~1d.$", "The value for the field 'c/d.$' must be a STRING that contains a JSONPath but was a NUMBER"),
            ("/b/e~0f.$", "The value for the field 'e~f.$' must be a STRING that contains a JSONPath but was a NUMBER"),
            ("/g/0/h.$", "The value for the field 'h.$' must be a valid JSONPath or a valid intrinsic function call (invalid intrinsic function call `States.X()`: unknown intrinsic function `States.X`)"),
        ],
    );
}

#[test]
fn hostile_nesting_is_an_error() {
    let nest = |depth: usize| {
        let mut value = json!({"x.$": "States.UUID()"});
        for _ in 0..depth {
            value = json!([value]);
        }
        value
    };
    assert!(PayloadTemplate::compile(&nest(512)).is_ok());
    let errors = PayloadTemplate::compile(&nest(600)).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].message,
        "the template nests deeper than 512 levels"
    );
    assert_eq!(errors[0].location, "/0".repeat(513));
}

#[test]
fn template_error_displays_its_location() {
    let error = TemplateError {
        location: "/a.$".into(),
        message: "bad".into(),
    };
    assert_eq!(error.to_string(), "bad (at /a.$)");
}

#[test]
fn to_value_round_trips() {
    for template in [
        json!({"a.$": "States.Array( 1 )", "b": {"c": [1, {"d.$": "States.UUID()"}]}}),
        json!({"plain": true}),
        json!([1, "x"]),
    ] {
        let compiled = compile(template.clone());
        assert_eq!(compiled.to_value(), template);
        assert_eq!(compile(compiled.to_value()), compiled);
    }
}

#[test]
fn eval_does_not_consume_the_template() {
    let template = compile(json!({"n.$": "States.MathAdd(1, 1)", "lit": {"a": [1]}}));
    let input = json!({});
    for _ in 0..3 {
        assert_eq!(
            template.eval(&Env::data(&input)).unwrap(),
            json!({"n": 2, "lit": {"a": [1]}})
        );
    }
}

#[test]
fn expression_parses_intrinsics() {
    let expression = Expression::parse("States.Array(1)").unwrap();
    assert!(matches!(expression, Expression::Intrinsic(_)));
    assert_eq!(expression.as_str(), "States.Array(1)");
    assert_eq!(
        expression
            .eval(&Env::data(&json!({})), "ErrorPath")
            .unwrap(),
        json!([1])
    );
    assert_eq!(
        Expression::parse("States.Array(").unwrap_err(),
        "invalid intrinsic function call `States.Array(`: missing `)` to close `States.Array(`"
    );
}

// templates with paths

#[test]
fn paths_select_from_the_data() {
    let input = json!({"a": {"b": [1, 2, 3]}, "s": "x"});
    builds(
        json!({"all.$": "$", "b.$": "$.a.b", "first.$": "$.a.b[0]", "lit": "$.s"}),
        input.clone(),
        json!({"all": input, "b": [1, 2, 3], "first": 1, "lit": "$.s"}),
    );
    builds(json!({"sq.$": "$['s']"}), input.clone(), json!({"sq": "x"}));
    builds(
        json!({"nested": [{"x.$": "$.s"}]}),
        input,
        json!({"nested": [{"x": "x"}]}),
    );
}

#[test]
fn paths_in_intrinsic_arguments() {
    let input =
        json!({"name": "Ada", "n": {"a": 1.5, "b": 2}, "list": [1, 2, 3, 4, 5], "tpl": "{} + {}"});
    builds(
        json!({"g.$": "States.Format('Hello, {}!', $.name)"}),
        input.clone(),
        json!({"g": "Hello, Ada!"}),
    );
    builds(
        json!({"s.$": "States.MathAdd($.n.a, $.n.b)"}),
        input.clone(),
        json!({"s": 4}),
    );
    builds(
        json!({"p.$": "States.ArrayPartition($.list, 2)"}),
        input.clone(),
        json!({"p": [[1, 2], [3, 4], [5]]}),
    );
    builds(
        json!({"f.$": "States.Format($.tpl, $.n.a, $.n.b)"}),
        input.clone(),
        json!({"f": "1.5 + 2"}),
    );
    builds(
        json!({"f.$": "States.Format('{}', $)"}),
        json!({"a": [1, "x"]}),
        json!({"f": "{a=[1, x]}"}),
    );
    builds(
        json!({"q.$": "States.Array($['name'], $.list[-1:])"}),
        input.clone(),
        json!({"q": ["Ada", [5]]}),
    );
    builds(
        json!({"q.$": "States.Array( $.name , $.list[0] )"}),
        input,
        json!({"q": ["Ada", 1]}),
    );
}

#[test]
fn context_and_variables() {
    let data = json!({"d": 1});
    let context =
        json!({"StateMachine": {"Name": "my-machine-x"}, "Execution": {"Input": {"i": 2}}});
    let mut variables = Map::new();
    variables.insert("count".into(), json!(41));
    variables.insert("obj".into(), json!({"k": "v"}));
    let env = Env {
        data: &data,
        context: &context,
        variables: &variables,
    };
    let template = compile(json!({
        "name.$": "$$.StateMachine.Name",
        "first.$": "States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), 0)",
        "i.$": "$$.Execution.Input.i",
        "count.$": "States.MathAdd($count, 1)",
        "k.$": "$obj.k",
        "d.$": "$.d"
    }));
    assert_eq!(
        template.eval(&env).unwrap(),
        json!({"name": "my-machine-x", "first": "my", "i": 2, "count": 42, "k": "v", "d": 1})
    );
}

#[test]
fn missing_paths_fail_with_aws_causes() {
    let input = json!({"int-literal": 0, "s": "it's"});
    fails(
        json!({"value.$": "$.no_such_jsonpath"}),
        input.clone(),
        ErrorName::Runtime,
        r#"The JSONPath '$.no_such_jsonpath' specified for the field 'value.$' could not be found in the input '{"int-literal":0,"s":"it's"}'"#,
    );
    fails(
        json!({"value.$": "$$.Execution.Input.no_such_jsonpath"}),
        input.clone(),
        ErrorName::Runtime,
        r#"The JSONPath '$$.Execution.Input.no_such_jsonpath' specified for the field 'value.$' could not be found in the input '{"int-literal":0,"s":"it's"}'"#,
    );
    fails(
        json!({"a": [{"deep.$": "States.Array($.nope)"}]}),
        input,
        ErrorName::Runtime,
        r#"The JSONPath '$.nope' specified for the field 'deep.$' could not be found in the input '{"int-literal":0,"s":"it's"}'"#,
    );
    let expression = Expression::parse("$.ErrorX").unwrap();
    let error = expression
        .eval(&Env::data(&json!({"Error": "e"})), "ErrorPath")
        .unwrap_err();
    assert_eq!(
        error.cause_str(),
        r#"The JSONPath '$.ErrorX' specified for the field 'ErrorPath' could not be found in the input '{"Error":"e"}'"#
    );
    assert!(error.name.is_terminal());
}

#[test]
fn rejects_bad_paths() {
    let errors = PayloadTemplate::compile(
        &json!({"a.$": "not a path", "b.$": "$.ok", "c.$": "States.Array($..[)"}),
    )
    .unwrap_err();
    let locations: Vec<&str> = errors.iter().map(|e| e.location.as_str()).collect();
    assert_eq!(locations, ["/a.$", "/c.$"]);
    assert!(errors[0].message.starts_with("The value for the field 'a.$' must be a valid JSONPath or a valid intrinsic function call ("), "{}", errors[0].message);
}

#[test]
fn expression_parses_paths() {
    let expression = Expression::parse("$.a").unwrap();
    assert!(matches!(expression, Expression::Path(_)));
    assert_eq!(expression.as_str(), "$.a");
    assert_eq!(
        expression
            .eval(&Env::data(&json!({"a": [1]})), "x.$")
            .unwrap(),
        json!([1])
    );
}

/// Variables carrying limits: what a template builds over them is bounded.
struct Limited(stepfn::jsonpath::BuildLimits);

impl stepfn::jsonpath::Variables for Limited {
    fn get(&self, _: &str) -> Option<&Value> {
        None
    }

    fn build_limits(&self) -> stepfn::jsonpath::BuildLimits {
        self.0
    }
}

#[test]
fn a_template_over_variables_with_limits_stops_past_the_build_cap() {
    // a payload limit of 1000 bytes builds up to 1 MiB (the cap's floor)
    let limited = Limited(stepfn::jsonpath::BuildLimits::new().with_payload_bytes(Some(1000)));
    let input = json!({"s": "x".repeat(300 * 1024)});
    let env = Env {
        data: &input,
        context: &Value::Null,
        variables: &limited,
    };
    let copies = |n: usize| {
        let t: Map<String, Value> = (0..n).map(|i| (format!("c{i}.$"), json!("$.s"))).collect();
        compile(Value::Object(t))
    };
    assert!(copies(3).eval(&env).is_ok());
    // outside an execution the cause keeps the placeholder of the state
    assert_eq!(
        copies(4).eval(&env),
        Err(StatesError::new(
            ErrorName::DataLimitExceeded,
            "The state/task '<state>' returned a result with a size exceeding the maximum number of bytes service limit."
        ))
    );
    // without limits the variables build anything
    assert!(copies(4).eval(&Env::data(&input)).is_ok());
}

#[test]
fn a_template_builds_exactly_up_to_the_build_cap() {
    // a payload limit of 1 byte builds up to the cap's floor, 1 MiB
    let limited = Limited(stepfn::jsonpath::BuildLimits::new().with_payload_bytes(Some(1)));
    let template = compile(json!({
        "a.$": "$.s",
        "b": [1, {"c": "lit\n"}],
        "n": {"d.$": "$.list", "e.$": "$.list[*].k", "f": []},
        "g.$": "States.Array($.list, 'x')"
    }));
    let input = |pad: usize| json!({"s": "\"".repeat(pad), "list": [{"k": 1}, {"k": "é"}]});
    let size = |pad: usize| crate::common::len(&template.eval(&Env::data(&input(pad))).unwrap());
    // each quote is two bytes of JSON text: a padding whose result is
    // exactly 1 MiB, or one byte less (an odd remainder)
    let base = size(0);
    let pad = ((1 << 20) - base) / 2;
    let env_for = |data: &Value| -> Result<Value, StatesError> {
        template.eval(&Env {
            data,
            context: &Value::Null,
            variables: &limited,
        })
    };
    let at = input(pad);
    assert!(size(pad) <= 1 << 20 && size(pad) >= (1 << 20) - 1);
    assert!(env_for(&at).is_ok());
    let over = input(pad + 1);
    assert_eq!(
        env_for(&over).map_err(|e| e.name),
        Err(ErrorName::DataLimitExceeded)
    );
}
