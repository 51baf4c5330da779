//! Feature `tracing`: the spans and events a run gives an embedder's
//! subscriber, seen by a tiny in-test subscriber.
#![cfg(feature = "tracing")]

mod common;

use serde_json::json;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use stepfn::{sync_task_fn, ExecutionIdentity, StatesError, TaskRequest};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use tracing_core::span::Current;

/// Fields as `k=v k=v`.
#[derive(Default)]
struct Fields(String);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={value}", field.name());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
}

struct SpanRec {
    metadata: &'static Metadata<'static>,
    /// Fields in the order they were set (a field recorded again is
    /// replaced by its new value).
    fields: Vec<(String, String)>,
    parent: Option<u64>,
}

#[derive(Default)]
struct Log {
    next: u64,
    spans: HashMap<u64, SpanRec>,
    stack: Vec<u64>,
    events: Vec<String>,
}

/// Records spans and events (one thread: the stack is the current span).
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Log>>);

fn set_fields(into: &mut Vec<(String, String)>, text: &str) {
    for pair in text.split(' ').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap();
        match into.iter_mut().find(|(key, _)| key == k) {
            Some(slot) => slot.1 = v.to_owned(),
            None => into.push((k.to_owned(), v.to_owned())),
        }
    }
}

impl Log {
    fn describe(&self, id: u64) -> String {
        let span = &self.spans[&id];
        let fields: Vec<String> = span
            .fields
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        format!("{}{{{}}}", span.metadata.name(), fields.join(" "))
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let mut log = self.0.lock().unwrap();
        log.next += 1;
        let id = log.next;
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let parent = match attrs.parent() {
            Some(p) => Some(p.into_u64()),
            None if attrs.is_contextual() => log.stack.last().copied(),
            None => None,
        };
        let mut rec = SpanRec {
            metadata: attrs.metadata(),
            fields: Vec::new(),
            parent,
        };
        set_fields(&mut rec.fields, &fields.0);
        log.spans.insert(id, rec);
        Id::from_u64(id)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut fields = Fields::default();
        values.record(&mut fields);
        let mut log = self.0.lock().unwrap();
        if let Some(rec) = log.spans.get_mut(&span.into_u64()) {
            set_fields(&mut rec.fields, &fields.0);
        }
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut log = self.0.lock().unwrap();
        let within = log
            .stack
            .last()
            .map(|&id| log.describe(id))
            .unwrap_or_default();
        let line = format!("{}{} in {within}", event.metadata().name(), fields.0);
        log.events.push(line);
    }

    fn enter(&self, span: &Id) {
        self.0.lock().unwrap().stack.push(span.into_u64());
    }

    fn exit(&self, span: &Id) {
        let mut log = self.0.lock().unwrap();
        if let Some(at) = log.stack.iter().rposition(|&s| s == span.into_u64()) {
            log.stack.remove(at);
        }
    }

    fn current_span(&self) -> Current {
        let log = self.0.lock().unwrap();
        match log.stack.last() {
            Some(&id) => Current::new(Id::from_u64(id), log.spans[&id].metadata),
            None => Current::none(),
        }
    }
}

#[test]
fn a_run_shows_its_execution_states_task_calls_retry_and_catch() {
    let machine = common::machine(json!({
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Retry": [{"ErrorEquals": ["Boom"], "MaxAttempts": 1, "IntervalSeconds": 2}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handled"}],
                "End": true
            },
            "Handled": {"Type": "Pass", "End": true}
        }
    }));
    let executor =
        sync_task_fn(|_: TaskRequest<'_>| Err(StatesError::new("Boom", "it always fails")));
    let mut identity = ExecutionIdentity::new();
    identity.execution_name = Some("run-1".into());
    identity.execution_arn = Some("arn:aws:states:us-east-1:1:execution:M:run-1".into());
    let recorder = Recorder::default();
    let outcome = tracing::subscriber::with_default(recorder.clone(), || {
        let execution = machine
            .execution()
            .with_virtual_time()
            .with_identity(identity);
        futures::executor::block_on(execution.run(&executor, json!({})))
    });
    assert!(outcome.is_success());
    let log = recorder.0.lock().unwrap();
    let mut ids: Vec<u64> = log.spans.keys().copied().collect();
    ids.sort_unstable();
    let spans: Vec<String> = ids
        .iter()
        .map(|&id| {
            let parent = log.spans[&id]
                .parent
                .map(|p| log.describe(p))
                .unwrap_or_default();
            format!("{} < {parent}", log.describe(id))
        })
        .collect();
    let execution = "execution{name=run-1 arn=arn:aws:states:us-east-1:1:execution:M:run-1}";
    assert_eq!(
        spans,
        [
            format!("{execution} < "),
            format!("state{{name=Call type=Task attempt=2}} < {execution}"),
            format!("state{{name=Handled type=Pass attempt=1}} < {execution}"),
        ]
    );
    // the span's attempt is recorded when the retry starts
    let (first, call) = (
        "state{name=Call type=Task attempt=1}",
        "state{name=Call type=Task attempt=2}",
    );
    assert_eq!(
        log.events,
        [
            format!("task_call resource=arn:aws:states:::lambda:invoke attempt=1 in {first}"),
            format!("retry error=Boom attempt=2 delay_ms=2000 in {call}"),
            format!("task_call resource=arn:aws:states:::lambda:invoke attempt=2 in {call}"),
            format!("catch error=Boom next=Handled in {call}"),
        ]
    );
}

/// The spans of a run of `definition` as `name{fields} < parent`.
fn spans_of(definition: serde_json::Value, input: serde_json::Value) -> Vec<String> {
    let machine = common::machine(definition);
    let executor = sync_task_fn(|r: TaskRequest<'_>| Ok(r.parameters));
    let recorder = Recorder::default();
    tracing::subscriber::with_default(recorder.clone(), || {
        futures::executor::block_on(machine.execution().run(&executor, input))
    });
    let log = recorder.0.lock().unwrap();
    let mut ids: Vec<u64> = log.spans.keys().copied().collect();
    ids.sort_unstable();
    ids.iter()
        .map(|&id| {
            let parent = log.spans[&id]
                .parent
                .map(|p| log.describe(p))
                .unwrap_or_default();
            format!("{} < {parent}", log.describe(id))
        })
        .collect()
}

#[test]
fn the_states_of_map_iterations_and_parallel_branches_nest_in_their_state() {
    let spans = spans_of(
        json!({"StartAt": "Par", "States": {"Par": {"Type": "Parallel", "End": true, "Branches": [
            {"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
                "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}}}}
        ]}}}),
        json!([1, 2]),
    );
    let (par, map) = (
        "state{name=Par type=Parallel attempt=1}",
        "state{name=M type=Map attempt=1}",
    );
    assert_eq!(spans.len(), 5, "{spans:?}");
    assert!(spans[0].starts_with("execution{name="), "{spans:?}");
    assert!(spans[1].starts_with(&format!("{par} < execution{{name=")));
    assert_eq!(
        spans[2..],
        [
            format!("{map} < {par}"),
            format!("state{{name=I type=Pass attempt=1}} < {map}"),
            format!("state{{name=I type=Pass attempt=1}} < {map}"),
        ]
    );
}
