//! HTTP statuses for what went wrong (PS3.18 8.5): the one mapping from domain errors, and the
//! statuses only HTTP has (406, 415, 400 for a malformed request). A storage or internal failure
//! reaches the caller as a reference to the hub's log, never its details.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::domain::{Error, internal_message, storage_message};

/// A refused or failed HTTP request.
#[derive(Debug)]
pub enum HttpError {
    /// From the domain.
    Domain(Error),
    /// The request is malformed (400), with the reason.
    BadRequest(String),
    /// Nothing the `Accept` header allows can be given (406).
    NotAcceptable(String),
    /// The body's media type is not one this route takes (415).
    UnsupportedMediaType(String),
    /// The body is larger than `http.max_body_bytes` (413).
    TooLarge(String),
}

impl From<Error> for HttpError {
    fn from(e: Error) -> Self {
        HttpError::Domain(e)
    }
}

impl HttpError {
    /// The status and the message for the caller.
    pub fn status(self) -> (StatusCode, String) {
        match self {
            HttpError::Domain(e) => domain_status(e),
            HttpError::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            HttpError::NotAcceptable(m) => (StatusCode::NOT_ACCEPTABLE, m),
            HttpError::UnsupportedMediaType(m) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, m),
            HttpError::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, m),
        }
    }
}

/// Exhaustive on purpose: a new domain error must decide its status here.
fn domain_status(e: Error) -> (StatusCode, String) {
    match e {
        Error::Unauthenticated(m) => (StatusCode::UNAUTHORIZED, m),
        Error::PermissionDenied(m) => (StatusCode::FORBIDDEN, m),
        Error::NotFound(m) => (StatusCode::NOT_FOUND, m),
        Error::InvalidArgument(m) => (StatusCode::BAD_REQUEST, m),
        Error::FailedPrecondition(m) => (StatusCode::CONFLICT, m),
        Error::ResourceExhausted(m) => (StatusCode::SERVICE_UNAVAILABLE, m),
        Error::Storage(e) => (StatusCode::SERVICE_UNAVAILABLE, storage_message(&e)),
        Error::Internal(m) => (StatusCode::INTERNAL_SERVER_ERROR, internal_message(&m)),
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let (status, message) = self.status();
        let mut response = (status, format!("{message}\n")).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"remotedx\""),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_no_internals() {
        let s = |e: Error| HttpError::from(e).status().0;
        assert_eq!(
            s(Error::Unauthenticated("a".into())),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            s(Error::PermissionDenied("a".into())),
            StatusCode::FORBIDDEN
        );
        assert_eq!(s(Error::NotFound("a".into())), StatusCode::NOT_FOUND);
        assert_eq!(
            s(Error::InvalidArgument("a".into())),
            StatusCode::BAD_REQUEST
        );
        let (status, m) = HttpError::from(Error::Internal("bad row in /srv/hub".into())).status();
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(m.contains("(ref ") && !m.contains("/srv"), "{m}");
    }
}
