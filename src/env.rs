//! What any expression sees when it is evaluated: the data (`$`), the
//! context object (`$$`) and the workflow variables (`$name`).

use serde_json::{Map, Value};
use std::fmt;

/// Workflow variables, looked up by name (without the `$`).
pub trait Variables {
    /// The value of variable `name`, if it is set.
    fn get(&self, name: &str) -> Option<&Value>;
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
