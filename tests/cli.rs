//! The `stepfn` command line: `validate`.
#![cfg(feature = "cli")]

mod common;

use common::{TempDir, TempFile};
use serde_json::{json, Value};
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

fn temp_file(name: &str, contents: &str) -> TempFile {
    TempFile::new(name, contents)
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
        "FAIL: fixtures/machines/002_api_call_from_templates.invalid.json\n  fixtures/machines/002_api_call_from_templates.invalid.json:1:10: ERROR INVALID_JSON_DESCRIPTION: trailing characters at line 1 column 10\n"
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
    // the human output too: warnings only when asked for, located in the file
    assert_eq!(
        stdout(&stepfn(&["validate", path])),
        format!("OK: {path}\n")
    );
    let out = stepfn(&["validate", path, "--severity", "WARNING"]);
    assert!(
        stdout(&out).starts_with(&format!(
            "OK: {path}\n  {path}:1:66: WARNING NO_DOLLAR at /States/S/Parameters/a: "
        )),
        "{}",
        stdout(&out)
    );
}

#[test]
fn located_diagnostics_name_file_line_and_column() {
    let file = temp_file(
        "located.json",
        "{\n  \"StartAt\": \"A\",\n  \"States\": {\n    \"A\": {\"Type\": \"Pass\", \"Next\": \"B\"}\n  }\n}\n",
    );
    let path = file.to_str().unwrap();
    let out = stepfn(&["validate", path]);
    let run = stepfn(&["run", path]);
    assert_eq!(
        stdout(&out),
        format!("FAIL: {path}\n  {path}:4:27: ERROR MISSING_TRANSITION_TARGET at /States/A/Next: Missing 'Next' target: B\n  ERROR MISSING_END_STATE: Workflow has no terminal state\n")
    );
    assert_eq!(run.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&run.stderr),
        format!("stepfn run: invalid definition {path}\n  {path}:4:27: ERROR MISSING_TRANSITION_TARGET at /States/A/Next: Missing 'Next' target: B\n  ERROR MISSING_END_STATE: Workflow has no terminal state\n")
    );
}

#[test]
fn execution_identity_inline_or_from_a_file_and_input_from_stdin() {
    let def = temp_file(
        "ctx.json",
        r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"name.$": "$$.Execution.Name", "in.$": "$"}, "End": true}}}"#,
    );
    let ident = temp_file("ident.json", r#"{"executionName": "from-file"}"#);
    let (d, i) = (def.to_str().unwrap(), ident.to_str().unwrap());
    let inline = stepfn(&["run", d, "--execution", r#"{"executionName": "inline"}"#]);
    let from_file = stepfn(&["run", d, "--execution", i]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_stepfn"))
        .args(["run", d, "--input-file", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), br#"{"k": 1}"#)
        .expect("written");
    let stdin = child.wait_with_output().expect("ran");
    assert_eq!(json_of(&inline)["output"]["name"], json!("inline"));
    assert_eq!(json_of(&from_file)["output"]["name"], json!("from-file"));
    assert_eq!(json_of(&stdin)["output"]["in"], json!({"k": 1}));
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

fn run_with_command(definition: &Value, input: &str, command: &str) -> Value {
    let path = temp_file("task-command.json", &definition.to_string());
    let out = stepfn(&[
        "run",
        path.to_str().expect("utf-8 path"),
        "--input",
        input,
        "--task-command",
        command,
    ]);
    json_of(&out)
}

#[cfg(unix)]
#[test]
fn run_task_commands_get_stdin_and_give_stdout_or_stderr_errors() {
    let lambda = "arn:aws:lambda:us-east-1:111111111111:function:f";
    let task =
        json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": lambda, "End": true}}});
    assert_eq!(
        run_with_command(&task, r#"{"n": 2}"#, "A=cat"),
        json!({"status": "SUCCEEDED", "output": {"n": 2}})
    );
    assert_eq!(
        run_with_command(
            &task,
            "{}",
            r#"f=echo '{"errorType": "ValueError", "errorMessage": "no"}' >&2; exit 1"#
        ),
        json!({"status": "FAILED", "error": "ValueError", "cause": "no"})
    );
    let invoke = json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:1:function:fn", "Payload.$": "$.Payload"},
        "OutputPath": "$.Payload", "End": true}}});
    assert_eq!(
        run_with_command(&invoke, r#"{"Payload": {"who": "x"}}"#, "fn=cat"),
        json!({"status": "SUCCEEDED", "output": {"who": "x"}})
    );
}

#[test]
fn run_reads_input_nested_up_to_the_depth_limit() {
    let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let path = temp_file(
        "depth.json",
        r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#,
    );
    let file = path.to_str().expect("utf-8 path");
    let out = stepfn(&["run", file, "--input", &nested(1000)]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout(&out),
        format!("{{\"status\":\"SUCCEEDED\",\"output\":{}}}\n", nested(1000))
    );
    let out = stepfn(&["run", file, "--input", &nested(1001)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "--input is not valid JSON: arrays and objects are nested more than 1000 levels deep"
        ),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `stepfn run` of `definition` with `input` on stdin and these task
/// commands: the answer as JSON.
fn run_commands(definition: &Value, input: &str, commands: &[&str], extra: &[&str]) -> Value {
    let path = temp_file(
        &format!("commands-{}.json", definition.to_string().len()),
        &definition.to_string(),
    );
    let mut args = vec![
        "run",
        path.to_str().expect("utf-8 path"),
        "--input-file",
        "-",
    ];
    for c in commands {
        args.extend(["--task-command", c]);
    }
    args.extend(extra);
    let mut child = Command::new(env!("CARGO_BIN_EXE_stepfn"))
        .args(&args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_owned();
    let writer = std::thread::spawn(move || {
        let _ = std::io::Write::write_all(&mut stdin, input.as_bytes());
    });
    let out = child.wait_with_output().expect("ran");
    let _ = writer.join();
    json_of(&out)
}

fn one_task(extra: Value) -> Value {
    let mut state = json!({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:111111111111:function:f", "End": true});
    if let (Some(state), Value::Object(extra)) = (state.as_object_mut(), extra) {
        state.extend(extra);
    }
    json!({"StartAt": "A", "States": {"A": state}})
}

#[cfg(unix)]
#[test]
fn task_commands_answer_large_payloads_without_a_pipe_deadlock() {
    // cat answers while it reads: written all at once, the pipes would fill
    let big = json!({"text": "x".repeat(200_000)});
    let out = run_commands(&one_task(json!({})), &big.to_string(), &["A=cat"], &[]);
    assert_eq!(out, json!({"status": "SUCCEEDED", "output": big}));
}

#[cfg(unix)]
#[test]
fn a_task_command_printing_without_end_fails_the_task() {
    let out = run_commands(&one_task(json!({})), "{}", &["A=yes"], &[]);
    assert_eq!(
        out,
        json!({"status": "FAILED", "error": "States.DataLimitExceeded",
               "cause": "task command `yes` printed more than 262144 bytes on stdout"})
    );
}

#[cfg(unix)]
#[test]
fn a_task_command_gets_the_context_object_in_a_file() {
    // the context holds the 200 KB input: more than one environment variable may
    let big = json!({"text": "y".repeat(200_000)});
    let out = run_commands(
        &one_task(
            json!({"ResultSelector": {"input.$": "$.Execution.Input", "state.$": "$.State.Name"}}),
        ),
        &big.to_string(),
        &[r#"A=cat "$STEPFN_CONTEXT_FILE""#],
        &[],
    );
    assert_eq!(
        out,
        json!({"status": "SUCCEEDED", "output": {"input": big, "state": "A"}})
    );
}

#[cfg(unix)]
#[test]
fn a_timed_out_task_command_is_killed() {
    let dir = TempDir::new("killed");
    let marker = dir.join("finished");
    // the timeout (1 s, real time) passes while the program sleeps
    let command = format!("A=sleep 2; touch {}", marker.display());
    let out = run_commands(
        &one_task(json!({"TimeoutSeconds": 1})),
        "{}",
        &[&command],
        &[],
    );
    assert_eq!(out["error"], json!("States.Timeout"), "{out}");
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let finished = marker.exists();
    drop(dir);
    assert!(!finished, "the program ran on after its task timed out");
}

#[cfg(unix)]
#[test]
fn map_iterations_run_their_task_commands_at_once() {
    let dir = TempDir::new("map");
    // each program waits (up to 10 s) until both have started: taking turns, the
    // first would give up and fail
    let command = format!(
        r#"A=touch {d}/$$; for i in $(seq 200); do [ $(ls {d} | wc -l) -ge 2 ] && echo '"ok"' && exit 0; sleep 0.05; done; exit 1"#,
        d = dir.display()
    );
    let map = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
        "ItemProcessor": {"StartAt": "A", "States": {"A": {"Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:111111111111:function:f", "End": true}}}}}});
    let out = run_commands(&map, "[1, 2]", &[&command], &[]);
    drop(dir);
    assert_eq!(out, json!({"status": "SUCCEEDED", "output": ["ok", "ok"]}));
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
