//! AWS's recorded verdicts on definitions (`validation.jsonl` of the
//! conformance corpus), and every definition AWS ran in the recorded
//! executions (`cases/*.jsonl`), which AWS therefore accepted.
//!
//! The corpus is read from `$STEPFN_CONFORMANCE_DIR`, else from
//! `../shared/conformance` next to the crate; without it the tests print a
//! line and pass.

use serde_json::Value;
use std::path::PathBuf;
use stepfn::definition::StateMachineType;
use stepfn::StateMachine;

/// Cases whose verdict we do not reproduce, each with its reason.
const VERDICT_EXCEPTIONS: &[(&str, &str)] = &[(
    "test_create_with_version_description_no_publish",
    "AWS refused the API call (a version description without publish), not the definition",
)];

fn corpus() -> Option<PathBuf> {
    crate::common::corpus("validation.jsonl")
}

fn machine_type(text: Option<&str>) -> StateMachineType {
    match text {
        Some("EXPRESS") => StateMachineType::Express,
        _ => StateMachineType::Standard,
    }
}

/// AWS's verdict, first code and first location (when it starts with `/`),
/// read the way the project's scorer reads them.
fn expected(case: &Value) -> (String, Option<String>, Option<String>) {
    let ev = &case["expected_validation"];
    if let Some(error) = ev.get("Error") {
        let message = error["Message"]
            .as_str()
            .or(ev["message"].as_str())
            .unwrap_or("");
        let code = message
            .strip_prefix("Invalid State Machine Definition: '")
            .and_then(|rest| rest.split_once(':'))
            .map(|(code, _)| code.to_owned())
            .filter(|c| {
                c.chars()
                    .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit() || ch == '_')
            });
        let location = message
            .trim_end()
            .strip_suffix('\'')
            .and_then(|m| m.rsplit_once(" at /"))
            .map(|(_, loc)| format!("/{loc}"))
            .filter(|l| !l.contains(' '));
        return ("FAIL".into(), code, location);
    }
    let first = &ev["diagnostics"][0];
    let location = first["location"]
        .as_str()
        .filter(|l| l.starts_with('/'))
        .map(str::to_owned);
    (
        ev["result"].as_str().unwrap_or("").to_owned(),
        first["code"].as_str().map(str::to_owned),
        location,
    )
}

#[test]
fn aws_validation_verdicts() {
    let Some(dir) = corpus() else { return };
    let text = std::fs::read_to_string(dir.join("validation.jsonl")).expect("readable corpus");
    let (mut cases, mut verdicts, mut codes, mut code_cases, mut locations, mut location_cases) =
        (0, 0, 0, 0, 0, 0);
    let mut failures = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).expect("corpus line is JSON");
        let id = case["id"].as_str().unwrap_or("").to_owned();
        let definition = match case["definition_string"].as_str() {
            Some(s) => s.to_owned(),
            None => case["definition"].to_string(),
        };
        let report = StateMachine::validate(&definition, machine_type(case["type"].as_str()));
        let (verdict, code, location) = expected(&case);
        let first = report.errors().next();
        cases += 1;
        let verdict_ok = report.result() == verdict;
        if verdict_ok {
            verdicts += 1;
        } else if !VERDICT_EXCEPTIONS.iter().any(|(part, _)| id.contains(part)) {
            failures.push(format!(
                "{id}: expected {verdict}, got {} {:?}",
                report.result(),
                report.diagnostics
            ));
        }
        if let Some(code) = code {
            code_cases += 1;
            if verdict_ok && first.map(|d| d.code) == Some(code.as_str()) {
                codes += 1;
            }
        }
        if let Some(location) = location {
            location_cases += 1;
            if verdict_ok && first.and_then(|d| d.location.as_deref()) == Some(location.as_str()) {
                locations += 1;
            }
        }
    }
    println!(
        "validation corpus: {cases} cases; verdicts agree {verdicts}/{cases}, codes {codes}/{code_cases}, locations {locations}/{location_cases}"
    );
    assert!(
        failures.is_empty(),
        "verdicts differ from AWS:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_definition_aws_ran_loads() {
    let Some(dir) = corpus() else { return };
    let mut count = 0;
    let mut failures = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("cases"))
        .expect("cases dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable case file");
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let case: Value = serde_json::from_str(line).expect("case line is JSON");
            let kind = machine_type(case["execution"]["type"].as_str());
            let report = StateMachine::validate_value(&case["definition"], kind);
            count += 1;
            if !report.is_ok() {
                let errors: Vec<String> = report.errors().map(|d| d.to_string()).collect();
                failures.push(format!(
                    "{}: {}",
                    case["id"].as_str().unwrap_or(""),
                    errors.join("; ")
                ));
            }
        }
    }
    println!(
        "recorded executions: {} of {count} definitions load",
        count - failures.len()
    );
    assert!(
        failures.is_empty(),
        "definitions AWS ran were rejected:\n{}",
        failures.join("\n")
    );
}
