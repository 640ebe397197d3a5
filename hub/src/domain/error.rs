//! The domain's errors. Transport maps each variant to one gRPC status (see `transport::status`).

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
    /// Storage failed; the operation did not happen.
    #[error("storage failure: {0}")]
    Storage(#[from] StorageError),
    /// A bug or an unexpected condition.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Result of a domain operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;
