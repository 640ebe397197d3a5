//! Users, bearer tokens and the checks every operation makes.
//!
//! Tokens are 32 random bytes shown once when a user is created; the hub stores only their SHA-256
//! (a slow hash adds nothing for secrets with 256 bits of entropy). Looked-up principals are cached
//! for [`CACHE_TTL`]; disabling a user evicts theirs at once (see [`super::revocation`]).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::RngCore;

use super::limits::{CODE_CHARS, NAME_CHARS, bounded};
use super::{Error, Hub, Result};
use crate::clock::now_ms;
use crate::model::{Institution, Principal, Role, User};
use crate::storage::{SqlTx, blob::sha256_hex, users};

/// How long an authenticated token is trusted without looking it up again.
pub const CACHE_TTL: Duration = Duration::from_secs(30);

/// Prefix that makes remotedx tokens recognisable (e.g. to secret scanners).
const TOKEN_PREFIX: &str = "rdx_";

/// A fresh random token.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

/// What the index stores of a token.
pub fn token_hash(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// Principals by token hash, with the time they were looked up.
#[derive(Default)]
pub(crate) struct TokenCache(Mutex<HashMap<String, (Principal, Instant)>>);

impl TokenCache {
    fn get(&self, hash: &str) -> Option<(Principal, Instant)> {
        let map = self.0.lock().ok()?;
        map.get(hash)
            .filter(|(_, at)| at.elapsed() < CACHE_TTL)
            .cloned()
    }

    /// Caches `principal`, looked up from the index starting at `looked_up`.
    fn put(&self, hash: String, principal: Principal, looked_up: Instant) {
        if let Ok(mut map) = self.0.lock() {
            if map.len() > 10_000 {
                map.clear();
            }
            map.insert(hash, (principal, looked_up));
        }
    }

    /// Forgets every token of `user_id`.
    pub(crate) fn evict_user(&self, user_id: i64) {
        if let Ok(mut map) = self.0.lock() {
            map.retain(|_, (p, _)| p.user_id != user_id);
        }
    }
}

/// A new user's details.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Institution code (must exist).
    pub institution_code: String,
    /// Specialists only: may sign final.
    pub senior: bool,
}

impl Hub {
    /// The principal behind a bearer token.
    pub async fn authenticate(&self, token: &str) -> Result<Principal> {
        let token = token.trim();
        if token.is_empty() {
            return Err(Error::Unauthenticated(
                "no token: pass --token or set HUB_TOKEN (header `authorization: Bearer <token>`)"
                    .into(),
            ));
        }
        let hash = token_hash(token);
        if let Some((p, at)) = self.inner.tokens.get(&hash)
            && !self.inner.revocations.revoked_since(p.user_id, at)
        {
            return Ok(p);
        }
        // Taken before the read: a revocation committed meanwhile makes this look-up stale.
        let looked_up = Instant::now();
        let mut tx = self.store().read().await?;
        let user = users::user_by_token(tx.as_mut(), &hash)
            .await?
            .ok_or_else(|| {
                Error::Unauthenticated("token not recognised (unknown, revoked or mistyped)".into())
            })?;
        let principal = principal_of(tx.as_mut(), user).await?;
        self.inner.tokens.put(hash, principal.clone(), looked_up);
        Ok(principal)
    }

    /// Whether `who`'s access, granted at `since`, has been revoked since (streams ask).
    pub(crate) fn revoked_since(&self, who: &Principal, since: Instant) -> bool {
        self.inner.revocations.revoked_since(who.user_id, since)
    }

    /// Every user, by id (the operator's `hub user list`).
    pub async fn users(&self, who: &Principal) -> Result<Vec<crate::model::User>> {
        who.require(&[Role::Admin], "listing users")?;
        let mut tx = self.store().read().await?;
        Ok(users::users(tx.as_mut()).await?)
    }

    /// Every institution, by code.
    pub async fn institutions(&self) -> Result<Vec<Institution>> {
        let mut tx = self.store().read().await?;
        Ok(users::institutions(tx.as_mut()).await?)
    }

    /// The institution with `code`, if there is one.
    pub async fn institution(&self, code: &str) -> Result<Option<Institution>> {
        let mut tx = self.store().read().await?;
        Ok(users::institution(tx.as_mut(), code).await?)
    }

    /// Creates a user; returns their id and token (shown once; only its hash is kept).
    pub async fn create_user(&self, user: &NewUser) -> Result<(i64, String)> {
        self.create_user_with_token(user, &new_token()).await
    }

    /// Creates a user with a chosen token (the demo's well-known tokens); returns their id.
    pub async fn create_user_with_token(
        &self,
        user: &NewUser,
        token: &str,
    ) -> Result<(i64, String)> {
        bounded("a user's name", &user.name, NAME_CHARS)?;
        bounded("the institution code", &user.institution_code, CODE_CHARS)?;
        if user.name.trim().is_empty() {
            return Err(Error::InvalidArgument("a user needs a name".into()));
        }
        if user.senior && user.role != Role::Specialist {
            return Err(Error::InvalidArgument(
                "only specialists can be senior".into(),
            ));
        }
        let mut tx = self.store().write().await?;
        if users::institution(tx.as_mut(), &user.institution_code)
            .await?
            .is_none()
        {
            return Err(Error::NotFound(format!(
                "no institution with code {:?}: add it first with `hub institution add`",
                user.institution_code
            )));
        }
        let new = users::NewUser {
            name: user.name.trim(),
            role: user.role.as_str(),
            institution_code: &user.institution_code,
            senior: user.senior,
            token_hash: &token_hash(token),
        };
        let id = users::insert_user(tx.as_mut(), &new, now_ms()).await?;
        super::audit::record(
            tx.as_mut(),
            &Principal::system(),
            "user_add",
            0,
            "",
            format!("user {id} {} ({})", user.name, user.role),
        )
        .await?;
        tx.commit().await?;
        Ok((id, token.to_owned()))
    }

    /// Adds or renames an institution.
    pub async fn upsert_institution(&self, inst: &Institution) -> Result<()> {
        bounded("the institution code", &inst.code, CODE_CHARS)?;
        bounded("an institution's name", &inst.name, NAME_CHARS)?;
        bounded("the institution level", &inst.level, CODE_CHARS)?;
        if inst.code.trim().is_empty() || inst.name.trim().is_empty() {
            return Err(Error::InvalidArgument(
                "an institution needs a code and a name".into(),
            ));
        }
        let mut tx = self.store().write().await?;
        users::upsert_institution(tx.as_mut(), inst, now_ms()).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Principal {
    /// The hub itself, for actions nobody asked for (expiring claims, queuing quiet studies).
    pub fn system() -> Principal {
        Principal {
            user_id: 0,
            name: "hub".into(),
            role: Role::Admin,
            institution_code: String::new(),
            institution_name: String::new(),
            senior: false,
        }
    }

    /// The hub's own job runner: a worker with no user behind it (user id 0).
    pub fn local_runner() -> Principal {
        Principal {
            user_id: 0,
            name: "hub job runner".into(),
            role: Role::Worker,
            institution_code: String::new(),
            institution_name: String::new(),
            senior: false,
        }
    }

    /// A DICOM peer (a modality's calling AE title) storing studies for `institution`: a clinic
    /// principal with no user behind it, audited as `dicom:<AE title>`.
    pub fn dicom_peer(calling_ae: &str, institution: &Institution) -> Principal {
        Principal {
            user_id: 0,
            name: format!("dicom:{}", calling_ae.trim()),
            role: Role::Clinic,
            institution_code: institution.code.clone(),
            institution_name: institution.name.clone(),
            senior: false,
        }
    }

    /// Fails unless the caller has one of `roles`; `what` names the operation in the message.
    pub fn require(&self, roles: &[Role], what: &str) -> Result<()> {
        if roles.contains(&self.role) {
            return Ok(());
        }
        let allowed: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        Err(Error::PermissionDenied(format!(
            "{what} needs the {} role; {} is a {} user",
            allowed.join(" or "),
            self.name,
            self.role
        )))
    }

    /// The institution a listing is limited to: a clinic's own; "" (every institution) for
    /// the other roles. The counterpart of [`Principal::require_institution`] for lists.
    pub fn listing_scope(&self) -> &str {
        if self.role == Role::Clinic {
            &self.institution_code
        } else {
            ""
        }
    }

    /// Fails unless the caller may see cases of `institution_code`: clinics only their own.
    /// Another institution's `what` ("case 7") answers exactly as one that does not exist ("no
    /// case 7"): which case ids exist, and whose they are, is not a clinic's to learn.
    pub fn require_institution(&self, institution_code: &str, what: &str) -> Result<()> {
        if self.role != Role::Clinic || self.institution_code == institution_code {
            return Ok(());
        }
        Err(Error::NotFound(format!("no {what}")))
    }
}

/// The principal a user row stands for: its role parsed and its institution's name looked up.
pub(super) async fn principal_of(tx: &mut dyn SqlTx, user: User) -> Result<Principal> {
    let inst = users::institution(tx, &user.institution_code).await?;
    Ok(Principal {
        user_id: user.id,
        name: user.name,
        role: user.role.parse().map_err(Error::Internal)?,
        institution_code: user.institution_code,
        institution_name: inst.map(|i| i.name).unwrap_or_default(),
        senior: user.senior,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_prefixed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert!(a.starts_with("rdx_") && a.len() == 68);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), token_hash(&b));
    }

    #[test]
    fn role_and_institution_checks_name_the_problem() {
        let clinic = Principal {
            user_id: 3,
            name: "dr wang".into(),
            role: Role::Clinic,
            institution_code: "TS-A".into(),
            institution_name: "A".into(),
            senior: false,
        };
        let err = clinic
            .require(&[Role::Specialist], "claiming a case")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("specialist") && err.contains("dr wang") && err.contains("clinic"),
            "{err}"
        );
        assert!(clinic.require_institution("TS-A", "case 1").is_ok());
        let err = clinic.require_institution("TS-B", "case 7").unwrap_err();
        assert!(matches!(err, Error::NotFound(_)), "{err}");
        assert_eq!(err.to_string(), "no case 7", "the owner is not named");
    }
}
