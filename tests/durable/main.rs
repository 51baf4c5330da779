//! Durable executions through the public API. `store` is one conformance
//! suite for the `ExecutionStore` trait, run against every store
//! (`MemoryStore`, `SqliteStore` with feature `sqlite`, `PostgresStore`
//! with feature `postgres`); `sqlite` holds what only a database file has
//! (reopening, the schema version, two connections on one file),
//! `postgres` what only a database server has (racing claimers on many
//! connections, a connection the server closes). `chaos.rs` beside them is
//! a test binary of its own (`durable_chaos`, feature `cli`): the PostgreSQL
//! acceptance test, `stepfn worker` processes killed and paused at random.

#[path = "../common/mod.rs"]
mod common;

mod callback;
mod driver;
mod interrupted;
#[cfg(feature = "sqlite")]
mod kill;
mod lines;
#[cfg(feature = "postgres")]
mod postgres;
mod redrive;
mod running;
#[cfg(feature = "sqlite")]
mod sqlite;
mod store;
