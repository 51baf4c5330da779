//! [`SqliteStore`]: the [`ExecutionStore`] in one SQLite file (feature
//! `sqlite`).
//!
//! rusqlite is blocking, and a `Connection` is `Send` but not `Sync`. The
//! connection therefore lives on a thread of its own; every trait method
//! sends that thread a closure over a channel and awaits the answer on a
//! `futures` oneshot. The caller's executor never blocks on SQLite (no
//! `spawn_blocking`, which would tie the store to one runtime), and any
//! executor can poll the answers, as with `SystemClock`'s timer thread.
//! Calls are served one at a time, in order: SQLite has one writer anyway.
//!
//! The file is opened in WAL mode with `synchronous = FULL` (a commit
//! survives a process kill and a power loss) and a busy timeout, so that
//! several processes on one host may share it; every write is one
//! `BEGIN IMMEDIATE` transaction, which also makes a claim atomic without
//! `SKIP LOCKED`. stepfn creates and migrates the schema itself; the
//! `stepfn_schema` table holds its version.

mod rows;
mod schema;

use super::store::{
    history_token, lease_end, list_token, page_size, parse_history_token, parse_list_token,
    redriven_event, Claim, ExecutionRecord, ExecutionStatus, ExecutionStore, ExecutionSummary,
    Frame, HistoryQuery, ListFilter, NewExecution, Page, Redriven, Renewal, Signal, Snapshot,
    Started, StoreError, StoredEvent, TaskMessage, Transition,
};
use crate::durable::StopRequest;
use crate::executor::CallbackError;
use async_trait::async_trait;
use futures::channel::oneshot;
use rows::{
    backend, claimed, corrupt, id, insert_events, load_record, message_columns, nanos, opt_nanos,
    pending_signals, stop_request, time, unsigned, write_frames, DUE, SIGNAL_AT,
};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use schema::open_connection;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// The schema version this stepfn writes.
pub const SCHEMA_VERSION: u32 = schema::MIGRATIONS.len() as u32;

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

enum Message {
    Job(Job),
    Close(oneshot::Sender<Result<(), StoreError>>),
}

/// An [`ExecutionStore`] in one SQLite file: the embedded store, for one
/// host (several processes may share the file). Feature `sqlite`.
///
/// Opening creates the file and stepfn's tables when they are missing and
/// migrates an older schema; a schema newer than this stepfn's is refused.
/// The connection lives on a thread of the store's own, so the caller's
/// executor never blocks on SQLite and no async runtime is needed.
pub struct SqliteStore {
    path: PathBuf,
    jobs: Mutex<Option<mpsc::Sender<Message>>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn stopped() -> StoreError {
    StoreError::Backend("the SQLite store is closed".into())
}

impl SqliteStore {
    /// Opens (creating it if needed) the store in the SQLite file at
    /// `path`, on a new thread that owns the connection.
    pub async fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        let (jobs, queue) = mpsc::channel::<Message>();
        let (opened, answer) = oneshot::channel();
        let file = path.clone();
        std::thread::Builder::new()
            .name("stepfn-sqlite".into())
            .spawn(move || serve(&file, opened, queue))
            .map_err(|e| StoreError::Backend(format!("cannot start the SQLite thread: {e}")))?;
        answer.await.map_err(|_| stopped())??;
        Ok(SqliteStore {
            path,
            jobs: Mutex::new(Some(jobs)),
        })
    }

    /// The file it was opened on.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes the connection and ends its thread once the calls before
    /// this one are answered; later calls fail. Dropping the store does
    /// the same without waiting.
    pub async fn close(&self) -> Result<(), StoreError> {
        let sender = self
            .jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .ok_or_else(stopped)?;
        let (tx, rx) = oneshot::channel();
        sender.send(Message::Close(tx)).map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }

    /// Runs `f` on the store's thread.
    async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let _ = tx.send(f(conn));
        });
        {
            let jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
            let sender = jobs.as_ref().ok_or_else(stopped)?;
            sender.send(Message::Job(job)).map_err(|_| stopped())?;
        }
        rx.await.map_err(|_| stopped())?
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction on the store's
    /// thread, committed when `f` succeeds and rolled back otherwise.
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.call(move |conn| {
            let tx = begin(conn)?;
            let out = f(&tx)?; // dropping `tx` rolls back
            tx.commit().map_err(backend)?;
            Ok(out)
        })
        .await
    }
}

/// `BEGIN IMMEDIATE` on `conn`. SQLite answers "database is locked" at
/// once, without its busy timeout, while another connection is still
/// setting a new file up (write-ahead logging, the schema): that is tried
/// again for a while.
fn begin(conn: &mut rusqlite::Connection) -> Result<Transaction<'_>, StoreError> {
    let conn: &rusqlite::Connection = conn;
    let mut tries = 0;
    loop {
        match Transaction::new_unchecked(conn, TransactionBehavior::Immediate) {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && tries < 200 =>
            {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => return other.map_err(backend),
        }
    }
}

/// The store's thread: opens the connection, answers `opened`, then runs
/// jobs until the store is closed or dropped.
fn serve(
    path: &Path,
    opened: oneshot::Sender<Result<(), StoreError>>,
    queue: mpsc::Receiver<Message>,
) {
    let mut conn = match open_connection(path) {
        Ok(conn) => conn,
        Err(e) => {
            let _ = opened.send(Err(e));
            return;
        }
    };
    if opened.send(Ok(())).is_err() {
        return;
    }
    while let Ok(message) = queue.recv() {
        match message {
            Message::Job(job) => job(&mut conn),
            Message::Close(done) => {
                let _ = done.send(conn.close().map_err(|(_, e)| backend(e)));
                return;
            }
        }
    }
}

#[async_trait]
impl ExecutionStore for SqliteStore {
    async fn create(&self, start: NewExecution) -> Result<Started, StoreError> {
        self.write(move |tx| {
            if let Some(existing) = load_record(tx, &start.execution_arn)? {
                return if existing.status == ExecutionStatus::Running
                    && existing.input == start.input
                {
                    Ok(Started {
                        execution_arn: start.execution_arn,
                        start_date: existing.start_date,
                        created: false,
                    })
                } else {
                    Err(StoreError::ExecutionAlreadyExists(start.execution_arn))
                };
            }
            let last_event_id = start.events.iter().map(|e| e.id).max().unwrap_or(0);
            tx.execute(
                "INSERT INTO stepfn_executions
                   (execution_arn, state_machine_arn, name, definition, input, status,
                    start_date, last_event_id, run_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'RUNNING', ?6, ?7, ?8)",
                params![
                    start.execution_arn,
                    start.state_machine_arn,
                    start.name,
                    start.definition,
                    start.input,
                    nanos(start.start_date)?,
                    id(last_event_id)?,
                    opt_nanos(start.run_at)?,
                ],
            )
            .map_err(backend)?;
            let execution = tx.last_insert_rowid();
            write_frames(tx, execution, &start.frames)?;
            insert_events(tx, execution, &start.events)?;
            Ok(Started {
                execution_arn: start.execution_arn,
                start_date: start.start_date,
                created: true,
            })
        })
        .await
    }

    async fn claim(
        &self,
        worker: &str,
        now: SystemTime,
        lease: Duration,
        max: usize,
    ) -> Result<Vec<Claim>, StoreError> {
        let lease_until = lease_end(now, lease)?;
        let worker = worker.to_owned();
        self.write(move |tx| {
            let now = nanos(now)?;
            let until = nanos(lease_until)?;
            let max = i64::try_from(max).unwrap_or(i64::MAX);
            let due: Vec<(i64, String)> = {
                let mut select = tx
                    .prepare_cached(&format!(
                        "SELECT id, execution_arn FROM stepfn_executions
                          WHERE status = 'RUNNING' AND {DUE} <= ?1
                            AND (lease_until IS NULL OR lease_until <= ?1)
                          ORDER BY {DUE}, id LIMIT ?2"
                    ))
                    .map_err(backend)?;
                let rows = select
                    .query_map(params![now, max], |r| Ok((r.get(0)?, r.get(1)?)))
                    .map_err(backend)?;
                rows.collect::<Result<_, _>>().map_err(backend)?
            };
            let mut lease = tx
                .prepare_cached(
                    "UPDATE stepfn_executions
                        SET lease_owner = ?2, lease_until = ?3, lease_token = lease_token + 1
                      WHERE id = ?1 RETURNING lease_token",
                )
                .map_err(backend)?;
            let mut claims = Vec::with_capacity(due.len());
            for (execution, arn) in due {
                let token: i64 = lease
                    .query_row(params![execution, worker, until], |r| r.get(0))
                    .map_err(backend)?;
                claims.push(Claim {
                    execution_arn: arn,
                    fencing_token: unsigned(token),
                    worker: worker.clone(),
                    lease_until,
                });
            }
            Ok(claims)
        })
        .await
    }

    async fn load(&self, claim: &Claim) -> Result<Snapshot, StoreError> {
        let claim = claim.clone();
        self.write(move |tx| {
            let execution = claimed(tx, &claim)?;
            let record = load_record(tx, &claim.execution_arn)?
                .ok_or_else(|| StoreError::LeaseLost(claim.execution_arn.clone()))?;
            let frames = {
                let mut select = tx
                    .prepare_cached(
                        "SELECT path, data FROM stepfn_frames WHERE execution_id = ?1 ORDER BY path",
                    )
                    .map_err(backend)?;
                let rows = select
                    .query_map(params![execution], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                    })
                    .map_err(backend)?;
                let mut frames = Vec::new();
                for row in rows {
                    let (path, data) = row.map_err(backend)?;
                    let data = serde_json::from_str(&data).map_err(|_| corrupt("frame"))?;
                    frames.push(Frame { path, data });
                }
                frames
            };
            let signals = pending_signals(tx, execution)?;
            let stop = tx
                .query_row(
                    "SELECT stop_requested, stop_error, stop_cause, stop_at
                       FROM stepfn_executions WHERE id = ?1",
                    params![execution],
                    |r| stop_request(r, 0),
                )
                .map_err(backend)?;
            Ok(Snapshot {
                record,
                frames,
                signals,
                stop,
            })
        })
        .await
    }

    async fn commit(&self, claim: &Claim, transition: Transition) -> Result<(), StoreError> {
        self.commit_and_check(claim, transition).await.map(|_| ())
    }

    async fn commit_and_check(
        &self,
        claim: &Claim,
        transition: Transition,
    ) -> Result<Option<StopRequest>, StoreError> {
        let claim = claim.clone();
        self.write(move |tx| {
            let execution = claimed(tx, &claim)?;
            write_frames(tx, execution, &transition.frames)?;
            {
                let mut remove = tx
                    .prepare_cached(
                        "DELETE FROM stepfn_frames WHERE execution_id = ?1 AND path = ?2",
                    )
                    .map_err(backend)?;
                for path in &transition.removed_frames {
                    remove.execute(params![execution, path]).map_err(backend)?;
                }
            }
            insert_events(tx, execution, &transition.events)?;
            {
                let mut open = tx
                    .prepare_cached(
                        "INSERT INTO stepfn_task_tokens (token, execution_id, state)
                         VALUES (?1, ?2, 'open') ON CONFLICT DO NOTHING",
                    )
                    .map_err(backend)?;
                let mut owner = tx
                    .prepare_cached("SELECT execution_id FROM stepfn_task_tokens WHERE token = ?1")
                    .map_err(backend)?;
                for token in &transition.opened_tokens {
                    open.execute(params![token, execution]).map_err(backend)?;
                    let by: i64 = owner
                        .query_row(params![token], |r| r.get(0))
                        .map_err(backend)?;
                    if by != execution {
                        return Err(StoreError::Conflict(format!(
                            "task token {token} belongs to another execution"
                        )));
                    }
                }
                let mut close = tx
                    .prepare_cached(
                        "UPDATE stepfn_task_tokens SET state = 'closed'
                          WHERE token = ?1 AND execution_id = ?2",
                    )
                    .map_err(backend)?;
                for token in &transition.closed_tokens {
                    close.execute(params![token, execution]).map_err(backend)?;
                }
                let mut consume = tx
                    .prepare_cached(
                        "DELETE FROM stepfn_signals WHERE id = ?1 AND execution_id = ?2",
                    )
                    .map_err(backend)?;
                for signal in &transition.consumed_signals {
                    consume
                        .execute(params![id(*signal)?, execution])
                        .map_err(backend)?;
                }
            }
            let last_event_id = transition.events.iter().map(|e| e.id).max().unwrap_or(0);
            tx.execute(
                "UPDATE stepfn_executions SET run_at = ?2, last_event_id = MAX(last_event_id, ?3)
                  WHERE id = ?1",
                params![execution, opt_nanos(transition.run_at)?, id(last_event_id)?],
            )
            .map_err(backend)?;
            if let Some(end) = transition.end {
                tx.execute(
                    "UPDATE stepfn_executions
                        SET status = ?2, output = ?3, error = ?4, cause = ?5, stop_date = ?6,
                            run_at = NULL, signal_at = NULL, lease_owner = NULL, lease_until = NULL,
                            stop_requested = 0, stop_error = NULL, stop_cause = NULL, stop_at = NULL
                      WHERE id = ?1",
                    params![
                        execution,
                        ExecutionStatus::from(end.status).as_str(),
                        end.output,
                        end.error,
                        end.cause,
                        nanos(end.stop_date)?,
                    ],
                )
                .map_err(backend)?;
                tx.execute(
                    "UPDATE stepfn_task_tokens SET state = 'closed' WHERE execution_id = ?1",
                    params![execution],
                )
                .map_err(backend)?;
                tx.execute(
                    "DELETE FROM stepfn_signals WHERE execution_id = ?1",
                    params![execution],
                )
                .map_err(backend)?;
                Ok(None)
            } else {
                tx.query_row(
                    &format!(
                        "UPDATE stepfn_executions AS e SET signal_at = {SIGNAL_AT} WHERE id = ?1
                         RETURNING stop_requested, stop_error, stop_cause, stop_at"
                    ),
                    params![execution],
                    |r| stop_request(r, 0),
                )
                .map_err(backend)
            }
        })
        .await
    }

    async fn renew(&self, claim: &Claim, until: SystemTime) -> Result<Renewal, StoreError> {
        let claim = claim.clone();
        self.write(move |tx| {
            let execution = claimed(tx, &claim)?;
            let stop = tx
                .query_row(
                    "UPDATE stepfn_executions SET lease_owner = ?2, lease_until = ?3 WHERE id = ?1
                     RETURNING stop_requested, stop_error, stop_cause, stop_at",
                    params![execution, claim.worker, nanos(until)?],
                    |r| stop_request(r, 0),
                )
                .map_err(backend)?;
            let signals: i64 = tx
                .query_row(
                    "SELECT COUNT(*) FROM stepfn_signals WHERE execution_id = ?1",
                    params![execution],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            Ok(Renewal {
                lease_until: until,
                stop,
                signals: usize::try_from(signals).unwrap_or(0),
            })
        })
        .await
    }

    async fn release(&self, claim: &Claim) -> Result<(), StoreError> {
        let claim = claim.clone();
        self.write(move |tx| {
            let execution = claimed(tx, &claim)?;
            tx.execute(
                "UPDATE stepfn_executions SET lease_owner = NULL, lease_until = NULL WHERE id = ?1",
                params![execution],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn signal(&self, signal: Signal, now: SystemTime) -> Result<(), StoreError> {
        self.write(move |tx| {
            let at = nanos(now)?;
            match signal {
                Signal::Stop {
                    execution_arn,
                    error,
                    cause,
                } => {
                    let changed = tx
                        .execute(
                            "UPDATE stepfn_executions
                                SET stop_requested = 1, stop_error = ?2, stop_cause = ?3,
                                    stop_at = ?4, signal_at = MIN(COALESCE(signal_at, ?4), ?4)
                              WHERE execution_arn = ?1 AND status = 'RUNNING'
                                AND stop_requested = 0",
                            params![execution_arn, error, cause, at],
                        )
                        .map_err(backend)?;
                    if changed == 0 && load_record(tx, &execution_arn)?.is_none() {
                        return Err(StoreError::ExecutionDoesNotExist(execution_arn));
                    }
                    Ok(())
                }
                Signal::Task { token, message } => {
                    let row: Option<(i64, String, String)> = tx
                        .query_row(
                            "SELECT t.execution_id, t.state, e.status
                               FROM stepfn_task_tokens t
                               JOIN stepfn_executions e ON e.id = t.execution_id
                              WHERE t.token = ?1",
                            params![token],
                            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                        )
                        .optional()
                        .map_err(backend)?;
                    let (execution, state, status) = row.ok_or(CallbackError::InvalidToken)?;
                    if state != "open" || status != "RUNNING" {
                        return Err(CallbackError::TaskTimedOut.into());
                    }
                    if !matches!(message, TaskMessage::Heartbeat) {
                        tx.execute(
                            "UPDATE stepfn_task_tokens SET state = 'answered' WHERE token = ?1",
                            params![token],
                        )
                        .map_err(backend)?;
                    }
                    let (kind, output, error, cause) = message_columns(&message);
                    tx.execute(
                        "INSERT INTO stepfn_signals
                           (execution_id, token, kind, output, error, cause, received)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                        params![execution, token, kind, output, error, cause, at],
                    )
                    .map_err(backend)?;
                    tx.execute(
                        "UPDATE stepfn_executions SET signal_at = MIN(COALESCE(signal_at, ?2), ?2)
                          WHERE id = ?1",
                        params![execution, at],
                    )
                    .map_err(backend)?;
                    Ok(())
                }
            }
        })
        .await
    }

    async fn redrive(&self, execution_arn: &str, now: SystemTime) -> Result<Redriven, StoreError> {
        let arn = execution_arn.to_owned();
        self.write(move |tx| {
            let record = load_record(tx, &arn)?
                .ok_or_else(|| StoreError::ExecutionDoesNotExist(arn.clone()))?;
            if let Some(reason) = record.redrive_refusal(now) {
                return Err(StoreError::ExecutionNotRedrivable(reason.into()));
            }
            let redrive_count = record
                .redrive_count
                .checked_add(1)
                .ok_or_else(|| StoreError::Conflict("the redrive count overflows".into()))?;
            let event = redriven_event(record.last_event_id, redrive_count, now);
            let at = nanos(now)?;
            let execution: i64 = tx
                .query_row(
                    "UPDATE stepfn_executions
                        SET status = 'RUNNING', output = NULL, error = NULL, cause = NULL,
                            stop_date = NULL, redrive_count = ?2, redrive_date = ?3,
                            last_event_id = ?4, run_at = ?3, signal_at = NULL,
                            lease_owner = NULL, lease_until = NULL, lease_token = lease_token + 1,
                            stop_requested = 0, stop_error = NULL, stop_cause = NULL, stop_at = NULL
                      WHERE execution_arn = ?1 RETURNING id",
                    params![arn, i64::from(redrive_count), at, id(event.id)?],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            tx.execute(
                "DELETE FROM stepfn_signals WHERE execution_id = ?1",
                params![execution],
            )
            .map_err(backend)?;
            insert_events(tx, execution, &[event])?;
            Ok(Redriven {
                redrive_count,
                redrive_date: now,
            })
        })
        .await
    }

    async fn describe(&self, execution_arn: &str) -> Result<ExecutionRecord, StoreError> {
        let arn = execution_arn.to_owned();
        self.call(move |conn| {
            let tx = conn.transaction().map_err(backend)?;
            load_record(&tx, &arn)?.ok_or(StoreError::ExecutionDoesNotExist(arn))
        })
        .await
    }

    async fn list(
        &self,
        filter: &ListFilter,
        next_token: Option<&str>,
    ) -> Result<Page<ExecutionSummary>, StoreError> {
        let after = next_token.map(parse_list_token).transpose()?;
        let after = after
            .map(|(start, seq)| {
                Ok::<_, StoreError>((
                    i64::try_from(start).map_err(|_| {
                        StoreError::InvalidToken(next_token.unwrap_or_default().to_owned())
                    })?,
                    id(seq).map_err(|_| {
                        StoreError::InvalidToken(next_token.unwrap_or_default().to_owned())
                    })?,
                ))
            })
            .transpose()?;
        let filter = filter.clone();
        let size = page_size(filter.max_results);
        self.call(move |conn| {
            let tx = conn.transaction().map_err(backend)?;
            let mut select = tx
                .prepare_cached(
                    "SELECT id, execution_arn, state_machine_arn, name, status, start_date,
                            stop_date, redrive_count, redrive_date
                       FROM stepfn_executions
                      WHERE (?1 IS NULL OR state_machine_arn = ?1)
                        AND (?2 IS NULL OR status = ?2)
                        AND (?3 IS NULL OR (redrive_count > 0) = ?3)
                        AND (?4 IS NULL OR start_date < ?4 OR (start_date = ?4 AND id < ?5))
                      ORDER BY start_date DESC, id DESC LIMIT ?6",
                )
                .map_err(backend)?;
            let rows = select
                .query_map(
                    params![
                        filter.state_machine_arn,
                        filter.status.map(ExecutionStatus::as_str),
                        filter.redriven,
                        after.map(|a| a.0),
                        after.map(|a| a.1),
                        size as i64 + 1,
                    ],
                    |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, String>(3)?,
                            r.get::<_, String>(4)?,
                            r.get::<_, i64>(5)?,
                            r.get::<_, Option<i64>>(6)?,
                            r.get::<_, i64>(7)?,
                            r.get::<_, Option<i64>>(8)?,
                        ))
                    },
                )
                .map_err(backend)?;
            let mut items = Vec::new();
            let mut keys = Vec::new();
            for row in rows {
                let (seq, arn, machine, name, status, start, stop, redrives, redriven) =
                    row.map_err(backend)?;
                items.push(ExecutionSummary {
                    execution_arn: arn,
                    state_machine_arn: machine,
                    name,
                    status: ExecutionStatus::from_name(&status).ok_or_else(|| corrupt("status"))?,
                    start_date: time(start),
                    stop_date: stop.map(time),
                    redrive_count: u32::try_from(redrives).unwrap_or(u32::MAX),
                    redrive_date: redriven.map(time),
                });
                keys.push((start, seq));
            }
            let next_token = (items.len() > size).then(|| {
                let (start, seq) = keys[size - 1];
                list_token(i128::from(start), unsigned(seq))
            });
            items.truncate(size);
            Ok(Page { items, next_token })
        })
        .await
    }

    async fn history(
        &self,
        execution_arn: &str,
        query: &HistoryQuery,
        next_token: Option<&str>,
    ) -> Result<Page<StoredEvent>, StoreError> {
        let after = next_token.map(parse_history_token).transpose()?;
        let after = after
            .map(|a| {
                id(a).map_err(|_| {
                    StoreError::InvalidToken(next_token.unwrap_or_default().to_owned())
                })
            })
            .transpose()?;
        let arn = execution_arn.to_owned();
        let reverse = query.reverse_order;
        let size = page_size(query.max_results);
        self.call(move |conn| {
            let tx = conn.transaction().map_err(backend)?;
            let execution: i64 = tx
                .query_row(
                    "SELECT id FROM stepfn_executions WHERE execution_arn = ?1",
                    params![arn],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?
                .ok_or_else(|| StoreError::ExecutionDoesNotExist(arn.clone()))?;
            let sql = if reverse {
                "SELECT event_id, previous_event_id, ts, type, details_key, details
                   FROM stepfn_history
                  WHERE execution_id = ?1 AND (?2 IS NULL OR event_id < ?2)
                  ORDER BY event_id DESC LIMIT ?3"
            } else {
                "SELECT event_id, previous_event_id, ts, type, details_key, details
                   FROM stepfn_history
                  WHERE execution_id = ?1 AND (?2 IS NULL OR event_id > ?2)
                  ORDER BY event_id LIMIT ?3"
            };
            let mut select = tx.prepare_cached(sql).map_err(backend)?;
            let rows = select
                .query_map(params![execution, after, size as i64 + 1], |r| {
                    Ok((
                        StoredEvent {
                            id: unsigned(r.get(0)?),
                            previous_event_id: unsigned(r.get(1)?),
                            timestamp: time(r.get(2)?),
                            event_type: r.get(3)?,
                            details_key: r.get(4)?,
                            details: serde_json::Map::new(),
                        },
                        r.get::<_, String>(5)?,
                    ))
                })
                .map_err(backend)?;
            let mut items = Vec::new();
            for row in rows {
                let (mut event, details) = row.map_err(backend)?;
                event.details =
                    serde_json::from_str(&details).map_err(|_| corrupt("history event"))?;
                items.push(event);
            }
            let next_token = (items.len() > size).then(|| history_token(items[size - 1].id));
            items.truncate(size);
            Ok(Page { items, next_token })
        })
        .await
    }

    async fn next_due(&self) -> Result<Option<SystemTime>, StoreError> {
        self.call(|conn| {
            let tx = conn.transaction().map_err(backend)?;
            let due: Option<i64> = tx
                .query_row(
                    &format!(
                        "SELECT MIN(MAX({DUE}, COALESCE(lease_until, -9223372036854775808))) FROM stepfn_executions
                          WHERE status = 'RUNNING' AND (run_at IS NOT NULL OR signal_at IS NOT NULL)"
                    ),
                    [],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            Ok(due.map(time))
        })
        .await
    }
}
