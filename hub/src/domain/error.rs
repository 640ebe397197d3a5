//! The domain's errors. Transport maps each variant to one gRPC status (see `transport::status`).
//!
//! A message says what the caller may know and no more: another institution's case reads as a
//! case that does not exist, and a storage or internal failure reaches the caller only as an
//! [`IncidentRef`], its details (SQL, paths) going to the hub's log under that reference.

use std::fmt;

use crate::storage::StorageError;

/// What went wrong with an operation, in words for the person who asked.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No valid credentials.
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller's role or institution does not allow this.
    #[error("{0}")]
    PermissionDenied(String),
    /// The thing asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request itself is wrong.
    #[error("{0}")]
    InvalidArgument(String),
    /// The request is fine but the state does not allow it now (already claimed, not claimed, ...).
    #[error("{0}")]
    FailedPrecondition(String),
    /// The hub lacks a resource to take this on now (its disk is nearly full); reading still works.
    #[error("{0}")]
    ResourceExhausted(String),
    /// The caller passed one of their per-user limits (`[user_limits]`); they may try again after
    /// `retry_after`.
    #[error("{message}")]
    Busy {
        /// Which limit, in words.
        message: String,
        /// When a new request would be admitted.
        retry_after: std::time::Duration,
    },
    /// Storage failed; the operation did not happen.
    #[error("storage failure: {0}")]
    Storage(#[from] StorageError),
    /// A bug or an unexpected condition.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Result of a domain operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The reference under which a failure's details were written to the hub's log: the caller is
/// told the reference, an administrator finds the details with it (`grep incident=REF`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentRef(String);

impl IncidentRef {
    /// Logs `detail` (which may name SQL statements or paths, never a patient) under a new
    /// reference; `what` says what failed ("storage", "internal").
    pub fn log(what: &str, detail: &dyn fmt::Display) -> IncidentRef {
        use rand::Rng;
        let id = format!("{:08X}", rand::rng().random::<u32>());
        tracing::error!(incident = %id, "{what} failure: {detail}");
        IncidentRef(id)
    }

    /// The reference itself, e.g. `7F3A09C2`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IncidentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ref {}", self.0)
    }
}

/// The message a caller gets for a storage failure: no SQL, no paths, a reference to the log.
pub fn storage_message(detail: &dyn fmt::Display) -> String {
    let r = IncidentRef::log("storage", detail);
    format!(
        "storage error ({r}): nothing was stored or changed; try again, and if it keeps failing \
         give the reference to the hub's administrator"
    )
}

/// The message a caller gets for an internal failure: a reference to the log only.
pub fn internal_message(detail: &dyn fmt::Display) -> String {
    let r = IncidentRef::log("internal", detail);
    format!("internal error ({r}): tell the hub's administrator the reference")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_messages_carry_a_reference_and_no_detail() {
        let e = StorageError::database(
            "SELECT * FROM cases WHERE id = $1",
            "disk I/O error at /srv/hub/index.sqlite3",
        );
        let m = storage_message(&e);
        assert!(m.starts_with("storage error (ref "), "{m}");
        for secret in ["SELECT", "cases", "/srv/hub", "sqlite3"] {
            assert!(!m.contains(secret), "{m}");
        }
        assert_ne!(m, storage_message(&e), "each failure has its own reference");
        let i = internal_message(&"case vanished at /srv/hub");
        assert!(i.contains("ref ") && !i.contains("/srv"), "{i}");
    }
}
