//! Content identity and possible patient mix-ups: what each instance holds, under which patient,
//! and the cases a person must look at because the same content arrived under two patients.

use super::sql::{Row, SqlTx, StorageError};
use crate::model::{Mixup, MixupState};
use crate::params;

/// Records that `sop_uid` (in `case_id`, filed under `patient_key`) holds `content_key`.
pub async fn record_content(
    tx: &mut dyn SqlTx,
    content_key: &str,
    patient_key: &str,
    sop_uid: &str,
    case_id: i64,
) -> Result<(), StorageError> {
    tx.execute(
        "INSERT INTO instance_content (content_key, patient_key, sop_instance_uid, case_id)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        params![content_key, patient_key, sop_uid, case_id],
    )
    .await?;
    Ok(())
}

/// An instance holding the content asked about, filed under another patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentMatch {
    /// Its case.
    pub case_id: i64,
    /// The instance.
    pub sop_instance_uid: String,
}

/// Instances holding `content_key` under a patient other than `patient_key`, one per case (the
/// first by SOP Instance UID), at most `limit` cases, oldest case first. An index lookup: the
/// primary key leads with the content key.
pub async fn under_other_patients(
    tx: &mut dyn SqlTx,
    content_key: &str,
    patient_key: &str,
    limit: i64,
) -> Result<Vec<ContentMatch>, StorageError> {
    let rows = tx
        .query(
            "SELECT case_id, MIN(sop_instance_uid) FROM instance_content
             WHERE content_key = $1 AND patient_key <> $2
             GROUP BY case_id ORDER BY case_id LIMIT $3",
            params![content_key, patient_key, limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| ContentMatch {
            case_id: r.int(0),
            sop_instance_uid: r.text(1),
        })
        .collect())
}

const COLUMNS: &str = "m.id, m.case_id, m.other_case_id, m.sop_instance_uid, m.other_sop_instance_uid,
    m.state, m.created_at_ms, m.resolved_by, m.resolved_by_name, m.resolution_note, m.resolved_at_ms";

fn mixup(r: &Row) -> Mixup {
    Mixup {
        id: r.int(0),
        case_id: r.int(1),
        other_case_id: r.int(2),
        sop_instance_uid: r.text(3),
        other_sop_instance_uid: r.text(4),
        state: r.text(5),
        created_at_ms: r.int(6),
        resolved_by: r.opt_int(7),
        resolved_by_name: r.text(8),
        resolution_note: r.text(9),
        resolved_at_ms: r.int(10),
    }
}

/// Records an open mix-up between `m.case_id` and `m.other_case_id`; returns its id, or `None`
/// if that pair was recorded before (open or resolved: a resolution is not asked twice).
pub async fn insert(tx: &mut dyn SqlTx, m: &Mixup) -> Result<Option<i64>, StorageError> {
    let row = tx
        .query_opt(
            "INSERT INTO mixups (case_id, other_case_id, sop_instance_uid, other_sop_instance_uid,
                state, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (case_id, other_case_id) DO NOTHING RETURNING id",
            params![
                m.case_id,
                m.other_case_id,
                &m.sop_instance_uid,
                &m.other_sop_instance_uid,
                MixupState::Open.as_str(),
                m.created_at_ms,
            ],
        )
        .await?;
    Ok(row.map(|r| r.int(0)))
}

/// The mix-ups recorded for a case (as the later case), oldest first.
pub async fn of_case(tx: &mut dyn SqlTx, case_id: i64) -> Result<Vec<Mixup>, StorageError> {
    let sql = format!("SELECT {COLUMNS} FROM mixups m WHERE m.case_id = $1 ORDER BY m.id");
    Ok(tx
        .query(&sql, params![case_id])
        .await?
        .iter()
        .map(mixup)
        .collect())
}

/// Mix-ups whose later case belongs to `institution_code` ("": any), newest first; only open
/// ones unless `include_resolved`.
pub async fn list(
    tx: &mut dyn SqlTx,
    institution_code: &str,
    include_resolved: bool,
    limit: i64,
) -> Result<Vec<Mixup>, StorageError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM mixups m JOIN cases c ON c.id = m.case_id
         WHERE ($1 = '' OR c.institution_code = $1) AND ($2 = 1 OR m.state = 'open')
         ORDER BY m.id DESC LIMIT $3"
    );
    Ok(tx
        .query(&sql, params![institution_code, include_resolved, limit])
        .await?
        .iter()
        .map(mixup)
        .collect())
}

/// Who resolved a mix-up, how and why.
#[derive(Debug, Clone)]
pub struct Resolution<'a> {
    /// The outcome (not [`MixupState::Open`]).
    pub state: MixupState,
    /// The user.
    pub user_id: i64,
    /// Their name.
    pub user_name: &'a str,
    /// Why.
    pub note: &'a str,
    /// When.
    pub at_ms: i64,
}

/// Resolves every open mix-up of `case_id`; returns how many were open.
pub async fn resolve(
    tx: &mut dyn SqlTx,
    case_id: i64,
    r: &Resolution<'_>,
) -> Result<u64, StorageError> {
    tx.execute(
        "UPDATE mixups SET state = $2, resolved_by = $3, resolved_by_name = $4,
            resolution_note = $5, resolved_at_ms = $6
         WHERE case_id = $1 AND state = 'open'",
        params![
            case_id,
            r.state.as_str(),
            r.user_id,
            r.user_name,
            r.note,
            r.at_ms
        ],
    )
    .await
}
