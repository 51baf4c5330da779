//! `stepfn test-state DEFINITION_FILE [--state NAME] [--input JSON | --input-file PATH]
//! [--mock-result JSON | --mock-error NAME [--mock-cause TEXT]] [--variables JSON]
//! [--context JSON] [--inspection-level INFO|DEBUG|TRACE] [--retry-count N]`
//!
//! Evaluates one state as AWS's TestState API does and prints its answer
//! `{"output"?, "error"?, "cause"?, "nextState"?, "status", "inspectionData"?}`
//! with payloads as JSON values, as `stepfn run` prints them (`--aws-shape`:
//! as JSON text, exactly as AWS answers). Exit 0 SUCCEEDED, 1 FAILED,
//! RETRIABLE or CAUGHT_ERROR, 2 an invalid definition or a usage error.

use crate::common::{answer, Tool};
use clap::ValueEnum;
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;
use stepfn::testing::{
    test_state, InspectionLevel, TestStateMock, TestStateRequest, TestStateStatus,
};
use stepfn::{StateMachine, StatesError};

/// Arguments of `stepfn test-state`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A whole definition, or one state's definition (an object with `Type`).
    definition: PathBuf,
    /// The state to test (default: the definition's StartAt).
    #[arg(long = "state")]
    state_name: Option<String>,
    /// The state input as JSON text (default `{}`).
    #[arg(long, conflicts_with = "input_file")]
    input: Option<String>,
    /// A file holding the state input (`-` for stdin).
    #[arg(long)]
    input_file: Option<PathBuf>,
    /// The mocked task result (JSON text); for Map and Parallel the array of results.
    #[arg(long, conflicts_with = "mock_error")]
    mock_result: Option<String>,
    /// The mocked task error name.
    #[arg(long)]
    mock_error: Option<String>,
    /// The mocked task error cause.
    #[arg(long, requires = "mock_error")]
    mock_cause: Option<String>,
    /// Workflow variables as a JSON object.
    #[arg(long)]
    variables: Option<String>,
    /// The context object (`$$`) as JSON.
    #[arg(long)]
    context: Option<String>,
    /// INFO, or DEBUG/TRACE to add the inspection data.
    #[arg(long, value_enum, ignore_case = true, default_value = "INFO")]
    inspection_level: LevelArg,
    /// Retries the state already made (stateConfiguration.retrierRetryCount).
    #[arg(long, default_value_t = 0)]
    retry_count: u32,
    /// Print payloads as JSON text, exactly as AWS's TestState answers.
    #[arg(long)]
    aws_shape: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
#[value(rename_all = "UPPER")]
enum LevelArg {
    Info,
    Debug,
    Trace,
}

const TOOL: Tool = Tool("stepfn test-state");

/// Runs the subcommand.
pub fn run(args: Args) -> ExitCode {
    match try_run(args) {
        Ok(code) | Err(code) => code,
    }
}

fn try_run(args: Args) -> Result<ExitCode, ExitCode> {
    let text = TOOL.read(&args.definition, "the definition")?;
    let value = TOOL.json(&text, "the definition")?;
    let single_state = value.get("Type").is_some() && value.get("States").is_none();
    let loaded = if single_state {
        let name = args
            .state_name
            .clone()
            .unwrap_or_else(|| "TestState".into());
        StateMachine::from_state(&name, &value)
    } else {
        StateMachine::from_str(&text)
    };
    let machine =
        loaded.map_err(|e| TOOL.invalid_definition(Some((&args.definition, &text)), &e))?;
    let mut request =
        TestStateRequest::new(TOOL.input(args.input.as_deref(), args.input_file.as_deref())?);
    request.state_name = if single_state {
        None
    } else {
        args.state_name.clone()
    };
    request.inspection_level = match args.inspection_level {
        LevelArg::Info => InspectionLevel::Info,
        LevelArg::Debug => InspectionLevel::Debug,
        LevelArg::Trace => InspectionLevel::Trace,
    };
    request.retrier_retry_count = args.retry_count;
    if let Some(text) = &args.variables {
        match TOOL.json(text, "--variables")? {
            Value::Object(map) => request.variables = map,
            _ => return Err(TOOL.usage("--variables must be a JSON object")),
        }
    }
    if let Some(text) = &args.context {
        request.context = TOOL.json(text, "--context")?;
    }
    if let Some(text) = &args.mock_result {
        request.mock = Some(TestStateMock::Result(TOOL.json(text, "--mock-result")?));
    } else if let Some(error) = &args.mock_error {
        request.mock = Some(TestStateMock::Error(StatesError {
            name: error.as_str().into(),
            cause: args.mock_cause.clone(),
        }));
    }
    let result = test_state(&machine, &request, None).map_err(|e| TOOL.usage(e))?;
    let mut json = result.to_json();
    if !args.aws_shape {
        payloads_as_values(&mut json);
    }
    Ok(answer(&json, result.status == TestStateStatus::Succeeded))
}

/// AWS's answer holds payloads as JSON text: `output` and the payloads of
/// `inspectionData` become the values they stand for.
fn payloads_as_values(answer: &mut Value) {
    fn parse(slot: &mut Value) {
        if let Some(value) = slot
            .as_str()
            .and_then(|s| stepfn::testing::parse_json(s).ok())
        {
            *slot = value;
        }
    }
    if let Some(output) = answer.get_mut("output") {
        parse(output);
    }
    if let Some(Value::Object(data)) = answer.get_mut("inspectionData") {
        for (key, slot) in data.iter_mut() {
            if key != "errorDetails" {
                parse(slot);
            }
        }
    }
}
