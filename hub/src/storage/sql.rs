//! The seam between the metadata store and a SQL database.
//!
//! Every query in the hub is written once, in the SQL subset that SQLite and PostgreSQL share
//! (`$1`-style parameters, `INSERT ... ON CONFLICT`, `RETURNING`, integers for booleans and
//! timestamps). A backend only runs statements inside transactions; [`super::Store`] owns the SQL.
//! That keeps one implementation of the domain's queries and one conformance suite for every backend.

use async_trait::async_trait;

/// A value bound to a statement parameter or read from a result column.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A 64-bit integer (also booleans as 0/1 and timestamps in Unix milliseconds).
    Int(i64),
    /// A double-precision float.
    Real(f64),
    /// UTF-8 text.
    Text(String),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Value::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Real(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// Builds a parameter list: `params![a, b, c]`.
#[macro_export]
macro_rules! params {
    ($($v:expr),* $(,)?) => { &[$($crate::storage::sql::Value::from($v)),*][..] };
}

/// One result row.
#[derive(Debug, Clone, Default)]
pub struct Row(pub Vec<Value>);

impl Row {
    /// Column `i` as an integer (NULL reads as 0).
    pub fn int(&self, i: usize) -> i64 {
        match self.0.get(i) {
            Some(Value::Int(v)) => *v,
            Some(Value::Real(v)) => *v as i64,
            _ => 0,
        }
    }

    /// Column `i` as an optional integer.
    pub fn opt_int(&self, i: usize) -> Option<i64> {
        match self.0.get(i) {
            Some(Value::Int(v)) => Some(*v),
            _ => None,
        }
    }

    /// Column `i` as a float (NULL reads as 0).
    pub fn real(&self, i: usize) -> f64 {
        match self.0.get(i) {
            Some(Value::Real(v)) => *v,
            Some(Value::Int(v)) => *v as f64,
            _ => 0.0,
        }
    }

    /// Column `i` as a boolean stored as 0/1.
    pub fn bool(&self, i: usize) -> bool {
        self.int(i) != 0
    }

    /// Column `i` as text (NULL reads as "").
    pub fn text(&self, i: usize) -> String {
        match self.0.get(i) {
            Some(Value::Text(v)) => v.clone(),
            Some(Value::Int(v)) => v.to_string(),
            _ => String::new(),
        }
    }
}

/// What a transaction will do. SQLite takes its write lock up front for writers
/// (`BEGIN IMMEDIATE`), so two writers never deadlock upgrading a read lock; and it runs reads that
/// may visit many rows away from the async runtime (see [`super::sqlite`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxMode {
    /// Reads a few rows, found through an index or bounded by a `LIMIT`.
    Read,
    /// Reads that may visit many rows: a report over a period.
    Scan,
    /// Reads and writes (a few rows: every writer waits for the one holding the write lock).
    Write,
}

/// The SQL dialect, for the few statements (schema) that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite 3.35 or later.
    Sqlite,
    /// PostgreSQL 12 or later.
    Postgres,
}

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database rejected or failed a statement.
    #[error("database error in `{statement}`: {message}")]
    Database {
        /// The first line of the statement.
        statement: String,
        /// What the database said.
        message: String,
    },
    /// The database could not be opened or reached.
    #[error("cannot open database {location}: {message}")]
    Open {
        /// Path or URL (without password).
        location: String,
        /// Why.
        message: String,
    },
    /// A uniqueness or foreign-key constraint failed.
    #[error("constraint violated in `{statement}`: {message}")]
    Constraint {
        /// The first line of the statement.
        statement: String,
        /// What the database said.
        message: String,
    },
    /// Blob storage failed.
    #[error("blob store: {0}")]
    Blob(String),
}

impl StorageError {
    /// Builds a database error naming the statement.
    pub fn database(sql: &str, message: impl ToString) -> Self {
        StorageError::Database {
            statement: first_line(sql),
            message: message.to_string(),
        }
    }

    /// Builds a constraint error naming the statement.
    pub fn constraint(sql: &str, message: impl ToString) -> Self {
        StorageError::Constraint {
            statement: first_line(sql),
            message: message.to_string(),
        }
    }
}

fn first_line(sql: &str) -> String {
    let line = sql.trim().lines().next().unwrap_or_default();
    line.chars().take(120).collect()
}

/// A SQL database the hub can keep its index in.
#[async_trait]
pub trait SqlBackend: Send + Sync + 'static {
    /// Which dialect the schema must use.
    fn dialect(&self) -> Dialect;

    /// Starts a transaction. Dropping it without [`SqlTx::commit`] rolls it back.
    async fn begin(&self, mode: TxMode) -> Result<Box<dyn SqlTx>, StorageError>;

    /// Waits until everything committed so far is durable. A commit is durable when it returns,
    /// but a reader may see another transaction's commit a moment before that commit is durable
    /// (SQLite's group commit, see [`super::sqlite`]); whoever acknowledges something because
    /// they *read* it calls this first.
    async fn wait_durable(&self) -> Result<(), StorageError> {
        Ok(())
    }
}

/// An open transaction.
#[async_trait]
pub trait SqlTx: Send {
    /// Runs a statement; returns the number of rows it changed.
    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StorageError>;

    /// Runs a query; returns every row.
    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StorageError>;

    /// Runs a batch of statements without parameters (schema migrations).
    async fn execute_batch(&mut self, sql: &str) -> Result<(), StorageError>;

    /// Makes the transaction's changes durable: when this returns, they survive a crash.
    async fn commit(self: Box<Self>) -> Result<(), StorageError>;

    /// Links row `row_id` of a chained table into its hash chain when the transaction commits
    /// (see [`super::chain`]); false if this transaction cannot (it has no chain key: only write
    /// transactions opened through [`super::Store::write`] carry one).
    fn link_at_commit(&mut self, chain: super::chain::Chain, row_id: i64) -> bool {
        let _ = (chain, row_id);
        false
    }
}

impl dyn SqlTx + '_ {
    /// Runs a query expected to return at most one row.
    pub async fn query_opt(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> Result<Option<Row>, StorageError> {
        Ok(self.query(sql, params).await?.into_iter().next())
    }

    /// Runs a query expected to return exactly one row.
    pub async fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row, StorageError> {
        self.query_opt(sql, params)
            .await?
            .ok_or_else(|| StorageError::database(sql, "expected one row, got none"))
    }
}
