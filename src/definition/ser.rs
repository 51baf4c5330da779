//! The typed model back to ASL JSON. Loading the result gives an equal
//! model (defaults may be written out explicitly).

use super::states::{choice, fail, map, parallel, pass, succeed, task, wait};
use super::{
    Assign, Catcher, Definition, Dynamic, Io, ProcessingMode, ProcessorConfig, QueryLanguage,
    ResultHandling, Retrier, State, StateKind, SubMachine, Transition,
};
use crate::error::ErrorName;
use crate::jsonpath::path::{Path, ReferencePath};
use crate::jsonpath::template::PayloadTemplate;
use serde_json::{json, Map, Value};

pub(crate) type Object = Map<String, Value>;

pub(crate) fn definition(d: &Definition) -> Value {
    let mut m = Object::new();
    if let Some(c) = &d.comment {
        m.insert("Comment".into(), json!(c));
    }
    if let Some(v) = &d.version {
        m.insert("Version".into(), json!(v));
    }
    if let Some(t) = d.timeout_seconds {
        m.insert("TimeoutSeconds".into(), json!(t));
    }
    if d.query_language == QueryLanguage::Jsonata {
        m.insert("QueryLanguage".into(), json!("JSONata"));
    }
    body(&mut m, &d.machine, false);
    Value::Object(m)
}

pub(crate) fn body(m: &mut Object, s: &SubMachine, with_comment: bool) {
    if with_comment {
        if let Some(c) = &s.comment {
            m.insert("Comment".into(), json!(c));
        }
    }
    m.insert("StartAt".into(), json!(s.start_at));
    let states: Object = s
        .states
        .iter()
        .map(|st| (st.name.clone(), state(st)))
        .collect();
    m.insert("States".into(), Value::Object(states));
}

pub(crate) fn sub(s: &SubMachine) -> Value {
    let mut m = Object::new();
    body(&mut m, s, true);
    Value::Object(m)
}

pub(crate) fn put<T: Into<Value>>(m: &mut Object, key: &str, v: Option<T>) {
    if let Some(v) = v {
        m.insert(key.into(), v.into());
    }
}

/// A path field as written: `null` for `None`, left out when `$` (the
/// default).
pub(crate) fn path_text(p: Option<&str>) -> Option<Value> {
    match p {
        None => Some(Value::Null),
        Some("$") => None,
        Some(p) => Some(json!(p)),
    }
}

pub(crate) fn path_value(p: &Option<Path>) -> Option<Value> {
    path_text(p.as_ref().map(Path::as_str))
}

pub(crate) fn reference_value(p: &Option<ReferencePath>) -> Option<Value> {
    path_text(p.as_ref().map(ReferencePath::as_str))
}

/// `InputPath`, `OutputPath` and `Parameters` (JSONPath), written where
/// ASL puts them: after the transition.
pub(crate) fn io(m: &mut Object, io: &Io) {
    if let Io::JsonPath {
        input_path,
        output_path,
        parameters,
    } = io
    {
        put(m, "InputPath", path_value(input_path));
        put(m, "OutputPath", path_value(output_path));
        template(m, "Parameters", parameters);
    }
}

/// `Arguments` and `Output` (JSONata), written last.
pub(crate) fn io_jsonata(m: &mut Object, io: &Io) {
    if let Io::Jsonata { arguments, output } = io {
        put(m, "Arguments", arguments.as_ref().map(|a| a.to_value()));
        put(m, "Output", output.as_ref().map(|o| o.to_value()));
    }
}

pub(crate) fn transition(m: &mut Object, t: &Transition) {
    match t {
        Transition::Next(n) => m.insert("Next".into(), json!(n)),
        Transition::End => m.insert("End".into(), json!(true)),
    };
}

pub(crate) fn template(m: &mut Object, key: &str, t: &Option<PayloadTemplate>) {
    put(m, key, t.as_ref().map(PayloadTemplate::to_value));
}

pub(crate) fn assign(m: &mut Object, a: &Option<Assign>) {
    put(
        m,
        "Assign",
        a.as_ref().map(|a| match a {
            Assign::JsonPath(t) => t.to_value(),
            Assign::Jsonata(t) => t.to_value(),
        }),
    );
}

/// A [`Dynamic`] field: the literal or the JSONata expression under
/// `literal`, the path under `path`.
pub(crate) fn dynamic<T: Into<Value> + Clone, P: AsPathText>(
    m: &mut Object,
    literal: &str,
    path: &str,
    d: Option<&Dynamic<T, P>>,
) {
    match d {
        None => {}
        Some(Dynamic::Literal(v)) => {
            m.insert(literal.into(), v.clone().into());
        }
        Some(Dynamic::Path(p)) => {
            m.insert(path.into(), json!(p.path_text()));
        }
        Some(Dynamic::Jsonata(e)) => {
            m.insert(literal.into(), json!(e.as_str()));
        }
    }
}

/// The text of the JSONPath form of a [`Dynamic`].
pub(crate) trait AsPathText {
    fn path_text(&self) -> &str;
}

impl AsPathText for ReferencePath {
    fn path_text(&self) -> &str {
        self.as_str()
    }
}

impl AsPathText for crate::jsonpath::template::Expression {
    fn path_text(&self) -> &str {
        self.as_str()
    }
}

pub(crate) fn error_names(names: &[ErrorName]) -> Value {
    Value::Array(names.iter().map(|e| json!(e.as_str())).collect())
}

pub(crate) fn retrier(r: &Retrier) -> Value {
    let mut m = Object::new();
    m.insert("ErrorEquals".into(), error_names(&r.error_equals));
    m.insert("IntervalSeconds".into(), json!(r.interval_seconds));
    m.insert("MaxAttempts".into(), json!(r.max_attempts));
    m.insert("BackoffRate".into(), json!(r.backoff_rate));
    put(&mut m, "MaxDelaySeconds", r.max_delay_seconds);
    if r.jitter_strategy == super::JitterStrategy::Full {
        m.insert("JitterStrategy".into(), json!("FULL"));
    }
    put(&mut m, "Comment", r.comment.clone());
    Value::Object(m)
}

pub(crate) fn catcher(c: &Catcher) -> Value {
    let mut m = Object::new();
    m.insert("ErrorEquals".into(), error_names(&c.error_equals));
    m.insert("Next".into(), json!(c.next));
    put(&mut m, "ResultPath", reference_value(&c.result_path));
    assign(&mut m, &c.assign);
    put(&mut m, "Output", c.output.as_ref().map(|o| o.to_value()));
    put(&mut m, "Comment", c.comment.clone());
    Value::Object(m)
}

/// `ResultSelector`, `ResultPath`, `Retry`, `Catch`.
pub(crate) fn result_handling(m: &mut Object, h: &ResultHandling) {
    template(m, "ResultSelector", &h.result_selector);
    put(m, "ResultPath", reference_value(&h.result_path));
    errors(m, &h.retry, &h.catch);
}

pub(crate) fn errors(m: &mut Object, retry: &[Retrier], catch: &[Catcher]) {
    if !retry.is_empty() {
        m.insert(
            "Retry".into(),
            Value::Array(retry.iter().map(retrier).collect()),
        );
    }
    if !catch.is_empty() {
        m.insert(
            "Catch".into(),
            Value::Array(catch.iter().map(catcher).collect()),
        );
    }
}

pub(crate) fn processor(s: &SubMachine, config: &ProcessorConfig) -> Value {
    let mut m = Object::new();
    if *config != ProcessorConfig::default() {
        let mut c = Object::new();
        let mode = match config.mode {
            ProcessingMode::Inline => "INLINE",
            ProcessingMode::Distributed => "DISTRIBUTED",
        };
        c.insert("Mode".into(), json!(mode));
        if let Some(t) = config.execution_type {
            c.insert("ExecutionType".into(), json!(t.as_str()));
        }
        m.insert("ProcessorConfig".into(), Value::Object(c));
    }
    body(&mut m, s, true);
    Value::Object(m)
}

pub(crate) fn state(s: &State) -> Value {
    let mut m = Object::new();
    m.insert("Type".into(), json!(s.kind.type_name()));
    put(&mut m, "Comment", s.comment.clone());
    put(
        &mut m,
        "QueryLanguage",
        s.declared_query_language.map(QueryLanguage::as_str),
    );
    match &s.kind {
        StateKind::Pass(p) => pass::write(&mut m, p),
        StateKind::Task(t) => task::write(&mut m, t),
        StateKind::Choice(c) => choice::write(&mut m, c),
        StateKind::Wait(w) => wait::write(&mut m, w),
        StateKind::Succeed(s) => succeed::write(&mut m, s),
        StateKind::Fail(f) => fail::write(&mut m, f),
        StateKind::Parallel(p) => parallel::write(&mut m, p),
        StateKind::Map(map) => map::write(&mut m, map),
    }
    Value::Object(m)
}
