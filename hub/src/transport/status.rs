//! The one mapping from domain errors to gRPC statuses. Exhaustive on purpose: a new error variant
//! must decide its status here.

use tonic::{Code, Status};

use crate::domain::{Error, internal_message, storage_message};

/// The status a domain error is reported with. Storage and internal failures are logged with their
/// detail under a reference; the caller gets the reference and no internals (no SQL, no paths).
pub fn to_status(e: Error) -> Status {
    match e {
        Error::Unauthenticated(m) => Status::new(Code::Unauthenticated, m),
        Error::PermissionDenied(m) => Status::new(Code::PermissionDenied, m),
        Error::NotFound(m) => Status::new(Code::NotFound, m),
        Error::InvalidArgument(m) => Status::new(Code::InvalidArgument, m),
        Error::FailedPrecondition(m) => Status::new(Code::FailedPrecondition, m),
        Error::ResourceExhausted(m) => Status::new(Code::ResourceExhausted, m),
        Error::Busy {
            message,
            retry_after,
        } => busy(&message, retry_after),
        Error::Storage(e) => Status::new(Code::Unavailable, storage_message(&e)),
        Error::Internal(m) => Status::new(Code::Internal, internal_message(&m)),
    }
}

/// RESOURCE_EXHAUSTED with a `retry-after` hint: whole seconds in the metadata (as HTTP's
/// Retry-After), milliseconds in the message for a person.
fn busy(message: &str, retry_after: std::time::Duration) -> Status {
    let millis = retry_after.as_millis().max(1);
    let mut status = Status::new(
        Code::ResourceExhausted,
        format!("{message} (try again in {millis} ms)"),
    );
    let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    if let Ok(value) = seconds.to_string().parse() {
        status.metadata_mut().insert(RETRY_AFTER, value);
    }
    status
}

/// The metadata key of the hint in a RESOURCE_EXHAUSTED status: seconds until a retry is admitted.
pub const RETRY_AFTER: &str = "retry-after";

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
            (
                Error::Busy {
                    message: "a".into(),
                    retry_after: std::time::Duration::from_millis(1500),
                },
                Code::ResourceExhausted,
            ),
        ];
        for (e, code) in cases {
            let status = to_status(e);
            assert_eq!(status.code(), code);
            if status.message().starts_with("a (try again in 1500 ms)") {
                assert_eq!(status.metadata().get(RETRY_AFTER).unwrap(), "2");
            }
        }
    }

    /// Regression: a storage failure sent the SQL statement and the database's message (with
    /// paths) to the caller.
    #[test]
    fn storage_failures_reach_the_caller_as_a_reference_only() {
        let e = crate::storage::StorageError::database(
            "INSERT INTO instances (sop_instance_uid) VALUES ($1)",
            "unable to open database file /srv/hub/index.sqlite3",
        );
        let status = to_status(Error::Storage(e));
        assert_eq!(status.code(), Code::Unavailable);
        let m = status.message();
        assert!(m.starts_with("storage error (ref "), "{m}");
        assert!(!m.contains("INSERT") && !m.contains("/srv"), "{m}");
        let m = to_status(Error::Internal("bad row in /srv/hub".into()))
            .message()
            .to_owned();
        assert!(m.contains("(ref ") && !m.contains("/srv"), "{m}");
    }
}
