//! The domain-event outbox: events are written in the transaction that causes them and delivered
//! to each subscriber until it has handled them, so a crash between the two loses nothing.

use super::sql::{SqlTx, StorageError};
use crate::params;

/// A stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Event id (increasing).
    pub id: i64,
    /// Event kind, e.g. "report_signed".
    pub kind: String,
    /// The case it concerns.
    pub case_id: i64,
    /// JSON payload.
    pub payload: String,
}

/// Appends an event; returns its id.
pub async fn append(
    tx: &mut dyn SqlTx,
    kind: &str,
    case_id: i64,
    payload: &str,
    now_ms: i64,
) -> Result<i64, StorageError> {
    let row = tx
        .query_one(
            "INSERT INTO events (kind, case_id, payload, created_at_ms) VALUES ($1, $2, $3, $4) RETURNING id",
            params![kind, case_id, payload, now_ms],
        )
        .await?;
    Ok(row.int(0))
}

/// Events `subscriber` has not handled yet, oldest first.
pub async fn undelivered(
    tx: &mut dyn SqlTx,
    subscriber: &str,
    limit: i64,
) -> Result<Vec<StoredEvent>, StorageError> {
    let rows = tx
        .query(
            "SELECT e.id, e.kind, e.case_id, e.payload FROM events e
             WHERE NOT EXISTS (SELECT 1 FROM event_deliveries d WHERE d.event_id = e.id AND d.subscriber = $1)
             ORDER BY e.id LIMIT $2",
            params![subscriber, limit],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| StoredEvent {
            id: r.int(0),
            kind: r.text(1),
            case_id: r.int(2),
            payload: r.text(3),
        })
        .collect())
}

/// Records that `subscriber` handled the event. Returns false if it already had.
pub async fn mark_delivered(
    tx: &mut dyn SqlTx,
    event_id: i64,
    subscriber: &str,
    now_ms: i64,
) -> Result<bool, StorageError> {
    let n = tx
        .execute(
            "INSERT INTO event_deliveries (event_id, subscriber, delivered_at_ms) VALUES ($1, $2, $3)
             ON CONFLICT (event_id, subscriber) DO NOTHING",
            params![event_id, subscriber, now_ms],
        )
        .await?;
    Ok(n == 1)
}
