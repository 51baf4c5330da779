//! The SQLite store's schema, created and migrated by stepfn, and how a
//! connection is opened.

use super::rows::backend;
use crate::durable::store::StoreError;
use rusqlite::{params, Connection, TransactionBehavior};
use std::path::Path;
use std::time::Duration;

/// The schema, one migration per version: `MIGRATIONS[i]` takes the
/// database from version `i` to `i + 1`.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1
    "CREATE TABLE stepfn_executions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        execution_arn TEXT NOT NULL UNIQUE,
        state_machine_arn TEXT NOT NULL,
        name TEXT NOT NULL,
        definition TEXT NOT NULL,
        input TEXT NOT NULL,
        status TEXT NOT NULL,
        output TEXT,
        error TEXT,
        cause TEXT,
        start_date INTEGER NOT NULL,
        stop_date INTEGER,
        redrive_count INTEGER NOT NULL DEFAULT 0,
        redrive_date INTEGER,
        last_event_id INTEGER NOT NULL DEFAULT 0,
        run_at INTEGER,
        signal_at INTEGER,
        lease_owner TEXT,
        lease_until INTEGER,
        lease_token INTEGER NOT NULL DEFAULT 0,
        stop_requested INTEGER NOT NULL DEFAULT 0,
        stop_error TEXT,
        stop_cause TEXT,
        stop_at INTEGER
    );
    CREATE INDEX stepfn_executions_due ON stepfn_executions (status, run_at);
    CREATE INDEX stepfn_executions_list ON stepfn_executions (start_date DESC, id DESC);
    CREATE TABLE stepfn_frames (
        execution_id INTEGER NOT NULL,
        path TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (execution_id, path)
    ) WITHOUT ROWID;
    CREATE TABLE stepfn_history (
        execution_id INTEGER NOT NULL,
        event_id INTEGER NOT NULL,
        previous_event_id INTEGER NOT NULL,
        ts INTEGER NOT NULL,
        type TEXT NOT NULL,
        details_key TEXT,
        details TEXT NOT NULL,
        PRIMARY KEY (execution_id, event_id)
    ) WITHOUT ROWID;
    CREATE TABLE stepfn_task_tokens (
        token TEXT PRIMARY KEY,
        execution_id INTEGER NOT NULL,
        state TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX stepfn_task_tokens_execution ON stepfn_task_tokens (execution_id);
    CREATE TABLE stepfn_signals (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        execution_id INTEGER NOT NULL,
        token TEXT NOT NULL,
        kind TEXT NOT NULL,
        output TEXT,
        error TEXT,
        cause TEXT,
        received INTEGER NOT NULL
    );
    CREATE INDEX stepfn_signals_execution ON stepfn_signals (execution_id, id);",
];

/// How long a write waits for another process's transaction on the same
/// file before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    // SQLite answers "database is locked" at once, without its busy
    // timeout, while another connection turns a new file to write-ahead
    // logging: that is tried again for a while
    let mut tries = 0;
    loop {
        match try_open(path) {
            Err(Busy::Busy(_)) if tries < 200 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(Busy::Busy(e)) => return Err(backend(e)),
            Err(Busy::Other(e)) => return Err(e),
            Ok(conn) => return Ok(conn),
        }
    }
}

/// Why opening failed: SQLite was busy, or anything else.
enum Busy {
    Busy(rusqlite::Error),
    Other(StoreError),
}

impl From<StoreError> for Busy {
    fn from(e: StoreError) -> Self {
        Busy::Other(e)
    }
}

/// The error `e`, told apart when it says SQLite was busy.
fn busy(e: rusqlite::Error) -> Busy {
    match &e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DatabaseBusy => {
            Busy::Busy(e)
        }
        _ => Busy::Other(backend(e)),
    }
}

fn try_open(path: &Path) -> Result<Connection, Busy> {
    let mut conn = Connection::open(path).map_err(backend)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(backend)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(busy)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Busy::Other(StoreError::Backend(format!(
            "SQLite: {} cannot use write-ahead logging (journal mode {mode})",
            path.display()
        ))));
    }
    conn.execute_batch("PRAGMA synchronous = FULL")
        .map_err(busy)?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// Creates or upgrades stepfn's tables to the last version of [`MIGRATIONS`].
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(backend)?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS stepfn_schema (version INTEGER NOT NULL)")
        .map_err(backend)?;
    let version: i64 = tx
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM stepfn_schema",
            [],
            |r| r.get(0),
        )
        .map_err(backend)?;
    let known = MIGRATIONS.len();
    let from = usize::try_from(version)
        .ok()
        .filter(|v| *v <= known)
        .ok_or_else(|| {
            StoreError::Backend(format!(
                "the database's stepfn schema is version {version}; this stepfn knows versions up to {known}"
            ))
        })?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(from) {
        tx.execute_batch(sql).map_err(backend)?;
        tx.execute(
            "INSERT INTO stepfn_schema (version) VALUES (?1)",
            params![i as i64 + 1],
        )
        .map_err(backend)?;
    }
    tx.commit().map_err(backend)
}
