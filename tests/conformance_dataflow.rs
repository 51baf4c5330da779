//! AWS-recorded conformance cases for Choice rules and intrinsic functions,
//! run through a tiny test-only walker over the raw JSON definition (Pass
//! and Choice states only) built from the public data-flow, template and
//! choice APIs. A stand-in until the engine-based conformance runner exists.
//!
//! Cases come from `$STEPFN_CONFORMANCE_DIR/cases` or else
//! `../shared/conformance/cases` (relative to the crate, or `../../shared` from a worktree); when neither exists
//! the test prints a line and passes.

use serde_json::{Map, Value};
use std::path::PathBuf;
use stepfn::choice::ChoiceRule;
use stepfn::data_flow::{apply_template, input_path_owned, output_path, result_path};
use stepfn::path::{NoVariables, Path, ReferencePath, Scope};
use stepfn::template::PayloadTemplate;
use stepfn::{ErrorName, StatesError};

/// Cases expected to fail here, with the reason.
const KNOWN_FAILURES: &[(&str, &str)] = &[];

const CATEGORIES: &[&str] = &["choice_operators", "intrinsic_functions"];

fn corpus_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("STEPFN_CONFORMANCE_DIR") {
        return Some(PathBuf::from(dir));
    }
    // `../shared` beside the repository; `../../shared` from a worktree under `wt/`.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    ["../shared/conformance", "../../shared/conformance"]
        .iter()
        .map(|rel| root.join(rel))
        .find(|dir| dir.join("cases").is_dir())
}

/// What running a case gave; `Unsupported` says why the walker could not run it.
enum Outcome {
    Output(Value),
    Failed(StatesError),
    Unsupported(String),
}

fn optional_path(state: &Map<String, Value>, field: &str) -> Result<Option<Path>, String> {
    match state.get(field) {
        None => Path::parse("$").map(Some).map_err(|e| e.to_string()),
        Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Path::parse(s).map(Some).map_err(|e| e.to_string()),
        Some(other) => Err(format!("bad {field}: {other}")),
    }
}

fn next_of(state: &Map<String, Value>) -> Option<String> {
    state.get("Next").and_then(Value::as_str).map(str::to_owned)
}

/// A context object like AWS's for a Pass/Choice state, from the case's
/// `execution` identity (times are not compared by these cases).
fn context_of(case: &Value, state: &str) -> Value {
    let e = &case["execution"];
    serde_json::json!({
        "Execution": {
            "Id": e["executionArn"],
            "Input": case["input"],
            "Name": e["executionName"],
            "RoleArn": e["roleArn"],
            "StartTime": "2024-01-01T00:00:00.000Z",
            "RedriveCount": 0
        },
        "StateMachine": {"Id": e["stateMachineArn"], "Name": e["stateMachineName"]},
        "State": {"Name": state, "EnteredTime": "2024-01-01T00:00:00.000Z"}
    })
}

fn run(case: &Value) -> Outcome {
    match walk(case) {
        Ok(Ok(output)) => Outcome::Output(output),
        Ok(Err(error)) => Outcome::Failed(error),
        Err(reason) => Outcome::Unsupported(reason),
    }
}

/// `Err(reason)` when the definition uses what this walker does not support.
fn walk(case: &Value) -> Result<Result<Value, StatesError>, String> {
    let definition = &case["definition"];
    let mut data = case["input"].clone();
    let states = definition["States"].as_object().ok_or("no States")?;
    let mut current = definition["StartAt"]
        .as_str()
        .ok_or("no StartAt")?
        .to_owned();
    for _ in 0..1000 {
        let context = context_of(case, &current);
        let scope = Scope {
            context: &context,
            variables: &NoVariables,
        };
        let state = states[&current]
            .as_object()
            .ok_or("state is not an object")?;
        if state.contains_key("QueryLanguage") || definition.get("QueryLanguage").is_some() {
            return Err("JSONata is not supported yet".into());
        }
        let input_p = optional_path(state, "InputPath")?;
        let output_p = optional_path(state, "OutputPath")?;
        let step = match state["Type"].as_str() {
            Some("Pass") => {
                let raw = data.clone();
                let effective = input_path_owned(input_p.as_ref(), data, &scope);
                let result_p = match state.get("ResultPath") {
                    None => Some(ReferencePath::parse("$").map_err(|e| e.to_string())?),
                    Some(Value::Null) => None,
                    Some(Value::String(s)) => {
                        Some(ReferencePath::parse(s).map_err(|e| e.to_string())?)
                    }
                    Some(other) => return Err(format!("bad ResultPath {other}")),
                };
                let template = match state.get("Parameters") {
                    Some(t) => Some(PayloadTemplate::compile(t).map_err(|e| format!("{e:?}"))?),
                    None => None,
                };
                effective
                    .and_then(|effective| match state.get("Result") {
                        Some(result) => Ok(result.clone()),
                        None => apply_template(template.as_ref(), effective, &scope),
                    })
                    .and_then(|result| result_path(result_p.as_ref(), raw, result))
                    .and_then(|merged| output_path(output_p.as_ref(), merged, &scope))
                    .map(|output| (output, next_of(state)))
            }
            Some("Choice") => {
                let mut next = None;
                let effective = match input_path_owned(input_p.as_ref(), data, &scope) {
                    Ok(v) => v,
                    Err(e) => return Ok(Err(e)),
                };
                let rules = state["Choices"].as_array().ok_or("no Choices")?;
                for (i, rule) in rules.iter().enumerate() {
                    let location = format!("/States/{current}/Choices/{i}");
                    let rule = ChoiceRule::compile(rule, &location, false)
                        .map_err(|d| format!("rule rejected: {d:?}"))?;
                    match rule.condition.eval(&scope.env(&effective)) {
                        Ok(true) => {
                            next = Some(rule.next.clone());
                            break;
                        }
                        Ok(false) => {}
                        Err(e) => return Ok(Err(e)),
                    }
                }
                let default = state
                    .get("Default")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let next = match next.or(default) {
                    Some(next) => next,
                    None => return Ok(Err(StatesError::without_cause(ErrorName::NoChoiceMatched))),
                };
                output_path(output_p.as_ref(), effective, &scope).map(|o| (o, Some(next)))
            }
            other => return Err(format!("state type {other:?}")),
        };
        match step {
            Err(e) => return Ok(Err(e)),
            Ok((output, None)) => return Ok(Ok(output)),
            Ok((output, Some(next))) => {
                data = output;
                current = next;
            }
        }
    }
    Err("too many transitions".into())
}

fn needs(case: &Value, tag: &str) -> bool {
    case["needs"]
        .as_array()
        .is_some_and(|n| n.iter().any(|t| t == tag))
}

/// Compares with AWS's recording; random results are checked loosely.
fn matches(case: &Value, actual: &Value) -> bool {
    let expected = &case["expected"]["output"];
    if needs(case, "random") && expected["FunctionResult"] == "RandomNumberGenerated" {
        let input = &case["input"]["FunctionInput"];
        let (lo, hi) = (input["fst"].as_f64(), input["snd"].as_f64());
        return match (actual["FunctionResult"].as_f64(), lo, hi) {
            (Some(n), Some(lo), Some(hi)) => n >= lo.floor() && n <= hi.ceil(),
            _ => false,
        };
    }
    expected == actual
}

#[test]
fn recorded_choice_and_intrinsic_cases() {
    let Some(dir) = corpus_dir() else {
        println!("conformance corpus not found (set STEPFN_CONFORMANCE_DIR); skipped");
        return;
    };
    let mut failures = Vec::new();
    for category in CATEGORIES {
        let file = dir.join("cases").join(format!("{category}.jsonl"));
        let text = std::fs::read_to_string(&file).expect("readable case file");
        let (mut passed, mut skipped, mut total) = (0, 0, 0);
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let case: Value = serde_json::from_str(line).expect("case is JSON");
            let id = case["id"].as_str().unwrap_or("?").to_owned();
            total += 1;
            let expected = &case["expected"];
            let outcome = run(&case);
            let ok = match (&outcome, expected["status"].as_str()) {
                (Outcome::Output(actual), Some("SUCCEEDED")) => matches(&case, actual),
                (Outcome::Failed(e), Some("FAILED")) => {
                    expected["error"] == e.name.as_str()
                        && expected["cause"]
                            .as_str()
                            .unwrap_or("")
                            .ends_with(e.cause_str())
                }
                // Only JSONata cases may be skipped; anything else the walker
                // cannot run is a failure, so that skips cannot hide regressions.
                (Outcome::Unsupported(reason), _) if needs(&case, "jsonata") => {
                    skipped += 1;
                    println!("skipped {id}: {reason}");
                    continue;
                }
                _ => false,
            };
            if ok {
                passed += 1;
            } else if !KNOWN_FAILURES.iter().any(|(known, _)| *known == id) {
                let got = match outcome {
                    Outcome::Output(v) => format!("output {v}"),
                    Outcome::Failed(e) => format!("error {e}"),
                    Outcome::Unsupported(r) => r,
                };
                failures.push(format!("{id}\n    expected {expected}\n    got      {got}"));
            }
        }
        println!(
            "{category}: {passed}/{total} passed, {skipped} skipped (JSONata not supported yet)"
        );
    }
    assert!(
        failures.is_empty(),
        "{} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
