//! The `stepfn` command line: `validate`.
#![cfg(feature = "cli")]

use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Command, Output};

fn stepfn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stepfn"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).expect("stdout is one JSON value")
}

fn temp_file(name: &str, contents: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("stepfn-cli-{}-{name}", std::process::id()));
    std::fs::write(&path, contents).expect("temp file");
    path
}

#[test]
fn every_seed_workflow_is_ok() {
    for file in [
        "000_user_data_processing.json",
        "001_order_processing.json",
        "002_api_call_from_templates.json",
        "003_shopping_cart.json",
        "004_hello_world.json",
        "004_hello_lambda.json",
    ] {
        let path = format!("fixtures/machines/{file}");
        let out = stepfn(&["validate", &path]);
        assert_eq!(out.status.code(), Some(0), "{file}: {}", stdout(&out));
        assert_eq!(stdout(&out), format!("OK: {path}\n"));
    }
}

#[test]
fn seed_002_as_printed_fails() {
    let out = stepfn(&[
        "validate",
        "fixtures/machines/002_api_call_from_templates.invalid.json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "FAIL: fixtures/machines/002_api_call_from_templates.invalid.json\n  ERROR INVALID_JSON_DESCRIPTION at line: 1, column: 10: trailing characters at line 1 column 10\n"
    );
}

#[test]
fn json_output_has_aws_shape() {
    let file = temp_file("missing.json", r#"{"States": {"S": {"Type": "Succeed"}}}"#);
    let out = stepfn(&["validate", file.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        json_of(&out),
        json!({"result": "FAIL", "truncated": false, "diagnostics": [{"severity": "ERROR",
            "code": "SCHEMA_VALIDATION_FAILED", "message": "These fields are required: [StartAt]", "location": "/"}]})
    );
    let out = stepfn(&[
        "validate",
        "fixtures/machines/004_hello_world.json",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        json_of(&out),
        json!({"result": "OK", "diagnostics": [], "truncated": false})
    );
}

#[test]
fn express_type_applies_its_restrictions() {
    let out = stepfn(&[
        "validate",
        "fixtures/machines/callbacks.json",
        "--type",
        "EXPRESS",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let locations: Vec<Value> = json_of(&out)["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["location"].clone())
        .collect();
    assert_eq!(
        locations,
        [
            json!("/States/AskApproval/Resource"),
            json!("/States/RunChild/Resource"),
            json!("/States/ManualStep/Resource")
        ]
    );
    let out = stepfn(&[
        "validate",
        "fixtures/machines/callbacks.json",
        "--type",
        "STANDARD",
    ]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn warnings_only_with_severity_warning() {
    let file = temp_file(
        "warn.json",
        r#"{"StartAt": "S", "States": {"S": {"Type": "Pass", "Parameters": {"a": "$.a"}, "End": true}}}"#,
    );
    let path = file.to_str().unwrap();
    let out = stepfn(&["validate", path, "--json"]);
    assert_eq!(json_of(&out)["diagnostics"], json!([]));
    let out = stepfn(&["validate", path, "--json", "--severity", "WARNING"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json_of(&out)["diagnostics"][0]["code"], json!("NO_DOLLAR"));
    let out = stepfn(&["validate", path]);
    assert!(
        stdout(&out).contains("WARNING NO_DOLLAR at /States/S/Parameters/a"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn usage_errors_exit_2() {
    let out = stepfn(&["validate", "no/such/file.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with("stepfn: cannot read no/such/file.json")
    );
    assert_eq!(
        stepfn(&[
            "validate",
            "fixtures/machines/004_hello_world.json",
            "--type",
            "FAST"
        ])
        .status
        .code(),
        Some(2)
    );
    assert_eq!(
        stepfn(&[
            "validate",
            "fixtures/machines/004_hello_world.json",
            "--bogus"
        ])
        .status
        .code(),
        Some(2)
    );
    assert_eq!(stepfn(&["validate"]).status.code(), Some(2));
    assert_eq!(stepfn(&[]).status.code(), Some(2));
    assert_eq!(stepfn(&["--help"]).status.code(), Some(0));
}

#[test]
fn garbage_input_never_panics() {
    for contents in [
        "",
        "null",
        "[1,2",
        "{\"StartAt\": 5, \"States\": []}",
        "\u{feff}{}",
    ] {
        let file = temp_file("garbage.json", contents);
        let out = stepfn(&["validate", file.to_str().unwrap(), "--json"]);
        assert_eq!(out.status.code(), Some(1), "{contents:?}");
        assert_eq!(json_of(&out)["result"], json!("FAIL"));
    }
}

fn stepfn_stdin(args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_stepfn"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("the binary ends")
}

#[test]
fn eval_jsonata_prints_the_result() {
    let out = stepfn(&[
        "eval",
        "--jsonata",
        "$sum(a) & '/' & $x",
        "--input",
        r#"{"a":[1,2]}"#,
        "--bindings",
        r#"{"x":"y"}"#,
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "\"3/y\"\n");
    let out = stepfn(&[
        "eval",
        "--jsonata",
        "$states.context.Execution.Id",
        "--context",
        r#"{"Execution":{"Id":"e1"}}"#,
    ]);
    assert_eq!(stdout(&out), "\"e1\"\n");
}

#[test]
fn eval_jsonata_undefined_and_errors() {
    let out = stepfn(&["eval", "--jsonata", "nothing", "--input", "{}"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "note: the result is undefined\n"
    );
    let out = stepfn(&["eval", "--jsonata", "1 + 'a'"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "T2002: The right side of the \"+\" operator must evaluate to a number (at position 3)\n"
    );
}

#[test]
fn eval_jsonpath_paths_and_intrinsics() {
    let out = stepfn(&["eval", "--jsonpath", "$.a[1]", "--input", r#"{"a":[1,2]}"#]);
    assert_eq!(stdout(&out), "2\n");
    let out = stepfn(&[
        "eval",
        "--jsonpath",
        "$$.Execution.Id",
        "--context",
        r#"{"Execution":{"Id":"e1"}}"#,
    ]);
    assert_eq!(stdout(&out), "\"e1\"\n");
    let out = stepfn(&[
        "eval",
        "--jsonpath",
        "States.Format('{}-{}', $.a, $v)",
        "--input",
        r#"{"a":1}"#,
        "--bindings",
        r#"{"v":"w"}"#,
    ]);
    assert_eq!(stdout(&out), "\"1-w\"\n");
}

#[test]
fn eval_batch_speaks_the_harness_protocol() {
    let out = stepfn_stdin(
        &["eval", "--batch"],
        "{\"id\":\"a\",\"expr\":\"x + 1\",\"data\":{\"x\":1},\"bindings\":{}}\n{\"id\":\"b\",\"expr\":\"y\",\"bindings\":{}}\n{\"id\":\"c\",\"expr\":\"$z(\",\"bindings\":{}}\n",
    );
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(
        lines,
        vec![
            json!({"id": "a", "result": 2}),
            json!({"id": "b", "undefined": true}),
            json!({"id": "c", "error": {"code": "S0203", "message": "Expected \")\" before end of expression", "position": 3, "token": "(end)", "value": ")"}}),
        ]
    );
}
