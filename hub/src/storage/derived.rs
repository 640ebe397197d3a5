//! What the worker derived from a case: files (artifacts), measurements and flags.

use super::sql::{SqlTx, StorageError};
use crate::model::{Artifact, Flag, Measurement};
use crate::params;

/// Records (or replaces) a derived file.
pub async fn put_artifact(
    tx: &mut dyn SqlTx,
    a: &Artifact,
    now_ms: i64,
) -> Result<(), StorageError> {
    tx.execute(
        "INSERT INTO artifacts (case_id, name, media_type, blob_key, size, created_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (case_id, name) DO UPDATE SET media_type = excluded.media_type,
            blob_key = excluded.blob_key, size = excluded.size, created_at_ms = excluded.created_at_ms",
        params![a.case_id, &a.name, &a.media_type, &a.blob_key, a.size, now_ms],
    )
    .await?;
    Ok(())
}

/// A case's derived files by name.
pub async fn artifacts(tx: &mut dyn SqlTx, case_id: i64) -> Result<Vec<Artifact>, StorageError> {
    let rows = tx
        .query(
            "SELECT case_id, name, media_type, blob_key, size FROM artifacts WHERE case_id = $1 ORDER BY name",
            params![case_id],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Artifact {
            case_id: r.int(0),
            name: r.text(1),
            media_type: r.text(2),
            blob_key: r.text(3),
            size: r.int(4),
        })
        .collect())
}

/// One derived file of a case.
pub async fn artifact(
    tx: &mut dyn SqlTx,
    case_id: i64,
    name: &str,
) -> Result<Option<Artifact>, StorageError> {
    let row = tx
        .query_opt(
            "SELECT case_id, name, media_type, blob_key, size FROM artifacts WHERE case_id = $1 AND name = $2",
            params![case_id, name],
        )
        .await?;
    Ok(row.map(|r| Artifact {
        case_id: r.int(0),
        name: r.text(1),
        media_type: r.text(2),
        blob_key: r.text(3),
        size: r.int(4),
    }))
}

/// Records (or replaces) a measurement.
pub async fn put_measurement(
    tx: &mut dyn SqlTx,
    case_id: i64,
    m: &Measurement,
) -> Result<(), StorageError> {
    tx.execute(
        "INSERT INTO measurements (case_id, name, source, lead, value, unit) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (case_id, name, source, lead) DO UPDATE SET value = excluded.value, unit = excluded.unit",
        params![case_id, &m.name, &m.source, &m.lead, m.value, &m.unit],
    )
    .await?;
    Ok(())
}

/// A case's measurements.
pub async fn measurements(
    tx: &mut dyn SqlTx,
    case_id: i64,
) -> Result<Vec<Measurement>, StorageError> {
    let rows = tx
        .query(
            "SELECT name, value, unit, source, lead FROM measurements WHERE case_id = $1 ORDER BY source DESC, name, lead",
            params![case_id],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Measurement {
            name: r.text(0),
            value: r.real(1),
            unit: r.text(2),
            source: r.text(3),
            lead: r.text(4),
        })
        .collect())
}

/// Records (or replaces) a flag.
pub async fn put_flag(tx: &mut dyn SqlTx, case_id: i64, f: &Flag) -> Result<(), StorageError> {
    tx.execute(
        "INSERT INTO flags (case_id, code, critical, message) VALUES ($1, $2, $3, $4)
         ON CONFLICT (case_id, code) DO UPDATE SET critical = excluded.critical, message = excluded.message",
        params![case_id, &f.code, f.critical, &f.message],
    )
    .await?;
    Ok(())
}

/// Flags of the given cases, as (case id, flag).
pub async fn flags(tx: &mut dyn SqlTx, case_id: i64) -> Result<Vec<Flag>, StorageError> {
    let rows = tx
        .query(
            "SELECT code, critical, message FROM flags WHERE case_id = $1 ORDER BY critical DESC, code",
            params![case_id],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Flag {
            code: r.text(0),
            critical: r.bool(1),
            message: r.text(2),
        })
        .collect())
}
