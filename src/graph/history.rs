//! What a history says about each state: passed, caught, failed.
//!
//! Events are read as AWS links them: each names the event it follows
//! from (`previousEventId`), so the events of one state's visit (its
//! entry) lead back to its `...StateEntered` event, through the events of
//! the states nested inside it, even when Parallel branches and Map
//! iterations interleave. State names are unique in a definition, nested
//! ones included, so a name is a state.
//!
//! * A `Task*`, `LambdaFunction*` or `Activity*` event belongs to the
//!   nearest Task entry it leads back to; `ParallelState*` and `MapState*`
//!   / `MapRun*` events to the nearest Parallel or Map entry not yet ended
//!   (an inner one ended with its own `...Succeeded`/`...Failed`/
//!   `...Aborted`); `WaitStateAborted` to its Wait entry.
//! * An entry whose last outcome (`...Succeeded`, `...Failed`,
//!   `...TimedOut`) is a failure was *caught* when the state exited (a
//!   catcher took over; AWS writes the exit), else it *failed*.
//! * An entry a failure leads back to directly (`ExecutionFailed`,
//!   `ExecutionTimedOut`, `ParallelStateFailed`, `MapStateFailed`,
//!   `MapIterationFailed` following a Pass, Choice, Wait or Fail state that
//!   never exited) *failed*, and so does every Fail state entered, and
//!   every Parallel or Map still running around the state where the
//!   execution failed or timed out.
//! * Any other entry *passed* (states still running, or aborted because a
//!   sibling failed, included).
//!
//! A state visited many times (a loop, the iterations of a Map) takes the
//! worst mark of its visits: failed, then caught, then passed.

use crate::engine::HistoryEvent;
use crate::error::{Error, ErrorKind};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What an execution did at a state, from the mildest to the worst.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mark {
    /// The execution entered the state and did not fail there.
    Passed,
    /// The state failed and one of its catchers took over.
    Caught,
    /// The state failed, uncaught.
    Failed,
}

impl Mark {
    /// `"passed"`, `"caught"` or `"failed"` (the Mermaid class names).
    pub fn as_str(self) -> &'static str {
        match self {
            Mark::Passed => "passed",
            Mark::Caught => "caught",
            Mark::Failed => "failed",
        }
    }
}

/// The [`Mark`] of every state an execution entered, by state name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Marks {
    states: BTreeMap<String, Mark>,
    /// (from, to): a state exited and the next one entered right after it.
    transitions: BTreeSet<(String, String)>,
}

/// How many steps back along `previousEventId` links one history may take
/// in all; past it events are left unattributed (bounded time on hostile
/// histories).
const MAX_WALK: usize = 4_000_000;

impl Marks {
    /// No marks.
    pub fn new() -> Marks {
        Marks::default()
    }

    /// The marks of a recorded history ([`Outcome::history`](crate::Outcome::history)).
    pub fn from_history(events: &[HistoryEvent]) -> Marks {
        fn name(e: &HistoryEvent) -> Option<&str> {
            match e.details_key {
                Some("stateEnteredEventDetails" | "stateExitedEventDetails") => {
                    e.details.get("name").and_then(Value::as_str)
                }
                _ => None,
            }
        }
        Marks::from_read(
            events
                .iter()
                .map(|e| Event {
                    id: e.id,
                    prev: e.previous_event_id,
                    kind: e.event_type,
                    name: name(e),
                })
                .collect(),
        )
    }

    /// The marks of history events as AWS's `GetExecutionHistory` writes
    /// them (`id`, `previousEventId`, `type`, `stateEnteredEventDetails`,
    /// ...), in any order. Values that are not such events are skipped.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Value>) -> Marks {
        Marks::from_read(events.into_iter().filter_map(Event::read).collect())
    }

    /// The marks of a history document: a JSON array of events, an object
    /// with `events` (AWS's `get-execution-history`, `stepfn history`) or
    /// with `history` (`stepfn run --history`).
    pub fn from_json(document: &Value) -> Result<Marks, Error> {
        let events = match document {
            Value::Array(events) => events,
            Value::Object(object) => match object.get("events").or_else(|| object.get("history")) {
                Some(Value::Array(events)) => events,
                _ => {
                    return Err(Error::new(
                        ErrorKind::InvalidInput,
                        "a history is a JSON array of events, or an object with an `events` or `history` array",
                    ))
                }
            },
            _ => {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    "a history is a JSON array of events, or an object with an `events` or `history` array",
                ))
            }
        };
        Ok(Marks::from_events(events))
    }

    /// The mark of the state named `state`, if the execution entered it.
    pub fn get(&self, state: &str) -> Option<Mark> {
        self.states.get(state).copied()
    }

    /// Marks `state` (keeping the worse mark when it has one already).
    pub fn insert(&mut self, state: impl Into<String>, mark: Mark) {
        let slot = self.states.entry(state.into()).or_insert(mark);
        *slot = (*slot).max(mark);
    }

    /// True when the execution went from the state `from` to the state
    /// `to` (`to` entered right after `from` exited: a `Next`, a Choice
    /// rule or `Default`, a catcher).
    pub fn took(&self, from: &str, to: &str) -> bool {
        self.transitions.contains(&(from.to_owned(), to.to_owned()))
    }

    /// Records that the execution went from `from` to `to`.
    pub fn insert_transition(&mut self, from: impl Into<String>, to: impl Into<String>) {
        self.transitions.insert((from.into(), to.into()));
    }

    /// Every marked state with its mark, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Mark)> {
        self.states
            .iter()
            .map(|(name, mark)| (name.as_str(), *mark))
    }

    /// True when no state is marked.
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    fn from_read(mut events: Vec<Event<'_>>) -> Marks {
        events.sort_by_key(|e| e.id);
        events.dedup_by_key(|e| e.id);
        let position: HashMap<u64, usize> =
            events.iter().enumerate().map(|(i, e)| (e.id, i)).collect();
        let mut entries: Vec<Entry<'_>> = Vec::new();
        // the nearest entry each event leads back to
        let mut nearest: Vec<Option<usize>> = Vec::with_capacity(events.len());
        let mut budget = MAX_WALK;
        let mut transitions = BTreeSet::new();
        for event in &events {
            // a link forward (or to itself) would not be a history; ignore it
            let prev = (event.prev < event.id)
                .then(|| position.get(&event.prev))
                .flatten()
                .and_then(|&p| nearest.get(p).copied().flatten());
            if let Some(family) = event.kind.strip_suffix("StateEntered") {
                let exit = (event.prev < event.id)
                    .then(|| position.get(&event.prev))
                    .flatten()
                    .and_then(|&p| events.get(p))
                    .filter(|p| p.kind.ends_with("StateExited"));
                if let (Some(from), Some(to)) = (exit.and_then(|e| e.name), event.name) {
                    transitions.insert((from, to));
                }
                nearest.push(Some(entries.len()));
                entries.push(Entry {
                    name: event.name.unwrap_or(""),
                    family,
                    parent: prev,
                    exited: false,
                    ended: false,
                    last_failed: false,
                    failure_led_here: false,
                });
                continue;
            }
            nearest.push(prev);
            let kind = event.kind;
            if kind.ends_with("StateExited") {
                let name = event.name.unwrap_or("");
                if let Some(e) = find(&entries, prev, &mut budget, |e| e.name == name && !e.exited)
                {
                    entries[e].exited = true;
                    entries[e].ended = true;
                }
                continue;
            }
            if matches!(
                kind,
                "ExecutionFailed"
                    | "ExecutionTimedOut"
                    | "ParallelStateFailed"
                    | "MapStateFailed"
                    | "MapIterationFailed"
            ) {
                if let Some(e) = prev {
                    entries[e].failure_led_here = true;
                }
            }
            if matches!(kind, "ExecutionFailed" | "ExecutionTimedOut") {
                // the execution ended inside every Parallel and Map still open
                // around where it failed (AWS writes no ...StateFailed for
                // them when the error ends the execution at once)
                let mut at = prev;
                while let Some(e) = find(&entries, at, &mut budget, |e| {
                    matches!(e.family, "Parallel" | "Map") && !e.ended
                }) {
                    entries[e].failure_led_here = true;
                    entries[e].ended = true;
                    at = entries[e].parent;
                }
            }
            let Some(family) = family_of(kind) else {
                continue;
            };
            let Some(e) = find(&entries, prev, &mut budget, |e| {
                e.family == family && !e.ended
            }) else {
                continue;
            };
            let entry = &mut entries[e];
            if kind.ends_with("Failed") || kind.ends_with("TimedOut") {
                entry.last_failed = true;
            } else if kind.ends_with("Succeeded") {
                entry.last_failed = false;
            }
            if matches!(family, "Parallel" | "Map")
                && kind.starts_with(family)
                && kind.contains("State")
                && (kind.ends_with("Succeeded")
                    || kind.ends_with("Failed")
                    || kind.ends_with("Aborted"))
            {
                entry.ended = true;
            }
        }
        marks_of(&entries, transitions)
    }
}

/// The state family a (non-entered) event of type `kind` belongs to:
/// `None` for the events that do not mark a state.
fn family_of(kind: &str) -> Option<&'static str> {
    if kind.starts_with("Task")
        || kind.starts_with("LambdaFunction")
        || kind.starts_with("Activity")
    {
        Some("Task")
    } else if kind.starts_with("ParallelState") {
        Some("Parallel")
    } else if kind.starts_with("MapState") || kind.starts_with("MapRun") {
        Some("Map")
    } else if kind == "WaitStateAborted" {
        Some("Wait")
    } else {
        None
    }
}

/// The marks of the states entered (`entries`) and the transitions taken.
fn marks_of<'e>(entries: &[Entry<'e>], transitions: BTreeSet<(&'e str, &'e str)>) -> Marks {
    let mut marks = Marks::new();
    for (from, to) in transitions {
        marks.insert_transition(from, to);
    }
    for entry in entries {
        let mark = if entry.exited {
            if entry.last_failed {
                Mark::Caught
            } else {
                Mark::Passed
            }
        } else if entry.last_failed || entry.failure_led_here || entry.family == "Fail" {
            Mark::Failed
        } else {
            Mark::Passed
        };
        if !entry.name.is_empty() {
            marks.insert(entry.name, mark);
        }
    }
    marks
}

/// One event, as much of it as the marks need.
struct Event<'a> {
    id: u64,
    prev: u64,
    kind: &'a str,
    /// The state name of a `...StateEntered` or `...StateExited` event.
    name: Option<&'a str>,
}

impl<'a> Event<'a> {
    fn read(value: &'a Value) -> Option<Event<'a>> {
        let name = ["stateEnteredEventDetails", "stateExitedEventDetails"]
            .iter()
            .find_map(|key| value.get(key)?.get("name")?.as_str());
        Some(Event {
            id: value.get("id")?.as_u64()?,
            prev: value
                .get("previousEventId")
                .and_then(Value::as_u64)
                .unwrap_or(0),
            kind: value.get("type")?.as_str()?,
            name,
        })
    }
}

/// One visit of a state.
struct Entry<'a> {
    name: &'a str,
    /// The state type, from the event type (`Task` of `TaskStateEntered`).
    family: &'a str,
    /// The entry the `...StateEntered` event leads back to.
    parent: Option<usize>,
    exited: bool,
    /// Exited, or a Parallel or Map whose own outcome is written: later
    /// events of the same family belong to an enclosing entry.
    ended: bool,
    /// The last outcome of the state's work was a failure.
    last_failed: bool,
    /// A failure event follows directly from this entry.
    failure_led_here: bool,
}

/// The first entry from `from` back along the parents that `wanted`
/// accepts, within the walking budget.
fn find(
    entries: &[Entry<'_>],
    from: Option<usize>,
    budget: &mut usize,
    wanted: impl Fn(&Entry<'_>) -> bool,
) -> Option<usize> {
    let mut at = from;
    while let Some(i) = at {
        if *budget == 0 {
            return None;
        }
        *budget -= 1;
        let entry = entries.get(i)?;
        if wanted(entry) {
            return Some(i);
        }
        // parents come earlier: the walk ends
        at = entry.parent.filter(|&p| p < i);
    }
    None
}
