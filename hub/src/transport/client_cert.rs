//! mTLS for remote workers: with `tls.client_certs = "workers"` the worker service answers only
//! connections that presented a client certificate issued by the county CA (`tls.client_ca`).
//!
//! The TLS layer has already verified any certificate presented (a bad one fails the handshake),
//! so this layer only asks whether the connection carried one. People (clinics, specialists,
//! administrators) keep authenticating with their tokens alone; a stolen worker token is of no
//! use without the worker's key. With `client_certs = "all"` the handshake itself requires one.
//!
//! Revoked certificates (`tls.crl_files`) are refused here too: tonic's TLS configuration takes no
//! revocation lists, so the handshake succeeds, but no worker call over that connection does.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tonic::body::Body;
use tonic::server::NamedService;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
use tower::Service;

/// What the worker service asks of client certificates.
#[derive(Debug, Clone, Default)]
pub struct WorkerCerts {
    /// Calls need a verified client certificate (`tls.client_certs`).
    pub required: bool,
    /// Serial numbers of revoked certificates (`tls.crl_files`): calls presenting one are refused.
    pub revoked: Arc<Vec<Vec<u8>>>,
}

/// A service that runs, when `required`, only for connections that presented a verified client
/// certificate, and never for one whose certificate was revoked.
#[derive(Clone)]
pub struct RequireClientCert<S> {
    inner: S,
    certs: WorkerCerts,
}

impl<S> RequireClientCert<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, certs: WorkerCerts) -> Self {
        RequireClientCert { inner, certs }
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

/// Whether the request's client certificate is on the revocation lists.
fn is_revoked(req: &http::Request<Body>, revoked: &[Vec<u8>]) -> bool {
    if revoked.is_empty() {
        return false;
    }
    req.extensions()
        .get::<TlsConnectInfo<TcpConnectInfo>>()
        .and_then(TlsConnectInfo::peer_certs)
        .and_then(|certs| crate::tls::identity::serial_of_der(certs.first()?))
        .is_some_and(|serial| revoked.contains(&serial))
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
        let certs = self.certs.clone();
        Box::pin(async move {
            let peer = req
                .extensions()
                .get::<TlsConnectInfo<TcpConnectInfo>>()
                .and_then(|i| i.get_ref().remote_addr());
            if is_revoked(&req, &certs.revoked) {
                tracing::warn!(
                    ?peer,
                    "worker call with a revoked client certificate refused (tls.crl_files)"
                );
                let status = tonic::Status::unauthenticated(
                    "this worker's client certificate was revoked by the county CA (tls.crl_files): \
                     ask for a new one (`hub cert worker`)",
                );
                return Ok(status.into_http());
            }
            if !certs.required || has_client_cert(&req) {
                return inner.call(req).await;
            }
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
