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

mod fields;
mod parse;
pub(crate) use parse::is_jsonata;
mod raw;
mod ser;
mod states;
mod validate;

pub use states::choice::Choice;
pub use states::fail::{Fail, FailField};
pub use states::handlers::{Catcher, JitterStrategy, Retrier};
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
