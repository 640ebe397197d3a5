//! Authentication before the body: for services whose requests may be large, the caller's token
//! is checked from the request headers before tonic reads and decodes the message.
//!
//! tonic decodes a unary request whole before the handler runs, so a handler that authenticates
//! first still buffers up to the service's message limit (64 MiB for workers' results) for
//! anyone who can open a connection. [`Authenticated`] answers UNAUTHENTICATED from the headers
//! alone and drops the body unread. The handler still authenticates (and authorises) as every
//! handler does; the second look-up is served from the token cache.
//!
//! The same place admits the request under its user's limits (`[user_limits]`: requests in
//! flight and a request rate, see `domain::user_limits`), answering RESOURCE_EXHAUSTED with a
//! `retry-after` hint past them, also before the body is read.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tonic::body::Body;
use tonic::server::NamedService;
use tower::Service;

use super::status;
use crate::domain::Hub;

/// A service that runs only for callers whose bearer token authenticates.
#[derive(Clone)]
pub struct Authenticated<S> {
    inner: S,
    hub: Hub,
}

impl<S> Authenticated<S> {
    /// Wraps `inner`.
    pub fn new(hub: &Hub, inner: S) -> Self {
        Authenticated {
            inner,
            hub: hub.clone(),
        }
    }
}

impl<S: NamedService> NamedService for Authenticated<S> {
    const NAME: &'static str = S::NAME;
}

/// The bearer token of an HTTP request, or "" if it has none.
fn bearer(req: &http::Request<Body>) -> &str {
    super::token_of(
        req.headers()
            .get(remotedx_proto::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
    )
}

impl<S> Service<http::Request<Body>> for Authenticated<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        // The clone that was made ready is the one to call (tower's contract).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let hub = self.hub.clone();
        Box::pin(async move {
            let admitted = match hub.authenticate(bearer(&req)).await {
                Ok(who) => hub.admit_request(&who),
                Err(e) => Err(e),
            };
            match admitted {
                // The request holds its place until its response starts.
                Ok(_permit) => inner.call(req).await,
                Err(e) => Ok(status::to_status(e).into_http()),
            }
        })
    }
}
