//! The typed model of an ASL definition, and [`StateMachine`], its loaded
//! and compiled form.
//!
//! Every path, payload template, intrinsic call and choice rule in the model
//! is already parsed: a definition that loads cannot fail later on syntax.
//!
//! Each state's query language is resolved once, at load
//! ([`State::query_language`]), and its fields live in slots of that
//! language: [`Io`] (`InputPath`/`OutputPath`/`Parameters` or
//! `Arguments`/`Output`), [`Assign`], [`ChoiceRules`], and [`Dynamic`] for
//! the fields that may be literal, a JSONPath or a JSONata expression
//! (`Seconds`, `TimeoutSeconds`, `MaxConcurrency`, Fail `Error`, ...).
//! JSONata values are [`JsonataExpression`]s and [`JsonataTemplate`]s:
//! their text and where the `{% %}` strings are, not evaluated yet.
//! [`ResultHandling`] groups `ResultSelector`, `ResultPath`, `Retry` and
//! `Catch` of Task, Parallel and Map states.
//!
//! # Loading
//!
//! [`StateMachine`]: crate::StateMachine
//! [`StateMachine::from_str`]: crate::StateMachine::from_str
//! [`StateMachine::validate`]: crate::StateMachine::validate
//! [`StateMachine::from_state`]: crate::StateMachine::from_state
//! [`Validation`]: crate::Validation
//! [`Error`]: crate::Error
//!
//! [`StateMachine::from_str`], [`from_slice`](crate::StateMachine::from_slice) and
//! [`from_value`](crate::StateMachine::from_value) read a definition the way
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

mod fields;
pub(crate) mod jsonata;
mod parse;
use parse::is_jsonata;
mod raw;
mod ser;
mod states;
mod validate;

pub use states::choice::{Choice, ChoiceRules, JsonataChoiceRule, JsonataCondition};
pub use states::fail::Fail;
pub use states::handlers::{Catcher, JitterStrategy, ResultHandling, Retrier};
pub use states::map::{
    ItemBatcher, ItemReader, Map, ProcessingMode, ProcessorConfig, ResultWriter,
};
pub use states::parallel::Parallel;
pub use states::pass::Pass;
pub use states::succeed::Succeed;
pub use states::task::{Credentials, Task};
pub use states::wait::{Wait, WaitFor};

use crate::error::Diagnostic;
use crate::jsonpath::path::{Path, ReferencePath};
use crate::jsonpath::template::PayloadTemplate;
pub use crate::resource::{IntegrationPattern, Resource, ResourceKind};
use serde_json::Value;
use std::collections::HashMap;

/// Which query language a state uses.
#[non_exhaustive]
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
#[non_exhaustive]
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
#[non_exhaustive]
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
#[non_exhaustive]
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
#[non_exhaustive]
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
#[non_exhaustive]
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
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transition {
    /// `"Next": "<name>"`
    Next(String),
    /// `"End": true`
    End,
}

/// The input and output slots of a state, in its query language. Absent
/// JSONPath fields take ASL's defaults at load time (`InputPath` and
/// `OutputPath` are `$`); `None` means the field was `null`. A slot the
/// state type does not have (`Parameters` of a Wait, `Arguments` of a Pass)
/// is always `None`; a Fail state has no `Io`.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub enum Io {
    /// A JSONPath state.
    #[non_exhaustive]
    JsonPath {
        /// `InputPath` (`None` = `null`: the effective input is `{}`).
        input_path: Option<Path>,
        /// `OutputPath` (`None` = `null`: the output is `{}`).
        output_path: Option<Path>,
        /// `Parameters` (Pass, Task, Parallel; a Map's is its
        /// [`item_selector`](Map::item_selector)).
        parameters: Option<PayloadTemplate>,
    },
    /// A JSONata state.
    #[non_exhaustive]
    Jsonata {
        /// `Arguments` (Task, Parallel).
        arguments: Option<JsonataTemplate>,
        /// `Output`.
        output: Option<JsonataTemplate>,
    },
}

impl Io {
    /// The slots of a JSONPath state.
    pub fn json_path(
        input_path: Option<Path>,
        output_path: Option<Path>,
        parameters: Option<PayloadTemplate>,
    ) -> Io {
        Io::JsonPath {
            input_path,
            output_path,
            parameters,
        }
    }

    /// The slots of a JSONata state.
    pub fn jsonata(arguments: Option<JsonataTemplate>, output: Option<JsonataTemplate>) -> Io {
        Io::Jsonata { arguments, output }
    }

    /// `InputPath` as the JSONPath data flow applies it: a JSONata state
    /// passes its whole input on (`$`).
    #[inline]
    pub(crate) fn input_path(&self) -> Option<&Path> {
        match self {
            Io::JsonPath { input_path, .. } => input_path.as_ref(),
            Io::Jsonata { .. } => root_path(),
        }
    }

    /// `OutputPath` as the JSONPath data flow applies it (`$` for a JSONata
    /// state).
    #[inline]
    pub(crate) fn output_path(&self) -> Option<&Path> {
        match self {
            Io::JsonPath { output_path, .. } => output_path.as_ref(),
            Io::Jsonata { .. } => root_path(),
        }
    }

    /// The same slots with `Parameters` set (JSONPath states).
    pub(crate) fn with_parameters(self, parameters: Option<PayloadTemplate>) -> Io {
        match self {
            Io::JsonPath {
                input_path,
                output_path,
                ..
            } => Io::json_path(input_path, output_path, parameters),
            jsonata => jsonata,
        }
    }

    /// `Parameters` of a JSONPath state.
    #[inline]
    pub(crate) fn parameters(&self) -> Option<&PayloadTemplate> {
        match self {
            Io::JsonPath { parameters, .. } => parameters.as_ref(),
            Io::Jsonata { .. } => None,
        }
    }
}

/// The `$` path, shared.
fn root_path() -> Option<&'static Path> {
    static ROOT: std::sync::LazyLock<Option<Path>> =
        std::sync::LazyLock::new(|| Path::parse("$").ok());
    ROOT.as_ref()
}

/// `Assign`, in the state's query language.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub enum Assign {
    /// JSONPath `Assign` (`.$` keys evaluated).
    JsonPath(PayloadTemplate),
    /// JSONata `Assign` (`{% %}` strings at any depth).
    Jsonata(JsonataTemplate),
}

/// A field whose value is given literally, through a JSONPath (the
/// `...Path` field, or `ErrorPath`/`CausePath`/`RoleArn.$` whose `P` is an
/// [`Expression`](crate::jsonpath::Expression): a path or an intrinsic call), or as a JSONata
/// expression: `Seconds`, `Timestamp`, `TimeoutSeconds`,
/// `HeartbeatSeconds`, `MaxConcurrency`, `ToleratedFailure*`, `MaxItems`,
/// `MaxItemsPerBatch`, `MaxInputBytesPerBatch`, Fail `Error`/`Cause`,
/// `Credentials.RoleArn`.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub enum Dynamic<T, P = ReferencePath> {
    /// The literal value.
    Literal(T),
    /// The JSONPath form (JSONPath states).
    Path(P),
    /// A `{% %}` expression (JSONata states).
    Jsonata(JsonataExpression),
}

/// A JSONata expression: a whole JSON string `{% ... %}` (no whitespace
/// outside the delimiters), compiled when it is read. A definition whose
/// expression does not compile does not load (`INVALID_JSONATA_EXPRESSION`).
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct JsonataExpression {
    written: String,
    compiled: Result<std::sync::Arc<crate::jsonata::Expression>, crate::jsonata::Error>,
}

impl PartialEq for JsonataExpression {
    fn eq(&self, other: &Self) -> bool {
        self.written == other.written
    }
}

impl Eq for JsonataExpression {}

impl JsonataExpression {
    /// `text` when it is a JSONata expression (`{%` ... `%}`), compiled,
    /// else `None`.
    pub fn parse(text: &str) -> Option<JsonataExpression> {
        is_jsonata(text).then(|| JsonataExpression::compile(text))
    }

    fn compile(text: &str) -> JsonataExpression {
        JsonataExpression {
            written: text.to_owned(),
            compiled: crate::jsonata::Expression::parse(source_of(text)).map(std::sync::Arc::new),
        }
    }

    /// The string as written, delimiters included.
    pub fn as_str(&self) -> &str {
        &self.written
    }

    /// A JSON string that is an expression once trimmed (a Choice
    /// `Condition` is read that way), kept as written.
    pub(crate) fn parse_padded(text: &str) -> Option<JsonataExpression> {
        is_jsonata(text.trim()).then(|| JsonataExpression::compile(text))
    }

    /// The expression between `{%` and `%}`.
    pub fn source(&self) -> &str {
        source_of(&self.written)
    }

    /// The compiled expression, or why it does not compile.
    pub fn compiled(&self) -> Result<&crate::jsonata::Expression, &crate::jsonata::Error> {
        self.compiled.as_deref()
    }
}

/// The text between `{%` and `%}` of an expression string.
fn source_of(written: &str) -> &str {
    let trimmed = written.trim();
    trimmed
        .get(2..trimmed.len().saturating_sub(2))
        .unwrap_or("")
}

/// A JSON value of a JSONata state (`Arguments`, `Output`, `Assign`,
/// `Items`, `ItemSelector`) whose strings may be `{% %}` expressions at any
/// depth, each compiled when read; every other value is literal.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct JsonataTemplate {
    value: Value,
    /// JSON Pointers (RFC 6901) of the expression strings, in document
    /// order, with the compiled expressions.
    expressions: Vec<(String, JsonataExpression)>,
}

impl JsonataTemplate {
    /// The template of `value`: finds its expression strings (without
    /// recursion) and compiles them.
    pub fn new(value: Value) -> JsonataTemplate {
        let mut expressions = Vec::new();
        let mut stack: Vec<(&Value, String)> = vec![(&value, String::new())];
        while let Some((v, at)) = stack.pop() {
            match v {
                Value::String(s) => {
                    if let Some(e) = JsonataExpression::parse(s) {
                        expressions.push((at, e));
                    }
                }
                Value::Object(m) => {
                    for (key, child) in m.iter().rev() {
                        let key = key.replace('~', "~0").replace('/', "~1");
                        stack.push((child, format!("{at}/{key}")));
                    }
                }
                Value::Array(a) => {
                    for (i, child) in a.iter().enumerate().rev() {
                        stack.push((child, format!("{at}/{i}")));
                    }
                }
                _ => {}
            }
        }
        JsonataTemplate { value, expressions }
    }

    /// The value as written.
    pub fn as_value(&self) -> &Value {
        &self.value
    }

    /// The value as written (a copy).
    pub fn to_value(&self) -> Value {
        self.value.clone()
    }

    /// Where the `{% %}` strings are: their JSON Pointers (`""` when the
    /// whole value is one), in document order.
    pub fn expression_pointers(&self) -> impl Iterator<Item = &str> {
        self.expressions.iter().map(|(p, _)| p.as_str())
    }

    /// The `{% %}` expressions, in document order.
    pub fn expressions(&self) -> impl Iterator<Item = JsonataExpression> + '_ {
        self.expressions.iter().map(|(_, e)| e.clone())
    }

    /// The `{% %}` expressions with their JSON Pointers, in document order.
    pub(crate) fn located(&self) -> &[(String, JsonataExpression)] {
        &self.expressions
    }

    /// True when the value holds no expression.
    pub fn is_literal(&self) -> bool {
        self.expressions.is_empty()
    }
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
