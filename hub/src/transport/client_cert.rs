//! mTLS for remote workers: with `tls.client_certs = "workers"` the worker service answers only
//! connections that presented a client certificate issued by the county CA (`tls.client_ca`).
//!
//! The TLS layer has already verified any certificate presented (a bad one fails the handshake),
//! so this layer only asks whether the connection carried one. People (clinics, specialists,
//! administrators) keep authenticating with their tokens alone; a stolen worker token is of no
//! use without the worker's key. With `client_certs = "all"` the handshake itself requires one.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tonic::body::Body;
use tonic::server::NamedService;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
use tower::Service;

/// A service that runs, when `required`, only for connections that presented a verified client
/// certificate.
#[derive(Clone)]
pub struct RequireClientCert<S> {
    inner: S,
    required: bool,
}

impl<S> RequireClientCert<S> {
    /// Wraps `inner`; `required` false lets every call through.
    pub fn new(inner: S, required: bool) -> Self {
        RequireClientCert { inner, required }
    }
}

impl<S: NamedService> NamedService for RequireClientCert<S> {
    const NAME: &'static str = S::NAME;
}

/// Whether the request's connection presented a (verified) client certificate.
fn has_client_cert(req: &http::Request<Body>) -> bool {
    req.extensions()
        .get::<TlsConnectInfo<TcpConnectInfo>>()
        .and_then(TlsConnectInfo::peer_certs)
        .is_some_and(|certs| !certs.is_empty())
}

impl<S> Service<http::Request<Body>> for RequireClientCert<S>
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
        let required = self.required;
        Box::pin(async move {
            if !required || has_client_cert(&req) {
                return inner.call(req).await;
            }
            let peer = req
                .extensions()
                .get::<TlsConnectInfo<TcpConnectInfo>>()
                .and_then(|i| i.get_ref().remote_addr());
            tracing::warn!(
                ?peer,
                "worker call without a client certificate refused (tls.client_certs)"
            );
            let status = tonic::Status::unauthenticated(
                "this hub requires remote workers to present a client certificate issued by the county CA \
                 (tls.client_certs): start the worker with --cert and --key (made by `hub cert worker`)",
            );
            Ok(status.into_http())
        })
    }
}
