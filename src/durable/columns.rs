//! Column conversions shared by the database stores (SQLite, PostgreSQL):
//! times as nanoseconds since the Unix epoch in 64-bit integer columns
//! (exact for a virtual clock's instants, from 1678 to 2262; PostgreSQL's
//! `timestamptz` keeps only microseconds), ids and counters as signed
//! 64-bit integers.

use super::store::StoreError;
use std::time::{Duration, SystemTime};

/// `t` as nanoseconds since the Unix epoch.
pub(crate) fn nanos(t: SystemTime) -> Result<i64, StoreError> {
    i64::try_from(crate::timestamp::unix_nanos(t))
        .map_err(|_| StoreError::Backend("a time outside the years 1678 to 2262".into()))
}

/// [`nanos`] of an optional time.
pub(crate) fn opt_nanos(t: Option<SystemTime>) -> Result<Option<i64>, StoreError> {
    t.map(nanos).transpose()
}

/// The time `n` nanoseconds from the Unix epoch (the epoch itself for a
/// value no `SystemTime` holds).
pub(crate) fn time(n: i64) -> SystemTime {
    let d = Duration::from_nanos(n.unsigned_abs());
    let t = if n >= 0 {
        SystemTime::UNIX_EPOCH.checked_add(d)
    } else {
        SystemTime::UNIX_EPOCH.checked_sub(d)
    };
    t.unwrap_or(SystemTime::UNIX_EPOCH)
}

/// An id or counter as a column value.
pub(crate) fn id(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Conflict(format!("id {n} is out of range")))
}

/// A column value as an id or counter (a negative one, which stepfn never
/// writes, reads as 0).
pub(crate) fn unsigned(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
