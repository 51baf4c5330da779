//! Values in columns and the statements the store's methods share.

use crate::durable::store::{
    Claim, ExecutionRecord, ExecutionStatus, Frame, PendingSignal, StopRequest, StoreError,
    StoredEvent, TaskMessage,
};
use rusqlite::{params, OptionalExtension, Row, Transaction};

/// A SQLite error as the store reports it.
pub(super) fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(format!("SQLite: {e}"))
}

pub(super) use crate::durable::columns::{id, nanos, opt_nanos, time, unsigned};

pub(super) fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("SQLite: a stored {what} is not valid"))
}

pub(super) const RECORD_COLUMNS: &str =
    "execution_arn, state_machine_arn, name, definition, input, status, \
     output, error, cause, start_date, stop_date, redrive_count, redrive_date, last_event_id";

/// An [`ExecutionRecord`] from a row of [`RECORD_COLUMNS`].
pub(super) fn record(row: &Row<'_>) -> rusqlite::Result<Result<ExecutionRecord, StoreError>> {
    let status: String = row.get(5)?;
    let Some(status) = ExecutionStatus::from_name(&status) else {
        return Ok(Err(corrupt("status")));
    };
    Ok(Ok(ExecutionRecord {
        execution_arn: row.get(0)?,
        state_machine_arn: row.get(1)?,
        name: row.get(2)?,
        definition: row.get(3)?,
        input: row.get(4)?,
        status,
        output: row.get(6)?,
        error: row.get(7)?,
        cause: row.get(8)?,
        start_date: time(row.get(9)?),
        stop_date: row.get::<_, Option<i64>>(10)?.map(time),
        redrive_count: u32::try_from(row.get::<_, i64>(11)?).unwrap_or(u32::MAX),
        redrive_date: row.get::<_, Option<i64>>(12)?.map(time),
        last_event_id: unsigned(row.get(13)?),
    }))
}

pub(super) fn load_record(
    tx: &Transaction<'_>,
    arn: &str,
) -> Result<Option<ExecutionRecord>, StoreError> {
    tx.query_row(
        &format!("SELECT {RECORD_COLUMNS} FROM stepfn_executions WHERE execution_arn = ?1"),
        params![arn],
        record,
    )
    .optional()
    .map_err(backend)?
    .transpose()
}

/// The row id of the execution a claim names, if the claim still holds.
pub(super) fn claimed(tx: &Transaction<'_>, claim: &Claim) -> Result<i64, StoreError> {
    let token = id(claim.fencing_token)?;
    tx.query_row(
        "SELECT id FROM stepfn_executions
          WHERE execution_arn = ?1 AND lease_token = ?2 AND status = 'RUNNING'",
        params![claim.execution_arn, token],
        |r| r.get(0),
    )
    .optional()
    .map_err(backend)?
    .ok_or_else(|| StoreError::LeaseLost(claim.execution_arn.clone()))
}

pub(super) fn insert_events(
    tx: &Transaction<'_>,
    execution: i64,
    events: &[StoredEvent],
) -> Result<(), StoreError> {
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO stepfn_history
               (execution_id, event_id, previous_event_id, ts, type, details_key, details)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT DO NOTHING",
        )
        .map_err(backend)?;
    for event in events {
        let details = serde_json::to_string(&event.details)
            .map_err(|e| StoreError::Backend(format!("history details: {e}")))?;
        let inserted = insert
            .execute(params![
                execution,
                id(event.id)?,
                id(event.previous_event_id)?,
                nanos(event.timestamp)?,
                event.event_type,
                event.details_key,
                details,
            ])
            .map_err(backend)?;
        if inserted == 0 {
            return Err(StoreError::Conflict(format!(
                "history event {} is already stored",
                event.id
            )));
        }
    }
    Ok(())
}

pub(super) fn write_frames(
    tx: &Transaction<'_>,
    execution: i64,
    frames: &[Frame],
) -> Result<(), StoreError> {
    let mut upsert = tx
        .prepare_cached(
            "INSERT INTO stepfn_frames (execution_id, path, data) VALUES (?1, ?2, ?3)
             ON CONFLICT (execution_id, path) DO UPDATE SET data = excluded.data",
        )
        .map_err(backend)?;
    for frame in frames {
        let data = serde_json::to_string(&frame.data)
            .map_err(|e| StoreError::Backend(format!("frame data: {e}")))?;
        upsert
            .execute(params![execution, frame.path, data])
            .map_err(backend)?;
    }
    Ok(())
}

/// The earliest unconsumed signal or pending stop of an execution: when
/// it is due whatever its run time says.
pub(super) const SIGNAL_AT: &str = "(SELECT MIN(t) FROM (
        SELECT MIN(received) AS t FROM stepfn_signals WHERE execution_id = e.id
        UNION ALL SELECT e.stop_at WHERE e.stop_requested))";

/// When an execution is due: its run time or its earliest signal.
pub(super) const DUE: &str =
    "MIN(COALESCE(run_at, 9223372036854775807), COALESCE(signal_at, 9223372036854775807))";

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

pub(super) fn stop_request(row: &Row<'_>, at: usize) -> rusqlite::Result<Option<StopRequest>> {
    let requested: bool = row.get(at)?;
    Ok(if requested {
        Some(StopRequest {
            error: row.get(at + 1)?,
            cause: row.get(at + 2)?,
            requested: time(row.get::<_, Option<i64>>(at + 3)?.unwrap_or(0)),
        })
    } else {
        None
    })
}

pub(super) fn pending_signals(
    tx: &Transaction<'_>,
    execution: i64,
) -> Result<Vec<PendingSignal>, StoreError> {
    let mut select = tx
        .prepare_cached(
            "SELECT id, token, kind, output, error, cause, received FROM stepfn_signals
              WHERE execution_id = ?1 ORDER BY id",
        )
        .map_err(backend)?;
    let rows = select
        .query_map(params![execution], |r| {
            let kind: String = r.get(2)?;
            let message = match kind.as_str() {
                "success" => TaskMessage::Success {
                    output: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                },
                "failure" => TaskMessage::Failure {
                    error: r.get(4)?,
                    cause: r.get(5)?,
                },
                _ => TaskMessage::Heartbeat,
            };
            Ok(PendingSignal {
                id: unsigned(r.get(0)?),
                token: r.get(1)?,
                message,
                received: time(r.get(6)?),
            })
        })
        .map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}
