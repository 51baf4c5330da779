//! History events in the shape of AWS's `GetExecutionHistory`: the event
//! type, where an execution's events go ([`EventSink`]), and the names and
//! detail maps of every event the engine emits.

use super::live::EventObserver;
use super::Shared;
use crate::clock::Clock;
use crate::definition::StateKind;
use crate::engine::plan::{TaskFamily, TaskNames};
use crate::timestamp::format_rfc3339_millis;
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// One event of an execution history, as AWS's `GetExecutionHistory`
/// returns it: `id` (1-based), `previousEventId`, `timestamp`, `type` and
/// one `<type>EventDetails` member (payloads as JSON text).
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryEvent {
    /// 1-based, contiguous.
    pub id: u64,
    /// The event this one follows from (0 for none), as AWS links them.
    pub previous_event_id: u64,
    /// When it happened, on the execution's clock.
    pub timestamp: SystemTime,
    /// The event type, e.g. `PassStateEntered`, `TaskScheduled`.
    pub event_type: &'static str,
    /// The name of the details member, e.g. `stateEnteredEventDetails`
    /// (`None` for types without details).
    pub details_key: Option<&'static str>,
    /// The details object.
    pub details: Map<String, Value>,
}

impl HistoryEvent {
    /// The event as AWS's API returns it (`timestamp` in RFC 3339 with
    /// milliseconds).
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert(
            "timestamp".into(),
            Value::String(format_rfc3339_millis(self.timestamp)),
        );
        map.insert("type".into(), Value::from(self.event_type));
        map.insert("id".into(), Value::from(self.id));
        map.insert(
            "previousEventId".into(),
            Value::from(self.previous_event_id),
        );
        if let Some(key) = self.details_key {
            map.insert(key.into(), Value::Object(self.details.clone()));
        }
        Value::Object(map)
    }
}

impl serde::Serialize for HistoryEvent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

/// Where the events of one execution go: ids, the limit, and, when they
/// are built at all, the history and the watchers. A distributed Map child
/// has its own.
pub(crate) struct EventSink {
    count: AtomicU64,
    /// `None`: events are counted, not built (no history, not watched).
    out: Option<Box<Out>>,
}

/// What built events go to.
struct Out {
    history: Option<Mutex<Vec<HistoryEvent>>>,
    observer: Option<Arc<dyn EventObserver>>,
    /// The handle's streams (a watched execution).
    live: Option<Arc<Shared>>,
}

impl EventSink {
    pub(crate) fn new(record: bool) -> Self {
        Self::watched(record, None, None)
    }

    /// A sink that records the history when `record`, and hands every
    /// event to `observer` and to the streams of `live`.
    pub(crate) fn watched(
        record: bool,
        observer: Option<Arc<dyn EventObserver>>,
        live: Option<Arc<Shared>>,
    ) -> Self {
        let out = (record || observer.is_some() || live.is_some()).then(|| {
            Box::new(Out {
                history: record.then(|| Mutex::new(Vec::new())),
                observer,
                live,
            })
        });
        EventSink {
            count: AtomicU64::new(0),
            out,
        }
    }

    /// The sink, its ids continuing after `count` (a resumed execution).
    pub(crate) fn resumed(self, count: u64) -> Self {
        self.count.store(count, Ordering::Relaxed);
        self
    }

    fn history(&self) -> Option<&Mutex<Vec<HistoryEvent>>> {
        self.out.as_ref().and_then(|o| o.history.as_ref())
    }

    /// The events recorded since the last drain, in id order (none when
    /// the history is off).
    pub(crate) fn drain(&self) -> Vec<HistoryEvent> {
        let Some(history) = self.history() else {
            return Vec::new();
        };
        let mut events = std::mem::take(&mut *history.lock().unwrap_or_else(|e| e.into_inner()));
        events.sort_by_key(|e| e.id);
        events
    }

    pub(crate) fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// True when events are built (recorded or watched).
    pub(crate) fn recording(&self) -> bool {
        self.out.is_some()
    }

    pub(crate) fn take(self) -> Option<Vec<HistoryEvent>> {
        self.out.and_then(|o| o.history).map(|h| {
            let mut events = h.into_inner().unwrap_or_else(|e| e.into_inner());
            events.sort_by_key(|e| e.id);
            events
        })
    }

    /// Records one event; `details` is only built when the history is on
    /// or the execution is watched. Inlined: otherwise this is a counter
    /// bump at every state (one `Option` checked per event).
    #[inline]
    pub(crate) fn emit(
        &self,
        clock: &dyn Clock,
        prev: u64,
        event_type: &'static str,
        details_key: Option<&'static str>,
        details: impl FnOnce() -> Map<String, Value>,
    ) -> u64 {
        let id = bump(&self.count);
        if let Some(out) = &self.out {
            let details = if details_key.is_some() {
                details()
            } else {
                Map::new()
            };
            out.record(HistoryEvent {
                id,
                previous_event_id: prev,
                timestamp: clock.now(),
                event_type,
                details_key,
                details,
            });
        }
        id
    }
}

impl Out {
    /// Hands `event` to the observer and the streams, and appends it to
    /// the history (kept out of line: the hot path is the execution
    /// without a history).
    #[inline(never)]
    fn record(&self, event: HistoryEvent) {
        if let Some(observer) = &self.observer {
            observer.on_event(&event);
        }
        if let Some(shared) = &self.live {
            shared.live.publish(&event);
        }
        if let Some(history) = &self.history {
            history
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(event);
        }
    }
}

/// Adds one to an execution's counter and gives the new value. The futures
/// of one execution are only ever polled one at a time (all from the poll of
/// the execution's own future), so a plain load and store does what an
/// atomic read-modify-write would, without its cost on every state.
pub(crate) fn bump(counter: &AtomicU64) -> u64 {
    let n = counter.load(Ordering::Relaxed) + 1;
    counter.store(n, Ordering::Relaxed);
    n
}

/// JSON text, as AWS puts payloads in events.
pub(crate) fn text(v: &Value) -> Value {
    Value::String(serde_json::to_string(v).unwrap_or_default())
}

pub(crate) fn details(
    pairs: impl IntoIterator<Item = (&'static str, Value)>,
) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

pub(crate) fn not_truncated() -> Value {
    json!({"truncated": false})
}

/// `{"error"?, "cause"?}`: the details of a failed, timed-out or aborted
/// execution.
pub(crate) fn error_details(error: Option<&str>, cause: Option<&str>) -> Map<String, Value> {
    let mut d = Map::new();
    if let Some(e) = error {
        d.insert("error".into(), Value::from(e));
    }
    if let Some(c) = cause {
        d.insert("cause".into(), Value::from(c));
    }
    d
}

/// `{"<key>": <payload as text>, "<key>Details": {"truncated": false}}`.
pub(crate) fn payload_details(key: &'static str, value: &Value) -> Map<String, Value> {
    let mut d = Map::new();
    d.insert(key.into(), text(value));
    let details_key = match key {
        "input" => "inputDetails",
        _ => "outputDetails",
    };
    d.insert(details_key.into(), not_truncated());
    d
}

pub(crate) fn entered_type(kind: &StateKind) -> &'static str {
    match kind {
        StateKind::Pass(_) => "PassStateEntered",
        StateKind::Task(_) => "TaskStateEntered",
        StateKind::Choice(_) => "ChoiceStateEntered",
        StateKind::Wait(_) => "WaitStateEntered",
        StateKind::Succeed(_) => "SucceedStateEntered",
        StateKind::Fail(_) => "FailStateEntered",
        StateKind::Parallel(_) => "ParallelStateEntered",
        StateKind::Map(_) => "MapStateEntered",
    }
}

pub(crate) fn exited_type(kind: &StateKind) -> &'static str {
    match kind {
        StateKind::Pass(_) => "PassStateExited",
        StateKind::Task(_) => "TaskStateExited",
        StateKind::Choice(_) => "ChoiceStateExited",
        StateKind::Wait(_) => "WaitStateExited",
        StateKind::Succeed(_) => "SucceedStateExited",
        StateKind::Fail(_) => "FailStateExited",
        StateKind::Parallel(_) => "ParallelStateExited",
        StateKind::Map(_) => "MapStateExited",
    }
}

/// The kind of state a line of states is in, for the `...StateAborted`
/// events of a cancelled sibling.
pub(crate) const KIND_NONE: u8 = 0;
pub(crate) const KIND_TASK: u8 = 1;
pub(crate) const KIND_WAIT: u8 = 2;
pub(crate) const KIND_OTHER: u8 = 3;

/// The `...StateAborted` event of a cancelled state of `kind`, if it has one.
pub(crate) fn aborted_type(kind: u8) -> Option<&'static str> {
    match kind {
        KIND_TASK => Some("TaskStateAborted"),
        KIND_WAIT => Some("WaitStateAborted"),
        _ => None,
    }
}

/// One step of a task's life, as its events name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TaskStep {
    Scheduled,
    Started,
    Submitted,
    Succeeded,
    Failed,
    TimedOut,
}

/// The events of a task of one family: Lambda (`LambdaFunction...`),
/// activity (`Activity...`) or service integration (`Task...`), with the
/// resource pair service integrations add to every detail map.
pub(crate) struct TaskEvents<'n> {
    pub names: &'n TaskNames,
}

impl TaskEvents<'_> {
    pub(crate) fn lambda(&self) -> bool {
        self.names.family == TaskFamily::Lambda
    }

    pub(crate) fn activity(&self) -> bool {
        self.names.family == TaskFamily::Activity
    }

    /// The event type of `step`.
    pub(crate) fn event_type(&self, step: TaskStep) -> &'static str {
        use TaskStep::*;
        match (self.names.family, step) {
            (TaskFamily::Lambda, Scheduled) => "LambdaFunctionScheduled",
            (TaskFamily::Lambda, Started) => "LambdaFunctionStarted",
            (TaskFamily::Lambda, Succeeded) => "LambdaFunctionSucceeded",
            (TaskFamily::Lambda, Failed) => "LambdaFunctionFailed",
            (TaskFamily::Lambda, TimedOut) => "LambdaFunctionTimedOut",
            (TaskFamily::Activity, Scheduled) => "ActivityScheduled",
            (TaskFamily::Activity, Started) => "ActivityStarted",
            (TaskFamily::Activity, Succeeded) => "ActivitySucceeded",
            (TaskFamily::Activity, Failed) => "ActivityFailed",
            (TaskFamily::Activity, TimedOut) => "ActivityTimedOut",
            (_, Scheduled) => "TaskScheduled",
            (_, Started) => "TaskStarted",
            (_, Submitted) => "TaskSubmitted",
            (_, Succeeded) => "TaskSucceeded",
            (_, Failed) => "TaskFailed",
            (_, TimedOut) => "TaskTimedOut",
        }
    }

    /// The details key of `step` (`None`: a Lambda's start has none).
    pub(crate) fn details_key(&self, step: TaskStep) -> Option<&'static str> {
        use TaskStep::*;
        Some(match (self.names.family, step) {
            (TaskFamily::Lambda, Scheduled) => "lambdaFunctionScheduledEventDetails",
            (TaskFamily::Lambda, Started) => return None,
            (TaskFamily::Lambda, Succeeded) => "lambdaFunctionSucceededEventDetails",
            (TaskFamily::Lambda, Failed) => "lambdaFunctionFailedEventDetails",
            (TaskFamily::Lambda, TimedOut) => "lambdaFunctionTimedOutEventDetails",
            (TaskFamily::Activity, Scheduled) => "activityScheduledEventDetails",
            (TaskFamily::Activity, Started) => "activityStartedEventDetails",
            (TaskFamily::Activity, Succeeded) => "activitySucceededEventDetails",
            (TaskFamily::Activity, Failed) => "activityFailedEventDetails",
            (TaskFamily::Activity, TimedOut) => "activityTimedOutEventDetails",
            (_, Scheduled) => "taskScheduledEventDetails",
            (_, Started) => "taskStartedEventDetails",
            (_, Submitted) => "taskSubmittedEventDetails",
            (_, Succeeded) => "taskSucceededEventDetails",
            (_, Failed) => "taskFailedEventDetails",
            (_, TimedOut) => "taskTimedOutEventDetails",
        })
    }

    /// A detail map starting with `resourceType` and `resource` (service
    /// integrations only).
    pub(crate) fn base(&self) -> Map<String, Value> {
        let mut d = Map::new();
        if !self.lambda() && !self.activity() {
            d.insert(
                "resourceType".into(),
                Value::from(self.names.resource_type.as_str()),
            );
            d.insert("resource".into(), Value::from(self.names.resource.as_str()));
        }
        d
    }

    /// The details of `...Started`.
    pub(crate) fn started(&self) -> Map<String, Value> {
        if self.activity() {
            details([("workerName", Value::from("stepfn"))])
        } else {
            self.base()
        }
    }

    /// The details of `...Succeeded` and `TaskSubmitted` (`output` as text).
    pub(crate) fn output(&self, output: Value) -> Map<String, Value> {
        let mut d = self.base();
        d.insert("output".into(), output);
        d.insert("outputDetails".into(), not_truncated());
        d
    }

    /// The details of `...Failed` and `...TimedOut`.
    pub(crate) fn error(&self, error: &str, cause: Option<&str>) -> Map<String, Value> {
        let mut d = self.base();
        if !error.is_empty() {
            d.insert("error".into(), Value::from(error));
        }
        if let Some(c) = cause {
            d.insert("cause".into(), Value::from(c));
        }
        d
    }
}

/// The call of one task attempt as `...Scheduled` records it.
pub(crate) struct Scheduled<'a> {
    pub resource_arn: &'a str,
    pub parameters: &'a Value,
    pub timeout: Option<u64>,
    pub heartbeat: Option<u64>,
    pub role: Option<&'a str>,
}

impl TaskEvents<'_> {
    /// The details of `...Scheduled`.
    pub(crate) fn scheduled(&self, call: &Scheduled<'_>, region: &str) -> Map<String, Value> {
        let mut d = self.base();
        if self.lambda() || self.activity() {
            d.insert("resource".into(), Value::from(call.resource_arn));
            d.insert("input".into(), text(call.parameters));
            d.insert("inputDetails".into(), not_truncated());
        } else {
            d.insert("region".into(), Value::from(region));
            d.insert("parameters".into(), text(call.parameters));
        }
        if let Some(t) = call.timeout {
            d.insert("timeoutInSeconds".into(), Value::from(t));
        }
        if let Some(h) = call.heartbeat {
            if !self.lambda() {
                d.insert("heartbeatInSeconds".into(), Value::from(h));
            }
        }
        if let Some(role) = call.role {
            d.insert("taskCredentials".into(), json!({ "roleArn": role }));
        }
        d
    }
}
