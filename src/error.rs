//! Errors: the embedder-facing [`Error`], the ASL-level [`StatesError`], and
//! validation [`Diagnostic`]s.
//!
//! # Design
//!
//! Two worlds meet here. An embedder calling stepfn gets one boxed [`Error`]
//! with a [`kind()`](Error::kind) to branch on (a bad definition, bad input,
//! ...). An *execution* fails with a [`StatesError`] instead: plain data with
//! an AWS error name (`States.TaskFailed`, a custom `ValidationError`, ...)
//! and a cause string, because that is what Retry and Catch match and what
//! AWS reports. A failed execution is not a Rust error: it is an outcome.

use std::fmt;

/// The name of an ASL error: one of AWS's predefined `States.*` names or a
/// custom name raised by a task or a Fail state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorName {
    /// `States.ALL`: a wildcard in `ErrorEquals`; never raised.
    All,
    /// `States.Timeout`: a task or the execution ran longer than allowed.
    Timeout,
    /// `States.HeartbeatTimeout`: a task missed its heartbeat.
    HeartbeatTimeout,
    /// `States.TaskFailed`: a task failed; also a wildcard for task errors.
    TaskFailed,
    /// `States.Permissions`: insufficient privileges to run the task.
    Permissions,
    /// `States.ResultPathMatchFailure`: ResultPath cannot be applied.
    ResultPathMatchFailure,
    /// `States.ParameterPathFailure`: a `.$` path in Parameters failed.
    ParameterPathFailure,
    /// `States.QueryEvaluationError`: a JSONata expression failed.
    QueryEvaluationError,
    /// `States.BranchFailed`: a Parallel branch failed.
    BranchFailed,
    /// `States.NoChoiceMatched`: no Choice rule matched and there is no Default.
    NoChoiceMatched,
    /// `States.IntrinsicFailure`: an intrinsic function failed.
    IntrinsicFailure,
    /// `States.ExceedToleratedFailureThreshold`: a distributed Map failed too often.
    ExceedToleratedFailureThreshold,
    /// `States.ItemReaderFailed`: a Map ItemReader could not read its source.
    ItemReaderFailed,
    /// `States.ResultWriterFailed`: a Map ResultWriter could not write.
    ResultWriterFailed,
    /// `States.Runtime`: a runtime error; never retried or caught.
    Runtime,
    /// `States.DataLimitExceeded`: a payload exceeded the size limit; terminal.
    DataLimitExceeded,
    /// `States.Http.Socket`: an HTTP task socket timeout.
    HttpSocket,
    /// Any other name, e.g. `Lambda.ServiceException` or `ValidationError`.
    Custom(String),
}

impl ErrorName {
    const PREDEFINED: [(&'static str, ErrorName); 17] = [
        ("States.ALL", ErrorName::All),
        ("States.Timeout", ErrorName::Timeout),
        ("States.HeartbeatTimeout", ErrorName::HeartbeatTimeout),
        ("States.TaskFailed", ErrorName::TaskFailed),
        ("States.Permissions", ErrorName::Permissions),
        (
            "States.ResultPathMatchFailure",
            ErrorName::ResultPathMatchFailure,
        ),
        (
            "States.ParameterPathFailure",
            ErrorName::ParameterPathFailure,
        ),
        (
            "States.QueryEvaluationError",
            ErrorName::QueryEvaluationError,
        ),
        ("States.BranchFailed", ErrorName::BranchFailed),
        ("States.NoChoiceMatched", ErrorName::NoChoiceMatched),
        ("States.IntrinsicFailure", ErrorName::IntrinsicFailure),
        (
            "States.ExceedToleratedFailureThreshold",
            ErrorName::ExceedToleratedFailureThreshold,
        ),
        ("States.ItemReaderFailed", ErrorName::ItemReaderFailed),
        ("States.ResultWriterFailed", ErrorName::ResultWriterFailed),
        ("States.Runtime", ErrorName::Runtime),
        ("States.DataLimitExceeded", ErrorName::DataLimitExceeded),
        ("States.Http.Socket", ErrorName::HttpSocket),
    ];

    /// Reads a name as written in ASL (`"States.Timeout"`, `"MyError"`).
    pub fn new(name: &str) -> ErrorName {
        Self::PREDEFINED
            .iter()
            .find(|(text, _)| *text == name)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| ErrorName::Custom(name.to_owned()))
    }

    /// The name as AWS writes it.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorName::Custom(name) => name,
            other => Self::PREDEFINED
                .iter()
                .find(|(_, n)| n == other)
                .map(|(text, _)| *text)
                .unwrap_or("States.Runtime"),
        }
    }

    /// True for the error Retry and Catch can never match, not even by
    /// naming it: `States.Runtime`.
    ///
    /// `States.DataLimitExceeded` is not in this class: a state output that
    /// is too large ends the execution before any catcher is consulted, but
    /// a task result that is too large is a task failure Catch can take, as
    /// AWS recorded it.
    pub fn is_terminal(&self) -> bool {
        matches!(self, ErrorName::Runtime)
    }
}

impl fmt::Display for ErrorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for ErrorName {
    fn from(name: &str) -> Self {
        ErrorName::new(name)
    }
}

impl From<String> for ErrorName {
    fn from(name: String) -> Self {
        ErrorName::new(&name)
    }
}

/// An error in the ASL sense: what a task raises, what Retry and Catch match,
/// and what a failed execution reports (`error` and `cause`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatesError {
    /// The error name (`States.Runtime`, `MyCustomError`, ...).
    pub name: ErrorName,
    /// The cause; `None` when AWS reports none (e.g. a task timeout).
    pub cause: Option<String>,
}

impl StatesError {
    /// An error with a name and a cause.
    pub fn new(name: impl Into<ErrorName>, cause: impl Into<String>) -> Self {
        StatesError {
            name: name.into(),
            cause: Some(cause.into()),
        }
    }

    /// An error with a name and no cause.
    pub fn without_cause(name: impl Into<ErrorName>) -> Self {
        StatesError {
            name: name.into(),
            cause: None,
        }
    }

    /// `States.Runtime` with the given cause.
    pub fn runtime(cause: impl Into<String>) -> Self {
        StatesError::new(ErrorName::Runtime, cause)
    }

    /// `States.IntrinsicFailure` with the given cause.
    pub fn intrinsic(cause: impl Into<String>) -> Self {
        StatesError::new(ErrorName::IntrinsicFailure, cause)
    }

    /// The cause, or `""` when there is none.
    pub fn cause_str(&self) -> &str {
        self.cause.as_deref().unwrap_or("")
    }
}

impl fmt::Display for StatesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cause {
            Some(cause) => write!(f, "{}: {}", self.name, cause),
            None => write!(f, "{}", self.name),
        }
    }
}

impl std::error::Error for StatesError {}

/// Stands for the state's name in the cause of a limit error raised where
/// the state is not known (a payload template, an intrinsic call, an
/// `Assign`): such a cause starts with `The state/task '<state>'`, and
/// [`name_state`] puts the name in (an error that never reaches a state,
/// from [`PayloadTemplate::eval`](crate::jsonpath::PayloadTemplate::eval)
/// called directly, keeps the placeholder).
pub(crate) const STATE_NAME: &str = "<state>";

/// How the cause of a limit error raised before the state is known starts.
const UNNAMED: &str = "The state/task '<state>'";

/// `States.DataLimitExceeded`: a value built for a state's field passed the
/// payload limit (the cause of a state output over the limit).
pub(crate) fn result_too_big() -> StatesError {
    StatesError::new(
        ErrorName::DataLimitExceeded,
        format!(
            "The state/task '{STATE_NAME}' returned a result with a size exceeding the maximum number of bytes service limit."
        ),
    )
}

/// `States.DataLimitExceeded`: one variable's value passed
/// [`Limits::max_variable_bytes`](crate::Limits::max_variable_bytes).
pub(crate) fn variable_too_big(state: &str, variable: &str, max: usize) -> StatesError {
    StatesError::new(
        ErrorName::DataLimitExceeded,
        format!(
            "The state/task '{state}' assigned the variable '{variable}' a value with a size exceeding the maximum of {max} bytes."
        ),
    )
}

/// `States.DataLimitExceeded`: the values of one `Assign` passed
/// [`Limits::max_assign_bytes`](crate::Limits::max_assign_bytes).
pub(crate) fn assign_too_big(state: &str, max: usize) -> StatesError {
    StatesError::new(
        ErrorName::DataLimitExceeded,
        format!(
            "The state/task '{state}' assigned variables with a combined size exceeding the maximum of {max} bytes."
        ),
    )
}

/// `States.DataLimitExceeded`: the variables of the execution would pass
/// [`Limits::max_variables_total_bytes`](crate::Limits::max_variables_total_bytes).
pub(crate) fn variables_too_big(state: &str, max: usize) -> StatesError {
    StatesError::new(
        ErrorName::DataLimitExceeded,
        format!(
            "The state/task '{state}' assigned variables that would bring the variables of the execution to a size exceeding the maximum of {max} bytes."
        ),
    )
}

/// True for a limit error raised before the state was known.
pub(crate) fn is_unnamed(error: &StatesError) -> bool {
    error.name == ErrorName::DataLimitExceeded
        && error
            .cause
            .as_deref()
            .is_some_and(|c| c.starts_with(UNNAMED))
}

/// Puts `state` in the cause of a limit error raised before the state was
/// known (any other error is given back as it is).
pub(crate) fn name_state(mut error: StatesError, state: &str) -> StatesError {
    if is_unnamed(&error) {
        if let Some(cause) = &mut error.cause {
            *cause = cause.replacen(STATE_NAME, state, 1);
        }
    }
    error
}

/// How serious a [`Diagnostic`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// The definition is rejected.
    Error,
    /// The definition is accepted, but probably not what was meant.
    Warning,
}

impl Severity {
    /// `"ERROR"` or `"WARNING"`, as AWS writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "ERROR",
            Severity::Warning => "WARNING",
        }
    }
}

/// One problem found in a definition, shaped like an entry of AWS's
/// `ValidateStateMachineDefinition` answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// AWS's code, e.g. `SCHEMA_VALIDATION_FAILED` or `MISSING_TRANSITION_TARGET`.
    pub code: &'static str,
    /// What is wrong, in AWS's wording where AWS's wording is known.
    pub message: String,
    /// Where: `/States/<State>/<Field>` (AWS's form), or for JSON syntax
    /// errors a line and column.
    pub location: Option<String>,
}

impl Diagnostic {
    /// An error diagnostic.
    pub fn error(
        code: &'static str,
        message: impl Into<String>,
        location: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            location: Some(location.into()),
        }
    }

    /// A warning diagnostic.
    pub fn warning(
        code: &'static str,
        message: impl Into<String>,
        location: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            code,
            message: message.into(),
            location: Some(location.into()),
        }
    }

    /// True when this diagnostic rejects the definition.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(location) = &self.location {
            write!(f, " at {location}")?;
        }
        Ok(())
    }
}

/// What went wrong, for an embedder to branch on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The definition is not valid ASL (see [`Error::diagnostics`]).
    InvalidDefinition,
    /// An execution input (or a value given to stepfn) is unusable.
    InvalidInput,
    /// A configuration file (e.g. a mock config) is malformed.
    InvalidConfig,
    /// Reading a file failed.
    Io,
}

impl ErrorKind {
    /// A short lowercase description.
    pub fn description(self) -> &'static str {
        match self {
            ErrorKind::InvalidDefinition => "invalid state machine definition",
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::InvalidConfig => "invalid configuration",
            ErrorKind::Io => "i/o error",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

/// The error type of stepfn's API.
///
/// It is boxed so that `Result<T, Error>` stays one word wide. Branch on
/// [`kind()`](Error::kind); for an invalid definition every problem found is
/// in [`diagnostics()`](Error::diagnostics).
pub struct Error {
    repr: Box<ErrorRepr>,
}

struct ErrorRepr {
    kind: ErrorKind,
    detail: String,
    diagnostics: Vec<Diagnostic>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    /// A new error of the given kind with a lowercase detail message.
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        Error {
            repr: Box::new(ErrorRepr {
                kind,
                detail: detail.into(),
                diagnostics: Vec::new(),
                source: None,
            }),
        }
    }

    /// An [`ErrorKind::InvalidDefinition`] error carrying its diagnostics
    /// (errors first, as found).
    pub fn invalid_definition(diagnostics: Vec<Diagnostic>) -> Self {
        let detail = diagnostics
            .iter()
            .find(|d| d.is_error())
            .map(|d| d.to_string())
            .unwrap_or_else(|| "the definition was rejected".to_owned());
        let mut error = Error::new(ErrorKind::InvalidDefinition, detail);
        error.repr.diagnostics = diagnostics;
        error
    }

    /// Attaches the underlying error.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.repr.source = Some(Box::new(source));
        self
    }

    /// What kind of error this is.
    pub fn kind(&self) -> ErrorKind {
        self.repr.kind
    }

    /// The detail message.
    pub fn detail(&self) -> &str {
        &self.repr.detail
    }

    /// Every problem found in a rejected definition (empty for other kinds).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.repr.diagnostics
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.repr.kind, self.repr.detail)?;
        let more = self
            .repr
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .count();
        if more > 1 {
            write!(f, " (and {} more)", more - 1)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Error");
        s.field("kind", &self.repr.kind)
            .field("detail", &self.repr.detail);
        if !self.repr.diagnostics.is_empty() {
            s.field("diagnostics", &self.repr.diagnostics);
        }
        if let Some(source) = &self.repr.source {
            s.field("source", source);
        }
        s.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.repr
            .source
            .as_ref()
            .map(|s| s.as_ref() as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_names_round_trip() {
        for (text, name) in ErrorName::PREDEFINED.iter() {
            assert_eq!(ErrorName::new(text), *name);
            assert_eq!(name.as_str(), *text);
        }
        assert_eq!(ErrorName::new("Foo").as_str(), "Foo");
    }

    #[test]
    fn error_is_one_word() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }
}
