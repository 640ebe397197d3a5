//! DICOMweb's queries: the studies a search starts from, the cases of a study, and the kept
//! series metadata (table `dicomweb_metadata`).

use super::sql::{SqlTx, StorageError, Value};
use crate::params;

/// Which studies a search starts from.
#[derive(Debug, Clone, Default)]
pub struct StudyFilter {
    /// Only cases of this institution ("": every institution).
    pub institution_code: String,
    /// Only these studies (empty: all).
    pub study_uids: Vec<String>,
    /// Only studies dated from this day on (`YYYYMMDD`, "": no bound).
    pub date_from: String,
    /// Only studies dated up to this day (`YYYYMMDD`, "": no bound).
    pub date_to: String,
    /// Only studies of these patients, by pseudonym (empty: every patient).
    pub patient_keys: Vec<String>,
}

/// Study UIDs to consider for a search, newest case first, at most `limit`.
pub async fn study_candidates(
    tx: &mut dyn SqlTx,
    f: &StudyFilter,
    limit: i64,
) -> Result<Vec<String>, StorageError> {
    let mut params: Vec<Value> = vec![
        f.institution_code.clone().into(),
        limit.into(),
        f.date_from.clone().into(),
        f.date_to.clone().into(),
    ];
    let mut sql = String::from(
        "SELECT study_uid, MAX(id) AS newest FROM cases
         WHERE ($1 = '' OR institution_code = $1)
           AND ($3 = '' OR study_date >= $3) AND ($4 = '' OR study_date <= $4)",
    );
    if !f.study_uids.is_empty() {
        sql += &format!(
            " AND study_uid IN ({})",
            super::placeholders(5, f.study_uids.len())
        );
        params.extend(f.study_uids.iter().map(Value::from));
    }
    if !f.patient_keys.is_empty() {
        sql += &format!(
            " AND patient_key IN ({})",
            super::placeholders(params.len() + 1, f.patient_keys.len())
        );
        params.extend(f.patient_keys.iter().map(Value::from));
    }
    sql += " GROUP BY study_uid ORDER BY newest DESC LIMIT $2";
    Ok(tx
        .query(&sql, &params)
        .await?
        .iter()
        .map(|r| r.text(0))
        .collect())
}

/// The institutions that have cases (only `institution_code` when not ""): where a record
/// number may have been filed, as its pseudonym is scoped to one.
pub async fn case_institutions(
    tx: &mut dyn SqlTx,
    institution_code: &str,
) -> Result<Vec<String>, StorageError> {
    Ok(tx
        .query(
            "SELECT DISTINCT institution_code FROM cases WHERE ($1 = '' OR institution_code = $1)
             ORDER BY institution_code",
            params![institution_code],
        )
        .await?
        .iter()
        .map(|r| r.text(0))
        .collect())
}

/// The ids of a study's cases (its first and any that follow a signed one), oldest first.
pub async fn cases_of_study(tx: &mut dyn SqlTx, study_uid: &str) -> Result<Vec<i64>, StorageError> {
    Ok(tx
        .query(
            "SELECT id FROM cases WHERE study_uid = $1 ORDER BY id",
            params![study_uid],
        )
        .await?
        .iter()
        .map(|r| r.int(0))
        .collect())
}

/// How many instances a series has (in every case).
pub async fn series_instance_count(
    tx: &mut dyn SqlTx,
    series_uid: &str,
) -> Result<i64, StorageError> {
    Ok(tx
        .query_one(
            "SELECT COUNT(*) FROM instances WHERE series_instance_uid = $1",
            params![series_uid],
        )
        .await?
        .int(0))
}

/// The kept metadata of a series: its blob key and the instance count it was computed for.
pub async fn metadata(
    tx: &mut dyn SqlTx,
    series_uid: &str,
) -> Result<Option<(String, i64)>, StorageError> {
    Ok(tx
        .query_opt(
            "SELECT blob_key, instance_count FROM dicomweb_metadata WHERE series_instance_uid = $1",
            params![series_uid],
        )
        .await?
        .map(|r| (r.text(0), r.int(1))))
}

/// Records a series' metadata blob (replacing an older one).
pub async fn put_metadata(
    tx: &mut dyn SqlTx,
    series_uid: &str,
    instance_count: i64,
    blob_key: &str,
    now_ms: i64,
) -> Result<(), StorageError> {
    tx.execute(
        "INSERT INTO dicomweb_metadata (series_instance_uid, instance_count, blob_key, built_at_ms)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (series_instance_uid) DO UPDATE
           SET instance_count = $2, blob_key = $3, built_at_ms = $4",
        params![series_uid, instance_count, blob_key, now_ms],
    )
    .await?;
    Ok(())
}
