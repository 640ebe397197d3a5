//! The one mapping from domain errors to gRPC statuses. Exhaustive on purpose: a new error variant
//! must decide its status here.

use tonic::{Code, Status};

use crate::domain::Error;

/// The status a domain error is reported with. Storage and internal failures are logged with their
/// detail; the caller gets a message without internals.
pub fn to_status(e: Error) -> Status {
    match e {
        Error::Unauthenticated(m) => Status::new(Code::Unauthenticated, m),
        Error::PermissionDenied(m) => Status::new(Code::PermissionDenied, m),
        Error::NotFound(m) => Status::new(Code::NotFound, m),
        Error::InvalidArgument(m) => Status::new(Code::InvalidArgument, m),
        Error::FailedPrecondition(m) => Status::new(Code::FailedPrecondition, m),
        Error::ResourceExhausted(m) => Status::new(Code::ResourceExhausted, m),
        Error::Storage(e) => {
            tracing::error!("storage failure: {e}");
            Status::new(
                Code::Unavailable,
                format!("the hub's storage failed ({e}); nothing was changed, try again"),
            )
        }
        Error::Internal(m) => {
            tracing::error!("internal error: {m}");
            Status::new(Code::Internal, format!("internal error: {m}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_has_its_code() {
        let cases = [
            (Error::Unauthenticated("a".into()), Code::Unauthenticated),
            (Error::PermissionDenied("a".into()), Code::PermissionDenied),
            (Error::NotFound("a".into()), Code::NotFound),
            (
                Error::ResourceExhausted("a".into()),
                Code::ResourceExhausted,
            ),
            (Error::InvalidArgument("a".into()), Code::InvalidArgument),
            (
                Error::FailedPrecondition("a".into()),
                Code::FailedPrecondition,
            ),
            (Error::Internal("a".into()), Code::Internal),
        ];
        for (e, code) in cases {
            assert_eq!(to_status(e).code(), code);
        }
    }
}
