//! History events in the shape of AWS's `GetExecutionHistory`.

use crate::timestamp::format_rfc3339_millis;
use serde_json::{Map, Value};
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
