//! Browser sessions: the SHA-256 of each session id, its user and when it ends.

use super::sql::{SqlTx, StorageError};
use crate::model::User;
use crate::params;

/// A session to record.
pub struct NewSession<'a> {
    /// SHA-256 (hex) of the session id the browser holds.
    pub id_hash: &'a str,
    /// Whose session it is.
    pub user_id: i64,
    /// When it began (ms since the epoch).
    pub created_at_ms: i64,
    /// When it ends (ms since the epoch).
    pub expires_at_ms: i64,
}

/// Records a session.
pub async fn insert(tx: &mut dyn SqlTx, s: &NewSession<'_>) -> Result<(), StorageError> {
    tx.execute(
        "INSERT INTO web_sessions (id_hash, user_id, created_at_ms, expires_at_ms)
         VALUES ($1, $2, $3, $4)",
        params![s.id_hash, s.user_id, s.created_at_ms, s.expires_at_ms],
    )
    .await?;
    Ok(())
}

/// The enabled user of the session whose id hashes to `id_hash`, with the time the session ends,
/// if it has not ended by `now_ms`.
pub async fn user_of(
    tx: &mut dyn SqlTx,
    id_hash: &str,
    now_ms: i64,
) -> Result<Option<(User, i64)>, StorageError> {
    let row = tx
        .query_opt(
            "SELECT u.id, u.name, u.role, u.institution_code, u.senior, u.disabled, s.expires_at_ms
             FROM web_sessions s JOIN users u ON u.id = s.user_id
             WHERE s.id_hash = $1 AND s.expires_at_ms > $2 AND u.disabled = 0",
            params![id_hash, now_ms],
        )
        .await?;
    Ok(row.map(|r| {
        let user = User {
            id: r.int(0),
            name: r.text(1),
            role: r.text(2),
            institution_code: r.text(3),
            senior: r.bool(4),
            disabled: r.bool(5),
        };
        (user, r.int(6))
    }))
}

/// Ends one session; returns whether there was one.
pub async fn delete(tx: &mut dyn SqlTx, id_hash: &str) -> Result<bool, StorageError> {
    let n = tx
        .execute(
            "DELETE FROM web_sessions WHERE id_hash = $1",
            params![id_hash],
        )
        .await?;
    Ok(n == 1)
}

/// Ends every session of `user_id`; returns how many there were.
pub async fn delete_for_user(tx: &mut dyn SqlTx, user_id: i64) -> Result<u64, StorageError> {
    tx.execute(
        "DELETE FROM web_sessions WHERE user_id = $1",
        params![user_id],
    )
    .await
}

/// Forgets sessions that ended before `now_ms`; returns how many.
pub async fn delete_expired(tx: &mut dyn SqlTx, now_ms: i64) -> Result<u64, StorageError> {
    tx.execute(
        "DELETE FROM web_sessions WHERE expires_at_ms <= $1",
        params![now_ms],
    )
    .await
}
