//! The typed model of an ASL definition, and [`StateMachine`], its loaded
//! and compiled form.
//!
//! Every path, payload template, intrinsic call and choice rule in the model
//! is already parsed: a definition that loads cannot fail later on syntax.
//! JSONata fields (`Arguments`, `Output`, `Items`, `Condition`, `{% %}`
//! values) are kept as written.
//!
//! # Loading
//!
//! [`StateMachine::from_str`], [`from_slice`](StateMachine::from_slice) and
//! [`from_value`](StateMachine::from_value) read a definition the way
//! AWS's `CreateStateMachine` does: either every check passes and you get
//! the compiled machine, or you get an [`Error`] of kind
//! [`InvalidDefinition`](crate::ErrorKind::InvalidDefinition) carrying
//! *every* problem found as a [`Diagnostic`] (AWS's code, message and
//! location). [`StateMachine::validate`] is AWS's
//! `ValidateStateMachineDefinition`: it also applies the restrictions of a
//! workflow type (Express) and returns a [`Validation`] report.
//! [`StateMachine::from_state`] loads a single state as a machine of its
//! own, for [`test_state`](crate::testing::test_state).
//!
//! ```
//! use stepfn::definition::StateMachineType;
//! use stepfn::Validation;
//! use stepfn::StateMachine;
//!
//! let report: Validation = StateMachine::validate(
//!     r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}"#,
//!     StateMachineType::Standard,
//! );
//! assert!(!report.is_ok());
//! let first = &report.diagnostics[0];
//! assert_eq!(first.code, "MISSING_TRANSITION_TARGET");
//! assert_eq!(first.message, "Missing 'Next' target: B");
//! assert_eq!(first.location.as_deref(), Some("/States/A/Next"));
//! ```

mod parse;
pub(crate) use parse::is_jsonata;
mod raw;
mod ser;
mod validate;

use crate::error::{Diagnostic, ErrorName};
use crate::jsonpath::choice::ChoiceRule;
use crate::jsonpath::path::{Path, ReferencePath};
use crate::jsonpath::template::{Expression, PayloadTemplate};
pub use crate::resource::{IntegrationPattern, Resource, ResourceKind};
use serde_json::Value;
use std::collections::HashMap;

/// Which query language a state uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum QueryLanguage {
    /// `"JSONPath"` (the default).
    #[default]
    JsonPath,
    /// `"JSONata"`.
    Jsonata,
}

/// STANDARD or EXPRESS: only matters for validation (Express restrictions)
/// and the context object.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum StateMachineType {
    /// A Standard workflow.
    #[default]
    Standard,
    /// An Express workflow.
    Express,
}

impl StateMachineType {
    /// `"STANDARD"` or `"EXPRESS"`, as AWS writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            StateMachineType::Standard => "STANDARD",
            StateMachineType::Express => "EXPRESS",
        }
    }

    /// Reads `"STANDARD"` or `"EXPRESS"` (exact, as AWS writes them).
    pub fn parse(text: &str) -> Option<StateMachineType> {
        match text {
            "STANDARD" => Some(StateMachineType::Standard),
            "EXPRESS" => Some(StateMachineType::Express),
            _ => None,
        }
    }
}

impl QueryLanguage {
    /// `"JSONPath"` or `"JSONata"`, as ASL writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            QueryLanguage::JsonPath => "JSONPath",
            QueryLanguage::Jsonata => "JSONata",
        }
    }
}

/// A whole definition: the top level of the ASL document.
#[derive(Clone, Debug, PartialEq)]
pub struct Definition {
    /// `Comment`.
    pub comment: Option<String>,
    /// `Version`.
    pub version: Option<String>,
    /// `TimeoutSeconds` of the whole execution.
    pub timeout_seconds: Option<u64>,
    /// `QueryLanguage` of the machine (default JSONPath).
    pub query_language: QueryLanguage,
    /// `StartAt` and `States`.
    pub machine: SubMachine,
}

/// A set of states with a start: the top level, a Parallel branch, or a Map
/// `ItemProcessor`/`Iterator`.
#[derive(Clone, Debug, PartialEq)]
pub struct SubMachine {
    /// `Comment`.
    pub comment: Option<String>,
    /// `StartAt`: the name of the first state.
    pub start_at: String,
    /// The states, in definition order.
    pub states: Vec<State>,
    /// Name -> position in `states`, built once so that following a `Next`
    /// is one hash lookup.
    index: HashMap<String, usize>,
}

impl SubMachine {
    /// A machine over `states` (names are indexed for [`index_of`](Self::index_of)).
    pub fn new(comment: Option<String>, start_at: String, states: Vec<State>) -> SubMachine {
        let index = states
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), i))
            .collect();
        SubMachine {
            comment,
            start_at,
            states,
            index,
        }
    }

    /// The position of the state named `name` in [`states`](Self::states). O(1).
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// The state named `name`.
    pub fn get(&self, name: &str) -> Option<&State> {
        self.index_of(name).and_then(|i| self.states.get(i))
    }

    /// The position of the `StartAt` state.
    pub fn start_index(&self) -> Option<usize> {
        self.index_of(&self.start_at)
    }
}

/// One state.
#[derive(Clone, Debug, PartialEq)]
pub struct State {
    /// Its name (the key in `States`).
    pub name: String,
    /// `Comment`.
    pub comment: Option<String>,
    /// `QueryLanguage` as declared on the state, if it was.
    pub declared_query_language: Option<QueryLanguage>,
    /// The query language in effect (declared, else the machine's).
    pub query_language: QueryLanguage,
    /// The type and its fields.
    pub kind: StateKind,
}

/// The eight state types.
// Built once at load time and only ever read by reference, so the size of
// the largest variant (Map) costs nothing on the hot path.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum StateKind {
    /// `"Type": "Pass"`
    Pass(Pass),
    /// `"Type": "Task"`
    Task(Task),
    /// `"Type": "Choice"`
    Choice(Choice),
    /// `"Type": "Wait"`
    Wait(Wait),
    /// `"Type": "Succeed"`
    Succeed(Succeed),
    /// `"Type": "Fail"`
    Fail(Fail),
    /// `"Type": "Parallel"`
    Parallel(Parallel),
    /// `"Type": "Map"`
    Map(Map),
}

impl StateKind {
    /// The `Type` string.
    pub fn type_name(&self) -> &'static str {
        match self {
            StateKind::Pass(_) => "Pass",
            StateKind::Task(_) => "Task",
            StateKind::Choice(_) => "Choice",
            StateKind::Wait(_) => "Wait",
            StateKind::Succeed(_) => "Succeed",
            StateKind::Fail(_) => "Fail",
            StateKind::Parallel(_) => "Parallel",
            StateKind::Map(_) => "Map",
        }
    }
}

/// Where a state goes when it is done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transition {
    /// `"Next": "<name>"`
    Next(String),
    /// `"End": true`
    End,
}

/// The JSONPath input/output fields shared by most states. Absent fields
/// take ASL's defaults at load time: `InputPath`/`OutputPath`/`ResultPath`
/// default to `$`; `None` means the field was `null`.
#[derive(Clone, Debug, PartialEq)]
pub struct Io {
    /// `InputPath` (`None` = `null`: the effective input is `{}`).
    pub input_path: Option<Path>,
    /// `OutputPath` (`None` = `null`: the output is `{}`).
    pub output_path: Option<Path>,
}

/// `Assign`: a payload template in JSONPath states; kept as written in
/// JSONata states.
#[derive(Clone, Debug, PartialEq)]
pub enum Assign {
    /// JSONPath `Assign` (`.$` keys evaluated).
    JsonPath(PayloadTemplate),
    /// JSONata `Assign` (`{% %}` values), not evaluated yet.
    Jsonata(Value),
}

/// A Pass state.
#[derive(Clone, Debug, PartialEq)]
pub struct Pass {
    /// `Next` / `End`.
    pub transition: Transition,
    /// `InputPath` / `OutputPath`.
    pub io: Io,
    /// `Parameters`.
    pub parameters: Option<PayloadTemplate>,
    /// `Result`: always literal.
    pub result: Option<Value>,
    /// `ResultPath` (`None` = `null`).
    pub result_path: Option<ReferencePath>,
    /// `Assign`.
    pub assign: Option<Assign>,
    /// JSONata `Output`.
    pub output: Option<Value>,
}

/// A number given literally, through a Reference Path (`...Path` field), or
/// as a JSONata expression.
#[derive(Clone, Debug, PartialEq)]
pub enum NumberOrPath<T> {
    /// The literal value.
    Value(T),
    /// The `...Path` form.
    Path(ReferencePath),
    /// A `{% %}` expression (JSONata), kept as written.
    Jsonata(String),
}

/// `Credentials` of a Task.
#[derive(Clone, Debug, PartialEq)]
pub enum Credentials {
    /// `{"RoleArn": "<arn>"}` (or a JSONata expression, kept as written).
    RoleArn(String),
    /// `{"RoleArn.$": <path or intrinsic>}`.
    RoleArnPath(Expression),
}

/// A Task state.
#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    /// `Resource`.
    pub resource: Resource,
    /// `Next` / `End`.
    pub transition: Transition,
    /// `InputPath` / `OutputPath`.
    pub io: Io,
    /// `Parameters`.
    pub parameters: Option<PayloadTemplate>,
    /// `ResultSelector`.
    pub result_selector: Option<PayloadTemplate>,
    /// `ResultPath` (`None` = `null`).
    pub result_path: Option<ReferencePath>,
    /// `Retry`.
    pub retry: Vec<Retrier>,
    /// `Catch`.
    pub catch: Vec<Catcher>,
    /// `TimeoutSeconds` / `TimeoutSecondsPath`.
    pub timeout_seconds: Option<NumberOrPath<u64>>,
    /// `HeartbeatSeconds` / `HeartbeatSecondsPath`.
    pub heartbeat_seconds: Option<NumberOrPath<u64>>,
    /// `Credentials`.
    pub credentials: Option<Credentials>,
    /// `Assign`.
    pub assign: Option<Assign>,
    /// JSONata `Arguments`.
    pub arguments: Option<Value>,
    /// JSONata `Output`.
    pub output: Option<Value>,
}

/// A Choice state.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    /// `Choices`, in order.
    pub choices: Vec<ChoiceRule>,
    /// `Default`.
    pub default: Option<String>,
    /// `InputPath` / `OutputPath`.
    pub io: Io,
    /// `Assign`.
    pub assign: Option<Assign>,
    /// JSONata `Output`.
    pub output: Option<Value>,
}

/// How long a Wait state waits.
#[derive(Clone, Debug, PartialEq)]
pub enum WaitFor {
    /// `Seconds`.
    Seconds(u64),
    /// `Timestamp` (RFC 3339, as written).
    Timestamp(String),
    /// `SecondsPath`.
    SecondsPath(ReferencePath),
    /// `TimestampPath`.
    TimestampPath(ReferencePath),
    /// JSONata `Seconds: "{% %}"`, kept as written.
    SecondsJsonata(String),
    /// JSONata `Timestamp: "{% %}"`, kept as written.
    TimestampJsonata(String),
}

/// A Wait state.
#[derive(Clone, Debug, PartialEq)]
pub struct Wait {
    /// The duration or deadline.
    pub wait: WaitFor,
    /// `Next` / `End`.
    pub transition: Transition,
    /// `InputPath` / `OutputPath`.
    pub io: Io,
    /// `Assign`.
    pub assign: Option<Assign>,
    /// JSONata `Output`.
    pub output: Option<Value>,
}

/// A Succeed state.
#[derive(Clone, Debug, PartialEq)]
pub struct Succeed {
    /// `InputPath` / `OutputPath`.
    pub io: Io,
    /// JSONata `Output`.
    pub output: Option<Value>,
}

/// The `Error` or `Cause` of a Fail state.
#[derive(Clone, Debug, PartialEq)]
pub enum FailField {
    /// `Error` / `Cause`: a literal string.
    Literal(String),
    /// `ErrorPath` / `CausePath`: a Reference Path or an intrinsic call.
    Path(Expression),
    /// JSONata `{% %}`, kept as written.
    Jsonata(String),
}

/// A Fail state.
#[derive(Clone, Debug, PartialEq)]
pub struct Fail {
    /// `Error` / `ErrorPath`.
    pub error: Option<FailField>,
    /// `Cause` / `CausePath`.
    pub cause: Option<FailField>,
}

/// A Parallel state.
#[derive(Clone, Debug, PartialEq)]
pub struct Parallel {
    /// `Branches`.
    pub branches: Vec<SubMachine>,
    /// `Next` / `End`.
    pub transition: Transition,
    /// `InputPath` / `OutputPath`.
    pub io: Io,
    /// `Parameters`.
    pub parameters: Option<PayloadTemplate>,
    /// `ResultSelector`.
    pub result_selector: Option<PayloadTemplate>,
    /// `ResultPath` (`None` = `null`).
    pub result_path: Option<ReferencePath>,
    /// `Retry`.
    pub retry: Vec<Retrier>,
    /// `Catch`.
    pub catch: Vec<Catcher>,
    /// `Assign`.
    pub assign: Option<Assign>,
    /// JSONata `Arguments`.
    pub arguments: Option<Value>,
    /// JSONata `Output`.
    pub output: Option<Value>,
}

/// `ProcessorConfig.Mode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ProcessingMode {
    /// `INLINE` (the default).
    #[default]
    Inline,
    /// `DISTRIBUTED`: iterations run as child executions.
    Distributed,
}

/// `ProcessorConfig` of a Map.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcessorConfig {
    /// `Mode`.
    pub mode: ProcessingMode,
    /// `ExecutionType` (distributed only).
    pub execution_type: Option<StateMachineType>,
}

/// `ItemReader` of a distributed Map, kept close to ASL.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemReader {
    /// `Resource`, e.g. `arn:aws:states:::s3:getObject`.
    pub resource: String,
    /// `Parameters`.
    pub parameters: Option<PayloadTemplate>,
    /// JSONata `Arguments`.
    pub arguments: Option<Value>,
    /// `ReaderConfig` as written (InputType, CSVHeaderLocation, ...).
    pub reader_config: Option<Value>,
    /// `ReaderConfig.MaxItems` / `MaxItemsPath`.
    pub max_items: Option<NumberOrPath<u64>>,
}

/// `ItemBatcher` of a distributed Map.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemBatcher {
    /// `BatchInput`.
    pub batch_input: Option<PayloadTemplate>,
    /// `MaxItemsPerBatch` / `MaxItemsPerBatchPath`.
    pub max_items_per_batch: Option<NumberOrPath<u64>>,
    /// `MaxInputBytesPerBatch` / `MaxInputBytesPerBatchPath`.
    pub max_input_bytes_per_batch: Option<NumberOrPath<u64>>,
}

/// `ResultWriter` of a distributed Map.
#[derive(Clone, Debug, PartialEq)]
pub struct ResultWriter {
    /// `Resource`, e.g. `arn:aws:states:::s3:putObject`.
    pub resource: Option<String>,
    /// `Parameters`.
    pub parameters: Option<PayloadTemplate>,
    /// JSONata `Arguments`.
    pub arguments: Option<Value>,
    /// `WriterConfig` as written.
    pub writer_config: Option<Value>,
}

/// A Map state.
#[derive(Clone, Debug, PartialEq)]
pub struct Map {
    /// `ItemProcessor` (or the legacy `Iterator`).
    pub item_processor: SubMachine,
    /// `ItemProcessor.ProcessorConfig`.
    pub processor_config: ProcessorConfig,
    /// True when the definition used the legacy `Iterator` key.
    pub legacy_iterator: bool,
    /// `ItemsPath` (default `$`).
    pub items_path: Option<ReferencePath>,
    /// JSONata `Items`.
    pub items: Option<Value>,
    /// `ItemSelector` (or the legacy `Parameters`).
    pub item_selector: Option<PayloadTemplate>,
    /// True when the definition used the legacy `Parameters` key.
    pub legacy_parameters: bool,
    /// `MaxConcurrency` / `MaxConcurrencyPath` (0 = unbounded).
    pub max_concurrency: Option<NumberOrPath<u64>>,
    /// `ItemReader`.
    pub item_reader: Option<ItemReader>,
    /// `ItemBatcher`.
    pub item_batcher: Option<ItemBatcher>,
    /// `ResultWriter`.
    pub result_writer: Option<ResultWriter>,
    /// `ToleratedFailureCount` / `...Path`.
    pub tolerated_failure_count: Option<NumberOrPath<u64>>,
    /// `ToleratedFailurePercentage` / `...Path`.
    pub tolerated_failure_percentage: Option<NumberOrPath<f64>>,
    /// `Label`.
    pub label: Option<String>,
    /// `Next` / `End`.
    pub transition: Transition,
    /// `InputPath` / `OutputPath`.
    pub io: Io,
    /// `ResultSelector`.
    pub result_selector: Option<PayloadTemplate>,
    /// `ResultPath` (`None` = `null`).
    pub result_path: Option<ReferencePath>,
    /// `Retry`.
    pub retry: Vec<Retrier>,
    /// `Catch`.
    pub catch: Vec<Catcher>,
    /// `Assign`.
    pub assign: Option<Assign>,
    /// JSONata `Output`.
    pub output: Option<Value>,
}

/// `JitterStrategy` of a retrier.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum JitterStrategy {
    /// `NONE` (the default).
    #[default]
    None,
    /// `FULL`: a uniform random delay in `[0, interval]`.
    Full,
}

/// One entry of `Retry`.
#[derive(Clone, Debug, PartialEq)]
pub struct Retrier {
    /// `ErrorEquals`.
    pub error_equals: Vec<ErrorName>,
    /// `IntervalSeconds` (default 1).
    pub interval_seconds: u64,
    /// `MaxAttempts` (default 3; 0 = never retry).
    pub max_attempts: u64,
    /// `BackoffRate` (default 2.0).
    pub backoff_rate: f64,
    /// `MaxDelaySeconds`.
    pub max_delay_seconds: Option<u64>,
    /// `JitterStrategy`.
    pub jitter_strategy: JitterStrategy,
    /// `Comment`.
    pub comment: Option<String>,
}

/// One entry of `Catch`.
#[derive(Clone, Debug, PartialEq)]
pub struct Catcher {
    /// `ErrorEquals`.
    pub error_equals: Vec<ErrorName>,
    /// `Next`.
    pub next: String,
    /// `ResultPath` (default `$`; `None` = `null`).
    pub result_path: Option<ReferencePath>,
    /// `Assign`.
    pub assign: Option<Assign>,
    /// JSONata `Output`.
    pub output: Option<Value>,
    /// `Comment`.
    pub comment: Option<String>,
}

/// Loads a definition from a JSON value: the typed model when it has no
/// error, and every diagnostic found (errors first, in the order found,
/// then warnings). `machine_type` adds the restrictions of that workflow
/// type (Express).
pub(crate) fn load(
    value: &Value,
    machine_type: Option<StateMachineType>,
) -> (Option<Definition>, Vec<Diagnostic>) {
    let mut cx = parse::Cx::new(machine_type);
    let definition = parse::definition(&mut cx, value);
    validate::graphs(&mut cx);
    let mut diagnostics = cx.diags;
    diagnostics.sort_by_key(|d| d.severity);
    let has_errors = diagnostics.iter().any(Diagnostic::is_error);
    (definition.filter(|_| !has_errors), diagnostics)
}

/// Reads ASL text as JSON, or the `INVALID_JSON_DESCRIPTION` diagnostic.
pub(crate) fn read_text(text: &str) -> Result<Value, Diagnostic> {
    parse::parse_text(text)
}

/// Reads ASL bytes as JSON, or the `INVALID_JSON_DESCRIPTION` diagnostic.
pub(crate) fn read_slice(bytes: &[u8]) -> Result<Value, Diagnostic> {
    parse::parse_slice(bytes)
}

/// The definition as ASL JSON (defaults written out).
pub(crate) fn to_value(definition: &Definition) -> Value {
    ser::definition(definition)
}
