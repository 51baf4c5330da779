//! [`MemoryStore`]: the [`ExecutionStore`] in one process's memory.

use super::store::{
    history_token, lease_end, list_token, page_size, parse_history_token, parse_list_token,
    redriven_event, Claim, ExecutionRecord, ExecutionStatus, ExecutionStore, ExecutionSummary,
    Frame, HistoryQuery, ListFilter, NewExecution, Page, PendingSignal, Redriven, Renewal, Signal,
    Snapshot, Started, StopRequest, StoreError, StoredEvent, TaskMessage, Transition,
};
use crate::executor::CallbackError;
use crate::timestamp::unix_nanos;
use async_trait::async_trait;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

/// An [`ExecutionStore`] in memory: for tests, and for embedders that want
/// the durable API (signals, stop, redrive, history from the store) within
/// one process without a database. Nothing survives the process.
///
/// One mutex guards everything, so each call is atomic. Claiming and
/// [`next_due`](ExecutionStore::next_due) look at every running
/// execution: fine for thousands, not for millions.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    executions: HashMap<String, Execution>,
    tokens: HashMap<String, Token>,
    /// Creation sequence, the tie-break of list order.
    next_seq: u64,
    next_signal: u64,
}

#[derive(Debug)]
struct Execution {
    record: ExecutionRecord,
    seq: u64,
    frames: BTreeMap<String, Value>,
    history: BTreeMap<u64, StoredEvent>,
    signals: Vec<PendingSignal>,
    stop: Option<StopRequest>,
    run_at: Option<SystemTime>,
    lease: Option<(String, SystemTime)>,
    fencing_token: u64,
}

impl Execution {
    /// When it is due: its run time, or at once for a signal or a stop.
    fn due(&self) -> Option<SystemTime> {
        let signalled = self
            .signals
            .iter()
            .map(|s| s.received)
            .chain(self.stop.as_ref().map(|s| s.requested))
            .min();
        match (self.run_at, signalled) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn leased_at(&self, now: SystemTime) -> bool {
        self.lease.as_ref().is_some_and(|(_, until)| *until > now)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenState {
    Open,
    Answered,
    Closed,
}

#[derive(Debug)]
struct Token {
    execution_arn: String,
    state: TokenState,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while the lock was held cannot leave a half-done write:
        // every method checks before it writes.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Inner {
    /// The execution a claim names, if the claim still holds.
    fn claimed(&mut self, claim: &Claim) -> Result<&mut Execution, StoreError> {
        match self.executions.get_mut(&claim.execution_arn) {
            Some(e)
                if e.fencing_token == claim.fencing_token
                    && e.record.status == ExecutionStatus::Running =>
            {
                Ok(e)
            }
            _ => Err(StoreError::LeaseLost(claim.execution_arn.clone())),
        }
    }
}

fn does_not_exist(arn: &str) -> StoreError {
    StoreError::ExecutionDoesNotExist(arn.to_owned())
}

/// Refuses events whose ids are already stored or repeated.
fn check_new_events(
    history: &BTreeMap<u64, StoredEvent>,
    events: &[StoredEvent],
) -> Result<(), StoreError> {
    let mut seen = std::collections::HashSet::new();
    for event in events {
        if history.contains_key(&event.id) || !seen.insert(event.id) {
            return Err(StoreError::Conflict(format!(
                "history event {} is already stored",
                event.id
            )));
        }
    }
    Ok(())
}

fn last_event_id(history: &BTreeMap<u64, StoredEvent>) -> u64 {
    history.keys().next_back().copied().unwrap_or(0)
}

#[async_trait]
impl ExecutionStore for MemoryStore {
    async fn create(&self, start: NewExecution) -> Result<Started, StoreError> {
        let mut inner = self.lock();
        if let Some(existing) = inner.executions.get(&start.execution_arn) {
            let same = existing.record.status == ExecutionStatus::Running
                && existing.record.input == start.input;
            return if same {
                Ok(Started {
                    execution_arn: start.execution_arn,
                    start_date: existing.record.start_date,
                    created: false,
                })
            } else {
                Err(StoreError::ExecutionAlreadyExists(start.execution_arn))
            };
        }
        let mut history = BTreeMap::new();
        check_new_events(&history, &start.events)?;
        for event in start.events {
            history.insert(event.id, event);
        }
        let seq = inner.next_seq;
        inner.next_seq += 1;
        let record = ExecutionRecord {
            execution_arn: start.execution_arn.clone(),
            state_machine_arn: start.state_machine_arn,
            name: start.name,
            definition: start.definition,
            input: start.input,
            status: ExecutionStatus::Running,
            output: None,
            error: None,
            cause: None,
            start_date: start.start_date,
            stop_date: None,
            redrive_count: 0,
            redrive_date: None,
            last_event_id: last_event_id(&history),
        };
        let execution = Execution {
            record,
            seq,
            frames: start.frames.into_iter().map(|f| (f.path, f.data)).collect(),
            history,
            signals: Vec::new(),
            stop: None,
            run_at: start.run_at,
            lease: None,
            fencing_token: 0,
        };
        inner
            .executions
            .insert(start.execution_arn.clone(), execution);
        Ok(Started {
            execution_arn: start.execution_arn,
            start_date: start.start_date,
            created: true,
        })
    }

    async fn claim(
        &self,
        worker: &str,
        now: SystemTime,
        lease: Duration,
        max: usize,
    ) -> Result<Vec<Claim>, StoreError> {
        let lease_until = lease_end(now, lease)?;
        let mut inner = self.lock();
        let mut due: Vec<(SystemTime, u64, String)> = inner
            .executions
            .values()
            .filter(|e| e.record.status == ExecutionStatus::Running && !e.leased_at(now))
            .filter_map(|e| {
                let at = e.due()?;
                (at <= now).then(|| (at, e.seq, e.record.execution_arn.clone()))
            })
            .collect();
        due.sort();
        due.truncate(max);
        let mut claims = Vec::with_capacity(due.len());
        for (_, _, arn) in due {
            let Some(e) = inner.executions.get_mut(&arn) else {
                continue;
            };
            e.fencing_token += 1;
            e.lease = Some((worker.to_owned(), lease_until));
            claims.push(Claim {
                execution_arn: arn,
                fencing_token: e.fencing_token,
                worker: worker.to_owned(),
                lease_until,
            });
        }
        Ok(claims)
    }

    async fn load(&self, claim: &Claim) -> Result<Snapshot, StoreError> {
        let mut inner = self.lock();
        let e = inner.claimed(claim)?;
        Ok(Snapshot {
            record: e.record.clone(),
            frames: e
                .frames
                .iter()
                .map(|(path, data)| Frame {
                    path: path.clone(),
                    data: data.clone(),
                })
                .collect(),
            signals: e.signals.clone(),
            stop: e.stop.clone(),
        })
    }

    async fn commit(&self, claim: &Claim, transition: Transition) -> Result<(), StoreError> {
        self.commit_and_check(claim, transition).await.map(|_| ())
    }

    async fn commit_and_check(
        &self,
        claim: &Claim,
        transition: Transition,
    ) -> Result<Option<StopRequest>, StoreError> {
        let mut guard = self.lock();
        let inner = &mut *guard;
        let e = inner.claimed(claim)?;
        // every check before the first write
        check_new_events(&e.history, &transition.events)?;
        for token in &transition.opened_tokens {
            if let Some(t) = inner.tokens.get(token) {
                if t.execution_arn != claim.execution_arn {
                    return Err(StoreError::Conflict(format!(
                        "task token {token} belongs to another execution"
                    )));
                }
            }
        }
        let Some(e) = inner.executions.get_mut(&claim.execution_arn) else {
            return Err(StoreError::LeaseLost(claim.execution_arn.clone()));
        };
        for frame in transition.frames {
            e.frames.insert(frame.path, frame.data);
        }
        for path in &transition.removed_frames {
            e.frames.remove(path);
        }
        for event in transition.events {
            e.history.insert(event.id, event);
        }
        e.record.last_event_id = last_event_id(&e.history);
        e.signals
            .retain(|s| !transition.consumed_signals.contains(&s.id));
        e.run_at = transition.run_at;
        for token in transition.opened_tokens {
            inner.tokens.entry(token).or_insert_with(|| Token {
                execution_arn: claim.execution_arn.clone(),
                state: TokenState::Open,
            });
        }
        for token in &transition.closed_tokens {
            if let Some(t) = inner.tokens.get_mut(token) {
                if t.execution_arn == claim.execution_arn {
                    t.state = TokenState::Closed;
                }
            }
        }
        if let Some(end) = transition.end {
            e.record.status = end.status.into();
            e.record.output = end.output;
            e.record.error = end.error;
            e.record.cause = end.cause;
            e.record.stop_date = Some(end.stop_date);
            e.run_at = None;
            e.lease = None;
            e.signals.clear();
            e.stop = None;
            for t in inner.tokens.values_mut() {
                if t.execution_arn == claim.execution_arn {
                    t.state = TokenState::Closed;
                }
            }
            return Ok(None);
        }
        Ok(e.stop.clone())
    }

    async fn renew(&self, claim: &Claim, until: SystemTime) -> Result<Renewal, StoreError> {
        let mut inner = self.lock();
        let e = inner.claimed(claim)?;
        e.lease = Some((claim.worker.clone(), until));
        Ok(Renewal {
            lease_until: until,
            stop: e.stop.clone(),
            signals: e.signals.len(),
        })
    }

    async fn release(&self, claim: &Claim) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let e = inner.claimed(claim)?;
        e.lease = None;
        Ok(())
    }

    async fn signal(&self, signal: Signal, now: SystemTime) -> Result<(), StoreError> {
        let mut guard = self.lock();
        let inner = &mut *guard;
        match signal {
            Signal::Stop {
                execution_arn,
                error,
                cause,
            } => {
                let e = inner
                    .executions
                    .get_mut(&execution_arn)
                    .ok_or_else(|| does_not_exist(&execution_arn))?;
                if e.record.status == ExecutionStatus::Running && e.stop.is_none() {
                    e.stop = Some(StopRequest {
                        error,
                        cause,
                        requested: now,
                    });
                }
                Ok(())
            }
            Signal::Task { token, message } => {
                let t = inner
                    .tokens
                    .get_mut(&token)
                    .ok_or(CallbackError::InvalidToken)?;
                let answer = !matches!(message, TaskMessage::Heartbeat);
                let e = match inner.executions.get_mut(&t.execution_arn) {
                    Some(e)
                        if t.state == TokenState::Open
                            && e.record.status == ExecutionStatus::Running =>
                    {
                        e
                    }
                    _ => return Err(CallbackError::TaskTimedOut.into()),
                };
                if answer {
                    t.state = TokenState::Answered;
                }
                inner.next_signal += 1;
                e.signals.push(PendingSignal {
                    id: inner.next_signal,
                    token,
                    message,
                    received: now,
                });
                Ok(())
            }
        }
    }

    async fn redrive(&self, execution_arn: &str, now: SystemTime) -> Result<Redriven, StoreError> {
        let mut inner = self.lock();
        let e = inner
            .executions
            .get_mut(execution_arn)
            .ok_or_else(|| does_not_exist(execution_arn))?;
        if let Some(reason) = e.record.redrive_refusal(now) {
            return Err(StoreError::ExecutionNotRedrivable(reason.into()));
        }
        let redrive_count = e
            .record
            .redrive_count
            .checked_add(1)
            .ok_or_else(|| StoreError::Conflict("the redrive count overflows".into()))?;
        let event = redriven_event(e.record.last_event_id, redrive_count, now);
        e.record.last_event_id = event.id;
        e.history.insert(event.id, event);
        let r = &mut e.record;
        r.status = ExecutionStatus::Running;
        (r.output, r.error, r.cause, r.stop_date) = (None, None, None, None);
        r.redrive_count = redrive_count;
        r.redrive_date = Some(now);
        e.run_at = Some(now);
        e.lease = None;
        e.fencing_token += 1;
        e.signals.clear();
        e.stop = None;
        Ok(Redriven {
            redrive_count,
            redrive_date: now,
        })
    }

    async fn describe(&self, execution_arn: &str) -> Result<ExecutionRecord, StoreError> {
        let inner = self.lock();
        inner
            .executions
            .get(execution_arn)
            .map(|e| e.record.clone())
            .ok_or_else(|| does_not_exist(execution_arn))
    }

    async fn list(
        &self,
        filter: &ListFilter,
        next_token: Option<&str>,
    ) -> Result<Page<ExecutionSummary>, StoreError> {
        let after = next_token.map(parse_list_token).transpose()?;
        let size = page_size(filter.max_results);
        let inner = self.lock();
        let mut rows: Vec<((i128, u64), &Execution)> = inner
            .executions
            .values()
            .filter(|e| {
                let r = &e.record;
                filter
                    .state_machine_arn
                    .as_ref()
                    .is_none_or(|arn| *arn == r.state_machine_arn)
                    && filter.status.is_none_or(|s| s == r.status)
                    && filter
                        .redriven
                        .is_none_or(|redriven| redriven == (r.redrive_count > 0))
            })
            .map(|e| ((unix_nanos(e.record.start_date), e.seq), e))
            .filter(|(key, _)| after.is_none_or(|after| *key < after))
            .collect();
        rows.sort_by_key(|row| std::cmp::Reverse(row.0));
        let next_token = (rows.len() > size).then(|| {
            let (start, seq) = rows[size - 1].0;
            list_token(start, seq)
        });
        Ok(Page {
            items: rows
                .into_iter()
                .take(size)
                .map(|(_, e)| e.record.summary())
                .collect(),
            next_token,
        })
    }

    async fn history(
        &self,
        execution_arn: &str,
        query: &HistoryQuery,
        next_token: Option<&str>,
    ) -> Result<Page<StoredEvent>, StoreError> {
        let after = next_token.map(parse_history_token).transpose()?;
        let size = page_size(query.max_results);
        let inner = self.lock();
        let e = inner
            .executions
            .get(execution_arn)
            .ok_or_else(|| does_not_exist(execution_arn))?;
        let mut items: Vec<StoredEvent> = if query.reverse_order {
            let end = after.unwrap_or(u64::MAX);
            e.history
                .range(..end)
                .rev()
                .take(size + 1)
                .map(|(_, ev)| ev.clone())
                .collect()
        } else {
            let start = after.map_or(0, |id| id.saturating_add(1));
            e.history
                .range(start..)
                .take(size + 1)
                .map(|(_, ev)| ev.clone())
                .collect()
        };
        let next_token = (items.len() > size).then(|| history_token(items[size - 1].id));
        items.truncate(size);
        Ok(Page { items, next_token })
    }

    async fn next_due(&self) -> Result<Option<SystemTime>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .executions
            .values()
            .filter(|e| e.record.status == ExecutionStatus::Running)
            .filter_map(|e| {
                let due = e.due()?;
                Some(match &e.lease {
                    Some((_, until)) => due.max(*until),
                    None => due,
                })
            })
            .min())
    }
}
