//! Payload templates (`Parameters`, `ItemSelector`, `ResultSelector`,
//! `Assign`, `Credentials`): JSON with `.$` keys whose values are paths or
//! intrinsic calls, compiled once when the definition is loaded.
//!
//! ```
//! use serde_json::json;
//! use stepfn::jsonpath::Env;
//! use stepfn::jsonpath::PayloadTemplate;
//!
//! let template = PayloadTemplate::compile(&json!({
//!     "greeting.$": "States.Format('Hello, {}!', $.name)",
//!     "static": {"kept": "$.as-is"}
//! }))
//! .unwrap();
//! let input = json!({"name": "Ada"});
//! assert_eq!(
//!     template.eval(&Env::data(&input)).unwrap(),
//!     json!({"greeting": "Hello, Ada!", "static": {"kept": "$.as-is"}})
//! );
//! ```

use crate::error::StatesError;
use crate::jsonpath::intrinsics::IntrinsicCall;
use crate::jsonpath::path::{Env, Path, PathError};
use serde_json::{Map, Value};
use std::collections::HashSet;

/// The value of a `.$` key: a Path (`$.a`, `$$.Execution.Id`, `$var`) or an
/// intrinsic call (`States.Format('{}', $.a)`).
#[derive(Clone, Debug, PartialEq)]
pub enum Expression {
    /// A Path.
    Path(Path),
    /// An intrinsic function call.
    Intrinsic(IntrinsicCall),
}

impl Expression {
    /// Parses the text of a `.$` value: an intrinsic call when it starts
    /// with `States.`, a Path otherwise.
    pub fn parse(text: &str) -> Result<Expression, String> {
        if IntrinsicCall::looks_like_call(text) {
            IntrinsicCall::parse(text)
                .map(Expression::Intrinsic)
                .map_err(|e| e.to_string())
        } else {
            Path::parse(text)
                .map(Expression::Path)
                .map_err(|e| e.to_string())
        }
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        match self {
            Expression::Path(path) => path.as_str(),
            Expression::Intrinsic(call) => call.as_str(),
        }
    }

    /// Evaluates against `env`; `field` is the key as written (`value.$`)
    /// for AWS's cause strings.
    ///
    /// A path that matches nothing fails with `States.Runtime` and the cause
    /// `The JSONPath '$.x' specified for the field 'value.$' could not be
    /// found in the input '<data as compact JSON>'`.
    pub fn eval(&self, env: &Env<'_>, field: &str) -> Result<Value, StatesError> {
        match self {
            Expression::Path(path) => path
                .eval(env)
                .map(|v| v.into_owned())
                .map_err(|e| path_failure(path, e, env, field)),
            Expression::Intrinsic(call) => call.eval_for_field(env, field),
        }
    }
}

/// The error for a path in a template, an intrinsic argument, ErrorPath or
/// CausePath that could not be evaluated.
pub(crate) fn path_failure(
    path: &Path,
    error: PathError,
    env: &Env<'_>,
    field: &str,
) -> StatesError {
    match error {
        e if e.is_no_match() => StatesError::runtime(format!(
            "The JSONPath '{}' specified for the field '{}' could not be found in the input '{}'",
            path.as_str(),
            field,
            compact(env.data)
        )),
        other => StatesError::runtime(other.to_string()),
    }
}

fn compact(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// A template problem found at load time, at a JSON-pointer-like location
/// relative to the template (`/a/b.$`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateError {
    /// Location inside the template, `""` for the template itself.
    pub location: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.location.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{} (at {})", self.message, self.location)
        }
    }
}

impl std::error::Error for TemplateError {}

/// A compiled payload template.
#[derive(Clone, Debug, PartialEq)]
pub struct PayloadTemplate {
    source: Value,
    root: Node,
}

#[derive(Clone, Debug, PartialEq)]
enum Node {
    /// A sub-tree without any `.$` key: copied as is.
    Literal(Value),
    Object(Vec<Entry>),
    Array(Vec<Node>),
}

#[derive(Clone, Debug, PartialEq)]
struct Entry {
    /// The key with `.$` stripped.
    key: String,
    value: EntryValue,
}

#[derive(Clone, Debug, PartialEq)]
enum EntryValue {
    Node(Node),
    Expression {
        expression: Expression,
        /// The key as written, for causes.
        field: String,
    },
}

impl PayloadTemplate {
    /// Compiles a template, reporting every problem.
    pub fn compile(value: &Value) -> Result<PayloadTemplate, Vec<TemplateError>> {
        let mut compiler = Compiler {
            location: String::new(),
            errors: Vec::new(),
        };
        let root = compiler.node(value, 0);
        if !compiler.errors.is_empty() {
            return Err(compiler.errors);
        }
        let source = value.clone();
        let root = root.unwrap_or_else(|| Node::Literal(source.clone()));
        Ok(PayloadTemplate { source, root })
    }

    /// The template as written.
    pub fn to_value(&self) -> Value {
        self.source.clone()
    }

    /// The template as written, by reference.
    pub fn as_value(&self) -> &Value {
        &self.source
    }

    /// Builds the payload.
    pub fn eval(&self, env: &Env<'_>) -> Result<Value, StatesError> {
        eval_node(&self.root, env)
    }
}

/// How deeply a template may nest objects and arrays.
pub const MAX_DEPTH: usize = 512;

struct Compiler {
    location: String,
    errors: Vec<TemplateError>,
}

impl Compiler {
    fn error(&mut self, message: String) {
        self.errors.push(TemplateError {
            location: self.location.clone(),
            message,
        });
    }

    /// Compiles `value`; `None` when it holds no `.$` key at any depth (the
    /// caller then copies it whole, so each literal is cloned only once).
    fn node(&mut self, value: &Value, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH && (value.is_object() || value.is_array()) {
            self.error(format!("the template nests deeper than {MAX_DEPTH} levels"));
            return None;
        }
        match value {
            Value::Object(map) => {
                let mut compiled = Vec::with_capacity(map.len());
                let mut dynamic = false;
                let mut seen: HashSet<&str> = HashSet::with_capacity(map.len());
                for (key, item) in map {
                    let len = self.location.len();
                    self.location.push('/');
                    push_pointer_token(&mut self.location, key);
                    let stripped = key.strip_suffix(".$");
                    let name = stripped.unwrap_or(key);
                    if !seen.insert(name) {
                        self.error(format!(
                            "A duplicate field will exist after renaming to strip the \".$\" suffix: '{name}'"
                        ));
                    }
                    let entry = match stripped {
                        Some(_) => match compile_expression(key, item) {
                            Ok(expression) => Some(EntryValue::Expression {
                                expression,
                                field: key.clone(),
                            }),
                            Err(message) => {
                                self.error(message);
                                None
                            }
                        },
                        None => self.node(item, depth + 1).map(EntryValue::Node),
                    };
                    dynamic |= stripped.is_some() || entry.is_some();
                    self.location.truncate(len);
                    compiled.push((name, item, entry));
                }
                dynamic.then(|| {
                    Node::Object(
                        compiled
                            .into_iter()
                            .map(|(name, item, entry)| Entry {
                                key: name.to_owned(),
                                value: entry.unwrap_or_else(|| {
                                    EntryValue::Node(Node::Literal(item.clone()))
                                }),
                            })
                            .collect(),
                    )
                })
            }
            Value::Array(items) => {
                let mut compiled = Vec::with_capacity(items.len());
                let mut dynamic = false;
                for (i, item) in items.iter().enumerate() {
                    let len = self.location.len();
                    self.location.push('/');
                    self.location.push_str(&i.to_string());
                    let node = self.node(item, depth + 1);
                    self.location.truncate(len);
                    dynamic |= node.is_some();
                    compiled.push((item, node));
                }
                dynamic.then(|| {
                    Node::Array(
                        compiled
                            .into_iter()
                            .map(|(item, node)| node.unwrap_or_else(|| Node::Literal(item.clone())))
                            .collect(),
                    )
                })
            }
            _ => None,
        }
    }
}

/// JSON-pointer escaping: `~` as `~0`, `/` as `~1`.
fn push_pointer_token(location: &mut String, key: &str) {
    for c in key.chars() {
        match c {
            '~' => location.push_str("~0"),
            '/' => location.push_str("~1"),
            c => location.push(c),
        }
    }
}

fn compile_expression(key: &str, value: &Value) -> Result<Expression, String> {
    let text = match value {
        Value::String(text) => text,
        other => {
            return Err(format!(
            "The value for the field '{key}' must be a STRING that contains a JSONPath but was {}",
            node_type(other)
        ))
        }
    };
    Expression::parse(text).map_err(|detail| {
        format!(
            "The value for the field '{key}' must be a valid JSONPath or a valid intrinsic function call ({detail})"
        )
    })
}

/// The JSON type names AWS uses in its messages.
fn node_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "a NULL",
        Value::Bool(_) => "a BOOLEAN",
        Value::Number(_) => "a NUMBER",
        Value::String(_) => "a STRING",
        Value::Array(_) => "an ARRAY",
        Value::Object(_) => "an OBJECT",
    }
}

fn eval_node(node: &Node, env: &Env<'_>) -> Result<Value, StatesError> {
    match node {
        Node::Literal(value) => Ok(value.clone()),
        Node::Array(nodes) => nodes
            .iter()
            .map(|n| eval_node(n, env))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Node::Object(entries) => {
            let mut map = Map::with_capacity(entries.len());
            for entry in entries {
                let value = match &entry.value {
                    EntryValue::Node(node) => eval_node(node, env)?,
                    EntryValue::Expression { expression, field } => expression.eval(env, field)?,
                };
                map.insert(entry.key.clone(), value);
            }
            Ok(Value::Object(map))
        }
    }
}
