// The JSONPath data-flow pipeline: InputPath, templates, ResultPath, OutputPath.

use crate::jsonpath::data_flow::{
    apply_template, input_path, input_path_owned, output_path, result_path,
};
use crate::jsonpath::template::PayloadTemplate;
use crate::jsonpath::{Path, ReferencePath, Scope};
use crate::{ErrorName, StatesError};
use serde_json::{json, Value};

fn path(text: &str) -> Path {
    Path::parse(text).expect("valid path")
}

fn reference(text: &str) -> ReferencePath {
    ReferencePath::parse(text).expect("valid reference path")
}

fn scope() -> Scope<'static> {
    Scope::empty()
}

fn input(p: Option<&str>, data: Value) -> Result<Value, StatesError> {
    let p = p.map(path);
    let borrowed = input_path(p.as_ref(), &data, &scope());
    let owned = input_path_owned(p.as_ref(), data, &scope());
    assert_eq!(borrowed, owned, "input_path and input_path_owned agree");
    owned
}

fn output(p: Option<&str>, data: Value) -> Result<Value, StatesError> {
    output_path(p.map(path).as_ref(), data, &scope())
}

fn result(p: Option<&str>, raw: Value, res: Value) -> Result<Value, StatesError> {
    result_path(p.map(reference).as_ref(), raw, res)
}

fn template(t: Option<Value>, data: Value) -> Result<Value, StatesError> {
    let t = t.map(|v| PayloadTemplate::compile(&v).expect("valid template"));
    apply_template(t.as_ref(), data, &scope())
}

fn runtime(cause: &str) -> Result<Value, StatesError> {
    Err(StatesError::runtime(cause))
}

#[test]
fn input_path_null_gives_an_empty_object() {
    assert_eq!(input(None, json!({"a": 1})), Ok(json!({})));
}

#[test]
fn input_path_root_passes_everything() {
    assert_eq!(
        input(Some("$"), json!({"a": [1, 2]})),
        Ok(json!({"a": [1, 2]}))
    );
    assert_eq!(input(Some("$"), json!("text")), Ok(json!("text")));
}

#[test]
fn input_path_selects_a_node() {
    assert_eq!(
        input(Some("$.a.b"), json!({"a": {"b": [1]}, "c": 2})),
        Ok(json!([1]))
    );
    assert_eq!(
        input(Some("$.a[1]"), json!({"a": [1, {"x": 2}]})),
        Ok(json!({"x": 2}))
    );
    assert_eq!(
        input(Some("$['a b']"), json!({"a b": null})),
        Ok(json!(null))
    );
}

#[test]
fn input_path_selects_many_nodes_as_an_array() {
    assert_eq!(
        input(
            Some("$.items[?(@.n > 1)].n"),
            json!({"items": [{"n": 1}, {"n": 2}, {"n": 3}]})
        ),
        Ok(json!([2, 3]))
    );
}

#[test]
fn input_path_reads_the_context_object() {
    let context = json!({"Execution": {"Name": "e1"}});
    let s = Scope {
        context: &context,
        variables: &crate::jsonpath::NoVariables,
    };
    let p = path("$$.Execution.Name");
    assert_eq!(input_path_owned(Some(&p), json!({}), &s), Ok(json!("e1")));
    assert_eq!(input_path(Some(&p), &json!({}), &s), Ok(json!("e1")));
}

#[test]
fn input_path_miss_is_a_runtime_error() {
    assert_eq!(
        input(Some("$.NoSuchInputPath"), json!({"a": 1})),
        runtime("Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']")
    );
}

#[test]
fn template_absent_passes_data_through() {
    assert_eq!(template(None, json!({"a": 1})), Ok(json!({"a": 1})));
}

#[test]
fn template_builds_the_payload() {
    assert_eq!(
        template(Some(json!({"x.$": "$.a", "lit": "$.a"})), json!({"a": [1]})),
        Ok(json!({"x": [1], "lit": "$.a"}))
    );
}

#[test]
fn result_path_null_keeps_the_input() {
    assert_eq!(
        result(None, json!({"in": 1}), json!("r")),
        Ok(json!({"in": 1}))
    );
}

#[test]
fn result_path_root_replaces_the_input() {
    assert_eq!(
        result(Some("$"), json!({"in": 1}), json!("r")),
        Ok(json!("r"))
    );
}

#[test]
fn result_path_merges_into_the_input() {
    assert_eq!(
        result(Some("$.out"), json!({"in": 1}), json!("r")),
        Ok(json!({"in": 1, "out": "r"}))
    );
    assert_eq!(
        result(Some("$.in"), json!({"in": 1}), json!({"r": 2})),
        Ok(json!({"in": {"r": 2}}))
    );
}

#[test]
fn result_path_creates_missing_objects() {
    assert_eq!(
        result(Some("$.a.b.c"), json!({"a": {"x": 1}}), json!(true)),
        Ok(json!({"a": {"x": 1, "b": {"c": true}}}))
    );
}

#[test]
fn result_path_on_a_non_object_input_fails() {
    // AWS: States.ResultPathMatchFailure, "Unable to apply ReferencePath <path> to input <json>".
    let err = result(Some("$.out"), json!("text"), json!(1)).unwrap_err();
    assert_eq!(err.name, ErrorName::ResultPathMatchFailure);
    assert_eq!(
        err.cause_str(),
        "Unable to apply ReferencePath $.out to input \"text\""
    );
}

#[test]
fn output_path_null_gives_an_empty_object() {
    assert_eq!(output(None, json!({"a": 1})), Ok(json!({})));
}

#[test]
fn output_path_root_passes_through() {
    assert_eq!(output(Some("$"), json!([1, 2])), Ok(json!([1, 2])));
}

#[test]
fn output_path_selects_a_node() {
    assert_eq!(output(Some("$.a.b"), json!({"a": {"b": 7}})), Ok(json!(7)));
}

#[test]
fn output_path_miss_is_a_runtime_error() {
    assert_eq!(
        output(Some("$.NoSuchOutputPath"), json!({})),
        runtime("Invalid path '$.NoSuchOutputPath' : No results for path: $['NoSuchOutputPath']")
    );
}

#[test]
fn the_whole_pipeline_runs_in_order() {
    let raw = json!({"order": {"id": 7, "qty": 2}, "keep": true});
    let effective = input(Some("$.order"), raw.clone()).unwrap();
    let parameters = template(Some(json!({"orderId.$": "$.id"})), effective).unwrap();
    assert_eq!(parameters, json!({"orderId": 7}));
    let merged = result(Some("$.result"), raw, json!({"status": "ok"})).unwrap();
    assert_eq!(output(Some("$.result.status"), merged), Ok(json!("ok")));
}

#[test]
fn output_path_missing_property_on_the_way_is_a_runtime_error() {
    // Recorded on AWS (scenarios/test_catch_states_runtime).
    assert_eq!(
        output(Some("$.no.such.result.path"), json!({})),
        runtime("Invalid path '$.no.such.result.path' : Missing property in path $['no']")
    );
}

// The bounded steps are the unbounded ones with bounds kept: the same
// values, and bounds never below the real measure (the byte count exact
// where the step knows what it moved, dropped or wrote).

mod bounded {
    use super::{path, reference, scope};
    use crate::json::{measure_exact, Bounds, Measure, Payload};
    use crate::jsonpath::data_flow::{
        effective_input, output_path, result_path, result_path_bounded, select_owned,
    };
    use serde_json::{json, Value};

    const ON: Bounds = Bounds {
        max_bytes: Some(1 << 20),
        max_depth: Some(1000),
    };

    fn data() -> Value {
        json!({"a": {"b": [1, 2, {"c": "x"}]}, "d": "yy", "é": "\n"})
    }

    fn exact(value: Value) -> Payload {
        let bound = measure_exact(&value);
        Payload::new(value, bound)
    }

    #[test]
    fn select_owned_keeps_the_value_and_an_exact_byte_count() {
        for text in [
            "$",
            "$.a",
            "$.a.b",
            "$.a.b[2]",
            "$.a.b[-1].c",
            "$.d",
            "$['é']",
        ] {
            let p = path(text);
            let out = select_owned(ON, Some(&p), exact(data()), &scope()).unwrap();
            assert_eq!(out.value, output_path(Some(&p), data(), &scope()).unwrap());
            let real = measure_exact(&out.value);
            assert_eq!(out.bound.bytes, real.bytes, "{text}");
            assert!(out.bound.depth >= real.depth, "{text}");
        }
        // a path that copies: the copy is measured
        let p = path("$.a.b[*]");
        let out = select_owned(ON, Some(&p), exact(data()), &scope()).unwrap();
        assert_eq!(out.value, json!([1, 2, {"c": "x"}]));
        assert_eq!(out.bound, measure_exact(&out.value));
        // no path: `{}`
        let out = select_owned(ON, None, exact(data()), &scope()).unwrap();
        assert_eq!((out.value, out.bound), (json!({}), Measure::EMPTY_OBJECT));
    }

    #[test]
    fn result_path_keeps_the_value_and_an_exact_byte_count() {
        let cases = [
            ("$.a", json!(1)),
            ("$.d", json!({"k": [true]})),
            ("$.new", json!({"k": 1})),
            ("$.x.y.z", json!([1])),
            ("$.a.b[0]", json!("s")),
            ("$.a.b[-1].c", json!(null)),
        ];
        for (text, result) in cases {
            let p = reference(text);
            let out =
                result_path_bounded(ON, Some(&p), exact(data()), exact(result.clone())).unwrap();
            assert_eq!(out.value, result_path(Some(&p), data(), result).unwrap());
            let real = measure_exact(&out.value);
            assert_eq!(out.bound.bytes, real.bytes, "{text}");
            assert!(out.bound.depth >= real.depth, "{text}");
        }
    }

    #[test]
    fn a_failed_result_path_write_is_the_same_error_bounded_or_not() {
        let p = reference("$.d.e");
        let bounded = result_path_bounded(ON, Some(&p), exact(data()), exact(json!(1)));
        let unbounded = result_path(Some(&p), data(), json!(1));
        assert_eq!(bounded.map(|p| p.value), unbounded);
        assert!(unbounded.is_err());
    }

    #[test]
    fn effective_input_bounds_a_borrowed_selection() {
        let raw = data();
        let raw_bound = measure_exact(&raw);
        let p = path("$.a");
        let out = effective_input(ON, (Some(&p), None), (&raw, raw_bound), &scope()).unwrap();
        assert_eq!(out.value, json!({"b": [1, 2, {"c": "x"}]}));
        assert_eq!(out.bound, measure_exact(&out.value));
        let all = path("$");
        let out = effective_input(ON, (Some(&all), None), (&raw, raw_bound), &scope()).unwrap();
        assert_eq!((out.value, out.bound), (raw.clone(), raw_bound));
        // the bounds off: nothing measured
        let off = Bounds::OFF;
        let out = effective_input(off, (Some(&p), None), (&raw, raw_bound), &scope()).unwrap();
        assert_eq!(out.bound, Measure::UNKNOWN);
    }
}
