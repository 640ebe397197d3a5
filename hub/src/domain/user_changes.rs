//! Changing a user's role or institution (`hub user set-role`, `hub user move`): audited, and,
//! like disabling, it ends what the user holds at once: cached tokens are dropped and open streams
//! end ([`super::revocation`]), so nothing granted under the old role or institution outlives
//! the change. Other hubs on the same index see the changed row within their revocation poll.

use super::{Error, Hub, Result, audit};
use crate::model::{Principal, Role};
use crate::storage::users;

impl Hub {
    /// Gives user `user_id` the role `role`; audited (`user_set_role`).
    pub async fn set_user_role(&self, who: &Principal, user_id: i64, role: Role) -> Result<()> {
        who.require(&[Role::Admin], "changing a user's role")?;
        let mut tx = self.store().write().await?;
        let before = current(tx.as_mut(), user_id).await?;
        users::set_role(tx.as_mut(), user_id, role.as_str()).await?;
        let detail = format!("user {user_id} role {} -> {role}", before.role);
        audit::record(tx.as_mut(), who, "user_set_role", 0, "", detail).await?;
        tx.commit().await?;
        self.revoke(user_id);
        Ok(())
    }

    /// Moves user `user_id` to institution `code` (which must exist); audited (`user_move`).
    pub async fn move_user(&self, who: &Principal, user_id: i64, code: &str) -> Result<()> {
        who.require(&[Role::Admin], "moving a user to another institution")?;
        let mut tx = self.store().write().await?;
        let before = current(tx.as_mut(), user_id).await?;
        if users::institution(tx.as_mut(), code).await?.is_none() {
            return Err(Error::NotFound(format!(
                "no institution {code:?} (see `hub institution list`; add it with `hub institution add`)"
            )));
        }
        users::set_institution(tx.as_mut(), user_id, code).await?;
        let detail = format!(
            "user {user_id} institution {} -> {code}",
            before.institution_code
        );
        audit::record(tx.as_mut(), who, "user_move", 0, "", detail).await?;
        tx.commit().await?;
        self.revoke(user_id);
        Ok(())
    }
}

/// The user as stored, or NOT_FOUND naming the id.
async fn current(tx: &mut dyn crate::storage::SqlTx, user_id: i64) -> Result<crate::model::User> {
    users::users(tx)
        .await?
        .into_iter()
        .find(|u| u.id == user_id)
        .ok_or_else(|| Error::NotFound(format!("no user {user_id} (see `hub user list`)")))
}
