//! What any expression sees when it is evaluated: the data (`$`), the
//! context object (`$$`) and the workflow variables (`$name`).

use serde_json::{Map, Value};
use std::fmt;

/// Workflow variables, looked up by name (without the `$`).
pub trait Variables {
    /// The value of variable `name`, if it is set.
    fn get(&self, name: &str) -> Option<&Value>;

    /// What expressions evaluated over these variables may build: payload
    /// templates and intrinsic calls stop with `States.DataLimitExceeded`
    /// once a value passes its bound. The engine's variables answer with
    /// their execution's limits; the default builds without bounds.
    fn build_limits(&self) -> BuildLimits {
        BuildLimits::default()
    }
}

/// The limits an expression honours while it builds a value, in bytes of
/// compact JSON text (`None`: unbounded): see
/// [`Variables::build_limits`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BuildLimits {
    /// The payload limit: a payload template, and any intrinsic call,
    /// stops past four times it (at least 1 MiB), as in an execution under
    /// [`Limits::max_payload_bytes`](crate::Limits::max_payload_bytes).
    pub payload_bytes: Option<usize>,
    /// The most one variable of an `Assign` may hold
    /// ([`Limits::max_variable_bytes`](crate::Limits::max_variable_bytes)).
    pub variable_bytes: Option<usize>,
    /// The most the values of one `Assign` may hold together
    /// ([`Limits::max_assign_bytes`](crate::Limits::max_assign_bytes)).
    pub assign_bytes: Option<usize>,
}

impl BuildLimits {
    /// No bounds.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the payload limit.
    pub fn with_payload_bytes(mut self, bytes: Option<usize>) -> Self {
        self.payload_bytes = bytes;
        self
    }

    /// Sets the limit of one variable.
    pub fn with_variable_bytes(mut self, bytes: Option<usize>) -> Self {
        self.variable_bytes = bytes;
        self
    }

    /// Sets the limit of the values of one `Assign`.
    pub fn with_assign_bytes(mut self, bytes: Option<usize>) -> Self {
        self.assign_bytes = bytes;
        self
    }
}

/// No variables at all.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoVariables;

impl Variables for NoVariables {
    fn get(&self, _name: &str) -> Option<&Value> {
        None
    }
}

impl Variables for Map<String, Value> {
    fn get(&self, name: &str) -> Option<&Value> {
        Map::get(self, name)
    }
}

impl<S: std::hash::BuildHasher> Variables for std::collections::HashMap<String, Value, S> {
    fn get(&self, name: &str) -> Option<&Value> {
        std::collections::HashMap::get(self, name)
    }
}

impl Variables for std::collections::BTreeMap<String, Value> {
    fn get(&self, name: &str) -> Option<&Value> {
        std::collections::BTreeMap::get(self, name)
    }
}

/// What a path is evaluated against.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    /// `$`: the data (state input, effective input, or result, by field).
    pub data: &'a Value,
    /// `$$`: the context object.
    pub context: &'a Value,
    /// `$name`: workflow variables.
    pub variables: &'a dyn Variables,
}

impl<'a> Env<'a> {
    /// An environment with data only (`$$` is `null`, no variables).
    pub fn data(data: &'a Value) -> Env<'a> {
        Env {
            data,
            context: &Value::Null,
            variables: &NoVariables,
        }
    }

    /// The same environment over other data.
    pub fn with_data(&self, data: &'a Value) -> Env<'a> {
        Env { data, ..*self }
    }
}

impl fmt::Debug for Env<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Env")
            .field("data", self.data)
            .field("context", self.context)
            .finish_non_exhaustive()
    }
}

/// The parts of an [`Env`] that stay the same while a state runs: the
/// context object and the variables. [`Scope::env`] adds the data.
#[derive(Clone, Copy)]
pub struct Scope<'a> {
    /// `$$`: the context object.
    pub context: &'a Value,
    /// `$name`: workflow variables.
    pub variables: &'a dyn Variables,
}

impl<'a> Scope<'a> {
    /// A scope with no context object (`null`) and no variables.
    pub fn empty() -> Scope<'static> {
        Scope {
            context: &Value::Null,
            variables: &NoVariables,
        }
    }

    /// An environment over `data` in this scope.
    pub fn env<'b>(&self, data: &'b Value) -> Env<'b>
    where
        'a: 'b,
    {
        Env {
            data,
            context: self.context,
            variables: self.variables,
        }
    }
}

impl fmt::Debug for Scope<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope")
            .field("context", self.context)
            .finish_non_exhaustive()
    }
}
