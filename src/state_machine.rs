//! [`StateMachine`]: a definition loaded, checked and compiled once, and
//! the front door to its executions; [`Validation`], AWS's
//! `ValidateStateMachineDefinition` answer.

use crate::definition::{self, Definition, StateMachineType};
use crate::engine::Outcome;
use crate::engine::{Execution, Plan};
use crate::error::{Diagnostic, Error, ErrorKind, Severity};
use crate::executor::TaskExecutor;
use serde_json::{json, Value};
use std::sync::Arc;

/// A loaded, checked and compiled state machine. Load it once, share it
/// (`Arc<StateMachine>`), run it many times.
#[derive(Clone, Debug)]
pub struct StateMachine {
    definition: Definition,
    warnings: Vec<Diagnostic>,
    /// What the engine precomputes from the definition, built at load.
    pub(crate) plan: Arc<Plan>,
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
        match definition::read_slice(bytes) {
            Ok(value) => Self::check_value(&value, None).into_result(),
            Err(d) => Validation::rejected(vec![d]).into_result(),
        }
    }

    /// Loads a definition from a JSON value.
    pub fn from_value(value: Value) -> Result<StateMachine, Error> {
        let result = Self::check_value(&value, None).into_result();
        // a value nested too deeply for serde_json's recursive drop
        // (`TOO_DEEPLY_NESTED`) is taken apart without recursion
        crate::json::dismantle(value);
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
        match definition::read_slice(bytes) {
            Ok(value) => Self::check_value(&value, Some(machine_type)),
            Err(d) => Validation::rejected(vec![d]),
        }
    }

    /// As [`validate`](Self::validate) over a JSON value.
    pub fn validate_value(value: &Value, machine_type: StateMachineType) -> Validation {
        Self::check_value(value, Some(machine_type))
    }

    fn check_text(text: &str, machine_type: Option<StateMachineType>) -> Validation {
        match definition::read_text(text) {
            Ok(value) => Self::check_value(&value, machine_type),
            Err(d) => Validation::rejected(vec![d]),
        }
    }

    fn check_value(value: &Value, machine_type: Option<StateMachineType>) -> Validation {
        let (definition, diagnostics) = definition::load(value, machine_type);
        let machine = definition.map(|definition| StateMachine {
            plan: Arc::new(Plan::new(&definition)),
            definition,
            warnings: diagnostics
                .iter()
                .filter(|d| !d.is_error())
                .cloned()
                .collect(),
        });
        Validation {
            diagnostics,
            machine,
        }
    }

    /// Runs one execution with default options (system clock, AWS limits,
    /// no history) to its end.
    pub async fn execute<E>(&self, executor: &E, input: Value) -> Outcome
    where
        E: TaskExecutor + ?Sized,
    {
        self.execution().run(executor, input).await
    }

    /// Starts configuring an execution; see [`Execution`].
    pub fn execution(&self) -> Execution<'_> {
        Execution::new(&self.definition, &self.plan)
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
        definition::to_value(&self.definition)
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
