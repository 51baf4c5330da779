//! Durable executions through the public API. `store` is one conformance
//! suite for the `ExecutionStore` trait, run against every store
//! (`MemoryStore`, and `SqliteStore` with feature `sqlite`); `sqlite`
//! holds what only a database file has (reopening, the schema version,
//! two connections on one file).

#[path = "../common/mod.rs"]
mod common;

mod driver;
#[cfg(feature = "sqlite")]
mod kill;
#[cfg(feature = "sqlite")]
mod sqlite;
mod store;
