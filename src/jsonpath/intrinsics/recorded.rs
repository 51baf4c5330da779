//! The intrinsic functions against AWS's recordings: every single-Pass-state
//! case of the conformance corpus, evaluated through the compiled template.

use crate::StatesError;
use serde_json::{json, Value};

/// Every recorded AWS execution in the corpus whose machine is a single
/// JSONPath Pass state with Parameters (`intrinsic_functions.jsonl` and a few
/// path cases elsewhere): compile the Parameters, evaluate them on the input
/// (with a context object built from the recording's identity), apply
/// ResultPath/OutputPath, compare with AWS's output or error and cause.
/// MathRandom results are random: they are checked for being an integer in
/// range.
#[test]
fn conformance_single_pass_states() {
    let dir = std::env::var_os("STEPFN_CONFORMANCE_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance")
        });
    let mut failures = Vec::new();
    for category in ["intrinsic_functions", "base", "comments", "scenarios"] {
        let file = dir.join(format!("cases/{category}.jsonl"));
        let Ok(text) = std::fs::read_to_string(&file) else {
            // under CI a green run must have run it
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "no conformance corpus at {} (CI=true: a missing corpus fails)",
                file.display()
            );
            println!("SKIPPED: no conformance corpus at {}", file.display());
            return;
        };
        let (mut passed, mut total) = (0, 0);
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let case: Value = serde_json::from_str(line).unwrap();
            match conformance_case(&case) {
                None => {}
                Some(Ok(())) => {
                    passed += 1;
                    total += 1;
                }
                Some(Err(e)) => {
                    total += 1;
                    failures.push(format!("{}\n    {e}", case["id"]));
                }
            }
        }
        println!("conformance {category}: {passed}/{total} single-Pass cases pass");
    }
    assert!(
        failures.is_empty(),
        "{} failing:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `None` when the case is not a single JSONPath Pass state with Parameters.
fn conformance_case(case: &Value) -> Option<Result<(), String>> {
    use crate::jsonpath::data_flow::{output_path, result_path};
    use crate::jsonpath::template::PayloadTemplate;
    use crate::jsonpath::{NoVariables, Path, ReferencePath, Scope};

    let definition = &case["definition"];
    let states = definition["States"].as_object()?;
    let (state_name, state) = states.iter().next()?;
    if states.len() != 1
        || state["Type"] != "Pass"
        || state.get("Parameters").is_none()
        || state.get("QueryLanguage").is_some()
        || definition
            .get("QueryLanguage")
            .is_some_and(|q| q == "JSONata")
    {
        return None;
    }
    let input = &case["input"];
    let exec = &case["execution"];
    let context = json!({
        "Execution": {
            "Id": exec["executionArn"], "Input": input, "Name": exec["executionName"],
            "RoleArn": exec["roleArn"], "StartTime": "2026-01-01T00:00:00.000Z", "RedriveCount": 0
        },
        "StateMachine": {"Id": exec["stateMachineArn"], "Name": exec["stateMachineName"]},
        "State": {"Name": state_name, "EnteredTime": "2026-01-01T00:00:00.000Z"}
    });
    let scope = Scope {
        context: &context,
        variables: &NoVariables,
    };
    let outcome = (|| -> Result<Result<Value, StatesError>, String> {
        let template =
            PayloadTemplate::compile(&state["Parameters"]).map_err(|e| format!("{e:?}"))?;
        let params = match template.eval(&scope.env(input)) {
            Ok(params) => params,
            Err(e) => return Ok(Err(e)),
        };
        let text = |field: &str| {
            state
                .get(field)
                .map(|v| v.as_str().unwrap_or("").to_owned())
        };
        let result = match text("ResultPath") {
            None => Some(ReferencePath::parse("$").map_err(|e| e.to_string())?),
            Some(p) => Some(ReferencePath::parse(&p).map_err(|e| e.to_string())?),
        };
        let output = match text("OutputPath") {
            None => Some(Path::parse("$").map_err(|e| e.to_string())?),
            Some(p) => Some(Path::parse(&p).map_err(|e| e.to_string())?),
        };
        Ok(result_path(result.as_ref(), input.clone(), params)
            .and_then(|out| output_path(output.as_ref(), out, &scope)))
    })();
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(e) => return Some(Err(e)),
    };
    let expected = &case["expected"];
    let ok = match (&outcome, expected["status"].as_str()) {
        (Ok(actual), Some("SUCCEEDED"))
            if expected["output"]["FunctionResult"] == "RandomNumberGenerated" =>
        {
            let args = &input["FunctionInput"];
            let round = |v: &Value| v.as_f64().map(|f| (f + 0.5).floor() as i64);
            match (
                actual["FunctionResult"].as_i64(),
                round(&args["fst"]),
                round(&args["snd"]),
            ) {
                (Some(n), Some(lo), Some(hi)) => lo <= n && n < hi,
                _ => false,
            }
        }
        (Ok(actual), Some("SUCCEEDED")) => *actual == expected["output"],
        (Err(error), Some("FAILED")) => {
            // the engine adds "An error occurred while executing the state
            // ..."; the recording replaced the quoted input by a placeholder
            let want = expected["cause"].as_str().unwrap_or("");
            let want = want.split_once("). ").map_or(want, |(_, rest)| rest);
            let mut got = error.cause_str().to_owned();
            if let Some(at) = got.find("in the input '") {
                got.replace_range(at.., "in the input '<json-input:1>'");
            }
            error.name.as_str() == expected["error"] && got == want
        }
        _ => false,
    };
    Some(if ok {
        Ok(())
    } else {
        Err(format!("expected {expected}\n    got {outcome:?}"))
    })
}
