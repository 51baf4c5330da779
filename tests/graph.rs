//! Pictures of definitions ([`stepfn::graph`]) and `stepfn graph`: golden
//! files per machine (`STEPFN_BLESS=1` rewrites them), every DOT output
//! rendered by Graphviz, and one line per behaviour.

mod common;

use common::{machine, run_recorded};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use stepfn::graph::{self, Format, Mark, Marks};
use stepfn::{sync_task_fn, HistoryEvent, StateMachine, StatesError};

const GOLDEN: &str = "tests/golden/graph";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn load(definition: &str) -> StateMachine {
    StateMachine::from_str(definition).expect("valid definition")
}

fn mermaid(definition: &str) -> String {
    graph::mermaid(&load(definition))
}

fn dot(definition: &str) -> String {
    graph::dot(&load(definition))
}

/// The lines of `text` that start with `prefix` (indentation ignored).
fn lines_of(text: &str, prefix: &str) -> Vec<String> {
    text.lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with(prefix))
        .map(str::to_owned)
        .collect()
}

/// The Mermaid `class` lines of `definition` marked by `history`.
fn classes(definition: &str, history: Value) -> Vec<String> {
    let marks = Marks::from_json(&history).expect("a history");
    let text = graph::render(&load(definition), Format::Mermaid, Some(&marks));
    lines_of(&text, "class ")
}

/// The marks of a recorded run of `sm` where every task fails with
/// `error` when `fails(state name, parameters)`.
fn run_marks(
    sm: &StateMachine,
    input: Value,
    fails: impl Fn(&str, &Value) -> bool + Send + Sync,
) -> Vec<HistoryEvent> {
    let executor = sync_task_fn(move |request| {
        if fails(request.state_name, &request.parameters) {
            Err(StatesError::new("Boom", "it broke"))
        } else {
            Ok(json!({"Payload": {"sku": "a", "reserved": true}}))
        }
    });
    run_recorded(sm, &executor, input)
        .history
        .expect("a history")
}

// ---------------------------------------------------------------------------
// golden files

/// A machine file and, for a marked picture, its history.
struct Case {
    name: String,
    machine: PathBuf,
    history: Option<Vec<HistoryEvent>>,
    aws_history: Option<PathBuf>,
}

impl Case {
    fn plain(name: String, machine: PathBuf) -> Case {
        Case {
            name,
            machine,
            history: None,
            aws_history: None,
        }
    }
}

/// Every fixture machine (fixtures/machines: the seed workflows and our
/// own) and the machines of tests/golden/graph/machines, unmarked; the AWS
/// histories of tests/golden/graph/histories on their machines; and runs
/// of ours, marked.
fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for dir in ["fixtures/machines", "tests/golden/graph/machines"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
            .expect("the machines")
            .map(|e| e.expect("an entry").path())
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                name.ends_with(".json") && !name.ends_with(".invalid.json")
            })
            .collect();
        files.sort();
        for file in files {
            let name = file.file_stem().and_then(|n| n.to_str()).expect("a name");
            cases.push(Case::plain(name.to_owned(), file.clone()));
        }
    }
    let mut histories: Vec<PathBuf> = std::fs::read_dir(root().join(GOLDEN).join("histories"))
        .expect("the histories")
        .map(|e| e.expect("an entry").path())
        .collect();
    histories.sort();
    for history in histories {
        let name = history
            .file_stem()
            .and_then(|n| n.to_str())
            .expect("a name");
        let mut case = Case::plain(
            format!("{name}.marked"),
            root()
                .join(GOLDEN)
                .join("machines")
                .join(format!("{name}.json")),
        );
        case.aws_history = Some(history.clone());
        cases.push(case);
    }
    for (name, history) in runs() {
        let (file, _) = name.split_once('.').expect("MACHINE.RUN");
        let machine = [
            root().join("fixtures/machines"),
            root().join(GOLDEN).join("machines"),
        ]
        .into_iter()
        .map(|dir| dir.join(format!("{file}.json")))
        .find(|p| p.exists())
        .expect("the run's machine");
        let mut case = Case::plain(format!("{name}.marked"), machine);
        case.history = Some(history);
        cases.push(case);
    }
    cases
}

/// Our own recorded runs, named `MACHINE.RUN`.
fn runs() -> Vec<(String, Vec<HistoryEvent>)> {
    let read = |name: &str| {
        let text = std::fs::read_to_string(root().join(name)).expect("the machine");
        load(&text)
    };
    let hello = read("fixtures/machines/004_hello_world.json");
    let order = read("fixtures/machines/order_fulfilment.json");
    let nested = read("tests/golden/graph/machines/nested.json");
    let items = json!({"order": {"id": "o1", "items": [{"sku": "a"}, {"sku": "b"}]}});
    vec![
        (
            "004_hello_world.no".into(),
            run_marks(&hello, json!({"IsHelloWorldExample": false}), |_, _| false),
        ),
        (
            "004_hello_world.yes".into(),
            run_marks(&hello, json!({"IsHelloWorldExample": true}), |_, _| false),
        ),
        (
            "order_fulfilment.reserve_fails".into(),
            run_marks(&order, items, |_, p| p["Payload"]["item"]["sku"] == "b"),
        ),
        (
            "nested.work_fails".into(),
            run_marks(
                &nested,
                json!([{"mode": "fast", "items": [1, 2, 3]}]),
                |state, _| state == "Work",
            ),
        ),
    ]
}

fn render(case: &Case, format: Format) -> String {
    let text = std::fs::read_to_string(&case.machine).expect("the machine");
    let sm = load(&text);
    let marks = match (&case.history, &case.aws_history) {
        (Some(events), _) => Some(Marks::from_history(events)),
        (None, Some(file)) => {
            let history: Value =
                serde_json::from_str(&std::fs::read_to_string(file).expect("the history"))
                    .expect("JSON");
            Some(Marks::from_json(&history).expect("a history"))
        }
        (None, None) => None,
    };
    graph::render(&sm, format, marks.as_ref())
}

/// Every picture of every case: (golden file name, text).
fn pictures() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for case in cases() {
        out.insert(format!("{}.mmd", case.name), render(&case, Format::Mermaid));
        out.insert(format!("{}.dot", case.name), render(&case, Format::Dot));
    }
    out
}

#[test]
fn golden_pictures_match() {
    let dir = root().join(GOLDEN);
    let pictures = pictures();
    let bless = std::env::var_os("STEPFN_BLESS").is_some_and(|v| v == "1");
    let mut wrong = Vec::new();
    for (name, text) in &pictures {
        let path = dir.join(name);
        if bless {
            std::fs::write(&path, text).expect("write the golden file");
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(golden) if &golden == text => {}
            Ok(golden) => {
                let line = golden
                    .lines()
                    .zip(text.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or(golden.lines().count().min(text.lines().count()));
                wrong.push(format!("{name}: differs from line {}", line + 1));
            }
            Err(_) => wrong.push(format!("{name}: no golden file")),
        }
    }
    // a golden file no case makes any more is stale
    for entry in std::fs::read_dir(&dir).expect("the golden files") {
        let name = entry.expect("an entry").file_name();
        let name = name.to_string_lossy();
        if (name.ends_with(".mmd") || name.ends_with(".dot")) && !pictures.contains_key(&*name) {
            if bless {
                std::fs::remove_file(dir.join(&*name)).expect("remove a stale golden file");
            } else {
                wrong.push(format!("{name}: stale (no machine makes it)"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "pictures differ from {GOLDEN} (STEPFN_BLESS=1 rewrites them):\n{}",
        wrong.join("\n")
    );
}

/// Graphviz reads every DOT picture. Without `dot` the test is skipped
/// with a line saying so, except under CI (`CI=true`), where it fails.
#[test]
fn graphviz_renders_every_dot_picture() {
    let version = std::process::Command::new("dot").arg("-V").output();
    if version.is_err() {
        let message = "Graphviz `dot` is not installed (apt-get install graphviz)";
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "{message}: CI=true needs it"
        );
        println!("SKIPPED: {message}");
        return;
    }
    let mut extra = BTreeMap::new();
    extra.insert("deep.dot".to_owned(), graph::dot(&deepest_nesting()));
    for (name, text) in pictures().into_iter().chain(extra) {
        if !name.ends_with(".dot") {
            continue;
        }
        let mut child = std::process::Command::new("dot")
            .arg("-Tsvg")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("dot runs");
        let mut stdin = child.stdin.take().expect("stdin");
        let writer = std::thread::spawn(move || {
            std::io::Write::write_all(&mut stdin, text.as_bytes()).expect("write to dot")
        });
        let out = child.wait_with_output().expect("dot ends");
        writer.join().expect("the writer");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name}: dot failed: {stderr}");
        assert!(!stderr.contains("rror"), "{name}: {stderr}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("<svg"),
            "{name}: no SVG"
        );
    }
}

#[test]
fn the_readme_shows_golden_pictures() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    for name in [
        "004_hello_world.mmd",
        "order_fulfilment.reserve_fails.marked.mmd",
    ] {
        let golden = std::fs::read_to_string(root().join(GOLDEN).join(name)).expect("golden");
        assert!(
            readme.contains(&format!("```mermaid\n{golden}```")),
            "README.md lacks {name}"
        );
    }
}

// ---------------------------------------------------------------------------
// one line per behaviour

const TASK: &str = "arn:aws:lambda:us-east-1:123456789012:function:f";

#[test]
fn a_machine_as_mermaid() {
    assert_eq!(
        mermaid(r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#),
        "flowchart TD\n    start((\"Start\"))\n    s0(\"A\")\n    finish((\"End\"))\n    start --> s0\n    s0 --> finish\n"
    );
}

#[test]
fn a_machine_as_dot() {
    assert_eq!(
        dot(r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#),
        "digraph stepfn {\n    graph [fontname=\"Helvetica\", fontsize=10];\n    node [fontname=\"Helvetica\", fontsize=11];\n    edge [fontname=\"Helvetica\", fontsize=9];\n    start [label=\"Start\", shape=circle];\n    s0 [label=\"A\", shape=box, style=\"rounded\"];\n    finish [label=\"End\", shape=doublecircle];\n    start -> s0;\n    s0 -> finish;\n}\n"
    );
}

#[test]
fn shapes_follow_the_state_type() {
    let text = mermaid(&format!(
        r#"{{"StartAt": "T", "States": {{
        "T": {{"Type": "Task", "Resource": "{TASK}", "Next": "C"}},
        "C": {{"Type": "Choice", "Choices": [{{"Variable": "$.x", "IsNull": true, "Next": "W"}}], "Default": "F"}},
        "W": {{"Type": "Wait", "Seconds": 1, "Next": "S"}},
        "S": {{"Type": "Succeed"}}, "F": {{"Type": "Fail"}}}}}}"#
    ));
    assert_eq!(
        lines_of(&text, "s")[1..6],
        [
            r#"s0["T"]"#,
            r#"s1{"C"}"#,
            r#"s2{{"W"}}"#,
            r#"s3(["S"])"#,
            r#"s4>"F"]"#
        ]
    );
}

#[test]
fn mermaid_escapes_names() {
    assert_eq!(
        lines_of(
            &mermaid(
                r#"{"StartAt": "a \"b\" --> #c; <i>&amp; |x| `y`", "States": {"a \"b\" --> #c; <i>&amp; |x| `y`": {"Type": "Succeed"}}}"#
            ),
            "s0"
        ),
        [
            "s0([\"a #quot;b#quot; --#gt; #35;c; #lt;i#gt;#amp;amp; #124;x#124; #96;y#96;\"])",
            "s0 --> finish"
        ]
    );
    assert_eq!(
        lines_of(
            &mermaid(
                r#"{"StartAt": "line\nbreak", "States": {"line\nbreak": {"Type": "Succeed"}}}"#
            ),
            "s0("
        )[0],
        "s0([\"line#10;break\"])"
    );
    assert_eq!(
        lines_of(
            &mermaid(r#"{"StartAt": "ünï 状態", "States": {"ünï 状態": {"Type": "Succeed"}}}"#),
            "s0("
        )[0],
        "s0([\"ünï 状態\"])"
    );
}

#[test]
fn dot_escapes_names() {
    assert_eq!(
        lines_of(
            &dot(
                r#"{"StartAt": "a \"b\" \\N -> &amp;", "States": {"a \"b\" \\N -> &amp;": {"Type": "Succeed"}}}"#
            ),
            "s0 ["
        ),
        [r#"s0 [label="a \"b\" \\N -> &amp;amp;", shape=oval];"#]
    );
    assert_eq!(
        lines_of(
            &dot(r#"{"StartAt": "x\ny\u0001", "States": {"x\ny\u0001": {"Type": "Succeed"}}}"#),
            "s0 ["
        ),
        ["s0 [label=\"x\\ny\u{fffd}\", shape=oval];"]
    );
}

#[test]
fn choice_rules_are_labelled_in_short() {
    let text = mermaid(
        r#"{"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [
        {"Variable": "$.x", "NumericEquals": 1, "Next": "A"},
        {"And": [{"Variable": "$.s", "StringMatches": "a*"}, {"Not": {"Variable": "$.v", "IsPresent": true}}], "Next": "A"},
        {"Or": [{"Variable": "$.a", "NumericLessThanPath": "$.b"}, {"Variable": "$.t", "TimestampGreaterThan": "2024-01-01T00:00:00Z"}], "Next": "A"}
        ], "Default": "A"}, "A": {"Type": "Succeed"}}}"#,
    );
    assert_eq!(
        lines_of(&text, "s0 -->"),
        [
            r#"s0 -->|"$.x == 1"| s1"#,
            r##"s0 -->|"$.s matches #quot;a*#quot; #amp;#amp; !($.v is present)"| s1"##,
            r##"s0 -->|"$.a #lt; $.b #124;#124; $.t #gt; #quot;2024-01-01T00:00:00Z#quot;"| s1"##,
            r#"s0 -->|"Default"| s1"#,
        ]
    );
}

#[test]
fn jsonata_conditions_are_labelled_with_their_text() {
    let text = mermaid(
        r#"{"QueryLanguage": "JSONata", "StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.n\n   > 3 %}", "Next": "A"}, {"Condition": false, "Next": "A"}, {"Condition": "{% $states.input.name = 'a very long name that goes on and on and on and on' %}", "Next": "A"}]}, "A": {"Type": "Succeed"}}}"#,
    );
    assert_eq!(
        lines_of(&text, "s0 -->"),
        [
            r#"s0 -->|"$states.input.n #gt; 3"| s1"#,
            r#"s0 -->|"false"| s1"#,
            r#"s0 -->|"$states.input.name = 'a very long name that goes on and on …"| s1"#
        ]
    );
}

#[test]
fn catch_edges_are_dashed_and_name_the_errors() {
    let definition = format!(
        r#"{{"StartAt": "T", "States": {{"T": {{"Type": "Task", "Resource": "{TASK}", "Catch": [{{"ErrorEquals": ["States.Timeout", "My.Error"], "Next": "F"}}, {{"ErrorEquals": ["States.ALL"], "Next": "F"}}], "End": true}}, "F": {{"Type": "Fail"}}}}}}"#
    );
    assert_eq!(
        lines_of(&mermaid(&definition), "s0 -"),
        [
            "s0 --> finish",
            r#"s0 -.->|"Catch: States.Timeout, My.Error"| s1"#,
            r#"s0 -.->|"Catch: States.ALL"| s1"#
        ]
    );
    assert_eq!(
        lines_of(&dot(&definition), "s0 ->")[1],
        r#"s0 -> s1 [label="Catch: States.Timeout, My.Error", style=dashed];"#
    );
}

#[test]
fn parallel_branches_and_map_processors_are_nested_groups() {
    let text = mermaid(
        r#"{"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}}}},
        {"StartAt": "B", "States": {"B": {"Type": "Pass", "Next": "B2"}, "B2": {"Type": "Pass", "End": true}}}]}}}"#,
    );
    assert_eq!(text, "flowchart TD\n    start((\"Start\"))\n    s0[[\"P\"]]\n    subgraph s0_b0[\"P: branch 1\"]\n        s0_b0_s0[[\"M\"]]\n        subgraph s0_b0_s0_p[\"M: each item\"]\n            s0_b0_s0_p_s0(\"I\")\n        end\n    end\n    subgraph s0_b1[\"P: branch 2\"]\n        s0_b1_s0(\"B\")\n        s0_b1_s1(\"B2\")\n    end\n    finish((\"End\"))\n    start --> s0\n    s0 -.-> s0_b0_s0\n    s0_b0_s0 -.-> s0_b0_s0_p_s0\n    s0 -.-> s0_b1_s0\n    s0_b1_s0 --> s0_b1_s1\n    s0 --> finish\n");
    assert_eq!(
        lines_of(
            &dot(
                r#"{"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}}}}"#
            ),
            "subgraph"
        ),
        ["subgraph cluster_s0_p {"]
    );
}

#[test]
fn the_deepest_definition_that_loads_is_drawn() {
    let sm = deepest_nesting();
    // on a small stack: drawing does not recurse per level of nesting
    let (text, sm) = common::small_stack(move || (graph::mermaid(&sm), sm));
    let levels = text.matches("subgraph").count();
    assert!(levels > 20, "{levels} levels");
    assert_eq!(text.lines().filter(|l| l.trim() == "end").count(), levels);
    drop(sm);
}

/// Parallel states nested as deep as loading allows.
fn deepest_nesting() -> StateMachine {
    let mut levels = 0;
    let mut last = None;
    loop {
        let mut state = json!({"Type": "Pass", "End": true});
        for i in 0..=levels {
            state = json!({"Type": "Parallel", "End": true, "Branches": [{"StartAt": format!("P{i}"), "States": {format!("P{i}"): state}}]});
        }
        match StateMachine::from_value(json!({"StartAt": "Top", "States": {"Top": state}})) {
            Ok(sm) => last = Some(sm),
            Err(_) => return last.expect("one level loads"),
        }
        levels += 1;
    }
}

#[test]
fn history_marks_passed_states() {
    let sm = machine(
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": true}}}),
    );
    let events = run_recorded(&sm, &sync_task_fn(|r| Ok(r.parameters)), json!({}))
        .history
        .expect("a history");
    assert_eq!(
        lines_of(
            &graph::render(&sm, Format::Mermaid, Some(&Marks::from_history(&events))),
            "class "
        ),
        ["class s0,s1 passed"]
    );
}

#[test]
fn history_marks_a_caught_task_and_the_failing_fail_state() {
    let definition = format!(
        r#"{{"StartAt": "T", "States": {{"T": {{"Type": "Task", "Resource": "{TASK}", "Retry": [{{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}}], "Catch": [{{"ErrorEquals": ["States.ALL"], "Next": "F"}}], "End": true}}, "F": {{"Type": "Fail"}}}}}}"#
    );
    let events = run_marks(&load(&definition), json!({}), |_, _| true);
    let marks = Marks::from_history(&events);
    assert_eq!(
        (marks.get("T"), marks.get("F")),
        (Some(Mark::Caught), Some(Mark::Failed))
    );
}

#[test]
fn history_marks_a_task_that_succeeds_on_retry_as_passed() {
    let definition = format!(
        r#"{{"StartAt": "T", "States": {{"T": {{"Type": "Task", "Resource": "{TASK}", "Retry": [{{"ErrorEquals": ["States.ALL"]}}], "End": true}}}}}}"#
    );
    let sm = load(&definition);
    let executor = sync_task_fn(|r| {
        if r.retry_count == 0 {
            Err(StatesError::new("Boom", "once"))
        } else {
            Ok(json!(1))
        }
    });
    let events = run_recorded(&sm, &executor, json!({}))
        .history
        .expect("a history");
    assert_eq!(Marks::from_history(&events).get("T"), Some(Mark::Passed));
}

#[test]
fn history_marks_states_inside_parallel_and_map() {
    let sm = load(
        &std::fs::read_to_string(root().join("tests/golden/graph/machines/nested.json"))
            .expect("nested.json"),
    );
    let marks = Marks::from_history(&run_marks(&sm, json!([{"mode": "slow"}]), |state, _| {
        state == "Work"
    }));
    let got: Vec<(&str, Mark)> = marks.iter().collect();
    assert_eq!(
        got,
        [
            ("Done", Mark::Passed),
            ("Items", Mark::Passed),
            ("Inner", Mark::Caught),
            ("Outer", Mark::Passed),
            ("Rest", Mark::Passed),
            ("Skip", Mark::Passed),
            ("Slow", Mark::Passed),
            ("Decide", Mark::Passed),
            ("Work", Mark::Failed)
        ]
        .into_iter()
        .collect::<BTreeMap<_, _>>()
        .into_iter()
        .collect::<Vec<_>>()
    );
}

#[test]
fn history_marks_an_uncaught_failure_in_nested_parallels() {
    let definition = format!(
        r#"{{"StartAt": "Outer", "States": {{"Outer": {{"Type": "Parallel", "End": true, "Branches": [{{"StartAt": "W", "States": {{"W": {{"Type": "Wait", "Seconds": 100, "End": true}}}}}}, {{"StartAt": "Inner", "States": {{"Inner": {{"Type": "Parallel", "End": true, "Branches": [{{"StartAt": "T", "States": {{"T": {{"Type": "Task", "Resource": "{TASK}", "End": true}}}}}}]}}}}}}]}}}}}}"#
    );
    let marks = Marks::from_history(&run_marks(&load(&definition), json!({}), |_, _| true));
    assert_eq!(
        [
            marks.get("Outer"),
            marks.get("Inner"),
            marks.get("T"),
            marks.get("W")
        ],
        [
            Some(Mark::Failed),
            Some(Mark::Failed),
            Some(Mark::Failed),
            Some(Mark::Passed)
        ]
    );
}

#[test]
fn history_marks_a_failing_pass_state() {
    assert_eq!(
        classes(
            r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "InputPath": "$.missing", "End": true}}}"#,
            json!({"events": [
        {"id": 1, "previousEventId": 0, "type": "ExecutionStarted"},
        {"id": 2, "previousEventId": 0, "type": "PassStateEntered", "stateEnteredEventDetails": {"name": "A"}},
        {"id": 3, "previousEventId": 2, "type": "ExecutionFailed"}]})
        ),
        ["class s0 failed"]
    );
}

#[test]
fn history_marks_the_parallel_an_execution_failed_in() {
    let sm = load(
        r#"{"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 10, "End": true}}}, {"StartAt": "Bad", "States": {"Bad": {"Type": "Pass", "InputPath": "$.missing", "End": true}}}]}}}"#,
    );
    let marks = Marks::from_history(&run_marks(&sm, json!({}), |_, _| false));
    assert_eq!(
        [marks.get("P"), marks.get("W"), marks.get("Bad")],
        [Some(Mark::Failed), Some(Mark::Passed), Some(Mark::Failed)]
    );
}

#[test]
fn histories_are_read_in_every_shape() {
    let events = json!([{"id": 2, "previousEventId": 0, "type": "PassStateEntered", "stateEnteredEventDetails": {"name": "A"}}]);
    let definition = r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#;
    assert_eq!(classes(definition, events.clone()), ["class s0 passed"]);
    assert_eq!(
        classes(definition, json!({"events": events})),
        ["class s0 passed"]
    );
    assert_eq!(
        classes(
            definition,
            json!({"status": "SUCCEEDED", "history": events})
        ),
        ["class s0 passed"]
    );
    assert_eq!(
        Marks::from_json(&json!({"status": "SUCCEEDED"}))
            .unwrap_err()
            .detail(),
        "a history is a JSON array of events, or an object with an `events` or `history` array"
    );
}

#[test]
fn histories_in_reverse_order_mark_the_same() {
    let events: Vec<Value> = serde_json::from_str::<Value>(
        &std::fs::read_to_string(
            root().join("tests/golden/graph/histories/aws_parallel_catch.json"),
        )
        .unwrap(),
    )
    .unwrap()["events"]
        .as_array()
        .unwrap()
        .clone();
    let reversed: Vec<Value> = events.iter().rev().cloned().collect();
    assert_eq!(Marks::from_events(&reversed), Marks::from_events(&events));
}

#[test]
fn hostile_histories_end_quickly() {
    // links forward, to themselves, to nothing; many exits of unknown states
    let mut events = vec![
        json!({"id": 1, "previousEventId": 1, "type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "A"}}),
    ];
    for id in 2..20_000u64 {
        events.push(json!({"id": id, "previousEventId": id - 1, "type": if id % 2 == 0 { "MapStateEntered" } else { "MapStateFailed" }, "stateEnteredEventDetails": {"name": "M"}}));
    }
    events.push(json!({"id": 30_000, "previousEventId": 40_000, "type": "TaskFailed"}));
    let marks = Marks::from_events(&events);
    assert_eq!(marks.get("M"), Some(Mark::Failed));
    // 20,000 ended Parallel entries in a line, then 20,000 events that each
    // look back past all of them: the walk stops at its budget (4 million
    // steps in all) instead of taking 400 million
    let mut events = Vec::new();
    for i in 0..20_000u64 {
        let entered = 2 * i + 1;
        events.push(json!({"id": entered, "previousEventId": entered.saturating_sub(1), "type": "ParallelStateEntered", "stateEnteredEventDetails": {"name": format!("P{i}")}}));
        events.push(json!({"id": entered + 1, "previousEventId": entered, "type": "ParallelStateExited", "stateExitedEventDetails": {"name": format!("P{i}")}}));
    }
    for id in 40_001..60_000u64 {
        events.push(json!({"id": id, "previousEventId": 40_000, "type": "ParallelStateFailed"}));
    }
    // past the budget even a one-step walk is not taken: Q's failure and
    // exit are left unattributed (Q would be Caught without the budget)
    events.push(json!({"id": 60_000, "previousEventId": 0, "type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "Q"}}));
    events.push(json!({"id": 60_001, "previousEventId": 60_000, "type": "TaskFailed"}));
    events.push(json!({"id": 60_002, "previousEventId": 60_001, "type": "TaskStateExited", "stateExitedEventDetails": {"name": "Q"}}));
    let marks = Marks::from_events(&events);
    assert_eq!(
        (marks.get("P0"), marks.get("P19999"), marks.get("Q")),
        (Some(Mark::Passed), Some(Mark::Passed), Some(Mark::Passed))
    );
}

#[test]
fn the_path_taken_is_drawn_thicker() {
    let text = graph::render(
        &load(
            &std::fs::read_to_string(
                root().join("tests/golden/graph/machines/aws_retry_catch.json"),
            )
            .unwrap(),
        ),
        Format::Mermaid,
        Some(
            &Marks::from_json(
                &serde_json::from_str(
                    &std::fs::read_to_string(
                        root().join("tests/golden/graph/histories/aws_retry_catch.json"),
                    )
                    .unwrap(),
                )
                .unwrap(),
            )
            .unwrap(),
        ),
    );
    // start -> the task, its catcher -> HandleError -> End; not the task's own End
    assert_eq!(
        lines_of(&text, "linkStyle"),
        ["linkStyle 0,2,3 stroke:#0d6efd,stroke-width:3px"]
    );
    let dot_text = graph::render(&load(r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#), Format::Dot, Some(&Marks::from_json(&json!([{"id": 2, "previousEventId": 0, "type": "PassStateEntered", "stateEnteredEventDetails": {"name": "A"}}, {"id": 3, "previousEventId": 2, "type": "PassStateExited", "stateExitedEventDetails": {"name": "A"}}])).unwrap()));
    assert_eq!(
        lines_of(&dot_text, "s0 ->"),
        [r##"s0 -> finish [color="#0d6efd", penwidth=2.5];"##]
    );
}

#[test]
fn transitions_are_read_from_exits_and_entries() {
    let marks = Marks::from_json(&json!([{"id": 3, "previousEventId": 2, "type": "PassStateExited", "stateExitedEventDetails": {"name": "A"}}, {"id": 4, "previousEventId": 3, "type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "B"}}])).unwrap();
    assert_eq!((marks.took("A", "B"), marks.took("B", "A")), (true, false));
}

#[test]
fn marks_are_styles_in_dot() {
    let definition = r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#;
    let mut marks = Marks::new();
    marks.insert("A", Mark::Caught);
    let text = graph::render(&load(definition), Format::Dot, Some(&marks));
    assert_eq!(
        lines_of(&text, "s0 ["),
        [
            r##"s0 [label="A", shape=box, style="rounded,filled", fillcolor="#fff3cd", color="#fd7e14"];"##
        ]
    );
}

#[test]
fn formats_are_read_by_name() {
    assert_eq!(
        ["mermaid", "DOT"].map(|f| f.parse::<Format>()),
        [Ok(Format::Mermaid), Ok(Format::Dot)]
    );
    assert_eq!(
        "svg".parse::<Format>(),
        Err("unknown picture format `svg` (mermaid or dot)".to_owned())
    );
}

// ---------------------------------------------------------------------------
// the command line

#[cfg(feature = "cli")]
mod cli {
    use super::common::TempFile;
    use std::process::{Command, Output};

    use crate::common::cli::stepfn;

    fn stepfn_stdin(args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_stepfn"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the binary runs");
        let mut input = child.stdin.take().expect("stdin");
        std::io::Write::write_all(&mut input, stdin.as_bytes()).expect("write stdin");
        drop(input);
        child.wait_with_output().expect("the binary ends")
    }

    fn text(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes).into_owned()
    }

    const HELLO: &str = "fixtures/machines/004_hello_world.json";

    #[test]
    fn graph_prints_the_golden_pictures() {
        let out = stepfn(&["graph", HELLO]);
        assert_eq!(
            (out.status.code(), text(&out.stdout)),
            (
                Some(0),
                std::fs::read_to_string("tests/golden/graph/004_hello_world.mmd").unwrap()
            )
        );
        let out = stepfn(&["graph", HELLO, "--format", "dot"]);
        assert_eq!(
            (out.status.code(), text(&out.stdout)),
            (
                Some(0),
                std::fs::read_to_string("tests/golden/graph/004_hello_world.dot").unwrap()
            )
        );
    }

    #[test]
    fn graph_marks_the_history_of_stepfn_run() {
        let run = stepfn(&[
            "run",
            HELLO,
            "--virtual-time",
            "--history",
            "--input",
            r#"{"IsHelloWorldExample": false}"#,
        ]);
        let history = TempFile::new("graph-run.json", &text(&run.stdout));
        let out = stepfn(&["graph", HELLO, "--history", history.text()]);
        assert_eq!(
            super::lines_of(&text(&out.stdout), "class "),
            ["class s0,s1 passed", "class s3 failed"]
        );
    }

    #[test]
    fn graph_reads_aws_histories_and_json_lines() {
        let machine = "tests/golden/graph/machines/aws_retry_catch.json";
        let out = stepfn(&[
            "graph",
            machine,
            "--history",
            "tests/golden/graph/histories/aws_retry_catch.json",
        ]);
        assert_eq!(
            super::lines_of(&text(&out.stdout), "class "),
            ["class s1 passed", "class s0 caught"]
        );
        let lines = TempFile::new("graph-lines.jsonl", "{\"id\": 1, \"previousEventId\": 0, \"type\": \"ExecutionStarted\"}\n{\"id\": 2, \"previousEventId\": 0, \"type\": \"TaskStateEntered\", \"stateEnteredEventDetails\": {\"name\": \"InvokeLambdaWithRetry\"}}\n{\"status\": \"RUNNING\"}\n");
        let out = stepfn(&["graph", machine, "--history", lines.text()]);
        assert_eq!(
            super::lines_of(&text(&out.stdout), "class "),
            ["class s0 passed"]
        );
        let history =
            std::fs::read_to_string("tests/golden/graph/histories/aws_retry_catch.json").unwrap();
        let out = stepfn_stdin(
            &["graph", machine, "--format", "dot", "--history", "-"],
            &history,
        );
        assert_eq!(
            text(&out.stdout),
            std::fs::read_to_string("tests/golden/graph/aws_retry_catch.marked.dot").unwrap()
        );
    }

    #[test]
    fn graph_notes_states_the_history_names_but_the_definition_lacks() {
        let history = TempFile::new(
            "graph-other.json",
            r#"[{"id": 2, "previousEventId": 0, "type": "PassStateEntered", "stateEnteredEventDetails": {"name": "Elsewhere"}}]"#,
        );
        let out = stepfn(&["graph", HELLO, "--history", history.text()]);
        assert_eq!((out.status.code(), text(&out.stderr)), (Some(0), "stepfn graph: note: the history names states the definition does not have: \"Elsewhere\"\n".to_owned()));
    }

    #[test]
    fn graph_usage_errors_exit_2() {
        let out = stepfn(&["graph", HELLO, "--format", "svg"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            text(&out.stderr).contains("unknown picture format `svg` (mermaid or dot)"),
            "{}",
            text(&out.stderr)
        );
        let out = stepfn(&["graph", "no/such/file.json"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(text(&out.stderr)
            .starts_with("stepfn graph: cannot read the definition no/such/file.json: "));
        let bad = TempFile::new("graph-bad-history.json", "{\"events\": 3}");
        let out = stepfn(&["graph", HELLO, "--history", bad.text()]);
        assert_eq!((out.status.code(), text(&out.stderr)), (Some(2), format!("stepfn graph: the history {}: a history is a JSON array of events, or an object with an `events` or `history` array\n", bad.text())));
    }

    #[test]
    fn graph_of_an_invalid_definition_exits_1_with_the_diagnostics() {
        let bad = TempFile::new(
            "graph-bad.json",
            r#"{"StartAt": "A", "States": {"A": {"Type": "Pass"}}}"#,
        );
        let out = stepfn(&["graph", bad.text()]);
        assert_eq!(
            (out.status.code(), text(&out.stdout)),
            (Some(1), String::new())
        );
        assert_eq!(text(&out.stderr), format!("stepfn graph: invalid definition {0}\n  {0}:1:29: ERROR SCHEMA_VALIDATION_FAILED at /States/A: either 'Next' or 'End: true' is required\n", bad.text()));
    }
}
