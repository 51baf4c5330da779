//! `stepfn validate FILE [--type STANDARD|EXPRESS] [--json] [--severity ERROR|WARNING]`

use clap::ValueEnum;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use stepfn::definition::StateMachineType;
use stepfn::StateMachine;
use stepfn::Validation;

/// Arguments of `stepfn validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The definition file (ASL JSON).
    file: PathBuf,
    /// The workflow type: EXPRESS also rejects activities, `.sync` and `.waitForTaskToken`.
    #[arg(
        long = "type",
        value_enum,
        ignore_case = true,
        default_value = "STANDARD"
    )]
    machine_type: TypeArg,
    /// Print AWS's response shape: {"result", "diagnostics", "truncated"}.
    #[arg(long)]
    json: bool,
    /// The lowest severity reported (AWS's default is ERROR).
    #[arg(long, value_enum, ignore_case = true, default_value = "ERROR")]
    severity: SeverityArg,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
#[value(rename_all = "UPPER")]
enum TypeArg {
    Standard,
    Express,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
#[value(rename_all = "UPPER")]
enum SeverityArg {
    Error,
    Warning,
}

/// Runs the subcommand: exit 0 when the definition is valid, 1 when it is
/// not, 2 when the file cannot be read.
pub fn run(args: Args) -> ExitCode {
    let warnings = matches!(args.severity, SeverityArg::Warning);
    let bytes = match std::fs::read(&args.file) {
        Ok(bytes) => bytes,
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "stepfn: cannot read {}: {e}",
                args.file.display()
            );
            return ExitCode::from(2);
        }
    };
    let machine_type = match args.machine_type {
        TypeArg::Standard => StateMachineType::Standard,
        TypeArg::Express => StateMachineType::Express,
    };
    let report = StateMachine::validate_slice(&bytes, machine_type);
    let text = if args.json {
        format!("{}\n", report.to_json(warnings))
    } else {
        human(
            &report,
            &args.file,
            &String::from_utf8_lossy(&bytes),
            warnings,
        )
    };
    // A closed stdout (e.g. `| head`) is not worth a panic.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn human(report: &Validation, file: &Path, text: &str, warnings: bool) -> String {
    let mut out = format!("{}: {}\n", report.result(), file.display());
    for d in &report.diagnostics {
        if warnings || d.is_error() {
            out.push_str(&format!(
                "  {}\n",
                crate::common::diagnostic_line(d, Some((file, text)))
            ));
        }
    }
    out
}
