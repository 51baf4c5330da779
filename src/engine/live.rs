//! Watching an execution while it runs: an [`EventObserver`] given to the
//! builder, an [`EventStream`] of history events from the
//! [`ExecutionHandle`](super::ExecutionHandle), and the states in flight
//! ([`StateInFlight`]).
//!
//! An execution is *watched* when, as it starts, it has an observer
//! ([`Execution::with_observer`](super::Execution::with_observer)) or a
//! stream made from its handle. Only a watched execution builds the events
//! it does not record and keeps track of the states in flight; one that is
//! not pays one `Option` check per event and per state entered.

use super::{HistoryEvent, Status};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker};

/// Sees every history event of an execution as it happens, synchronously,
/// from inside the engine (it should be quick, and must not block): the
/// same events, with the same ids and in the same order, as
/// [`Outcome::history`](super::Outcome::history) holds at the end.
///
/// Any `Fn(&HistoryEvent) + Send + Sync` closure is one. The observer is
/// called on the thread that polls the execution, never twice at once for
/// one execution. A panic in it unwinds through the run (the engine does
/// not catch it, as it catches a task executor's).
pub trait EventObserver: Send + Sync {
    /// Called once per event, in id order.
    fn on_event(&self, event: &HistoryEvent);
}

impl<F> EventObserver for F
where
    F: Fn(&HistoryEvent) + Send + Sync,
{
    fn on_event(&self, event: &HistoryEvent) {
        self(event)
    }
}

/// Where a state in flight runs: the iteration of a Map or the branch of a
/// Parallel, one level of [`StateInFlight::path`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Place {
    /// Iteration `index` (0-based, the item's index) of the Map state
    /// `state`.
    Iteration {
        /// The Map state's name.
        state: String,
        /// The item's index.
        index: usize,
    },
    /// Branch `index` (0-based, as the definition lists them) of the
    /// Parallel state `state`.
    Branch {
        /// The Parallel state's name.
        state: String,
        /// The branch's index.
        index: usize,
    },
}

/// A state an execution is in now, as
/// [`ExecutionHandle::states_in_flight`](super::ExecutionHandle::states_in_flight)
/// reports it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StateInFlight {
    /// The state's name.
    pub name: String,
    /// Its `Type`: `Task`, `Pass`, `Choice`, `Wait`, `Succeed`, `Fail`,
    /// `Parallel` or `Map`.
    pub state_type: &'static str,
    /// The Map iterations and Parallel branches it runs in, outermost
    /// first (empty at the top level).
    pub path: Vec<Place>,
}

/// What an execution shares with its handles about being watched.
#[derive(Default)]
pub(crate) struct Live {
    /// Set when a watched execution starts: its events are published.
    watched: AtomicBool,
    /// A stream was made: the execution starts watched (one atomic load
    /// at the start of every run, not a lock).
    streams_made: AtomicBool,
    /// How it ended.
    status: OnceLock<Status>,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// The queue of each open stream, by stream id.
    streams: HashMap<u64, Queue>,
    next_stream: u64,
    /// The lines of states running (top level, branches, iterations), by
    /// line id (given in the order they start).
    lines: HashMap<u32, Line>,
    next_line: u32,
    /// The execution ended: streams end once drained.
    ended: bool,
}

#[derive(Default)]
struct Queue {
    events: VecDeque<HistoryEvent>,
    waker: Option<Waker>,
}

/// One line of states of a watched execution.
struct Line {
    /// The line it was started from, and where in it.
    parent: Option<(u32, PlaceKind, usize)>,
    /// The state it is in: name and type.
    state: Option<(String, &'static str)>,
}

/// A branch or an iteration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PlaceKind {
    Iteration,
    Branch,
}

impl Live {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// True when some stream was made before the start.
    pub(crate) fn has_streams(&self) -> bool {
        self.streams_made.load(Ordering::SeqCst)
    }

    /// The execution starts watched: events and lines are published.
    pub(crate) fn start_watching(&self) {
        self.watched.store(true, Ordering::SeqCst);
    }

    /// Hands `event` to every open stream.
    pub(crate) fn publish(&self, event: &HistoryEvent) {
        let mut inner = self.lock();
        for queue in inner.streams.values_mut() {
            queue.events.push_back(event.clone());
            if let Some(w) = queue.waker.take() {
                w.wake();
            }
        }
    }

    /// The execution ended as `status`: streams end once drained, nothing
    /// is in flight.
    pub(crate) fn end(&self, status: Status) {
        let _ = self.status.set(status);
        self.close();
    }

    /// Streams end once drained, nothing is in flight (also when the run's
    /// future is dropped before its end: the status then stays `None`).
    pub(crate) fn close(&self) {
        let mut inner = self.lock();
        inner.ended = true;
        inner.lines.clear();
        for queue in inner.streams.values_mut() {
            if let Some(w) = queue.waker.take() {
                w.wake();
            }
        }
    }

    pub(crate) fn status(&self) -> Option<Status> {
        self.status.get().copied()
    }

    /// Starts a line of states: the top level (`parent` `None`), or a
    /// branch or iteration started from line `parent`. `None` when the
    /// execution is not watched.
    pub(crate) fn open_line(&self, parent: Option<(u32, PlaceKind, usize)>) -> Option<u32> {
        if !self.watched.load(Ordering::Relaxed) {
            return None;
        }
        let mut inner = self.lock();
        if inner.ended {
            return None;
        }
        let id = inner.next_line;
        inner.next_line = id.wrapping_add(1);
        inner.lines.insert(
            id,
            Line {
                parent,
                state: None,
            },
        );
        Some(id)
    }

    /// Line `line` entered state `name` of type `state_type`.
    pub(crate) fn enter(&self, line: u32, name: &str, state_type: &'static str) {
        if let Some(l) = self.lock().lines.get_mut(&line) {
            l.state = Some((name.to_owned(), state_type));
        }
    }

    /// Line `line` ended (or was dropped).
    pub(crate) fn close_line(&self, line: u32) {
        self.lock().lines.remove(&line);
    }

    fn in_flight(&self) -> Vec<StateInFlight> {
        let inner = self.lock();
        let mut ids: Vec<u32> = inner.lines.keys().copied().collect();
        ids.sort_unstable();
        let parents: std::collections::HashSet<u32> = inner
            .lines
            .values()
            .filter_map(|l| l.parent.map(|p| p.0))
            .collect();
        let mut states = Vec::new();
        for id in ids {
            let Some(line) = inner.lines.get(&id) else {
                continue;
            };
            let Some((name, state_type)) = &line.state else {
                continue;
            };
            // a Map or Parallel state whose iterations or branches run is
            // reported through them, not on its own
            if parents.contains(&id) {
                continue;
            }
            let mut path = Vec::new();
            let mut parent = line.parent;
            // lines form a tree: a parent always started before its child
            while let Some((pid, kind, index)) = parent {
                let Some(p) = inner.lines.get(&pid) else {
                    break;
                };
                let state = p.state.as_ref().map(|s| s.0.clone()).unwrap_or_default();
                path.push(match kind {
                    PlaceKind::Iteration => Place::Iteration { state, index },
                    PlaceKind::Branch => Place::Branch { state, index },
                });
                parent = p.parent;
            }
            path.reverse();
            states.push(StateInFlight {
                name: name.clone(),
                state_type,
                path,
            });
        }
        states
    }

    fn subscribe(&self) -> u64 {
        self.streams_made.store(true, Ordering::SeqCst);
        let mut inner = self.lock();
        let id = inner.next_stream;
        inner.next_stream += 1;
        inner.streams.insert(id, Queue::default());
        id
    }
}

/// Closes the streams of an execution whose run ends or is dropped.
pub(crate) struct CloseOnDrop<'a>(pub &'a Live);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// Closes a line of a watched execution when the line ends or is dropped.
pub(crate) struct LineGuard<'x> {
    pub live: &'x Live,
    pub line: u32,
}

impl<'x> LineGuard<'x> {
    /// The line of branch or iteration `index` started from this one
    /// (`None` once the execution's watch has ended).
    #[cold]
    pub(crate) fn child(&self, kind: PlaceKind, index: usize) -> Option<LineGuard<'x>> {
        let live = self.live;
        (live.open_line(Some((self.line, kind, index)))).map(|line| LineGuard { live, line })
    }
}

impl Drop for LineGuard<'_> {
    fn drop(&mut self) {
        self.live.close_line(self.line);
    }
}

/// The history events of one execution as they happen, from
/// [`ExecutionHandle::events`](super::ExecutionHandle::events): a
/// [`futures::Stream`] that ends after the execution's last event.
///
/// Made before the execution starts (from
/// [`Execution::handle`](super::Execution::handle)), it yields every event,
/// in id order, exactly as [`Outcome::history`](super::Outcome::history)
/// holds them at the end (whether or not the history is recorded). Made
/// after the start, it yields the events from then on, if the execution
/// started watched (it had an observer or another stream); otherwise it
/// yields nothing and ends with the execution. Made after the end, it ends
/// at once. It also ends when the run's future is dropped before the
/// execution ends (the status then stays `None`).
///
/// Memory: the engine never waits for a stream. Events a stream has not
/// taken yet are queued for it, without bound but the execution's own:
/// [`Limits::max_history_events`](super::Limits::max_history_events) (by
/// default 25,000 events, checked before each state and retry, so the
/// count passes it by at most the events of one state) caps how many there
/// can be, and a consumer slower than the execution holds that many at
/// worst; with the limit off, the queue has no bound. Dropping the
/// stream frees its queue and stops the copying. An embedder that wants
/// backpressure or a smaller buffer uses an
/// [`EventObserver`] instead and decides there what to keep.
pub struct EventStream {
    shared: Arc<super::Shared>,
    id: u64,
}

impl EventStream {
    pub(crate) fn new(shared: Arc<super::Shared>) -> EventStream {
        let id = shared.live.subscribe();
        EventStream { shared, id }
    }
}

impl fmt::Debug for EventStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream").finish_non_exhaustive()
    }
}

impl futures::Stream for EventStream {
    type Item = HistoryEvent;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<HistoryEvent>> {
        let mut inner = self.shared.live.lock();
        let ended = inner.ended;
        let Some(queue) = inner.streams.get_mut(&self.id) else {
            return Poll::Ready(None);
        };
        match queue.events.pop_front() {
            Some(event) => Poll::Ready(Some(event)),
            None if ended => Poll::Ready(None),
            None => {
                queue.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        let queue = self.shared.live.lock().streams.remove(&self.id);
        drop(queue);
    }
}

impl super::ExecutionHandle {
    /// The execution's history events as they happen (see
    /// [`EventStream`]: make it before the run starts to see them all).
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use futures::StreamExt;
    /// use serde_json::json;
    /// use stepfn::{sync_task_fn, StateMachine};
    ///
    /// let machine: StateMachine = r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#.parse()?;
    /// let executor = sync_task_fn(|request| Ok(request.parameters));
    /// let execution = machine.execution();
    /// let events = execution.handle().events();
    /// let (outcome, seen) = futures::join!(
    ///     execution.run(&executor, json!({})),
    ///     events.map(|e| e.event_type).collect::<Vec<_>>(),
    /// );
    /// assert!(outcome.is_success());
    /// assert_eq!(seen, ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]);
    /// # Ok::<(), stepfn::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn events(&self) -> EventStream {
        EventStream::new(self.shared.clone())
    }

    /// How the execution ended; `None` while it has not (not started yet,
    /// or running).
    pub fn status(&self) -> Option<Status> {
        self.shared.live.status()
    }

    /// The states the execution is in now, each with the Map iterations
    /// and Parallel branches it runs in (a Map or Parallel state is listed
    /// while none of its iterations or branches runs, and through them
    /// otherwise), in the order their lines started. The child executions
    /// of a Distributed Map are not listed (their events are not in this
    /// execution's history either): the Map state is.
    ///
    /// Only a watched execution keeps track of them (one with an
    /// [`EventObserver`] or an [`EventStream`] made before it started;
    /// `with_observer(|_: &stepfn::HistoryEvent| ())` watches without
    /// using the events); for any other, and once the execution has ended,
    /// the list is empty.
    pub fn states_in_flight(&self) -> Vec<StateInFlight> {
        self.shared.live.in_flight()
    }
}

/// The `Type` name of `kind`.
pub(crate) fn type_name(kind: &crate::definition::StateKind) -> &'static str {
    use crate::definition::StateKind::*;
    match kind {
        Pass(_) => "Pass",
        Task(_) => "Task",
        Choice(_) => "Choice",
        Wait(_) => "Wait",
        Succeed(_) => "Succeed",
        Fail(_) => "Fail",
        Parallel(_) => "Parallel",
        Map(_) => "Map",
    }
}
