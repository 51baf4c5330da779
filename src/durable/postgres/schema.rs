//! The PostgreSQL store's schema, created and migrated by stepfn, and the
//! settings of its connections.

use super::rows::{backend, describe, Fail};
use crate::durable::store::StoreError;
use std::str::FromStr;
use std::time::Duration;
use tokio_postgres::{Client, Config};

/// The schema, one migration per version: `MIGRATIONS[i]` takes the
/// database from version `i` to `i + 1`. Times are BIGINT nanoseconds
/// since the Unix epoch, as in the SQLite store.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1
    "CREATE TABLE stepfn_executions (
        id BIGSERIAL PRIMARY KEY,
        execution_arn TEXT NOT NULL UNIQUE,
        state_machine_arn TEXT NOT NULL,
        name TEXT NOT NULL,
        definition TEXT NOT NULL,
        input TEXT NOT NULL,
        status TEXT NOT NULL,
        output TEXT,
        error TEXT,
        cause TEXT,
        start_date BIGINT NOT NULL,
        stop_date BIGINT,
        redrive_count BIGINT NOT NULL DEFAULT 0,
        redrive_date BIGINT,
        last_event_id BIGINT NOT NULL DEFAULT 0,
        run_at BIGINT,
        signal_at BIGINT,
        lease_owner TEXT,
        lease_until BIGINT,
        lease_token BIGINT NOT NULL DEFAULT 0,
        stop_requested BOOLEAN NOT NULL DEFAULT FALSE,
        stop_error TEXT,
        stop_cause TEXT,
        stop_at BIGINT
    );
    CREATE INDEX stepfn_executions_due ON stepfn_executions ((LEAST(run_at, signal_at)), id)
        WHERE status = 'RUNNING';
    CREATE INDEX stepfn_executions_list ON stepfn_executions (start_date DESC, id DESC);
    CREATE TABLE stepfn_frames (
        execution_id BIGINT NOT NULL,
        path TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (execution_id, path)
    );
    CREATE TABLE stepfn_history (
        execution_id BIGINT NOT NULL,
        event_id BIGINT NOT NULL,
        previous_event_id BIGINT NOT NULL,
        ts BIGINT NOT NULL,
        type TEXT NOT NULL,
        details_key TEXT,
        details TEXT NOT NULL,
        PRIMARY KEY (execution_id, event_id)
    );
    CREATE TABLE stepfn_task_tokens (
        token TEXT PRIMARY KEY,
        execution_id BIGINT NOT NULL,
        state TEXT NOT NULL
    );
    CREATE INDEX stepfn_task_tokens_execution ON stepfn_task_tokens (execution_id);
    CREATE TABLE stepfn_signals (
        id BIGSERIAL PRIMARY KEY,
        execution_id BIGINT NOT NULL,
        token TEXT NOT NULL,
        kind TEXT NOT NULL,
        output TEXT,
        error TEXT,
        cause TEXT,
        received BIGINT NOT NULL
    );
    CREATE INDEX stepfn_signals_execution ON stepfn_signals (execution_id, id);",
];

/// The advisory lock every migration holds (two 32-bit keys: "step",
/// "fn" 1), so that processes connecting at once migrate one at a time.
const MIGRATION_LOCK: &str = "SELECT pg_advisory_xact_lock(1937007984, 1718484993)";

/// How long connecting may take when the connection string does not say
/// (`connect_timeout`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The connection settings from a libpq-style string (`host=… user=…` or
/// `postgresql://…`), with stepfn's defaults where it says nothing: the
/// application name `stepfn` and a 10-second connect timeout.
pub(super) fn config(text: &str) -> Result<Config, StoreError> {
    let mut config = Config::from_str(text).map_err(|e| backend(&e))?;
    if config.get_application_name().is_none() {
        config.application_name("stepfn");
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    Ok(config)
}

/// How long the server lets a transaction of the store sit idle before it
/// ends the session (`idle_in_transaction_session_timeout`), unless the
/// connection string's `options` set it: a worker paused in the middle of
/// a commit (stopped, swapped out, cut off) then holds the execution's row
/// lock for at most this long, instead of blocking every signal to it
/// until it wakes.
const IDLE_IN_TRANSACTION: &str = "SET idle_in_transaction_session_timeout = '60s'";

/// Whether the connection string chose its own idle-in-transaction
/// timeout.
pub(super) fn sets_idle_timeout(config: &Config) -> bool {
    config
        .get_options()
        .is_some_and(|o| o.contains("idle_in_transaction_session_timeout"))
}

/// `name` quoted as an SQL identifier; PostgreSQL would silently cut a
/// name longer than 63 bytes, so such a name is refused.
pub(super) fn quote_schema(name: &str) -> Result<String, StoreError> {
    if name.is_empty() || name.len() > 63 || name.contains('\0') {
        return Err(StoreError::Backend(format!(
            "PostgreSQL: the schema name {name:?} is not usable (1 to 63 bytes, no NUL)"
        )));
    }
    Ok(format!("\"{}\"", name.replace('"', "\"\"")))
}

/// Prepares a new connection: the idle-in-transaction timeout (when
/// `idle_timeout`), stepfn's schema first on the search path
/// (created if missing), then its tables created or upgraded to the last
/// version of [`MIGRATIONS`]; a newer version is refused.
pub(super) async fn prepare(
    client: &mut Client,
    schema: Option<&str>,
    idle_timeout: bool,
) -> Result<(), Fail> {
    if idle_timeout {
        client.batch_execute(IDLE_IN_TRANSACTION).await?;
    }
    if let Some(schema) = schema {
        client
            .batch_execute(&format!("SET search_path TO {}", quote_schema(schema)?))
            .await?;
    }
    let tx = client.transaction().await?;
    tx.batch_execute(MIGRATION_LOCK).await?;
    if let Some(schema) = schema {
        // checked first: CREATE SCHEMA IF NOT EXISTS wants the CREATE
        // privilege even when the schema exists
        let exists = tx
            .query_opt("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[&schema])
            .await?;
        if exists.is_none() {
            tx.batch_execute(&format!("CREATE SCHEMA {}", quote_schema(schema)?))
                .await?;
        }
    }
    let table = tx
        .query_one("SELECT to_regclass('stepfn_schema') IS NOT NULL", &[])
        .await?;
    if !table.try_get::<_, bool>(0)? {
        tx.batch_execute("CREATE TABLE stepfn_schema (version BIGINT NOT NULL)")
            .await?;
    }
    let version: i64 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM stepfn_schema", &[])
        .await?
        .try_get(0)?;
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
        tx.batch_execute(sql).await?;
        let version = i as i64 + 1;
        tx.execute(
            "INSERT INTO stepfn_schema (version) VALUES ($1)",
            &[&version],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A connection that could not be made.
pub(super) fn cannot_connect(e: &tokio_postgres::Error) -> StoreError {
    StoreError::Backend(format!("PostgreSQL: cannot connect: {}", describe(e)))
}
