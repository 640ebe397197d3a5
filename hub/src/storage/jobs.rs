//! The durable job queue shared by the in-process runner and remote workers.
//!
//! A job is leased for a while; a worker that dies lets the lease run out and the job goes to the
//! next one. Of two workers racing for a job, the conditional update lets exactly one win, so the
//! same queue works across hub replicas on PostgreSQL.

use super::sql::{Row, SqlTx, StorageError};
use crate::model::{Job, JobKind};
use crate::params;

const COLUMNS: &str =
    "id, case_id, kind, subject, state, attempts, lease_owner, lease_expires_at_ms";

fn job(r: &Row) -> Job {
    Job {
        id: r.int(0),
        case_id: r.int(1),
        kind: r.text(2),
        subject: r.text(3),
        state: r.text(4),
        attempts: r.int(5),
        lease_owner: r.text(6),
        lease_expires_at_ms: r.int(7),
    }
}

/// Queues a job; returns its id.
pub async fn insert(
    tx: &mut dyn SqlTx,
    case_id: i64,
    kind: JobKind,
    subject: &str,
    now_ms: i64,
) -> Result<i64, StorageError> {
    let row = tx
        .query_one(
            "INSERT INTO jobs (case_id, kind, subject, state, created_at_ms) VALUES ($1, $2, $3, 'queued', $4)
             RETURNING id",
            params![case_id, kind.as_str(), subject, now_ms],
        )
        .await?;
    Ok(row.int(0))
}

/// Leases the oldest runnable job to `owner` until `lease_until_ms`: a queued one, or a leased one
/// whose lease ran out with attempts left. Jobs of critical and more urgent cases go first.
pub async fn lease_next(
    tx: &mut dyn SqlTx,
    owner: &str,
    now_ms: i64,
    lease_until_ms: i64,
    max_attempts: i64,
) -> Result<Option<Job>, StorageError> {
    let candidates = tx
        .query(
            "SELECT j.id FROM jobs j JOIN cases c ON c.id = j.case_id
             WHERE j.state = 'queued' OR (j.state = 'leased' AND j.lease_expires_at_ms <= $1 AND j.attempts < $2)
             ORDER BY c.critical DESC, c.priority DESC, j.id LIMIT 8",
            params![now_ms, max_attempts],
        )
        .await?;
    for candidate in candidates {
        let id = candidate.int(0);
        let won = tx
            .execute(
                "UPDATE jobs SET state = 'leased', lease_owner = $2, lease_expires_at_ms = $3, attempts = attempts + 1
                 WHERE id = $1 AND (state = 'queued' OR (state = 'leased' AND lease_expires_at_ms <= $4))",
                params![id, owner, lease_until_ms, now_ms],
            )
            .await?;
        if won == 1 {
            return get(tx, id).await;
        }
    }
    Ok(None)
}

/// The job with this id.
pub async fn get(tx: &mut dyn SqlTx, id: i64) -> Result<Option<Job>, StorageError> {
    let sql = format!("SELECT {COLUMNS} FROM jobs WHERE id = $1");
    Ok(tx.query_opt(&sql, params![id]).await?.map(|r| job(&r)))
}

/// Marks `owner`'s leased job finished (`done`, or `failed` with an error). Returns false if the job
/// is not leased to `owner` any more (its lease ran out and another worker took it).
pub async fn finish(
    tx: &mut dyn SqlTx,
    id: i64,
    owner: &str,
    error: &str,
    now_ms: i64,
) -> Result<bool, StorageError> {
    let state = if error.is_empty() { "done" } else { "failed" };
    let n = tx
        .execute(
            "UPDATE jobs SET state = $3, error = $4, finished_at_ms = $5
             WHERE id = $1 AND state = 'leased' AND lease_owner = $2",
            params![id, owner, state, error, now_ms],
        )
        .await?;
    Ok(n == 1)
}

/// Leased jobs whose lease ran out and that have no attempts left: they are given up.
pub async fn exhausted(
    tx: &mut dyn SqlTx,
    now_ms: i64,
    max_attempts: i64,
) -> Result<Vec<Job>, StorageError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM jobs WHERE state = 'leased' AND lease_expires_at_ms <= $1 AND attempts >= $2"
    );
    Ok(tx
        .query(&sql, params![now_ms, max_attempts])
        .await?
        .iter()
        .map(job)
        .collect())
}

/// Gives up a job that ran out of attempts.
pub async fn give_up(
    tx: &mut dyn SqlTx,
    id: i64,
    error: &str,
    now_ms: i64,
) -> Result<bool, StorageError> {
    let n = tx
        .execute(
            "UPDATE jobs SET state = 'failed', error = $2, finished_at_ms = $3 WHERE id = $1 AND state = 'leased'",
            params![id, error, now_ms],
        )
        .await?;
    Ok(n == 1)
}

/// Counts a case's jobs of one kind that are not finished.
pub async fn unfinished(
    tx: &mut dyn SqlTx,
    case_id: i64,
    kind: JobKind,
) -> Result<i64, StorageError> {
    let row = tx
        .query_one(
            "SELECT COUNT(*) FROM jobs WHERE case_id = $1 AND kind = $2 AND state IN ('queued', 'leased')",
            params![case_id, kind.as_str()],
        )
        .await?;
    Ok(row.int(0))
}
