//! The `stepfn` command line: `validate`.
#![cfg(feature = "cli")]

mod common;

use common::cli::{json_of, stderr, stdout, stepfn};

use common::{TempDir, TempFile};
use serde_json::{json, Value};
use std::process::{Command, Output};

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

/// The lines `stepfn run --events` prints: the events, then the answer.
fn events_and_answer(out: &Output) -> (Vec<Value>, Value) {
    let mut lines: Vec<Value> = stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let answer = lines.pop().expect("an answer");
    (lines, answer)
}

#[test]
fn run_events_prints_each_event_then_the_outcome() {
    let out = stepfn(&[
        "run",
        "fixtures/machines/004_hello_world.json",
        "--input",
        r#"{"IsHelloWorldExample": true}"#,
        "--events",
        "--history",
        "--virtual-time",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let (events, answer) = events_and_answer(&out);
    assert_eq!(answer["status"], "SUCCEEDED");
    // the lines are the events of the history, in its shape
    assert_eq!(Value::Array(events.clone()), answer["history"]);
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types.first(), Some(&"ExecutionStarted"));
    assert_eq!(types.last(), Some(&"ExecutionSucceeded"));
    // without --history the answer has none, the lines are the same
    let out = stepfn(&[
        "run",
        "fixtures/machines/004_hello_world.json",
        "--input",
        r#"{"IsHelloWorldExample": true}"#,
        "--events",
        "--virtual-time",
    ]);
    let (alone, answer) = events_and_answer(&out);
    assert_eq!(answer.get("history"), None);
    let types_alone: Vec<&str> = alone.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types_alone, types);
}

/// The events are printed as they happen: the task command counts the
/// lines stepfn has written to its stdout (a file) when the task runs.
#[cfg(unix)]
#[test]
fn run_events_are_printed_before_the_execution_ends() {
    let definition = json!({"StartAt": "Count", "States": {
        "Count": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "Done"},
        "Done": {"Type": "Pass", "End": true}}});
    let path = temp_file("events-count.json", &definition.to_string());
    let printed = temp_file("events-printed.jsonl", "");
    let command = format!("Count=wc -l < '{}'", printed.text());
    let status = Command::new(env!("CARGO_BIN_EXE_stepfn"))
        .args(["run", path.text(), "--events", "--task-command", &command])
        .stdout(std::fs::File::create(&*printed).unwrap())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let out = std::fs::read_to_string(&*printed).unwrap();
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // ExecutionStarted, TaskStateEntered, TaskScheduled, TaskStarted were
    // on stdout when the command ran
    assert_eq!(lines.last().unwrap()["output"]["Payload"], json!(4));
    let before: Vec<&str> = lines[..4]
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        before,
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted"
        ]
    );
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

// ---------------------------------------------------------------------------
// Durable executions over a store: start, worker, describe, history, list,
// stop, redrive, send-task-*.

/// A SQLite store in a temporary directory (removed on drop), and the
/// definitions written there.
struct Store {
    dir: TempDir,
    url: String,
}

impl Store {
    fn sqlite(name: &str) -> Store {
        let dir = TempDir::new(&format!("durable-{name}"));
        let url = format!("sqlite:{}", dir.join("store.db").display());
        Store { dir, url }
    }

    /// Writes `definition` as `MACHINE.json`; its path.
    fn definition(&self, machine: &str, definition: &Value) -> String {
        let path = self.dir.join(format!("{machine}.json"));
        std::fs::write(&path, definition.to_string()).expect("definition written");
        path.to_str().expect("utf-8 path").to_owned()
    }

    /// `stepfn SUBCOMMAND --store URL ARGS...`.
    fn run(&self, subcommand: &str, args: &[&str]) -> Output {
        let mut all = vec![subcommand, "--store", &self.url];
        all.extend(args);
        stepfn(&all)
    }

    /// `stepfn worker --store URL ARGS... --until-idle`, which must end
    /// with exit 0 and print nothing.
    fn work(&self, args: &[&str]) {
        let mut all = args.to_vec();
        all.push("--until-idle");
        let out = self.run("worker", &all);
        assert_eq!(
            out.status.code(),
            Some(0),
            "worker {args:?}: {}",
            stderr(&out)
        );
        assert_eq!(stdout(&out), "");
    }

    /// `run`, which must succeed: its JSON answer.
    fn ok(&self, subcommand: &str, args: &[&str]) -> Value {
        let out = self.run(subcommand, args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{subcommand} {args:?}: {}",
            stderr(&out)
        );
        json_of(&out)
    }
}

const ARN: &str = "arn:aws:states:us-east-1:123456789012";

fn lambda_then_pass() -> Value {
    json!({"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:111111111111:function:f", "Next": "P"},
        "P": {"Type": "Pass", "End": true}}})
}

/// Every durable subcommand checks its --store URL: exit 2 and a usage line.
#[test]
fn a_store_url_of_another_kind_is_a_usage_error() {
    let out = stepfn(&["describe", "--store", "mysql://x", "arn"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "stepfn describe: --store `mysql://x` is neither sqlite:PATH nor a postgresql:// URL\n"
    );
    let out = stepfn(&["list", "--store", "sqlite:"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "stepfn list: --store `sqlite:` needs a path: sqlite:PATH\n"
    );
    let out = stepfn(&["start", "fixtures/machines/004_hello_world.json"]);
    assert_eq!(out.status.code(), Some(2), "--store is required");
}

/// `worker --lease SECONDS`: how long its claims hold (the chaos test in
/// tests/durable/chaos.rs runs workers with 2 s); 1 to 86400.
#[test]
fn a_worker_lease_is_1_to_86400_seconds() {
    let store = Store::sqlite("lease");
    for bad in ["0", "86401", "1.5"] {
        let out = store.run("worker", &["--lease", bad, "--until-idle"]);
        assert_eq!(out.status.code(), Some(2), "--lease {bad}");
        assert!(
            stderr(&out).starts_with(&format!(
                "error: invalid value '{bad}' for '--lease <SECONDS>'"
            )),
            "{}",
            stderr(&out)
        );
    }
    store.work(&["--lease", "1"]);
}

#[test]
fn start_names_the_machine_after_the_file_and_is_idempotent_by_name() {
    let store = Store::sqlite("start");
    let file = store.definition("Orders", &lambda_then_pass());
    let started = store.ok(
        "start",
        &[&file, "--input", r#"{"n": 1}"#, "--name", "first"],
    );
    assert_eq!(
        started["executionArn"],
        json!(format!("{ARN}:execution:Orders:first"))
    );
    let date = started["startDate"].as_str().expect("a date");
    assert!(date.ends_with('Z') && date.len() == 24, "{date}");
    // the same name and input again: the same execution
    let again = store.ok(
        "start",
        &[&file, "--input", r#"{"n": 1}"#, "--name", "first"],
    );
    assert_eq!(again, started);
    // another input under that name: refused, AWS's error name on stderr
    let out = store.run(
        "start",
        &[&file, "--input", r#"{"n": 2}"#, "--name", "first"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "ExecutionAlreadyExists: Execution Already Exists: '{ARN}:execution:Orders:first'\n"
        )
    );
    // a name defaults to a UUID; the machine name, region and account to flags
    let other = store.ok(
        "start",
        &[
            &file,
            "--state-machine-name",
            "M",
            "--region",
            "eu-west-1",
            "--account",
            "111122223333",
        ],
    );
    let arn = other["executionArn"].as_str().expect("an ARN");
    let name = arn
        .strip_prefix("arn:aws:states:eu-west-1:111122223333:execution:M:")
        .expect("the flags' ARN");
    assert!(uuid::Uuid::parse_str(name).is_ok(), "{name}");
}

#[test]
fn start_refuses_an_invalid_definition() {
    let store = Store::sqlite("unsupported");
    let bad = store.definition("Bad", &json!({"StartAt": "X", "States": {}}));
    assert_eq!(store.run("start", &[&bad]).status.code(), Some(2));
}

#[cfg(unix)]
#[test]
fn a_worker_runs_started_executions_with_task_commands_until_idle() {
    let store = Store::sqlite("worker");
    let file = store.definition("Orders", &lambda_then_pass());
    store.ok("start", &[&file, "--input", r#"{"n": 1}"#, "--name", "one"]);
    let arn = format!("{ARN}:execution:Orders:one");
    let running = store.ok("describe", &[&arn]);
    assert_eq!(running["status"], json!("RUNNING"));
    assert_eq!(running["redriveStatus"], json!("NOT_REDRIVABLE"));
    // the task command gets the idempotency key in the environment
    store.work(&[
        "--task-command",
        r#"A=printf '{"key": "%s"}' "$STEPFN_IDEMPOTENCY_KEY""#,
    ]);
    let mut done = store.ok("describe", &[&arn]);
    let start = running["startDate"].clone();
    assert!(done["stopDate"].is_string());
    done.as_object_mut().expect("an object").remove("stopDate");
    assert_eq!(
        done,
        json!({"executionArn": arn, "stateMachineArn": format!("{ARN}:stateMachine:Orders"),
            "name": "one", "status": "SUCCEEDED", "startDate": start,
            "input": r#"{"n":1}"#, "inputDetails": {"included": true},
            "output": format!(r#"{{"key":"{arn}//2/0"}}"#), "outputDetails": {"included": true},
            "redriveCount": 0, "redriveStatus": "NOT_REDRIVABLE",
            "redriveStatusReason": "Execution is SUCCEEDED and cannot be redriven"})
    );
}

/// A `.waitForTaskToken` task parks its execution: a worker with
/// `--until-idle` leaves it waiting; `send-task-success` from another
/// process wakes it, and the next worker ends it. A second answer is
/// refused with AWS's error.
#[test]
fn a_callback_task_is_answered_from_another_process() {
    let store = Store::sqlite("callback");
    let definition = json!({"StartAt": "Ask", "States": {
        "Ask": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}},
                "ResultPath": "$.answer", "End": true}}});
    let file = store.definition("Ask", &definition);
    store.ok("start", &[&file, "--name", "one"]);
    let token_file = store.dir.join("token");
    let command = format!(
        r#"Ask=printf %s "$STEPFN_TASK_TOKEN" > '{}'; echo '{{}}'"#,
        token_file.display()
    );
    store.work(&["--task-command", &command]);
    let arn = format!("{ARN}:execution:Ask:one");
    assert_eq!(store.ok("describe", &[&arn])["status"], json!("RUNNING"));
    let token = std::fs::read_to_string(&token_file).expect("the token");
    let answer = ["--task-token", &token, "--output", r#"{"ok": 1}"#];
    store.ok("send-task-success", &answer);
    store.work(&["--task-command", &command]);
    let done = store.ok("describe", &[&arn]);
    assert_eq!(done["status"], json!("SUCCEEDED"));
    assert_eq!(done["output"], json!(r#"{"answer":{"ok":1}}"#));
    let again = store.run("send-task-success", &answer);
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        stderr(&again),
        "TaskTimedOut: Task Timed Out: 'Provided task does not exist anymore'\n"
    );
}

#[test]
fn a_worker_with_mocks_runs_several_executions_at_once() {
    let store = Store::sqlite("mocks");
    let file = store.definition("Orders", &lambda_then_pass());
    // a worker counts mock invocations per execution, as `stepfn run` and
    // Step Functions Local do: each execution's one call of A is its
    // invocation 0
    let config = store.dir.join("mocks.json");
    std::fs::write(
        &config,
        json!({"StateMachines": {"Orders": {"TestCases": {"Happy": {"A": "Ok"}}}},
            "MockedResponses": {"Ok": {"0": {"Return": {"ok": true}}, "1": {"Throw": {"Error": "Again", "Cause": "counted for all"}}}}})
        .to_string(),
    )
    .expect("mock config written");
    for i in 0..6 {
        store.ok("start", &[&file, "--name", &format!("run-{i}")]);
    }
    let config = config.to_str().expect("utf-8 path");
    store.work(&[
        "--mock-config",
        config,
        "--test-case",
        "Happy",
        "--concurrency",
        "3",
    ]);
    let listed = store.ok("list", &["--status", "SUCCEEDED"]);
    let executions = listed["executions"].as_array().expect("executions");
    assert_eq!(executions.len(), 6);
    assert_eq!(listed.get("nextToken"), None);
    for e in executions {
        let described = store.ok("describe", &[e["executionArn"].as_str().expect("an ARN")]);
        assert_eq!(described["output"], json!(r#"{"ok":true}"#));
    }
    assert_eq!(
        store.run("worker", &["--concurrency", "0"]).status.code(),
        Some(2)
    );
}

#[test]
fn history_and_list_page_as_aws_does() {
    let store = Store::sqlite("paging");
    let pass = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
    let file = store.definition("Pass", &pass);
    for name in ["a", "b", "c"] {
        store.ok("start", &[&file, "--name", name]);
    }
    store.work(&[]);
    let arn = format!("{ARN}:execution:Pass:a");
    let all = store.ok("history", &[&arn]);
    let types: Vec<&str> = all["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["type"].as_str().expect("a type"))
        .collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
    assert_eq!(all.get("nextToken"), None);
    let first = store.ok("history", &[&arn, "--reverse-order", "--max-results", "3"]);
    let ids: Vec<&Value> = first["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| &e["id"])
        .collect();
    assert_eq!(ids, [&json!(4), &json!(3), &json!(2)]);
    let token = first["nextToken"].as_str().expect("a next token");
    let rest = store.ok(
        "history",
        &[
            &arn,
            "--reverse-order",
            "--max-results",
            "3",
            "--next-token",
            token,
        ],
    );
    assert_eq!(rest["events"].as_array().expect("events").len(), 1);
    assert_eq!(rest["events"][0]["id"], json!(1));
    assert_eq!(rest.get("nextToken"), None);

    let page = store.ok("list", &["--max-results", "2"]);
    assert_eq!(page["executions"].as_array().expect("executions").len(), 2);
    let token = page["nextToken"].as_str().expect("a next token");
    let last = store.ok("list", &["--max-results", "2", "--next-token", token]);
    assert_eq!(last["executions"].as_array().expect("executions").len(), 1);
    let summary = &last["executions"][0];
    let keys: Vec<&String> = summary.as_object().expect("an object").keys().collect();
    assert_eq!(
        keys,
        [
            "executionArn",
            "stateMachineArn",
            "name",
            "status",
            "startDate",
            "stopDate",
            "redriveCount"
        ]
    );
    assert_eq!(
        store.ok("list", &["--status", "RUNNING"]),
        json!({"executions": []})
    );
    let out = store.run("list", &["--status", "DONE"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "stepfn list: --status `DONE` is not one of RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED\n"
    );
    let out = store.run("history", &[&arn, "--next-token", "bogus"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "InvalidToken: Invalid Token: 'bogus'\n");
}

#[test]
fn refused_requests_exit_1_with_aws_error_names() {
    let store = Store::sqlite("refused");
    let missing = format!("{ARN}:execution:M:none");
    for subcommand in ["describe", "history", "stop", "redrive"] {
        let out = store.run(subcommand, &[&missing]);
        assert_eq!(out.status.code(), Some(1), "{subcommand}");
        assert_eq!(
            stderr(&out),
            format!("ExecutionDoesNotExist: Execution Does Not Exist: '{missing}'\n"),
            "{subcommand}"
        );
    }
    for args in [
        vec!["send-task-success", "--task-token", "t", "--output", "{}"],
        vec!["send-task-failure", "--task-token", "t", "--error", "E"],
        vec!["send-task-heartbeat", "--task-token", "t"],
    ] {
        let out = store.run(args[0], &args[1..]);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(
            stderr(&out),
            "InvalidToken: Invalid Token: 'Invalid token'\n",
            "{args:?}"
        );
    }
    let out = store.run("send-task-success", &["--task-token", "t", "--output", "{"]);
    assert_eq!(out.status.code(), Some(2));
}

#[cfg(unix)]
#[test]
fn stop_aborts_and_a_redriven_execution_is_run_again_by_a_worker() {
    let store = Store::sqlite("stop-redrive");
    let file = store.definition("Orders", &lambda_then_pass());
    store.ok("start", &[&file, "--name", "stopped"]);
    store.ok("start", &[&file, "--name", "failed"]);
    let stopped = format!("{ARN}:execution:Orders:stopped");
    let failed = format!("{ARN}:execution:Orders:failed");
    let answer = store.ok("stop", &[&stopped, "--error", "Halt", "--cause", "by hand"]);
    assert!(answer["stopDate"].is_string(), "{answer}");
    // the first worker: the stop is honoured, the task fails
    store.work(&[
        "--task-command",
        r#"A=echo '{"errorType": "Boom", "errorMessage": "no"}' >&2; exit 1"#,
    ]);
    let d = store.ok("describe", &[&stopped]);
    assert_eq!(
        (&d["status"], &d["error"], &d["cause"]),
        (&json!("ABORTED"), &json!("Halt"), &json!("by hand"))
    );
    let d = store.ok("describe", &[&failed]);
    assert_eq!(
        (&d["status"], &d["error"], &d["cause"], &d["redriveStatus"]),
        (
            &json!("FAILED"),
            &json!("Boom"),
            &json!("no"),
            &json!("REDRIVABLE")
        )
    );
    assert_eq!(d.get("redriveStatusReason"), None);
    let redriven = store.ok("redrive", &[&failed]);
    assert!(redriven["redriveDate"].is_string(), "{redriven}");
    let d = store.ok("describe", &[&failed]);
    assert_eq!(
        (&d["status"], &d["redriveCount"], &d["redriveDate"]),
        (&json!("RUNNING"), &json!(1), &redriven["redriveDate"])
    );
    let events = store.ok(
        "history",
        &[&failed, "--reverse-order", "--max-results", "1"],
    );
    assert_eq!(events["events"][0]["type"], json!("ExecutionRedriven"));
    assert_eq!(
        events["events"][0]["executionRedrivenEventDetails"],
        json!({"redriveCount": 1})
    );
    // a worker runs it again from the task that failed, which succeeds now
    store.work(&["--task-command", r#"A=echo '{"ok": true}'"#]);
    let d = store.ok("describe", &[&failed]);
    assert_eq!(
        (&d["status"], &d["output"], &d["redriveCount"]),
        (&json!("SUCCEEDED"), &json!(r#"{"ok":true}"#), &json!(1))
    );
    let events = store.ok("history", &[&failed]);
    let types: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .skip_while(|t| *t != "ExecutionRedriven")
        .collect();
    assert_eq!(
        types,
        [
            "ExecutionRedriven",
            "TaskStateEntered",
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted",
            "LambdaFunctionSucceeded",
            "TaskStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
    // the stopped execution was not redriven: it stays as it was
    let d = store.ok("describe", &[&stopped]);
    assert_eq!(d["status"], json!("ABORTED"));
}

/// The same over PostgreSQL when `$STEPFN_PG_URL` names one (libpq
/// key=value form, as `.ci/postgres.sh` sets it, or a URL).
#[test]
fn start_worker_describe_over_postgres() {
    let Ok(setting) = std::env::var("STEPFN_PG_URL") else {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "STEPFN_PG_URL is not set (CI=true: a missing database fails)"
        );
        println!("SKIPPED: STEPFN_PG_URL is not set: no PostgreSQL to test against");
        return;
    };
    let url = if setting.starts_with("postgres") {
        setting
    } else {
        let field = |key: &str| {
            setting
                .split_whitespace()
                .find_map(|kv| kv.strip_prefix(&format!("{key}=")).map(str::to_owned))
        };
        let mut url = format!(
            "postgresql://{}@/{}?",
            field("user").unwrap_or_else(|| "postgres".into()),
            field("dbname").unwrap_or_else(|| "postgres".into())
        );
        if let Some(host) = field("host") {
            url.push_str(&format!("host={host}&"));
        }
        if let Some(port) = field("port") {
            url.push_str(&format!("port={port}"));
        }
        url
    };
    let mut store = Store::sqlite("postgres");
    store.url = url;
    let pass = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 1, "End": true}}});
    let file = store.definition("PgCli", &pass);
    let name = uuid::Uuid::new_v4().to_string();
    let started = store.ok("start", &[&file, "--name", &name]);
    let arn = format!("{ARN}:execution:PgCli:{name}");
    assert_eq!(started["executionArn"], json!(arn));
    store.work(&[]);
    let d = store.ok("describe", &[&arn]);
    assert_eq!(
        (&d["status"], &d["output"]),
        (&json!("SUCCEEDED"), &json!("1"))
    );
}
