//! The commits of one claimed execution: each checkpoint the engine
//! records is queued and committed in order on a loop of its own, the
//! lease is kept, and the run is halted when the execution parks or the
//! store refuses a commit.

use super::frame;
use crate::clock::Clock;
use crate::durable::store::{Claim, ExecutionStore, Frame, PendingSignal, StopRequest, StoreError};
use crate::durable::store::{StoredEvent, TaskMessage, Transition};
use crate::engine::checkpoint::{Checkpoint, CheckpointSink, Verdict};
use crate::engine::{ExecutionHandle, HistoryEvent};
use crate::executor::CallbackMessage;
use futures::channel::oneshot;
use futures::future::BoxFuture;
use futures::task::AtomicWaker;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::task::Poll;
use std::time::{Duration, SystemTime};

/// Why a run stopped without ending.
pub(super) enum Halt {
    /// Due again at this time (`None`: only when a message comes); `true`
    /// when a callback is awaited.
    Parked(Option<SystemTime>, bool),
    Dropped(StoreError),
}

/// What the next commit of a run consumes and closes.
struct Tokens {
    /// Signals handed to the run: every one loaded (a message nobody
    /// awaits any more must not keep the execution due).
    consumed: Vec<u64>,
    /// Tokens whose attempt ended.
    closed: Vec<String>,
}

/// Commits each checkpoint of one claimed execution, in order, on a
/// future of its own ([`commit_loop`](Self::commit_loop)): a line whose
/// future is dropped while its commit is under way (a sibling failed, the
/// execution was stopped) does not take the commit with it, so the
/// history stays whole.
pub(super) struct Committer<'a, S> {
    store: &'a S,
    clock: &'a dyn Clock,
    lease: Duration,
    claim: Mutex<Claim>,
    halted: Mutex<Option<Halt>>,
    /// The task messages stored when the execution was loaded.
    signals: Vec<PendingSignal>,
    tokens: Mutex<Tokens>,
    /// The run's handle: a StopExecution aborts it through it.
    handle: OnceLock<ExecutionHandle>,
    /// Where every line is, and what the next commit writes.
    lines: Mutex<Lines>,
    /// Commits waiting their turn.
    jobs: Mutex<VecDeque<Job>>,
    /// Commits waiting or under way.
    queued: AtomicUsize,
    /// No more commits will come (the run ended).
    closed: AtomicBool,
    /// The commit loop, waiting for a commit.
    waker: AtomicWaker,
    /// When the last commit said the execution is due again.
    last_run_at: Mutex<Option<Option<SystemTime>>>,
    /// The events not yet committed when the execution parked.
    parked_events: Mutex<Vec<HistoryEvent>>,
}

/// One commit waiting its turn.
struct Job {
    transition: Transition,
    /// Every line is parked after it: due again then.
    parked: Option<Option<SystemTime>>,
    /// The task token the committed line opens.
    opened: Option<String>,
    answer: oneshot::Sender<Verdict>,
}

/// Every line of an execution as its checkpoints left it (committed or
/// recorded), and what the next commit writes.
#[derive(Default)]
pub(super) struct Lines {
    known: BTreeMap<String, Place>,
    /// Checkpoints recorded since the last commit, by line.
    pending: BTreeMap<String, Checkpoint>,
    /// Lines gone since the last commit.
    removed: BTreeSet<String>,
}

/// What the driver needs of a line's checkpoint to tell whether the
/// execution can park.
#[derive(Clone, Copy)]
struct Place {
    /// It runs states itself.
    leaf: bool,
    /// It waits for time or a callback.
    parks: bool,
    wake_at: Option<SystemTime>,
    callback: bool,
}

impl Lines {
    fn note(&mut self, checkpoint: &Checkpoint) {
        let place = Place {
            leaf: checkpoint.at.is_leaf(),
            parks: checkpoint.at.parks(),
            wake_at: checkpoint.wake_at,
            callback: checkpoint.at.token().is_some(),
        };
        self.known.insert(checkpoint.line.clone(), place);
        self.removed.remove(&checkpoint.line);
    }

    fn record(&mut self, checkpoint: Checkpoint) {
        self.note(&checkpoint);
        self.pending.insert(checkpoint.line.clone(), checkpoint);
    }

    fn remove(&mut self, prefix: &str) {
        let gone: Vec<String> = (self.known.range(prefix.to_owned()..))
            .map(|(line, _)| line)
            .take_while(|line| line.starts_with(prefix))
            .cloned()
            .collect();
        for line in gone {
            self.known.remove(&line);
            self.pending.remove(&line);
            self.removed.insert(line);
        }
    }

    /// The frames and removals of the next commit.
    pub(super) fn take(&mut self) -> Result<(Vec<Frame>, Vec<String>), StoreError> {
        let frames = std::mem::take(&mut self.pending)
            .into_values()
            .map(|c| frame(&c))
            .collect::<Result<_, _>>()?;
        Ok((
            frames,
            std::mem::take(&mut self.removed).into_iter().collect(),
        ))
    }

    /// When every line that runs states waits for time or a callback: when
    /// the execution is due again (`None`: only when a message comes), and
    /// whether a callback is awaited.
    fn parked(&self) -> Option<(Option<SystemTime>, bool)> {
        let mut leaves = self.known.values().filter(|p| p.leaf).peekable();
        leaves.peek()?;
        let mut wake: Option<SystemTime> = None;
        let mut callback = false;
        for place in leaves {
            if !place.parks {
                return None;
            }
            callback |= place.callback;
            if let Some(at) = place.wake_at {
                wake = Some(wake.map_or(at, |w| w.min(at)));
            }
        }
        Some((wake, callback))
    }
}

impl<'a, S: ExecutionStore> Committer<'a, S> {
    /// The committer of `claim` on `store`, renewing it for `lease` on
    /// `clock`: the execution was loaded with these task messages (all of
    /// them consumed by its next commit) and these checkpoints.
    pub(super) fn new<'c>(
        (store, clock, lease): (&'a S, &'a dyn Clock, Duration),
        claim: Claim,
        (signals, consumed): (Vec<PendingSignal>, Vec<u64>),
        checkpoints: impl Iterator<Item = &'c Checkpoint>,
    ) -> Self {
        let mut known = Lines::default();
        for checkpoint in checkpoints {
            known.note(checkpoint);
        }
        Committer {
            store,
            clock,
            lease,
            claim: Mutex::new(claim),
            halted: Mutex::new(None),
            tokens: Mutex::new(Tokens {
                consumed,
                closed: Vec::new(),
            }),
            signals,
            handle: OnceLock::new(),
            lines: Mutex::new(known),
            jobs: Mutex::new(VecDeque::new()),
            queued: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            waker: AtomicWaker::new(),
            last_run_at: Mutex::new(None),
            parked_events: Mutex::new(Vec::new()),
        }
    }

    /// The run's handle, through which a StopExecution aborts it.
    pub(super) fn set_handle(&self, handle: ExecutionHandle) {
        let _ = self.handle.set(handle);
    }

    /// Why the run halted without ending, if it did (taken).
    pub(super) fn take_halt(&self) -> Option<Halt> {
        self.halted.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

impl<S: ExecutionStore> Committer<'_, S> {
    pub(super) fn claim(&self) -> Claim {
        self.claim.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(super) fn lines(&self) -> std::sync::MutexGuard<'_, Lines> {
        self.lines.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Aborts the run with a StopExecution's error and cause.
    fn stop(&self, stop: StopRequest) {
        if let Some(handle) = self.handle.get() {
            handle.abort_with(stop.error.as_deref(), stop.cause.as_deref());
        }
    }

    /// While the run goes on (a task call longer than a fraction of the
    /// lease, say), renews the lease every third of it. A StopExecution
    /// the renewal reports aborts the run (a task call in flight is
    /// dropped); a lease lost to another worker drops the run, and the
    /// call's result with it. Never ends.
    pub(super) async fn watch(&self) {
        let every = self.lease / 3;
        if every.is_zero() {
            // a zero lease: nothing to keep
            return futures::future::pending().await;
        }
        loop {
            self.clock.sleep(every).await;
            let claim = self.claim();
            let until = self
                .clock
                .now()
                .checked_add(self.lease)
                .unwrap_or(claim.lease_until);
            match self.store.renew(&claim, until).await {
                Ok(renewal) => {
                    self.claim
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .lease_until = renewal.lease_until;
                    if let Some(stop) = renewal.stop {
                        self.stop(stop);
                        return futures::future::pending().await;
                    }
                }
                Err(e @ StoreError::LeaseLost(_)) => {
                    self.halt(Halt::Dropped(e));
                    if let Some(handle) = self.handle.get() {
                        handle.abort();
                    }
                    return futures::future::pending().await;
                }
                // the store fails: the next commit or renewal tells
                Err(_) => {}
            }
        }
    }

    fn halt(&self, why: Halt) -> Verdict {
        *self.halted.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
        Verdict::Halt
    }

    fn dropped(&self) -> bool {
        matches!(
            *self.halted.lock().unwrap_or_else(|e| e.into_inner()),
            Some(Halt::Dropped(_))
        )
    }

    /// Queues the commit of `checkpoint` (with every checkpoint recorded
    /// since the last commit) and `events`; the future answers once it is
    /// done.
    fn enqueue(
        &self,
        checkpoint: Checkpoint,
        events: Vec<HistoryEvent>,
    ) -> BoxFuture<'static, Verdict> {
        let (answer, answered) = oneshot::channel();
        let opened = checkpoint.at.token().map(str::to_owned);
        let taken = {
            let mut lines = self.lines();
            lines.record(checkpoint);
            let parked = lines.parked();
            lines
                .take()
                .map(|(frames, removed)| (frames, removed, parked))
        };
        let (frames, removed_frames, parked) = match taken {
            Ok(taken) => taken,
            Err(e) => {
                self.halt(Halt::Dropped(e));
                return Box::pin(async { Verdict::Halt });
            }
        };
        let job = Job {
            transition: Transition {
                frames,
                removed_frames,
                events: events.into_iter().map(StoredEvent::from).collect(),
                ..Transition::default()
            },
            parked: parked.map(|(wake, _)| wake),
            opened,
            answer,
        };
        self.queued.fetch_add(1, Ordering::SeqCst);
        self.jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(job);
        self.waker.wake();
        Box::pin(async move { answered.await.unwrap_or(Verdict::Halt) })
    }

    /// Commits the queued commits in order until the run ends
    /// ([`close`](Self::close)) and none is left.
    pub(super) async fn commit_loop(&self) {
        loop {
            let next = futures::future::poll_fn(|cx| {
                let pop = || {
                    self.jobs
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .pop_front()
                };
                if let Some(job) = pop() {
                    return Poll::Ready(Some(job));
                }
                self.waker.register(cx.waker());
                match pop() {
                    Some(job) => Poll::Ready(Some(job)),
                    None if self.closed.load(Ordering::SeqCst) => Poll::Ready(None),
                    None => Poll::Pending,
                }
            })
            .await;
            let Some(job) = next else {
                return;
            };
            let verdict = if self.dropped() {
                Verdict::Halt
            } else {
                self.commit(job.transition, job.opened, job.parked).await
            };
            let _ = job.answer.send(verdict);
            if self.queued.fetch_sub(1, Ordering::SeqCst) == 1 {
                // the run may be idle now that nothing is in flight
                if let Some(handle) = self.handle.get() {
                    handle.wake();
                }
            }
        }
    }

    /// No more commits will come: the commit loop ends once the queue is
    /// empty.
    pub(super) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.waker.wake();
    }

    /// Commits one transition: due again at `parked` when every line is
    /// parked after it (`Some(None)`: only a message can move it), else
    /// now.
    async fn commit(
        &self,
        mut transition: Transition,
        opened: Option<String>,
        parked: Option<Option<SystemTime>>,
    ) -> Verdict {
        let now = self.clock.now();
        let (consumed, closed) = {
            let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
            (tokens.consumed.clone(), tokens.closed.clone())
        };
        transition.opened_tokens = opened.into_iter().collect();
        transition.closed_tokens = closed;
        transition.consumed_signals = consumed;
        transition.run_at = parked.unwrap_or(Some(now));
        let run_at = transition.run_at;
        let claim = self.claim();
        let stop = match self.store.commit_and_check(&claim, transition).await {
            Ok(stop) => stop,
            Err(e) => return self.halt(Halt::Dropped(e)),
        };
        *self.last_run_at.lock().unwrap_or_else(|e| e.into_inner()) = Some(run_at);
        {
            let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
            tokens.consumed.clear();
            tokens.closed.clear();
        }
        if let Some(stop) = stop {
            // StopExecution, honoured at this transition: the run ends
            // ABORTED, and its end is committed as any end
            self.stop(stop);
            return Verdict::Halt;
        }
        self.keep_lease(&claim, now).await
    }

    /// Renews the lease once half of it is gone (`claim` as held, at
    /// `now`); halts when it cannot.
    async fn keep_lease(&self, claim: &Claim, now: SystemTime) -> Verdict {
        let half_gone = claim
            .lease_until
            .checked_sub(self.lease / 2)
            .is_some_and(|t| now >= t);
        if half_gone {
            let until = now.checked_add(self.lease).unwrap_or(claim.lease_until);
            match self.store.renew(claim, until).await {
                Ok(renewal) => {
                    self.claim
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .lease_until = renewal.lease_until;
                }
                Err(e) => return self.halt(Halt::Dropped(e)),
            }
        }
        Verdict::Continue
    }

    /// The last commit of a parked execution: what was recorded since the
    /// last commit, and the time it is due again (`until`), unless the
    /// last commit said all of it already.
    pub(super) fn parking(
        &self,
        until: Option<SystemTime>,
    ) -> Result<Option<Transition>, StoreError> {
        let (frames, removed_frames) = self.lines().take()?;
        let events: Vec<StoredEvent> =
            std::mem::take(&mut *self.parked_events.lock().unwrap_or_else(|e| e.into_inner()))
                .into_iter()
                .map(StoredEvent::from)
                .collect();
        let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        let last = *self.last_run_at.lock().unwrap_or_else(|e| e.into_inner());
        let said = frames.is_empty()
            && events.is_empty()
            && removed_frames.is_empty()
            && tokens.closed.is_empty()
            && tokens.consumed.is_empty()
            && last == Some(until);
        if said {
            return Ok(None);
        }
        Ok(Some(Transition {
            frames,
            removed_frames,
            events,
            closed_tokens: tokens.closed.clone(),
            consumed_signals: tokens.consumed.clone(),
            run_at: until,
            ..Transition::default()
        }))
    }
}

impl<S: ExecutionStore> CheckpointSink for Committer<'_, S> {
    fn transition<'a>(
        &'a self,
        checkpoint: Checkpoint,
        events: Vec<HistoryEvent>,
    ) -> BoxFuture<'a, Verdict> {
        self.enqueue(checkpoint, events)
    }

    fn record(&self, checkpoint: Checkpoint) {
        self.lines().record(checkpoint);
    }

    fn remove_lines(&self, prefix: &str) {
        self.lines().remove(prefix);
    }

    fn idle(&self, events: &dyn Fn() -> Vec<HistoryEvent>) -> bool {
        if self.queued.load(Ordering::SeqCst) > 0 {
            return false;
        }
        let parked = self.lines().parked();
        match parked {
            Some((until, callback)) => {
                // what happened since the last commit goes with the parking
                *self.parked_events.lock().unwrap_or_else(|e| e.into_inner()) = events();
                self.halt(Halt::Parked(until, callback));
                true
            }
            None => false,
        }
    }

    fn task_messages(&self, token: &str) -> Vec<(SystemTime, CallbackMessage)> {
        self.signals
            .iter()
            .filter(|s| s.token == token)
            .map(|s| (s.received, callback_message(&s.message)))
            .collect()
    }

    fn close_token(&self, token: &str) {
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if !tokens.closed.iter().any(|t| t == token) {
            tokens.closed.push(token.to_owned());
        }
    }
}

/// A stored task message as the engine takes it. A success whose output
/// is not JSON text (the store takes what it is given) fails the task, as
/// SendTaskSuccess refuses such an output.
fn callback_message(message: &TaskMessage) -> CallbackMessage {
    match message {
        TaskMessage::Success { output } => {
            match crate::json::from_text(output, crate::json::MAX_TEXT_DEPTH) {
                Ok(value) => CallbackMessage::Success(value),
                Err(_) => CallbackMessage::failure(
                    Some("States.Runtime"),
                    Some("the task's output is not JSON text"),
                ),
            }
        }
        TaskMessage::Failure { error, cause } => {
            CallbackMessage::failure(error.as_deref(), cause.as_deref())
        }
        TaskMessage::Heartbeat => CallbackMessage::Heartbeat,
    }
}
