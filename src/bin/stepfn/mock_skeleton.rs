//! `stepfn mock-skeleton DEFINITION_FILE [--state-machine NAME]`: a Step
//! Functions Local mock configuration with one test case (`HappyPath`) and
//! a placeholder response per Task state, pretty-printed on stdout; exit 2
//! for an unreadable file or an invalid definition.

use crate::common::Tool;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use stepfn::testing::mock_skeleton;
use stepfn::StateMachine;

/// Arguments of `stepfn mock-skeleton`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The definition file (ASL JSON).
    definition: PathBuf,
    /// The state machine's name in the file (default: the file name
    /// without its extension).
    #[arg(long, value_name = "NAME")]
    state_machine: Option<String>,
}

const TOOL: Tool = Tool("stepfn mock-skeleton");

/// Runs the subcommand.
pub fn run(args: Args) -> ExitCode {
    let text = match TOOL.read(&args.definition, "the definition") {
        Ok(text) => text,
        Err(code) => return code,
    };
    let machine = match StateMachine::from_str(&text) {
        Ok(machine) => machine,
        Err(e) => return TOOL.invalid_definition(Some((&args.definition, &text)), &e),
    };
    let name = args.state_machine.unwrap_or_else(|| {
        args.definition.file_stem().map_or_else(
            || "StateMachine".to_owned(),
            |s| s.to_string_lossy().into_owned(),
        )
    });
    let skeleton = mock_skeleton(&machine, &name);
    let text = serde_json::to_string_pretty(&skeleton).unwrap_or_default();
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{text}");
    let _ = stdout.flush();
    ExitCode::SUCCESS
}
