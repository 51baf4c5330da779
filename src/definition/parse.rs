//! Text -> JSON value -> raw structs -> typed model, collecting every problem
//! as an AWS-shaped [`Diagnostic`] on the way.
//!
//! Locations follow AWS: `/` for the top level, `/States/<State>` for a
//! state, `/States/<State>/<Field>` for a field, array entries as
//! `Retry[0]`, nested machines as `/States/P/Branches[0]/States/<State>` and
//! `/States/M/ItemProcessor/States/<State>`. AWS reports unknown fields and
//! query-language mismatches at the state, not at the field.

use super::raw::{
    RawCatcher, RawItemBatcher, RawItemReader, RawResultWriter, RawRetrier, RawState,
};
use super::{
    Assign, Catcher, Choice, Credentials, Definition, Fail, FailField, IntegrationPattern, Io,
    ItemBatcher, ItemReader, JitterStrategy, Map, NumberOrPath, Parallel, Pass, ProcessingMode,
    ProcessorConfig, QueryLanguage, Resource, ResourceKind, ResultWriter, Retrier, State,
    StateKind, StateMachineType, SubMachine, Succeed, Task, Transition, Wait, WaitFor,
};
use crate::error::{Diagnostic, ErrorName};
use crate::jsonpath::choice::ChoiceRule;
use crate::jsonpath::path::{Path, ReferencePath, Root};
use crate::jsonpath::template::{Expression, PayloadTemplate};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::HashSet;

type Object = serde_json::Map<String, Value>;

/// AWS's code for every schema-level problem.
pub(crate) const SCHEMA: &str = "SCHEMA_VALIDATION_FAILED";

/// Deepest nesting of JSON arrays/objects accepted (serde_json's own limit
/// for text), so that no recursive walk can exhaust the stack.
pub(crate) const MAX_JSON_DEPTH: usize = 128;

/// The longest state name AWS accepts.
pub(crate) const MAX_STATE_NAME: usize = 80;

/// The longest Map `Label` AWS accepts.
pub(crate) const MAX_LABEL: usize = 40;

const TOP_FIELDS: &[&str] = &[
    "Comment",
    "StartAt",
    "States",
    "Version",
    "TimeoutSeconds",
    "QueryLanguage",
];
const SUB_FIELDS: &[&str] = &["Comment", "StartAt", "States"];
const PROCESSOR_FIELDS: &[&str] = &["Comment", "StartAt", "States", "ProcessorConfig"];
const COMMON: &[&str] = &["Type", "Comment", "QueryLanguage"];
const PASS: &[&str] = &[
    "Next",
    "End",
    "InputPath",
    "OutputPath",
    "Parameters",
    "Result",
    "ResultPath",
    "Assign",
    "Output",
];
const TASK: &[&str] = &[
    "Next",
    "End",
    "Resource",
    "InputPath",
    "OutputPath",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "Retry",
    "Catch",
    "TimeoutSeconds",
    "TimeoutSecondsPath",
    "HeartbeatSeconds",
    "HeartbeatSecondsPath",
    "Credentials",
    "Assign",
    "Arguments",
    "Output",
];
const CHOICE: &[&str] = &[
    "Choices",
    "Default",
    "InputPath",
    "OutputPath",
    "Assign",
    "Output",
];
const WAIT: &[&str] = &[
    "Next",
    "End",
    "Seconds",
    "Timestamp",
    "SecondsPath",
    "TimestampPath",
    "InputPath",
    "OutputPath",
    "Assign",
    "Output",
];
const SUCCEED: &[&str] = &["InputPath", "OutputPath", "Output"];
const FAIL: &[&str] = &["Error", "ErrorPath", "Cause", "CausePath"];
const PARALLEL: &[&str] = &[
    "Next",
    "End",
    "Branches",
    "InputPath",
    "OutputPath",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "Retry",
    "Catch",
    "Assign",
    "Arguments",
    "Output",
];
const MAP: &[&str] = &[
    "Next",
    "End",
    "ItemProcessor",
    "Iterator",
    "ItemsPath",
    "Items",
    "ItemSelector",
    "Parameters",
    "MaxConcurrency",
    "MaxConcurrencyPath",
    "ItemReader",
    "ItemBatcher",
    "ResultWriter",
    "ToleratedFailureCount",
    "ToleratedFailureCountPath",
    "ToleratedFailurePercentage",
    "ToleratedFailurePercentagePath",
    "Label",
    "InputPath",
    "OutputPath",
    "ResultSelector",
    "ResultPath",
    "Retry",
    "Catch",
    "Assign",
    "Output",
];
const RETRIER: &[&str] = &[
    "ErrorEquals",
    "IntervalSeconds",
    "MaxAttempts",
    "BackoffRate",
    "MaxDelaySeconds",
    "JitterStrategy",
    "Comment",
];
const CATCHER: &[&str] = &[
    "ErrorEquals",
    "Next",
    "ResultPath",
    "Assign",
    "Output",
    "Comment",
];
const ITEM_READER: &[&str] = &["Resource", "Parameters", "Arguments", "ReaderConfig"];
const ITEM_BATCHER: &[&str] = &[
    "BatchInput",
    "MaxItemsPerBatch",
    "MaxItemsPerBatchPath",
    "MaxInputBytesPerBatch",
    "MaxInputBytesPerBatchPath",
];
const RESULT_WRITER: &[&str] = &["Resource", "Parameters", "Arguments", "WriterConfig"];

/// Fields only JSONata states may use.
const JSONATA_ONLY: &[&str] = &["Arguments", "Output", "Items"];
/// Fields only JSONPath states may use.
const JSONPATH_ONLY: &[&str] = &[
    "InputPath",
    "OutputPath",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "ItemsPath",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "SecondsPath",
    "TimestampPath",
    "ErrorPath",
    "CausePath",
    "MaxConcurrencyPath",
    "ToleratedFailureCountPath",
    "ToleratedFailurePercentagePath",
    "MaxItemsPath",
    "MaxItemsPerBatchPath",
    "MaxInputBytesPerBatchPath",
];

/// Characters AWS refuses in a Map `Label` (besides whitespace and control characters).
const LABEL_FORBIDDEN: &str = "?*<>{}[]:;,\\|^~$#%&`\"";

/// The transitions of one (sub-)machine, recorded while parsing so that the
/// graph checks run even when some states did not make it into the model.
#[derive(Debug, Default)]
pub(crate) struct Graph {
    /// The machine's location (`""` for the top level).
    pub loc: String,
    /// `StartAt`, when it was a string.
    pub start_at: Option<String>,
    /// The states, in definition order.
    pub nodes: Vec<Node>,
}

/// One state of a [`Graph`].
#[derive(Debug, Default)]
pub(crate) struct Node {
    pub name: String,
    pub loc: String,
    /// `(target, location of the field naming it)`.
    pub edges: Vec<(String, String)>,
    /// Ends the (sub-)machine: `End: true`, Succeed or Fail. States too
    /// broken to tell count as terminal, to avoid cascades of diagnostics.
    pub terminal: bool,
}

/// The parsing context: diagnostics found so far and definition-wide facts.
pub(crate) struct Cx {
    pub diags: Vec<Diagnostic>,
    pub machine_ql: QueryLanguage,
    pub machine_type: Option<StateMachineType>,
    pub graphs: Vec<Graph>,
    state_names: HashSet<String>,
    labels: HashSet<String>,
}

impl Cx {
    pub(crate) fn new(machine_type: Option<StateMachineType>) -> Cx {
        Cx {
            diags: Vec::new(),
            machine_ql: QueryLanguage::JsonPath,
            machine_type,
            graphs: Vec::new(),
            state_names: HashSet::new(),
            labels: HashSet::new(),
        }
    }

    fn schema(&mut self, message: impl Into<String>, location: impl Into<String>) {
        self.diags
            .push(Diagnostic::error(SCHEMA, message, location));
    }

    fn warn(
        &mut self,
        code: &'static str,
        message: impl Into<String>,
        location: impl Into<String>,
    ) {
        self.diags
            .push(Diagnostic::warning(code, message, location));
    }
}

/// `loc` itself, or `/` for the top level.
fn here(loc: &str) -> &str {
    if loc.is_empty() {
        "/"
    } else {
        loc
    }
}

/// Reads JSON text; a syntax error becomes INVALID_JSON_DESCRIPTION with
/// line and column (TOO_DEEPLY_NESTED past serde_json's depth limit).
pub(crate) fn parse_text(text: &str) -> Result<Value, Diagnostic> {
    serde_json::from_str(text).map_err(|e| json_error(&e))
}

/// As [`parse_text`] over bytes (invalid UTF-8 is a JSON error too).
pub(crate) fn parse_slice(bytes: &[u8]) -> Result<Value, Diagnostic> {
    serde_json::from_slice(bytes).map_err(|e| json_error(&e))
}

fn json_error(e: &serde_json::Error) -> Diagnostic {
    let full = e.to_string();
    let message = full
        .rsplit_once(" at line ")
        .map(|(m, _)| m)
        .unwrap_or(&full);
    let (line, column) = (e.line(), e.column());
    let code = if message.starts_with("recursion limit exceeded") {
        "TOO_DEEPLY_NESTED"
    } else {
        "INVALID_JSON_DESCRIPTION"
    };
    Diagnostic::error(
        code,
        format!("{message} at line {line} column {column}"),
        format!("line: {line}, column: {column}"),
    )
}

/// A JSONata expression string: `{%` ... `%}` with no outer whitespace.
pub(crate) fn is_jsonata(text: &str) -> bool {
    text.len() >= 4 && text.starts_with("{%") && text.ends_with("%}")
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Reports the fields of `fields` that `obj` lacks, in that order, as AWS does.
fn required(cx: &mut Cx, obj: &Object, fields: &[&str], loc: &str) -> bool {
    let missing: Vec<&str> = fields
        .iter()
        .copied()
        .filter(|f| !obj.contains_key(*f))
        .collect();
    if missing.is_empty() {
        return true;
    }
    cx.schema(
        format!("These fields are required: [{}]", missing.join(", ")),
        here(loc),
    );
    false
}

/// Reports every field of `obj` outside `allowed` at `loc`.
fn unsupported(cx: &mut Cx, obj: &Object, allowed: &[&[&str]], loc: &str) -> bool {
    let mut ok = true;
    for key in obj.keys() {
        if !allowed.iter().any(|list| list.contains(&key.as_str())) {
            cx.schema(format!("Field '{key}' is not supported"), here(loc));
            ok = false;
        }
    }
    ok
}

/// Reports fields of the other query language at `loc`.
fn query_language_fields(
    cx: &mut Cx,
    keys: impl Iterator<Item = String>,
    ql: QueryLanguage,
    loc: &str,
) -> bool {
    let mut ok = true;
    for key in keys {
        let (set, other) = match ql {
            QueryLanguage::JsonPath if JSONATA_ONLY.contains(&key.as_str()) => {
                ("JSONPath", "JSONata")
            }
            QueryLanguage::Jsonata if JSONPATH_ONLY.contains(&key.as_str()) => {
                ("JSONata", "JSONPath")
            }
            _ => continue,
        };
        cx.schema(
            format!("The QueryLanguage is set to '{set}', but field '{key}' is only supported for the '{other}' QueryLanguage"),
            here(loc),
        );
        ok = false;
    }
    ok
}

/// Two fields of which at most one may be present.
fn exclusive(cx: &mut Cx, obj: &Object, fields: &[&str], loc: &str) -> bool {
    let present: Vec<&str> = fields
        .iter()
        .copied()
        .filter(|f| obj.contains_key(*f))
        .collect();
    if present.len() > 1 {
        cx.schema(
            format!(
                "There should only be one of the following fields: [{}]",
                present.join(", ")
            ),
            here(loc),
        );
        return false;
    }
    true
}

/// Deserializes `obj` into a raw struct with serde_path_to_error, reporting
/// every type error (a failing field is dropped and the rest read again).
fn read_raw<T: DeserializeOwned + Default>(cx: &mut Cx, obj: &Object, loc: &str) -> (T, bool) {
    let mut owned: Option<Object> = None;
    let mut ok = true;
    for _ in 0..=obj.len() {
        let current = owned.as_ref().unwrap_or(obj);
        let err = match serde_path_to_error::deserialize::<_, T>(current) {
            Ok(raw) => return (raw, ok),
            Err(err) => err,
        };
        ok = false;
        let mut at = loc.to_owned();
        let mut top: Option<String> = None;
        for segment in err.path().iter() {
            match segment {
                serde_path_to_error::Segment::Seq { index } => at.push_str(&format!("[{index}]")),
                serde_path_to_error::Segment::Map { key } => {
                    if top.is_none() {
                        top = Some(key.clone());
                    }
                    at.push('/');
                    at.push_str(key);
                }
                _ => {}
            }
        }
        let message = err.inner().to_string();
        cx.schema(message, here(&at));
        match top {
            Some(key) => {
                let mut next = current.clone();
                next.remove(&key);
                owned = Some(next);
            }
            None => break,
        }
    }
    (T::default(), false)
}

/// An integer field within bounds.
fn int_field(cx: &mut Cx, v: &Value, min: u64, max: Option<u64>, loc: &str) -> Option<u64> {
    let n = match v {
        Value::Number(n) => n,
        other => {
            cx.schema(
                format!("expected an integer, found {}", type_name(other)),
                loc,
            );
            return None;
        }
    };
    if let Some(u) = n.as_u64() {
        if u < min {
            cx.schema(format!("Minimum value is {min}"), loc);
            return None;
        }
        if let Some(max) = max {
            if u > max {
                cx.schema(format!("Maximum value is {max}"), loc);
                return None;
            }
        }
        return Some(u);
    }
    if n.as_i64().is_some() || n.as_f64().is_some_and(|f| f < 0.0) {
        cx.schema(format!("Minimum value is {min}"), loc);
    } else {
        cx.schema("expected an integer, found a decimal number", loc);
    }
    None
}

/// A number field within bounds.
fn float_field(cx: &mut Cx, v: &Value, min: f64, max: Option<f64>, loc: &str) -> Option<f64> {
    let f = match v.as_f64() {
        Some(f) => f,
        None => {
            cx.schema(format!("expected a number, found {}", type_name(v)), loc);
            return None;
        }
    };
    if f < min {
        cx.schema(format!("Minimum value is {min:?}"), loc);
        return None;
    }
    if let Some(max) = max {
        if f > max {
            cx.schema(format!("Maximum value is {max:?}"), loc);
            return None;
        }
    }
    Some(f)
}

/// The `$` path, for absent InputPath/OutputPath.
fn root_path() -> Option<Path> {
    Path::parse("$").ok()
}

/// The `$` reference path, for absent ResultPath/ItemsPath.
fn root_reference() -> Option<ReferencePath> {
    ReferencePath::parse("$").ok()
}

/// InputPath / OutputPath: absent = `$`, `null` = `None`, else a Path.
fn path_field(cx: &mut Cx, v: Option<&Value>, field: &str, loc: &str) -> Option<Option<Path>> {
    match v {
        None => root_path().map(Some),
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) => match Path::parse(s) {
            Ok(p) => Some(Some(p)),
            Err(_) => {
                cx.schema(
                    format!("The value for the field '{field}' must be a valid JSONPath"),
                    format!("{loc}/{field}"),
                );
                None
            }
        },
        Some(other) => {
            cx.schema(
                format!("expected a string or null, found {}", type_name(other)),
                format!("{loc}/{field}"),
            );
            None
        }
    }
}

/// Which roots a Reference Path field accepts besides `$`.
#[derive(Clone, Copy)]
struct Roots {
    context: bool,
    variables: bool,
}

const DATA_ONLY: Roots = Roots {
    context: false,
    variables: false,
};
const NO_CONTEXT: Roots = Roots {
    context: false,
    variables: true,
};
const ANY_ROOT: Roots = Roots {
    context: true,
    variables: true,
};

fn reference_path(cx: &mut Cx, text: &str, roots: Roots, at: &str) -> Option<ReferencePath> {
    match ReferencePath::parse(text) {
        Ok(p) => {
            let allowed = match p.root() {
                Root::Data => true,
                Root::Context => roots.context,
                Root::Variable(_) => roots.variables,
            };
            if allowed {
                Some(p)
            } else {
                cx.schema("Value is not a Reference Path", at);
                None
            }
        }
        Err(_) => {
            cx.schema("Value is not a Reference Path", at);
            None
        }
    }
}

/// ResultPath-like: absent = `$`, `null` = `None`, else a Reference Path.
fn reference_field(
    cx: &mut Cx,
    v: Option<&Value>,
    field: &str,
    roots: Roots,
    loc: &str,
) -> Option<Option<ReferencePath>> {
    let at = format!("{loc}/{field}");
    match v {
        None => root_reference().map(Some),
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) => reference_path(cx, s, roots, &at).map(Some),
        Some(other) => {
            cx.schema(
                format!("expected a string or null, found {}", type_name(other)),
                at,
            );
            None
        }
    }
}

/// Warns (NO_DOLLAR) about literal strings that look like paths under keys
/// without `.$`. Iterative: safe on any depth.
fn no_dollar(cx: &mut Cx, template: &Value, loc: &str) {
    let mut stack: Vec<(&Value, String)> = vec![(template, loc.to_owned())];
    while let Some((v, at)) = stack.pop() {
        match v {
            Value::Object(m) => {
                for (key, child) in m.iter().rev() {
                    let child_at = format!("{at}/{key}");
                    if !key.ends_with(".$") {
                        if let Value::String(s) = child {
                            if looks_like_path(s) {
                                cx.warn(
                                    "NO_DOLLAR",
                                    format!(
                                        "The value of field '{key}' looks like a JSONPath or intrinsic function, but the field name does not end with '.$'"
                                    ),
                                    child_at.clone(),
                                );
                            }
                        }
                    }
                    stack.push((child, child_at));
                }
            }
            Value::Array(a) => {
                for (i, child) in a.iter().enumerate().rev() {
                    stack.push((child, format!("{at}[{i}]")));
                }
            }
            _ => {}
        }
    }
}

fn looks_like_path(s: &str) -> bool {
    s == "$"
        || s == "$$"
        || s.starts_with("$.")
        || s.starts_with("$$.")
        || s.starts_with("$[")
        || (s.starts_with("States.") && s.ends_with(')') && s.contains('('))
}

/// True when some object key inside `v` ends with `.$`. Iterative.
fn has_dollar_key(v: &Value) -> bool {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(m) => {
                if m.keys().any(|k| k.ends_with(".$")) {
                    return true;
                }
                stack.extend(m.values());
            }
            Value::Array(a) => stack.extend(a.iter()),
            _ => {}
        }
    }
    false
}

/// A payload template (`.$` keys compiled), with its warnings.
fn template(cx: &mut Cx, v: &Value, loc: &str) -> Option<PayloadTemplate> {
    no_dollar(cx, v, loc);
    match PayloadTemplate::compile(v) {
        Ok(t) => Some(t),
        Err(errors) => {
            for e in errors {
                cx.schema(e.message, format!("{loc}{}", e.location));
            }
            None
        }
    }
}

fn opt_template(cx: &mut Cx, v: Option<&Value>, loc: &str) -> Option<Option<PayloadTemplate>> {
    optional(v, |v| template(cx, v, loc))
}

fn assign(cx: &mut Cx, v: Option<&Value>, ql: QueryLanguage, loc: &str) -> Option<Option<Assign>> {
    let at = format!("{loc}/Assign");
    match v {
        None => Some(None),
        Some(v @ Value::Object(_)) => match ql {
            QueryLanguage::JsonPath => template(cx, v, &at).map(|t| Some(Assign::JsonPath(t))),
            QueryLanguage::Jsonata => Some(Some(Assign::Jsonata(v.clone()))),
        },
        Some(other) => {
            cx.schema(
                format!("expected an object, found {}", type_name(other)),
                at,
            );
            None
        }
    }
}

/// A number given as a literal (checked by `read`), by its `...Path` field
/// (a Reference Path that may use variables but not the context object),
/// or in JSONata as a `{% %}` string.
fn number_or_path<T>(
    cx: &mut Cx,
    obj: &Object,
    (literal, path): (&str, &str),
    ql: QueryLanguage,
    loc: &str,
    read: impl FnOnce(&mut Cx, &Value, &str) -> Option<T>,
) -> Option<Option<NumberOrPath<T>>> {
    if !exclusive(cx, obj, &[literal, path], loc) {
        return None;
    }
    if let Some(v) = obj.get(literal) {
        if let (QueryLanguage::Jsonata, Value::String(s)) = (ql, v) {
            if is_jsonata(s) {
                return Some(Some(NumberOrPath::Jsonata(s.clone())));
            }
        }
        return read(cx, v, &format!("{loc}/{literal}")).map(|n| Some(NumberOrPath::Value(n)));
    }
    if let Some(v) = obj.get(path) {
        let at = format!("{loc}/{path}");
        return match v {
            Value::String(s) => {
                reference_path(cx, s, NO_CONTEXT, &at).map(|p| Some(NumberOrPath::Path(p)))
            }
            other => {
                cx.schema(format!("expected a string, found {}", type_name(other)), at);
                None
            }
        };
    }
    Some(None)
}

/// The literal reader of [`number_or_path`] for an integer in `min..=max`.
fn integer(min: u64, max: Option<u64>) -> impl FnOnce(&mut Cx, &Value, &str) -> Option<u64> {
    move |cx, v, at| int_field(cx, v, min, max, at)
}

fn as_object<'v>(cx: &mut Cx, v: &'v Value, loc: &str) -> Option<&'v Object> {
    match v {
        Value::Object(m) => Some(m),
        other => {
            cx.schema(
                format!("expected an object, found {}", type_name(other)),
                here(loc),
            );
            None
        }
    }
}

/// An optional string field: `Some(None)` when absent, `None` (reported)
/// when not a string.
fn string_field(cx: &mut Cx, obj: &Object, field: &str, loc: &str) -> Option<Option<String>> {
    match obj.get(field) {
        None => Some(None),
        Some(Value::String(s)) => Some(Some(s.clone())),
        Some(other) => {
            cx.schema(
                format!("expected a string, found {}", type_name(other)),
                format!("{loc}/{field}"),
            );
            None
        }
    }
}

/// An optional field read by `read`: `Some(None)` when absent, `None` when
/// present and reported.
fn optional<T>(v: Option<&Value>, read: impl FnOnce(&Value) -> Option<T>) -> Option<Option<T>> {
    match v {
        None => Some(None),
        Some(v) => read(v).map(Some),
    }
}

/// An object of a state (a retrier, a catcher, an `ItemReader`, ...) read
/// into its raw struct `T`, with its `required` fields and the fields
/// outside `allowed` reported, and given `ql` the fields of the other query
/// language. The flag is false when something was reported.
fn field_object<'v, T: DeserializeOwned + Default>(
    cx: &mut Cx,
    v: &'v Value,
    required_fields: &[&str],
    allowed: &[&str],
    ql: Option<QueryLanguage>,
    loc: &str,
) -> Option<(&'v Object, T, bool)> {
    let obj = as_object(cx, v, loc)?;
    let mut ok = required(cx, obj, required_fields, loc);
    ok &= unsupported(cx, obj, &[allowed], loc);
    if let Some(ql) = ql {
        ok &= query_language_fields(cx, obj.keys().cloned(), ql, loc);
    }
    let (raw, raw_ok) = read_raw::<T>(cx, obj, loc);
    Some((obj, raw, ok && raw_ok))
}

fn query_language_value(cx: &mut Cx, v: &Value, at: &str) -> QueryLanguage {
    match v.as_str() {
        Some("JSONPath") => QueryLanguage::JsonPath,
        Some("JSONata") => QueryLanguage::Jsonata,
        _ => {
            cx.schema(
                format!(
                    "Instance value ({v}) not found in enum (possible values: [JSONPath, JSONata])"
                ),
                at,
            );
            // AWS goes on as if the value were JSONata.
            QueryLanguage::Jsonata
        }
    }
}

/// The whole definition.
pub(crate) fn definition(cx: &mut Cx, v: &Value) -> Option<Definition> {
    if crate::json::too_deep(v, MAX_JSON_DEPTH) {
        cx.diags.push(Diagnostic::error(
            "TOO_DEEPLY_NESTED",
            format!(
                "the definition nests arrays and objects more than {MAX_JSON_DEPTH} levels deep"
            ),
            "/",
        ));
        return None;
    }
    let obj = match v {
        Value::Object(m) => m,
        _ => {
            cx.schema("Definition must be a valid JSON object", "/");
            return None;
        }
    };
    let mut ok = true;
    let ql = match obj.get("QueryLanguage") {
        None => QueryLanguage::JsonPath,
        Some(v) => {
            let before = cx.diags.len();
            let ql = query_language_value(cx, v, "/QueryLanguage");
            ok &= cx.diags.len() == before;
            ql
        }
    };
    cx.machine_ql = ql;
    ok &= required(cx, obj, &["States", "StartAt"], "");
    ok &= unsupported(cx, obj, &[TOP_FIELDS], "");
    let version = string_field(cx, obj, "Version", "");
    ok &= version.is_some();
    let timeout_seconds = match obj.get("TimeoutSeconds") {
        None => None,
        Some(Value::String(s)) if ql == QueryLanguage::Jsonata && is_jsonata(s) => None,
        Some(v) => {
            let n = int_field(cx, v, 1, Some(99_999_999), "/TimeoutSeconds");
            ok &= n.is_some();
            n
        }
    };
    let machine = sub_body(cx, obj, "", 0);
    if !ok {
        return None;
    }
    Some(Definition {
        comment: machine.as_ref()?.comment.clone(),
        version: version.flatten(),
        timeout_seconds,
        query_language: ql,
        machine: machine?,
    })
}

/// `StartAt`, `States`, `Comment` of any (sub-)machine.
fn sub_body(cx: &mut Cx, obj: &Object, loc: &str, depth: usize) -> Option<SubMachine> {
    let mut ok = true;
    // A missing StartAt is reported by the caller, a wrong one here; the
    // graph checks then run without a start.
    let start_at = string_field(cx, obj, "StartAt", loc).flatten();
    let comment = string_field(cx, obj, "Comment", loc);
    ok &= comment.is_some();
    let graph_index = cx.graphs.len();
    cx.graphs.push(Graph {
        loc: loc.to_owned(),
        start_at: start_at.clone(),
        nodes: Vec::new(),
    });
    let mut states = Vec::new();
    let mut nodes = Vec::new();
    match obj.get("States") {
        Some(Value::Object(m)) => {
            if m.is_empty() {
                cx.schema(
                    "Field 'States' must contain at least one state",
                    format!("{loc}/States"),
                );
                ok = false;
            }
            for (name, v) in m {
                let state_loc = format!("{loc}/States/{name}");
                let (state, node) = state(cx, name, v, &state_loc, depth);
                nodes.push(node);
                match state {
                    Some(s) => states.push(s),
                    None => ok = false,
                }
            }
        }
        Some(other) => {
            cx.schema(
                format!("expected an object, found {}", type_name(other)),
                format!("{loc}/States"),
            );
            ok = false;
        }
        None => ok = false,
    }
    if let Some(graph) = cx.graphs.get_mut(graph_index) {
        graph.nodes = nodes;
    }
    if !ok {
        return None;
    }
    Some(SubMachine::new(comment.flatten(), start_at?, states))
}

/// A Parallel branch or a Map ItemProcessor/Iterator.
fn nested(
    cx: &mut Cx,
    v: &Value,
    loc: &str,
    depth: usize,
    processor: bool,
) -> Option<(SubMachine, ProcessorConfig)> {
    let obj = as_object(cx, v, loc)?;
    let mut ok = required(cx, obj, &["States", "StartAt"], loc);
    ok &= unsupported(
        cx,
        obj,
        &[if processor {
            PROCESSOR_FIELDS
        } else {
            SUB_FIELDS
        }],
        loc,
    );
    let config = match obj.get("ProcessorConfig") {
        None => Some(ProcessorConfig::default()),
        Some(v) => processor_config(cx, v, &format!("{loc}/ProcessorConfig")),
    };
    let machine = sub_body(cx, obj, loc, depth + 1);
    if !ok {
        return None;
    }
    Some((machine?, config?))
}

fn processor_config(cx: &mut Cx, v: &Value, loc: &str) -> Option<ProcessorConfig> {
    let obj = as_object(cx, v, loc)?;
    let mut ok = unsupported(cx, obj, &[&["Mode", "ExecutionType"]], loc);
    let mode = match obj.get("Mode").map(|m| m.as_str()) {
        None => ProcessingMode::Inline,
        Some(Some("INLINE")) => ProcessingMode::Inline,
        Some(Some("DISTRIBUTED")) => ProcessingMode::Distributed,
        Some(_) => {
            cx.schema(
                "Instance value not found in enum (possible values: [INLINE, DISTRIBUTED])",
                format!("{loc}/Mode"),
            );
            ok = false;
            ProcessingMode::Inline
        }
    };
    let execution_type = match obj.get("ExecutionType").map(|m| m.as_str()) {
        None => None,
        Some(Some("STANDARD")) => Some(StateMachineType::Standard),
        Some(Some("EXPRESS")) => Some(StateMachineType::Express),
        Some(_) => {
            cx.schema(
                "Instance value not found in enum (possible values: [STANDARD, EXPRESS])",
                format!("{loc}/ExecutionType"),
            );
            ok = false;
            None
        }
    };
    ok.then_some(ProcessorConfig {
        mode,
        execution_type,
    })
}

fn state_name(cx: &mut Cx, name: &str, loc: &str) {
    let length = name.chars().count();
    if length == 0 || length > MAX_STATE_NAME {
        cx.diags.push(Diagnostic::error(
            "INVALID_STATE_NAME",
            format!("State name must be between 1 and {MAX_STATE_NAME} characters long"),
            loc,
        ));
    }
    if !cx.state_names.insert(name.to_owned()) {
        cx.diags.push(Diagnostic::error(
            "DUPLICATE_STATE_NAME",
            format!("Duplicate State name: {name}"),
            loc,
        ));
    }
}

/// One state, with its graph node.
fn state(cx: &mut Cx, name: &str, v: &Value, loc: &str, depth: usize) -> (Option<State>, Node) {
    let mut node = Node {
        name: name.to_owned(),
        loc: loc.to_owned(),
        edges: Vec::new(),
        terminal: true,
    };
    state_name(cx, name, loc);
    let obj = match as_object(cx, v, loc) {
        Some(o) => o,
        None => return (None, node),
    };
    let type_name_value = match obj.get("Type") {
        None => {
            required(cx, obj, &["Type"], loc);
            return (None, node);
        }
        Some(Value::String(s)) => s.as_str(),
        Some(other) => {
            cx.schema(
                format!("expected a string, found {}", type_name(other)),
                format!("{loc}/Type"),
            );
            return (None, node);
        }
    };
    let fields: &[&str] = match type_name_value {
        "Pass" => PASS,
        "Task" => TASK,
        "Choice" => CHOICE,
        "Wait" => WAIT,
        "Succeed" => SUCCEED,
        "Fail" => FAIL,
        "Parallel" => PARALLEL,
        "Map" => MAP,
        other => {
            cx.schema(
                format!("Instance value (\"{other}\") not found in enum (possible values: [Pass, Task, Choice, Wait, Succeed, Fail, Parallel, Map])"),
                format!("{loc}/Type"),
            );
            return (None, node);
        }
    };
    let mut ok = true;
    // Query language: declared, else the machine's (never the parent state's).
    let declared = match obj.get("QueryLanguage") {
        None => None,
        Some(v) => {
            let before = cx.diags.len();
            let ql = query_language_value(cx, v, &format!("{loc}/QueryLanguage"));
            ok &= cx.diags.len() == before;
            Some(ql)
        }
    };
    if cx.machine_ql == QueryLanguage::Jsonata
        && obj.get("QueryLanguage").and_then(Value::as_str) == Some("JSONPath")
    {
        cx.schema(
            "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
            loc,
        );
        ok = false;
    }
    let ql = declared.unwrap_or(cx.machine_ql);

    let required_fields: &[&str] = match type_name_value {
        "Task" => &["Resource"],
        "Choice" => &["Choices"],
        "Parallel" => &["Branches"],
        _ => &[],
    };
    ok &= required(cx, obj, required_fields, loc);
    ok &= unsupported(cx, obj, &[COMMON, fields], loc);
    let known = obj.keys().filter(|k| fields.contains(&k.as_str())).cloned();
    ok &= query_language_fields(cx, known, ql, loc);

    let (raw, raw_ok) = read_raw::<RawState>(cx, obj, loc);
    ok &= raw_ok;

    // Transitions, recorded for the graph checks whatever else is wrong.
    let terminal_type = matches!(type_name_value, "Succeed" | "Fail");
    let mut transition = None;
    if fields.contains(&"Next") {
        match (&raw.next, raw.end) {
            (Some(next), Some(true)) => {
                cx.schema(
                    "There should only be one of the following fields: [Next, End]",
                    loc,
                );
                node.edges.push((next.clone(), format!("{loc}/Next")));
                ok = false;
            }
            (Some(next), _) => {
                node.edges.push((next.clone(), format!("{loc}/Next")));
                transition = Some(Transition::Next(next.clone()));
            }
            (None, Some(true)) => transition = Some(Transition::End),
            (None, _) => {
                cx.schema("either 'Next' or 'End: true' is required", loc);
                ok = false;
            }
        }
        node.terminal =
            matches!(transition, Some(Transition::End)) || (!ok && transition.is_none());
    } else {
        node.terminal = terminal_type;
    }
    if let Some(catchers) = &raw.catch {
        for (i, c) in catchers.iter().enumerate() {
            if let Some(next) = c.get("Next").and_then(Value::as_str) {
                node.edges
                    .push((next.to_owned(), format!("{loc}/Catch[{i}]/Next")));
            }
        }
    }
    if type_name_value == "Choice" {
        if let Some(choices) = &raw.choices {
            for (i, c) in choices.iter().enumerate() {
                if let Some(next) = c.get("Next").and_then(Value::as_str) {
                    node.edges
                        .push((next.to_owned(), format!("{loc}/Choices[{i}]/Next")));
                }
            }
        }
        if let Some(default) = &raw.default {
            node.edges.push((default.clone(), format!("{loc}/Default")));
        }
    }

    let transition = transition.unwrap_or(Transition::End);
    let kind = match type_name_value {
        "Pass" => pass(cx, &raw, ql, transition, loc).map(StateKind::Pass),
        "Task" => task(cx, &raw, obj, ql, transition, loc).map(StateKind::Task),
        "Choice" => choice(cx, &raw, ql, loc).map(StateKind::Choice),
        "Wait" => wait(cx, &raw, obj, ql, transition, loc).map(StateKind::Wait),
        "Succeed" => io(cx, &raw, loc).map(|io| {
            StateKind::Succeed(Succeed {
                io,
                output: raw.output.clone(),
            })
        }),
        "Fail" => fail(cx, &raw, obj, ql, loc).map(StateKind::Fail),
        "Parallel" => parallel(cx, &raw, ql, transition, loc, depth).map(StateKind::Parallel),
        _ => map(cx, &raw, obj, ql, transition, loc, depth).map(StateKind::Map),
    };
    if !ok {
        return (None, node);
    }
    let state = kind.map(|kind| State {
        name: name.to_owned(),
        comment: raw.comment.clone(),
        declared_query_language: declared,
        query_language: ql,
        kind,
    });
    (state, node)
}

fn io(cx: &mut Cx, raw: &RawState, loc: &str) -> Option<Io> {
    let input_path = path_field(cx, raw.input_path.as_ref(), "InputPath", loc);
    let output_path = path_field(cx, raw.output_path.as_ref(), "OutputPath", loc);
    Some(Io {
        input_path: input_path?,
        output_path: output_path?,
    })
}

fn pass(
    cx: &mut Cx,
    raw: &RawState,
    ql: QueryLanguage,
    transition: Transition,
    loc: &str,
) -> Option<Pass> {
    let io = io(cx, raw, loc);
    let parameters = opt_template(cx, raw.parameters.as_ref(), &format!("{loc}/Parameters"));
    if let Some(result) = &raw.result {
        if has_dollar_key(result) {
            cx.warn(
                "PASS_RESULT_IS_STATIC",
                "The Result field of a Pass state is static: keys ending in '.$' are not evaluated; use Parameters instead",
                format!("{loc}/Result"),
            );
        }
    }
    let result_path = reference_field(cx, raw.result_path.as_ref(), "ResultPath", DATA_ONLY, loc);
    let assign = assign(cx, raw.assign.as_ref(), ql, loc);
    Some(Pass {
        transition,
        io: io?,
        parameters: parameters?,
        result: raw.result.clone(),
        result_path: result_path?,
        assign: assign?,
        output: raw.output.clone(),
    })
}

fn express_check(cx: &mut Cx, resource: &Resource, loc: &str) -> bool {
    if cx.machine_type != Some(StateMachineType::Express) {
        return true;
    }
    let at = format!("{loc}/Resource");
    let message = match (&resource.kind, resource.pattern()) {
        (ResourceKind::Activity { .. }, _) => {
            "Express state machine does not support Activity ARN".to_owned()
        }
        (_, IntegrationPattern::RequestResponse) => return true,
        (_, pattern) => format!(
            "Express state machine does not support '{}' service integration ",
            pattern.suffix()
        ),
    };
    cx.schema(message, at);
    false
}

/// What Task, Parallel and Map states do with the result of their work.
struct AfterWork {
    result_selector: Option<PayloadTemplate>,
    result_path: Option<ReferencePath>,
    retry: Vec<Retrier>,
    catch: Vec<Catcher>,
}

/// `ResultSelector`, `ResultPath`, `Retry` and `Catch`; `None` when one of
/// them was reported.
fn after_work(cx: &mut Cx, raw: &RawState, ql: QueryLanguage, loc: &str) -> Option<AfterWork> {
    let result_selector = opt_template(
        cx,
        raw.result_selector.as_ref(),
        &format!("{loc}/ResultSelector"),
    );
    let result_path = reference_field(cx, raw.result_path.as_ref(), "ResultPath", DATA_ONLY, loc);
    let retry = handlers(cx, raw.retry.as_deref(), "Retry", loc, retrier);
    let catch = handlers(cx, raw.catch.as_deref(), "Catch", loc, |cx, v, last, at| {
        catcher(cx, v, last, ql, at)
    });
    Some(AfterWork {
        result_selector: result_selector?,
        result_path: result_path?,
        retry: retry?,
        catch: catch?,
    })
}

fn task(
    cx: &mut Cx,
    raw: &RawState,
    obj: &Object,
    ql: QueryLanguage,
    transition: Transition,
    loc: &str,
) -> Option<Task> {
    let resource = raw.resource.as_deref().map(Resource::parse);
    let mut ok = resource.is_some();
    if let Some(r) = &resource {
        ok &= express_check(cx, r, loc);
    }
    let io = io(cx, raw, loc);
    let parameters = opt_template(cx, raw.parameters.as_ref(), &format!("{loc}/Parameters"));
    let after = after_work(cx, raw, ql, loc);
    let timeout = number_or_path(
        cx,
        obj,
        ("TimeoutSeconds", "TimeoutSecondsPath"),
        ql,
        loc,
        integer(1, Some(99_999_999)),
    );
    let heartbeat = number_or_path(
        cx,
        obj,
        ("HeartbeatSeconds", "HeartbeatSecondsPath"),
        ql,
        loc,
        integer(1, Some(99_999_999)),
    );
    let credentials = optional(raw.credentials.as_ref(), |v| {
        credentials(cx, v, &format!("{loc}/Credentials"))
    });
    let assign = assign(cx, raw.assign.as_ref(), ql, loc);
    if !ok {
        return None;
    }
    let AfterWork {
        result_selector,
        result_path,
        retry,
        catch,
    } = after?;
    Some(Task {
        resource: resource?,
        transition,
        io: io?,
        parameters: parameters?,
        result_selector,
        result_path,
        retry,
        catch,
        timeout_seconds: timeout?,
        heartbeat_seconds: heartbeat?,
        credentials: credentials?,
        assign: assign?,
        arguments: raw.arguments.clone(),
        output: raw.output.clone(),
    })
}

fn credentials(cx: &mut Cx, v: &Value, loc: &str) -> Option<Credentials> {
    let obj = as_object(cx, v, loc)?;
    let result = match (obj.get("RoleArn"), obj.get("RoleArn.$")) {
        (None, None) => {
            cx.schema("The field 'RoleArn' is required but was missing", loc);
            return None;
        }
        (Some(_), Some(_)) => {
            cx.schema(
                "There should only be one of the following fields: [RoleArn, RoleArn.$]",
                loc,
            );
            None
        }
        (Some(Value::String(s)), None) => Some(Credentials::RoleArn(s.clone())),
        (None, Some(Value::String(s))) => match Expression::parse(s) {
            Ok(e) => Some(Credentials::RoleArnPath(e)),
            Err(message) => {
                cx.schema(message, format!("{loc}/RoleArn.$"));
                None
            }
        },
        (Some(other), None) | (None, Some(other)) => {
            cx.schema(
                format!("expected a string, found {}", type_name(other)),
                loc,
            );
            None
        }
    };
    let ok = unsupported(cx, obj, &[&["RoleArn", "RoleArn.$"]], loc);
    if ok {
        result
    } else {
        None
    }
}

fn error_equals(
    cx: &mut Cx,
    list: Option<&Vec<String>>,
    last: bool,
    loc: &str,
) -> Option<Vec<ErrorName>> {
    let at = format!("{loc}/ErrorEquals");
    let list = list?;
    if list.is_empty() {
        cx.schema(
            "Field 'ErrorEquals' must contain at least one error name",
            at,
        );
        return None;
    }
    let mut ok = true;
    if list.iter().any(|e| e == "States.ALL") {
        if list.len() > 1 {
            cx.schema("States.ALL must appear alone in ErrorEquals", at.clone());
            ok = false;
        }
        if !last {
            cx.schema("States.ALL must appear in the last retrier or catcher", at);
            ok = false;
        }
    }
    ok.then(|| list.iter().map(|e| ErrorName::new(e)).collect())
}

/// `Retry` or `Catch` (`field`): each entry read by `read`, which is told
/// whether the entry is the last; absent is an empty list.
fn handlers<T>(
    cx: &mut Cx,
    list: Option<&[Value]>,
    field: &str,
    loc: &str,
    mut read: impl FnMut(&mut Cx, &Value, bool, &str) -> Option<T>,
) -> Option<Vec<T>> {
    let Some(list) = list else {
        return Some(Vec::new());
    };
    let mut out = Vec::new();
    let mut ok = true;
    for (i, v) in list.iter().enumerate() {
        match read(cx, v, i + 1 == list.len(), &format!("{loc}/{field}[{i}]")) {
            Some(entry) => out.push(entry),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn retrier(cx: &mut Cx, v: &Value, last: bool, loc: &str) -> Option<Retrier> {
    let (_, raw, ok) = field_object::<RawRetrier>(cx, v, &["ErrorEquals"], RETRIER, None, loc)?;
    let errors = error_equals(cx, raw.error_equals.as_ref(), last, loc);
    let number =
        |cx: &mut Cx, v: &Option<Value>, field: &str, min: u64, max: u64, default: Option<u64>| {
            match v {
                None => Some(default),
                Some(v) => int_field(cx, v, min, Some(max), &format!("{loc}/{field}")).map(Some),
            }
        };
    let interval = number(
        cx,
        &raw.interval_seconds,
        "IntervalSeconds",
        1,
        99_999_999,
        Some(1),
    );
    let attempts = number(cx, &raw.max_attempts, "MaxAttempts", 0, 99_999_999, Some(3));
    let max_delay = number(
        cx,
        &raw.max_delay_seconds,
        "MaxDelaySeconds",
        1,
        31_622_400,
        None,
    );
    let backoff = match &raw.backoff_rate {
        None => Some(2.0),
        Some(v) => float_field(cx, v, 1.0, None, &format!("{loc}/BackoffRate")),
    };
    let jitter = match raw.jitter_strategy.as_deref() {
        None | Some("NONE") => Some(JitterStrategy::None),
        Some("FULL") => Some(JitterStrategy::Full),
        Some(other) => {
            cx.schema(
                format!("Instance value (\"{other}\") not found in enum (possible values: [FULL, NONE])"),
                format!("{loc}/JitterStrategy"),
            );
            None
        }
    };
    if !ok {
        return None;
    }
    Some(Retrier {
        error_equals: errors?,
        interval_seconds: interval??,
        max_attempts: attempts??,
        backoff_rate: backoff?,
        max_delay_seconds: max_delay?,
        jitter_strategy: jitter?,
        comment: raw.comment,
    })
}

fn catcher(cx: &mut Cx, v: &Value, last: bool, ql: QueryLanguage, loc: &str) -> Option<Catcher> {
    let (_, raw, ok) =
        field_object::<RawCatcher>(cx, v, &["ErrorEquals", "Next"], CATCHER, Some(ql), loc)?;
    let errors = error_equals(cx, raw.error_equals.as_ref(), last, loc);
    let result_path = reference_field(cx, raw.result_path.as_ref(), "ResultPath", DATA_ONLY, loc);
    let assign = assign(cx, raw.assign.as_ref(), ql, loc);
    if !ok {
        return None;
    }
    Some(Catcher {
        error_equals: errors?,
        next: raw.next?,
        result_path: result_path?,
        assign: assign?,
        output: raw.output,
        comment: raw.comment,
    })
}

fn choice(cx: &mut Cx, raw: &RawState, ql: QueryLanguage, loc: &str) -> Option<Choice> {
    let io = io(cx, raw, loc);
    let mut rules = Vec::new();
    let mut ok = true;
    match &raw.choices {
        Some(list) if list.is_empty() => {
            cx.schema(
                "Field 'Choices' must contain at least one rule",
                format!("{loc}/Choices"),
            );
            ok = false;
        }
        Some(list) => {
            for (i, v) in list.iter().enumerate() {
                match ChoiceRule::compile(
                    v,
                    &format!("{loc}/Choices[{i}]"),
                    ql == QueryLanguage::Jsonata,
                ) {
                    Ok(rule) => rules.push(rule),
                    Err(diags) => {
                        cx.diags.extend(diags);
                        ok = false;
                    }
                }
            }
        }
        None => ok = false,
    }
    let assign = assign(cx, raw.assign.as_ref(), ql, loc);
    if !ok {
        return None;
    }
    Some(Choice {
        choices: rules,
        default: raw.default.clone(),
        io: io?,
        assign: assign?,
        output: raw.output.clone(),
    })
}

fn rfc3339(text: &str) -> bool {
    crate::timestamp::parse(text).is_some()
}

fn wait(
    cx: &mut Cx,
    raw: &RawState,
    obj: &Object,
    ql: QueryLanguage,
    transition: Transition,
    loc: &str,
) -> Option<Wait> {
    let io = io(cx, raw, loc);
    let fields = ["Seconds", "Timestamp", "SecondsPath", "TimestampPath"];
    let present = fields.iter().filter(|f| obj.contains_key(**f)).count();
    let wait_for = if present == 0 {
        cx.schema(
            "exactly one of the fields [Seconds, Timestamp, SecondsPath, TimestampPath] is required",
            loc,
        );
        None
    } else if !exclusive(cx, obj, &fields, loc) {
        None
    } else if let Some(v) = &raw.seconds {
        match v {
            Value::String(s) if ql == QueryLanguage::Jsonata && is_jsonata(s) => {
                Some(WaitFor::SecondsJsonata(s.clone()))
            }
            v => int_field(cx, v, 0, Some(99_999_999), &format!("{loc}/Seconds"))
                .map(WaitFor::Seconds),
        }
    } else if let Some(v) = &raw.timestamp {
        let at = format!("{loc}/Timestamp");
        match v {
            Value::String(s) if ql == QueryLanguage::Jsonata && is_jsonata(s) => {
                Some(WaitFor::TimestampJsonata(s.clone()))
            }
            Value::String(s) if rfc3339(s) => Some(WaitFor::Timestamp(s.clone())),
            Value::String(_) => {
                cx.schema("String does not match RFC3339 timestamp", at);
                None
            }
            other => {
                cx.schema(format!("expected a string, found {}", type_name(other)), at);
                None
            }
        }
    } else if let Some(p) = &raw.seconds_path {
        reference_path(cx, p, NO_CONTEXT, &format!("{loc}/SecondsPath")).map(WaitFor::SecondsPath)
    } else if let Some(p) = &raw.timestamp_path {
        reference_path(cx, p, NO_CONTEXT, &format!("{loc}/TimestampPath"))
            .map(WaitFor::TimestampPath)
    } else {
        None
    };
    let assign = assign(cx, raw.assign.as_ref(), ql, loc);
    Some(Wait {
        wait: wait_for?,
        transition,
        io: io?,
        assign: assign?,
        output: raw.output.clone(),
    })
}

fn fail_field(
    cx: &mut Cx,
    literal: Option<&String>,
    path: Option<&String>,
    path_field: &str,
    ql: QueryLanguage,
    loc: &str,
) -> Option<Option<FailField>> {
    if let Some(s) = literal {
        if ql == QueryLanguage::Jsonata && is_jsonata(s) {
            return Some(Some(FailField::Jsonata(s.clone())));
        }
        return Some(Some(FailField::Literal(s.clone())));
    }
    let text = match path {
        None => return Some(None),
        Some(t) => t,
    };
    let at = format!("{loc}/{path_field}");
    match Expression::parse(text) {
        Ok(Expression::Path(p)) if p.as_reference().is_none() => {
            cx.schema("Value is not a Reference Path", at);
            None
        }
        Ok(e) => Some(Some(FailField::Path(e))),
        Err(message) => {
            cx.schema(message, at);
            None
        }
    }
}

fn fail(cx: &mut Cx, raw: &RawState, obj: &Object, ql: QueryLanguage, loc: &str) -> Option<Fail> {
    let a = exclusive(cx, obj, &["Error", "ErrorPath"], loc);
    let b = exclusive(cx, obj, &["Cause", "CausePath"], loc);
    let error = fail_field(
        cx,
        raw.error.as_ref(),
        raw.error_path.as_ref(),
        "ErrorPath",
        ql,
        loc,
    );
    let cause = fail_field(
        cx,
        raw.cause.as_ref(),
        raw.cause_path.as_ref(),
        "CausePath",
        ql,
        loc,
    );
    if !(a && b) {
        return None;
    }
    Some(Fail {
        error: error?,
        cause: cause?,
    })
}

fn parallel(
    cx: &mut Cx,
    raw: &RawState,
    ql: QueryLanguage,
    transition: Transition,
    loc: &str,
    depth: usize,
) -> Option<Parallel> {
    let io = io(cx, raw, loc);
    let mut ok = true;
    let mut branches = Vec::new();
    match &raw.branches {
        Some(list) if list.is_empty() => {
            cx.schema(
                "Field 'Branches' must contain at least one branch",
                format!("{loc}/Branches"),
            );
            ok = false;
        }
        Some(list) => {
            for (i, v) in list.iter().enumerate() {
                match nested(cx, v, &format!("{loc}/Branches[{i}]"), depth, false) {
                    Some((m, _)) => branches.push(m),
                    None => ok = false,
                }
            }
        }
        None => ok = false,
    }
    let parameters = opt_template(cx, raw.parameters.as_ref(), &format!("{loc}/Parameters"));
    let after = after_work(cx, raw, ql, loc);
    let assign = assign(cx, raw.assign.as_ref(), ql, loc);
    if !ok {
        return None;
    }
    let AfterWork {
        result_selector,
        result_path,
        retry,
        catch,
    } = after?;
    Some(Parallel {
        branches,
        transition,
        io: io?,
        parameters: parameters?,
        result_selector,
        result_path,
        retry,
        catch,
        assign: assign?,
        arguments: raw.arguments.clone(),
        output: raw.output.clone(),
    })
}

fn label(cx: &mut Cx, text: &str, loc: &str) -> bool {
    let at = format!("{loc}/Label");
    let mut ok = true;
    if text.is_empty() {
        cx.diags.push(Diagnostic::error(
            "INVALID_LABEL_NAME",
            "Label must not be empty",
            at.clone(),
        ));
        ok = false;
    } else if text.chars().count() > MAX_LABEL {
        cx.diags.push(Diagnostic::error(
            "INVALID_LABEL_NAME",
            format!("Label must be at most {MAX_LABEL} characters long"),
            at.clone(),
        ));
        ok = false;
    }
    if let Some(bad) = text
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || LABEL_FORBIDDEN.contains(*c))
    {
        cx.diags.push(Diagnostic::error(
            "INVALID_LABEL_NAME",
            format!("Label contains an invalid character: {bad:?}"),
            at.clone(),
        ));
        ok = false;
    }
    if ok && !cx.labels.insert(text.to_owned()) {
        cx.diags.push(Diagnostic::error(
            "DUPLICATE_LABEL_NAME",
            format!("Duplicate Label: {text}"),
            at,
        ));
        ok = false;
    }
    ok
}

fn item_reader(cx: &mut Cx, v: &Value, ql: QueryLanguage, loc: &str) -> Option<ItemReader> {
    let (_, raw, mut ok) =
        field_object::<RawItemReader>(cx, v, &["Resource"], ITEM_READER, Some(ql), loc)?;
    let parameters = opt_template(cx, raw.parameters.as_ref(), &format!("{loc}/Parameters"));
    let max_items = match &raw.reader_config {
        None => Some(None),
        Some(config) => {
            let at = format!("{loc}/ReaderConfig");
            match as_object(cx, config, &at) {
                Some(c) => {
                    ok &= query_language_fields(cx, c.keys().cloned(), ql, &at);
                    number_or_path(
                        cx,
                        c,
                        ("MaxItems", "MaxItemsPath"),
                        ql,
                        &at,
                        integer(0, Some(100_000_000)),
                    )
                }
                None => None,
            }
        }
    };
    if !ok {
        return None;
    }
    Some(ItemReader {
        resource: raw.resource?,
        parameters: parameters?,
        arguments: raw.arguments,
        reader_config: raw.reader_config,
        max_items: max_items?,
    })
}

fn item_batcher(cx: &mut Cx, v: &Value, ql: QueryLanguage, loc: &str) -> Option<ItemBatcher> {
    let (obj, raw, ok) = field_object::<RawItemBatcher>(cx, v, &[], ITEM_BATCHER, Some(ql), loc)?;
    let batch_input = match (&raw.batch_input, ql) {
        (None, _) => Some(None),
        (Some(v), QueryLanguage::JsonPath) => {
            template(cx, v, &format!("{loc}/BatchInput")).map(Some)
        }
        (Some(v), QueryLanguage::Jsonata) => PayloadTemplate::compile(v).ok().map(Some),
    };
    let per_batch = number_or_path(
        cx,
        obj,
        ("MaxItemsPerBatch", "MaxItemsPerBatchPath"),
        ql,
        loc,
        integer(0, None),
    );
    let bytes = number_or_path(
        cx,
        obj,
        ("MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath"),
        ql,
        loc,
        integer(0, None),
    );
    if !ok {
        return None;
    }
    Some(ItemBatcher {
        batch_input: batch_input?,
        max_items_per_batch: per_batch?,
        max_input_bytes_per_batch: bytes?,
    })
}

fn result_writer(cx: &mut Cx, v: &Value, ql: QueryLanguage, loc: &str) -> Option<ResultWriter> {
    let (_, raw, ok) = field_object::<RawResultWriter>(cx, v, &[], RESULT_WRITER, Some(ql), loc)?;
    let parameters = opt_template(cx, raw.parameters.as_ref(), &format!("{loc}/Parameters"));
    if !ok {
        return None;
    }
    Some(ResultWriter {
        resource: raw.resource,
        parameters: parameters?,
        arguments: raw.arguments,
        writer_config: raw.writer_config,
    })
}

#[allow(clippy::too_many_arguments)]
fn map(
    cx: &mut Cx,
    raw: &RawState,
    obj: &Object,
    ql: QueryLanguage,
    transition: Transition,
    loc: &str,
    depth: usize,
) -> Option<Map> {
    let mut ok = true;
    let io = io(cx, raw, loc);
    let processor = match (&raw.item_processor, &raw.iterator) {
        (Some(_), Some(_)) => {
            cx.schema(
                "There should only be one of the following fields: [ItemProcessor, Iterator]",
                loc,
            );
            None
        }
        (Some(v), None) => nested(cx, v, &format!("{loc}/ItemProcessor"), depth, true),
        (None, Some(v)) => nested(cx, v, &format!("{loc}/Iterator"), depth, true),
        (None, None) => {
            cx.schema("These fields are required: [ItemProcessor]", loc);
            None
        }
    };
    ok &= exclusive(cx, obj, &["ItemSelector", "Parameters"], loc);
    let selector_value = raw.item_selector.as_ref().or(raw.parameters.as_ref());
    let selector_loc = if raw.item_selector.is_some() {
        format!("{loc}/ItemSelector")
    } else {
        format!("{loc}/Parameters")
    };
    let item_selector = opt_template(cx, selector_value, &selector_loc);
    let items_path = match &raw.items_path {
        None => root_reference().map(Some),
        Some(Value::String(s)) => {
            reference_path(cx, s, ANY_ROOT, &format!("{loc}/ItemsPath")).map(Some)
        }
        Some(other) => {
            cx.schema(
                format!("expected a string, found {}", type_name(other)),
                format!("{loc}/ItemsPath"),
            );
            None
        }
    };
    let max_concurrency = number_or_path(
        cx,
        obj,
        ("MaxConcurrency", "MaxConcurrencyPath"),
        ql,
        loc,
        integer(0, None),
    );
    let item_reader = optional(raw.item_reader.as_ref(), |v| {
        item_reader(cx, v, ql, &format!("{loc}/ItemReader"))
    });
    let item_batcher = optional(raw.item_batcher.as_ref(), |v| {
        item_batcher(cx, v, ql, &format!("{loc}/ItemBatcher"))
    });
    let result_writer = optional(raw.result_writer.as_ref(), |v| {
        result_writer(cx, v, ql, &format!("{loc}/ResultWriter"))
    });
    let tolerated_count = number_or_path(
        cx,
        obj,
        ("ToleratedFailureCount", "ToleratedFailureCountPath"),
        ql,
        loc,
        integer(0, None),
    );
    let tolerated_percentage = number_or_path(
        cx,
        obj,
        (
            "ToleratedFailurePercentage",
            "ToleratedFailurePercentagePath",
        ),
        ql,
        loc,
        |cx, v, at| float_field(cx, v, 0.0, Some(100.0), at),
    );
    if let Some(text) = &raw.label {
        ok &= label(cx, text, loc);
    }
    let after = after_work(cx, raw, ql, loc);
    let assign = assign(cx, raw.assign.as_ref(), ql, loc);
    if !ok {
        return None;
    }
    let AfterWork {
        result_selector,
        result_path,
        retry,
        catch,
    } = after?;
    let (item_processor, processor_config) = processor?;
    Some(Map {
        item_processor,
        processor_config,
        legacy_iterator: raw.iterator.is_some(),
        items_path: items_path?,
        items: raw.items.clone(),
        item_selector: item_selector?,
        legacy_parameters: raw.parameters.is_some(),
        max_concurrency: max_concurrency?,
        item_reader: item_reader?,
        item_batcher: item_batcher?,
        result_writer: result_writer?,
        tolerated_failure_count: tolerated_count?,
        tolerated_failure_percentage: tolerated_percentage?,
        label: raw.label.clone(),
        transition,
        io: io?,
        result_selector,
        result_path,
        retry,
        catch,
        assign: assign?,
        output: raw.output.clone(),
    })
}
