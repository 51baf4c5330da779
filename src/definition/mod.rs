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
//! use stepfn::definition::{StateMachineType, Validation};
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
mod resource;
mod ser;
mod validate;

use crate::choice::ChoiceRule;
use crate::error::{Diagnostic, Error, ErrorKind, ErrorName, Severity};
use crate::path::{Path, ReferencePath};
use crate::template::{Expression, PayloadTemplate};
use serde_json::{json, Value};
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

/// How a Task waits for its work (the suffix of an integration ARN).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum IntegrationPattern {
    /// No suffix: call the API and take its answer.
    #[default]
    RequestResponse,
    /// `.sync`: run a job and wait for it.
    Sync,
    /// `.sync:2`: as `.sync`, with the newer result shape.
    Sync2,
    /// `.waitForTaskToken`: wait for a callback with the task token.
    WaitForTaskToken,
}

impl IntegrationPattern {
    /// The ARN suffix (`""`, `".sync"`, `".sync:2"`, `".waitForTaskToken"`).
    pub fn suffix(self) -> &'static str {
        match self {
            IntegrationPattern::RequestResponse => "",
            IntegrationPattern::Sync => ".sync",
            IntegrationPattern::Sync2 => ".sync:2",
            IntegrationPattern::WaitForTaskToken => ".waitForTaskToken",
        }
    }
}

/// What a Task `Resource` names.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResourceKind {
    /// A Lambda function ARN (the legacy direct form):
    /// `arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`.
    Lambda {
        /// The function name.
        function: String,
    },
    /// An activity ARN: `arn:aws:states:<region>:<account>:activity:<name>`.
    Activity {
        /// The activity name.
        name: String,
    },
    /// An optimized integration: `arn:aws:states:::<service>:<action>[.pattern]`.
    Service {
        /// e.g. `lambda`, `sqs`, `dynamodb`, `states`.
        service: String,
        /// e.g. `invoke`, `sendMessage`, `startExecution`.
        action: String,
        /// The integration pattern.
        pattern: IntegrationPattern,
    },
    /// An AWS SDK integration: `arn:aws:states:::aws-sdk:<service>:<action>[.pattern]`.
    AwsSdk {
        /// e.g. `s3`, `dynamodb`.
        service: String,
        /// e.g. `getObject`.
        action: String,
        /// The integration pattern.
        pattern: IntegrationPattern,
    },
    /// Any other URI: passed to the executor as written.
    Other,
}

/// A parsed Task `Resource`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Resource {
    /// The ARN / URI as written.
    pub arn: String,
    /// What it names.
    pub kind: ResourceKind,
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

/// A loaded, checked and compiled state machine. Load it once, share it
/// (`Arc<StateMachine>`), run it many times.
#[derive(Clone, Debug)]
pub struct StateMachine {
    definition: Definition,
    warnings: Vec<Diagnostic>,
    /// What the engine precomputes from the definition, built on the
    /// first execution (owned by the engine).
    pub(crate) engine_plan: crate::engine::PlanCache,
}

impl StateMachine {
    /// Loads a definition from ASL text.
    ///
    /// Malformed JSON is an `INVALID_JSON_DESCRIPTION` diagnostic with line
    /// and column; every other problem is reported with its location.
    #[allow(clippy::should_implement_trait)] // also implemented: FromStr
    pub fn from_str(text: &str) -> Result<StateMachine, Error> {
        Self::check_text(text, None).into_result()
    }

    /// Loads a definition from ASL bytes (UTF-8 JSON).
    pub fn from_slice(bytes: &[u8]) -> Result<StateMachine, Error> {
        match parse::parse_slice(bytes) {
            Ok(value) => Self::check_value(&value, None).into_result(),
            Err(d) => Validation::rejected(vec![d]).into_result(),
        }
    }

    /// Loads a definition from a JSON value.
    pub fn from_value(value: Value) -> Result<StateMachine, Error> {
        let result = Self::check_value(&value, None).into_result();
        // a value nested too deeply for serde_json's recursive drop
        // (`TOO_DEEPLY_NESTED`) is taken apart without recursion
        crate::engine::bounds::dismantle(value);
        result
    }

    /// Loads one state definition (TestState's `definition` without
    /// `stateName`) as a machine of its own named `name`: its `Next`,
    /// `Default` and catcher targets become Succeed states, so the state
    /// can be tested without the rest of its machine.
    pub fn from_state(name: &str, state: &Value) -> Result<StateMachine, Error> {
        let Some(object) = state.as_object() else {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "a state definition must be a JSON object",
            ));
        };
        let mut targets: Vec<String> = Vec::new();
        let mut add = |v: Option<&Value>| {
            if let Some(t) = v.and_then(Value::as_str) {
                if t != name && !targets.iter().any(|x| x == t) {
                    targets.push(t.to_owned());
                }
            }
        };
        add(object.get("Next"));
        add(object.get("Default"));
        for rule in object
            .get("Choices")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            add(rule.get("Next"));
        }
        for catcher in object
            .get("Catch")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            add(catcher.get("Next"));
        }
        let mut states = serde_json::Map::new();
        states.insert(name.to_owned(), state.clone());
        for t in targets {
            states.insert(t, json!({"Type": "Succeed"}));
        }
        StateMachine::from_value(json!({"StartAt": name, "States": states}))
    }

    /// Validates ASL text as AWS's `ValidateStateMachineDefinition` does for
    /// a workflow of type `machine_type` (Express rejects activities, `.sync`
    /// and `.waitForTaskToken`). The report holds every problem found and,
    /// when there is no error, the loaded machine.
    pub fn validate(text: &str, machine_type: StateMachineType) -> Validation {
        Self::check_text(text, Some(machine_type))
    }

    /// As [`validate`](Self::validate) over bytes (UTF-8 JSON).
    pub fn validate_slice(bytes: &[u8], machine_type: StateMachineType) -> Validation {
        match parse::parse_slice(bytes) {
            Ok(value) => Self::check_value(&value, Some(machine_type)),
            Err(d) => Validation::rejected(vec![d]),
        }
    }

    /// As [`validate`](Self::validate) over a JSON value.
    pub fn validate_value(value: &Value, machine_type: StateMachineType) -> Validation {
        Self::check_value(value, Some(machine_type))
    }

    fn check_text(text: &str, machine_type: Option<StateMachineType>) -> Validation {
        match parse::parse_text(text) {
            Ok(value) => Self::check_value(&value, machine_type),
            Err(d) => Validation::rejected(vec![d]),
        }
    }

    fn check_value(value: &Value, machine_type: Option<StateMachineType>) -> Validation {
        let mut cx = parse::Cx::new(machine_type);
        let definition = parse::definition(&mut cx, value);
        validate::graphs(&mut cx);
        let mut diagnostics = cx.diags;
        // Errors first (in the order found), then warnings.
        diagnostics.sort_by_key(|d| d.severity);
        let has_errors = diagnostics.iter().any(Diagnostic::is_error);
        let machine = match definition {
            Some(definition) if !has_errors => Some(StateMachine {
                engine_plan: Default::default(),
                definition,
                warnings: diagnostics
                    .iter()
                    .filter(|d| !d.is_error())
                    .cloned()
                    .collect(),
            }),
            _ => None,
        };
        Validation {
            diagnostics,
            machine,
        }
    }

    /// The typed definition.
    pub fn definition(&self) -> &Definition {
        &self.definition
    }

    /// Warnings found while loading (`NO_DOLLAR`, `PASS_RESULT_IS_STATIC`, ...).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// The definition as ASL JSON. Loading it again gives an equal
    /// [`Definition`] (defaults such as a retrier's `MaxAttempts` are written
    /// out).
    pub fn to_value(&self) -> Value {
        ser::definition(&self.definition)
    }
}

impl std::str::FromStr for StateMachine {
    type Err = Error;

    fn from_str(text: &str) -> Result<StateMachine, Error> {
        StateMachine::from_str(text)
    }
}

impl serde::Serialize for StateMachine {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(serializer)
    }
}

/// The answer of [`StateMachine::validate`], shaped like AWS's
/// `ValidateStateMachineDefinition` response.
#[derive(Clone, Debug)]
pub struct Validation {
    /// Every problem found: errors first, in the order found, then warnings.
    pub diagnostics: Vec<Diagnostic>,
    machine: Option<StateMachine>,
}

impl Validation {
    fn rejected(diagnostics: Vec<Diagnostic>) -> Validation {
        Validation {
            diagnostics,
            machine: None,
        }
    }

    /// True when no diagnostic is an error (warnings allowed).
    pub fn is_ok(&self) -> bool {
        self.machine.is_some()
    }

    /// `"OK"` or `"FAIL"`, as AWS's `result`.
    pub fn result(&self) -> &'static str {
        if self.is_ok() {
            "OK"
        } else {
            "FAIL"
        }
    }

    /// The error diagnostics.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }

    /// The warning diagnostics.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| !d.is_error())
    }

    /// The loaded machine, when the definition is valid.
    pub fn state_machine(&self) -> Option<&StateMachine> {
        self.machine.as_ref()
    }

    /// The loaded machine, or an [`InvalidDefinition`](crate::ErrorKind::InvalidDefinition)
    /// error carrying every diagnostic.
    pub fn into_result(self) -> Result<StateMachine, Error> {
        match self.machine {
            Some(machine) => Ok(machine),
            None => Err(Error::invalid_definition(self.diagnostics)),
        }
    }

    /// AWS's response shape: `{"result", "diagnostics": [{"severity",
    /// "code", "message", "location"}], "truncated": false}`. Like AWS's
    /// default (`severity: ERROR`), warnings are included only when asked for.
    pub fn to_json(&self, include_warnings: bool) -> Value {
        let diagnostics: Vec<Value> = self
            .diagnostics
            .iter()
            .filter(|d| include_warnings || d.severity == Severity::Error)
            .map(|d| {
                let mut m = serde_json::Map::new();
                m.insert("severity".into(), d.severity.as_str().into());
                m.insert("code".into(), d.code.into());
                m.insert("message".into(), d.message.clone().into());
                if let Some(location) = &d.location {
                    m.insert("location".into(), location.clone().into());
                }
                Value::Object(m)
            })
            .collect();
        serde_json::json!({
            "result": self.result(),
            "diagnostics": diagnostics,
            "truncated": false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn state_machine_is_send_and_sync() {
        assert_send_sync::<StateMachine>();
        assert_send_sync::<Validation>();
    }
}
