//! Helpers for the durable-store tests: instants, ARNs, new executions,
//! events.

use serde_json::{json, Map, Value};
use std::time::{Duration, SystemTime};
use stepfn::durable::{Claim, ExecutionStore, NewExecution, StoredEvent, Transition};

/// The state machine the tests' executions belong to.
pub const MACHINE: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:M";

/// A one-state definition.
pub const DEFINITION: &str = r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#;

/// `secs` seconds after a fixed instant (2023-11-14T22:13:20Z).
pub fn t(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
}

/// The ARN of execution `name` of [`MACHINE`].
pub fn arn(name: &str) -> String {
    format!("arn:aws:states:us-east-1:123456789012:execution:M:{name}")
}

/// An event of type `event_type` with one detail.
pub fn event(id: u64, previous: u64, event_type: &str) -> StoredEvent {
    let mut details = Map::new();
    details.insert("n".into(), json!(id));
    StoredEvent {
        id,
        previous_event_id: previous,
        timestamp: t(id),
        event_type: event_type.into(),
        details_key: Some("someEventDetails".into()),
        details,
    }
}

/// Execution `name` of [`MACHINE`] with `input`, started and due at
/// `t(start)`, with its `ExecutionStarted` event (id 1).
pub fn new_execution(name: &str, input: &str, start: u64) -> NewExecution {
    NewExecution {
        execution_arn: arn(name),
        state_machine_arn: MACHINE.into(),
        name: name.into(),
        definition: DEFINITION.into(),
        input: input.into(),
        start_date: t(start),
        frames: vec![],
        events: vec![event(1, 0, "ExecutionStarted")],
        run_at: Some(t(start)),
    }
}

/// A transition that writes only its events (and keeps the execution due
/// at `t(0)`).
pub fn events(events: Vec<StoredEvent>) -> Transition {
    Transition {
        events,
        run_at: Some(t(0)),
        ..Transition::default()
    }
}

/// The ids of events.
pub fn ids(events: &[StoredEvent]) -> Vec<u64> {
    events.iter().map(|e| e.id).collect()
}

/// Claims the one execution due at `t(at)` for `worker` with a 30-second
/// lease.
pub async fn claim_one(store: &dyn ExecutionStore, worker: &str, at: u64) -> Claim {
    let mut claims = store
        .claim(worker, t(at), Duration::from_secs(30), 10)
        .await
        .expect("claim");
    assert_eq!(claims.len(), 1, "one execution due at t({at})");
    claims.remove(0)
}

/// The JSON of a frame snapshot.
pub fn frame(path: &str, data: Value) -> stepfn::durable::Frame {
    stepfn::durable::Frame {
        path: path.into(),
        data,
    }
}
