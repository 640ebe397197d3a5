//! Keyed hash chains over the append-only tables: the audit trail, report versions and the
//! recognition ledger.
//!
//! Every row appended to one of those tables gets a link in `chain_links`, written in the same
//! transaction: `HMAC-SHA256(key, chain, seq, row id, row MAC, previous link's MAC)`, where the row
//! MAC covers the row's columns as they were read back from the database just after the insert. A
//! short keyed tag per column lets `hub verify` name the column that changed. The key lives in its
//! own file, outside the database ([`ChainKey`]), so whoever holds the database file alone can
//! neither edit a row nor forge a link without the change showing.
//!
//! Links are written at the end of the transaction, just before its commit ([`KeyedTx`], the
//! wrapper [`super::Store::write`] puts around every write transaction): [`append`] only notes
//! the row. Each chain's appends serialise on the chain's head row (`UPDATE chain_heads ...
//! RETURNING`), which takes the row lock on PostgreSQL (a concurrent appender waits for the
//! commit, then sees the new head) and runs under the single writer on SQLite. Taking the head
//! locks last, in one fixed order, keeps them out of lock cycles with the rows a transaction
//! changed, and holds them only for the commit. Links are numbered by `seq`, not by row id, so
//! ids assigned out of commit order on PostgreSQL do not matter.

use std::sync::Arc;

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::sql::{Row, SqlTx, StorageError, Value};
use crate::params;

/// One of the chained tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Chain {
    /// The audit trail (`audit`).
    Audit,
    /// Report versions (`reports`).
    Reports,
    /// The savings ledger (`recognition_ledger`).
    Ledger,
}

impl Chain {
    /// Every chain, in the order `hub verify` walks them.
    pub const ALL: [Chain; 3] = [Chain::Audit, Chain::Reports, Chain::Ledger];

    /// The chain's name in `chain_links` and `chain_heads`.
    pub fn name(self) -> &'static str {
        match self {
            Chain::Audit => "audit",
            Chain::Reports => "reports",
            Chain::Ledger => "ledger",
        }
    }

    /// The table whose rows it links.
    pub fn table(self) -> &'static str {
        match self {
            Chain::Audit => "audit",
            Chain::Reports => "reports",
            Chain::Ledger => "recognition_ledger",
        }
    }

    /// The columns each link covers, in a fixed order (a column added to the table later is not
    /// covered until it is added here, at the end, with a new chain version).
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Chain::Audit => &[
                "id",
                "at_ms",
                "user_id",
                "actor",
                "institution_code",
                "action",
                "case_id",
                "patient_key",
                "detail",
            ],
            Chain::Reports => &[
                "id",
                "case_id",
                "version",
                "status",
                "findings",
                "impression",
                "critical",
                "author_id",
                "signer_id",
                "created_at_ms",
                "signed_at_ms",
                "amend_reason",
                "editor_id",
            ],
            Chain::Ledger => &[
                "id",
                "entry_id",
                "kind",
                "reverses_id",
                "institution_code",
                "institution_level",
                "exam_item_code",
                "modality",
                "performing_institution",
                "user_id",
                "fee_fen",
                "note",
                "at_ms",
            ],
        }
    }

    /// `SELECT <columns> FROM <table>` (append a `WHERE`).
    pub fn select(self) -> String {
        format!("SELECT {} FROM {}", self.columns().join(", "), self.table())
    }
}

/// The secret that keys the chains (at least 32 bytes), kept in its own file.
#[derive(Clone)]
pub struct ChainKey(Arc<Vec<u8>>);

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainKey(..)")
    }
}

impl ChainKey {
    /// Wraps a secret; refuses one shorter than 32 bytes.
    pub fn new(key: Vec<u8>) -> Result<Self, String> {
        if key.len() < 32 {
            return Err(format!(
                "the integrity key must be at least 32 bytes, got {}",
                key.len()
            ));
        }
        Ok(ChainKey(Arc::new(key)))
    }

    fn mac(&self, parts: &[&[u8]]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        for p in parts {
            mac.update(&(p.len() as u64).to_be_bytes());
            mac.update(p);
        }
        mac
    }

    /// A short public fingerprint of the key, stored in the index to recognise the right key.
    pub fn fingerprint(&self) -> String {
        let tag = self.mac(&[b"remotedx integrity key fingerprint".as_slice()]);
        hex::encode(&tag.finalize().into_bytes()[..16])
    }

    /// The MAC of one column's value (16 hex digits: enough to say which column changed).
    pub fn column_tag(&self, chain: Chain, column: &str, value: &Value) -> String {
        let tag = self.mac(&[
            chain.name().as_bytes(),
            column.as_bytes(),
            &canonical(value),
        ]);
        hex::encode(&tag.finalize().into_bytes()[..8])
    }

    /// The MAC of a whole row (its columns in [`Chain::columns`] order).
    pub fn row_mac(&self, chain: Chain, row: &Row) -> String {
        let values: Vec<Vec<u8>> = row.0.iter().map(canonical).collect();
        let mut parts: Vec<&[u8]> = vec![b"row".as_slice(), chain.name().as_bytes()];
        parts.extend(values.iter().map(Vec::as_slice));
        hex::encode(self.mac(&parts).finalize().into_bytes())
    }

    /// The MAC of a link: binds the row MAC to its place in the chain and to the link before it.
    pub fn link_mac(
        &self,
        chain: Chain,
        seq: i64,
        row_id: i64,
        row_mac: &str,
        prev: &str,
    ) -> String {
        let parts: [&[u8]; 6] = [
            b"link",
            chain.name().as_bytes(),
            &seq.to_be_bytes(),
            &row_id.to_be_bytes(),
            row_mac.as_bytes(),
            prev.as_bytes(),
        ];
        hex::encode(self.mac(&parts).finalize().into_bytes())
    }

    /// The per-column tags of a row, comma-separated.
    pub fn column_tags(&self, chain: Chain, row: &Row) -> String {
        chain
            .columns()
            .iter()
            .zip(&row.0)
            .map(|(c, v)| self.column_tag(chain, c, v))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// A value as the MACs see it: a type byte and its bytes (NULL, integer and text differ even when
/// they print alike).
fn canonical(v: &Value) -> Vec<u8> {
    match v {
        Value::Null => vec![0],
        Value::Int(i) => [&[1u8][..], &i.to_be_bytes()].concat(),
        Value::Real(f) => [&[2u8][..], &f.to_bits().to_be_bytes()].concat(),
        Value::Text(s) => [&[3u8][..], s.as_bytes()].concat(),
    }
}

/// One stored link.
#[derive(Debug, Clone)]
pub struct Link {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// The linked row's id.
    pub row_id: i64,
    /// MAC of the row's content.
    pub row_mac: String,
    /// Per-column tags (see [`ChainKey::column_tags`]).
    pub column_tags: String,
    /// MAC of the link.
    pub mac: String,
}

/// A chain's head: the last link's number and MAC, and what is left to link from before chains.
#[derive(Debug, Clone)]
pub struct Head {
    /// The last link's seq (0: none yet).
    pub seq: i64,
    /// The last link's MAC ("" when none).
    pub mac: String,
    /// Rows up to this id existed before the chains and are linked once, at the first start.
    pub backfill_to: i64,
    /// Whether they have been.
    pub backfilled: bool,
}

/// Links row `row_id` of `chain`, just inserted in this transaction, at the end of the chain when
/// the transaction commits.
pub async fn append(tx: &mut dyn SqlTx, chain: Chain, row_id: i64) -> Result<(), StorageError> {
    if tx.link_at_commit(chain, row_id) {
        return Ok(());
    }
    Err(StorageError::database(
        chain.table(),
        "this transaction has no integrity key, and rows of this table are chained",
    ))
}

/// Links a row now: reads it back, takes the chain's head, writes the link, moves the head.
async fn link_now(
    tx: &mut dyn SqlTx,
    key: &ChainKey,
    chain: Chain,
    row_id: i64,
) -> Result<(), StorageError> {
    let sql = format!("{} WHERE id = $1", chain.select());
    let row = tx.query_one(&sql, params![row_id]).await?;
    // Taking the head row first serialises appenders of this chain (row lock on PostgreSQL).
    let head = tx
        .query_one(
            "UPDATE chain_heads SET seq = seq + 1 WHERE chain = $1 RETURNING seq, mac",
            params![chain.name()],
        )
        .await?;
    let (seq, prev) = (head.int(0), head.text(1));
    let row_mac = key.row_mac(chain, &row);
    let mac = key.link_mac(chain, seq, row_id, &row_mac, &prev);
    tx.execute(
        "INSERT INTO chain_links (chain, seq, row_id, row_mac, column_tags, mac)
         VALUES ($1, $2, $3, $4, $5, $6)",
        params![
            chain.name(),
            seq,
            row_id,
            &row_mac,
            key.column_tags(chain, &row),
            &mac
        ],
    )
    .await?;
    tx.execute(
        "UPDATE chain_heads SET mac = $2 WHERE chain = $1",
        params![chain.name(), &mac],
    )
    .await?;
    Ok(())
}

/// The head of a chain.
pub async fn head(tx: &mut dyn SqlTx, chain: Chain) -> Result<Head, StorageError> {
    let r = tx
        .query_one(
            "SELECT seq, mac, backfill_to, backfilled FROM chain_heads WHERE chain = $1",
            params![chain.name()],
        )
        .await?;
    Ok(Head {
        seq: r.int(0),
        mac: r.text(1),
        backfill_to: r.int(2),
        backfilled: r.bool(3),
    })
}

/// Up to `limit` links of a chain after `after_seq`, in order.
pub async fn links(
    tx: &mut dyn SqlTx,
    chain: Chain,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<Link>, StorageError> {
    let rows = tx
        .query(
            "SELECT seq, row_id, row_mac, column_tags, mac FROM chain_links
             WHERE chain = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            params![chain.name(), after_seq, limit],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Link {
            seq: r.int(0),
            row_id: r.int(1),
            row_mac: r.text(2),
            column_tags: r.text(3),
            mac: r.text(4),
        })
        .collect())
}

/// The rows of a chain's table with these ids (columns in [`Chain::columns`] order; id first).
pub async fn rows(tx: &mut dyn SqlTx, chain: Chain, ids: &[i64]) -> Result<Vec<Row>, StorageError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "{} WHERE id IN ({})",
        chain.select(),
        super::placeholders(1, ids.len())
    );
    let params: Vec<Value> = ids.iter().map(|&i| Value::Int(i)).collect();
    tx.query(&sql, &params).await
}

/// Up to `limit` ids of rows of the chain's table that no link covers, lowest first (at most
/// `upto`, or any when `upto` is `i64::MAX`).
pub async fn unlinked(
    tx: &mut dyn SqlTx,
    chain: Chain,
    upto: i64,
    limit: i64,
) -> Result<Vec<i64>, StorageError> {
    let sql = format!(
        "SELECT t.id FROM {} t WHERE t.id <= $2 AND NOT EXISTS
            (SELECT 1 FROM chain_links l WHERE l.chain = $1 AND l.row_id = t.id)
         ORDER BY t.id LIMIT $3",
        chain.table()
    );
    let rows = tx.query(&sql, params![chain.name(), upto, limit]).await?;
    Ok(rows.iter().map(|r| r.int(0)).collect())
}

/// Marks the rows from before the chains as linked.
pub async fn mark_backfilled(tx: &mut dyn SqlTx, chain: Chain) -> Result<(), StorageError> {
    tx.execute(
        "UPDATE chain_heads SET backfilled = 1 WHERE chain = $1",
        params![chain.name()],
    )
    .await?;
    Ok(())
}

/// A value kept in the index about itself (`hub_meta`).
pub async fn meta(tx: &mut dyn SqlTx, name: &str) -> Result<Option<String>, StorageError> {
    Ok(tx
        .query_opt("SELECT value FROM hub_meta WHERE name = $1", params![name])
        .await?
        .map(|r| r.text(0)))
}

/// Sets a value of `hub_meta`.
pub async fn set_meta(tx: &mut dyn SqlTx, name: &str, value: &str) -> Result<(), StorageError> {
    tx.execute(
        "INSERT INTO hub_meta (name, value) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        params![name, value],
    )
    .await?;
    Ok(())
}

/// A write transaction that carries the chain key: the rows appended to chained tables are
/// linked when it commits.
pub struct KeyedTx {
    inner: Box<dyn SqlTx>,
    key: ChainKey,
    /// Rows to link at commit.
    pending: Vec<(Chain, i64)>,
}

impl KeyedTx {
    /// Wraps `inner`.
    pub fn new(inner: Box<dyn SqlTx>, key: ChainKey) -> Self {
        KeyedTx {
            inner,
            key,
            pending: Vec::new(),
        }
    }
}

#[async_trait]
impl SqlTx for KeyedTx {
    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StorageError> {
        self.inner.execute(sql, params).await
    }

    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StorageError> {
        self.inner.query(sql, params).await
    }

    async fn execute_batch(&mut self, sql: &str) -> Result<(), StorageError> {
        self.inner.execute_batch(sql).await
    }

    async fn commit(self: Box<Self>) -> Result<(), StorageError> {
        let KeyedTx {
            mut inner,
            key,
            mut pending,
        } = *self;
        // One order for every transaction: heads are locked audit, reports, ledger.
        pending.sort_unstable();
        for (chain, row_id) in pending {
            link_now(inner.as_mut(), &key, chain, row_id).await?;
        }
        inner.commit().await
    }

    fn link_at_commit(&mut self, chain: Chain, row_id: i64) -> bool {
        self.pending.push((chain, row_id));
        true
    }
}
