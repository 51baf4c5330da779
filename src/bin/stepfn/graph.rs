//! `stepfn graph DEFINITION_FILE [--format mermaid|dot] [--history FILE]`
//!
//! Prints the picture of a definition (Mermaid by default), its states
//! marked passed, caught or failed when a history is given (with a note on
//! stderr naming the states of the history the definition lacks). Exit 0;
//! 1 an invalid definition (its diagnostics on stderr); 2 a usage error or
//! an unreadable file.

use crate::common::Tool;
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use stepfn::definition::{StateKind, SubMachine};
use stepfn::graph::{self, Format, Marks};
use stepfn::StateMachine;

/// Arguments of `stepfn graph`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The definition file (ASL JSON).
    definition: PathBuf,
    /// The picture's format: `mermaid` (a flowchart) or `dot` (Graphviz).
    #[arg(long, default_value = "mermaid", value_parser = parse_format)]
    format: Format,
    /// Mark the states an execution passed, caught or failed: a history as
    /// `stepfn run --history` or `stepfn history` print it, AWS's
    /// `get-execution-history` JSON, a bare array of events, or one JSON
    /// value a line (`-` for stdin).
    #[arg(long, value_name = "FILE")]
    history: Option<PathBuf>,
}

fn parse_format(text: &str) -> Result<Format, String> {
    text.parse()
}

const TOOL: Tool = Tool("stepfn graph");

/// Runs the subcommand.
pub fn run(args: Args) -> ExitCode {
    match try_run(args) {
        Ok(code) | Err(code) => code,
    }
}

fn try_run(args: Args) -> Result<ExitCode, ExitCode> {
    let text = TOOL.read(&args.definition, "the definition")?;
    let machine = StateMachine::from_str(&text).map_err(|e| {
        TOOL.invalid_definition(Some((&args.definition, &text)), &e);
        ExitCode::from(1)
    })?;
    let marks = match &args.history {
        Some(path) => Some(history(path)?),
        None => None,
    };
    if let Some(marks) = &marks {
        note_unknown_states(&machine, marks);
    }
    let picture = graph::render(&machine, args.format, marks.as_ref());
    // A closed stdout (e.g. `| head`) is not worth a panic.
    let _ = std::io::stdout().lock().write_all(picture.as_bytes());
    Ok(ExitCode::SUCCESS)
}

/// The marks of the history file `path`: one JSON document, else one JSON
/// value a line (events, or an answer holding `history`).
fn history(path: &Path) -> Result<Marks, ExitCode> {
    let text = if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| TOOL.usage(format!("cannot read the history from stdin: {e}")))?;
        text
    } else {
        TOOL.read(path, "the history")?
    };
    let what = format!("the history {}", path.display());
    match stepfn::testing::parse_json(&text) {
        Ok(document) => {
            Marks::from_json(&document).map_err(|e| TOOL.usage(format!("{what}: {}", e.detail())))
        }
        Err(whole) => {
            let mut events = Vec::new();
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                // the first line that is not JSON: the file is neither form
                let value = stepfn::testing::parse_json(line).map_err(|e| {
                    if i == 0 {
                        TOOL.usage(format!("{what} is {}", whole.detail()))
                    } else {
                        TOOL.usage(format!("{what}: line {} is {}", i + 1, e.detail()))
                    }
                })?;
                match value.get("history").and_then(|h| h.as_array()) {
                    Some(history) => events.extend(history.iter().cloned()),
                    None => events.push(value),
                }
            }
            Ok(Marks::from_events(&events))
        }
    }
}

/// A note on stderr when the history names states the definition does not
/// have (a history of another machine marks nothing).
fn note_unknown_states(machine: &StateMachine, marks: &Marks) {
    let mut names = HashSet::new();
    let mut machines: Vec<&SubMachine> = vec![&machine.definition().machine];
    while let Some(sub) = machines.pop() {
        for state in &sub.states {
            names.insert(state.name.as_str());
            match &state.kind {
                StateKind::Parallel(p) => machines.extend(&p.branches),
                StateKind::Map(m) => machines.push(&m.item_processor),
                _ => {}
            }
        }
    }
    let unknown: Vec<&str> = marks
        .iter()
        .map(|(name, _)| name)
        .filter(|name| !names.contains(name))
        .collect();
    if unknown.is_empty() {
        return;
    }
    let shown: Vec<String> = unknown.iter().take(5).map(|n| format!("{n:?}")).collect();
    let more = match unknown.len() {
        n if n > 5 => format!(" and {} more", n - 5),
        _ => String::new(),
    };
    let _ = writeln!(
        std::io::stderr(),
        "{}: note: the history names states the definition does not have: {}{more}",
        TOOL.0,
        shown.join(", ")
    );
}
