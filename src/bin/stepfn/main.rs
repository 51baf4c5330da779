//! `stepfn`: the command-line face of the stepfn library.
//!
//! One subcommand per file (`validate.rs`, ...); each exposes an `Args`
//! struct for clap and a `run(args) -> ExitCode`, and `common.rs` holds what
//! they share. Exit codes: 0 success, 1 a negative answer (FAIL, a failed
//! execution; for the durable subcommands of `durable.rs`, a request the
//! store refused), 2 a usage error or an unreadable input. The tool uses only
//! the library's public API.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod command;
mod common;
mod durable;
mod eval;
mod graph;
mod locate;
mod mock_skeleton;
mod process;
mod run;
mod test_state;
mod time;
mod validate;

/// Run and check Amazon States Language state machines locally.
#[derive(Debug, Parser)]
#[command(name = "stepfn", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a definition as AWS's ValidateStateMachineDefinition does.
    Validate(validate::Args),
    /// Run a definition locally (mocks, task commands, virtual time, history).
    Run(run::Args),
    /// Evaluate one state in isolation, as AWS's TestState API does.
    TestState(test_state::Args),
    /// Print a mock config with a placeholder response per Task state.
    MockSkeleton(mock_skeleton::Args),
    /// Evaluate a JSONata expression, JSONPath path or intrinsic call against an input.
    Eval(eval::Args),
    /// Draw a definition as Mermaid or Graphviz DOT (with --history, the path an execution took).
    Graph(graph::Args),
    /// StartExecution in a durable store (prints executionArn, startDate).
    Start(durable::StartArgs),
    /// Run the executions of a durable store (until killed, or --until-idle).
    Worker(durable::WorkerArgs),
    /// DescribeExecution of a stored execution.
    Describe(durable::DescribeArgs),
    /// GetExecutionHistory of a stored execution.
    History(durable::HistoryArgs),
    /// ListExecutions of a durable store.
    List(durable::ListArgs),
    /// StopExecution: the execution ends ABORTED.
    Stop(durable::StopArgs),
    /// RedriveExecution of a failed, timed out or aborted execution.
    Redrive(durable::RedriveArgs),
    /// SendTaskSuccess for a task token.
    SendTaskSuccess(durable::TaskSuccessArgs),
    /// SendTaskFailure for a task token.
    SendTaskFailure(durable::TaskFailureArgs),
    /// SendTaskHeartbeat for a task token.
    SendTaskHeartbeat(durable::TaskHeartbeatArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help / --version print and succeed; anything else is a usage error.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Run(args) => run::run(args),
        Command::TestState(args) => test_state::run(args),
        Command::MockSkeleton(args) => mock_skeleton::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Graph(args) => graph::run(args),
        Command::Start(args) => durable::start(args),
        Command::Worker(args) => durable::worker(args),
        Command::Describe(args) => durable::describe(args),
        Command::History(args) => durable::history(args),
        Command::List(args) => durable::list(args),
        Command::Stop(args) => durable::stop(args),
        Command::Redrive(args) => durable::redrive(args),
        Command::SendTaskSuccess(args) => durable::send_task_success(args),
        Command::SendTaskFailure(args) => durable::send_task_failure(args),
        Command::SendTaskHeartbeat(args) => durable::send_task_heartbeat(args),
    }
}
