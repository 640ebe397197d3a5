//! Stored instances: one row per SOP Instance UID, pointing at its blob.

use super::sql::{Row, SqlTx, StorageError, Value};
use crate::model::Instance;
use crate::params;

const COLUMNS: &str =
    "sop_instance_uid, case_id, series_instance_uid, series_number, instance_number,
    sop_class_uid, transfer_syntax_uid, modality, blob_key, size, rows, columns, frames,
    processing_error, source, received_at_ms";

fn instance(r: &Row) -> Instance {
    Instance {
        sop_instance_uid: r.text(0),
        case_id: r.int(1),
        series_instance_uid: r.text(2),
        series_number: r.int(3),
        instance_number: r.int(4),
        sop_class_uid: r.text(5),
        transfer_syntax_uid: r.text(6),
        modality: r.text(7),
        blob_key: r.text(8),
        size: r.int(9),
        rows: r.int(10),
        columns: r.int(11),
        frames: r.int(12),
        processing_error: r.text(13),
        source: r.text(14),
        received_at_ms: r.int(15),
    }
}

/// Inserts an instance. Returns false (and changes nothing) if its SOP Instance UID is already stored.
pub async fn insert(tx: &mut dyn SqlTx, i: &Instance) -> Result<bool, StorageError> {
    let sql = format!(
        "INSERT INTO instances ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
         ON CONFLICT (sop_instance_uid) DO NOTHING"
    );
    let n = tx
        .execute(
            &sql,
            params![
                &i.sop_instance_uid,
                i.case_id,
                &i.series_instance_uid,
                i.series_number,
                i.instance_number,
                &i.sop_class_uid,
                &i.transfer_syntax_uid,
                &i.modality,
                &i.blob_key,
                i.size,
                i.rows,
                i.columns,
                i.frames,
                &i.processing_error,
                &i.source,
                i.received_at_ms,
            ],
        )
        .await?;
    Ok(n == 1)
}

/// The instance with this SOP Instance UID.
pub async fn get(tx: &mut dyn SqlTx, sop_uid: &str) -> Result<Option<Instance>, StorageError> {
    let sql = format!("SELECT {COLUMNS} FROM instances WHERE sop_instance_uid = $1");
    Ok(tx
        .query_opt(&sql, params![sop_uid])
        .await?
        .map(|r| instance(&r)))
}

/// A case's instances by series number, series, instance number.
pub async fn of_case(tx: &mut dyn SqlTx, case_id: i64) -> Result<Vec<Instance>, StorageError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM instances WHERE case_id = $1
         ORDER BY series_number, series_instance_uid, instance_number, sop_instance_uid"
    );
    Ok(tx
        .query(&sql, params![case_id])
        .await?
        .iter()
        .map(instance)
        .collect())
}

/// Records what the worker found (image size) or why it could not process the instance; on failure
/// the size read from the header at ingest stays.
pub async fn set_processed(
    tx: &mut dyn SqlTx,
    sop_uid: &str,
    rows: i64,
    columns: i64,
    frames: i64,
    error: &str,
) -> Result<(), StorageError> {
    tx.execute(
        "UPDATE instances SET processing_error = $5,
            rows = CASE WHEN $5 = '' THEN $2 ELSE rows END,
            columns = CASE WHEN $5 = '' THEN $3 ELSE columns END,
            frames = CASE WHEN $5 = '' THEN $4 ELSE frames END
         WHERE sop_instance_uid = $1",
        params![sop_uid, rows, columns, frames, error],
    )
    .await?;
    Ok(())
}

/// Which of `keys` a row points at: an instance's stored file or an artifact (a preview, an ECG
/// page). The orphan collector removes old blobs that are in neither, so a table that gains a
/// blob column must be added here.
pub async fn blobs_in_use(
    tx: &mut dyn SqlTx,
    keys: &[String],
) -> Result<std::collections::HashSet<String>, StorageError> {
    if keys.is_empty() {
        return Ok(Default::default());
    }
    let list = super::placeholders(1, keys.len());
    let sql = format!(
        "SELECT blob_key FROM instances WHERE blob_key IN ({list})
         UNION SELECT blob_key FROM artifacts WHERE blob_key IN ({list})
         UNION SELECT blob_key FROM dicomweb_metadata WHERE blob_key IN ({list})"
    );
    let params: Vec<Value> = keys.iter().map(Value::from).collect();
    let rows = tx.query(&sql, &params).await?;
    Ok(rows.iter().map(|r| r.text(0)).collect())
}
