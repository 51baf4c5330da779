//! The typed model of an ASL definition, and [`StateMachine`], its loaded
//! and compiled form.
//!
//! Every path, payload template, intrinsic call and choice rule in the model
//! is already parsed: a definition that loads cannot fail later on syntax.
//! JSONata fields (`Arguments`, `Output`, `Items`, `Condition`, `{% %}`
//! values) are kept as written.
//!
//! SKELETON: the types are the contract other modules code against;
//! loading and validation are filled in by the definition work.

use crate::choice::ChoiceRule;
use crate::error::{Diagnostic, ErrorName};
use crate::path::{Path, ReferencePath};
use crate::template::{Expression, PayloadTemplate};
use serde_json::Value;

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
}

impl SubMachine {
    /// The position of the state named `name` in [`states`](Self::states).
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.states.iter().position(|s| s.name == name)
    }

    /// The state named `name`.
    pub fn get(&self, name: &str) -> Option<&State> {
        self.states.iter().find(|s| s.name == name)
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
}

impl StateMachine {
    /// The typed definition.
    pub fn definition(&self) -> &Definition {
        &self.definition
    }

    /// Warnings found while loading (`NO_DOLLAR`, `PASS_RESULT_IS_STATIC`, ...).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }
}
