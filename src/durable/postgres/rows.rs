//! Values in columns, errors, and the statements the store's methods
//! share.

use crate::durable::store::{
    Claim, ExecutionRecord, ExecutionStatus, Frame, PendingSignal, StopRequest, StoreError,
    StoredEvent, TaskMessage,
};
use std::collections::HashMap;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Row, Statement, Transaction};

/// What a store operation can fail with: a refusal of the store's own, or
/// a PostgreSQL error (mapped to a [`StoreError`] by the store's `settle`,
/// which also tells a lost connection apart).
pub(super) enum Fail {
    Store(StoreError),
    Pg(tokio_postgres::Error),
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Fail::Store(e)
    }
}

impl From<tokio_postgres::Error> for Fail {
    fn from(e: tokio_postgres::Error) -> Self {
        Fail::Pg(e)
    }
}

impl From<crate::executor::CallbackError> for Fail {
    fn from(e: crate::executor::CallbackError) -> Self {
        Fail::Store(e.into())
    }
}

/// The error of a call during which the connection went away. Whatever
/// that call wrote in its transaction was rolled back by the server,
/// unless the connection broke after its COMMIT was sent.
pub(super) const LOST: &str =
    "PostgreSQL: the connection to the server was lost (the next call reconnects)";

/// Whether `e` means the connection is gone: closed, broken, or ended by
/// the server (a FATAL or PANIC error, e.g. `pg_terminate_backend` or a
/// server shutdown).
pub(super) fn is_lost(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    if let Some(db) = e.as_db_error() {
        return matches!(db.severity(), "FATAL" | "PANIC");
    }
    std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
}

/// A PostgreSQL error in words: the server's severity and message, or
/// the client's description.
pub(super) fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{}: {}", db.severity(), db.message());
    }
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.ends_with(&more) {
            text = format!("{text}: {more}");
        }
        cause = c.source();
    }
    text
}

/// A PostgreSQL error as the store reports it.
pub(super) fn backend(e: &tokio_postgres::Error) -> StoreError {
    StoreError::Backend(format!("PostgreSQL: {}", describe(e)))
}

pub(super) use crate::durable::columns::{id, nanos, opt_nanos, time, unsigned};

pub(super) fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("PostgreSQL: a stored {what} is not valid"))
}

/// One transaction with the connection's prepared statements: each SQL
/// text is prepared once per connection, then reused.
pub(super) struct Db<'a> {
    tx: Transaction<'a>,
    cache: &'a mut HashMap<&'static str, Statement>,
}

type Params<'p> = &'p [&'p (dyn ToSql + Sync)];

impl<'a> Db<'a> {
    pub(super) fn new(
        tx: Transaction<'a>,
        cache: &'a mut HashMap<&'static str, Statement>,
    ) -> Self {
        Db { tx, cache }
    }

    async fn statement(&mut self, sql: &'static str) -> Result<Statement, Fail> {
        if let Some(statement) = self.cache.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.tx.prepare(sql).await?;
        self.cache.insert(sql, statement.clone());
        Ok(statement)
    }

    pub(super) async fn query(
        &mut self,
        sql: &'static str,
        params: Params<'_>,
    ) -> Result<Vec<Row>, Fail> {
        let statement = self.statement(sql).await?;
        Ok(self.tx.query(&statement, params).await?)
    }

    pub(super) async fn query_opt(
        &mut self,
        sql: &'static str,
        params: Params<'_>,
    ) -> Result<Option<Row>, Fail> {
        let statement = self.statement(sql).await?;
        Ok(self.tx.query_opt(&statement, params).await?)
    }

    pub(super) async fn query_one(
        &mut self,
        sql: &'static str,
        params: Params<'_>,
    ) -> Result<Row, Fail> {
        let statement = self.statement(sql).await?;
        Ok(self.tx.query_one(&statement, params).await?)
    }

    pub(super) async fn execute(
        &mut self,
        sql: &'static str,
        params: Params<'_>,
    ) -> Result<u64, Fail> {
        let statement = self.statement(sql).await?;
        Ok(self.tx.execute(&statement, params).await?)
    }

    /// Commits; dropping a `Db` without committing rolls back.
    pub(super) async fn commit(self) -> Result<(), Fail> {
        Ok(self.tx.commit().await?)
    }
}

pub(super) const SELECT_RECORD: &str =
    "SELECT execution_arn, state_machine_arn, name, definition, input, status, \
     output, error, cause, start_date, stop_date, redrive_count, redrive_date, last_event_id \
     FROM stepfn_executions WHERE execution_arn = $1";

pub(super) const SELECT_RECORD_FOR_UPDATE: &str =
    "SELECT execution_arn, state_machine_arn, name, definition, input, status, \
     output, error, cause, start_date, stop_date, redrive_count, redrive_date, last_event_id \
     FROM stepfn_executions WHERE execution_arn = $1 FOR UPDATE";

/// An [`ExecutionRecord`] from a row of [`SELECT_RECORD`].
pub(super) fn record(row: &Row) -> Result<ExecutionRecord, Fail> {
    let status: String = row.try_get(5)?;
    let status = ExecutionStatus::from_name(&status).ok_or_else(|| corrupt("status"))?;
    Ok(ExecutionRecord {
        execution_arn: row.try_get(0)?,
        state_machine_arn: row.try_get(1)?,
        name: row.try_get(2)?,
        definition: row.try_get(3)?,
        input: row.try_get(4)?,
        status,
        output: row.try_get(6)?,
        error: row.try_get(7)?,
        cause: row.try_get(8)?,
        start_date: time(row.try_get(9)?),
        stop_date: row.try_get::<_, Option<i64>>(10)?.map(time),
        redrive_count: u32::try_from(row.try_get::<_, i64>(11)?).unwrap_or(u32::MAX),
        redrive_date: row.try_get::<_, Option<i64>>(12)?.map(time),
        last_event_id: unsigned(row.try_get(13)?),
    })
}

pub(super) async fn load_record(
    db: &mut Db<'_>,
    arn: &str,
    lock: bool,
) -> Result<Option<ExecutionRecord>, Fail> {
    let sql = if lock {
        SELECT_RECORD_FOR_UPDATE
    } else {
        SELECT_RECORD
    };
    db.query_opt(sql, &[&arn])
        .await?
        .map(|row| record(&row))
        .transpose()
}

/// The row id of the execution a claim names, if the claim still holds;
/// the row stays locked until the transaction ends, so that no claim,
/// signal or redrive slips in between the check and the write.
pub(super) async fn claimed(db: &mut Db<'_>, claim: &Claim) -> Result<i64, Fail> {
    let token = id(claim.fencing_token)?;
    let row = db
        .query_opt(
            "SELECT id FROM stepfn_executions
              WHERE execution_arn = $1 AND lease_token = $2 AND status = 'RUNNING'
                FOR UPDATE",
            &[&claim.execution_arn, &token],
        )
        .await?
        .ok_or_else(|| StoreError::LeaseLost(claim.execution_arn.clone()))?;
    Ok(row.try_get(0)?)
}

/// Inserts `events` in one statement (a commit of many transitions carries
/// hundreds: one round trip each would dominate it); an event already
/// stored is a conflict, named by the first such id.
pub(super) async fn insert_events(
    db: &mut Db<'_>,
    execution: i64,
    events: &[StoredEvent],
) -> Result<(), Fail> {
    if events.is_empty() {
        return Ok(());
    }
    let n = events.len();
    let (mut ids, mut previous, mut ts) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut types, mut keys, mut details) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for event in events {
        ids.push(id(event.id)?);
        previous.push(id(event.previous_event_id)?);
        ts.push(nanos(event.timestamp)?);
        types.push(event.event_type.as_str());
        keys.push(event.details_key.as_deref());
        details.push(
            serde_json::to_string(&event.details)
                .map_err(|e| StoreError::Backend(format!("history details: {e}")))?,
        );
    }
    let inserted = db
        .query(
            "INSERT INTO stepfn_history
               (execution_id, event_id, previous_event_id, ts, type, details_key, details)
             SELECT $1, * FROM UNNEST($2::BIGINT[], $3::BIGINT[], $4::BIGINT[],
                                      $5::TEXT[], $6::TEXT[], $7::TEXT[])
             ON CONFLICT DO NOTHING
             RETURNING event_id",
            &[&execution, &ids, &previous, &ts, &types, &keys, &details],
        )
        .await?;
    if inserted.len() < n {
        let stored: std::collections::HashSet<i64> = inserted
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()?;
        let first = events
            .iter()
            .zip(&ids)
            .find(|(_, id)| !stored.contains(id))
            .map_or(0, |(event, _)| event.id);
        return Err(
            StoreError::Conflict(format!("history event {first} is already stored")).into(),
        );
    }
    Ok(())
}

pub(super) async fn write_frames(
    db: &mut Db<'_>,
    execution: i64,
    frames: &[Frame],
) -> Result<(), Fail> {
    for frame in frames {
        let data = serde_json::to_string(&frame.data)
            .map_err(|e| StoreError::Backend(format!("frame data: {e}")))?;
        db.execute(
            "INSERT INTO stepfn_frames (execution_id, path, data) VALUES ($1, $2, $3)
             ON CONFLICT (execution_id, path) DO UPDATE SET data = excluded.data",
            &[&execution, &frame.path, &data],
        )
        .await?;
    }
    Ok(())
}

pub(super) fn message_columns(
    message: &TaskMessage,
) -> (&'static str, Option<&str>, Option<&str>, Option<&str>) {
    match message {
        TaskMessage::Success { output } => ("success", Some(output), None, None),
        TaskMessage::Failure { error, cause } => {
            ("failure", None, error.as_deref(), cause.as_deref())
        }
        TaskMessage::Heartbeat => ("heartbeat", None, None, None),
    }
}

/// The stop request in columns `at..at + 4` (`stop_requested, stop_error,
/// stop_cause, stop_at`).
pub(super) fn stop_request(row: &Row, at: usize) -> Result<Option<StopRequest>, Fail> {
    let requested: bool = row.try_get(at)?;
    Ok(if requested {
        Some(StopRequest {
            error: row.try_get(at + 1)?,
            cause: row.try_get(at + 2)?,
            requested: time(row.try_get::<_, Option<i64>>(at + 3)?.unwrap_or(0)),
        })
    } else {
        None
    })
}

pub(super) async fn pending_signals(
    db: &mut Db<'_>,
    execution: i64,
) -> Result<Vec<PendingSignal>, Fail> {
    let rows = db
        .query(
            "SELECT id, token, kind, output, error, cause, received FROM stepfn_signals
              WHERE execution_id = $1 ORDER BY id",
            &[&execution],
        )
        .await?;
    let mut signals = Vec::with_capacity(rows.len());
    for r in rows {
        let kind: String = r.try_get(2)?;
        let message = match kind.as_str() {
            "success" => TaskMessage::Success {
                output: r.try_get::<_, Option<String>>(3)?.unwrap_or_default(),
            },
            "failure" => TaskMessage::Failure {
                error: r.try_get(4)?,
                cause: r.try_get(5)?,
            },
            "heartbeat" => TaskMessage::Heartbeat,
            _ => return Err(corrupt("signal").into()),
        };
        signals.push(PendingSignal {
            id: unsigned(r.try_get(0)?),
            token: r.try_get(1)?,
            message,
            received: time(r.try_get(6)?),
        });
    }
    Ok(signals)
}
