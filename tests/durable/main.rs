//! Durable executions through the public API. `store` is one conformance
//! suite for the `ExecutionStore` trait, run against every store
//! (`MemoryStore`, `SqliteStore` with feature `sqlite`, `PostgresStore`
//! with feature `postgres`); `sqlite` holds what only a database file has
//! (reopening, the schema version, two connections on one file),
//! `postgres` what only a database server has (racing claimers on many
//! connections, a connection the server closes).

#[path = "../common/mod.rs"]
mod common;

mod callback;
mod driver;
#[cfg(feature = "sqlite")]
mod kill;
#[cfg(feature = "postgres")]
mod postgres;
mod running;
#[cfg(feature = "sqlite")]
mod sqlite;
mod store;
