//! The embedded default: one SQLite file in WAL mode, with group commit.
//!
//! A commit returns only once the write-ahead log holding it is fsynced, which is what lets the hub
//! acknowledge an upload only once its index rows are durable. The fsync is shared: SQLite runs
//! with `synchronous = NORMAL` (a commit writes its frames to the WAL without syncing it; a
//! checkpoint still syncs the WAL before and the database after), and [`SqlTx::commit`] then waits
//! for one fsync of the WAL file that started after its frames were written. Concurrent committers
//! (several DICOM associations, several uploads) thus share one fsync instead of queueing for one
//! each, and the write lock is held only for the statements, not for the fsync. Recovery replays
//! the WAL up to the first frame whose cumulative checksum fails, so a crash can only lose a suffix
//! of commits that nobody was told about; never an earlier one, never half of one.
//!
//! A reader can see a commit in the moment between its frames being written and their fsync;
//! [`SqlBackend::wait_durable`] lets whoever acknowledges what they read wait that moment out.
//!
//! Writers take the lock up front (`BEGIN IMMEDIATE`) and wait for each other up to the busy
//! timeout; readers never block the writer in WAL mode. Statements run on tokio's blocking pool so a
//! slow fsync never stalls the async runtime.

use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
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
    sync: Arc<GroupSync>,
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
            sync: Arc::new(GroupSync::new(path)),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Group commit: one fsync of the WAL file makes every commit written before it started durable.
struct GroupSync {
    wal: PathBuf,
    dir: PathBuf,
    /// Commits whose frames are in the WAL (written, not necessarily synced), numbered from 1.
    written: AtomicU64,
    /// The highest commit number known to be durable.
    durable: AtomicU64,
    /// WAL fsyncs done (for tests and diagnostics).
    syncs: AtomicU64,
    /// Held by the one task syncing; keeps the WAL file open (and its inode, whose directory
    /// entry is known durable) between syncs.
    syncing: tokio::sync::Mutex<Option<(File, u64)>>,
}

impl GroupSync {
    fn new(db: &Path) -> Self {
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        let dir = match db.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        GroupSync {
            wal: PathBuf::from(wal),
            dir,
            written: AtomicU64::new(0),
            durable: AtomicU64::new(0),
            syncs: AtomicU64::new(0),
            syncing: tokio::sync::Mutex::new(None),
        }
    }

    /// Registers a commit whose frames have just been written; returns its number.
    fn written(&self) -> u64 {
        self.written.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Returns once commit number `upto` (and every one before it) is durable.
    async fn wait(&self, upto: u64) -> Result<(), StorageError> {
        if self.durable.load(Ordering::SeqCst) >= upto {
            return Ok(());
        }
        let mut held = self.syncing.lock().await;
        // Whoever held the lock before may have synced past us while we queued.
        if self.durable.load(Ordering::SeqCst) >= upto {
            return Ok(());
        }
        // Every commit numbered up to here has its frames in the WAL already: this fsync covers it.
        let target = self.written.load(Ordering::SeqCst);
        let (wal, dir, open) = (self.wal.clone(), self.dir.clone(), held.take());
        let (open, result) = tokio::task::spawn_blocking(move || sync_wal(&wal, &dir, open))
            .await
            .map_err(|e| StorageError::database("COMMIT", format!("WAL fsync task failed: {e}")))?;
        *held = open;
        result.map_err(|e| {
            StorageError::database(
                "COMMIT",
                format!(
                    "cannot fsync the write-ahead log {}: {e}",
                    self.wal.display()
                ),
            )
        })?;
        self.syncs.fetch_add(1, Ordering::Relaxed);
        self.durable.fetch_max(target, Ordering::SeqCst);
        Ok(())
    }
}

/// fsyncs the WAL file (frames and size), and its directory when the file is new to us.
fn sync_wal(
    wal: &Path,
    dir: &Path,
    open: Option<(File, u64)>,
) -> (Option<(File, u64)>, std::io::Result<()>) {
    let inode = match std::fs::metadata(wal) {
        Ok(m) => m.ino(),
        // No WAL: the last connection checkpointed it into the database (which SQLite synced).
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (None, Ok(())),
        Err(e) => return (open, Err(e)),
    };
    let (file, inode, fresh) = match open {
        Some((file, ino)) if ino == inode => (file, inode, false),
        // The inode of what was opened, in case the file was replaced since the stat.
        _ => match File::open(wal).and_then(|f| f.metadata().map(|m| (m.ino(), f))) {
            Ok((ino, file)) => (file, ino, true),
            Err(e) => return (None, Err(e)),
        },
    };
    let mut result = file.sync_all();
    if result.is_ok() && fresh {
        // A (re)created WAL file: its directory entry must be durable too.
        result = File::open(dir).and_then(|d| d.sync_all());
    }
    match result {
        Ok(()) => (Some((file, inode)), Ok(())),
        // Sync the directory again next time.
        Err(e) => (None, Err(e)),
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
         PRAGMA synchronous = NORMAL;
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
        let changes_before = conn.total_changes();
        let mut tx = SqliteTx {
            conn: Some(conn),
            idle: self.idle.clone(),
            permit: Some(permit),
            open: false,
            write: mode == TxMode::Write,
            changes_before,
            sync: self.sync.clone(),
        };
        let begin = match mode {
            TxMode::Read => "BEGIN DEFERRED",
            TxMode::Write => "BEGIN IMMEDIATE",
        };
        tx.execute_batch(begin).await?;
        tx.open = true;
        Ok(Box::new(tx))
    }

    async fn wait_durable(&self) -> Result<(), StorageError> {
        let upto = self.sync.written.load(Ordering::SeqCst);
        self.sync.wait(upto).await
    }
}

/// A transaction on a pooled connection; the connection goes back to the pool on drop.
struct SqliteTx {
    conn: Option<Connection>,
    idle: Arc<Mutex<Vec<Connection>>>,
    permit: Option<OwnedSemaphorePermit>,
    open: bool,
    /// Begun to write (`BEGIN IMMEDIATE`).
    write: bool,
    /// The connection's change counter when the transaction began.
    changes_before: u64,
    sync: Arc<GroupSync>,
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
        let wrote = self
            .with_conn("COMMIT", |conn| {
                conn.execute_batch("COMMIT")?;
                Ok(conn.total_changes())
            })
            .await?;
        self.open = false;
        // The frames are written; the fsync (shared with concurrent commits) makes them durable.
        if self.write || wrote != self.changes_before {
            let ticket = self.sync.written();
            // The connection is not needed while waiting for the fsync: back to the pool.
            self.release();
            self.sync.wait(ticket).await?;
        }
        Ok(())
    }
}

impl SqliteTx {
    /// Returns the connection to the pool (rolling back an open transaction), then the permit.
    fn release(&mut self) {
        if let Some(conn) = self.conn.take() {
            if self.open {
                // Dropped without commit: roll back. Quick (no fsync), so it runs inline.
                let _ = conn.execute_batch("ROLLBACK");
                self.open = false;
            }
            if let Ok(mut idle) = self.idle.lock() {
                idle.push(conn);
            }
        }
        // Without a connection, a statement was cancelled mid-flight; its connection is gone with
        // the blocking task and the next `begin` opens a replacement.
        self.permit = None;
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        self.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_commits_share_wal_fsyncs_and_all_land() {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(SqliteBackend::open(&dir.path().join("index.db")).unwrap());
        let mut tx = db.begin(TxMode::Write).await.unwrap();
        tx.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY)")
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(
            dir.path().join("index.db-wal").exists(),
            "the database runs in WAL mode"
        );
        let before = db.sync.syncs.load(Ordering::Relaxed);
        assert!(before >= 1, "a committed write is fsynced");

        let n = 64;
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..n {
            let db = db.clone();
            tasks.spawn(async move {
                let mut tx = db.begin(TxMode::Write).await?;
                tx.execute("INSERT INTO t (id) VALUES ($1)", params![i])
                    .await?;
                tx.commit().await?;
                // Returned from commit: durable, so nothing committed is left unsynced behind it.
                assert!(db.sync.durable.load(Ordering::SeqCst) >= 1);
                Ok::<_, StorageError>(())
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.unwrap().unwrap();
        }
        let syncs = db.sync.syncs.load(Ordering::Relaxed) - before;
        assert!(
            (1..=n).contains(&syncs),
            "{n} commits took {syncs} WAL fsyncs"
        );
        assert_eq!(
            db.sync.durable.load(Ordering::SeqCst),
            db.sync.written.load(Ordering::SeqCst),
            "every commit that returned is durable"
        );
        let mut tx = db.begin(TxMode::Read).await.unwrap();
        let rows = tx.query("SELECT COUNT(*) FROM t", &[]).await.unwrap();
        assert_eq!(rows[0].int(0), i64::try_from(n).unwrap());
        // Nothing pending: waiting for durability returns at once, without an fsync.
        let syncs = db.sync.syncs.load(Ordering::Relaxed);
        db.wait_durable().await.unwrap();
        assert_eq!(db.sync.syncs.load(Ordering::Relaxed), syncs);

        // A reader-only transaction that commits does not fsync.
        let tx = db.begin(TxMode::Read).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(db.sync.syncs.load(Ordering::Relaxed), syncs);
    }
}
