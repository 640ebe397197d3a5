//! Institutions and users. Tokens are stored only as SHA-256 hashes.

use super::sql::{Row, SqlTx, StorageError};
use crate::model::{Institution, User};
use crate::params;

/// Inserts or renames an institution.
pub async fn upsert_institution(
    tx: &mut dyn SqlTx,
    inst: &Institution,
    now_ms: i64,
) -> Result<(), StorageError> {
    tx.execute(
        "INSERT INTO institutions (code, name, level, created_at_ms) VALUES ($1, $2, $3, $4)
         ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level",
        params![&inst.code, &inst.name, &inst.level, now_ms],
    )
    .await?;
    Ok(())
}

/// The institution with this code.
pub async fn institution(
    tx: &mut dyn SqlTx,
    code: &str,
) -> Result<Option<Institution>, StorageError> {
    let row = tx
        .query_opt(
            "SELECT code, name, level FROM institutions WHERE code = $1",
            params![code],
        )
        .await?;
    Ok(row.map(|r| Institution {
        code: r.text(0),
        name: r.text(1),
        level: r.text(2),
    }))
}

/// Every institution, by code.
pub async fn institutions(tx: &mut dyn SqlTx) -> Result<Vec<Institution>, StorageError> {
    let rows = tx
        .query(
            "SELECT code, name, level FROM institutions ORDER BY code",
            &[],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Institution {
            code: r.text(0),
            name: r.text(1),
            level: r.text(2),
        })
        .collect())
}

/// A new user's fields.
pub struct NewUser<'a> {
    /// Display name.
    pub name: &'a str,
    /// Role text.
    pub role: &'a str,
    /// Institution code.
    pub institution_code: &'a str,
    /// May sign final.
    pub senior: bool,
    /// SHA-256 of the token.
    pub token_hash: &'a str,
}

/// Inserts a user; returns its id.
pub async fn insert_user(
    tx: &mut dyn SqlTx,
    user: &NewUser<'_>,
    now_ms: i64,
) -> Result<i64, StorageError> {
    let row = tx
        .query_one(
            "INSERT INTO users (name, role, institution_code, senior, token_hash, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            params![
                user.name,
                user.role,
                user.institution_code,
                user.senior,
                user.token_hash,
                now_ms
            ],
        )
        .await?;
    Ok(row.int(0))
}

const USER_COLUMNS: &str = "id, name, role, institution_code, senior, disabled";

fn user(r: &Row) -> User {
    User {
        id: r.int(0),
        name: r.text(1),
        role: r.text(2),
        institution_code: r.text(3),
        senior: r.bool(4),
        disabled: r.bool(5),
    }
}

/// The enabled user whose token hashes to `token_hash`.
pub async fn user_by_token(
    tx: &mut dyn SqlTx,
    token_hash: &str,
) -> Result<Option<User>, StorageError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE token_hash = $1 AND disabled = 0");
    Ok(tx
        .query_opt(&sql, params![token_hash])
        .await?
        .map(|r| user(&r)))
}

/// Every user, by id.
pub async fn users(tx: &mut dyn SqlTx) -> Result<Vec<User>, StorageError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY id");
    Ok(tx.query(&sql, &[]).await?.iter().map(user).collect())
}

/// Disables a user; returns false if there is none with this id.
pub async fn disable_user(tx: &mut dyn SqlTx, id: i64) -> Result<bool, StorageError> {
    Ok(tx
        .execute("UPDATE users SET disabled = 1 WHERE id = $1", params![id])
        .await?
        == 1)
}

/// Gives a user another role; returns false if there is none with this id.
pub async fn set_role(tx: &mut dyn SqlTx, id: i64, role: &str) -> Result<bool, StorageError> {
    Ok(tx
        .execute(
            "UPDATE users SET role = $2 WHERE id = $1",
            params![id, role],
        )
        .await?
        == 1)
}

/// Moves a user to another institution; returns false if there is none with this id.
pub async fn set_institution(
    tx: &mut dyn SqlTx,
    id: i64,
    institution_code: &str,
) -> Result<bool, StorageError> {
    Ok(tx
        .execute(
            "UPDATE users SET institution_code = $2 WHERE id = $1",
            params![id, institution_code],
        )
        .await?
        == 1)
}
