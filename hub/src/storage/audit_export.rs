//! Audit export: the audit entries in chain order after a cursor, and the cursor itself (one row
//! per log server in `audit_export_cursor`).

use super::sql::{SqlTx, StorageError};
use crate::model::AuditEntry;
use crate::params;

/// An audit entry with its place in the audit chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedEntry {
    /// The link's number in the audit chain (commit order; the export cursor counts these).
    pub seq: i64,
    /// The link's MAC: names this entry uniquely, so a receiver can drop a resent copy.
    pub mac: String,
    /// The entry.
    pub entry: AuditEntry,
}

/// Up to `limit` entries linked after `after_seq`, in chain order.
pub async fn linked_after(
    tx: &mut dyn SqlTx,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<LinkedEntry>, StorageError> {
    let rows = tx
        .query(
            "SELECT l.seq, l.mac, a.id, a.at_ms, a.user_id, a.actor, a.institution_code, a.action,
                    a.case_id, a.patient_key, a.detail
             FROM chain_links l JOIN audit a ON a.id = l.row_id
             WHERE l.chain = 'audit' AND l.seq > $1 ORDER BY l.seq LIMIT $2",
            params![after_seq, limit],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| LinkedEntry {
            seq: r.int(0),
            mac: r.text(1),
            entry: AuditEntry {
                id: r.int(2),
                at_ms: r.int(3),
                user_id: r.int(4),
                actor: r.text(5),
                institution_code: r.text(6),
                action: r.text(7),
                case_id: r.int(8),
                patient_key: r.text(9),
                detail: r.text(10),
            },
        })
        .collect())
}

/// Where the export to one log server stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursor {
    /// The log server.
    pub target: String,
    /// The audit chain link last sent (0: none).
    pub last_seq: i64,
    /// When an entry was last sent (0: never).
    pub sent_at_ms: i64,
    /// The last failure ("" after a success).
    pub error: String,
    /// When it happened.
    pub error_at_ms: i64,
}

/// The cursor of `target` (a fresh one if it has none yet).
pub async fn cursor(tx: &mut dyn SqlTx, target: &str) -> Result<Cursor, StorageError> {
    let row = tx
        .query_opt(
            "SELECT last_seq, sent_at_ms, error, error_at_ms FROM audit_export_cursor WHERE target = $1",
            params![target],
        )
        .await?;
    Ok(row.map_or_else(
        || Cursor {
            target: target.to_owned(),
            ..Cursor::default()
        },
        |r| Cursor {
            target: target.to_owned(),
            last_seq: r.int(0),
            sent_at_ms: r.int(1),
            error: r.text(2),
            error_at_ms: r.int(3),
        },
    ))
}

/// Every log server's cursor.
pub async fn cursors(tx: &mut dyn SqlTx) -> Result<Vec<Cursor>, StorageError> {
    let rows = tx
        .query(
            "SELECT target, last_seq, sent_at_ms, error, error_at_ms FROM audit_export_cursor ORDER BY target",
            &[],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Cursor {
            target: r.text(0),
            last_seq: r.int(1),
            sent_at_ms: r.int(2),
            error: r.text(3),
            error_at_ms: r.int(4),
        })
        .collect())
}

/// Moves `target`'s cursor forward to `seq` (never back) and clears its error.
pub async fn advance(
    tx: &mut dyn SqlTx,
    target: &str,
    seq: i64,
    now_ms: i64,
) -> Result<(), StorageError> {
    tx.execute(
        "INSERT INTO audit_export_cursor (target, last_seq, sent_at_ms, error, error_at_ms)
         VALUES ($1, $2, $3, '', 0)
         ON CONFLICT (target) DO UPDATE SET
            last_seq = CASE WHEN excluded.last_seq > audit_export_cursor.last_seq
                            THEN excluded.last_seq ELSE audit_export_cursor.last_seq END,
            sent_at_ms = excluded.sent_at_ms, error = '', error_at_ms = 0",
        params![target, seq, now_ms],
    )
    .await?;
    Ok(())
}

/// Notes that `target` could not be reached or written to.
pub async fn failed(
    tx: &mut dyn SqlTx,
    target: &str,
    error: &str,
    now_ms: i64,
) -> Result<(), StorageError> {
    tx.execute(
        "INSERT INTO audit_export_cursor (target, error, error_at_ms) VALUES ($1, $2, $3)
         ON CONFLICT (target) DO UPDATE SET error = excluded.error, error_at_ms = excluded.error_at_ms",
        params![target, error, now_ms],
    )
    .await?;
    Ok(())
}

/// The audit chain's last link number (how many entries there are to send in all).
pub async fn head_seq(tx: &mut dyn SqlTx) -> Result<i64, StorageError> {
    let row = tx
        .query_opt("SELECT seq FROM chain_heads WHERE chain = 'audit'", &[])
        .await?;
    Ok(row.map_or(0, |r| r.int(0)))
}
