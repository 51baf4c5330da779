//! What `run` and `test-state` share: usage errors under the subcommand's
//! name, reading files and JSON arguments, reporting an invalid definition
//! and printing the one-line JSON answer.

use serde_json::{Map, Value};
use std::fmt::Display;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// A subcommand, by the name its messages start with (`stepfn run`).
#[derive(Clone, Copy, Debug)]
pub struct Tool(pub &'static str);

impl Tool {
    /// Prints `message` on stderr; exit code 2.
    pub fn usage(self, message: impl Display) -> ExitCode {
        let _ = writeln!(std::io::stderr(), "{}: {message}", self.0);
        ExitCode::from(2)
    }

    /// The text of the file `path`, called `what` in the error.
    pub fn read(self, path: &Path, what: &str) -> Result<String, ExitCode> {
        std::fs::read_to_string(path)
            .map_err(|e| self.usage(format!("cannot read {what} {}: {e}", path.display())))
    }

    /// `text` as JSON, called `what` in the error.
    pub fn json(self, text: &str, what: &str) -> Result<Value, ExitCode> {
        stepfn::testing::parse_json(text)
            .map_err(|e| self.usage(format!("{what} is {}", e.detail())))
    }

    /// The JSON file `path`, called `what` in the errors.
    pub fn json_file(self, path: &Path, what: &str) -> Result<Value, ExitCode> {
        self.json(&self.read(path, what)?, what)
    }

    /// The input from `--input` or `--input-file`; `{}` without either.
    pub fn input(self, text: Option<&str>, file: Option<&Path>) -> Result<Value, ExitCode> {
        match (text, file) {
            (Some(text), _) => self.json(text, "--input"),
            (None, Some(path)) => self.json_file(path, "the input file"),
            (None, None) => Ok(Value::Object(Map::new())),
        }
    }

    /// Reports a definition that did not load, naming `file` when given:
    /// its diagnostics, one a line (the error itself when it has none);
    /// exit code 2.
    pub fn invalid_definition(self, file: Option<&Path>, error: &stepfn::Error) -> ExitCode {
        let mut stderr = std::io::stderr().lock();
        let _ = match file {
            Some(file) => writeln!(stderr, "{}: invalid definition {}", self.0, file.display()),
            None => writeln!(stderr, "{}: invalid definition", self.0),
        };
        for d in error.diagnostics() {
            let _ = writeln!(stderr, "  {d}");
        }
        if error.diagnostics().is_empty() {
            let _ = writeln!(stderr, "  {error}");
        }
        ExitCode::from(2)
    }
}

/// Prints `answer` as one line on stdout; exit 0 when `succeeded`, else 1.
pub fn answer(answer: &Value, succeeded: bool) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{answer}");
    let _ = stdout.flush();
    if succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
