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

use crate::error::{self, StatesError, STATE_NAME};
use crate::json::Budget;
use crate::jsonpath::intrinsics::IntrinsicCall;
use crate::jsonpath::path::{Env, Path, PathError};
use serde_json::{Map, Value};
use std::borrow::Cow;
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
    ///
    /// Within the [`BuildLimits`](crate::jsonpath::BuildLimits) of `env`'s
    /// variables: a value past them is not built, the evaluation fails with
    /// `States.DataLimitExceeded` instead.
    pub fn eval(&self, env: &Env<'_>, field: &str) -> Result<Value, StatesError> {
        let cap = payload_cap(env);
        self.eval_within(env, field, &mut Budget::new(cap), cap)
    }

    /// Evaluates, taking the value from `budget` (measured before it is
    /// copied); intermediate values (intrinsic calls) are held to `cap`.
    fn eval_within(
        &self,
        env: &Env<'_>,
        field: &str,
        budget: &mut Budget,
        cap: Option<usize>,
    ) -> Result<Value, StatesError> {
        match self {
            Expression::Path(path) => {
                let value = path_within(path, env, field, budget.left())?;
                if !budget.take_value(&value) {
                    return Err(error::result_too_big());
                }
                Ok(value.into_owned())
            }
            Expression::Intrinsic(call) => match cap {
                None => call.eval_for_field(env, field),
                Some(cap) => {
                    let (value, bytes) = call.eval_bounded(env, field, cap)?;
                    if !budget.take(bytes) {
                        return Err(error::result_too_big());
                    }
                    Ok(value)
                }
            },
        }
    }
}

/// What a value built over `env` may reach: the build cap of the payload
/// limit of the execution `env` belongs to (see
/// [`build_cap`](crate::json::build_cap)).
pub(crate) fn payload_cap(env: &Env<'_>) -> Option<usize> {
    env.variables
        .build_limits()
        .payload_bytes
        .map(crate::json::build_cap)
}

/// What a path in a template or an intrinsic argument gives: the node of a
/// Reference Path borrowed, the matches of any other path copied into an
/// array once they are known to fit in `cap` bytes (`usize::MAX`:
/// unbounded).
///
/// Inlined: the common case (a Reference Path, or no cap) is one call to
/// [`Path::eval`] at the caller, without a frame of its own.
#[inline]
pub(crate) fn path_within<'v>(
    path: &Path,
    env: &Env<'v>,
    field: &str,
    cap: usize,
) -> Result<Cow<'v, Value>, StatesError> {
    if cap == usize::MAX || path.as_reference().is_some() {
        return path
            .eval(env)
            .map_err(|e| path_failure(path, e, env, field));
    }
    matches_within(path, env, field, cap).map(Cow::Owned)
}

/// The matches of a path that is not a Reference Path, copied into an
/// array once they are known to fit in `cap` bytes.
#[inline(never)]
fn matches_within(
    path: &Path,
    env: &Env<'_>,
    field: &str,
    cap: usize,
) -> Result<Value, StatesError> {
    let matches = path
        .select(env)
        .map_err(|e| path_failure(path, e, env, field))?;
    let mut budget = Budget::new(Some(cap));
    if !budget.take(1 + matches.len().max(1)) || !matches.iter().all(|m| budget.take_value(m)) {
        return Err(error::result_too_big());
    }
    Ok(Value::Array(matches.into_iter().cloned().collect()))
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
    /// With the length of its compact JSON text.
    Literal(Value, usize),
    /// With the length of its braces, commas, colons and keys.
    Object(Vec<Entry>, usize),
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
        let root = root.unwrap_or_else(|| literal(&source));
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
    ///
    /// Within the [`BuildLimits`](crate::jsonpath::BuildLimits) of `env`'s
    /// variables, the payload is measured as it is built (each part before
    /// it is copied) and the evaluation stops with
    /// `States.DataLimitExceeded` as soon as it passes four times the
    /// payload limit (at least 1 MiB); so do the intrinsic calls inside it.
    pub fn eval(&self, env: &Env<'_>) -> Result<Value, StatesError> {
        let cap = payload_cap(env);
        eval_node(&self.root, env, &mut Budget::new(cap), cap)
    }

    /// [`eval`](Self::eval), with the bytes of the payload's compact JSON
    /// text when they were counted while it was built (under a payload
    /// limit): exact, nothing measured again.
    pub(crate) fn eval_counted(
        &self,
        env: &Env<'_>,
    ) -> Result<(Value, Option<usize>), StatesError> {
        let cap = payload_cap(env);
        let mut budget = Budget::new(cap);
        let value = eval_node(&self.root, env, &mut budget, cap)?;
        let counted = cap.filter(|_| budget.is_bounded());
        Ok((value, counted.map(|cap| cap - budget.left())))
    }

    /// Builds the variables of an `Assign`: each value held to the variable
    /// limit, all of them together to the `Assign` limit (of `env`'s
    /// variables' [`BuildLimits`](crate::jsonpath::BuildLimits)), while they
    /// are built.
    pub(crate) fn eval_assign(&self, env: &Env<'_>) -> Result<Value, StatesError> {
        let limits = env.variables.build_limits();
        let per_value = limits.variable_bytes;
        let total = limits.assign_bytes;
        // intermediate values are held to the build cap of the larger limit
        let cap = per_value
            .into_iter()
            .chain(total)
            .max()
            .map(crate::json::build_cap);
        if cap.is_none() {
            return eval_node(&self.root, env, &mut Budget::new(None), None);
        }
        let mut left = total.unwrap_or(usize::MAX);
        let mut assign =
            |key: &str, build: &mut dyn FnMut(&mut Budget) -> Result<Value, StatesError>| {
                let per = per_value.unwrap_or(usize::MAX);
                let mut budget = Budget::new(Some(per.min(left)));
                let start = budget.left();
                match build(&mut budget) {
                    Ok(value) => {
                        left = left.saturating_sub(start - budget.left());
                        Ok(value)
                    }
                    Err(e) if error::is_unnamed(&e) => Err(match (per_value, total) {
                        (Some(p), _) if p <= left => error::variable_too_big(STATE_NAME, key, p),
                        (_, Some(t)) => error::assign_too_big(STATE_NAME, t),
                        (Some(p), None) => error::variable_too_big(STATE_NAME, key, p),
                        (None, None) => e,
                    }),
                    Err(e) => Err(e),
                }
            };
        match &self.root {
            Node::Object(entries, _) => {
                let mut map = Map::with_capacity(entries.len());
                for entry in entries {
                    let value = assign(&entry.key, &mut |budget| match &entry.value {
                        EntryValue::Node(node) => eval_node(node, env, budget, cap),
                        EntryValue::Expression { expression, field } => {
                            expression.eval_within(env, field, budget, cap)
                        }
                    })?;
                    map.insert(entry.key.clone(), value);
                }
                Ok(Value::Object(map))
            }
            Node::Literal(Value::Object(literal), _) => {
                let mut map = Map::with_capacity(literal.len());
                for (key, value) in literal {
                    let value = assign(key, &mut |budget| {
                        if budget.take_value(value) {
                            Ok(value.clone())
                        } else {
                            Err(error::result_too_big())
                        }
                    })?;
                    map.insert(key.clone(), value);
                }
                Ok(Value::Object(map))
            }
            // not an object: nothing is assigned
            other => eval_node(other, env, &mut Budget::new(cap), cap),
        }
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
                    object(
                        compiled
                            .into_iter()
                            .map(|(name, item, entry)| Entry {
                                key: name.to_owned(),
                                value: entry.unwrap_or_else(|| EntryValue::Node(literal(item))),
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
                            .map(|(item, node)| node.unwrap_or_else(|| literal(item)))
                            .collect(),
                    )
                })
            }
            _ => None,
        }
    }
}

/// A literal node, measured.
fn literal(value: &Value) -> Node {
    Node::Literal(value.clone(), crate::json::json_len(value))
}

/// An object node, its frame measured.
fn object(entries: Vec<Entry>) -> Node {
    // braces, commas, colons and keys
    let frame = entries.iter().fold(1 + entries.len().max(1), |n, e| {
        n.saturating_add(1 + crate::json::str_len(&e.key))
    });
    Node::Object(entries, frame)
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

/// Builds `node`, taking every part from `budget` before it is copied;
/// intermediate values (intrinsic calls) are held to `cap`.
fn eval_node(
    node: &Node,
    env: &Env<'_>,
    budget: &mut Budget,
    cap: Option<usize>,
) -> Result<Value, StatesError> {
    match node {
        Node::Literal(value, bytes) => {
            if !budget.take(*bytes) {
                return Err(error::result_too_big());
            }
            Ok(value.clone())
        }
        Node::Array(nodes) => {
            // brackets and commas
            if !budget.take(1 + nodes.len().max(1)) {
                return Err(error::result_too_big());
            }
            nodes
                .iter()
                .map(|n| eval_node(n, env, budget, cap))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        Node::Object(entries, frame) => {
            if !budget.take(*frame) {
                return Err(error::result_too_big());
            }
            let mut map = Map::with_capacity(entries.len());
            for entry in entries {
                let value = match &entry.value {
                    EntryValue::Node(node) => eval_node(node, env, budget, cap)?,
                    EntryValue::Expression { expression, field } => {
                        expression.eval_within(env, field, budget, cap)?
                    }
                };
                map.insert(entry.key.clone(), value);
            }
            Ok(Value::Object(map))
        }
    }
}
