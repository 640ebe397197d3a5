//! Report versions. A case's history is its versions in order; nothing is overwritten (triggers
//! refuse UPDATE and DELETE), and each version is linked into the reports hash chain in the
//! transaction that writes it (see [`super::chain`]).

use super::chain::{self, Chain};
use super::sql::{Row, SqlTx, StorageError};
use crate::model::Report;
use crate::params;

const SELECT: &str = "SELECT r.id, r.case_id, r.version, r.status, r.findings, r.impression, r.critical,
    r.author_id, a.name, r.signer_id, COALESCE(s.name, ''), r.created_at_ms, r.signed_at_ms, r.amend_reason,
    r.editor_id, COALESCE(e.name, '')
  FROM reports r JOIN users a ON a.id = r.author_id LEFT JOIN users s ON s.id = r.signer_id
    LEFT JOIN users e ON e.id = r.editor_id";

fn report(r: &Row) -> Report {
    Report {
        id: r.int(0),
        case_id: r.int(1),
        version: r.int(2),
        status: r.text(3),
        findings: r.text(4),
        impression: r.text(5),
        critical: r.bool(6),
        author_id: r.int(7),
        author_name: r.text(8),
        signer_id: r.opt_int(9),
        signer_name: r.text(10),
        created_at_ms: r.int(11),
        signed_at_ms: r.int(12),
        amend_reason: r.text(13),
        editor_id: r.opt_int(14),
        editor_name: r.text(15),
    }
}

/// Appends the next version of a case's report (its version number is assigned here); returns its id.
pub async fn append(tx: &mut dyn SqlTx, r: &Report) -> Result<i64, StorageError> {
    let row = tx
        .query_one(
            "INSERT INTO reports (case_id, version, status, findings, impression, critical, author_id,
                signer_id, created_at_ms, signed_at_ms, amend_reason, editor_id)
             VALUES ($1, (SELECT COALESCE(MAX(version), 0) + 1 FROM reports WHERE case_id = $1),
                $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             RETURNING id",
            params![
                r.case_id, &r.status, &r.findings, &r.impression, r.critical, r.author_id, r.signer_id,
                r.created_at_ms, r.signed_at_ms, &r.amend_reason, r.editor_id,
            ],
        )
        .await?;
    let id = row.int(0);
    chain::append(tx, Chain::Reports, id).await?;
    Ok(id)
}

/// A report version by id.
pub async fn get(tx: &mut dyn SqlTx, id: i64) -> Result<Option<Report>, StorageError> {
    let sql = format!("{SELECT} WHERE r.id = $1");
    Ok(tx.query_opt(&sql, params![id]).await?.map(|r| report(&r)))
}

/// Every version of a case's report, oldest first.
pub async fn of_case(tx: &mut dyn SqlTx, case_id: i64) -> Result<Vec<Report>, StorageError> {
    let sql = format!("{SELECT} WHERE r.case_id = $1 ORDER BY r.version");
    Ok(tx
        .query(&sql, params![case_id])
        .await?
        .iter()
        .map(report)
        .collect())
}

/// The newest version of a case's report.
pub async fn latest(tx: &mut dyn SqlTx, case_id: i64) -> Result<Option<Report>, StorageError> {
    let sql = format!("{SELECT} WHERE r.case_id = $1 ORDER BY r.version DESC LIMIT 1");
    Ok(tx
        .query_opt(&sql, params![case_id])
        .await?
        .map(|r| report(&r)))
}

/// The newest version of each case's report written at or after `since_ms`, optionally of one
/// institution's cases and only critical ones; newest first. Returns (case id, report).
pub async fn recent(
    tx: &mut dyn SqlTx,
    institution_code: &str,
    since_ms: i64,
    critical_only: bool,
    limit: i64,
) -> Result<Vec<Report>, StorageError> {
    let sql = format!(
        "{SELECT} JOIN cases c ON c.id = r.case_id
         WHERE r.version = (SELECT MAX(version) FROM reports x WHERE x.case_id = r.case_id)
           AND r.created_at_ms >= $1 AND ($2 = '' OR c.institution_code = $2) AND ($3 = 0 OR r.critical = 1)
         ORDER BY r.created_at_ms DESC, r.id DESC LIMIT $4"
    );
    let rows = tx
        .query(
            &sql,
            params![since_ms, institution_code, critical_only, limit],
        )
        .await?;
    Ok(rows.iter().map(report).collect())
}

/// Report versions with an id above `after_id`, in id order (the order they were committed on one
/// writer), optionally of one institution's cases and only critical ones: what a report watcher
/// has not seen yet.
pub async fn after(
    tx: &mut dyn SqlTx,
    after_id: i64,
    institution_code: &str,
    critical_only: bool,
    limit: i64,
) -> Result<Vec<Report>, StorageError> {
    let sql = format!(
        "{SELECT} JOIN cases c ON c.id = r.case_id
         WHERE r.id > $1 AND ($2 = '' OR c.institution_code = $2) AND ($3 = 0 OR r.critical = 1)
         ORDER BY r.id LIMIT $4"
    );
    let rows = tx
        .query(
            &sql,
            params![after_id, institution_code, critical_only, limit],
        )
        .await?;
    Ok(rows.iter().map(report).collect())
}

/// The highest report version id (0 when there is none): where a new watcher starts.
pub async fn newest_id(tx: &mut dyn SqlTx) -> Result<i64, StorageError> {
    let row = tx
        .query_one("SELECT COALESCE(MAX(id), 0) FROM reports", params![])
        .await?;
    Ok(row.int(0))
}
