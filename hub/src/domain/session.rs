//! Browser sessions: a user signs in to the hub's web pages and viewer once with the token they
//! give the command line, and the browser then holds a session id in a cookie instead of the token.
//!
//! A session id is 32 random bytes; the index keeps only its SHA-256, the user and the time the
//! session ends (`[viewer] session_lifetime`). Looked-up sessions are cached like tokens, and
//! the same revocation ends them: a disabled user's cached sessions are stale at once (see
//! [`super::revocation`]), and the index look-up refuses a disabled user, on every replica.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::RngCore;

use super::auth::{CACHE_TTL, principal_of};
use super::{Error, Hub, Result, audit};
use crate::clock::now_ms;
use crate::model::{Principal, Role};
use crate::storage::{blob::sha256_hex, sessions};

/// The secret a browser holds for its session (the cookie's value). Never logged: `Debug`
/// prints only that it is one.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionId(String);

impl SessionId {
    fn new() -> SessionId {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        SessionId(hex::encode(bytes))
    }

    /// A session id as a browser sent it back; `None` when it cannot be one of ours.
    pub fn parse(text: &str) -> Option<SessionId> {
        let text = text.trim();
        (text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| SessionId(text.to_ascii_lowercase()))
    }

    /// The id, for the cookie.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn hash(&self) -> String {
        sha256_hex(self.0.as_bytes())
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionId(***)")
    }
}

/// A session just begun.
#[derive(Debug, Clone)]
pub struct Session {
    /// The id the browser keeps in its cookie.
    pub id: SessionId,
    /// Who signed in.
    pub principal: Principal,
    /// How long the session lasts (the cookie's `Max-Age`).
    pub lifetime: Duration,
}

/// Principals by session hash: when they were looked up and when the session ends (ms).
#[derive(Default)]
pub(crate) struct SessionCache(Mutex<HashMap<String, (Principal, Instant, i64)>>);

impl SessionCache {
    fn get(&self, hash: &str, now_ms: i64) -> Option<(Principal, Instant)> {
        let map = self.0.lock().ok()?;
        map.get(hash)
            .filter(|(_, at, ends)| at.elapsed() < CACHE_TTL && *ends > now_ms)
            .map(|(p, at, _)| (p.clone(), *at))
    }

    fn put(&self, hash: String, principal: Principal, looked_up: Instant, ends_ms: i64) {
        if let Ok(mut map) = self.0.lock() {
            if map.len() > 10_000 {
                map.clear();
            }
            map.insert(hash, (principal, looked_up, ends_ms));
        }
    }

    fn remove(&self, hash: &str) {
        if let Ok(mut map) = self.0.lock() {
            map.remove(hash);
        }
    }
}

const SIGN_IN_AGAIN: &str = "your session has ended or is not recognised: sign in again at /login";

impl Hub {
    /// Signs a user in with their token: a new session, recorded (hashed) and audited. Worker
    /// tokens cannot sign in; they belong to machines.
    pub async fn sign_in(&self, token: &str) -> Result<Session> {
        let principal = self.authenticate(token).await?;
        if principal.role == Role::Worker {
            return Err(Error::PermissionDenied(format!(
                "{} is a worker: worker tokens cannot sign in to the web pages",
                principal.name
            )));
        }
        let lifetime = self.config().viewer.session_lifetime;
        let id = SessionId::new();
        let now = now_ms();
        let ends = now.saturating_add(i64::try_from(lifetime.as_millis()).unwrap_or(i64::MAX));
        let mut tx = self.store().write().await?;
        sessions::delete_expired(tx.as_mut(), now).await?;
        let new = sessions::NewSession {
            id_hash: &id.hash(),
            user_id: principal.user_id,
            created_at_ms: now,
            expires_at_ms: ends,
        };
        sessions::insert(tx.as_mut(), &new).await?;
        audit::record(
            tx.as_mut(),
            &principal,
            "session_start",
            0,
            "",
            "web sign-in",
        )
        .await?;
        tx.commit().await?;
        Ok(Session {
            id,
            principal,
            lifetime,
        })
    }

    /// The principal of a browser's session, if it is still open and its user still enabled.
    pub async fn session_principal(&self, id: &SessionId) -> Result<Principal> {
        let hash = id.hash();
        let now = now_ms();
        if let Some((p, at)) = self.inner.sessions.get(&hash, now)
            && !self.revoked_since(&p, at)
        {
            return Ok(p);
        }
        // Taken before the read: a revocation committed meanwhile makes this look-up stale.
        let looked_up = Instant::now();
        let mut tx = self.store().read().await?;
        let (user, ends) = sessions::user_of(tx.as_mut(), &hash, now)
            .await?
            .ok_or_else(|| Error::Unauthenticated(SIGN_IN_AGAIN.into()))?;
        let principal = principal_of(tx.as_mut(), user).await?;
        self.inner
            .sessions
            .put(hash, principal.clone(), looked_up, ends);
        Ok(principal)
    }

    /// Ends a browser's session (signing out); audited. An unknown or ended session is no error:
    /// the browser forgets its cookie either way.
    pub async fn sign_out(&self, id: &SessionId) -> Result<()> {
        let hash = id.hash();
        self.inner.sessions.remove(&hash);
        let mut tx = self.store().write().await?;
        let user = sessions::user_of(tx.as_mut(), &hash, i64::MIN).await?;
        if sessions::delete(tx.as_mut(), &hash).await?
            && let Some((user, _)) = user
        {
            let who = principal_of(tx.as_mut(), user).await?;
            audit::record(tx.as_mut(), &who, "session_end", 0, "", "web sign-out").await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_random_and_never_printed() {
        let (a, b) = (SessionId::new(), SessionId::new());
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 64);
        assert_eq!(format!("{a:?}"), "SessionId(***)");
        assert_eq!(SessionId::parse(a.as_str()), Some(a.clone()));
        assert_ne!(a.hash(), a.as_str(), "only the hash is stored");
    }

    #[test]
    fn only_well_formed_ids_are_looked_up() {
        assert_eq!(SessionId::parse(""), None);
        assert_eq!(SessionId::parse("demo-specialist"), None);
        assert_eq!(SessionId::parse(&"g".repeat(64)), None);
        assert!(SessionId::parse(&"A".repeat(64)).is_some());
    }
}
