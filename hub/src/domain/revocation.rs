//! Ending a user's access at once: disabling a user (or changing their role, institution or
//! seniority) evicts their cached principal and ends their open report streams.
//!
//! Two paths lead here. A change made through this process ([`Hub::disable_user`]) revokes
//! directly. A change made by another process (the `hub user disable` command on the same index,
//! or another replica) is seen by [`Hub::watch_revocations`], which every serving hub runs: it
//! reads the users table every [`POLL`] and revokes every user whose row changed. So on every
//! replica a disabled user's token stops working, and their streams end, within [`POLL`] plus one
//! database read; the token cache's TTL ([`super::auth::CACHE_TTL`]) is only a backstop.
//!
//! A revocation is a time: a principal looked up, or a stream opened, before it is stale.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::{Error, Hub, Result, audit};
use crate::model::{Principal, Role, User};
use crate::storage::users;

/// How often a serving hub reads the users table for changes made by other processes.
pub const POLL: Duration = Duration::from_millis(250);

/// When each user's access last ended, and a counter that wakes streams when one does.
pub(crate) struct Revocations {
    at: Mutex<HashMap<i64, Instant>>,
    epoch: watch::Sender<u64>,
}

impl Default for Revocations {
    fn default() -> Self {
        Revocations {
            at: Mutex::new(HashMap::new()),
            epoch: watch::channel(0).0,
        }
    }
}

impl Revocations {
    /// Whether something `user_id` was granted at `since` has been revoked after it.
    pub(crate) fn revoked_since(&self, user_id: i64, since: Instant) -> bool {
        self.at
            .lock()
            .map(|m| m.get(&user_id).is_some_and(|at| *at >= since))
            .unwrap_or(true)
    }

    fn revoke(&self, user_id: i64) {
        if let Ok(mut m) = self.at.lock() {
            m.insert(user_id, Instant::now());
        }
        self.epoch.send_modify(|e| *e += 1);
    }

    /// A receiver that changes whenever any user's access ends.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.epoch.subscribe()
    }
}

/// What decides a user's access: a change to any of it revokes what they hold.
fn access_of(u: &User) -> (bool, String, String, bool) {
    (
        u.disabled,
        u.role.clone(),
        u.institution_code.clone(),
        u.senior,
    )
}

impl Hub {
    /// Disables a user (an administrator's act, or the operator's `hub user disable`): their
    /// token stops working and their open streams end at once; audited.
    pub async fn disable_user(&self, who: &Principal, user_id: i64) -> Result<()> {
        who.require(&[Role::Admin], "disabling a user")?;
        let mut tx = self.store().write().await?;
        if !users::disable_user(tx.as_mut(), user_id).await? {
            return Err(Error::NotFound(format!(
                "no user {user_id} (see `hub user list`)"
            )));
        }
        let detail = format!("user {user_id} disabled");
        audit::record(tx.as_mut(), who, "user_disable", 0, "", detail).await?;
        tx.commit().await?;
        self.revoke(user_id);
        Ok(())
    }

    /// Ends what `user_id` holds: cached principals and open streams.
    pub(crate) fn revoke(&self, user_id: i64) {
        self.inner.revocations.revoke(user_id);
        self.inner.tokens.evict_user(user_id);
        tracing::info!(
            user = user_id,
            "access revoked: cached token and streams ended"
        );
    }

    /// Revokes the users whose access changed in the index (by another process or replica)
    /// until `stop` resolves; see the module documentation.
    pub async fn watch_revocations(&self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        let mut known: Option<HashMap<i64, (bool, String, String, bool)>> = None;
        loop {
            match self.users_access().await {
                Ok(now) => {
                    if let Some(before) = &known {
                        for (id, access) in &now {
                            if before.get(id).is_some_and(|b| b != access) {
                                self.revoke(*id);
                            }
                        }
                    }
                    known = Some(now);
                }
                Err(e) => tracing::warn!("reading users for revocations failed: {e}"),
            }
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }

    async fn users_access(&self) -> Result<HashMap<i64, (bool, String, String, bool)>> {
        let mut tx = self.store().read().await?;
        let all = users::users(tx.as_mut()).await?;
        Ok(all.iter().map(|u| (u.id, access_of(u))).collect())
    }
}
