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
//! Where statements run: on the async runtime's thread, inline, except for [`TxMode::Scan`]
//! transactions, whose statements go to tokio's blocking pool. An inline statement never waits for
//! the device or for another connection, so it takes as long as its CPU work (tens of
//! microseconds for the hub's keyed lookups and single-row writes), which is less than handing it
//! to another thread and back (measured: the hand-offs were about half of the hub's CPU time per
//! C-STORE; docs/PERFORMANCE.md). What would make a statement wait is kept off that path:
//! - the WAL fsync runs on the blocking pool ([`GroupSync`]);
//! - writers queue for an async lock of this backend before `BEGIN IMMEDIATE`, so within the
//!   process a writer never waits in SQLite's busy handler; a writer in another process (a `hub`
//!   admin command) can still hold the lock, and then `BEGIN IMMEDIATE` is retried on the blocking
//!   pool with the full busy timeout;
//! - automatic checkpoints are off (a commit that crossed the threshold would copy the WAL into the
//!   database and fsync both, inline); [`Checkpointer`] runs one on the blocking pool every
//!   [`CHECKPOINT_EVERY`] commits instead. It holds the write lock meanwhile (readers go on), so
//!   that it copies the whole WAL and the next writer starts the WAL over: a checkpoint racing a
//!   stream of writers would never catch up, and the WAL would grow without bound.
//!
//! Readers never block the writer in WAL mode.

use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql};
use tokio::sync::{OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};

use super::sql::{Dialect, Row, SqlBackend, SqlTx, StorageError, TxMode, Value};

/// How many connections the pool keeps (one writer at a time, the rest read concurrently).
const POOL_SIZE: usize = 8;

/// How long a statement waits for a lock held by another process before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(15);

/// A passive checkpoint is started after this many write commits (SQLite's automatic one runs when
/// the WAL passes 1,000 pages; an ingest commit writes a handful).
pub const CHECKPOINT_EVERY: u64 = 256;

/// A pool of connections to one SQLite database file.
pub struct SqliteBackend {
    path: PathBuf,
    idle: Arc<Mutex<Vec<Connection>>>,
    permits: Arc<Semaphore>,
    /// Held by the one write transaction of this process.
    writer: Arc<tokio::sync::Mutex<()>>,
    sync: Arc<GroupSync>,
    checkpointer: Arc<Checkpointer>,
}

impl SqliteBackend {
    /// Opens (creating if needed) the database at `path`. The file is created readable by its
    /// owner only (SQLite gives its `-wal` and `-shm` files the database's mode), and an existing
    /// one readable by others is narrowed to that.
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        owner_only(path)?;
        let mut idle = Vec::with_capacity(POOL_SIZE);
        for _ in 0..POOL_SIZE {
            idle.push(open_connection(path)?);
        }
        let writer = Arc::new(tokio::sync::Mutex::new(()));
        Ok(SqliteBackend {
            path: path.to_owned(),
            idle: Arc::new(Mutex::new(idle)),
            permits: Arc::new(Semaphore::new(POOL_SIZE)),
            writer: writer.clone(),
            sync: Arc::new(GroupSync::new(path)),
            checkpointer: Arc::new(Checkpointer {
                conn: Arc::new(Mutex::new(open_connection(path)?)),
                writer,
                running: AtomicBool::new(false),
                done: AtomicU64::new(0),
            }),
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

/// Copies the WAL into the database in the background (SQLite's automatic checkpoint is off).
struct Checkpointer {
    /// Its own connection.
    conn: Arc<Mutex<Connection>>,
    /// The backend's write lock, held while a checkpoint runs.
    writer: Arc<tokio::sync::Mutex<()>>,
    /// A checkpoint is queued or running.
    running: AtomicBool,
    /// Checkpoints completed (for tests and diagnostics).
    done: AtomicU64,
}

impl Checkpointer {
    /// Starts a checkpoint unless one is queued or running: it waits for the write lock, then
    /// copies the WAL into the database on the blocking pool. With `synchronous = NORMAL` SQLite
    /// fsyncs the WAL before copying and the database after. Readers are not waited for
    /// (passive); frames one still uses are copied by the next checkpoint.
    fn start(self: &Arc<Self>) {
        if self.running.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            let _writer = this.writer.lock().await;
            let conn = this.conn.clone();
            let ran = tokio::task::spawn_blocking(move || {
                let conn = conn.lock().map_err(|_| "connection poisoned".to_owned())?;
                conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                    .map_err(|e| e.to_string())
            })
            .await;
            match ran {
                Ok(Ok(())) => {
                    this.done.fetch_add(1, Ordering::Relaxed);
                }
                // Not fatal: the WAL grows until the next one succeeds.
                Ok(Err(e)) => tracing::warn!(error = %e, "SQLite checkpoint failed"),
                Err(e) => tracing::warn!(error = %e, "SQLite checkpoint task failed"),
            }
            this.running.store(false, Ordering::Release);
        });
    }
}

/// Creates the database file with mode 0600 if it is missing; narrows it and its `-wal` and
/// `-shm` files to 0600 if they exist with wider permissions.
fn owner_only(path: &Path) -> Result<(), StorageError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let fail = |e: std::io::Error| StorageError::Open {
        location: path.display().to_string(),
        message: format!("cannot make it readable by its owner only: {e}"),
    };
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(fail)?;
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        match std::fs::metadata(&file) {
            Ok(m) if m.permissions().mode() & 0o077 != 0 => {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                    .map_err(fail)?;
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(fail(e)),
        }
    }
    Ok(())
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
         PRAGMA wal_autocheckpoint = 0;
         PRAGMA foreign_keys = ON;",
    )
    .map_err(fail)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(fail)?;
    Ok(conn)
}

#[async_trait]
impl SqlBackend for SqliteBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn begin(&self, mode: TxMode) -> Result<Box<dyn SqlTx>, StorageError> {
        // The write lock first, then a connection: queued writers do not hold connections.
        let writer = match mode {
            TxMode::Write => Some(self.writer.clone().lock_owned().await),
            TxMode::Read | TxMode::Scan => None,
        };
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
            writer,
            open: false,
            inline: mode != TxMode::Scan,
            changes_before,
            sync: self.sync.clone(),
            checkpointer: self.checkpointer.clone(),
        };
        match mode {
            TxMode::Read | TxMode::Scan => tx.execute_batch("BEGIN DEFERRED").await?,
            TxMode::Write => tx.begin_immediate().await?,
        }
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
    /// The backend's write lock, for a write transaction.
    writer: Option<OwnedMutexGuard<()>>,
    open: bool,
    /// Statements run on the caller's thread (all but [`TxMode::Scan`]).
    inline: bool,
    /// The connection's change counter when the transaction began.
    changes_before: u64,
    sync: Arc<GroupSync>,
    checkpointer: Arc<Checkpointer>,
}

impl SqliteTx {
    /// `BEGIN IMMEDIATE`: inline without waiting, since no writer of this process holds the lock
    /// (we hold the backend's write lock); if another process holds it, again on the blocking pool,
    /// waiting up to the busy timeout.
    async fn begin_immediate(&mut self) -> Result<(), StorageError> {
        const SQL: &str = "BEGIN IMMEDIATE";
        let conn = self
            .conn
            .as_mut()
            .ok_or_else(|| StorageError::database(SQL, "transaction already finished"))?;
        let attempt = conn
            .busy_timeout(Duration::ZERO)
            .and_then(|()| conn.execute_batch(SQL));
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| map_error(SQL, e))?;
        match attempt {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy =>
            {
                self.run(SQL, true, |conn| conn.execute_batch(SQL)).await
            }
            other => other.map_err(|e| map_error(SQL, e)),
        }
    }

    /// Runs `f` on the connection: inline, or on the blocking pool for a scan.
    async fn with_conn<T, F>(&mut self, sql: &str, f: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, rusqlite::Error> + Send + 'static,
    {
        self.run(sql, !self.inline, f).await
    }

    /// Runs `f` on the connection, on the blocking pool or right here.
    async fn run<T, F>(&mut self, sql: &str, on_pool: bool, f: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, rusqlite::Error> + Send + 'static,
    {
        let mut conn = self
            .conn
            .take()
            .ok_or_else(|| StorageError::database(sql, "transaction already finished"))?;
        if !on_pool {
            let result = f(&mut conn);
            self.conn = Some(conn);
            return result.map_err(|e| map_error(sql, e));
        }
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
        // A write transaction holds the write lock until it is released below.
        if self.writer.is_some() || wrote != self.changes_before {
            let ticket = self.sync.written();
            if ticket.is_multiple_of(CHECKPOINT_EVERY) {
                self.checkpointer.start();
            }
            // The connection and the write lock are not needed while waiting for the fsync.
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
        self.writer = None;
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

    async fn table(db: &SqliteBackend, sql: &str) {
        let mut tx = db.begin(TxMode::Write).await.unwrap();
        tx.execute_batch(sql).await.unwrap();
        tx.commit().await.unwrap();
    }

    /// Statements run on the runtime's thread; a writer waiting for another must not block it.
    #[tokio::test(flavor = "current_thread")]
    async fn a_writer_waits_for_another_without_blocking_the_runtime() {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(SqliteBackend::open(&dir.path().join("index.db")).unwrap());
        table(&db, "CREATE TABLE t (id INTEGER PRIMARY KEY)").await;
        let mut first = db.begin(TxMode::Write).await.unwrap();
        first
            .execute("INSERT INTO t (id) VALUES ($1)", params![1])
            .await
            .unwrap();
        // On one thread: if this writer waited inside SQLite, the first could never commit.
        let second = tokio::spawn({
            let db = db.clone();
            async move {
                let mut tx = db.begin(TxMode::Write).await?;
                let seen = tx.query_one("SELECT COUNT(*) FROM t", &[]).await?.int(0);
                tx.execute("INSERT INTO t (id) VALUES ($1)", params![2])
                    .await?;
                tx.commit().await?;
                Ok::<_, StorageError>(seen)
            }
        });
        tokio::task::yield_now().await;
        assert!(
            !second.is_finished(),
            "the second writer waits for the first"
        );
        first.commit().await.unwrap();
        let seen = tokio::time::timeout(Duration::from_secs(5), second)
            .await
            .expect("the second writer went on once the first committed")
            .unwrap()
            .unwrap();
        assert_eq!(seen, 1, "the second writer saw the first one's row");
    }

    /// A writer of another process (an admin command) holding the lock is waited for on the
    /// blocking pool, up to the busy timeout, while the runtime goes on serving.
    #[tokio::test(flavor = "current_thread")]
    async fn a_lock_held_by_another_process_is_waited_for_off_the_runtime() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.db");
        let db = SqliteBackend::open(&path).unwrap();
        table(&db, "CREATE TABLE t (id INTEGER PRIMARY KEY)").await;
        let (locked, lock_taken) = std::sync::mpsc::channel();
        let other = std::thread::spawn(move || {
            let conn = open_connection(&path).unwrap();
            conn.execute_batch("BEGIN IMMEDIATE; INSERT INTO t (id) VALUES (7);")
                .unwrap();
            locked.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(300));
            conn.execute_batch("COMMIT").unwrap();
        });
        lock_taken.recv().unwrap();
        let ticks = Arc::new(AtomicU64::new(0));
        let ticker = tokio::spawn({
            let ticks = ticks.clone();
            async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    ticks.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        let mut tx = db.begin(TxMode::Write).await.unwrap();
        let ticked = ticks.load(Ordering::Relaxed);
        ticker.abort();
        assert!(
            ticked >= 10,
            "the runtime ran other tasks while the writer waited ({ticked} ticks of 10 ms)"
        );
        let rows = tx.query_one("SELECT COUNT(*) FROM t", &[]).await.unwrap();
        assert_eq!(rows.int(0), 1, "the other process's row is there");
        tx.execute("INSERT INTO t (id) VALUES ($1)", params![8])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        other.join().unwrap();
    }

    /// With SQLite's automatic checkpoint off, the background one keeps the WAL from growing.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn background_checkpoints_keep_the_wal_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.db");
        let db = SqliteBackend::open(&path).unwrap();
        table(&db, "CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)").await;
        let commits = 8 * CHECKPOINT_EVERY;
        let body = "x".repeat(2000);
        for i in 0..commits {
            let mut tx = db.begin(TxMode::Write).await.unwrap();
            tx.execute(
                "INSERT INTO t (id, body) VALUES ($1, $2)",
                params![i, &body],
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
        }
        // Each commit writes at least one 4 KiB page: without checkpoints the WAL would hold
        // them all (over 8 MB).
        let wal = std::fs::metadata(dir.path().join("index.db-wal"))
            .unwrap()
            .len();
        assert!(
            wal < 4 << 20,
            "the WAL is {wal} bytes after {commits} commits"
        );
        assert!(db.checkpointer.done.load(Ordering::Relaxed) >= 4);
        let mut tx = db.begin(TxMode::Read).await.unwrap();
        let rows = tx.query_one("SELECT COUNT(*) FROM t", &[]).await.unwrap();
        assert_eq!(rows.int(0), i64::try_from(commits).unwrap());
    }
}
