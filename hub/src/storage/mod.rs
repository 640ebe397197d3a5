//! Storage: the SQL index and the blob store, behind traits so every backend passes one suite.
//!
//! - [`sql`]: the [`SqlBackend`] seam (transactions, values, rows) that SQLite and PostgreSQL implement.
//! - [`sqlite`]: the embedded default backend; [`postgres`]: the scale path for several replicas.
//! - [`blob`]: the [`BlobStore`] seam and the local-directory default; [`blob_s3`]: S3-compatible stores.
//! - [`migrate`]: the schema and its migrations.
//! - The other modules hold the hub's queries, one table group each, written once as functions over
//!   an open transaction so the domain can compose them atomically.

pub mod audit;
pub mod audit_export;
pub mod blob;
pub mod blob_s3;
pub mod cases;
pub mod chain;
pub mod derived;
pub mod dicomweb;
pub mod events;
pub mod instances;
pub mod jobs;
pub mod migrate;
pub mod mixups;
pub mod postgres;
pub mod postgres_tls;
pub mod recognition;
pub mod recognition_access;
pub mod reports;
pub mod sessions;
pub mod sql;
pub mod sqlite;
pub mod users;

#[doc(hidden)]
pub mod chain_conformance;
#[doc(hidden)]
pub mod conformance;

use std::sync::Arc;

pub use blob::{BlobStore, LocalBlobStore};
pub use sql::{Row, SqlBackend, SqlTx, StorageError, TxMode, Value};

/// The hub's storage: an index database and a blob store.
#[derive(Clone)]
pub struct Store {
    /// The index.
    pub db: Arc<dyn SqlBackend>,
    /// The blobs.
    pub blobs: Arc<dyn BlobStore>,
    /// The key of the hash chains over the append-only tables, carried by every write.
    chain_key: chain::ChainKey,
}

impl Store {
    /// Wraps a database and a blob store, bringing the schema up to date. Rows appended to the
    /// chained tables (audit, reports, ledger) are linked with `chain_key`.
    pub async fn open(
        db: Arc<dyn SqlBackend>,
        blobs: Arc<dyn BlobStore>,
        chain_key: chain::ChainKey,
    ) -> Result<Self, StorageError> {
        migrate::migrate(db.as_ref()).await?;
        Ok(Store {
            db,
            blobs,
            chain_key,
        })
    }

    /// The key of the hash chains.
    pub fn chain_key(&self) -> &chain::ChainKey {
        &self.chain_key
    }

    /// Starts a read transaction.
    pub async fn read(&self) -> Result<Box<dyn SqlTx>, StorageError> {
        self.db.begin(TxMode::Read).await
    }

    /// Starts a read transaction for a query that may visit many rows (a report over a period).
    pub async fn scan(&self) -> Result<Box<dyn SqlTx>, StorageError> {
        self.db.begin(TxMode::Scan).await
    }

    /// Waits until every commit so far is durable (see [`SqlBackend::wait_durable`]).
    pub async fn wait_durable(&self) -> Result<(), StorageError> {
        self.db.wait_durable().await
    }

    /// Starts a write transaction.
    pub async fn write(&self) -> Result<Box<dyn SqlTx>, StorageError> {
        let tx = self.db.begin(TxMode::Write).await?;
        Ok(Box::new(chain::KeyedTx::new(tx, self.chain_key.clone())))
    }
}

/// Placeholders `$from, $from+1, ...` for an `IN (...)` list of `n` values.
pub(crate) fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}
