//! Text -> JSON value -> raw structs -> typed model, collecting every problem
//! as an AWS-shaped [`Diagnostic`] on the way.
//!
//! Locations follow AWS: `/` for the top level, `/States/<State>` for a
//! state, `/States/<State>/<Field>` for a field, array entries as
//! `Retry[0]`, nested machines as `/States/P/Branches[0]/States/<State>` and
//! `/States/M/ItemProcessor/States/<State>`. AWS reports unknown fields and
//! query-language mismatches at the state, not at the field.

use super::fields::*;
use super::raw::RawState;
use super::states::{choice, fail, map, parallel, pass, succeed, task, wait};
use super::*;
use crate::error::Diagnostic;
use serde_json::Value;
use std::collections::HashSet;

pub(crate) type Object = serde_json::Map<String, Value>;

/// AWS's code for every schema-level problem.
pub(crate) const SCHEMA: &str = "SCHEMA_VALIDATION_FAILED";

/// Deepest nesting of JSON arrays/objects accepted (serde_json's own limit
/// for text), so that no recursive walk can exhaust the stack.
pub(crate) const MAX_JSON_DEPTH: usize = 128;

/// The longest state name AWS accepts.
pub(crate) const MAX_STATE_NAME: usize = 80;

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

/// Fields only JSONata states may use.
pub(crate) const JSONATA_ONLY: &[&str] = &["Arguments", "Output", "Items"];
/// Fields only JSONPath states may use.
pub(crate) const JSONPATH_ONLY: &[&str] = &[
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
    pub(crate) state_names: HashSet<String>,
    pub(crate) labels: HashSet<String>,
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

    pub(crate) fn schema(&mut self, message: impl Into<String>, location: impl Into<String>) {
        self.diags
            .push(Diagnostic::error(SCHEMA, message, location));
    }

    pub(crate) fn warn(
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
pub(crate) fn here(loc: &str) -> &str {
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
pub(crate) fn nested(
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
        "Pass" => pass::FIELDS,
        "Task" => task::FIELDS,
        "Choice" => choice::FIELDS,
        "Wait" => wait::FIELDS,
        "Succeed" => succeed::FIELDS,
        "Fail" => fail::FIELDS,
        "Parallel" => parallel::FIELDS,
        "Map" => map::FIELDS,
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
    let has_next = fields.contains(&"Next");
    let transition = transitions(cx, &raw, type_name_value, has_next, &mut ok, &mut node, loc);
    let kind = match type_name_value {
        "Pass" => pass::pass(cx, &raw, ql, transition, loc).map(StateKind::Pass),
        "Task" => task::task(cx, &raw, obj, ql, transition, loc).map(StateKind::Task),
        "Choice" => choice::choice(cx, &raw, ql, loc).map(StateKind::Choice),
        "Wait" => wait::wait(cx, &raw, obj, ql, transition, loc).map(StateKind::Wait),
        "Succeed" => succeed::succeed(cx, &raw, ql, loc).map(StateKind::Succeed),
        "Fail" => fail::fail(cx, &raw, obj, ql, loc).map(StateKind::Fail),
        "Parallel" => {
            parallel::parallel(cx, &raw, ql, transition, loc, depth).map(StateKind::Parallel)
        }
        _ => map::map(cx, &raw, obj, ql, transition, loc, depth).map(StateKind::Map),
    };
    if let Some(kind) = &kind {
        ok &= super::jsonata::check(cx, kind, loc);
    }
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

/// `Next`/`End` of a state that has them, and the edges of the graph
/// checks (`Next`, `Catch[i].Next`, `Choices[i].Next`, `Default`); `End`
/// when the state has no transition of its own or it was reported.
fn transitions(
    cx: &mut Cx,
    raw: &RawState,
    type_name_value: &str,
    has_next: bool,
    ok: &mut bool,
    node: &mut Node,
    loc: &str,
) -> Transition {
    let mut transition = None;
    if has_next {
        match (&raw.next, raw.end) {
            (Some(next), Some(true)) => {
                cx.schema(
                    "There should only be one of the following fields: [Next, End]",
                    loc,
                );
                node.edges.push((next.clone(), format!("{loc}/Next")));
                *ok = false;
            }
            (Some(next), _) => {
                node.edges.push((next.clone(), format!("{loc}/Next")));
                transition = Some(Transition::Next(next.clone()));
            }
            (None, Some(true)) => transition = Some(Transition::End),
            (None, _) => {
                cx.schema("either 'Next' or 'End: true' is required", loc);
                *ok = false;
            }
        }
        node.terminal =
            matches!(transition, Some(Transition::End)) || (!*ok && transition.is_none());
    } else {
        node.terminal = matches!(type_name_value, "Succeed" | "Fail");
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

    transition.unwrap_or(Transition::End)
}
