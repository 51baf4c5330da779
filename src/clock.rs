//! The second seam: time. Every Wait state, retry back-off, task timeout,
//! heartbeat, history timestamp and `$$.State.EnteredTime` goes through a
//! [`Clock`].
//!
//! * [`SystemClock`] is real time. It needs no async runtime: its timers
//!   are served by one background thread, so it works under tokio,
//!   async-std, `futures::executor::block_on` or any other executor.
//! * [`VirtualClock`] never waits: when an execution has nothing left to do
//!   but wait for time, the clock jumps to the earliest deadline. A Wait of
//!   an hour or a back-off of a minute completes at once, while timestamps
//!   move forward as if the time had passed.
//!
//! Write your own to plug in a runtime's timer (e.g. `tokio::time::sleep`).

use async_trait::async_trait;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant, SystemTime};

/// A source of time for executions.
#[async_trait]
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> SystemTime;

    /// Completes after `duration` has passed on this clock.
    async fn sleep(&self, duration: Duration);

    /// Called by the engine when an execution can make progress only
    /// through this clock's timers (no task call or callback outstanding).
    /// A virtual clock moves to its earliest pending deadline, wakes the
    /// sleepers due then and returns `true`; a real clock returns `false`
    /// (the default) and lets time pass.
    fn advance_when_idle(&self) -> bool {
        false
    }
}

#[async_trait]
impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> SystemTime {
        (**self).now()
    }
    async fn sleep(&self, duration: Duration) {
        (**self).sleep(duration).await
    }
    fn advance_when_idle(&self) -> bool {
        (**self).advance_when_idle()
    }
}

#[async_trait]
impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> SystemTime {
        (**self).now()
    }
    async fn sleep(&self, duration: Duration) {
        (**self).sleep(duration).await
    }
    fn advance_when_idle(&self) -> bool {
        (**self).advance_when_idle()
    }
}

#[allow(dead_code)]
fn _object_safe(_: &dyn Clock) {}

// ---------------------------------------------------------------------------
// SystemClock

/// Wall-clock time; sleeps are served by one shared background thread, so
/// no particular async runtime is needed.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

#[async_trait]
impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    async fn sleep(&self, duration: Duration) {
        if duration.is_zero() {
            return;
        }
        let deadline = Instant::now().checked_add(duration);
        match deadline {
            Some(deadline) => ThreadSleep::new(deadline).await,
            // further away than Instant can express: never
            None => futures::future::pending::<()>().await,
        }
    }
}

#[derive(Default)]
struct SleepSlot {
    done: bool,
    waker: Option<Waker>,
}

struct TimerEntry {
    deadline: Instant,
    slot: Weak<Mutex<SleepSlot>>,
}

impl PartialEq for TimerEntry {
    fn eq(&self, other: &Self) -> bool {
        self.deadline == other.deadline
    }
}
impl Eq for TimerEntry {}
impl PartialOrd for TimerEntry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for TimerEntry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.deadline.cmp(&other.deadline)
    }
}

struct TimerThread {
    heap: Mutex<BinaryHeap<Reverse<TimerEntry>>>,
    wakeup: Condvar,
}

fn timer_thread() -> &'static TimerThread {
    static TIMER: OnceLock<&'static TimerThread> = OnceLock::new();
    TIMER.get_or_init(|| {
        let timer: &'static TimerThread = Box::leak(Box::new(TimerThread {
            heap: Mutex::new(BinaryHeap::new()),
            wakeup: Condvar::new(),
        }));
        let spawned = std::thread::Builder::new()
            .name("stepfn-timer".into())
            .spawn(move || timer_loop(timer));
        // without a thread, sleeps would never end: fail loudly once
        if let Err(e) = spawned {
            panic!("stepfn: cannot start the timer thread: {e}");
        }
        timer
    })
}

fn timer_loop(timer: &'static TimerThread) {
    let mut heap = timer.heap.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let now = Instant::now();
        while let Some(Reverse(first)) = heap.peek() {
            if first.deadline > now {
                break;
            }
            let Some(Reverse(entry)) = heap.pop() else {
                break;
            };
            if let Some(slot) = entry.slot.upgrade() {
                let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
                slot.done = true;
                if let Some(w) = slot.waker.take() {
                    w.wake();
                }
            }
        }
        heap = match heap.peek() {
            Some(Reverse(first)) => {
                let wait = first.deadline.saturating_duration_since(now);
                timer
                    .wakeup
                    .wait_timeout(heap, wait)
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
            None => timer.wakeup.wait(heap).unwrap_or_else(|e| e.into_inner()),
        };
    }
}

struct ThreadSleep {
    deadline: Instant,
    slot: Option<Arc<Mutex<SleepSlot>>>,
}

impl ThreadSleep {
    fn new(deadline: Instant) -> Self {
        ThreadSleep {
            deadline,
            slot: None,
        }
    }
}

impl Future for ThreadSleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        match &self.slot {
            Some(slot) => {
                let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
                if slot.done {
                    return Poll::Ready(());
                }
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
            None => {
                let slot = Arc::new(Mutex::new(SleepSlot {
                    done: false,
                    waker: Some(cx.waker().clone()),
                }));
                let timer = timer_thread();
                {
                    let mut heap = timer.heap.lock().unwrap_or_else(|e| e.into_inner());
                    // drop entries of sleeps that were cancelled, now and then
                    if heap.len() > 1024 {
                        let live: Vec<_> = heap
                            .drain()
                            .filter(|Reverse(e)| e.slot.strong_count() > 0)
                            .collect();
                        heap.extend(live);
                    }
                    heap.push(Reverse(TimerEntry {
                        deadline: self.deadline,
                        slot: Arc::downgrade(&slot),
                    }));
                }
                timer.wakeup.notify_one();
                self.slot = Some(slot);
                Poll::Pending
            }
        }
    }
}

// ---------------------------------------------------------------------------
// VirtualClock

/// Time that passes only when an execution waits for it: sleeps never
/// block; when the execution has nothing else to do, the clock jumps to the
/// earliest deadline.
///
/// Use one virtual clock per execution: the jumps of one execution are seen
/// by every execution sharing the clock. [`now`](Clock::now) starts at the
/// time given to [`starting_at`](VirtualClock::starting_at) (default: the
/// real time when the clock was made).
///
/// The engine moves the clock only when the execution waits on nothing but
/// time: while a task call is in flight (your executor's future is
/// pending) time stands still, so a `TimeoutSeconds` cannot fire before a
/// slow executor answers. A task waiting for its `.waitForTaskToken`
/// callback does not hold time back: with a `HeartbeatSeconds` or
/// `TimeoutSeconds` it times out at once unless the callback is already
/// there (answer it from the executor through
/// [`TaskRequest::callback`](crate::TaskRequest::callback)).
///
/// Outside an engine (nobody calls
/// [`advance_when_idle`](Clock::advance_when_idle)) a sleep completes only
/// when the clock is moved by [`advance`](VirtualClock::advance).
///
/// A sleep whose deadline lies beyond what [`SystemTime`] can represent
/// ends at the end of time: after every other sleep, without moving the
/// clock further than its last representable deadline.
#[derive(Clone)]
pub struct VirtualClock {
    inner: Arc<Mutex<VirtualState>>,
}

struct VirtualState {
    now: SystemTime,
    seq: u64,
    sleepers: BinaryHeap<Reverse<(Deadline, u64)>>,
    slots: std::collections::HashMap<u64, Arc<Mutex<SleepSlot>>>,
    /// The size of `sleepers` at which the deadlines of dropped sleeps are
    /// cleared out (see [`compact`]).
    compact_at: usize,
}

impl fmt::Debug for VirtualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VirtualClock")
            .field("now", &self.now())
            .finish_non_exhaustive()
    }
}

impl Default for VirtualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl VirtualClock {
    /// A virtual clock starting at the current real time.
    pub fn new() -> Self {
        Self::starting_at(SystemTime::now())
    }

    /// A virtual clock starting at `start`.
    pub fn starting_at(start: SystemTime) -> Self {
        VirtualClock {
            inner: Arc::new(Mutex::new(VirtualState {
                now: start,
                seq: 0,
                sleepers: BinaryHeap::new(),
                slots: Default::default(),
                compact_at: MIN_COMPACT,
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VirtualState> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Moves the clock forward by `duration`, completing every sleep due.
    /// Past the end of what [`SystemTime`] can represent, every sleep is
    /// due and the clock stops at the last deadline it can represent.
    pub fn advance(&self, duration: Duration) {
        let mut state = self.lock();
        match state.now.checked_add(duration) {
            Some(target) => {
                state.now = target;
                wake_due(&mut state, Deadline::At(target));
            }
            None => wake_due(&mut state, Deadline::EndOfTime),
        }
    }

    /// The number of sleeps still waiting.
    pub fn pending_sleeps(&self) -> usize {
        let mut state = self.lock();
        prune(&mut state);
        state.slots.len()
    }
}

/// When a virtual sleep is due: at a time, or after every time (its
/// deadline overflows `SystemTime`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Deadline {
    At(SystemTime),
    EndOfTime,
}

fn prune(state: &mut VirtualState) {
    state.slots.retain(|_, slot| Arc::strong_count(slot) > 1);
}

/// The fewest deadlines kept before [`compact`] runs.
const MIN_COMPACT: usize = 64;

/// Clears out the deadlines of sleeps dropped before they were due (a task
/// timeout whose call answered first leaves one behind at every attempt of
/// a retry loop) once there are twice as many deadlines as after the last
/// clear-out: memory stays proportional to the live sleeps, at an
/// amortised constant cost per sleep.
fn compact(state: &mut VirtualState) {
    if state.sleepers.len() < state.compact_at {
        return;
    }
    prune(state);
    let VirtualState {
        sleepers, slots, ..
    } = state;
    sleepers.retain(|Reverse((_, id))| slots.contains_key(id));
    state.compact_at = MIN_COMPACT.max(2 * state.sleepers.len());
}

/// Wakes every sleep due by `limit`, moving the clock to the latest
/// deadline woken.
fn wake_due(state: &mut VirtualState, limit: Deadline) {
    while let Some(Reverse((deadline, id))) = state.sleepers.peek().copied() {
        if deadline > limit {
            break;
        }
        if let Deadline::At(t) = deadline {
            state.now = state.now.max(t);
        }
        state.sleepers.pop();
        if let Some(slot) = state.slots.remove(&id) {
            let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
            slot.done = true;
            if let Some(w) = slot.waker.take() {
                w.wake();
            }
        }
    }
}

#[async_trait]
impl Clock for VirtualClock {
    fn now(&self) -> SystemTime {
        self.lock().now
    }

    async fn sleep(&self, duration: Duration) {
        if duration.is_zero() {
            return;
        }
        VirtualSleep {
            clock: self,
            duration,
            slot: None,
        }
        .await
    }

    fn advance_when_idle(&self) -> bool {
        let mut state = self.lock();
        // skip the deadlines of sleeps nobody waits for any more
        loop {
            let Some(Reverse((deadline, id))) = state.sleepers.peek().copied() else {
                return false;
            };
            let live = state
                .slots
                .get(&id)
                .is_some_and(|slot| Arc::strong_count(slot) > 1);
            if !live {
                state.sleepers.pop();
                state.slots.remove(&id);
                continue;
            }
            let limit = deadline.max(Deadline::At(state.now));
            wake_due(&mut state, limit);
            return true;
        }
    }
}

struct VirtualSleep<'c> {
    clock: &'c VirtualClock,
    duration: Duration,
    slot: Option<Arc<Mutex<SleepSlot>>>,
}

impl Future for VirtualSleep<'_> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(slot) = &self.slot {
            let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
            if slot.done {
                return Poll::Ready(());
            }
            slot.waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let mut state = self.clock.lock();
        let deadline = state
            .now
            .checked_add(self.duration)
            .map_or(Deadline::EndOfTime, Deadline::At);
        state.seq += 1;
        let id = state.seq;
        let slot = Arc::new(Mutex::new(SleepSlot {
            done: false,
            waker: Some(cx.waker().clone()),
        }));
        compact(&mut state);
        state.sleepers.push(Reverse((deadline, id)));
        state.slots.insert(id, slot.clone());
        drop(state);
        self.slot = Some(slot);
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sleep dropped before it is due (a task timeout whose call
    /// answered first) leaves nothing behind for long: however many there
    /// were, the clock keeps a bounded number of deadlines.
    #[test]
    fn dropped_virtual_sleeps_do_not_accumulate() {
        let clock = VirtualClock::starting_at(SystemTime::UNIX_EPOCH);
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        for _ in 0..10_000 {
            let mut sleep = clock.sleep(Duration::from_secs(3600));
            assert!(sleep.as_mut().poll(&mut cx).is_pending());
        }
        let state = clock.lock();
        let kept = (state.sleepers.len(), state.slots.len());
        assert!(kept.0 <= MIN_COMPACT && kept.1 <= MIN_COMPACT, "{kept:?}");
    }

    #[test]
    fn virtual_sleep_completes_when_idle_and_moves_time() {
        let clock = VirtualClock::starting_at(SystemTime::UNIX_EPOCH);
        let c2 = clock.clone();
        let mut fut = Box::pin(async move { c2.sleep(Duration::from_secs(3600)).await });
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        assert!(clock.advance_when_idle());
        assert!(fut.as_mut().poll(&mut cx).is_ready());
        assert_eq!(
            clock.now(),
            SystemTime::UNIX_EPOCH + Duration::from_secs(3600)
        );
        assert!(!clock.advance_when_idle());
    }

    /// The latest `SystemTime` reachable from the epoch by doubling steps,
    /// and the step that got there (adding it again overflows).
    fn end_of_time() -> (SystemTime, Duration) {
        let mut step = Duration::from_secs(u64::MAX);
        loop {
            if let Some(t) = SystemTime::UNIX_EPOCH.checked_add(step) {
                return (t, step);
            }
            step /= 2;
        }
    }

    #[test]
    fn virtual_sleep_past_the_end_of_time_completes_last() {
        let (far, step) = end_of_time();
        let clock = VirtualClock::starting_at(far);
        let (c1, c2) = (clock.clone(), clock.clone());
        let mut beyond = Box::pin(async move { c1.sleep(step).await });
        let mut soon = Box::pin(async move { c2.sleep(Duration::from_nanos(1)).await });
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(beyond.as_mut().poll(&mut cx).is_pending());
        assert!(soon.as_mut().poll(&mut cx).is_pending());
        assert!(clock.advance_when_idle());
        assert!(soon.as_mut().poll(&mut cx).is_ready());
        assert!(beyond.as_mut().poll(&mut cx).is_pending());
        assert!(clock.advance_when_idle());
        assert!(beyond.as_mut().poll(&mut cx).is_ready());
        assert_eq!(clock.now(), far + Duration::from_nanos(1));
    }

    #[test]
    fn virtual_advance_past_the_end_of_time_wakes_every_sleep() {
        let clock = VirtualClock::starting_at(SystemTime::UNIX_EPOCH);
        let c1 = clock.clone();
        let mut fut = Box::pin(async move { c1.sleep(Duration::from_secs(60)).await });
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        clock.advance(Duration::MAX);
        assert!(fut.as_mut().poll(&mut cx).is_ready());
        assert_eq!(
            clock.now(),
            SystemTime::UNIX_EPOCH + Duration::from_secs(60)
        );
    }

    #[test]
    fn system_sleep_works_without_a_runtime() {
        let start = Instant::now();
        futures::executor::block_on(SystemClock.sleep(Duration::from_millis(20)));
        assert!(start.elapsed() >= Duration::from_millis(20));
    }
}
