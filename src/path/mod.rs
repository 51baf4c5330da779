//! JSONPath as ASL uses it: [`ReferencePath`] (one node, the hot path) and
//! [`Path`] (full JSONPath), both parsed once and evaluated many times
//! against an [`Env`]: the data (`$`), the context object (`$$`) and the
//! workflow variables (`$name`).
//!
//! SKELETON: signatures are the contract other modules code against; the
//! bodies are filled in by the path work.

use serde_json::{Map, Value};
use std::borrow::Cow;
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

/// Where a path starts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Root {
    /// `$`
    Data,
    /// `$$`
    Context,
    /// `$name`
    Variable(String),
}

/// A path that failed to parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathSyntaxError {
    /// The path text.
    pub path: String,
    /// What is wrong, lowercase.
    pub message: String,
}

impl fmt::Display for PathSyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid path `{}`: {}", self.path, self.message)
    }
}

impl std::error::Error for PathSyntaxError {}

/// A path that could not be evaluated.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathError {
    /// Nothing matched. `normalized` is the path in bracket form as AWS
    /// prints it (`$['a']['b']`).
    NoResults {
        /// The path as written.
        path: String,
        /// The bracket form, e.g. `$['x']`.
        normalized: String,
    },
    /// A `$name` variable is not set.
    UndefinedVariable {
        /// The variable name without `$`.
        name: String,
    },
    /// ResultPath cannot be written into this value.
    CannotWrite {
        /// The path as written.
        path: String,
    },
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathError::NoResults { path, normalized } => {
                write!(
                    f,
                    "Invalid path '{path}' : No results for path: {normalized}"
                )
            }
            PathError::UndefinedVariable { name } => write!(f, "undefined variable `${name}`"),
            PathError::CannotWrite { path } => write!(f, "cannot apply path `{path}`"),
        }
    }
}

impl std::error::Error for PathError {}

/// A Reference Path: `$`, `$$` or `$name` followed by `.field`, `['field']`
/// and `[index]` steps only. Selects exactly one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferencePath {
    _todo: (),
}

impl ReferencePath {
    /// Parses a Reference Path.
    pub fn parse(_text: &str) -> Result<ReferencePath, PathSyntaxError> {
        todo!()
    }
    /// The path as written.
    pub fn as_str(&self) -> &str {
        todo!()
    }
    /// Where the path starts.
    pub fn root(&self) -> &Root {
        todo!()
    }
    /// True for the bare root `$` (select everything).
    pub fn is_identity(&self) -> bool {
        todo!()
    }
    /// The selected node.
    pub fn eval<'v>(&self, _env: &Env<'v>) -> Result<&'v Value, PathError> {
        todo!()
    }
    /// Walks the steps (ignoring the root) from `value`.
    pub fn get<'v>(&self, _value: &'v Value) -> Option<&'v Value> {
        todo!()
    }
    /// Moves the selected node out of `value` (steps only, root ignored).
    pub fn take(&self, _value: Value) -> Option<Value> {
        todo!()
    }
    /// Writes `value` at this path inside `target` as ResultPath does,
    /// creating intermediate objects.
    pub fn write(&self, _target: &mut Value, _value: Value) -> Result<(), PathError> {
        todo!()
    }
}

/// A full JSONPath (wildcards, filters, slices, unions, recursive descent).
/// A definite path yields its node; any other yields an array of matches.
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    _todo: (),
}

impl Path {
    /// Parses a Path.
    pub fn parse(_text: &str) -> Result<Path, PathSyntaxError> {
        todo!()
    }
    /// The path as written.
    pub fn as_str(&self) -> &str {
        todo!()
    }
    /// Where the path starts.
    pub fn root(&self) -> &Root {
        todo!()
    }
    /// The Reference Path this is, when it is one.
    pub fn as_reference(&self) -> Option<&ReferencePath> {
        todo!()
    }
    /// Evaluates the path.
    pub fn eval<'v>(&self, _env: &Env<'v>) -> Result<Cow<'v, Value>, PathError> {
        todo!()
    }
}
