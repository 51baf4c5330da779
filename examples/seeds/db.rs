//! The embedded database: one SQLite file in a fresh directory under the
//! system's temp dir, removed again when the [`Db`] is dropped.
//!
//! The tutorials keep their data in DynamoDB; here SQLite plays that part.
//! Task code reaches it only through the executor, never through globals.

use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

/// A SQLite database in its own temp directory.
///
/// One connection behind a mutex: every statement is short, and SQLite
/// serialises writers anyway. Each statement is atomic on its own, which is
/// all the tutorials' DynamoDB calls rely on (a conditional update is one
/// `UPDATE ... WHERE` statement).
pub struct Db {
    dir: PathBuf,
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl Db {
    /// Creates `<temp>/stepfn-<label>-<pid>-<time>-<n>/store.sqlite3` and
    /// opens it. `schema` is run once (the tables of the example).
    pub fn create(label: &str, schema: &str) -> Result<Db, String> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "stepfn-{label}-{}-{nanos}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
        let path = dir.join("store.sqlite3");
        let conn = Connection::open(&path)
            .map_err(|e| format!("cannot open `{}`: {e}", path.display()))?;
        conn.execute_batch(schema)
            .map_err(|e| format!("cannot create the tables: {e}"))?;
        Ok(Db {
            dir,
            path,
            conn: Mutex::new(conn),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection, for one short piece of work.
    pub fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written
        // (each statement is atomic), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        // Close the file before removing it (Windows will not delete an open
        // file): swap in a throwaway in-memory connection.
        if let Ok(memory) = Connection::open_in_memory() {
            let conn = self.conn.get_mut().unwrap_or_else(|e| e.into_inner());
            drop(std::mem::replace(conn, memory));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
