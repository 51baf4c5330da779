//! A Task that waits for a callback (`.waitForTaskToken`) in a durable
//! run: the attempt is checkpointed with its token before the call (so
//! that the store takes answers from then on, and a resumed run makes the
//! call again with the same token), and once the call answered, the
//! execution parks with the token and the attempt's absolute deadlines
//! (`TimeoutSeconds` from the call's start, `HeartbeatSeconds` from the
//! submission or the last heartbeat). Nothing waits in memory: the answers
//! (SendTaskSuccess/Failure/Heartbeat) are stored messages, handed back
//! by the [`CheckpointSink`] when a worker resumes the execution, and
//! judged against the deadlines by the time each arrived, as the
//! in-memory wait judges them as they come.

use crate::engine::checkpoint::{self, CheckpointSink, Position};
use crate::engine::drive::Run;
use crate::engine::walk::Thread;
use crate::executor::CallbackMessage;
use serde_json::Value;
use std::time::{Duration, SystemTime};

/// A callback attempt under way, as a checkpoint holds it.
pub(crate) struct InFlight {
    /// Its token.
    pub token: String,
    /// Its call answered: it waits for the callback.
    pub submitted: bool,
    /// When it times out.
    pub timeout_at: Option<SystemTime>,
    /// When it times out without a heartbeat (once submitted).
    pub heartbeat_at: Option<SystemTime>,
}

/// Where a durable callback attempt sits, for its checkpoints.
pub(super) struct Attempt<'a> {
    pub sink: &'a dyn CheckpointSink,
    pub state: &'a str,
    pub entered: u64,
    pub before_entered: u64,
    pub entered_time: SystemTime,
    /// The state input.
    pub input: &'a Value,
    pub counters: &'a [u64],
    pub retry_count: u32,
    pub token: &'a str,
    pub timeout_at: Option<SystemTime>,
}

/// How a callback attempt's wait ended.
pub(super) enum Answer {
    /// SendTaskSuccess or SendTaskFailure, in time.
    Message(CallbackMessage),
    /// No answer in time: `TimeoutSeconds` or (`heartbeat`)
    /// `HeartbeatSeconds` passed.
    TimedOut { heartbeat: bool },
}

impl Attempt<'_> {
    fn position(&self, submitted: bool, heartbeat_at: Option<SystemTime>) -> Position {
        Position::Callback {
            state: self.state.to_owned(),
            entered: self.entered,
            before_entered: self.before_entered,
            entered_time: self.entered_time,
            counters: self.counters.to_vec(),
            retry_count: self.retry_count,
            token: self.token.to_owned(),
            submitted,
            timeout_at: self.timeout_at,
            heartbeat_at,
        }
    }

    /// The checkpoint before the call: the token is open from here on.
    pub(super) async fn calling(&self, run: &Run<'_>, th: &Thread<'_>) {
        let at = self.position(false, None);
        checkpoint::hand_over(run, self.sink, at, self.input, th).await;
    }

    /// Judges the answers that came (`early`: given in process while the
    /// call ran, then those stored), in the order they arrived, against
    /// the deadlines; when none decides and no deadline has passed, parks
    /// the execution (the sink halts it: this does not return).
    pub(super) async fn settle(
        &self,
        run: &Run<'_>,
        th: &Thread<'_>,
        heartbeat: Option<u64>,
        mut heartbeat_at: Option<SystemTime>,
        early: Vec<CallbackMessage>,
    ) -> Option<Answer> {
        let now = run.clock.now();
        let mut messages = self.sink.task_messages(self.token);
        messages.extend(early.into_iter().map(|m| (now, m)));
        for (received, message) in messages {
            if earliest(self.timeout_at, heartbeat_at).is_some_and(|d| received >= d) {
                // too late: the deadline passed first
                break;
            }
            match message {
                CallbackMessage::Heartbeat => {
                    heartbeat_at =
                        heartbeat.and_then(|h| received.checked_add(Duration::from_secs(h)));
                }
                answer => return Some(Answer::Message(answer)),
            }
        }
        match (self.timeout_at, heartbeat_at) {
            // a heartbeat deadline no later than the timeout fires first
            (t, Some(h)) if h <= now && t.is_none_or(|t| h <= t) => {
                return Some(Answer::TimedOut { heartbeat: true })
            }
            (Some(t), _) if t <= now => return Some(Answer::TimedOut { heartbeat: false }),
            _ => {}
        }
        let at = self.position(true, heartbeat_at);
        checkpoint::hand_over(run, self.sink, at, self.input, th).await;
        // a sink that does not park the execution: wait in memory
        None
    }
}

/// The earlier of two optional deadlines.
fn earliest(a: Option<SystemTime>, b: Option<SystemTime>) -> Option<SystemTime> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
