//! Controlling a running execution from outside: abort it, answer its
//! `.waitForTaskToken` callbacks ([`ExecutionHandle`]), and the state the
//! execution shares with its handles.

use crate::executor::{CallbackError, CallbackMessage, CallbackSink};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// State shared between a running execution and its handles.
#[derive(Default)]
pub(crate) struct Shared {
    pub(super) aborted: AtomicBool,
    pub(super) finished: AtomicBool,
    pub(super) abort_reason: Mutex<Option<(Option<String>, Option<String>)>>,
    pub(super) waker: futures::task::AtomicWaker,
    /// Streams, status and the states in flight.
    pub(super) live: super::live::Live,
    callbacks: Mutex<HashMap<String, CallbackSlot>>,
    /// The first half of every task token this execution issues (random,
    /// made with the first token): a token that starts with it and has no
    /// task waiting belongs to a task already closed.
    token_prefix: OnceLock<String>,
}

#[derive(Default)]
struct CallbackSlot {
    messages: std::collections::VecDeque<CallbackMessage>,
    waker: Option<std::task::Waker>,
    /// A success or failure is in: the task is closed to further answers.
    answered: bool,
}

impl Shared {
    fn lock_callbacks(&self) -> std::sync::MutexGuard<'_, HashMap<String, CallbackSlot>> {
        self.callbacks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new task token: this execution's prefix and 128 random bits, both
    /// from the OS random source (a host may hand tokens to other
    /// systems).
    pub(crate) fn new_token(&self) -> String {
        let prefix = self
            .token_prefix
            .get_or_init(|| uuid::Uuid::new_v4().simple().to_string());
        format!("{prefix}{}", uuid::Uuid::new_v4().simple())
    }

    /// True when `token` has the shape of the tokens this execution issues.
    fn issued(&self, token: &str) -> bool {
        self.token_prefix
            .get()
            .is_some_and(|p| token.len() == 2 * p.len() && token.starts_with(p.as_str()))
    }

    pub(crate) fn register(&self, token: &str) {
        self.lock_callbacks()
            .insert(token.to_owned(), CallbackSlot::default());
    }

    pub(crate) fn unregister(&self, token: &str) {
        let slot = self.lock_callbacks().remove(token);
        // answers nobody read may be nested too deeply for a recursive drop
        for message in slot.into_iter().flat_map(|s| s.messages) {
            if let CallbackMessage::Success(output) = message {
                crate::json::dismantle(output);
            }
        }
    }

    /// The next message for `token` (pending until one arrives).
    pub(crate) fn next_message<'a>(
        &'a self,
        token: &'a str,
    ) -> impl std::future::Future<Output = CallbackMessage> + 'a {
        futures::future::poll_fn(move |cx| {
            let mut callbacks = self.lock_callbacks();
            match callbacks.get_mut(token) {
                Some(slot) => match slot.messages.pop_front() {
                    Some(m) => std::task::Poll::Ready(m),
                    None => {
                        slot.waker = Some(cx.waker().clone());
                        std::task::Poll::Pending
                    }
                },
                None => std::task::Poll::Pending,
            }
        })
    }
}

impl CallbackSink for Shared {
    /// Takes `message` for the task waiting for `token`, as AWS's
    /// SendTask* APIs do: a token this execution never issued is
    /// `InvalidToken`; one whose task is closed (answered already, timed
    /// out, aborted, or its execution ended) is `TaskTimedOut`.
    fn send(&self, token: &str, message: CallbackMessage) -> Result<(), CallbackError> {
        let mut callbacks = self.lock_callbacks();
        let refused = match callbacks.get_mut(token) {
            Some(slot) if !slot.answered => {
                slot.answered = !matches!(message, CallbackMessage::Heartbeat);
                slot.messages.push_back(message);
                if let Some(w) = slot.waker.take() {
                    w.wake();
                }
                return Ok(());
            }
            Some(_) => CallbackError::TaskTimedOut,
            None if self.issued(token) => CallbackError::TaskTimedOut,
            None => CallbackError::InvalidToken,
        };
        drop(callbacks);
        // the output may be nested too deeply for a recursive drop
        if let CallbackMessage::Success(output) = message {
            crate::json::dismantle(output);
        }
        Err(refused)
    }
}

/// Controls a running execution from outside: abort it, answer its
/// `.waitForTaskToken` tasks. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct ExecutionHandle {
    pub(super) shared: Arc<Shared>,
}

impl fmt::Debug for ExecutionHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecutionHandle")
            .field("aborted", &self.shared.aborted.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl ExecutionHandle {
    /// Aborts the execution (AWS's StopExecution): it ends ABORTED, its
    /// in-flight task futures, Map iterations and branches are dropped.
    /// Aborting before the run starts aborts it at once; aborting a
    /// finished execution does nothing.
    ///
    /// The abort is seen before the next state any line of the execution
    /// enters (and before the next retry), even when its states never
    /// wait: the engine checks for it at every transition, and besides
    /// yields to the caller's executor once every 256 transitions (it
    /// wakes its task and returns `Pending` once), so that on a
    /// single-threaded runtime the task that aborts gets a turn. It may be
    /// called from any thread, or from inside a task executor.
    pub fn abort(&self) {
        self.abort_with(None, None);
    }

    /// Aborts with an error and cause, as StopExecution's `error`/`cause`.
    pub fn abort_with(&self, error: Option<&str>, cause: Option<&str>) {
        {
            let mut reason = self
                .shared
                .abort_reason
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if reason.is_none() {
                *reason = Some((error.map(str::to_owned), cause.map(str::to_owned)));
            }
        }
        self.shared.aborted.store(true, Ordering::SeqCst);
        self.shared.waker.wake();
    }

    /// Polls the execution again (a durable run's sink has news for it).
    pub(crate) fn wake(&self) {
        self.shared.waker.wake();
    }

    /// True once [`abort`](Self::abort) was called.
    pub fn is_aborted(&self) -> bool {
        self.shared.aborted.load(Ordering::SeqCst)
    }

    /// Completes the task waiting for `token` with `output` (AWS's
    /// SendTaskSuccess). A task takes one answer: once it has a success or
    /// a failure, a second one is refused with
    /// [`CallbackError::TaskTimedOut`], as AWS refuses a reused token; so
    /// is a token whose task timed out or was aborted, or whose execution
    /// ended. A token this execution never issued is
    /// [`CallbackError::InvalidToken`].
    pub fn send_task_success(&self, token: &str, output: Value) -> Result<(), CallbackError> {
        self.shared.send(token, CallbackMessage::Success(output))
    }

    /// Fails the task waiting for `token` (AWS's SendTaskFailure); Retry
    /// and Catch see `error` (default `States.TaskFailed`... as AWS: an
    /// empty name when `None`) and `cause`. Refused as
    /// [`send_task_success`](Self::send_task_success) is.
    pub fn send_task_failure(
        &self,
        token: &str,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<(), CallbackError> {
        self.shared
            .send(token, CallbackMessage::failure(error, cause))
    }

    /// Keeps the task waiting for `token` alive (AWS's SendTaskHeartbeat):
    /// its `HeartbeatSeconds` starts over. Refused as
    /// [`send_task_success`](Self::send_task_success) is (a task that has
    /// its answer is closed).
    pub fn send_task_heartbeat(&self, token: &str) -> Result<(), CallbackError> {
        self.shared.send(token, CallbackMessage::Heartbeat)
    }
}

/// Removes a callback registration when the waiting task ends.
pub(crate) struct CallbackGuard<'a> {
    pub shared: &'a Shared,
    pub token: &'a str,
}

impl Drop for CallbackGuard<'_> {
    fn drop(&mut self) {
        self.shared.unregister(self.token);
    }
}
