//! [`PostgresStore`]: the [`ExecutionStore`] in a PostgreSQL database
//! (feature `postgres`), shared by many processes on many hosts.
//!
//! tokio-postgres needs tokio's reactor for its socket. The store
//! therefore starts a thread of its own running a current-thread tokio
//! runtime, which connects and drives the connection; the store's methods
//! only talk to the connection through channels, so any executor can poll
//! them (`futures::executor::block_on`, async-std, a tokio runtime of the
//! embedder's) and none is imposed, as with `SystemClock`'s timer thread.
//! One store holds one connection and serves its calls one at a time;
//! open several stores for parallel calls.
//!
//! Every method is one transaction. A claim is one statement, `UPDATE …
//! WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)` on the due condition, so
//! claimers never wait for each other and never take the same execution;
//! every write of a claimant first locks the execution's row and checks
//! its fencing token. Signals and stop requests are rows any process
//! writes, with the execution's due time. stepfn creates and migrates its
//! tables itself (`stepfn_schema` holds the version), optionally in a
//! schema of its own.

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
use futures::lock::{Mutex, MutexGuard};
use rows::{
    backend, claimed, corrupt, id, insert_events, is_lost, load_record, message_columns, nanos,
    opt_nanos, pending_signals, stop_request, time, unsigned, write_frames, Db, Fail, LOST,
};
use std::collections::HashMap;
use std::time::{Duration, SystemTime};
use tokio_postgres::{Client, Config, NoTls, Statement};

/// The connection of a store, made again when it was lost.
struct Slot {
    client: Option<Client>,
    statements: HashMap<&'static str, Statement>,
    closed: bool,
}

impl Slot {
    fn forget_connection(&mut self) {
        self.client = None;
        self.statements.clear();
    }
}

/// An [`ExecutionStore`] in a PostgreSQL database: the shared store, for
/// many processes on many hosts. Feature `postgres`.
///
/// Connecting creates stepfn's tables when they are missing (in the schema
/// given to [`connect_in_schema`](Self::connect_in_schema), else the first
/// of the connection's `search_path`) and migrates an older version; a
/// version newer than this stepfn's ([`SCHEMA_VERSION`](Self::SCHEMA_VERSION))
/// is refused. Work is claimed with `FOR UPDATE SKIP LOCKED`, so any number
/// of workers may claim from one database: each due execution goes to one
/// of them.
///
/// Times (due times, leases, dates) are the `now` the caller passes, as
/// in every store; workers on several hosts must therefore keep their
/// clocks in step (NTP), or a host whose clock runs ahead takes over
/// leases early. Connections are plain TCP or Unix sockets, without TLS.
///
/// The store's sessions end a transaction left idle for 60 seconds
/// (`idle_in_transaction_session_timeout`, unless the connection string's
/// `options` set it), so that a worker paused in the middle of a commit
/// cannot hold an execution's row lock, and with it every signal to that
/// execution, until it wakes.
///
/// When the server closes the connection (a restart, `pg_terminate_backend`,
/// a network failure), the call in progress fails with
/// [`StoreError::Backend`] (`PostgreSQL: the connection to the server was
/// lost (the next call reconnects)`) and the next call connects again;
/// nothing is retried behind the caller's back, since a write whose answer
/// was lost may or may not have landed.
pub struct PostgresStore {
    config: Config,
    schema: Option<String>,
    runtime: tokio::runtime::Handle,
    slot: Mutex<Slot>,
    /// Dropped with the store: ends the runtime thread and with it the
    /// connection.
    _stop: oneshot::Sender<()>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("hosts", &self.config.get_hosts())
            .field("ports", &self.config.get_ports())
            .field("dbname", &self.config.get_dbname())
            .field("user", &self.config.get_user())
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

fn closed() -> StoreError {
    StoreError::Backend("the PostgreSQL store is closed".into())
}

/// Runs one operation in one transaction on the store's connection and
/// settles its outcome: `transaction!(self, |db| { …; value })`, the body
/// using `?` on store and PostgreSQL errors alike. Committed when the body
/// succeeds, rolled back otherwise.
macro_rules! transaction {
    ($store:expr, |$db:ident| $body:block) => {{
        let store = $store;
        let mut slot = store.slot().await?;
        let result: Result<_, Fail> = async {
            let Slot {
                client, statements, ..
            } = &mut *slot;
            let client = client
                .as_mut()
                .ok_or_else(|| StoreError::Backend(LOST.into()))?;
            let tx = client.transaction().await?;
            #[allow(unused_mut)]
            let mut $db = Db::new(tx, statements);
            let out = $body;
            $db.commit().await?;
            Ok(out)
        }
        .await;
        if result.is_err() {
            // the dropped transaction queued its ROLLBACK without waiting:
            // one round trip more, and its locks are gone before the
            // caller hears of the failure (another connection's `SKIP
            // LOCKED` claim would pass the row over otherwise)
            if let Some(client) = slot.client.as_mut() {
                let _ = client.batch_execute("SELECT 1").await;
            }
        }
        settle(&mut slot, result)
    }};
}

/// A [`Fail`] as the caller sees it; a lost connection is forgotten, so
/// that the next call connects again.
fn settle<T>(slot: &mut Slot, result: Result<T, Fail>) -> Result<T, StoreError> {
    match result {
        Ok(value) => Ok(value),
        Err(Fail::Store(e)) => Err(e),
        Err(Fail::Pg(e)) if is_lost(&e) => {
            slot.forget_connection();
            Err(StoreError::Backend(LOST.into()))
        }
        Err(Fail::Pg(e)) => Err(backend(&e)),
    }
}

impl PostgresStore {
    /// The schema version this stepfn writes.
    pub const SCHEMA_VERSION: u32 = schema::MIGRATIONS.len() as u32;

    /// Connects to the database `config` names, a libpq-style connection
    /// string (`host=localhost port=5432 user=stepfn dbname=work` or
    /// `postgresql://stepfn@localhost/work`), and creates or migrates
    /// stepfn's tables there. Without `application_name` the connection
    /// is named `stepfn`; without `connect_timeout`, connecting gives up
    /// after 10 seconds.
    pub async fn connect(config: &str) -> Result<PostgresStore, StoreError> {
        PostgresStore::open(config, None).await
    }

    /// [`connect`](Self::connect), with stepfn's tables in schema `schema`
    /// (created when missing; its name taken as is, case included): several
    /// independent stores may then share one database.
    pub async fn connect_in_schema(
        config: &str,
        schema: &str,
    ) -> Result<PostgresStore, StoreError> {
        schema::quote_schema(schema)?;
        PostgresStore::open(config, Some(schema.to_owned())).await
    }

    async fn open(config: &str, schema: Option<String>) -> Result<PostgresStore, StoreError> {
        let config = schema::config(config)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                StoreError::Backend(format!("cannot start the PostgreSQL runtime: {e}"))
            })?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("stepfn-postgres".into())
            .spawn(move || {
                // runs the connections until the store is dropped
                runtime.block_on(async move {
                    let _ = stopped.await;
                });
            })
            .map_err(|e| StoreError::Backend(format!("cannot start the PostgreSQL thread: {e}")))?;
        let store = PostgresStore {
            config,
            schema,
            runtime: handle,
            slot: Mutex::new(Slot {
                client: None,
                statements: HashMap::new(),
                closed: false,
            }),
            _stop: stop,
        };
        drop(store.slot().await?);
        Ok(store)
    }

    /// The schema stepfn's tables are in, when one was given.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// Closes the connection once the calls before this one are answered;
    /// later calls fail. Dropping the store does the same without waiting.
    pub async fn close(&self) -> Result<(), StoreError> {
        let mut slot = self.slot.lock().await;
        if slot.closed {
            return Err(closed());
        }
        slot.closed = true;
        slot.forget_connection();
        Ok(())
    }

    /// The store's connection, made (again) when there is none or the
    /// server closed it.
    async fn slot(&self) -> Result<MutexGuard<'_, Slot>, StoreError> {
        let mut slot = self.slot.lock().await;
        if slot.closed {
            return Err(closed());
        }
        if slot.client.as_ref().is_none_or(Client::is_closed) {
            slot.forget_connection();
            let client = self.new_connection().await?;
            slot.client = Some(client);
        }
        Ok(slot)
    }

    /// Connects on the runtime thread, which then drives the connection,
    /// and prepares the schema.
    async fn new_connection(&self) -> Result<Client, StoreError> {
        let config = self.config.clone();
        let (answer, answered) = oneshot::channel();
        self.runtime.spawn(async move {
            let connected = config.connect(NoTls).await.map(|(client, connection)| {
                tokio::spawn(async move {
                    let _ = connection.await;
                });
                client
            });
            let _ = answer.send(connected);
        });
        let mut client = answered
            .await
            .map_err(|_| closed())?
            .map_err(|e| schema::cannot_connect(&e))?;
        let mut scratch = Slot {
            client: None,
            statements: HashMap::new(),
            closed: false,
        };
        let idle_timeout = !schema::sets_idle_timeout(&self.config);
        let prepared = schema::prepare(&mut client, self.schema.as_deref(), idle_timeout).await;
        settle(&mut scratch, prepared)?;
        Ok(client)
    }
}

#[async_trait]
impl ExecutionStore for PostgresStore {
    async fn create(&self, start: NewExecution) -> Result<Started, StoreError> {
        transaction!(self, |db| {
            let last_event_id = start.events.iter().map(|e| e.id).max().unwrap_or(0);
            let inserted = db
                .query_opt(
                    "INSERT INTO stepfn_executions
                       (execution_arn, state_machine_arn, name, definition, input, status,
                        start_date, last_event_id, run_at)
                     VALUES ($1, $2, $3, $4, $5, 'RUNNING', $6, $7, $8)
                     ON CONFLICT (execution_arn) DO NOTHING
                     RETURNING id",
                    &[
                        &start.execution_arn,
                        &start.state_machine_arn,
                        &start.name,
                        &start.definition,
                        &start.input,
                        &nanos(start.start_date)?,
                        &id(last_event_id)?,
                        &opt_nanos(start.run_at)?,
                    ],
                )
                .await?;
            match inserted {
                Some(row) => {
                    let execution: i64 = row.try_get(0)?;
                    write_frames(&mut db, execution, &start.frames).await?;
                    insert_events(&mut db, execution, &start.events).await?;
                    Started {
                        execution_arn: start.execution_arn,
                        start_date: start.start_date,
                        created: true,
                    }
                }
                None => {
                    // another start of this name (possibly concurrent, now committed)
                    let existing = load_record(&mut db, &start.execution_arn, false)
                        .await?
                        .ok_or_else(|| {
                            StoreError::ExecutionAlreadyExists(start.execution_arn.clone())
                        })?;
                    if existing.status != ExecutionStatus::Running || existing.input != start.input
                    {
                        return Err(StoreError::ExecutionAlreadyExists(start.execution_arn).into());
                    }
                    Started {
                        execution_arn: start.execution_arn,
                        start_date: existing.start_date,
                        created: false,
                    }
                }
            }
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
        let at = nanos(now)?;
        let until = nanos(lease_until)?;
        let max = i64::try_from(max).unwrap_or(i64::MAX);
        let mut claims = transaction!(self, |db| {
            let rows = db
                .query(
                    "UPDATE stepfn_executions
                        SET lease_owner = $1, lease_until = $2, lease_token = lease_token + 1
                      WHERE id IN (
                            SELECT id FROM stepfn_executions
                             WHERE status = 'RUNNING' AND LEAST(run_at, signal_at) <= $3
                               AND (lease_until IS NULL OR lease_until <= $3)
                             ORDER BY LEAST(run_at, signal_at), id
                             LIMIT $4
                               FOR UPDATE SKIP LOCKED)
                  RETURNING LEAST(run_at, signal_at), id, execution_arn, lease_token",
                    &[&worker, &until, &at, &max],
                )
                .await?;
            let mut claims = Vec::with_capacity(rows.len());
            for row in rows {
                let due: Option<i64> = row.try_get(0)?;
                let seq: i64 = row.try_get(1)?;
                let claim = Claim {
                    execution_arn: row.try_get(2)?,
                    fencing_token: unsigned(row.try_get(3)?),
                    worker: worker.to_owned(),
                    lease_until,
                };
                claims.push(((due, seq), claim));
            }
            claims
        })?;
        // RETURNING has no order of its own: the earliest due first
        claims.sort_by_key(|(key, _)| *key);
        Ok(claims.into_iter().map(|(_, claim)| claim).collect())
    }

    async fn load(&self, claim: &Claim) -> Result<Snapshot, StoreError> {
        transaction!(self, |db| {
            let execution = claimed(&mut db, claim).await?;
            let record = load_record(&mut db, &claim.execution_arn, false)
                .await?
                .ok_or_else(|| StoreError::LeaseLost(claim.execution_arn.clone()))?;
            let rows = db
                .query(
                    "SELECT path, data FROM stepfn_frames WHERE execution_id = $1
                      ORDER BY path COLLATE \"C\"",
                    &[&execution],
                )
                .await?;
            let mut frames = Vec::with_capacity(rows.len());
            for row in rows {
                let data: String = row.try_get(1)?;
                frames.push(Frame {
                    path: row.try_get(0)?,
                    data: serde_json::from_str(&data).map_err(|_| corrupt("frame"))?,
                });
            }
            let signals = pending_signals(&mut db, execution).await?;
            let row = db
                .query_one(
                    "SELECT stop_requested, stop_error, stop_cause, stop_at
                       FROM stepfn_executions WHERE id = $1",
                    &[&execution],
                )
                .await?;
            Snapshot {
                record,
                frames,
                signals,
                stop: stop_request(&row, 0)?,
            }
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
        transaction!(self, |db| {
            let execution = claimed(&mut db, claim).await?;
            write_frames(&mut db, execution, &transition.frames).await?;
            for path in &transition.removed_frames {
                db.execute(
                    "DELETE FROM stepfn_frames WHERE execution_id = $1 AND path = $2",
                    &[&execution, path],
                )
                .await?;
            }
            insert_events(&mut db, execution, &transition.events).await?;
            for token in &transition.opened_tokens {
                db.execute(
                    "INSERT INTO stepfn_task_tokens (token, execution_id, state)
                     VALUES ($1, $2, 'open') ON CONFLICT DO NOTHING",
                    &[token, &execution],
                )
                .await?;
                let by: i64 = db
                    .query_one(
                        "SELECT execution_id FROM stepfn_task_tokens WHERE token = $1",
                        &[token],
                    )
                    .await?
                    .try_get(0)?;
                if by != execution {
                    return Err(StoreError::Conflict(format!(
                        "task token {token} belongs to another execution"
                    ))
                    .into());
                }
            }
            for token in &transition.closed_tokens {
                db.execute(
                    "UPDATE stepfn_task_tokens SET state = 'closed'
                      WHERE token = $1 AND execution_id = $2",
                    &[token, &execution],
                )
                .await?;
            }
            for signal in &transition.consumed_signals {
                db.execute(
                    "DELETE FROM stepfn_signals WHERE id = $1 AND execution_id = $2",
                    &[&id(*signal)?, &execution],
                )
                .await?;
            }
            let last_event_id = transition.events.iter().map(|e| e.id).max().unwrap_or(0);
            db.execute(
                "UPDATE stepfn_executions
                    SET run_at = $2, last_event_id = GREATEST(last_event_id, $3)
                  WHERE id = $1",
                &[
                    &execution,
                    &opt_nanos(transition.run_at)?,
                    &id(last_event_id)?,
                ],
            )
            .await?;
            if let Some(end) = &transition.end {
                db.execute(
                    "UPDATE stepfn_executions
                        SET status = $2, output = $3, error = $4, cause = $5, stop_date = $6,
                            run_at = NULL, signal_at = NULL, lease_owner = NULL,
                            lease_until = NULL, stop_requested = FALSE, stop_error = NULL,
                            stop_cause = NULL, stop_at = NULL
                      WHERE id = $1",
                    &[
                        &execution,
                        &ExecutionStatus::from(end.status).as_str(),
                        &end.output,
                        &end.error,
                        &end.cause,
                        &nanos(end.stop_date)?,
                    ],
                )
                .await?;
                db.execute(
                    "UPDATE stepfn_task_tokens SET state = 'closed' WHERE execution_id = $1",
                    &[&execution],
                )
                .await?;
                db.execute(
                    "DELETE FROM stepfn_signals WHERE execution_id = $1",
                    &[&execution],
                )
                .await?;
                None
            } else {
                // due at the earliest signal or stop request still waiting
                let row = db
                    .query_one(
                        "UPDATE stepfn_executions AS e
                            SET signal_at = (SELECT MIN(t) FROM (
                                  SELECT MIN(received) AS t FROM stepfn_signals
                                   WHERE execution_id = e.id
                                  UNION ALL SELECT e.stop_at WHERE e.stop_requested) AS due)
                          WHERE id = $1
                      RETURNING stop_requested, stop_error, stop_cause, stop_at",
                        &[&execution],
                    )
                    .await?;
                stop_request(&row, 0)?
            }
        })
    }

    async fn renew(&self, claim: &Claim, until: SystemTime) -> Result<Renewal, StoreError> {
        let at = nanos(until)?;
        transaction!(self, |db| {
            let execution = claimed(&mut db, claim).await?;
            let row = db
                .query_one(
                    "UPDATE stepfn_executions SET lease_owner = $2, lease_until = $3
                      WHERE id = $1
                  RETURNING stop_requested, stop_error, stop_cause, stop_at",
                    &[&execution, &claim.worker, &at],
                )
                .await?;
            let stop = stop_request(&row, 0)?;
            let signals: i64 = db
                .query_one(
                    "SELECT COUNT(*) FROM stepfn_signals WHERE execution_id = $1",
                    &[&execution],
                )
                .await?
                .try_get(0)?;
            Renewal {
                lease_until: until,
                stop,
                signals: usize::try_from(signals).unwrap_or(0),
            }
        })
    }

    async fn release(&self, claim: &Claim) -> Result<(), StoreError> {
        transaction!(self, |db| {
            let execution = claimed(&mut db, claim).await?;
            db.execute(
                "UPDATE stepfn_executions SET lease_owner = NULL, lease_until = NULL
                  WHERE id = $1",
                &[&execution],
            )
            .await?;
        })
    }

    async fn signal(&self, signal: Signal, now: SystemTime) -> Result<(), StoreError> {
        let at = nanos(now)?;
        transaction!(self, |db| {
            match &signal {
                Signal::Stop {
                    execution_arn,
                    error,
                    cause,
                } => {
                    let changed = db
                        .execute(
                            "UPDATE stepfn_executions
                                SET stop_requested = TRUE, stop_error = $2, stop_cause = $3,
                                    stop_at = $4, signal_at = LEAST(signal_at, $4)
                              WHERE execution_arn = $1 AND status = 'RUNNING'
                                AND NOT stop_requested",
                            &[execution_arn, error, cause, &at],
                        )
                        .await?;
                    if changed == 0 && load_record(&mut db, execution_arn, false).await?.is_none() {
                        return Err(StoreError::ExecutionDoesNotExist(execution_arn.clone()).into());
                    }
                }
                Signal::Task { token, message } => {
                    let owner = db
                        .query_opt(
                            "SELECT execution_id FROM stepfn_task_tokens WHERE token = $1",
                            &[token],
                        )
                        .await?
                        .ok_or(CallbackError::InvalidToken)?;
                    let execution: i64 = owner.try_get(0)?;
                    // the execution's row first, then the token's: the
                    // order a commit locks them in, so the two never
                    // deadlock
                    let status: String = db
                        .query_one(
                            "SELECT status FROM stepfn_executions WHERE id = $1 FOR UPDATE",
                            &[&execution],
                        )
                        .await?
                        .try_get(0)?;
                    let state: String = db
                        .query_one(
                            "SELECT state FROM stepfn_task_tokens WHERE token = $1 FOR UPDATE",
                            &[token],
                        )
                        .await?
                        .try_get(0)?;
                    if state != "open" || status != "RUNNING" {
                        return Err(CallbackError::TaskTimedOut.into());
                    }
                    if !matches!(message, TaskMessage::Heartbeat) {
                        db.execute(
                            "UPDATE stepfn_task_tokens SET state = 'answered' WHERE token = $1",
                            &[token],
                        )
                        .await?;
                    }
                    let (kind, output, error, cause) = message_columns(message);
                    db.execute(
                        "INSERT INTO stepfn_signals
                           (execution_id, token, kind, output, error, cause, received)
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        &[&execution, token, &kind, &output, &error, &cause, &at],
                    )
                    .await?;
                    db.execute(
                        "UPDATE stepfn_executions SET signal_at = LEAST(signal_at, $2)
                          WHERE id = $1",
                        &[&execution, &at],
                    )
                    .await?;
                }
            }
        })
    }

    async fn redrive(&self, execution_arn: &str, now: SystemTime) -> Result<Redriven, StoreError> {
        let at = nanos(now)?;
        transaction!(self, |db| {
            let record = load_record(&mut db, execution_arn, true)
                .await?
                .ok_or_else(|| StoreError::ExecutionDoesNotExist(execution_arn.to_owned()))?;
            if let Some(reason) = record.redrive_refusal(now) {
                return Err(StoreError::ExecutionNotRedrivable(reason.into()).into());
            }
            let redrive_count = record
                .redrive_count
                .checked_add(1)
                .ok_or_else(|| StoreError::Conflict("the redrive count overflows".into()))?;
            let event = redriven_event(record.last_event_id, redrive_count, now);
            let execution: i64 = db
                .query_one(
                    "UPDATE stepfn_executions
                        SET status = 'RUNNING', output = NULL, error = NULL, cause = NULL,
                            stop_date = NULL, redrive_count = $2, redrive_date = $3,
                            last_event_id = $4, run_at = $3, signal_at = NULL,
                            lease_owner = NULL, lease_until = NULL,
                            lease_token = lease_token + 1, stop_requested = FALSE,
                            stop_error = NULL, stop_cause = NULL, stop_at = NULL
                      WHERE execution_arn = $1 RETURNING id",
                    &[
                        &execution_arn,
                        &i64::from(redrive_count),
                        &at,
                        &id(event.id)?,
                    ],
                )
                .await?
                .try_get(0)?;
            db.execute(
                "DELETE FROM stepfn_signals WHERE execution_id = $1",
                &[&execution],
            )
            .await?;
            insert_events(&mut db, execution, &[event]).await?;
            Redriven {
                redrive_count,
                redrive_date: now,
            }
        })
    }

    async fn describe(&self, execution_arn: &str) -> Result<ExecutionRecord, StoreError> {
        transaction!(self, |db| {
            load_record(&mut db, execution_arn, false)
                .await?
                .ok_or_else(|| StoreError::ExecutionDoesNotExist(execution_arn.to_owned()))?
        })
    }

    async fn list(
        &self,
        filter: &ListFilter,
        next_token: Option<&str>,
    ) -> Result<Page<ExecutionSummary>, StoreError> {
        let invalid = || StoreError::InvalidToken(next_token.unwrap_or_default().to_owned());
        let after = next_token
            .map(parse_list_token)
            .transpose()?
            .map(|(start, seq)| {
                Ok::<_, StoreError>((
                    i64::try_from(start).map_err(|_| invalid())?,
                    id(seq).map_err(|_| invalid())?,
                ))
            })
            .transpose()?;
        let size = page_size(filter.max_results);
        let limit = size as i64 + 1;
        let status = filter.status.map(ExecutionStatus::as_str);
        transaction!(self, |db| {
            let rows = db
                .query(
                    "SELECT id, execution_arn, state_machine_arn, name, status, start_date,
                            stop_date, redrive_count, redrive_date
                       FROM stepfn_executions
                      WHERE ($1::text IS NULL OR state_machine_arn = $1::text)
                        AND ($2::text IS NULL OR status = $2::text)
                        AND ($3::boolean IS NULL OR (redrive_count > 0) = $3::boolean)
                        AND ($4::bigint IS NULL OR start_date < $4::bigint
                             OR (start_date = $4::bigint AND id < $5::bigint))
                      ORDER BY start_date DESC, id DESC LIMIT $6",
                    &[
                        &filter.state_machine_arn,
                        &status,
                        &filter.redriven,
                        &after.map(|a| a.0),
                        &after.map(|a| a.1),
                        &limit,
                    ],
                )
                .await?;
            let mut items = Vec::with_capacity(rows.len());
            let mut keys = Vec::with_capacity(rows.len());
            for r in rows {
                let status: String = r.try_get(4)?;
                let start: i64 = r.try_get(5)?;
                items.push(ExecutionSummary {
                    execution_arn: r.try_get(1)?,
                    state_machine_arn: r.try_get(2)?,
                    name: r.try_get(3)?,
                    status: ExecutionStatus::from_name(&status).ok_or_else(|| corrupt("status"))?,
                    start_date: time(start),
                    stop_date: r.try_get::<_, Option<i64>>(6)?.map(time),
                    redrive_count: u32::try_from(r.try_get::<_, i64>(7)?).unwrap_or(u32::MAX),
                    redrive_date: r.try_get::<_, Option<i64>>(8)?.map(time),
                });
                keys.push((start, r.try_get::<_, i64>(0)?));
            }
            let next_token = match keys.get(size.wrapping_sub(1)) {
                Some((start, seq)) if items.len() > size => {
                    Some(list_token(i128::from(*start), unsigned(*seq)))
                }
                _ => None,
            };
            items.truncate(size);
            Page { items, next_token }
        })
    }

    async fn history(
        &self,
        execution_arn: &str,
        query: &HistoryQuery,
        next_token: Option<&str>,
    ) -> Result<Page<StoredEvent>, StoreError> {
        let after = next_token
            .map(parse_history_token)
            .transpose()?
            .map(|a| {
                id(a).map_err(|_| {
                    StoreError::InvalidToken(next_token.unwrap_or_default().to_owned())
                })
            })
            .transpose()?;
        let size = page_size(query.max_results);
        let limit = size as i64 + 1;
        let reverse = query.reverse_order;
        transaction!(self, |db| {
            let execution: i64 = db
                .query_opt(
                    "SELECT id FROM stepfn_executions WHERE execution_arn = $1",
                    &[&execution_arn],
                )
                .await?
                .ok_or_else(|| StoreError::ExecutionDoesNotExist(execution_arn.to_owned()))?
                .try_get(0)?;
            let sql = if reverse {
                "SELECT event_id, previous_event_id, ts, type, details_key, details
                   FROM stepfn_history
                  WHERE execution_id = $1 AND ($2::bigint IS NULL OR event_id < $2::bigint)
                  ORDER BY event_id DESC LIMIT $3"
            } else {
                "SELECT event_id, previous_event_id, ts, type, details_key, details
                   FROM stepfn_history
                  WHERE execution_id = $1 AND ($2::bigint IS NULL OR event_id > $2::bigint)
                  ORDER BY event_id LIMIT $3"
            };
            let rows = db.query(sql, &[&execution, &after, &limit]).await?;
            let mut items = Vec::with_capacity(rows.len());
            for r in rows {
                let details: String = r.try_get(5)?;
                items.push(StoredEvent {
                    id: unsigned(r.try_get(0)?),
                    previous_event_id: unsigned(r.try_get(1)?),
                    timestamp: time(r.try_get(2)?),
                    event_type: r.try_get(3)?,
                    details_key: r.try_get(4)?,
                    details: serde_json::from_str(&details)
                        .map_err(|_| corrupt("history event"))?,
                });
            }
            let next_token = match items.get(size.wrapping_sub(1)) {
                Some(last) if items.len() > size => Some(history_token(last.id)),
                _ => None,
            };
            items.truncate(size);
            Page { items, next_token }
        })
    }

    async fn next_due(&self) -> Result<Option<SystemTime>, StoreError> {
        transaction!(self, |db| {
            let due: Option<i64> = db
                .query_one(
                    "SELECT MIN(GREATEST(LEAST(run_at, signal_at), lease_until))
                       FROM stepfn_executions
                      WHERE status = 'RUNNING' AND (run_at IS NOT NULL OR signal_at IS NOT NULL)",
                    &[],
                )
                .await?
                .try_get(0)?;
            due.map(time)
        })
    }
}
