//! `stepfn run DEFINITION_FILE [--input JSON | --input-file PATH]
//! [--mock-config PATH --test-case NAME] [--execution PATH] [--virtual-time]
//! [--history] [--events] [--task-command RESOURCE_OR_STATE=COMMAND]...
//! [--wait STATE=SECONDS]... [--retry-interval STATE=SECONDS]...
//! [--time-scale FACTOR]`
//!
//! Prints one JSON object `{"status", "output"?, "error"?, "cause"?,
//! "history"?}`, after one line per history event as it happens with
//! `--events`; exit 0 SUCCEEDED, 1 any other final status, 2 an invalid
//! definition (diagnostics on stderr) or a usage error.

use crate::command::{CommandExecutor, TaskCommand};
use crate::common::{answer, Tool};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use stepfn::testing::{run_case, MockConfig, RunOptions};
use stepfn::{ExecutionIdentity, StateMachine, Status};

/// Arguments of `stepfn run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The definition file (ASL JSON).
    definition: PathBuf,
    /// The execution input as JSON text (default `{}`).
    #[arg(long, conflicts_with = "input_file")]
    input: Option<String>,
    /// A file holding the execution input (`-` for stdin).
    #[arg(long)]
    input_file: Option<PathBuf>,
    /// A Step Functions Local mock configuration (MockConfigFile.json).
    #[arg(long, requires = "test_case")]
    mock_config: Option<PathBuf>,
    /// The test case of the mock configuration to use.
    #[arg(long, requires = "mock_config")]
    test_case: Option<String>,
    /// A JSON object with any of stateMachineName, stateMachineArn,
    /// executionName, executionArn, roleArn, startTime, type: inline, or
    /// the path of a file holding it.
    #[arg(long, value_name = "JSON_OR_PATH")]
    execution: Option<String>,
    /// Wait states, retry back-off and timeouts advance a virtual clock.
    #[arg(long)]
    virtual_time: bool,
    /// Include the GetExecutionHistory events in the answer.
    #[arg(long)]
    history: bool,
    /// Print each history event as one JSON line as it happens (the shape
    /// of the `--history` events), before the answer.
    #[arg(long)]
    events: bool,
    /// Run COMMAND (with `sh -c`) for tasks of this state, resource ARN or
    /// Lambda function: JSON input on stdin, JSON result on stdout; a
    /// non-zero exit fails the task with {"errorType"/"error",
    /// "errorMessage"/"cause"} from the last JSON line of stderr.
    #[arg(long = "task-command", value_name = "RESOURCE_OR_STATE=COMMAND")]
    task_commands: Vec<String>,
    /// The Wait state STATE waits SECONDS instead (0: not at all; decimals
    /// allowed). Repeatable.
    #[arg(long = "wait", value_name = "STATE=SECONDS")]
    waits: Vec<String>,
    /// Every retry of STATE (a Task, Parallel or Map) waits SECONDS, with
    /// no back-off growth or jitter (at most its MaxDelaySeconds).
    /// Repeatable.
    #[arg(long = "retry-interval", value_name = "STATE=SECONDS")]
    retry_intervals: Vec<String>,
    /// Multiplies every other Wait and retry back-off (0.5 halves them, 0
    /// removes them); task timeouts are not scaled.
    #[arg(long, value_name = "FACTOR", allow_hyphen_values = true)]
    time_scale: Option<String>,
}

const TOOL: Tool = Tool("stepfn run");

/// Runs the subcommand.
pub fn run(args: Args) -> ExitCode {
    match try_run(args) {
        Ok(code) | Err(code) => code,
    }
}

fn try_run(args: Args) -> Result<ExitCode, ExitCode> {
    let text = TOOL.read(&args.definition, "the definition")?;
    let machine = StateMachine::from_str(&text)
        .map_err(|e| TOOL.invalid_definition(Some((&args.definition, &text)), &e))?;
    let input = TOOL.input(args.input.as_deref(), args.input_file.as_deref())?;
    let mut options = RunOptions::new(input);
    options.virtual_time = args.virtual_time;
    options.history = args.history;
    options.time = crate::time::overrides(
        &machine,
        &args.waits,
        &args.retry_intervals,
        args.time_scale.as_deref(),
    )
    .map_err(|e| TOOL.usage(e))?;
    if let Some(arg) = &args.execution {
        let value = TOOL.json_or_file(arg, "--execution")?;
        options.identity = ExecutionIdentity::from_value(&value).map_err(|e| TOOL.usage(e))?;
    }
    if let (Some(path), Some(case)) = (&args.mock_config, &args.test_case) {
        let config = MockConfig::from_str(&TOOL.read(path, "the mock config")?)
            .map_err(|e| TOOL.usage(e))?;
        // `--mock-config`: the only state machine in the file, else the one
        // named like the state machine being run
        options.mocks = Some((config, case.clone()));
    }
    let mut commands = Vec::new();
    for binding in &args.task_commands {
        let command = TaskCommand::parse(binding).ok_or_else(|| {
            TOOL.usage(format!(
                "--task-command `{binding}` is not RESOURCE_OR_STATE=COMMAND"
            ))
        })?;
        commands.push(command);
    }
    if !commands.is_empty() {
        options.fallback = Some(Arc::new(CommandExecutor::new(commands)));
    }
    if args.events {
        options.observer = Some(Arc::new(print_event));
    }
    let outcome = run_case(&machine, options).map_err(|e| TOOL.usage(e))?;
    Ok(answer(&outcome, outcome.status == Status::Succeeded))
}

/// `--events`: one event as one JSON line on stdout, flushed at once.
fn print_event(event: &stepfn::HistoryEvent) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{}", event.to_json());
    let _ = stdout.flush();
}
