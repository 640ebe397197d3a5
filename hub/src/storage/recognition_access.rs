//! Recognition access: the checks users made and the entries each check returned to them. The
//! domain decides what a row allows (opening a case, accepting or declining an entry) and for how
//! long; this module only stores and finds rows.

use super::sql::{SqlTx, StorageError};
use crate::params;

/// A recognition check as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckRecord {
    /// The user who checked.
    pub user_id: i64,
    /// Their institution.
    pub institution_code: String,
    /// The patient's pseudonym.
    pub patient_key: String,
    /// The exam item checked.
    pub exam_item_code: String,
    /// Why (a purpose code).
    pub purpose: String,
    /// When (Unix milliseconds).
    pub at_ms: i64,
}

/// One entry a check returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Returned {
    /// The entry.
    pub entry_id: i64,
    /// Its case.
    pub case_id: i64,
    /// Whether the case may be opened (the entry was valid for the checking institution).
    pub may_open: bool,
}

/// Records a check; returns its id.
pub async fn record_check(tx: &mut dyn SqlTx, c: &CheckRecord) -> Result<i64, StorageError> {
    let row = tx
        .query_one(
            "INSERT INTO recognition_checks (user_id, institution_code, patient_key,
                exam_item_code, purpose, at_ms)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            params![
                c.user_id,
                &c.institution_code,
                &c.patient_key,
                &c.exam_item_code,
                &c.purpose,
                c.at_ms
            ],
        )
        .await?;
    Ok(row.int(0))
}

/// Records what check `check_id` returned, usable until `expires_at_ms`.
pub async fn record_returned(
    tx: &mut dyn SqlTx,
    check_id: i64,
    returned: &[Returned],
    expires_at_ms: i64,
) -> Result<(), StorageError> {
    for r in returned {
        tx.execute(
            "INSERT INTO recognition_access (check_id, entry_id, case_id, may_open, expires_at_ms)
             VALUES ($1, $2, $3, $4, $5)",
            params![
                check_id,
                r.entry_id,
                r.case_id,
                i64::from(r.may_open),
                expires_at_ms
            ],
        )
        .await?;
    }
    Ok(())
}

/// How many checks `user_id` made after `since_ms`, and how many of them were about `patient_key`
/// after `patient_since_ms`.
pub async fn checks_since(
    tx: &mut dyn SqlTx,
    user_id: i64,
    since_ms: i64,
    patient_key: &str,
    patient_since_ms: i64,
) -> Result<(i64, i64), StorageError> {
    let all = tx
        .query_one(
            "SELECT COUNT(*) FROM recognition_checks WHERE user_id = $1 AND at_ms > $2",
            params![user_id, since_ms],
        )
        .await?
        .int(0);
    let patient = tx
        .query_one(
            "SELECT COUNT(*) FROM recognition_checks
             WHERE user_id = $1 AND patient_key = $2 AND at_ms > $3",
            params![user_id, patient_key, patient_since_ms],
        )
        .await?
        .int(0);
    Ok((all, patient))
}

/// The oldest check made after `since_ms` by `user_id` (about `patient_key` if given): when it
/// leaves the rate-limit window, the user may check again.
pub async fn oldest_check_since(
    tx: &mut dyn SqlTx,
    user_id: i64,
    since_ms: i64,
    patient_key: Option<&str>,
) -> Result<Option<i64>, StorageError> {
    let row = match patient_key {
        None => {
            tx.query_opt(
                "SELECT MIN(at_ms) FROM recognition_checks WHERE user_id = $1 AND at_ms > $2",
                params![user_id, since_ms],
            )
            .await?
        }
        Some(key) => {
            tx.query_opt(
                "SELECT MIN(at_ms) FROM recognition_checks
                 WHERE user_id = $1 AND at_ms > $2 AND patient_key = $3",
                params![user_id, since_ms, key],
            )
            .await?
        }
    };
    Ok(row.and_then(|r| r.opt_int(0)))
}

/// The latest check by `user_id` that returned case `case_id` as one to open, still in force at
/// `now_ms` (and the entry still valid then).
pub async fn check_opening_case(
    tx: &mut dyn SqlTx,
    user_id: i64,
    case_id: i64,
    now_ms: i64,
) -> Result<Option<i64>, StorageError> {
    let row = tx
        .query_opt(
            "SELECT MAX(a.check_id) FROM recognition_access a
               JOIN recognition_checks c ON c.id = a.check_id
               JOIN recognition_entries e ON e.id = a.entry_id
             WHERE a.case_id = $1 AND c.user_id = $2 AND a.may_open = 1
               AND a.expires_at_ms > $3 AND e.valid_until_ms > $3",
            params![case_id, user_id, now_ms],
        )
        .await?;
    Ok(row.and_then(|r| r.opt_int(0)))
}

/// The latest check by `user_id` that returned entry `entry_id`, still in force at `now_ms`.
pub async fn check_returning_entry(
    tx: &mut dyn SqlTx,
    user_id: i64,
    entry_id: i64,
    now_ms: i64,
) -> Result<Option<i64>, StorageError> {
    let row = tx
        .query_opt(
            "SELECT MAX(a.check_id) FROM recognition_access a
               JOIN recognition_checks c ON c.id = a.check_id
             WHERE a.entry_id = $1 AND c.user_id = $2 AND a.expires_at_ms > $3",
            params![entry_id, user_id, now_ms],
        )
        .await?;
    Ok(row.and_then(|r| r.opt_int(0)))
}
