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

    /// A JSON object given inline (text starting with `{`) or as the path
    /// of a file holding it, called `what` in the errors.
    pub fn json_or_file(self, arg: &str, what: &str) -> Result<Value, ExitCode> {
        if arg.trim_start().starts_with('{') {
            self.json(arg, what)
        } else {
            self.json_file(Path::new(arg), what)
        }
    }

    /// The JSON file `path`, called `what` in the errors.
    pub fn json_file(self, path: &Path, what: &str) -> Result<Value, ExitCode> {
        self.json(&self.read(path, what)?, what)
    }

    /// The input from `--input` or `--input-file` (`-` for stdin); `{}`
    /// without either.
    pub fn input(self, text: Option<&str>, file: Option<&Path>) -> Result<Value, ExitCode> {
        match (text, file) {
            (Some(text), _) => self.json(text, "--input"),
            (None, Some(path)) if path.as_os_str() == "-" => {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                    .map_err(|e| self.usage(format!("cannot read the input from stdin: {e}")))?;
                self.json(&text, "the input on stdin")
            }
            (None, Some(path)) => self.json_file(path, "the input file"),
            (None, None) => Ok(Value::Object(Map::new())),
        }
    }

    /// Reports a definition that did not load, naming `file` when given:
    /// its diagnostics, one a line (the error itself when it has none);
    /// exit code 2.
    pub fn invalid_definition(
        self,
        source: Option<(&Path, &str)>,
        error: &stepfn::Error,
    ) -> ExitCode {
        let file = source.map(|(file, _)| file);
        let mut stderr = std::io::stderr().lock();
        let _ = match file {
            Some(file) => writeln!(stderr, "{}: invalid definition {}", self.0, file.display()),
            None => writeln!(stderr, "{}: invalid definition", self.0),
        };
        for d in error.diagnostics() {
            let _ = writeln!(stderr, "  {}", diagnostic_line(d, source));
        }
        if error.diagnostics().is_empty() {
            let _ = writeln!(stderr, "  {error}");
        }
        ExitCode::from(2)
    }
}

/// One diagnostic as a line: `FILE:LINE:COL: SEVERITY CODE at LOCATION:
/// MESSAGE` when the definition came from a file and the location can be
/// found in its text, else without the `FILE:LINE:COL: ` part.
pub fn diagnostic_line(d: &stepfn::Diagnostic, source: Option<(&Path, &str)>) -> String {
    let mut out = String::new();
    let mut location = d.location.as_deref();
    if let (Some((file, text)), Some(at)) = (source, location) {
        let position = match json_position(at) {
            // a JSON syntax error's location says no more than FILE:LINE:COL
            Some(position) => {
                location = None;
                Some(position)
            }
            None => crate::locate::line_col(text, at),
        };
        if let Some((line, col)) = position {
            out.push_str(&format!("{}:{line}:{col}: ", file.display()));
        }
    }
    out.push_str(&format!("{} {}", d.severity.as_str(), d.code));
    if let Some(location) = location {
        out.push_str(&format!(" at {location}"));
    }
    out.push_str(&format!(": {}", d.message));
    out
}

/// The position of a JSON syntax error's location (`line: 1, column: 10`).
fn json_position(location: &str) -> Option<(usize, usize)> {
    let (line, column) = location.strip_prefix("line: ")?.split_once(", column: ")?;
    Some((line.parse().ok()?, column.parse().ok()?))
}

/// Prints `answer` as one line of JSON on stdout; exit 0 when
/// `succeeded`, else 1.
pub fn answer(answer: &impl serde::Serialize, succeeded: bool) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    // a JSON value or an Outcome always serialises (string keys only)
    let _ = writeln!(
        stdout,
        "{}",
        serde_json::to_string(answer).unwrap_or_default()
    );
    let _ = stdout.flush();
    if succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
