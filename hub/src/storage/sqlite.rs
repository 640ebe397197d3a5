//! The embedded default: one SQLite file in WAL mode.
//!
//! `synchronous = FULL` makes every commit fsync the write-ahead log before it returns, which is what
//! lets the hub acknowledge an upload only once its index rows are durable. Writers take the lock
//! up front (`BEGIN IMMEDIATE`) and wait for each other up to the busy timeout; readers never block
//! the writer in WAL mode. Statements run on tokio's blocking pool so a slow fsync never stalls the
//! async runtime.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::sql::{Dialect, Row, SqlBackend, SqlTx, StorageError, TxMode, Value};

/// How many connections the pool keeps (one writer at a time, the rest read concurrently).
const POOL_SIZE: usize = 8;

/// A pool of connections to one SQLite database file.
pub struct SqliteBackend {
    path: PathBuf,
    idle: Arc<Mutex<Vec<Connection>>>,
    permits: Arc<Semaphore>,
}

impl SqliteBackend {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        let mut idle = Vec::with_capacity(POOL_SIZE);
        for _ in 0..POOL_SIZE {
            idle.push(open_connection(path)?);
        }
        Ok(SqliteBackend {
            path: path.to_owned(),
            idle: Arc::new(Mutex::new(idle)),
            permits: Arc::new(Semaphore::new(POOL_SIZE)),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn open_connection(path: &Path) -> Result<Connection, StorageError> {
    let fail = |e: rusqlite::Error| StorageError::Open {
        location: path.display().to_string(),
        message: e.to_string(),
    };
    let conn = Connection::open(path).map_err(fail)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 15000;",
    )
    .map_err(fail)?;
    Ok(conn)
}

#[async_trait]
impl SqlBackend for SqliteBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn begin(&self, mode: TxMode) -> Result<Box<dyn SqlTx>, StorageError> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StorageError::database("BEGIN", "connection pool closed"))?;
        let pooled = self
            .idle
            .lock()
            .map_err(|_| StorageError::database("BEGIN", "connection pool poisoned"))?
            .pop();
        // A transaction cancelled mid-statement loses its connection; the permit bounds the count,
        // so a replacement is opened here.
        let conn = match pooled {
            Some(conn) => conn,
            None => open_connection(&self.path)?,
        };
        let mut tx = SqliteTx {
            conn: Some(conn),
            idle: self.idle.clone(),
            _permit: permit,
            open: false,
        };
        let begin = match mode {
            TxMode::Read => "BEGIN DEFERRED",
            TxMode::Write => "BEGIN IMMEDIATE",
        };
        tx.execute_batch(begin).await?;
        tx.open = true;
        Ok(Box::new(tx))
    }
}

/// A transaction on a pooled connection; the connection goes back to the pool on drop.
struct SqliteTx {
    conn: Option<Connection>,
    idle: Arc<Mutex<Vec<Connection>>>,
    _permit: OwnedSemaphorePermit,
    open: bool,
}

impl SqliteTx {
    /// Runs `f` on the connection on the blocking pool.
    async fn with_conn<T, F>(&mut self, sql: &str, f: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, rusqlite::Error> + Send + 'static,
    {
        let mut conn = self
            .conn
            .take()
            .ok_or_else(|| StorageError::database(sql, "transaction already finished"))?;
        let (conn, result) = tokio::task::spawn_blocking(move || {
            let result = f(&mut conn);
            (conn, result)
        })
        .await
        .map_err(|e| StorageError::database(sql, e))?;
        self.conn = Some(conn);
        result.map_err(|e| map_error(sql, e))
    }
}

fn map_error(sql: &str, e: rusqlite::Error) -> StorageError {
    match &e {
        rusqlite::Error::SqliteFailure(code, _)
            if code.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StorageError::constraint(sql, e)
        }
        _ => StorageError::database(sql, e),
    }
}

/// SQLite numbers parameters `?1`, PostgreSQL `$1`; the hub writes `$1`.
fn to_sqlite(sql: &str) -> String {
    sql.replace('$', "?")
}

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(v) => ToSqlOutput::Borrowed(ValueRef::Integer(*v)),
            Value::Real(v) => ToSqlOutput::Borrowed(ValueRef::Real(*v)),
            Value::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
        })
    }
}

fn read_value(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            Value::Text(String::from_utf8_lossy(t).into_owned())
        }
    }
}

#[async_trait]
impl SqlTx for SqliteTx {
    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StorageError> {
        let (text, params) = (to_sqlite(sql), params.to_vec());
        self.with_conn(sql, move |conn| {
            let mut stmt = conn.prepare_cached(&text)?;
            let n = stmt.execute(rusqlite::params_from_iter(params.iter()))?;
            Ok(n as u64)
        })
        .await
    }

    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StorageError> {
        let (text, params) = (to_sqlite(sql), params.to_vec());
        self.with_conn(sql, move |conn| {
            let mut stmt = conn.prepare_cached(&text)?;
            let columns = stmt.column_count();
            let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                let values = (0..columns)
                    .map(|i| row.get_ref(i).map(read_value))
                    .collect::<Result<Vec<_>, _>>()?;
                out.push(Row(values));
            }
            Ok(out)
        })
        .await
    }

    async fn execute_batch(&mut self, sql: &str) -> Result<(), StorageError> {
        let text = sql.to_owned();
        self.with_conn(sql, move |conn| conn.execute_batch(&text))
            .await
    }

    async fn commit(mut self: Box<Self>) -> Result<(), StorageError> {
        self.execute_batch("COMMIT").await?;
        self.open = false;
        Ok(())
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            // A statement was cancelled mid-flight; its connection is gone with the blocking task.
            return;
        };
        if self.open {
            // Dropped without commit: roll back. Quick (no fsync), so it runs inline.
            let _ = conn.execute_batch("ROLLBACK");
        }
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(conn);
        }
    }
}
