//! The audit trail: append-only (triggers refuse UPDATE and DELETE) and hash-chained: each entry
//! is linked in the transaction that writes it (see [`super::chain`]).

use super::chain::{self, Chain};
use super::sql::{SqlTx, StorageError, Value};
use crate::model::AuditEntry;
use crate::params;

/// Appends an entry (its `id` and `at_ms` are assigned here) and links it into the audit chain.
pub async fn append(tx: &mut dyn SqlTx, e: &AuditEntry, now_ms: i64) -> Result<(), StorageError> {
    let row = tx
        .query_one(
            "INSERT INTO audit (at_ms, user_id, actor, institution_code, action, case_id, patient_key, detail)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            params![now_ms, e.user_id, &e.actor, &e.institution_code, &e.action, e.case_id, &e.patient_key, &e.detail],
        )
        .await?;
    chain::append(tx, Chain::Audit, row.int(0)).await
}

/// Which entries to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this case (0: any).
    pub case_id: i64,
    /// Only this user (0: any).
    pub user_id: i64,
    /// Only this action ("": any).
    pub action: String,
    /// Only at or after this time.
    pub since_ms: i64,
    /// Only entries by this institution's users or about its cases ("": any).
    pub institution_code: String,
    /// At most this many.
    pub limit: i64,
}

/// Entries matching `f`, newest first.
pub async fn list(tx: &mut dyn SqlTx, f: &AuditFilter) -> Result<Vec<AuditEntry>, StorageError> {
    let rows = tx
        .query(
            "SELECT id, at_ms, user_id, actor, institution_code, action, case_id, patient_key, detail
             FROM audit
             WHERE ($1 = 0 OR case_id = $1) AND ($2 = 0 OR user_id = $2) AND ($3 = '' OR action = $3)
               AND at_ms >= $4
               AND ($6 = '' OR institution_code = $6
                    OR case_id IN (SELECT id FROM cases WHERE institution_code = $6))
             ORDER BY id DESC LIMIT $5",
            &[
                Value::Int(f.case_id),
                Value::Int(f.user_id),
                Value::Text(f.action.clone()),
                Value::Int(f.since_ms),
                Value::Int(f.limit),
                Value::Text(f.institution_code.clone()),
            ],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.int(0),
            at_ms: r.int(1),
            user_id: r.int(2),
            actor: r.text(3),
            institution_code: r.text(4),
            action: r.text(5),
            case_id: r.int(6),
            patient_key: r.text(7),
            detail: r.text(8),
        })
        .collect())
}
