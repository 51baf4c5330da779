//! The typed model back to ASL JSON. Loading the result gives an equal
//! model (defaults may be written out explicitly).

use super::{
    Assign, Catcher, Credentials, Definition, FailField, Io, NumberOrPath, ProcessingMode,
    ProcessorConfig, QueryLanguage, Retrier, State, StateKind, SubMachine, Transition, WaitFor,
};
use crate::error::ErrorName;
use crate::jsonpath::path::{Path, ReferencePath};
use crate::jsonpath::template::PayloadTemplate;
use serde_json::{json, Map, Value};

type Object = Map<String, Value>;

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

fn body(m: &mut Object, s: &SubMachine, with_comment: bool) {
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

fn sub(s: &SubMachine) -> Value {
    let mut m = Object::new();
    body(&mut m, s, true);
    Value::Object(m)
}

fn put<T: Into<Value>>(m: &mut Object, key: &str, v: Option<T>) {
    if let Some(v) = v {
        m.insert(key.into(), v.into());
    }
}

/// A path field as written: `null` for `None`, left out when `$` (the
/// default).
fn path_text(p: Option<&str>) -> Option<Value> {
    match p {
        None => Some(Value::Null),
        Some("$") => None,
        Some(p) => Some(json!(p)),
    }
}

fn path_value(p: &Option<Path>) -> Option<Value> {
    path_text(p.as_ref().map(Path::as_str))
}

fn reference_value(p: &Option<ReferencePath>) -> Option<Value> {
    path_text(p.as_ref().map(ReferencePath::as_str))
}

fn io(m: &mut Object, io: &Io) {
    put(m, "InputPath", path_value(&io.input_path));
    put(m, "OutputPath", path_value(&io.output_path));
}

fn transition(m: &mut Object, t: &Transition) {
    match t {
        Transition::Next(n) => m.insert("Next".into(), json!(n)),
        Transition::End => m.insert("End".into(), json!(true)),
    };
}

fn template(m: &mut Object, key: &str, t: &Option<PayloadTemplate>) {
    put(m, key, t.as_ref().map(PayloadTemplate::to_value));
}

fn assign(m: &mut Object, a: &Option<Assign>) {
    put(
        m,
        "Assign",
        a.as_ref().map(|a| match a {
            Assign::JsonPath(t) => t.to_value(),
            Assign::Jsonata(v) => v.clone(),
        }),
    );
}

fn number<T: Into<Value> + Copy>(
    m: &mut Object,
    literal: &str,
    path: &str,
    n: &Option<NumberOrPath<T>>,
) {
    match n {
        None => {}
        Some(NumberOrPath::Value(v)) => {
            m.insert(literal.into(), (*v).into());
        }
        Some(NumberOrPath::Path(p)) => {
            m.insert(path.into(), json!(p.as_str()));
        }
        Some(NumberOrPath::Jsonata(s)) => {
            m.insert(literal.into(), json!(s));
        }
    }
}

fn error_names(names: &[ErrorName]) -> Value {
    Value::Array(names.iter().map(|e| json!(e.as_str())).collect())
}

fn retrier(r: &Retrier) -> Value {
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

fn catcher(c: &Catcher) -> Value {
    let mut m = Object::new();
    m.insert("ErrorEquals".into(), error_names(&c.error_equals));
    m.insert("Next".into(), json!(c.next));
    put(&mut m, "ResultPath", reference_value(&c.result_path));
    assign(&mut m, &c.assign);
    put(&mut m, "Output", c.output.clone());
    put(&mut m, "Comment", c.comment.clone());
    Value::Object(m)
}

fn errors(m: &mut Object, retry: &[Retrier], catch: &[Catcher]) {
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

fn fail_field(m: &mut Object, literal: &str, path: &str, f: &Option<FailField>) {
    match f {
        None => {}
        Some(FailField::Literal(s)) | Some(FailField::Jsonata(s)) => {
            m.insert(literal.into(), json!(s));
        }
        Some(FailField::Path(e)) => {
            m.insert(path.into(), json!(e.as_str()));
        }
    }
}

fn processor(s: &SubMachine, config: &ProcessorConfig) -> Value {
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

fn state(s: &State) -> Value {
    let mut m = Object::new();
    m.insert("Type".into(), json!(s.kind.type_name()));
    put(&mut m, "Comment", s.comment.clone());
    put(
        &mut m,
        "QueryLanguage",
        s.declared_query_language.map(QueryLanguage::as_str),
    );
    match &s.kind {
        StateKind::Pass(p) => {
            transition(&mut m, &p.transition);
            io(&mut m, &p.io);
            template(&mut m, "Parameters", &p.parameters);
            put(&mut m, "Result", p.result.clone());
            put(&mut m, "ResultPath", reference_value(&p.result_path));
            assign(&mut m, &p.assign);
            put(&mut m, "Output", p.output.clone());
        }
        StateKind::Task(t) => {
            m.insert("Resource".into(), json!(t.resource.arn));
            transition(&mut m, &t.transition);
            io(&mut m, &t.io);
            template(&mut m, "Parameters", &t.parameters);
            template(&mut m, "ResultSelector", &t.result_selector);
            put(&mut m, "ResultPath", reference_value(&t.result_path));
            errors(&mut m, &t.retry, &t.catch);
            number(
                &mut m,
                "TimeoutSeconds",
                "TimeoutSecondsPath",
                &t.timeout_seconds,
            );
            number(
                &mut m,
                "HeartbeatSeconds",
                "HeartbeatSecondsPath",
                &t.heartbeat_seconds,
            );
            if let Some(c) = &t.credentials {
                let c = match c {
                    Credentials::RoleArn(s) => json!({ "RoleArn": s }),
                    Credentials::RoleArnPath(e) => json!({ "RoleArn.$": e.as_str() }),
                };
                m.insert("Credentials".into(), c);
            }
            assign(&mut m, &t.assign);
            put(&mut m, "Arguments", t.arguments.clone());
            put(&mut m, "Output", t.output.clone());
        }
        StateKind::Choice(c) => {
            m.insert(
                "Choices".into(),
                Value::Array(c.choices.iter().map(|r| r.to_value()).collect()),
            );
            put(&mut m, "Default", c.default.clone());
            io(&mut m, &c.io);
            assign(&mut m, &c.assign);
            put(&mut m, "Output", c.output.clone());
        }
        StateKind::Wait(w) => {
            match &w.wait {
                WaitFor::Seconds(n) => m.insert("Seconds".into(), json!(n)),
                WaitFor::Timestamp(t) | WaitFor::TimestampJsonata(t) => {
                    m.insert("Timestamp".into(), json!(t))
                }
                WaitFor::SecondsJsonata(s) => m.insert("Seconds".into(), json!(s)),
                WaitFor::SecondsPath(p) => m.insert("SecondsPath".into(), json!(p.as_str())),
                WaitFor::TimestampPath(p) => m.insert("TimestampPath".into(), json!(p.as_str())),
            };
            transition(&mut m, &w.transition);
            io(&mut m, &w.io);
            assign(&mut m, &w.assign);
            put(&mut m, "Output", w.output.clone());
        }
        StateKind::Succeed(s) => {
            io(&mut m, &s.io);
            put(&mut m, "Output", s.output.clone());
        }
        StateKind::Fail(f) => {
            fail_field(&mut m, "Error", "ErrorPath", &f.error);
            fail_field(&mut m, "Cause", "CausePath", &f.cause);
        }
        StateKind::Parallel(p) => {
            m.insert(
                "Branches".into(),
                Value::Array(p.branches.iter().map(sub).collect()),
            );
            transition(&mut m, &p.transition);
            io(&mut m, &p.io);
            template(&mut m, "Parameters", &p.parameters);
            template(&mut m, "ResultSelector", &p.result_selector);
            put(&mut m, "ResultPath", reference_value(&p.result_path));
            errors(&mut m, &p.retry, &p.catch);
            assign(&mut m, &p.assign);
            put(&mut m, "Arguments", p.arguments.clone());
            put(&mut m, "Output", p.output.clone());
        }
        StateKind::Map(map) => {
            let key = if map.legacy_iterator {
                "Iterator"
            } else {
                "ItemProcessor"
            };
            m.insert(
                key.into(),
                processor(&map.item_processor, &map.processor_config),
            );
            transition(&mut m, &map.transition);
            io(&mut m, &map.io);
            match &map.items_path {
                Some(p) if p.as_str() != "$" => {
                    m.insert("ItemsPath".into(), json!(p.as_str()));
                }
                _ => {}
            }
            put(&mut m, "Items", map.items.clone());
            let key = if map.legacy_parameters {
                "Parameters"
            } else {
                "ItemSelector"
            };
            template(&mut m, key, &map.item_selector);
            number(
                &mut m,
                "MaxConcurrency",
                "MaxConcurrencyPath",
                &map.max_concurrency,
            );
            if let Some(r) = &map.item_reader {
                let mut o = Object::new();
                o.insert("Resource".into(), json!(r.resource));
                template(&mut o, "Parameters", &r.parameters);
                put(&mut o, "Arguments", r.arguments.clone());
                put(&mut o, "ReaderConfig", r.reader_config.clone());
                m.insert("ItemReader".into(), Value::Object(o));
            }
            if let Some(b) = &map.item_batcher {
                let mut o = Object::new();
                template(&mut o, "BatchInput", &b.batch_input);
                number(
                    &mut o,
                    "MaxItemsPerBatch",
                    "MaxItemsPerBatchPath",
                    &b.max_items_per_batch,
                );
                number(
                    &mut o,
                    "MaxInputBytesPerBatch",
                    "MaxInputBytesPerBatchPath",
                    &b.max_input_bytes_per_batch,
                );
                m.insert("ItemBatcher".into(), Value::Object(o));
            }
            if let Some(w) = &map.result_writer {
                let mut o = Object::new();
                put(&mut o, "Resource", w.resource.clone());
                template(&mut o, "Parameters", &w.parameters);
                put(&mut o, "Arguments", w.arguments.clone());
                put(&mut o, "WriterConfig", w.writer_config.clone());
                m.insert("ResultWriter".into(), Value::Object(o));
            }
            number(
                &mut m,
                "ToleratedFailureCount",
                "ToleratedFailureCountPath",
                &map.tolerated_failure_count,
            );
            number(
                &mut m,
                "ToleratedFailurePercentage",
                "ToleratedFailurePercentagePath",
                &map.tolerated_failure_percentage,
            );
            put(&mut m, "Label", map.label.clone());
            template(&mut m, "ResultSelector", &map.result_selector);
            put(&mut m, "ResultPath", reference_value(&map.result_path));
            errors(&mut m, &map.retry, &map.catch);
            assign(&mut m, &map.assign);
            put(&mut m, "Output", map.output.clone());
        }
    }
    Value::Object(m)
}
